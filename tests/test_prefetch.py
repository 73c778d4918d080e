"""Gathering rows in a second thread: the same fit, and no thread left behind."""

import copy
import math
import pickle
import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

import sksoftmax._engine as engine
import sksoftmax._prefetch as prefetch
from sksoftmax import SoftmaxSGDClassifier
from sksoftmax._kernels import NumpyKernel
from sksoftmax._prefetch import RowPrefetcher, prefetch_pays


def prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "sksoftmax-prefetch"]


@pytest.fixture
def data():
    X, y = make_classification(
        n_samples=3_001, n_features=12, n_informative=6, n_classes=4, random_state=0
    )
    return X, y


@pytest.fixture
def count_prefetched_epochs(monkeypatch):
    """Forces the prefetcher on (the test data are small) and counts its epochs."""
    epochs = []
    original = RowPrefetcher.epoch

    def epoch(self, order):
        epochs.append(len(order))
        return original(self, order)

    monkeypatch.setattr(RowPrefetcher, "epoch", epoch)
    monkeypatch.setattr(engine, "prefetch_pays", lambda *args: True)
    return epochs


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"batch_size": 64, "dtype": np.float32},
        {"batch_size": 100, "early_stopping": True},
        {"batch_size": 50, "zero_weights": True, "average": True},
        {"batch_size": 128, "momentum": 0.9, "penalty": "elasticnet"},
        {"batch_size": 64, "binary": True},
        {"fit_intercept": False},
        {"batch_size": 64, "fit_intercept": False, "dtype": np.float32},
    ],
    ids=[
        "defaults",
        "float32",
        "early_stopping",
        "weights-average",
        "momentum-l1",
        "binary",
        "no-intercept",
        "no-intercept-float32",
    ],
)
def test_prefetched_fit_equals_the_serial_fit(data, params, count_prefetched_epochs):
    params = dict(params)
    X, y = data
    X = X.astype(params.pop("dtype", np.float64))
    if params.pop("binary", False):
        y = y % 2
    sample_weight = None
    if params.pop("zero_weights", False):
        sample_weight = np.random.default_rng(0).integers(0, 3, len(y)).astype(float)
    params = {"random_state": 0, "max_iter": 8, "tol": None, **params}

    with pytest.MonkeyPatch.context() as serial:
        serial.setattr(engine, "prefetch_pays", lambda *args: False)
        reference = SoftmaxSGDClassifier(**params).fit(
            X, y, sample_weight=sample_weight
        )
    assert not count_prefetched_epochs
    clf = SoftmaxSGDClassifier(**params).fit(X, y, sample_weight=sample_weight)

    # Every epoch went through the prefetcher, over all training rows.
    assert len(count_prefetched_epochs) == clf.n_iter_
    n_train = len(y) - (len(y) // 10 + 1 if params.get("early_stopping") else 0)
    assert abs(count_prefetched_epochs[0] - n_train) <= 1
    if params.get("fit_intercept", True):
        # The intercept joins the products (rows end in a 1): the same fit
        # up to the rounding of its sums.
        rtol = 1e-4 if X.dtype == np.float32 else 1e-9
        assert_allclose(clf.coef_, reference.coef_, rtol=rtol, atol=rtol * 1e-2)
        assert_allclose(clf.intercept_, reference.intercept_, rtol=rtol, atol=rtol)
        assert_allclose(clf.loss_curve_, reference.loss_curve_, rtol=rtol)
    else:
        # Then nothing is computed differently: bit for bit.
        assert_array_equal(clf.coef_, reference.coef_)
        assert clf.loss_curve_ == reference.loss_curve_
    assert not prefetch_threads()


def test_joint_weights_are_views_and_survive_copies_and_pickles(
    data, count_prefetched_epochs
):
    # partial_fit with the thread: the state keeps coef and intercept as
    # views of one array; a pickled or deep-copied state is joined again,
    # and continues exactly as the original does.
    X, y = data
    clf = SoftmaxSGDClassifier(random_state=0, tol=None, eta0=0.05)
    clf.partial_fit(X, y, classes=np.unique(y))
    assert count_prefetched_epochs
    state = clf._training_state
    weights = state.coef.base
    assert weights.shape == (4, X.shape[1] + 1) and weights.flags.f_contiguous
    assert state.intercept.base is weights
    assert_array_equal(weights[:, -1], state.intercept)

    restored = pickle.loads(pickle.dumps(clf))
    serial = pickle.loads(pickle.dumps(clf))
    loaded = restored._training_state
    assert not np.shares_memory(loaded.coef, loaded.intercept)  # separate arrays
    # Joining separate arrays keeps their values.
    coef, intercept = loaded.coef.copy(), loaded.intercept.copy()
    rejoined = copy.deepcopy(loaded)
    kernel = NumpyKernel(X, y.astype(np.intp), None, 4, 256, True, prefetch=True)
    kernel.begin(rejoined)  # as each run with the thread starts
    weights = kernel.joint
    assert_array_equal(weights[:, :-1], coef)
    assert_array_equal(weights[:, -1], intercept)
    assert rejoined.coef.base is weights and rejoined.intercept.base is weights

    clf.partial_fit(X, y)
    restored.partial_fit(X, y)
    joined = restored._training_state
    assert joined.coef.base is not None and joined.coef.base is joined.intercept.base
    assert_array_equal(restored.coef_, clf.coef_)
    assert_array_equal(restored.intercept_, clf.intercept_)
    # And the continuation is the one of separate weights and no thread (up
    # to the rounding of the intercept's sums), so nothing was lost on the
    # way: both of the above could share a fault of the re-join.
    with pytest.MonkeyPatch.context() as no_thread:
        no_thread.setattr(engine, "prefetch_pays", lambda *args: False)
        serial.partial_fit(X, y)
    assert serial._training_state.coef.base is None
    assert_allclose(clf.coef_, serial.coef_, rtol=1e-9, atol=1e-11)
    assert_allclose(clf.intercept_, serial.intercept_, rtol=1e-9, atol=1e-11)


def test_no_prefetch_where_rows_are_not_gathered(data, count_prefetched_epochs):
    X, y = data
    SoftmaxSGDClassifier(shuffle=False, max_iter=2, tol=None, random_state=0).fit(X, y)
    SoftmaxSGDClassifier(shuffle="blocks", max_iter=2, tol=None, random_state=0).fit(
        X, y
    )
    assert not count_prefetched_epochs


def test_the_batches_are_the_rows_in_order_and_the_thread_ends_early():
    X = np.arange(70.0).reshape(35, 2)
    labels = np.arange(35) % 3
    order = np.random.default_rng(0).permutation(35)
    prefetcher = RowPrefetcher(X, batch_size=2, labels=labels)  # chunks of 16 rows
    with prefetcher.epoch(order) as batches:
        gathered, true_classes = zip(
            *[(batch.copy(), true_class) for batch, true_class in batches]
        )
    assert [len(batch) for batch in gathered] == [2] * 17 + [1]
    assert_array_equal(np.concatenate(gathered), X[order])
    # The flat true-class indices of class-major logits: y * n_rows + row.
    for start, true_class in zip(range(0, 35, 2), true_classes):
        batch_labels = labels[order[start : start + 2]]
        expected = batch_labels * len(batch_labels) + np.arange(len(batch_labels))
        assert_array_equal(true_class, expected)
    with RowPrefetcher(X, batch_size=2).epoch(order) as batches:
        assert all(true_class is None for _, true_class in batches)

    with prefetcher.epoch(order) as batches:
        for _ in range(3):
            next(batches)  # leave early, the thread blocked on a free buffer
    assert not prefetch_threads()


def test_an_error_in_the_thread_reaches_the_training_loop():
    class Failing(np.ndarray):
        def take(self, *args, **kwargs):
            raise MemoryError("no room to gather")

    X = np.zeros((40, 3)).view(Failing)
    with pytest.raises(MemoryError, match="no room to gather"):
        with RowPrefetcher(X, batch_size=4).epoch(np.arange(40)) as batches:
            next(batches)
    assert not prefetch_threads()


def test_a_batch_that_diverges_mid_epoch_ends_the_thread(
    data, count_prefetched_epochs, monkeypatch
):
    # The 30th batch of the second epoch (47 an epoch) reports a NaN loss: the
    # epoch loop returns at once, the prefetch thread must end with it, and the
    # fit keeps the weights of the first epoch, as the serial loop does.
    X, y = data
    calls = []
    original = NumpyKernel.__call__

    def diverging(self, *args, **kwargs):
        calls.append(1)
        loss, weight, grads = original(self, *args, **kwargs)
        return (math.nan if len(calls) == 47 + 30 else loss), weight, grads

    monkeypatch.setattr(NumpyKernel, "__call__", diverging)
    params = {"batch_size": 64, "max_iter": 3, "tol": None, "random_state": 0}
    with pytest.MonkeyPatch.context() as serial:
        serial.setattr(engine, "prefetch_pays", lambda *args: False)
        with pytest.warns(ConvergenceWarning, match="diverged in epoch 2"):
            reference = SoftmaxSGDClassifier(**params).fit(X, y)
    calls.clear()
    with pytest.warns(ConvergenceWarning, match="diverged in epoch 2"):
        clf = SoftmaxSGDClassifier(**params).fit(X, y)
    assert len(calls) == 47 + 30
    assert count_prefetched_epochs == [len(y)] * 2
    assert not prefetch_threads()
    assert np.abs(clf.coef_).max() > 0  # the first epoch's weights
    # (up to the rounding of the intercept's sums in the products, as above)
    assert_allclose(clf.coef_, reference.coef_, rtol=1e-10, atol=1e-14)


def test_prefetched_batches_are_not_gathered_again(data, count_prefetched_epochs):
    X, y = data
    gathered = []
    original = NumpyKernel.gather

    def gather(self, rows):
        gathered.append(len(rows))
        return original(self, rows)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(NumpyKernel, "gather", gather)
        SoftmaxSGDClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)
    assert len(count_prefetched_epochs) == 2
    assert not gathered


def test_prefetch_only_pays_on_large_data_with_a_core_to_spare(monkeypatch):
    X = np.empty((200_000, 100), dtype=np.float32)  # not written: 76 MiB
    n_batches = 200_000 // 256 + 1
    monkeypatch.setattr(prefetch, "available_cpus", lambda: 2)
    assert prefetch_pays(X, 256, n_batches, True, blas_threads=2)
    # The products use every core; X no larger than the caches; few batches.
    assert not prefetch_pays(X, 256, n_batches, False, blas_threads=2)
    assert not prefetch_pays(X[:40_000], 256, 157, True, blas_threads=2)
    assert not prefetch_pays(X, 256, 2 * prefetch.CHUNK_BATCHES - 1, True, 2)
    # Large rows: the buffers would be over an eighth of X.
    wide = np.empty((1_000, 5_000), dtype=np.float32)  # 19 MiB
    assert not prefetch_pays(wide, 256, 4 * prefetch.CHUNK_BATCHES, True, 2)
    assert prefetch_pays(wide, 4, 4 * prefetch.CHUNK_BATCHES, True, 2)
    # One core allowed (a joblib worker of GridSearchCV(n_jobs=-1)); one CPU.
    assert not prefetch_pays(X, 256, n_batches, True, blas_threads=1)
    monkeypatch.setattr(prefetch, "available_cpus", lambda: 1)
    assert not prefetch_pays(X, 256, n_batches, True, blas_threads=2)


def test_no_prefetch_under_a_one_thread_limit(monkeypatch):
    # The process's own BLAS limit says whether a second core is ours: under
    # threadpool_limits(1), as in a joblib worker given one core, it is not.
    from threadpoolctl import threadpool_limits

    seen = []

    def record(*args):
        seen.append(args[-1])
        return False

    monkeypatch.setattr(engine, "prefetch_pays", record)
    unlimited = max(
        (
            info["num_threads"]
            for info in threadpool_info()
            if info["user_api"] == "blas"
        ),
        default=1,
    )
    if unlimited < 2:
        pytest.skip("BLAS runs on one thread here already: nothing to limit")
    X = np.random.default_rng(0).standard_normal((600, 4))
    y = (X[:, 0] > 0).astype(int)
    SoftmaxSGDClassifier(max_iter=1, tol=None, batch_size=16).fit(X, y)
    with threadpool_limits(1, user_api="blas"):
        SoftmaxSGDClassifier(max_iter=1, tol=None, batch_size=16).fit(X, y)
    assert seen == [unlimited, 1]
