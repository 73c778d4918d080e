"""Benchmark of SoftmaxSGDClassifier against its peers: speed, accuracy, memory."""

import argparse
import importlib.metadata
import importlib.util
import math
import os
import platform
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler, normalize
from threadpoolctl import threadpool_info, threadpool_limits

from sksoftmax import SoftmaxSGDClassifier, __version__

BATCH_SIZE = 256
# A fixed, safe step for the per-epoch timings: the loop costs the same for any
# eta0, and eta0="auto" would add its one-off setup to every timed fit.
TIMING_ETA0 = 0.01
# The defaults reach the target when their held-out accuracy is at most this
# far below LogisticRegression()'s.
ACCURACY_SLACK = 0.005
FLOOR_REPEATS = 10
SECTIONS = ("dense", "accuracy", "sparse", "scaling", "memory")

FULL = {
    "dense": {
        "n_train": 200_000,
        "n_test": 50_000,
        "n_features": 100,
        "n_informative": 50,
        "n_redundant": 10,
        "n_classes": 10,
    },
    "sparse": {
        "n_samples": 50_000,
        "n_features": 2**18,
        "nnz_per_row": 40,
        "n_classes": 20,
    },
    "scaling": (50_000, 100_000, 200_000, 400_000),
    "scaling_rounds": 7,
    "epochs": 3,
    "repeats": 3,
    "repeat_budget": 20.0,
    "curve_budget": 30.0,
}
QUICK = {
    "dense": {
        "n_train": 3_000,
        "n_test": 1_000,
        "n_features": 20,
        "n_informative": 10,
        "n_redundant": 2,
        "n_classes": 5,
    },
    "sparse": {
        "n_samples": 1_000,
        "n_features": 2**12,
        "nnz_per_row": 10,
        "n_classes": 5,
    },
    "scaling": (500, 1_000, 2_000),
    "scaling_rounds": 1,
    "epochs": 1,
    "repeats": 1,
    "repeat_budget": 1.0,
    "curve_budget": 1.0,
}


# ----------------------------------------------------------------- data


def make_dense_data(
    n_train,
    n_test,
    n_features,
    n_informative,
    n_redundant,
    n_classes,
    *,
    n_pool=0,
    random_state=0,
):
    """Standardised float32 ``make_classification`` data, split in train and test.

    Parameters
    ----------
    n_train, n_test : int
        Rows of the training and of the held-out part.
    n_features, n_informative, n_redundant, n_classes : int
        Passed to :func:`~sklearn.datasets.make_classification`.
    n_pool : int, default=0
        Training rows to draw in all (at least ``n_train``) for the scaling
        runs; the first ``n_train`` of them are the training part.
    random_state : int, default=0
        Seed of the data.

    Returns
    -------
    X_pool : ndarray of shape (max(n_pool, n_train), n_features)
        Training rows, C-contiguous float32, scaled by the training part's
        mean and standard deviation.
    y_pool : ndarray of shape (max(n_pool, n_train),)
        Their labels.
    X_test : ndarray of shape (n_test, n_features)
        Held-out rows, scaled alike.
    y_test : ndarray of shape (n_test,)
        Their labels.
    """
    n_pool = max(n_pool, n_train)
    X, y = make_classification(
        n_samples=n_pool + n_test,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=n_redundant,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=random_state,
    )
    X = StandardScaler().fit(X[:n_train]).transform(X).astype(np.float32)
    return X[:n_pool], y[:n_pool], X[n_pool:], y[n_pool:]


def make_sparse_data(n_samples, n_features, nnz_per_row, n_classes, *, random_state=0):
    """Hashed-text-like CSR data with labels from a planted softmax model.

    Column indices follow a Zipf-like law (as hashed words do), values are
    positive and each row has unit L2 norm, like TfidfVectorizer's output;
    float64, the dtype of scikit-learn's text vectorizers. Duplicate
    indices are summed, so rows hold slightly fewer than ``nnz_per_row``
    non-zeros.

    Parameters
    ----------
    n_samples, n_features, nnz_per_row, n_classes : int
        Shape, density and number of classes.
    random_state : int, default=0
        Seed of the data.

    Returns
    -------
    X : csr_matrix of shape (n_samples, n_features)
        The data.
    y : ndarray of shape (n_samples,)
        Labels drawn from the softmax of a random linear model.
    """
    rng = np.random.RandomState(random_state)
    popularity = 1.0 / (np.arange(n_features) + 100.0)
    columns = rng.choice(
        n_features, size=n_samples * nnz_per_row, p=popularity / popularity.sum()
    )
    columns = rng.permutation(n_features)[columns]
    values = rng.exponential(size=n_samples * nnz_per_row)
    indptr = np.arange(0, n_samples * nnz_per_row + 1, nnz_per_row)
    X = sparse.csr_matrix((values, columns, indptr), shape=(n_samples, n_features))
    X.sum_duplicates()
    X = normalize(X)
    raw_prediction = 3.0 * np.asarray(X @ rng.randn(n_features, n_classes))
    # argmax of logits plus Gumbel noise is a draw from their softmax.
    y = np.argmax(raw_prediction + rng.gumbel(size=raw_prediction.shape), axis=1)
    return X, y


# --------------------------------------------------------------- timing


def min_time(func, repeats, budget):
    """Best wall-clock time of ``func()`` over up to ``repeats`` calls.

    Does not start a call that would, at the mean time so far, take the total
    past ``budget`` seconds (one call at least). On a shared machine the
    minimum is the least disturbed run.

    Returns
    -------
    best : float
        Seconds.
    result : object
        What the last call returned.
    """
    times = []
    while len(times) < repeats and (not times or sum(times) + np.mean(times) <= budget):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def quiet_fit(estimator, X, y):
    """``estimator.fit(X, y)`` without ConvergenceWarnings (truncated runs warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def n_iterations(estimator):
    """Epochs or iterations a fitted estimator ran (the most over its classes)."""
    return int(np.max(estimator.n_iter_))


def check_epochs(estimator, max_iter):
    """Refuse a timed fit that did not run exactly ``max_iter`` epochs."""
    if n_iterations(estimator) != max_iter:
        raise RuntimeError(
            f"{type(estimator).__name__} stopped after {n_iterations(estimator)} "
            f"of {max_iter} epochs; the per-epoch time would be wrong."
        )


def epoch_time_by_difference(make_estimator, X, y, n_epochs, repeats, budget):
    """Per-epoch time of an estimator, free of its one-off setup.

    Times ``fit`` with 1 and with ``1 + n_epochs`` epochs (best of up to
    ``repeats`` each) and divides the difference by ``n_epochs``.

    Parameters
    ----------
    make_estimator : callable
        ``make_estimator(max_iter)`` returns a fresh estimator that runs
        exactly ``max_iter`` epochs.
    X, y : array-like
        The data.
    n_epochs : int
        Epochs in the difference.
    repeats : int
        Most timings of each fit.
    budget : float
        Seconds after which each of the two timings stops repeating.

    Returns
    -------
    epoch_time : float
        Seconds per epoch.
    setup_time : float
        The rest of a one-epoch fit: validation, initialisation, copies.
    """
    times = []
    for max_iter in (1, 1 + n_epochs):
        best, estimator = min_time(
            lambda max_iter=max_iter: quiet_fit(make_estimator(max_iter), X, y),
            repeats,
            budget,
        )
        check_epochs(estimator, max_iter)
        times.append(best)
    one, many = times
    epoch_time = max(many - one, 0.0) / n_epochs
    return epoch_time, max(one - epoch_time, 0.0)


def ours_for_timing(random_state, **params):
    """``make_estimator`` of SoftmaxSGDClassifier for exact-epoch timings."""
    return lambda max_iter: SoftmaxSGDClassifier(
        max_iter=max_iter,
        tol=None,
        batch_size=BATCH_SIZE,
        eta0=TIMING_ETA0,
        random_state=random_state,
        **params,
    )


def sgd_for_timing(random_state):
    """``make_estimator`` of SGDClassifier(loss="log_loss") for exact epochs."""
    return lambda max_iter: SGDClassifier(
        loss="log_loss", max_iter=max_iter, tol=None, random_state=random_state
    )


def mlp_for_timing(random_state):
    """``make_estimator`` of a softmax MLPClassifier (no hidden layer), exact epochs."""
    return lambda max_iter: MLPClassifier(
        hidden_layer_sizes=(),
        solver="sgd",
        batch_size=BATCH_SIZE,
        max_iter=max_iter,
        n_iter_no_change=max_iter + 1,
        random_state=random_state,
    )


def blas_floor(X, n_classes, repeats=FLOOR_REPEATS, n_threads=None):
    """Best time of ``X @ W`` plus ``X.T @ G`` over all rows: one epoch's BLAS work.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    n_classes : int
    repeats : int, default=FLOOR_REPEATS
        Timings to take the best of; cheap, so many, as a multi-threaded
        product slows down a lot whenever another process holds a core.
    n_threads : int, default=None
        BLAS threads; None leaves the default.
    """
    rng = np.random.RandomState(0)
    weights = rng.randn(X.shape[1], n_classes).astype(X.dtype)
    gradient = rng.randn(X.shape[0], n_classes).astype(X.dtype)

    def products():
        X @ weights
        X.T @ gradient

    with threadpool_limits(n_threads, user_api="blas"):
        products()  # wake the BLAS threads
        return min_time(products, repeats, budget=np.inf)[0]


def torch_epoch_time(X, y, n_classes, n_threads, repeats, budget, random_state):
    """Per-epoch time of a plain PyTorch CPU loop on the same data.

    ``nn.Linear`` + ``CrossEntropyLoss`` + ``optim.SGD``, shuffled minibatches
    of ``BATCH_SIZE`` rows gathered by index, the batch loss read back each
    step (as our loop sums its epoch objective), ``n_threads`` intra-op
    threads, after a warm-up of 20 steps. An epoch that runs past ``budget``
    seconds is cut short and its time extrapolated from the steps done.

    Returns
    -------
    epoch_time : float
        Seconds per epoch (best of up to ``repeats`` epochs).
    fraction : float
        Share of the epoch's steps that were timed (1.0: a whole epoch).
    """
    import torch

    default_threads = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        torch.manual_seed(random_state)
        features = torch.from_numpy(np.ascontiguousarray(X))
        labels = torch.from_numpy(y.astype(np.int64))
        model = torch.nn.Linear(X.shape[1], n_classes)
        loss_function = torch.nn.CrossEntropyLoss()
        optimizer = torch.optim.SGD(model.parameters(), lr=TIMING_ETA0)
        starts = range(0, X.shape[0], BATCH_SIZE)

        def run_epoch(n_steps=None):
            n_steps = len(starts) if n_steps is None else n_steps
            order = torch.randperm(X.shape[0])
            epoch_loss, began = 0.0, time.perf_counter()
            for step, start in enumerate(starts[:n_steps]):
                rows = order[start : start + BATCH_SIZE]
                optimizer.zero_grad(set_to_none=True)
                loss = loss_function(model(features[rows]), labels[rows])
                loss.backward()
                optimizer.step()
                epoch_loss += loss.item()
                if time.perf_counter() - began > budget:
                    return (step + 1) / len(starts)
            return n_steps / len(starts)

        run_epoch(20)
        best, fraction = min_time(run_epoch, repeats, budget)
        return best / fraction, fraction
    finally:
        torch.set_num_threads(default_threads)


# ------------------------------------------------------------- sections


def bench_dense_epochs(X, y, n_classes, config, *, with_torch, random_state):
    """Section 1: per-epoch time at batch_size=256 on dense float32 data.

    Returns
    -------
    rows : list of dict
        One per method: ``name``, ``label`` (for the plot), ``key``, ``epoch``
        and ``setup`` in seconds (None where not measured).
    """
    n_epochs, repeats = config["epochs"], config["repeats"]
    budget = config["repeat_budget"]
    rows = []

    def add(name, label, key, epoch, setup):
        rows.append(
            {"name": name, "label": label, "key": key, "epoch": epoch, "setup": setup}
        )

    epoch, setup = epoch_time_by_difference(
        ours_for_timing(random_state), X, y, n_epochs, repeats, budget
    )
    add(
        "SoftmaxSGDClassifier(batch_size=256)",
        "SoftmaxSGDClassifier",
        "ours",
        epoch,
        setup,
    )
    auto_fit, _ = min_time(
        lambda: quiet_fit(
            SoftmaxSGDClassifier(
                max_iter=1, tol=None, batch_size=BATCH_SIZE, random_state=random_state
            ),
            X,
            y,
        ),
        1,
        budget,
    )
    add(
        "  the same with eta0='auto' (setup only)",
        None,
        "ours_auto",
        None,
        max(auto_fit - rows[0]["epoch"], 0.0),
    )
    epoch, setup = epoch_time_by_difference(
        ours_for_timing(random_state, shuffle="blocks"),
        X,
        y,
        n_epochs,
        repeats,
        budget,
    )
    add(
        "SoftmaxSGDClassifier(batch_size=256, shuffle='blocks')",
        "SoftmaxSGDClassifier, shuffle='blocks'",
        "ours_blocks",
        epoch,
        setup,
    )
    add(
        "BLAS floor: X @ W + X.T @ G, default BLAS threads",
        "BLAS floor",
        "floor",
        blas_floor(X, n_classes),
        None,
    )
    add(
        "BLAS floor, 1 BLAS thread",
        "BLAS floor, 1 thread",
        "floor1",
        blas_floor(X, n_classes, n_threads=1),
        None,
    )
    peers = [
        (
            "MLPClassifier(hidden_layer_sizes=(), solver='sgd', batch_size=256)",
            "MLPClassifier",
            "mlp",
            mlp_for_timing(random_state),
        ),
        (
            "SGDClassifier(loss='log_loss')",
            "SGDClassifier",
            "sgd",
            sgd_for_timing(random_state),
        ),
    ]
    for name, label, key, make_estimator in peers:
        epoch, setup = epoch_time_by_difference(
            make_estimator, X, y, n_epochs, repeats, budget
        )
        add(name, label, key, epoch, setup)
    if with_torch:
        import torch

        for n_threads in sorted({1, torch.get_num_threads()}):
            threads = f"{n_threads} thread{'s' if n_threads > 1 else ''}"
            epoch, fraction = torch_epoch_time(
                X, y, n_classes, n_threads, repeats, budget, random_state
            )
            cut = "" if fraction == 1 else f" (from {100 * fraction:.0f} % of an epoch)"
            add(
                f"PyTorch {torch.__version__} loop, batch 256, {threads}{cut}",
                f"PyTorch, {threads}",
                f"torch{n_threads}",
                epoch,
                None,
            )
    return rows


def default_estimators(random_state):
    """Section 2's contenders: ``(name, key, make_estimator)``.

    ``make_estimator()`` gives the defaults, ``make_estimator(max_iter)`` the
    defaults truncated at ``max_iter`` iterations.
    """

    def maker(cls, **params):
        def make(max_iter=None):
            extra = {} if max_iter is None else {"max_iter": max_iter}
            return cls(**params, **extra)

        return make

    return [
        (
            "SoftmaxSGDClassifier()",
            "ours",
            maker(SoftmaxSGDClassifier, random_state=random_state),
        ),
        (
            "SoftmaxSGDClassifier(shuffle='blocks')",
            "ours_blocks",
            maker(SoftmaxSGDClassifier, shuffle="blocks", random_state=random_state),
        ),
        ("LogisticRegression()", "lbfgs", maker(LogisticRegression)),
        (
            "LogisticRegression(solver='saga')",
            "saga",
            maker(LogisticRegression, solver="saga", random_state=random_state),
        ),
        (
            "MLPClassifier(hidden_layer_sizes=())",
            "mlp",
            maker(MLPClassifier, hidden_layer_sizes=(), random_state=random_state),
        ),
        (
            "SGDClassifier(loss='log_loss')",
            "sgd",
            maker(SGDClassifier, loss="log_loss", random_state=random_state),
        ),
    ]


def accuracy_curve(make_estimator, X, y, X_test, y_test, n_iter_default, budget):
    """Fit time and held-out accuracy after 1, 2, 4, ... iterations.

    Each point is a separate fit truncated at ``max_iter`` (every contender
    is seeded, so a truncated fit is a prefix of the default one). Stops
    before ``n_iter_default``, or when the next point, taking about twice
    the last, would bring the total over ``budget`` seconds.

    Returns
    -------
    points : list of (float, float, int)
        ``(fit_time, accuracy, max_iter)``.
    """
    points, spent, last_time, max_iter = [], 0.0, 0.0, 1
    while max_iter < n_iter_default and spent + 2 * last_time <= budget:
        start = time.perf_counter()
        estimator = quiet_fit(make_estimator(max_iter), X, y)
        last_time = time.perf_counter() - start
        spent += last_time
        points.append((last_time, estimator.score(X_test, y_test), max_iter))
        max_iter *= 2
    return points


def bench_time_to_accuracy(X, y, X_test, y_test, config, *, random_state):
    """Section 2: default fits, their time and held-out accuracy, with curves.

    Returns
    -------
    rows : list of dict
        ``name``, ``key``, ``fit_time``, ``n_iter``, ``accuracy``, ``curve``
        (``(fit_time, accuracy, max_iter)`` points, the default fit last) and
        ``time_to_target`` (None when never within the slack of
        LogisticRegression()'s accuracy).
    """
    rows = []
    for name, key, make_estimator in default_estimators(random_state):
        fit_time, estimator = min_time(
            lambda make_estimator=make_estimator: quiet_fit(make_estimator(), X, y),
            config["repeats"],
            config["repeat_budget"],
        )
        accuracy = estimator.score(X_test, y_test)
        n_iter = n_iterations(estimator)
        curve = accuracy_curve(
            make_estimator, X, y, X_test, y_test, n_iter, config["curve_budget"]
        )
        curve.append((fit_time, accuracy, n_iter))
        rows.append(
            {
                "name": name,
                "key": key,
                "fit_time": fit_time,
                "n_iter": n_iter,
                "accuracy": accuracy,
                "curve": curve,
            }
        )
    lbfgs = next(row for row in rows if row["key"] == "lbfgs")
    target = lbfgs["accuracy"] - ACCURACY_SLACK
    for row in rows:
        reached = [t for t, accuracy, _ in row["curve"] if accuracy >= target]
        row["time_to_target"] = min(reached) if reached else None
    return rows


def bench_sparse(X, y, config, *, random_state):
    """Section 3: per-epoch time on CSR data, ours against SGDClassifier.

    Ours with its default ``momentum="auto"``, which is plain SGD for
    minibatches: its updates touch only the columns of each batch; and
    with ``shuffle="blocks"`` (no gather of the batch's rows). All are
    timed by difference over ``config["epochs"]`` epochs, alternately, so
    that a slow spell of a shared machine does not fall on one of them only.
    """
    repeats, budget, n_epochs = (
        config["repeats"],
        config["repeat_budget"],
        config["epochs"],
    )
    estimators = [
        (
            "SoftmaxSGDClassifier(batch_size=256), default "
            f"momentum={SoftmaxSGDClassifier().momentum!r} (plain SGD)",
            "ours",
            ours_for_timing(random_state),
        ),
        (
            "SoftmaxSGDClassifier(batch_size=256, shuffle='blocks')",
            "ours_blocks",
            ours_for_timing(random_state, shuffle="blocks"),
        ),
        ("SGDClassifier(loss='log_loss')", "sgd", sgd_for_timing(random_state)),
    ]
    best = {}
    for _ in range(repeats):
        for name, key, make_estimator in estimators:
            epoch, setup = epoch_time_by_difference(
                make_estimator, X, y, n_epochs, 1, budget
            )
            if key not in best or epoch < best[key]["epoch"]:
                best[key] = {"name": name, "key": key, "epoch": epoch, "setup": setup}
    return [best[key] for _, key, _ in estimators]


def exact_fit_time(make_estimator, max_iter, X, y):
    """Seconds of one ``fit`` that must run exactly ``max_iter`` epochs."""
    estimator = make_estimator(max_iter)
    start = time.perf_counter()
    quiet_fit(estimator, X, y)
    seconds = time.perf_counter() - start
    check_epochs(estimator, max_iter)
    return seconds


def bench_scaling(X_pool, y_pool, n_classes, sizes, config, *, random_state):
    """Section 4: our epoch time for growing n, and its deviation from linear.

    Every size is timed over about the same number of rows (more epochs for
    smaller n), so each difference is equally far above the timing noise.
    The sizes take turns, round after round (``scaling_rounds`` rounds of a
    1-epoch and a ``1 + k``-epoch fit each, some 3 s a round), and each keeps
    its best times: a slow spell of a shared machine then falls on every size
    alike instead of on whichever one it was timing.
    """
    make_estimator = ours_for_timing(random_state)
    n_epochs = {n: max(1, config["epochs"] * max(sizes) // n) for n in sizes}
    best = {}
    for _ in range(config["scaling_rounds"]):
        for n_samples in sizes:
            X, y = X_pool[:n_samples], y_pool[:n_samples]
            for max_iter in (1, 1 + n_epochs[n_samples]):
                seconds = exact_fit_time(make_estimator, max_iter, X, y)
                key = (n_samples, max_iter)
                best[key] = min(best.get(key, math.inf), seconds)
    rows = []
    for n_samples in sizes:
        k = n_epochs[n_samples]
        rows.append(
            {
                "n_samples": n_samples,
                "epoch": max(best[n_samples, 1 + k] - best[n_samples, 1], 0.0) / k,
                "n_epochs": k,
                "floor": blas_floor(X_pool[:n_samples], n_classes, n_threads=1),
            }
        )
    n = np.array([row["n_samples"] for row in rows], dtype=float)
    epoch_times = np.array([row["epoch"] for row in rows])
    # Least-squares line through the origin: epoch time = slope * n.
    slope = float(epoch_times @ n / (n @ n))
    for row in rows:
        # (With --quick's tiny data every difference of fits can drown in
        # the timing noise and be clipped to 0: then there is no line.)
        row["deviation"] = (
            row["epoch"] / (slope * row["n_samples"]) - 1.0 if slope > 0 else math.nan
        )
    return rows


def peak_extra_memory(func):
    """Peak bytes allocated during ``func()`` beyond what was live before it.

    numpy reports its buffers to tracemalloc, so every array is counted.
    """
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        func()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(peak - before, 0)


def data_bytes(X):
    """Bytes of a dense array or of a CSR matrix's three arrays."""
    if sparse.issparse(X):
        return X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    return X.nbytes


def bench_memory(X, y, X_sparse, y_sparse, *, random_state):
    """Section 5: peak extra memory of fit as a multiple of ``X.nbytes``."""
    make_ours = ours_for_timing(random_state)
    cases = [
        (
            "SoftmaxSGDClassifier(max_iter=2), otherwise defaults",
            "ours",
            X,
            y,
            lambda: SoftmaxSGDClassifier(max_iter=2, random_state=random_state),
        ),
        (
            "SoftmaxSGDClassifier(max_iter=2, eta0=0.01): no step-size setup",
            "ours_loop",
            X,
            y,
            lambda: make_ours(2),
        ),
        (
            "LogisticRegression(max_iter=2)",
            "lbfgs",
            X,
            y,
            lambda: LogisticRegression(max_iter=2),
        ),
        (
            "MLPClassifier(hidden_layer_sizes=(), max_iter=1)",
            "mlp",
            X,
            y,
            lambda: MLPClassifier(
                hidden_layer_sizes=(), max_iter=1, random_state=random_state
            ),
        ),
        (
            "SGDClassifier(loss='log_loss', max_iter=1)",
            "sgd",
            X,
            y,
            lambda: SGDClassifier(
                loss="log_loss", max_iter=1, random_state=random_state
            ),
        ),
    ]
    if X_sparse is not None:
        cases += [
            (
                "SoftmaxSGDClassifier(max_iter=1), sparse data of section 3",
                "ours_sparse",
                X_sparse,
                y_sparse,
                lambda: SoftmaxSGDClassifier(max_iter=1, random_state=random_state),
            ),
        ]
    rows = []
    for name, key, data, labels, make_estimator in cases:
        extra = peak_extra_memory(
            lambda make_estimator=make_estimator, data=data, labels=labels: quiet_fit(
                make_estimator(), data, labels
            )
        )
        rows.append(
            {"name": name, "key": key, "extra": extra, "nbytes": data_bytes(data)}
        )
    return rows


# ------------------------------------------------------------ reporting


def markdown_table(headers, rows):
    """A GitHub-flavoured markdown table of the cells' strings."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def milliseconds(value):
    """A time in ms for the tables; '-' for None."""
    return "-" if value is None else f"{value * 1e3:.1f}"


def seconds(value):
    """A time in s for the tables; '-' for None."""
    return "-" if value is None else f"{value:.2f}"


def ratio(numerator, denominator):
    """``numerator / denominator`` to two decimals; '-' when undefined."""
    if numerator is None or denominator is None or denominator <= 0:
        return "-"
    return f"{numerator / denominator:.2f}"


def git_commit():
    """Short commit of the sksoftmax checkout, '+dirty' if changed, or 'no git'."""
    folder = str(Path(__file__).resolve().parent)
    try:
        commit, status = (
            subprocess.run(
                ["git", "-C", folder, *command],
                capture_output=True,
                text=True,
                check=True,
                timeout=10,
            ).stdout.strip()
            for command in (
                ["rev-parse", "--short", "HEAD"],
                ["status", "--porcelain", "--", "."],
            )
        )
    except (OSError, subprocess.SubprocessError):
        return "no git"
    return commit + ("+dirty" if status else "")


def environment_lines(with_torch):
    """Date, versions, CPUs and BLAS thread pools: what the numbers depend on."""
    versions = [f"sksoftmax {__version__} (commit {git_commit()})"]
    packages = ["numpy", "scipy", "scikit-learn"] + (["torch"] if with_torch else [])
    for package in packages:
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    pools = sorted(
        {
            f"{pool.get('internal_api')} {pool.get('version') or ''} "
            f"{pool.get('architecture') or ''} with {pool.get('num_threads')} threads"
            for pool in threadpool_info()
        }
    )
    return [
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"- versions: {', '.join(versions)}",
        f"- thread pools: {'; '.join(' '.join(pool.split()) for pool in pools)}",
        f"- OPENBLAS_CORETYPE: {os.environ.get('OPENBLAS_CORETYPE', 'unset')}",
        f"- load average at start (1, 5, 15 min): {load_average()}",
    ]


def load_average():
    """The system's load averages, to judge how shared the CPUs were."""
    try:
        return ", ".join(f"{load:.2f}" for load in os.getloadavg())
    except (AttributeError, OSError):
        return "unknown"


def dense_table(rows, n_steps):
    """Markdown table of section 1."""
    floor = next(row["epoch"] for row in rows if row["key"] == "floor")
    ours = next(row["epoch"] for row in rows if row["key"] == "ours")
    table = []
    for row in rows:
        per_step = (
            "-"
            if row["epoch"] is None or row["key"].startswith("floor")
            else f"{row['epoch'] / n_steps * 1e6:.0f}"
        )
        table.append(
            (
                row["name"],
                milliseconds(row["epoch"]),
                per_step,
                ratio(row["epoch"], floor),
                ratio(row["epoch"], ours),
                milliseconds(row["setup"]),
            )
        )
    return markdown_table(
        [
            "method",
            "epoch (ms)",
            "per step (µs)",
            "x BLAS floor",
            "x ours",
            "one-off setup (ms)",
        ],
        table,
    )


def accuracy_table(rows):
    """Markdown table of section 2."""
    lbfgs = next(row["fit_time"] for row in rows if row["key"] == "lbfgs")
    table = [
        (
            row["name"],
            seconds(row["fit_time"]),
            row["n_iter"],
            f"{100 * row['accuracy']:.2f}",
            seconds(row["time_to_target"]),
            ratio(row["fit_time"], lbfgs),
        )
        for row in rows
    ]
    return markdown_table(
        [
            "estimator (defaults)",
            "fit time (s)",
            "iterations",
            "held-out accuracy (%)",
            "time to LR accuracy - 0.5 pt (s)",
            "fit time x LR",
        ],
        table,
    )


def curve_lines(rows):
    """One markdown list item per estimator: its accuracy curve, point by point."""
    return [
        f"- {row['name']}: "
        + ", ".join(
            f"{max_iter}: {100 * accuracy:.2f} % ({fit_time:.2f} s)"
            for fit_time, accuracy, max_iter in row["curve"]
        )
        for row in rows
    ]


def sparse_table(rows, n_steps):
    """Markdown table of section 3."""
    sgd = next(row["epoch"] for row in rows if row["key"] == "sgd")
    table = [
        (
            row["name"],
            milliseconds(row["epoch"]),
            f"{row['epoch'] / n_steps * 1e6:.0f}",
            ratio(row["epoch"], sgd),
            milliseconds(row["setup"]),
        )
        for row in rows
    ]
    return markdown_table(
        [
            "method",
            "epoch (ms)",
            "per 256 rows (µs)",
            "x SGDClassifier",
            "one-off setup (ms)",
        ],
        table,
    )


def scaling_table(rows):
    """Markdown table of section 4."""
    table = [
        (
            f"{row['n_samples']:,}",
            row["n_epochs"],
            milliseconds(row["epoch"]),
            f"{row['epoch'] / row['n_samples'] * 1e9:.0f}",
            ratio(row["epoch"], row["floor"]),
            f"{100 * row['deviation']:+.1f}",
        )
        for row in rows
    ]
    return markdown_table(
        [
            "n_samples",
            "epochs timed",
            "epoch (ms)",
            "per row (ns)",
            "x 1-thread BLAS floor",
            "deviation from linear (%)",
        ],
        table,
    )


def memory_table(rows):
    """Markdown table of section 5."""
    table = [
        (
            row["name"],
            f"{row['extra'] / 2**20:.1f}",
            f"{row['nbytes'] / 2**20:.1f}",
            ratio(row["extra"], row["nbytes"]),
        )
        for row in rows
    ]
    return markdown_table(
        ["fit", "peak extra memory (MiB)", "X.nbytes (MiB)", "x X.nbytes"], table
    )


# Our rows that have a target row each: (result key, how the target names it).
OURS_SETTINGS = [("ours", ""), ("ours_blocks", ", with shuffle='blocks'")]


def target_rows(results):
    """The issue's targets, each ``(target, measured, met)``, where measured."""
    rows = []

    def add(target, measured, met):
        rows.append((target, measured, "yes" if met else "**no**"))

    dense = {row["key"]: row["epoch"] for row in results.get("dense", [])}
    if dense:
        ours = dense["ours"]
        for key, setting in OURS_SETTINGS:
            if key in dense:
                epoch = dense[key]
                add(
                    f"dense epoch <= 2.0 x BLAS floor{setting}",
                    f"{ratio(epoch, dense['floor'])} x "
                    f"({ratio(epoch, dense['floor1'])} x the 1-thread floor)",
                    epoch <= 2.0 * dense["floor"],
                )
        add(
            "dense epoch >= 2x faster than MLPClassifier",
            f"{ratio(dense['mlp'], ours)}x faster",
            dense["mlp"] >= 2 * ours,
        )
        torch_times = [epoch for key, epoch in dense.items() if key.startswith("torch")]
        if torch_times:
            add(
                "dense epoch faster than the PyTorch loop (its best thread count)",
                f"{ratio(min(torch_times), ours)}x faster",
                ours < min(torch_times),
            )
    if "accuracy" in results:
        by_key = {row["key"]: row for row in results["accuracy"]}
        ours, lbfgs = by_key["ours"], by_key["lbfgs"]
        gap = ours["accuracy"] - lbfgs["accuracy"]
        add(
            "defaults within 0.5 pt of LR's accuracy in less time than LR's fit",
            f"{100 * gap:+.2f} pt in {ours['fit_time']:.2f} s; "
            f"LR: {lbfgs['fit_time']:.2f} s",
            gap >= -ACCURACY_SLACK and ours["fit_time"] < lbfgs["fit_time"],
        )
    sparse_epochs = {row["key"]: row["epoch"] for row in results.get("sparse", [])}
    if sparse_epochs:
        sgd = sparse_epochs["sgd"]
        for key, setting in OURS_SETTINGS:
            if key in sparse_epochs:
                epoch = sparse_epochs[key]
                add(
                    f"sparse epoch faster than SGDClassifier{setting}",
                    f"{ratio(epoch, sgd)} x its time",
                    epoch < sgd,
                )
    memory = {row["key"]: row for row in results.get("memory", [])}
    if memory:
        extra, nbytes = memory["ours"]["extra"], memory["ours"]["nbytes"]
        add(
            "peak extra memory of fit <= 0.25 x X.nbytes",
            f"{ratio(extra, nbytes)} x",
            extra <= 0.25 * nbytes,
        )
    if "scaling" in results:
        worst = max(abs(row["deviation"]) for row in results["scaling"])
        add("epoch time linear in n within 10 %", f"{100 * worst:.1f} %", worst <= 0.10)
    return rows


def plot_curves(axes, rows):
    """Held-out accuracy against fit time, one line per estimator."""
    lbfgs_accuracy = next(row["accuracy"] for row in rows if row["key"] == "lbfgs")
    for row in rows:
        points = sorted(row["curve"])
        axes.plot(
            [point[0] for point in points],
            [100 * point[1] for point in points],
            marker="o",
            label=row["name"],
            linewidth=2.5 if row["key"] == "ours" else 1.2,
        )
    axes.axhline(
        100 * (lbfgs_accuracy - ACCURACY_SLACK),
        color="grey",
        linestyle="--",
        linewidth=0.8,
        label="LogisticRegression() accuracy - 0.5 pt",
    )
    axes.set_ylim(100 * lbfgs_accuracy - 10, 100 * lbfgs_accuracy + 2)
    axes.set_xscale("log")
    axes.set_xlabel("fit time (s), log scale")
    axes.set_ylabel("held-out accuracy (%)")
    axes.set_title(
        "Time to accuracy: fits truncated at 1, 2, 4, ... iterations, "
        "then the defaults",
        fontsize="medium",
    )
    axes.legend(fontsize="small", loc="lower right")


def plot_epoch_times(axes, rows):
    """Horizontal bars of the dense per-epoch times."""
    rows = [row for row in rows if row["epoch"] is not None]
    axes.barh([row["label"] for row in rows], [1e3 * row["epoch"] for row in rows])
    axes.invert_yaxis()
    axes.set_xlabel("time per epoch (ms)")
    axes.set_title("Dense per-epoch time, batch_size=256", fontsize="medium")


def save_plot(results, path):
    """Save the time-to-accuracy curves and the epoch times as a PNG.

    matplotlib is imported here only: it is an optional dependency.

    Returns
    -------
    path : Path or None
        Where the PNG went; None when matplotlib is not installed.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return None
    panels = [key for key in ("accuracy", "dense") if key in results]
    if not panels:
        return None
    figure = Figure(figsize=(6 * len(panels), 4.8), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(panels)))
    for ax, key in zip(axes, panels, strict=True):
        (plot_curves if key == "accuracy" else plot_epoch_times)(ax, results[key])
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path


# ------------------------------------------------------------------ main


def build_parser():
    """The command line of ``benchmarks/bench_peers.py``."""
    parser = argparse.ArgumentParser(
        prog="bench_peers",
        description="SoftmaxSGDClassifier against LogisticRegression, SGDClassifier, "
        "MLPClassifier and PyTorch: per-epoch time, time to accuracy, sparse data, "
        "scaling in n, peak memory. Prints markdown tables and saves a PNG.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny data and one repeat: a smoke run of seconds",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path("."),
        help="folder for bench_peers.png (default: .)",
    )
    parser.add_argument(
        "--skip-torch",
        action="store_true",
        help="leave out the PyTorch loop even when torch is installed",
    )
    parser.add_argument("--no-plot", action="store_true", help="save no PNG")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=SECTIONS,
        default=list(SECTIONS),
        metavar="SECTION",
        help=f"run only these of {', '.join(SECTIONS)} (default: all)",
    )
    parser.add_argument(
        "--random-state",
        type=int,
        default=0,
        help="seed of the data and of the estimators (default: 0)",
    )
    return parser


def print_header(args, config, with_torch, X, X_test, n_classes):
    """What was run, on what, and how it was timed."""
    print("# sksoftmax benchmark against peers" + (" (--quick)" if args.quick else ""))
    print()
    if args.quick:
        print("--quick: tiny data, one run each; the numbers only show that it runs.\n")
    print("\n".join(environment_lines(with_torch)))
    if not with_torch:
        print(
            "- PyTorch: "
            + (
                "skipped (--skip-torch)"
                if args.skip_torch
                else "not installed, its rows are left out"
            )
        )
    dense = config["dense"]
    print(
        f"- dense data: make_classification, {X.shape[0]:,} training and "
        f"{X_test.shape[0]:,} held-out rows, {X.shape[1]} features "
        f"({dense['n_informative']} informative, {dense['n_redundant']} redundant), "
        f"{n_classes} classes, standardised, float32 ({X.nbytes / 2**20:.1f} MiB)"
    )
    print(
        f"- timing: time.perf_counter, best of up to {config['repeats']} runs; "
        f"per-epoch time = (fit with 1 + k epochs - fit with 1 epoch) / k, "
        f"k = {config['epochs']} (tol=None; ours with eta0={TIMING_ETA0}: the loop "
        "costs the same for any step), so one-off setup is left out and shown apart"
    )


def run_sections(args, config, with_torch):
    """Run and print the chosen sections; returns their results by name."""
    random_state, sections, results = args.random_state, set(args.only), {}
    n_classes = config["dense"]["n_classes"]
    # The pool is drawn at full size whatever the sections, so that the
    # training part (its first rows) is the same data in every run.
    X_pool, y_pool, X_test, y_test = make_dense_data(
        **config["dense"], n_pool=max(config["scaling"]), random_state=random_state
    )
    n_train = config["dense"]["n_train"]
    X, y = X_pool[:n_train], y_pool[:n_train]
    print_header(args, config, with_torch, X, X_test, n_classes)

    if "dense" in sections:
        results["dense"] = bench_dense_epochs(
            X, y, n_classes, config, with_torch=with_torch, random_state=random_state
        )
        n_steps = -(-n_train // BATCH_SIZE)
        print(f"\n## 1. Dense per-epoch time, batch_size=256, {n_steps} steps\n")
        print(dense_table(results["dense"], n_steps))
    if "accuracy" in sections:
        results["accuracy"] = bench_time_to_accuracy(
            X, y, X_test, y_test, config, random_state=random_state
        )
        print("\n## 2. Time to accuracy with default parameters\n")
        print(accuracy_table(results["accuracy"]))
        print(
            f"\nFit time: best of up to {config['repeats']} fits (fewer for fits "
            f"over {config['repeat_budget'] / 2:g} s). Time to LR accuracy: the "
            "fastest fit, among those truncated at 1, 2, 4, ... iterations and the "
            "default one, whose held-out accuracy is within 0.5 point of "
            "LogisticRegression()'s."
        )
        print("\nHeld-out accuracy after max_iter iterations (fit time):\n")
        print("\n".join(curve_lines(results["accuracy"])))
    X_sparse = y_sparse = None
    if sections & {"sparse", "memory"}:
        X_sparse, y_sparse = make_sparse_data(
            **config["sparse"], random_state=random_state
        )
    if "sparse" in sections:
        results["sparse"] = bench_sparse(
            X_sparse, y_sparse, config, random_state=random_state
        )
        n_samples, n_features = X_sparse.shape
        print(
            f"\n## 3. Sparse CSR per-epoch time: {n_samples:,} rows, {n_features:,} "
            f"features, {X_sparse.nnz / n_samples:.1f} non-zeros per row, "
            f"{config['sparse']['n_classes']} classes, float64\n"
        )
        print(sparse_table(results["sparse"], -(-n_samples // BATCH_SIZE)))
    if "scaling" in sections:
        results["scaling"] = bench_scaling(
            X_pool,
            y_pool,
            n_classes,
            config["scaling"],
            config,
            random_state=random_state,
        )
        print("\n## 4. Scaling: our dense epoch time against n, batch_size=256\n")
        print(scaling_table(results["scaling"]))
        print(
            "\nDeviation: from the least-squares line through the origin. Each "
            f"size: its best fits over {config['scaling_rounds']} rounds in which "
            "the sizes take turns."
        )
    if "memory" in sections:
        results["memory"] = bench_memory(
            X, y, X_sparse, y_sparse, random_state=random_state
        )
        print("\n## 5. Peak memory of fit (tracemalloc), beyond X itself\n")
        print(memory_table(results["memory"]))
    return results


def main(argv=None):
    """Run the benchmark: ``python benchmarks/bench_peers.py [options]``.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success.
    """
    args = build_parser().parse_args(argv)
    config = QUICK if args.quick else FULL
    with_torch = not args.skip_torch and importlib.util.find_spec("torch") is not None
    started = time.perf_counter()
    results = run_sections(args, config, with_torch)
    print("\n## Targets\n")
    print(markdown_table(["target", "measured", "met"], target_rows(results)))
    if not args.no_plot:
        path = save_plot(results, args.out_dir / "bench_peers.png")
        print(
            "\nPlot: "
            + (
                f"saved to {path}"
                if path is not None
                else "skipped (matplotlib is not installed)"
            )
        )
    print(
        f"\nTotal benchmark time: {time.perf_counter() - started:.0f} s; load "
        f"average at the end: {load_average()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
