"""Checks and preparation of the inputs: labels, weights, initial parameters."""

import math
from numbers import Number, Real

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import assert_all_finite, compute_class_weight
from sklearn.utils._array_api import get_namespace_and_device
from sklearn.utils.multiclass import unique_labels

from sksoftmax._compat import move_to, namespace_and_device, to_numpy


def initial_params(coef_init, intercept_init, n_classes, X, fit_intercept):
    """Full-softmax parameters (in X's namespace, device and dtype), from
    initial values given in the published shapes, or zeros."""
    xp, _, device = get_namespace_and_device(X)
    n_rows = 1 if n_classes == 2 else n_classes
    n_features = X.shape[1]
    if isinstance(X, np.ndarray) or sparse.issparse(X):
        # Column-major, as training keeps it: no copy when training starts.
        coef = np.zeros((n_classes, n_features), dtype=X.dtype, order="F")
    else:
        coef = xp.zeros((n_classes, n_features), dtype=X.dtype, device=device)
    intercept = (
        xp.zeros(n_classes, dtype=X.dtype, device=device) if fit_intercept else None
    )
    if coef_init is not None:
        coef_init = xp.asarray(move_to(coef_init, xp=xp, device=device), dtype=X.dtype)
        if not bool(xp.all(xp.isfinite(coef_init))):
            raise ValueError("coef_init contains NaN or infinity; it must be finite.")
        if tuple(coef_init.shape) != (n_rows, n_features):
            raise ValueError(
                f"coef_init must have shape {(n_rows, n_features)}; "
                f"got {tuple(coef_init.shape)}."
            )
        coef[-n_rows:, ...] = coef_init
    if intercept_init is not None:
        intercept_init = xp.reshape(
            xp.asarray(move_to(intercept_init, xp=xp, device=device), dtype=X.dtype),
            (-1,),
        )
        if not bool(xp.all(xp.isfinite(intercept_init))):
            raise ValueError(
                "intercept_init contains NaN or infinity; it must be finite."
            )
        if tuple(intercept_init.shape) != (n_rows,):
            raise ValueError(
                f"intercept_init must have shape ({n_rows},); "
                f"got {tuple(intercept_init.shape)}."
            )
        if intercept is not None:
            intercept[-n_rows:] = intercept_init
    return coef, intercept


def split_validation(y_encoded, sample_weight, n_classes, rng, validation_fraction):
    """Stratified training and held-out rows for early stopping."""
    rows = np.arange(len(y_encoded))
    n_validation = math.ceil(validation_fraction * len(rows))
    if n_validation < n_classes or len(rows) - n_validation < n_classes:
        raise ValueError(
            "early_stopping holds out "
            f"validation_fraction={validation_fraction} "
            f"of {len(rows)} samples ({n_validation} rows), which cannot hold "
            f"each of the {n_classes} classes in both the training and the "
            "validation part; use more data, another validation_fraction, or "
            "early_stopping=False."
        )
    splitter = StratifiedShuffleSplit(
        test_size=validation_fraction, random_state=rng.randint(2**31 - 1)
    )
    try:
        train_rows, validation_rows = next(splitter.split(rows, y_encoded))
    except ValueError as error:
        raise ValueError(
            f"early_stopping could not split the data into stratified training "
            f"and validation parts: {error}"
        ) from error
    weighted = sample_weight[train_rows] > 0
    if len(np.unique(y_encoded[train_rows][weighted])) < 2:
        raise ValueError(
            "early_stopping left positive sample_weight on fewer than 2 classes "
            "in the training part; give more samples positive weight, or use "
            "another validation_fraction or early_stopping=False."
        )
    if not np.any(sample_weight[validation_rows] > 0):
        raise ValueError(
            "early_stopping left no positive sample_weight in the validation "
            "part, so its loss cannot be measured; give more samples positive "
            "weight, or use another validation_fraction or early_stopping=False."
        )
    return np.sort(train_rows), np.sort(validation_rows)


def check_weighted_classes(y_encoded, sample_weight, classes):
    """At least two classes must carry positive weight."""
    weighted = np.flatnonzero(
        np.bincount(y_encoded, weights=sample_weight > 0, minlength=len(classes))
    )
    if len(weighted) < 2:
        raise ValueError(
            "sample_weight (times class_weight) leaves positive weight on "
            f"fewer than 2 classes: {classes[weighted].tolist()}; at least 2 "
            "classes must carry weight."
        )


def encode_labels(y):
    """``np.unique(y, return_inverse=True)``, in O(n) for integer labels.

    Integer labels spanning a range not much wider than the data are counted
    with ``bincount`` rather than sorted (5x faster on 200,000 labels).
    """
    if y.dtype.kind in "iu" and y.dtype.isnative and y.size:
        low = y.min()
        if int(y.max()) - int(low) <= 2 * y.size + 1024:
            # In y's dtype the offsets cannot overflow for unsigned labels; signed
            # ones are widened first (int8 labels may span 255).
            wide = y if y.dtype.kind == "u" else y.astype(np.int64)
            offsets = (wide - low).astype(np.intp, copy=False)
            present = np.bincount(offsets) > 0
            classes = low + np.flatnonzero(present).astype(y.dtype)
            position = np.cumsum(present) - 1  # each value's index in classes
            return classes, position[offsets]
    classes, inverse = np.unique(y, return_inverse=True)
    return classes, inverse.reshape(-1)


def check_label_types(labels, name):
    """Refuse object labels that mix kinds (strings, numbers, None, ...): NumPy
    cannot sort them and fails deep inside with a TypeError."""
    labels = np.asarray(labels)
    if labels.dtype == object:
        kinds = set()
        for kind in set(map(type, labels.ravel())):
            if issubclass(kind, str):
                kinds.add("str")
            elif issubclass(kind, Number):
                kinds.add("number")
            else:
                kinds.add(kind.__name__)
        if len(kinds) > 1:
            raise ValueError(
                f"{name} mixes label types {sorted(kinds)}; labels must be all "
                "strings or all numbers."
            )


def balanced_class_weight(y_encoded, sample_weight, n_classes):
    """``S / (n_classes * S_k)``, ``S_k`` the weight of class ``k``'s rows:
    scikit-learn's "balanced" weights on the weighted class counts (as
    LogisticRegression computes them; here for any scikit-learn version).
    A class whose rows all weigh 0 gets 0 (they carry no weight anyway)."""
    return balanced_weights(
        np.bincount(y_encoded, weights=sample_weight, minlength=n_classes)
    )


def balanced_weights(counts):
    """:func:`balanced_class_weight` from the weight of each class."""
    with np.errstate(divide="ignore"):
        weights = counts.sum() / (len(counts) * counts)
    weights[counts == 0] = 0.0
    return weights


def normalised_weight(sample_weight):
    """Weights with a finite, positive sum.

    The objective divides by the weight sum, so weights whose sum overflows are
    divided by their largest value, which changes nothing else.
    """
    with np.errstate(over="ignore"):
        total = float(sample_weight.sum())
    if total == 0:
        raise ValueError(
            "sample_weight times class_weight is zero for every sample; at least "
            "one sample must carry weight."
        )
    if not math.isfinite(total):
        sample_weight = sample_weight / sample_weight.max()
    return sample_weight


def check_stream_classes(classes, previous):
    """The sorted unique ``classes`` given to partial_fit, checked against
    those of earlier calls (``previous``, None on the first)."""
    # To numpy first: an array on a GPU has no np.asarray.
    if not isinstance(classes, (list, tuple)):
        classes = to_numpy(classes)
    check_label_types(classes, "classes")
    all_classes = unique_labels(classes)
    if previous is not None and not np.array_equal(previous, all_classes):
        raise ValueError(
            f"classes={all_classes.tolist()} differs from the classes of "
            f"earlier calls to partial_fit, {previous.tolist()}."
        )
    if len(all_classes) < 2:
        raise ValueError(
            f"partial_fit needs at least 2 classes; got {all_classes.tolist()}."
        )
    return all_classes


def check_state_namespace(state_coef, X):
    """Refuse ``X`` in another namespace or on another device than the
    training state that partial_fit continues (the state's arrays stay
    where the first call put them; ``coef_`` alone may have been moved,
    or dispatch turned off since)."""
    state = namespace_and_device(state_coef)
    data = namespace_and_device(X)
    if data != state:
        if state[0] != "numpy" and not get_config()["array_api_dispatch"]:
            advice = (
                "With array_api_dispatch off, every X becomes numpy: turn it "
                "on (sklearn.config_context(array_api_dispatch=True))"
            )
        else:
            advice = "Pass X as the earlier calls did"
        raise ValueError(
            f"partial_fit continues training held in {state[0]} on device "
            f"{state[1]!r}, but X is {data[0]} on device {data[1]!r}. "
            f"{advice}, or start again with fit."
        )


def as_dtype(X, dtype):
    """``X`` (dense in any namespace, or CSR) in ``dtype``: later partial_fit
    chunks follow the dtype the model was started with."""
    if X.dtype == dtype:
        return X
    if sparse.issparse(X):
        X = X.astype(dtype)
    else:
        X = get_namespace_and_device(X)[0].astype(X, dtype)
    # float64 data beyond float32's range becomes infinite here.
    assert_all_finite(X, input_name="X")
    return X


def check_parameters_together(params):
    """What the parameter constraints cannot say: ``class_weight``'s values
    must be finite and non-negative, and "optimal" needs a positive alpha."""
    if params["learning_rate"] == "optimal" and params["alpha"] == 0:
        raise ValueError(
            "alpha must be > 0 with learning_rate='optimal': its steps are "
            "1 / (alpha * (t0 + t)); set alpha, or choose another schedule."
        )
    class_weight = params["class_weight"]
    if isinstance(class_weight, dict) and not all(
        isinstance(weight, Real) and math.isfinite(weight) and weight >= 0
        for weight in class_weight.values()
    ):
        raise ValueError(
            "class_weight must map labels to finite, non-negative weights; "
            f"got {class_weight!r}."
        )


def training_weight(y_encoded, classes, sample_weight, class_weight):
    """``sample_weight`` times ``class_weight``, checked and normalised."""
    if class_weight == "balanced":
        factors = balanced_class_weight(y_encoded, sample_weight, len(classes))
    elif class_weight is not None:
        factors = compute_class_weight(
            class_weight, classes=classes, y=classes[y_encoded]
        )
    else:
        factors = None
    if factors is not None:
        sample_weight = sample_weight * factors.astype(sample_weight.dtype)[y_encoded]
    check_weighted_classes(y_encoded, sample_weight, classes)
    return normalised_weight(sample_weight)


def encode_stream_chunk(y, sample_weight, all_classes, class_weight):
    """A partial_fit chunk's encoded labels, and its weights times
    ``class_weight`` (a dict, or None)."""
    unseen = y[~np.isin(y, all_classes)]
    if unseen.size:
        raise ValueError(
            f"y holds labels not in classes {all_classes.tolist()}: "
            f"{np.unique(unseen).tolist()}."
        )
    y_encoded = np.searchsorted(all_classes, y)
    if isinstance(class_weight, dict):
        sample_weight = (
            sample_weight
            * compute_class_weight(class_weight, classes=all_classes, y=y).astype(
                sample_weight.dtype
            )[y_encoded]
        )
    return y_encoded, normalised_weight(sample_weight)
