"""Property-based reliability tests: Hypothesis drives fit, partial_fit and
predict with generated shapes, dtypes, scales, label sets, weights and bad
values, and checks the guarantees of tests/test_reliability.py on all of them."""

import copy
import pickle
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from test_reliability import assert_same_state

from sksoftmax import SoftmaxSGDClassifier
from sksoftmax._validation import encode_labels as _encode_labels

# Largest decimal exponent of X's entries per dtype: float64 data from 1e-150
# to 1e150, float32 within its range, integers up to 1e12.
EXPONENT_RANGE = {
    "float64": (-150, 150),
    "float32": (-15, 15),
    "int64": (0, 12),
    "float16": (0, 0),
    "int8": (0, 0),
    "bool": (0, 0),
}


@st.composite
def datasets(draw, min_per_class=1):
    """(X, y, sample_weight, labels): a small classification data set."""
    n_classes = draw(st.integers(2, 5))
    per_class = draw(st.integers(min_per_class, 6))
    n_extra = draw(st.integers(0, 8))
    n_features = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from(sorted(EXPONENT_RANGE)))
    exponent = draw(st.integers(*EXPONENT_RANGE[dtype]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.RandomState(seed)

    codes = np.r_[
        np.repeat(np.arange(n_classes), per_class), rng.randint(n_classes, size=n_extra)
    ]
    rng.shuffle(codes)
    centers = 3 * rng.standard_normal((n_classes, n_features))
    X = centers[codes] + rng.standard_normal((len(codes), n_features))
    if dtype == "bool":
        X = X > 0
    elif dtype.startswith("int"):
        X = np.round(X * 10.0 ** (exponent + 1))
        X = np.clip(X, -128, 127) if dtype == "int8" else X
        X = X.astype(dtype)
    else:
        X = (X * 10.0**exponent).astype(dtype)
    if dtype in ("float64", "float32") and draw(st.booleans()):
        X = sparse.csr_array(np.where(np.abs(X) < 10.0**exponent / 2, 0, X))

    kind = draw(st.sampled_from(["int", "negative", "str", "float", "bool"]))
    if kind == "bool" and n_classes == 2:
        labels = np.array([False, True])
    elif kind == "str":
        labels = np.array([f"class-{i}" for i in range(n_classes)], dtype=object)
    elif kind == "negative":
        labels = -10 * np.arange(n_classes) - 3
    elif kind == "float":
        labels = np.arange(n_classes) * 2.0 - 1.0
    else:
        labels = np.arange(n_classes) * 7
    y = labels[codes]

    weighting = draw(st.sampled_from(["none", "ones", "random", "with-zeros"]))
    if weighting == "none":
        sample_weight = None
    elif weighting == "ones":
        sample_weight = np.ones(len(y))
    else:
        sample_weight = rng.uniform(0.1, 5.0, len(y))
        if weighting == "with-zeros":
            sample_weight[rng.uniform(size=len(y)) < 0.3] = 0.0
            sample_weight[0] = 1.0  # _check_sample_weight refuses all zeros
    return X, y, sample_weight, labels


@st.composite
def estimators(draw, **fixed):
    params = dict(
        penalty=draw(st.sampled_from(["l2", "l1", "elasticnet", None])),
        fit_intercept=draw(st.booleans()),
        momentum=draw(st.sampled_from([0.0, 0.9])),
        average=draw(st.sampled_from([False, True, 3])),
        batch_size=draw(st.one_of(st.just("auto"), st.integers(1, 40))),
        learning_rate=draw(st.sampled_from(["adaptive", "invscaling", "cosine"])),
        early_stopping=draw(st.booleans()),
        max_iter=3,
        tol=None,
        random_state=draw(st.integers(0, 2**31 - 1)),
    )
    params.update(fixed)
    return SoftmaxSGDClassifier(**params)


def assert_valid_model(clf, X, labels):
    assert np.isfinite(clf.coef_).all() and np.isfinite(clf.intercept_).all()
    assert all(np.isfinite(clf.loss_curve_))
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], len(labels))
    assert np.isfinite(proba).all() and (proba >= 0).all()
    atol = 1e-5 if proba.dtype == np.float32 else 1e-10
    assert_allclose(proba.sum(axis=1), 1.0, atol=atol)
    log_proba = clf.predict_log_proba(X)
    assert np.isfinite(log_proba).all() and (log_proba <= atol).all()
    assert set(clf.predict(X)) <= set(labels)


def _weighted_classes(y, sample_weight):
    return len(np.unique(y if sample_weight is None else y[sample_weight > 0]))


@settings(max_examples=50)
@given(
    data=datasets(),
    clf=estimators(),
    class_weight=st.sampled_from([None, "balanced", "random"]),
    class_weight_seed=st.integers(0, 2**32 - 1),
)
def test_fit_and_predict_stay_finite_and_deterministic(
    data, clf, class_weight, class_weight_seed
):
    X, y, sample_weight, labels = data
    if class_weight == "random":
        rng = np.random.RandomState(class_weight_seed)
        weights = rng.choice([0.0, 0.5, 1.0, 1e3], len(labels))
        class_weight = dict(zip(labels.tolist(), weights, strict=True))
    clf.set_params(class_weight=class_weight)
    twin = copy.deepcopy(clf)
    effective_weight = np.ones(len(y)) if sample_weight is None else sample_weight
    if isinstance(class_weight, dict):
        effective_weight = effective_weight * np.array([class_weight[c] for c in y])
    if _weighted_classes(y, effective_weight) < 2:
        with pytest.raises(ValueError, match="fewer than 2 classes"):
            clf.fit(X, y, sample_weight=sample_weight)
        return
    try:
        clf.fit(X, y, sample_weight=sample_weight)
    except ValueError as error:
        # The only refusal of valid data: too little of it to hold out.
        assert clf.early_stopping and "early_stopping" in str(error)
        assert not hasattr(clf, "coef_")
        return
    assert_array_equal(clf.classes_, np.unique(labels[np.isin(labels, y)]))
    assert_valid_model(clf, X, labels)
    twin.fit(X, y, sample_weight=sample_weight)
    assert_same_state(clf.__dict__, twin.__dict__)


def _corrupt(kind, X, y, sample_weight, labels):
    """A bad version of one partial_fit chunk: (X, y, sample_weight, match)."""
    n_samples = X.shape[0]
    X_dense = X.toarray() if sparse.issparse(X) else np.array(X, dtype=float)
    if kind in ("nan-in-X", "inf-in-X"):
        X_dense[n_samples // 2, 0] = np.nan if kind == "nan-in-X" else -np.inf
        X_bad = sparse.csr_array(X_dense) if sparse.issparse(X) else X_dense
        return X_bad, y, sample_weight, "NaN" if kind == "nan-in-X" else "infinity"
    if kind == "nan-in-y":
        y_bad = y.astype(object if isinstance(labels[0], str) else float)
        y_bad[-1] = np.nan
        return X, y_bad, sample_weight, "NaN"
    if kind == "continuous-y":
        y_bad = np.linspace(0.1, 0.9, n_samples) + 0.01
        return X, y_bad, sample_weight, "Unknown label type"
    if kind == "unseen-label":
        if isinstance(labels[0], str):
            y_bad = y.copy()
            y_bad[0] = "never-seen"
        else:
            y_bad = y.astype(float)
            y_bad[0] = 1000.0
        return X, y_bad, sample_weight, "not in classes"
    if kind == "extra-feature":
        return np.c_[X_dense, X_dense[:, :1]], y, sample_weight, "features"
    if kind == "empty":
        return X_dense[:0], y[:0], None, "0 sample"
    weight = np.ones(n_samples) if sample_weight is None else sample_weight.copy()
    if kind == "nan-in-weight":
        weight[-1] = np.nan
        return X, y, weight, "sample_weight contains NaN"
    if kind == "negative-weight":
        weight[0] = -0.5
        return X, y, weight, "Negative values"
    if kind == "zero-weights":
        return X, y, np.zeros(n_samples), "non-zero"
    if kind == "long-weight":
        return X, y, np.r_[weight, 1.0], "sample_weight.shape"
    raise AssertionError(kind)


CORRUPTIONS = [
    "nan-in-X",
    "inf-in-X",
    "nan-in-y",
    "continuous-y",
    "unseen-label",
    "extra-feature",
    "empty",
    "nan-in-weight",
    "negative-weight",
    "zero-weights",
    "long-weight",
]


@settings(max_examples=50)
@given(
    data=datasets(min_per_class=2),
    clf=estimators(early_stopping=False),
    plan=st.lists(
        st.one_of(st.none(), st.sampled_from(CORRUPTIONS)), min_size=2, max_size=5
    ),
    n_chunks=st.integers(1, 3),
)
def test_partial_fit_stream_with_bad_chunks(data, clf, plan, n_chunks):
    """Bad chunks raise with a message naming the problem and change nothing;
    good chunks train; a pickled copy continues identically."""
    X, y, sample_weight, labels = data
    chunks = np.array_split(np.arange(X.shape[0]), n_chunks)
    assume(sample_weight is None or sample_weight[chunks[0]].any())
    clf.partial_fit(
        X[chunks[0]],
        y[chunks[0]],
        classes=labels,
        sample_weight=None if sample_weight is None else sample_weight[chunks[0]],
    )
    restored = pickle.loads(pickle.dumps(clf))
    for step, corruption in enumerate(plan):
        rows = chunks[step % n_chunks]
        X_chunk, y_chunk = X[rows], y[rows]
        weight_chunk = None if sample_weight is None else sample_weight[rows]
        if corruption is None and weight_chunk is not None and not weight_chunk.any():
            corruption = "zero-weights"  # a chunk without weight is refused
        if corruption is None:
            n_iter, weights = clf._n_epochs, clf._training_state.coef.copy()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                clf.partial_fit(X_chunk, y_chunk, sample_weight=weight_chunk)
                restored.partial_fit(X_chunk, y_chunk, sample_weight=weight_chunk)
            # A cosine schedule past max_iter calls says it no longer trains
            # (and does not); nothing else warns on a good chunk.
            decayed = clf.learning_rate == "cosine" and n_iter >= clf.max_iter
            messages = [str(w.message) for w in caught]
            assert all("learning_rate='cosine' has decayed" in m for m in messages)
            assert len(messages) == (2 if decayed else 0)  # clf's and restored's
            if decayed:
                assert_array_equal(clf._training_state.coef, weights)
            # Each good call is one epoch (n_iter_ as SGDClassifier's: 1), and
            # the stream's count of calls, which the schedule follows, grows.
            assert clf.n_iter_ == 1 and clf._n_epochs == n_iter + 1
            assert_valid_model(clf, X_chunk, labels)
            continue
        X_bad, y_bad, weight_bad, match = _corrupt(
            corruption, X_chunk, y_chunk, weight_chunk, labels
        )
        before = copy.deepcopy(clf.__dict__)
        proba = clf.predict_proba(X)
        with np.errstate(invalid="ignore"), pytest.raises(ValueError, match=match):
            clf.partial_fit(X_bad, y_bad, sample_weight=weight_bad)
        assert_same_state(before, clf.__dict__)
        assert_array_equal(clf.predict_proba(X), proba)
    assert_same_state(clf.__dict__, restored.__dict__)


@settings(max_examples=50)
@given(
    data=datasets(min_per_class=2),
    clf=estimators(early_stopping=False, learning_rate="constant"),
    eta0=st.sampled_from([1e-3, 1.0, 1e3, 1e10, 1e30, 1e100]),
    n_calls=st.integers(1, 4),
)
def test_divergence_never_leaves_a_trace(data, clf, eta0, n_calls):
    """With any constant step, each partial_fit either trains to finite weights
    or warns that it diverged and leaves the model exactly as it was."""
    X, y, sample_weight, labels = data
    clf.set_params(eta0=eta0)
    before = None
    for call in range(n_calls):
        if call:
            before = copy.deepcopy(clf.__dict__)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf.partial_fit(X, y, classes=labels, sample_weight=sample_weight)
        messages = [str(warning.message) for warning in caught]
        assert all(issubclass(w.category, ConvergenceWarning) for w in caught)
        assert all("diverged" in message and "eta0" in message for message in messages)
        if messages and before is not None:
            assert_same_state(before, clf.__dict__)
        assert_valid_model(clf, X, labels)


@given(
    dtype=st.sampled_from(["int8", "uint8", "int32", "int64", "uint64", ">i4"]),
    data=st.data(),
)
def test_label_encoding_equals_np_unique(dtype, data):
    # The O(n) encoding of integer labels must agree with np.unique exactly,
    # at the ends of each dtype's range and for ranges too wide to count.
    info = np.iinfo(dtype)
    values = st.integers(int(info.min), int(info.max))
    low = data.draw(values)
    spread = data.draw(st.sampled_from([3, 300, int(info.max) - int(info.min)]))
    offsets = data.draw(
        st.lists(st.integers(0, spread), min_size=1, max_size=60), label="offsets"
    )
    y = np.array([min(low + offset, int(info.max)) for offset in offsets], dtype=dtype)
    classes, encoded = _encode_labels(y)
    expected_classes, expected_encoded = np.unique(y, return_inverse=True)
    assert classes.dtype == y.dtype
    assert_array_equal(classes, expected_classes)
    assert_array_equal(encoded, expected_encoded.reshape(-1))
