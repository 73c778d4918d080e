"""Training on Dask: Incremental over a chunked dask.array, searches on a cluster."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
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


@pytest.fixture(scope="module")
def client():
    """A two-process cluster on the loopback interface, closed after the module."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
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
