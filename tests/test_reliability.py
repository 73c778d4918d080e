"""Reliability of SoftmaxSGDClassifier: bad input, divergence and faults never
corrupt a model or fail silently."""

import copy
import functools
import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sksoftmax import SoftmaxSGDClassifier

CLASSES = np.array([0, 1, 2])
CONTAINERS = [np.asarray, sparse.csr_array]


def assert_same_state(before, after, path="estimator"):
    """Deep equality of two snapshots of an estimator's ``__dict__``: every
    array (dtype included), list, number and nested object such as the
    optimizer, its velocities and the running averages."""
    if isinstance(before, np.ndarray):
        assert isinstance(after, np.ndarray), path
        assert before.dtype == after.dtype, path
        assert_array_equal(after, before, err_msg=path, strict=True)
    elif isinstance(before, dict):
        assert before.keys() == after.keys(), path
        for key in before:
            assert_same_state(before[key], after[key], f"{path}.{key}")
    elif isinstance(before, (list, tuple)):
        assert type(before) is type(after) and len(before) == len(after), path
        for i, (old, new) in enumerate(zip(before, after, strict=True)):
            assert_same_state(old, new, f"{path}[{i}]")
    elif hasattr(before, "__dict__") and not isinstance(before, type):
        assert type(before) is type(after), path
        assert_same_state(vars(before), vars(after), path)
    else:
        assert before == after or (before != before and after != after), path


def assert_valid_proba(proba, n_classes):
    assert proba.shape[1] == n_classes
    assert np.isfinite(proba).all()
    assert (proba >= 0).all()
    atol = 1e-5 if proba.dtype == np.float32 else 1e-12
    assert_allclose(proba.sum(axis=1), 1.0, atol=atol)


X_BLOBS, Y_BLOBS = make_blobs(n_samples=120, n_features=3, centers=3, random_state=0)


@pytest.fixture
def blobs():
    return X_BLOBS.copy(), Y_BLOBS.copy()


@pytest.fixture
def streamed(blobs):
    """A model trained by two partial_fit calls, with every piece of optimizer
    state in use: momentum velocities, running averages, the cumulative L1."""
    X, y = blobs
    clf = SoftmaxSGDClassifier(
        penalty="elasticnet", average=True, momentum=0.9, batch_size=32, random_state=0
    )
    clf.partial_fit(X[:60], y[:60], classes=CLASSES)
    clf.partial_fit(X[60:], y[60:])
    return clf


def _with(array, index, value):
    array = np.array(array, dtype=float)
    array[index] = value
    return array


# --------------------------------------------------------------- bad input


def _bad_partial_fit_calls(X, y):
    """(id, keyword arguments of partial_fit, exception, match)."""
    n = len(y)
    ones = np.ones(n)
    return [
        ("nan-in-X", dict(X=_with(X, (3, 1), np.nan), y=y), ValueError, "NaN"),
        ("inf-in-X", dict(X=_with(X, (0, 0), np.inf), y=y), ValueError, "infinity"),
        (
            "nan-in-sparse-X",
            dict(X=sparse.csr_array(_with(X, (5, 2), np.nan)), y=y),
            ValueError,
            "NaN",
        ),
        (
            "inf-in-sparse-X",
            dict(X=sparse.csr_matrix(_with(X, (5, 2), -np.inf)), y=y),
            ValueError,
            "infinity",
        ),
        ("nan-in-y", dict(X=X, y=_with(y, 4, np.nan)), ValueError, "NaN"),
        ("continuous-y", dict(X=X, y=y + 0.5), ValueError, "Unknown label type"),
        (
            "mixed-type-labels",
            dict(X=X, y=np.array([0, "a"] * (n // 2), dtype=object)),
            ValueError,
            "mixes label types",
        ),
        (
            "unseen-label",
            dict(X=X, y=np.where(y == 2, 7, y)),
            ValueError,
            r"not in classes.*\[7\]",
        ),
        (
            "changed-classes",
            dict(X=X, y=y, classes=[0, 1, 2, 3]),
            ValueError,
            "differs from the classes",
        ),
        (
            "changed-feature-count",
            dict(X=X[:, :2], y=y),
            ValueError,
            "2 features.*expecting 3",
        ),
        (
            "nan-in-sample_weight",
            dict(X=X, y=y, sample_weight=_with(ones, 2, np.nan)),
            ValueError,
            "sample_weight contains NaN",
        ),
        (
            "inf-in-sample_weight",
            dict(X=X, y=y, sample_weight=_with(ones, 2, np.inf)),
            ValueError,
            "sample_weight contains infinity",
        ),
        (
            "negative-sample_weight",
            dict(X=X, y=y, sample_weight=_with(ones, 2, -1)),
            ValueError,
            "Negative values.*sample_weight",
        ),
        (
            "all-zero-sample_weight",
            dict(X=X, y=y, sample_weight=np.zeros(n)),
            ValueError,
            "non-zero",
        ),
        (
            "short-sample_weight",
            dict(X=X, y=y, sample_weight=np.ones(n - 1)),
            ValueError,
            "sample_weight.shape",
        ),
        (
            "2d-sample_weight",
            dict(X=X, y=y, sample_weight=np.ones((n, 2))),
            ValueError,
            "1D array",
        ),
        ("empty-X", dict(X=X[:0], y=y[:0]), ValueError, "0 sample"),
        ("1d-X", dict(X=X[:, 0], y=y), ValueError, "Expected 2D array"),
        ("3d-X", dict(X=X[:, :, np.newaxis], y=y), ValueError, "dim 3"),
        (
            "strings-in-X",
            dict(X=np.full(X.shape, "a"), y=y),
            ValueError,
            "could not convert string to float",
        ),
        (
            "X-y-length-mismatch",
            dict(X=X, y=y[:-1]),
            ValueError,
            "inconsistent numbers of samples",
        ),
        ("2d-y", dict(X=X, y=np.c_[y, y]), ValueError, "y should be a 1d array"),
        ("complex-X", dict(X=X + 1j, y=y), ValueError, "Complex data not supported"),
        ("no-features", dict(X=X[:, :0], y=y), ValueError, "0 feature"),
    ]


def _bad_calls(*, excluding=()):
    """The bad calls as parameters, each with its id."""
    return [
        pytest.param(kwargs, error, match, id=name)
        for name, kwargs, error, match in _bad_partial_fit_calls(X_BLOBS, Y_BLOBS)
        if name not in excluding
    ]


@pytest.mark.parametrize("kwargs, error, match", _bad_calls())
def test_failing_partial_fit_leaves_the_model_exactly_as_it_was(
    streamed, blobs, kwargs, error, match
):
    X, _ = blobs
    before = copy.deepcopy(streamed.__dict__)
    proba = streamed.predict_proba(X)
    with pytest.raises(error, match=match):
        streamed.partial_fit(**kwargs)
    assert_same_state(before, streamed.__dict__)
    assert_array_equal(streamed.predict_proba(X), proba)
    # And it still trains normally afterwards.
    streamed.partial_fit(*blobs)
    assert np.isfinite(streamed.coef_).all()


# A first call has no classes or feature count to change.
@pytest.mark.parametrize(
    "kwargs, error, match",
    _bad_calls(excluding=("changed-classes", "changed-feature-count")),
)
def test_bad_input_to_a_first_partial_fit_leaves_it_unfitted(kwargs, error, match):
    clf = SoftmaxSGDClassifier(random_state=0)
    with pytest.raises(error, match=match):
        clf.partial_fit(**{"classes": CLASSES, **kwargs})
    assert_same_state(SoftmaxSGDClassifier(random_state=0).__dict__, clf.__dict__)
    with pytest.raises(NotFittedError):
        clf.predict(X_BLOBS)


# fit starts afresh: new classes, labels or feature counts are valid for it.
@pytest.mark.parametrize(
    "kwargs, error, match",
    _bad_calls(excluding=("changed-classes", "unseen-label", "changed-feature-count")),
)
def test_failing_fit_keeps_the_previous_model(blobs, kwargs, error, match):
    X, y = blobs
    clf = SoftmaxSGDClassifier(random_state=0, max_iter=5, tol=None).fit(X, y)
    before = copy.deepcopy(clf.__dict__)
    with pytest.raises(error, match=match):
        clf.fit(**kwargs)
    assert_same_state(before, clf.__dict__)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(classes=None), "classes must be passed on the first call"),
        (dict(classes=[1]), "at least 2 classes"),
        (dict(classes=[0.0, 1.0, np.nan]), "NaN"),
        (dict(classes=[0.5, 1.5, 2.5]), "Unknown label type"),
        (dict(classes=np.array([0, 1, "a"], dtype=object)), "mixes label types"),
        (dict(classes=np.array([0, 1, None], dtype=object)), "mixes label types"),
    ],
    ids=["none", "one-class", "nan", "continuous", "str-and-int", "none-and-int"],
)
def test_bad_classes_on_the_first_partial_fit(blobs, kwargs, match):
    X, y = blobs
    clf = SoftmaxSGDClassifier(random_state=0)
    with np.errstate(invalid="ignore"), pytest.raises(ValueError, match=match):
        clf.partial_fit(X, np.minimum(y, 1), **kwargs)
    assert not hasattr(clf, "coef_")


@pytest.mark.parametrize(
    "y, match",
    [
        (np.zeros(120), "only one class"),
        (np.linspace(0, 1, 120), "Unknown label type: continuous"),
        (np.array(["a", 1] * 60, dtype=object), "mixes label types"),
        (np.array([1, "a"] * 60, dtype=object), "mixes label types"),
        (np.array(["a", None] * 60, dtype=object), "mixes label types"),
        (np.array(["a", np.nan] * 60, dtype=object), "NaN"),
    ],
    ids=[
        "single-class",
        "continuous",
        "str-then-int",
        "int-then-str",
        "str-and-none",
        "str-and-nan",
    ],
)
def test_bad_labels_in_fit(blobs, y, match):
    with pytest.raises(ValueError, match=match):
        SoftmaxSGDClassifier(random_state=0).fit(blobs[0], y)


@pytest.mark.parametrize(
    "fit_kwargs, match",
    [
        (dict(coef_init=np.full((3, 3), np.nan)), "coef_init contains NaN or inf"),
        (dict(coef_init=np.ones((2, 3))), r"coef_init must have shape \(3, 3\)"),
        (dict(intercept_init=[0.0, np.inf, 0.0]), "intercept_init contains NaN or inf"),
        (dict(intercept_init=np.ones(2)), r"intercept_init must have shape \(3,\)"),
        (
            dict(sample_weight=(np.arange(120) % 3 == 0).astype(float)),
            "fewer than 2 classes",
        ),
    ],
    ids=[
        "nan-coef_init",
        "coef_init-shape",
        "inf-intercept_init",
        "intercept_init-shape",
        "weight-on-one-class",
    ],
)
def test_bad_fit_arguments(fit_kwargs, match):
    X, y = make_blobs(n_samples=120, n_features=3, centers=3, random_state=0)
    y = np.arange(120) % 3
    with pytest.raises(ValueError, match=match):
        SoftmaxSGDClassifier(random_state=0).fit(X, y, **fit_kwargs)


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.array([[np.nan, 1.0, 2.0]]), ValueError, "NaN"),
        (sparse.csr_array(np.array([[np.inf, 1.0, 2.0]])), ValueError, "infinity"),
        (np.ones((2, 4)), ValueError, "4 features.*expecting 3"),
        (np.ones(3), ValueError, "Expected 2D array"),
        (np.ones((0, 3)), ValueError, "0 sample"),
        (np.full((2, 3), "a"), ValueError, "strings|string"),
    ],
    ids=["nan", "sparse-inf", "feature-count", "1d", "empty", "strings"],
)
def test_bad_input_to_predict(streamed, X, error, match):
    before = copy.deepcopy(streamed.__dict__)
    methods = (
        streamed.predict,
        streamed.predict_proba,
        streamed.predict_log_proba,
        streamed.decision_function,
    )
    for method in methods:
        with pytest.raises(error, match=match):
            method(X)
    assert_same_state(before, streamed.__dict__)


def test_predict_before_fit_raises_not_fitted(blobs):
    clf = SoftmaxSGDClassifier()
    for method in (
        clf.predict,
        clf.predict_proba,
        clf.predict_log_proba,
        clf.decision_function,
    ):
        with pytest.raises(NotFittedError):
            method(blobs[0])


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(alpha=-1.0), "alpha"),
        (dict(alpha=np.nan), "alpha"),
        (dict(alpha=np.inf), "alpha"),
        (dict(eta0=0.0), "eta0"),
        (dict(eta0=np.inf), "eta0"),
        (dict(eta0="fast"), "eta0"),
        (dict(max_iter=0), "max_iter"),
        (dict(batch_size=0), "batch_size"),
        (dict(momentum=1.0), "momentum"),
        (dict(validation_fraction=1.0), "validation_fraction"),
        (dict(penalty="l3"), "penalty"),
        (dict(learning_rate="fast"), "learning_rate"),
        (dict(class_weight="auto"), "class_weight"),
        (dict(average=-1), "average"),
        (dict(n_iter_no_change=0), "n_iter_no_change"),
        (dict(tol=-1.0), "tol"),
        (dict(power_t=np.nan), "power_t"),
    ],
    ids=lambda value: str(value) if isinstance(value, dict) else None,
)
def test_invalid_parameters_are_refused_before_any_work(streamed, blobs, params, name):
    X, y = blobs
    with pytest.raises(InvalidParameterError, match=name):
        SoftmaxSGDClassifier(**params).fit(X, y)
    before = copy.deepcopy(streamed.__dict__)
    streamed.set_params(**params)
    with pytest.raises(InvalidParameterError, match=name):
        streamed.partial_fit(X, y)
    before.update(streamed.get_params())  # only the parameter changed
    assert_same_state(before, streamed.__dict__)


@pytest.mark.parametrize(
    "class_weight",
    [
        {0: -1.0, 1: 1.0, 2: 1.0},
        {0: np.nan, 1: 1.0, 2: 1.0},
        {0: np.inf, 1: 1.0, 2: 1.0},
        {0: "heavy", 1: 1.0, 2: 1.0},
        {0: 1.0, 1: 1.0, 2: 1.0, 9: -2.0},
    ],
    ids=["negative", "nan", "inf", "string", "negative-for-an-absent-label"],
)
def test_class_weight_values_must_be_finite_and_non_negative(
    streamed, blobs, class_weight
):
    X, y = blobs
    with pytest.raises(ValueError, match="class_weight must map labels to finite"):
        SoftmaxSGDClassifier(class_weight=class_weight).fit(X, y)
    before = copy.deepcopy(streamed.__dict__)
    streamed.set_params(class_weight=class_weight)
    with pytest.raises(ValueError, match="class_weight must map labels to finite"):
        streamed.partial_fit(X, y)
    before["class_weight"] = class_weight
    assert_same_state(before, streamed.__dict__)


def test_class_weight_that_zeroes_every_sample_in_partial_fit(streamed, blobs):
    X, y = blobs
    before = copy.deepcopy(streamed.__dict__)
    streamed.set_params(class_weight={0: 0.0, 1: 0.0, 2: 0.0})
    with pytest.raises(ValueError, match="zero for every sample"):
        streamed.partial_fit(X, y)
    before["class_weight"] = streamed.class_weight
    assert_same_state(before, streamed.__dict__)
    with pytest.raises(ValueError, match="fewer than 2 classes"):
        SoftmaxSGDClassifier(class_weight={0: 0.0, 1: 0.0, 2: 1.0}).fit(X, y)


def test_class_weight_balanced_is_refused_by_partial_fit_without_harm(streamed, blobs):
    before = copy.deepcopy(streamed.__dict__)
    streamed.set_params(class_weight="balanced")
    with pytest.raises(ValueError, match="balanced"):
        streamed.partial_fit(*blobs)
    before["class_weight"] = "balanced"
    assert_same_state(before, streamed.__dict__)


# -------------------------------------------------------------- divergence


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(momentum=0.0),
        dict(average=True),
        dict(average=True, momentum=0.0, penalty="elasticnet"),
        dict(max_iter=1, batch_size=300),  # overflow in the very last update
        dict(max_iter=2, batch_size=300, momentum=0.0),
    ],
    ids=str,
)
@pytest.mark.parametrize("container", CONTAINERS, ids=["dense", "csr"])
def test_divergence_in_fit_warns_and_keeps_finite_weights(params, container):
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    X = container(X * 1e150)  # unscaled data and a huge constant step
    clf = SoftmaxSGDClassifier(eta0=1e10, tol=None, random_state=0, **params)
    message = r"diverged(.|\n)*eta0(.|\n)*StandardScaler"
    with pytest.warns(ConvergenceWarning, match=message):
        clf.fit(X, y)
    assert np.isfinite(clf.coef_).all() and np.isfinite(clf.intercept_).all()
    assert_valid_proba(clf.predict_proba(X), 3)
    assert np.isfinite(clf.predict_log_proba(X)).all()
    assert all(np.isfinite(clf.loss_curve_))


@pytest.mark.parametrize(
    "params",
    [dict(eta0=1e6), dict(eta0=1e6, learning_rate="constant"), dict(eta0=10.0)],
    ids=str,
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_step_too_large_to_improve_keeps_the_zero_weights(params, dtype):
    # In float64 such steps need not overflow: the loss grew to 1e91 and
    # stalled, and the fit stopped as if converged, without a warning, on
    # weights that scored below chance.
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    X = (X * [1e3, 1e-2]).astype(dtype)
    clf = SoftmaxSGDClassifier(random_state=0, **params)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert any("No epoch improved on the starting (zero)" in m for m in messages)
    assert not clf.coef_.any() and not clf.intercept_.any()
    assert_allclose(clf.predict_proba(X), 1 / 3)
    assert min(clf.loss_curve_) > np.log(3)


@pytest.mark.parametrize("penalty", ["l2", "l1", None])
def test_one_good_full_batch_step_is_kept(penalty):
    # An epoch of one full batch measures its loss before its step: after a
    # cold start, exactly the zero weights'. A good first step (max_iter=1,
    # as a warm-start learning curve takes) must not be taken for no progress.
    X, y = make_blobs(n_samples=150, centers=3, random_state=0)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Maximum number of epochs")
        clf = SoftmaxSGDClassifier(max_iter=1, penalty=penalty, random_state=0)
        clf.fit(X, y)
    assert clf.loss_curve_[0] >= np.log(3) - 1e-12 and clf._t_updates == 1
    assert clf.coef_.any() and clf.score(X, y) > 0.5  # zero weights: 1/3


@pytest.mark.parametrize(
    "params",
    [dict(), dict(average=True), dict(penalty="l1"), dict(momentum=0.0)],
    ids=str,
)
@pytest.mark.parametrize("container", CONTAINERS, ids=["dense", "csr"])
def test_diverging_partial_fit_is_undone_completely(params, container):
    """The diverging call changes nothing: continuing afterwards gives exactly
    the model of a twin that never saw the bad chunk."""
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    X = container(X)
    clf = SoftmaxSGDClassifier(eta0=1e10, random_state=0, **params)
    clf.partial_fit(X, y, classes=CLASSES)
    twin = pickle.loads(pickle.dumps(clf))
    before = copy.deepcopy(clf.__dict__)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        clf.partial_fit(X * 1e150, y)
    assert_same_state(before, clf.__dict__)
    clf.partial_fit(X, y)
    twin.partial_fit(X, y)
    assert_same_state(twin.__dict__, clf.__dict__)
    assert_valid_proba(clf.predict_proba(X), 3)


def test_first_partial_fit_diverging_keeps_the_initial_weights():
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    clf = SoftmaxSGDClassifier(eta0=1e10, random_state=0)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        clf.partial_fit(X * 1e150, y, classes=CLASSES)
    assert_array_equal(clf.coef_, np.zeros((3, 2)))
    assert clf._t_updates == 0 and clf.n_iter_ == 0 and clf.loss_curve_ == []
    assert clf.best_loss_ == np.inf
    assert_allclose(clf.predict_proba(X[:5]), 1 / 3)


# ------------------------------------------------------------ numeric range


@pytest.mark.parametrize("container", CONTAINERS, ids=["dense", "csr"])
@pytest.mark.parametrize(
    "dtype, exponent",
    # 2**500 is 3.3e150; float32 holds squares of up to 2**63 (1e19).
    [
        ("float64", -500),
        ("float64", -300),
        ("float64", 300),
        ("float64", 500),
        ("float32", -60),
        ("float32", 60),
    ],
)
def test_automatic_step_size_is_scale_free(container, dtype, exponent):
    """Rescaling X by a power of two rescales the weights and nothing else,
    from 3e-151 to 3e150 in float64 (no overflow in the step size estimate)."""
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    X = X.astype(dtype)
    # (momentum="auto" is 0.9 on dense data and 0 on CSR: set alike here.)
    params = dict(alpha=0.0, tol=None, max_iter=20, random_state=0, momentum=0.0)
    reference = SoftmaxSGDClassifier(**params).fit(X, y)
    X_scaled = container(X * X.dtype.type(2.0**exponent))
    clf = SoftmaxSGDClassifier(**params).fit(X_scaled, y)
    rtol = 1e-4 if dtype == "float32" else 1e-9
    assert_array_equal(clf.predict(X_scaled), reference.predict(X))
    assert_allclose(
        clf.predict_proba(X_scaled), reference.predict_proba(X), rtol=rtol, atol=rtol
    )
    assert_allclose(clf.coef_ * 2.0**exponent, reference.coef_, rtol=rtol)


@pytest.mark.parametrize("scale", [1e150, 1e-150], ids=["1e150", "1e-150"])
def test_extreme_inputs_with_default_parameters_stay_finite(scale):
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    X_mixed = X * [1e150, 1e-150]
    for data in (X * scale, sparse.csr_array(X * scale), X_mixed):
        clf = SoftmaxSGDClassifier(random_state=0).fit(data, y)
        assert np.isfinite(clf.coef_).all() and np.isfinite(clf.intercept_).all()
        assert all(np.isfinite(clf.loss_curve_))
        assert_valid_proba(clf.predict_proba(data), 3)


@pytest.mark.parametrize(
    "dtype",
    [np.float16, np.int8, np.int64, np.uint8, bool],
    ids=["float16", "int8", "int64", "uint8", "bool"],
)
def test_low_precision_integer_and_boolean_inputs(dtype):
    X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    X = (X * 10).astype(dtype) if dtype is not bool else X > 0
    clf = SoftmaxSGDClassifier(random_state=0, max_iter=30, tol=None).fit(X, y)
    assert clf.coef_.dtype == np.float64 and np.isfinite(clf.coef_).all()
    assert_valid_proba(clf.predict_proba(X), 3)
    # partial_fit streams of these dtypes too
    stream = SoftmaxSGDClassifier(random_state=0).partial_fit(X, y, classes=CLASSES)
    assert_valid_proba(stream.partial_fit(X, y).predict_proba(X), 3)


def test_float32_logits_beyond_exp_range_stay_finite():
    X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    X = (X * 1e3).astype(np.float32)
    clf = SoftmaxSGDClassifier(
        learning_rate="constant",
        eta0=1.0,
        alpha=0.0,
        tol=None,
        max_iter=5,
        random_state=0,
    ).fit(X, y)
    # exp overflows float32 beyond 88.7: these logits are far past it.
    assert np.abs(clf.decision_function(X)).max() > 1e3
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float32
    assert_valid_proba(proba, 3)
    assert np.isfinite(clf.predict_log_proba(X)).all()
    # eta0=1 on pixels of 1e3 is a crude step, yet training still learns.
    assert clf.score(X, y) > 0.5


@pytest.mark.parametrize("share_of_max", [1e-1, 3e-3])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_equal_weights_give_the_unweighted_model(dtype, share_of_max):
    """The objective is normalised by the weight sum: huge equal weights are
    the same as unit weights, whether their sum overflows the dtype (a tenth
    of its largest value each) or stays just inside its range (where the
    weight sum times a row's sum of exps used to overflow)."""
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    X = X.astype(dtype)
    huge = np.finfo(dtype).max * share_of_max
    if share_of_max > 1 / 300:
        # A sum that overflows is renormalised to unit weights: bit for bit.
        assert_same = assert_array_equal
    else:
        # Otherwise s / S differs from 1 / n by its rounding.
        rtol = 1e-5 if dtype == np.float32 else 1e-12
        assert_same = functools.partial(assert_allclose, rtol=rtol, atol=rtol)
    reference = SoftmaxSGDClassifier(random_state=0, max_iter=10, tol=None).fit(X, y)
    weighted = SoftmaxSGDClassifier(random_state=0, max_iter=10, tol=None).fit(
        X, y, sample_weight=np.full(300, huge, dtype=dtype)
    )
    assert_same(weighted.coef_, reference.coef_)
    class_weighted = SoftmaxSGDClassifier(
        random_state=0, max_iter=10, tol=None, class_weight={0: huge, 1: huge, 2: huge}
    ).fit(X, y)
    assert_same(class_weighted.coef_, reference.coef_)
    stream = SoftmaxSGDClassifier(random_state=0).partial_fit(
        X, y, classes=CLASSES, sample_weight=np.full(300, huge, dtype=dtype)
    )
    unweighted = SoftmaxSGDClassifier(random_state=0).partial_fit(X, y, CLASSES)
    assert_same(stream.coef_, unweighted.coef_)


def test_partial_fit_refuses_data_beyond_the_float32_model_range(blobs):
    X, y = blobs
    clf = SoftmaxSGDClassifier(random_state=0).partial_fit(
        X.astype(np.float32), y, classes=CLASSES
    )
    before = copy.deepcopy(clf.__dict__)
    with np.errstate(over="ignore", invalid="ignore"):  # NumPy on the cast
        with pytest.raises(ValueError, match="X contains infinity or a value too"):
            clf.partial_fit(X * 1e300, y)
    assert_same_state(before, clf.__dict__)
    # float64 data inside float32's range is used in float32; huge weights
    # only count relative to each other.
    clf.partial_fit(X, y, sample_weight=np.full(len(y), 1e300))
    assert clf.coef_.dtype == np.float32
    assert_valid_proba(clf.predict_proba(X), 3)


# ------------------------------------------------------------ no mutation


@pytest.mark.parametrize("container", CONTAINERS, ids=["dense", "csr"])
def test_inputs_are_never_written(container):
    X, y = make_blobs(n_samples=150, n_features=3, centers=3, random_state=0)
    X = container(X)
    weights = np.linspace(0.5, 2.0, 150)
    coef_init, intercept_init = np.ones((3, 3)), np.ones(3)
    classes = CLASSES.copy()
    inputs = (X, y, weights, coef_init, intercept_init, classes)
    originals = copy.deepcopy(inputs)
    params = dict(random_state=0, class_weight={0: 2.0, 1: 1.0, 2: 0.5}, average=True)
    SoftmaxSGDClassifier(max_iter=5, tol=None, **params).fit(
        X, y, coef_init=coef_init, intercept_init=intercept_init, sample_weight=weights
    )
    clf = SoftmaxSGDClassifier(**params)
    clf.partial_fit(X, y, classes=classes, sample_weight=weights)
    clf.partial_fit(X, y, classes=classes, sample_weight=weights)
    clf.predict_proba(X)
    for original, used in zip(originals, inputs, strict=True):
        if sparse.issparse(original):
            original, used = original.toarray(), used.toarray()
        assert_array_equal(used, original, strict=True)


def _read_only(array):
    array = np.array(array)
    array.setflags(write=False)
    return array


def test_read_only_and_memmapped_inputs_work(tmp_path):
    X, y = make_blobs(n_samples=150, n_features=3, centers=3, random_state=0)
    np.save(tmp_path / "X.npy", X)
    X_memmap = np.load(tmp_path / "X.npy", mmap_mode="r")
    X_csr = sparse.csr_array(X)
    for part in (X_csr.data, X_csr.indices, X_csr.indptr):
        part.setflags(write=False)
    y_ro, weights_ro = _read_only(y), _read_only(np.ones(150))
    coef_ro, intercept_ro = _read_only(np.zeros((3, 3))), _read_only(np.zeros(3))
    # (momentum="auto" is 0.9 on dense data and 0 on CSR: set alike here.)
    params = dict(random_state=0, max_iter=10, tol=None, momentum=0.0)
    reference = SoftmaxSGDClassifier(**params).fit(X, y)
    for data in (X_memmap, _read_only(X), X_csr):
        clf = SoftmaxSGDClassifier(**params).fit(
            data,
            y_ro,
            coef_init=coef_ro,
            intercept_init=intercept_ro,
            sample_weight=weights_ro,
        )
        assert_allclose(clf.coef_, reference.coef_, rtol=1e-8, atol=1e-10)
        stream = SoftmaxSGDClassifier(random_state=0)
        stream.partial_fit(
            data, y_ro, classes=_read_only(CLASSES), sample_weight=weights_ro
        )
        stream.partial_fit(data, y_ro, sample_weight=weights_ro)
        assert_valid_proba(stream.predict_proba(data), 3)
    assert_array_equal(np.load(tmp_path / "X.npy"), X)


# ------------------------------------------------------------ determinism


@pytest.mark.parametrize(
    "params",
    [
        dict(),
        dict(early_stopping=True),
        dict(average=10, penalty="l1"),
        dict(batch_size=7, learning_rate="invscaling"),
    ],
    ids=str,
)
@pytest.mark.parametrize("container", CONTAINERS, ids=["dense", "csr"])
def test_same_data_and_random_state_give_bit_identical_models(params, container):
    X, y = make_blobs(
        n_samples=200, n_features=4, centers=3, random_state=1, cluster_std=3
    )
    X = container(X)
    params = dict(random_state=7, max_iter=30, tol=None, **params)
    first = SoftmaxSGDClassifier(**params).fit(X, y)
    second = SoftmaxSGDClassifier(**params).fit(X, y)
    assert_same_state(first.__dict__, second.__dict__)
    assert_array_equal(first.predict_proba(X), second.predict_proba(X))


@pytest.mark.parametrize(
    "params",
    [dict(), dict(average=True, penalty="elasticnet"), dict(momentum=0.0)],
    ids=str,
)
def test_pickled_model_continued_with_partial_fit_matches_the_original(params):
    X, y = make_blobs(n_samples=300, n_features=3, centers=3, random_state=2)
    chunks = np.array_split(np.arange(300), 5)
    clf = SoftmaxSGDClassifier(random_state=0, batch_size=16, **params)
    for chunk in chunks[:2]:
        clf.partial_fit(X[chunk], y[chunk], classes=CLASSES)
    restored = pickle.loads(pickle.dumps(clf))
    for chunk in chunks[2:]:
        clf.partial_fit(X[chunk], y[chunk])
        restored.partial_fit(X[chunk], y[chunk])
    assert_same_state(clf.__dict__, restored.__dict__)
    assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_concurrent_predict_proba_agrees_with_serial():
    X, y = make_blobs(n_samples=2000, n_features=20, centers=5, random_state=0)
    clf = SoftmaxSGDClassifier(random_state=0, max_iter=5, tol=None).fit(X, y)
    before = copy.deepcopy(clf.__dict__)
    serial = clf.predict_proba(X)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: clf.predict_proba(X), range(32)))
    for result in results:
        assert_array_equal(result, serial)
    assert_same_state(before, clf.__dict__)


# -------------------------------------------------------------- edge sizes


def test_one_sample_per_class():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    y = np.array(["a", "b", "c"])
    clf = SoftmaxSGDClassifier(random_state=0).fit(X, y)
    assert_array_equal(clf.predict(X), y)
    assert_valid_proba(clf.predict_proba(X), 3)
    stream = SoftmaxSGDClassifier(random_state=0).partial_fit(X, y, classes=y)
    assert_valid_proba(stream.predict_proba(X), 3)
    binary = SoftmaxSGDClassifier(random_state=0).fit(X[:2], y[:2])
    assert_array_equal(binary.predict(X[:2]), y[:2])


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_batch_size_beyond_n_samples_is_the_full_batch(method):
    X, y = make_blobs(n_samples=50, centers=3, random_state=0)
    models = []
    for batch_size in (50, 10**12):
        clf = SoftmaxSGDClassifier(
            random_state=0, batch_size=batch_size, max_iter=5, tol=None
        )
        if method == "fit":
            clf.fit(X, y)
        else:
            clf.partial_fit(X, y, classes=CLASSES).partial_fit(X, y)
        models.append(clf)
    assert_same_state(
        models[0].__dict__ | {"batch_size": None},
        models[1].__dict__ | {"batch_size": None},
    )


def test_a_thousand_classes():
    rng = np.random.RandomState(0)
    X, y = rng.randn(2000, 5), np.arange(2000) % 1000
    clf = SoftmaxSGDClassifier(random_state=0, max_iter=3, tol=None).fit(X, y)
    assert clf.coef_.shape == (1000, 5)
    assert_valid_proba(clf.predict_proba(X[:50]), 1000)
    # A stream whose first chunk holds only 10 of the 1000 classes.
    stream = SoftmaxSGDClassifier(random_state=0)
    stream.partial_fit(X[:10], y[:10], classes=np.arange(1000))
    chunk = np.r_[0:50, 1000:1050]  # 50 classes, twice each
    stream.partial_fit(X[chunk], y[chunk])
    assert_valid_proba(stream.predict_proba(X[:50]), 1000)


def test_a_single_feature():
    X, y = make_blobs(n_samples=100, n_features=1, centers=[[-5], [5]], random_state=0)
    clf = SoftmaxSGDClassifier(random_state=0).fit(X, y)
    assert clf.coef_.shape == (1, 1) and clf.score(X, y) > 0.95
    sparse_clf = SoftmaxSGDClassifier(random_state=0).fit(sparse.csr_array(X), y)
    assert_valid_proba(sparse_clf.predict_proba(X), 2)


@pytest.mark.parametrize("n_samples", [2, 3, 5, 9])
def test_early_stopping_on_tiny_data_says_so(n_samples):
    X, y = make_blobs(n_samples=n_samples, centers=2, random_state=0)
    with pytest.raises(ValueError, match="early_stopping.*validation"):
        SoftmaxSGDClassifier(early_stopping=True, random_state=0).fit(X, y)


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_early_stopping_with_batches_smaller_than_the_validation_part(batch_size):
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    clf = SoftmaxSGDClassifier(
        early_stopping=True, batch_size=batch_size, max_iter=4, tol=None, random_state=0
    ).fit(X, y)
    assert len(clf.validation_loss_curve_) == 4
    assert all(np.isfinite(clf.validation_loss_curve_))
    assert_valid_proba(clf.predict_proba(X), 3)


@pytest.mark.parametrize("weighted_per_class", [1, 3])
def test_early_stopping_never_trains_on_a_part_without_weight(weighted_per_class):
    """Few samples per class carry weight: whichever way the split falls,
    the result is a model with a measured validation loss or a clear error
    naming the part without weight, never a crash inside. With one weighted
    sample per class no split can hold both classes in training and one in
    validation; with three, some do."""
    X, y = make_blobs(n_samples=40, centers=2, random_state=0)
    weights = np.zeros(40)
    for label in (0, 1):
        weights[np.flatnonzero(y == label)[:weighted_per_class]] = 1.0
    fitted = 0
    for random_state in range(8):
        clf = SoftmaxSGDClassifier(
            early_stopping=True,
            validation_fraction=0.5,
            random_state=random_state,
            max_iter=20,
            tol=None,
        )
        try:
            clf.fit(X, y, sample_weight=weights)
        except ValueError as error:
            message = str(error)
            assert "early_stopping" in message
            assert "training part" in message or "validation part" in message
        else:
            fitted += 1
            assert np.all(np.isfinite(clf.validation_loss_curve_))
            assert_valid_proba(clf.predict_proba(X), 2)
    assert (fitted > 0) == (weighted_per_class > 1)
