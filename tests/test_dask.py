"""Training on Dask: Incremental over a chunked dask.array, searches on a cluster."""

import os
import pickle
import signal
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sksoftmax import SoftmaxSGDClassifier

# The `dask` extra; CI installs it, so these run there.
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")
joblib = pytest.importorskip("joblib")

N_FEATURES = 6
CLASSES = np.array([0, 1, 2])
CHUNK_ROWS = 400
# The true model: labels are the argmax of X @ TRUE_WEIGHTS plus Gumbel noise.
TRUE_WEIGHTS = np.random.RandomState(0).normal(size=(N_FEATURES, len(CLASSES)))


def local_cluster():
    """Two worker processes of one thread on the loopback interface (the
    dashboard too, at a free port)."""
    return distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
    )


@pytest.fixture(scope="module")
def client():
    """A cluster of :func:`local_cluster`, closed after the module."""
    with local_cluster() as cluster, distributed.Client(cluster) as client:
        yield client


def lazy_data(n_samples, seed):
    """Features and labels as dask arrays, generated chunk by chunk on the workers.

    Nothing is computed on the client: this is how data too large for one
    machine is described.
    """
    state = da.random.RandomState(seed)
    X = state.normal(size=(n_samples, N_FEATURES), chunks=(CHUNK_ROWS, N_FEATURES))
    noise = state.gumbel(
        size=(n_samples, len(CLASSES)), chunks=(CHUNK_ROWS, len(CLASSES))
    )
    y = (X @ TRUE_WEIGHTS + noise).argmax(axis=1)
    return X, y


def test_incremental_trains_chunk_by_chunk_like_partial_fit(client):
    X, y = lazy_data(n_samples=2000, seed=0)
    incremental = dask_ml_wrappers.Incremental(
        SoftmaxSGDClassifier(random_state=0), shuffle_blocks=False, scoring="accuracy"
    )

    incremental.fit(X, y, classes=CLASSES)

    # The same as partial_fit over the chunks in order, one pass each.
    reference = SoftmaxSGDClassifier(random_state=0)
    for X_block, y_block in zip(X.to_delayed().ravel(), y.to_delayed(), strict=True):
        reference.partial_fit(X_block.compute(), y_block.compute(), classes=CLASSES)
    model = incremental.estimator_
    # One partial_fit call per chunk: n_iter_ is the last call's one epoch,
    # t_ the rows seen plus one (SGDClassifier's meanings).
    assert X.numblocks[0] == 5
    assert model.n_iter_ == 1 and model.t_ == 2000 + 1
    assert len(model.loss_curve_) == 5
    # Equal up to rounding: the worker process's arrays may be aligned
    # differently, which changes numpy's summation order in the last bit.
    assert_allclose(model.coef_, reference.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(model.intercept_, reference.intercept_, rtol=1e-12, atol=1e-14)

    # Predictions stay lazy dask arrays, computed chunk by chunk on the workers.
    X_test, y_test = lazy_data(n_samples=1200, seed=1)
    predicted = incremental.predict(X_test)
    assert isinstance(predicted, da.Array)
    assert_array_equal(predicted.compute(), reference.predict(X_test.compute()))
    proba = incremental.predict_proba(X_test)
    assert isinstance(proba, da.Array)
    assert_allclose(proba.compute(), reference.predict_proba(X_test.compute()))
    assert incremental.score(X_test, y_test) > 0.6


def test_several_passes_continue_from_the_last(client):
    X, y = lazy_data(n_samples=1200, seed=2)
    incremental = dask_ml_wrappers.Incremental(
        SoftmaxSGDClassifier(random_state=0), shuffle_blocks=False
    )

    incremental.fit(X, y, classes=CLASSES)
    assert incremental.estimator_.t_ == 1200 + 1
    incremental.partial_fit(X, y, classes=CLASSES)

    # The second pass continues the stream: the loss curve has an entry per
    # chunk of both passes, and t_ counts the rows of both, plus one.
    assert len(incremental.estimator_.loss_curve_) == 2 * X.numblocks[0]
    assert incremental.estimator_.t_ == 2 * 1200 + 1
    assert incremental.estimator_.n_iter_ == 1


def test_grid_search_runs_on_the_cluster_and_matches_a_local_search(client):
    X, y = (array.compute() for array in lazy_data(n_samples=600, seed=3))
    search = GridSearchCV(
        SoftmaxSGDClassifier(random_state=0, max_iter=20, tol=None),
        {"alpha": [1e-4, 1e-2], "batch_size": [32, 128]},
        cv=3,
    )

    with distributed.get_task_stream(client) as task_stream:
        with joblib.parallel_backend("dask"):
            search.fit(X, y)

    # joblib batches the 4 x 3 fits into tasks that ran on the workers.
    assert {task["worker"] for task in task_stream.data} <= set(
        client.scheduler_info()["workers"]
    )
    assert task_stream.data
    local = GridSearchCV(search.estimator, search.param_grid, cv=3).fit(X, y)
    assert search.best_params_ == local.best_params_
    assert_allclose(
        search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )


# ------------------------------------------------ DataParallel: every worker at once

dask_parallel = pytest.importorskip("sksoftmax.dask")
DataParallel = dask_parallel.DataParallel


def test_data_parallel_trains_on_every_worker_and_is_as_accurate_as_memory(client):
    X, y = lazy_data(n_samples=6000, seed=4)
    X_test, y_test = (array.compute() for array in lazy_data(n_samples=3000, seed=5))

    with distributed.get_task_stream(client) as task_stream:
        model = DataParallel(SoftmaxSGDClassifier(random_state=0)).fit(X, y)

    # One replica per worker, each training at once on the partitions it holds.
    replica_tasks = [t for t in task_stream.data if "train_replica" in t["key"]]
    assert model.n_replicas_ == 2
    assert {task["worker"] for task in replica_tasks} == set(client.nthreads())
    assert len(replica_tasks) == 2 * model.estimator_.n_iter_
    # The fitted model is a plain estimator: picklable, no Dask needed.
    fitted = pickle.loads(pickle.dumps(model.estimator_))
    assert type(fitted) is SoftmaxSGDClassifier
    assert_array_equal(fitted.classes_, CLASSES)
    assert fitted.t_ == fitted.n_iter_ * 6000 + 1
    in_memory = SoftmaxSGDClassifier(random_state=0).fit(X.compute(), y.compute())
    assert fitted.score(X_test, y_test) >= in_memory.score(X_test, y_test) - 0.01
    # Predictions run chunk by chunk on the workers, as dask-ml's wrappers'.
    predicted = model.predict(da.from_array(X_test, chunks=500))
    assert isinstance(predicted, da.Array)
    assert_array_equal(predicted.compute(), fitted.predict(X_test))
    proba = model.predict_proba(da.from_array(X_test, chunks=500)).compute()
    assert_allclose(proba, fitted.predict_proba(X_test))
    assert model.score(
        da.from_array(X_test, chunks=500), da.from_array(y_test, chunks=500)
    ) == pytest.approx(fitted.score(X_test, y_test))
    # It goes on in memory: partial_fit continues the training state.
    fitted.partial_fit(X_test, y_test)
    assert fitted.t_ == model.estimator_.t_ + 3000


def test_a_fit_does_not_depend_on_where_the_partitions_are(client, monkeypatch):
    X, y = lazy_data(n_samples=4000, seed=6)
    first = DataParallel(SoftmaxSGDClassifier(random_state=0)).fit(X, y)
    # The same replicas on the other workers: each partition's random
    # numbers come from its index, not from the worker that holds it.
    slots = dask_parallel._worker_slots
    monkeypatch.setattr(dask_parallel, "_worker_slots", lambda c: slots(c)[::-1])
    second = DataParallel(SoftmaxSGDClassifier(random_state=0)).fit(X, y)

    assert second.estimator_.n_iter_ == first.estimator_.n_iter_
    assert_allclose(second.estimator_.coef_, first.estimator_.coef_, rtol=1e-12)
    assert_allclose(
        second.estimator_.intercept_, first.estimator_.intercept_, rtol=1e-12
    )
    third = DataParallel(SoftmaxSGDClassifier(random_state=1)).fit(X, y)
    assert not np.allclose(third.estimator_.coef_, first.estimator_.coef_)


def test_a_worker_killed_during_training_changes_nothing(monkeypatch):
    # A cluster of its own: one of its worker processes is killed mid-fit.
    with local_cluster() as cluster, distributed.Client(cluster) as own_client:
        X, y = lazy_data(n_samples=8000, seed=7)
        estimator = SoftmaxSGDClassifier(random_state=0, max_iter=8, tol=None)
        undisturbed = DataParallel(estimator).fit(X, y)

        pids = own_client.run(os.getpid)
        victim = sorted(pids)[0]
        merge, killed = dask_parallel._merge, []

        def merge_then_kill(state, t, results):
            sums = merge(state, t, results)
            if not killed:  # after the first round: the next runs without it
                os.kill(pids[victim], signal.SIGKILL)
                killed.append(victim)
            return sums

        monkeypatch.setattr(dask_parallel, "_merge", merge_then_kill)
        disturbed = DataParallel(estimator).fit(X, y)

        # The worker died (its nanny starts a new one, at a new address), its
        # partitions were computed again elsewhere, and every later round ran.
        assert killed and victim not in own_client.nthreads()
        assert disturbed.estimator_.n_iter_ == 8
        assert_allclose(
            disturbed.estimator_.coef_, undisturbed.estimator_.coef_, rtol=1e-12
        )
        assert disturbed.estimator_.t_ == undisturbed.estimator_.t_


def test_partitions_uneven_unsorted_of_unknown_size_and_missing_classes(client):
    # Rows sorted by label, in partitions of very different sizes: most
    # partitions hold one or two of the three classes.
    X, y = (array.compute() for array in lazy_data(n_samples=3000, seed=8))
    order = np.argsort(y, kind="stable")
    X, y = X[order], y[order]
    chunks = (100, 1400, 250, 50, 900, 300)
    X_dask, y_dask = da.from_array(X, chunks=(chunks, -1)), da.from_array(y, chunks)
    # Unknown chunk sizes: a filter that keeps every row.
    keep = y_dask >= 0
    X_unknown, y_unknown = X_dask[keep], y_dask[keep]
    assert np.isnan(X_unknown.chunks[0]).all()

    # And one partition per worker.
    X_two, y_two = da.from_array(X, chunks=(1500, -1)), da.from_array(y, 1500)

    for X_fit, y_fit in ((X_dask, y_dask), (X_unknown, y_unknown), (X_two, y_two)):
        model = DataParallel(SoftmaxSGDClassifier(random_state=0)).fit(X_fit, y_fit)
        assert_array_equal(model.classes_, CLASSES)
        assert model.estimator_.t_ == model.estimator_.n_iter_ * 3000 + 1
        assert model.estimator_.score(X, y) > 0.6


def test_class_and_sample_weights_are_counted_over_all_partitions(client):
    X, y = lazy_data(n_samples=3000, seed=9)
    y = da.where(y == 2, da.where(X[:, 0] > 0.5, 2, 0), y)  # class 2 is rare
    y_all = y.compute()
    balanced = DataParallel(
        SoftmaxSGDClassifier(random_state=0, class_weight="balanced")
    ).fit(X, y)
    counts = np.bincount(y_all)
    as_dict = dict(enumerate(len(y_all) / (3 * counts)))
    explicit = DataParallel(
        SoftmaxSGDClassifier(random_state=0, class_weight=as_dict)
    ).fit(X, y)
    assert_allclose(balanced.estimator_.coef_, explicit.estimator_.coef_, rtol=1e-10)

    # Weights that differ by partition: a constant factor on all of them
    # changes nothing, since their mean over all partitions normalises each
    # step. (Normalised by each partition's own mean weight, weights that
    # are constant on each partition would take the steps of no weights.)
    weight = da.from_array(
        np.concatenate(
            [
                np.full(rows, [1.0, 3.0, 0.5][i % 3])
                for i, rows in enumerate(X.chunks[0])
            ]
        ),
        chunks=X.chunks[0],
    )
    fixed_steps = SoftmaxSGDClassifier(
        random_state=0,
        eta0=0.1,
        learning_rate="constant",
        momentum=0.0,
        max_iter=5,
        tol=None,
    )
    weighted = DataParallel(fixed_steps).fit(X, y, sample_weight=weight)
    scaled = DataParallel(fixed_steps).fit(X, y, sample_weight=7 * weight)
    unweighted = DataParallel(fixed_steps).fit(X, y)
    assert_allclose(scaled.estimator_.coef_, weighted.estimator_.coef_, rtol=1e-10)
    assert not np.allclose(
        weighted.estimator_.coef_, unweighted.estimator_.coef_, rtol=1e-3
    )


@pytest.mark.parametrize(
    "params",
    [
        {"early_stopping": True},
        {"penalty": "l1", "alpha": 0.01},
        {"average": True},
        {"learning_rate": "optimal"},
        {"momentum": 0.0, "learning_rate": "invscaling", "eta0": 0.1},
    ],
    ids=["early_stopping", "l1", "average", "optimal", "invscaling"],
)
def test_the_estimators_parameters_keep_their_meaning(client, params):
    X, y = lazy_data(n_samples=4000, seed=10)
    X_test, y_test = (array.compute() for array in lazy_data(n_samples=2000, seed=11))
    model = DataParallel(SoftmaxSGDClassifier(random_state=0, **params)).fit(X, y)
    fitted = model.estimator_
    in_memory = SoftmaxSGDClassifier(random_state=0, **params).fit(
        X.compute(), y.compute()
    )
    assert fitted.score(X_test, y_test) >= in_memory.score(X_test, y_test) - 0.02
    if params.get("early_stopping"):
        assert len(fitted.validation_scores_) == fitted.n_iter_
        assert fitted.best_validation_score_ is not None
    if params.get("average"):
        assert fitted._training_state.optimizer.n_averaged > 0


def test_l1_zeros_survive_the_averaging(client):
    # Features of pure noise, which L1 sets to zero. Where replicas disagree
    # on a zero, their average is a small weight still owed its shrinkage:
    # applied at the merge, the zeros are there after a single round.
    X, y = lazy_data(n_samples=4000, seed=10)
    noise = da.random.RandomState(1).normal(size=(4000, 20), chunks=(CHUNK_ROWS, 20))
    X = da.concatenate([X, noise], axis=1)
    params = {"penalty": "l1", "alpha": 0.01, "max_iter": 1, "tol": None}
    model = DataParallel(SoftmaxSGDClassifier(random_state=0, **params)).fit(X, y)
    in_memory = SoftmaxSGDClassifier(random_state=0, **params).fit(
        X.compute(), y.compute()
    )
    zeros = np.sum(model.estimator_.coef_ == 0)
    assert zeros >= 0.85 * np.sum(in_memory.coef_ == 0) > 0


def test_csr_partitions_train_with_the_sparse_updates(client):
    X, y = lazy_data(n_samples=3000, seed=12)
    X_sparse = X.map_blocks(lambda block: sparse.csr_matrix(np.maximum(block, 0)))
    model = DataParallel(SoftmaxSGDClassifier(random_state=0)).fit(X_sparse, y)
    # momentum="auto" is plain SGD on CSR data, as in memory.
    assert model.estimator_._training_state.optimizer.momentum == 0
    X_dense = np.maximum(X.compute(), 0)
    assert model.estimator_.score(X_dense, y.compute()) > 0.6


def test_dataframes_keep_their_column_names(client):
    dd = pytest.importorskip("dask.dataframe")
    X, y = lazy_data(n_samples=2000, seed=13)
    frame = dd.from_dask_array(X, columns=[f"f{i}" for i in range(N_FEATURES)])
    labels = dd.from_dask_array(y)
    model = DataParallel(SoftmaxSGDClassifier(random_state=0)).fit(frame, labels)
    assert list(model.estimator_.feature_names_in_) == list(frame.columns)
    predicted = model.predict(frame).compute()
    assert_array_equal(predicted, model.estimator_.predict(frame.compute()))


def test_divergence_is_rolled_back_on_the_client(client):
    X, y = lazy_data(n_samples=2000, seed=14)
    estimator = SoftmaxSGDClassifier(
        random_state=0, learning_rate="constant", eta0=1e12, momentum=0
    )
    with pytest.warns(ConvergenceWarning, match="diverged|starting"):
        model = DataParallel(estimator).fit(X * 1e10, y)
    assert np.isfinite(model.estimator_.coef_).all()


def test_clone_and_parameters(client):
    model = DataParallel(SoftmaxSGDClassifier(alpha=1e-3), n_replicas=3)
    copy = clone(model)
    assert copy.get_params()["estimator__alpha"] == 1e-3
    copy.set_params(estimator__alpha=1e-2, n_replicas=1)
    assert copy.estimator.alpha == 1e-2 and model.estimator.alpha == 1e-3
    X, y = lazy_data(n_samples=1200, seed=15)
    assert copy.fit(X, y).n_replicas_ == 1
    # The default estimator is SoftmaxSGDClassifier() with its defaults.
    assert isinstance(DataParallel().fit(X, y).estimator_, SoftmaxSGDClassifier)


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda X, y: (DataParallel(GridSearchCV), X, y), "SoftmaxSGDClassifier"),
        (
            lambda X, y: (
                DataParallel(SoftmaxSGDClassifier(warm_start=True)),
                X,
                y,
            ),
            "warm_start",
        ),
        (
            lambda X, y: (DataParallel(SoftmaxSGDClassifier(shuffle="blocks")), X, y),
            "blocks",
        ),
        (lambda X, y: (DataParallel(), X.compute(), y), "dask arrays"),
        (lambda X, y: (DataParallel(), X, y[:-400]), "partitioned as X"),
        (lambda X, y: (DataParallel(), X, y.rechunk(300)), "partitioned as X"),
    ],
    ids=["estimator", "warm_start", "blocks", "numpy", "partitions", "rows"],
)
def test_what_cannot_hold_in_parallel_is_refused_at_fit(client, make_args, message):
    X, y = lazy_data(n_samples=1200, seed=16)
    model, X_fit, y_fit = make_args(X, y)
    with pytest.raises((TypeError, ValueError), match=message):
        model.fit(X_fit, y_fit)


def test_labels_outside_the_classes_given_are_refused(client):
    X, y = lazy_data(n_samples=1200, seed=17)
    with pytest.raises(ValueError, match=r"not in classes \[0, 1\]"):
        DataParallel().fit(X, y, classes=[0, 1])


def test_empty_partitions_and_partitions_without_weight(client):
    X, y = (array.compute() for array in lazy_data(n_samples=2400, seed=18))
    X_dask, y_dask = da.from_array(X, chunks=(400, -1)), da.from_array(y, 400)
    # A filter that empties the first two partitions (sizes then unknown).
    keep = da.arange(2400, chunks=400) >= 800
    weight = da.where(da.arange(2400, chunks=400) < 1200, 0.0, 1.0)
    model = DataParallel(SoftmaxSGDClassifier(random_state=0)).fit(
        X_dask[keep], y_dask[keep], sample_weight=weight[keep]
    )
    # Rows 800 to 1199 weigh nothing; the rest train as the in-memory fit.
    in_memory = SoftmaxSGDClassifier(random_state=0).fit(X[1200:], y[1200:])
    assert model.estimator_.score(X, y) >= in_memory.score(X, y) - 0.02


def test_l1_state_survives_a_replica_that_takes_no_step(client):
    # Partition 0 holds only class 0, whose class_weight is 0: its replica
    # takes no step. The merge must count the other replica alone, L1
    # state included, or the shrinkage is applied again every round.
    X, y = (array.compute() for array in lazy_data(n_samples=3000, seed=19))
    order = np.argsort(y != 0, kind="stable")
    X, y = X[order], y[order]
    n_first = int(np.sum(y == 0))
    params = {
        "random_state": 0,
        "penalty": "l1",
        "alpha": 3e-3,
        "class_weight": {0: 0.0, 1: 1.0, 2: 1.0},
        "max_iter": 20,
        "tol": None,
    }
    chunks = (n_first, 3000 - n_first)
    model = DataParallel(SoftmaxSGDClassifier(**params)).fit(
        da.from_array(X, chunks=(chunks, -1)), da.from_array(y, chunks)
    )
    rest = np.flatnonzero(y != 0)
    halves = (len(rest) // 2, len(rest) - len(rest) // 2)
    without = DataParallel(SoftmaxSGDClassifier(**params)).fit(
        da.from_array(X[rest], chunks=(halves, -1)),
        da.from_array(y[rest], halves),
        classes=CLASSES,
    )
    zeros = np.sum(model.estimator_.coef_ == 0)
    assert zeros >= np.sum(without.estimator_.coef_ == 0) - 2 > 0
    received = model.estimator_._training_state.optimizer.penalty.received
    assert received is not None


def test_float32_l1_state_stays_float32(client):
    X, y = lazy_data(n_samples=1600, seed=20)
    model = DataParallel(SoftmaxSGDClassifier(random_state=0, penalty="l1")).fit(
        X.astype(np.float32), y
    )
    state = model.estimator_._training_state
    assert state.coef.dtype == state.optimizer.penalty.received.dtype == np.float32
    assert state.coef.flags.f_contiguous


def test_cosine_runs_its_course_over_max_iter_rounds(client):
    X, y = lazy_data(n_samples=4000, seed=21)
    estimator = SoftmaxSGDClassifier(
        random_state=0, learning_rate="cosine", eta0=0.1, max_iter=6, tol=None
    )
    model = DataParallel(estimator).fit(X, y)
    fitted = model.estimator_
    schedule = fitted._training_state.optimizer.schedule
    assert fitted.n_iter_ == 6
    assert schedule(fitted._t_updates) < 1e-3 * 0.1


def test_a_numeric_eta0_needs_no_row_norms(client):
    X, y = lazy_data(n_samples=1200, seed=22)
    # Squared row norms overflow float64; eta0="auto" would need them.
    estimator = SoftmaxSGDClassifier(
        random_state=0, eta0=1e-310, learning_rate="constant", max_iter=2, tol=None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a tiny step
        DataParallel(estimator).fit(X * 1e160, y)
    with pytest.raises(ValueError, match="overflow float64"):
        DataParallel(SoftmaxSGDClassifier(max_iter=2)).fit(X * 1e160, y)


def test_early_stopping_with_partitions_of_a_few_rows(client):
    X, y = (array.compute() for array in lazy_data(n_samples=600, seed=23))
    X_dask, y_dask = da.from_array(X, chunks=(4, -1)), da.from_array(y, 4)
    model = DataParallel(
        SoftmaxSGDClassifier(random_state=0, early_stopping=True, max_iter=5, tol=None)
    ).fit(X_dask, y_dask)
    # ceil(0.1 * 600) rows held out in all, shared over the 150 partitions:
    # each kept round counts 540 training rows.
    fitted = model.estimator_
    assert (fitted.t_ - 1) % 540 == 0 and fitted.t_ > 1
    assert len(fitted.validation_scores_) == fitted.n_iter_ == 5


def test_callbacks_are_refused(client):
    callback = pytest.importorskip("sklearn.callback")
    estimator = SoftmaxSGDClassifier().set_callbacks(callback.ProgressBar())
    X, y = lazy_data(n_samples=400, seed=24)
    with pytest.raises(ValueError, match="callbacks"):
        DataParallel(estimator).fit(X, y)


@pytest.mark.parametrize(
    "params, weighted",
    [({}, False), ({}, True), ({"fit_intercept": False}, True)],
    ids=["unweighted", "weighted", "no_intercept"],
)
def test_eta0_auto_merged_from_partitions_equals_the_in_memory_estimate(
    client, params, weighted
):
    # Up to the sample's size the rows are used whole: the moments merged
    # from the partitions give the in-memory step sizes, to rounding.
    X, y = lazy_data(n_samples=2000, seed=25)
    weight = da.random.RandomState(1).uniform(0.2, 3.0, 2000, chunks=CHUNK_ROWS)
    fit_params = {"sample_weight": weight} if weighted else {}
    estimator = SoftmaxSGDClassifier(random_state=0, max_iter=1, tol=None, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DataParallel(estimator).fit(X, y, **fit_params)
        in_memory = clone(estimator).fit(
            X.compute(),
            y.compute(),
            sample_weight=weight.compute() if weighted else None,
        )
    ours = model.estimator_._training_state.optimizer
    theirs = in_memory._training_state.optimizer
    assert ours.schedule.eta0 == pytest.approx(theirs.schedule.eta0, rel=1e-9)
    assert ours.step_scales == pytest.approx(theirs.step_scales, rel=1e-9)


def test_partitions_are_dealt_by_size_and_held_out_rows_shared():
    deal = dask_parallel._deal_partitions
    # 400 and 300 first, then each 100 to the replica with fewer rows.
    assert deal(5, [100, 400, 100, 300, 100], 2) == [[1, 2], [0, 3, 4]]
    assert deal(5, None, 2) == [[0, 2, 4], [1, 3]]
    held_out = dask_parallel._held_out_rows([4] * 150, 0.1)
    assert sum(held_out) == 60 and set(held_out) == {0, 1}
    assert dask_parallel._held_out_rows([7, 0, 3], None) == [0, 0, 0]
    assert dask_parallel._held_out_rows([7, 0, 3], 0.5) == [4, 0, 1]
