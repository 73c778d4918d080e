"""What the benchmark scripts share: data, timing, tables, the environment header.

The scripts run as ``python benchmarks/<script>.py``, which puts this folder
on ``sys.path``, so they import this module as ``_common``. Run them with
OpenBLAS free to pick its kernel for the CPU::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_peers.py

Every script prints :func:`environment_lines` first: the BLAS library and
kernel in use, with a warning when ``OPENBLAS_CORETYPE`` forces one.
"""

import importlib.metadata
import math
import os
import platform
import shlex
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler, normalize
from threadpoolctl import threadpool_info, threadpool_limits

import sksoftmax
from sksoftmax import SoftmaxSGDClassifier

BATCH_SIZE = 256
# A fixed, safe step for the per-epoch timings: the loop costs the same for any
# eta0, and eta0="auto" would add its one-off setup to every timed fit.
TIMING_ETA0 = 0.01
FLOOR_REPEATS = 10
# Environment variables that make OpenBLAS use another kernel, or other block
# sizes, than the ones it picks for the CPU it runs on.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


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


# ------------------------------------------------------------ reporting


def markdown_table(headers, rows):
    """A GitHub-flavoured markdown table of the cells' strings."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def three_digits(value, min_decimals):
    """``value`` with at least three significant digits and ``min_decimals``.

    A quick run's times are fractions of a millisecond: with a fixed number of
    decimals they would print as 0.0, and no ratio could be checked from them.
    """
    if value == 0 or not math.isfinite(value):
        return f"{value:.{min_decimals}f}"
    decimals = max(min_decimals, 2 - math.floor(math.log10(abs(value))))
    return f"{value:.{min(decimals, 9)}f}"


def milliseconds(value):
    """A time in ms for the tables; '-' for None."""
    return "-" if value is None else three_digits(value * 1e3, 1)


def seconds(value):
    """A time in s for the tables; '-' for None."""
    return "-" if value is None else three_digits(value, 2)


def ratio(numerator, denominator):
    """``numerator / denominator`` to two decimals; '-' when undefined."""
    if numerator is None or denominator is None or denominator <= 0:
        return "-"
    return f"{numerator / denominator:.2f}"


# ---------------------------------------------------------- environment


def git_commit():
    """Short commit of the sksoftmax checkout, '+dirty' if changed, or 'no git'."""
    folder = str(Path(sksoftmax.__file__).resolve().parent)
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


def blas_description(pool):
    """One BLAS library as threadpoolctl reports it: the kernel is its architecture."""
    return (
        f"{pool['internal_api']} {pool.get('version')} "
        f"({Path(pool['filepath']).parent.name}), "
        f"architecture {pool.get('architecture')}, {pool['num_threads']} threads"
    )


def openblas_override_warning():
    """A warning line when OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set; else None.

    With ``OPENBLAS_CORETYPE=Haswell`` on a CPU with AVX-512, OpenBLAS runs its
    Haswell kernels: the products are slower than this CPU's, and every time
    and ratio to the BLAS floor measures the setting, not the machine.
    """
    settings = [
        f"{name}={os.environ[name]}"
        for name in OPENBLAS_OVERRIDES
        if name in os.environ
    ]
    if not settings:
        return None
    unset = [word for name in OPENBLAS_OVERRIDES for word in ("-u", name)]
    command = shlex.join(["env", *unset, "python", *sys.argv])
    return (
        f"WARNING: {' '.join(settings)} is set, so OpenBLAS does not use the "
        f"kernel it would pick for this CPU; to measure this machine, run: {command}"
    )


def environment_lines(packages=()):
    """What the numbers depend on, as markdown list items.

    Date, CPUs, versions (numpy, scipy, scikit-learn and ``packages``), each
    BLAS library with the kernel it runs (threadpoolctl's ``internal_api``,
    ``version``, ``architecture``, ``num_threads``), the other thread pools,
    the OpenBLAS settings and the load average.
    """
    versions = [f"sksoftmax {sksoftmax.__version__} (commit {git_commit()})"]
    for package in ["numpy", "scipy", "scikit-learn", *packages]:
        try:
            versions.append(f"{package} {importlib.metadata.version(package)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{package} not installed")
    pools = threadpool_info()
    blas = [blas_description(pool) for pool in pools if pool["user_api"] == "blas"]
    others = [
        f"{pool['internal_api']} ({Path(pool['filepath']).parent.name}), "
        f"{pool['num_threads']} threads"
        for pool in pools
        if pool["user_api"] != "blas"
    ]
    settings = [
        f"{name} {os.environ.get(name, 'unset')}" for name in OPENBLAS_OVERRIDES
    ]
    return [
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"- versions: {', '.join(versions)}",
        f"- BLAS: {'; '.join(blas) or 'none loaded'}",
        f"- other thread pools: {'; '.join(others) or 'none'}",
        f"- OpenBLAS settings: {', '.join(settings)}",
        f"- load average at start (1, 5, 15 min): {load_average()}",
    ]


def print_environment(title, packages=(), details=()):
    """Print the header of every script.

    The title, the warning of :func:`openblas_override_warning` when it
    applies, then :func:`environment_lines` and the script's own ``details``
    (more list items: the data, the timing), then a blank line.
    """
    print(f"# {title}\n")
    warning = openblas_override_warning()
    if warning:
        print(f"{warning}\n")
    print("\n".join([*environment_lines(packages), *details]))
    print()


def load_average():
    """The system's load averages, to judge how shared the CPUs were."""
    try:
        return ", ".join(f"{load:.2f}" for load in os.getloadavg())
    except (AttributeError, OSError):
        return "unknown"
