"""SoftmaxSGDClassifier against its peers: epoch time, time to accuracy, memory.

Prints markdown tables and saves bench_peers.png (when matplotlib is installed)::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_peers.py [--quick] [--out-dir DIR] [--skip-torch]

``--help`` lists the options; docs/benchmarks.rst explains what is measured.
"""

import argparse
import importlib.util
import math
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from _common import (
    BATCH_SIZE,
    TIMING_ETA0,
    blas_floor,
    check_epochs,
    epoch_time_by_difference,
    load_average,
    make_dense_data,
    make_sparse_data,
    markdown_table,
    min_time,
    n_iterations,
    ours_for_timing,
    print_environment,
    quiet_fit,
)
from _peers_report import (
    ACCURACY_SLACK,
    accuracy_table,
    curve_lines,
    dense_table,
    memory_table,
    save_plot,
    scaling_table,
    sparse_table,
    target_rows,
)
from scipy import sparse
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neural_network import MLPClassifier

from sksoftmax import SoftmaxSGDClassifier

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
    # Ten epochs and the best of three runs: an epoch of this data takes less
    # than a millisecond, and the difference of two fits must stand above the
    # noise of their setup for the quick run's times to be positive.
    "scaling": (500, 1_000, 2_000),
    "scaling_rounds": 2,
    "epochs": 10,
    "repeats": 3,
    "repeat_budget": 1.0,
    "curve_budget": 1.0,
}


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


def dense_row(name, label, key, epoch, setup=None):
    """One row of section 1; ``label`` names it in the plot (None: not plotted)."""
    return {"name": name, "label": label, "key": key, "epoch": epoch, "setup": setup}


def torch_rows(X, y, n_classes, config, *, random_state):
    """Section 1's PyTorch rows: on one thread and on torch's default threads."""
    import torch

    rows = []
    for n_threads in sorted({1, torch.get_num_threads()}):
        threads = f"{n_threads} thread{'s' if n_threads > 1 else ''}"
        epoch, fraction = torch_epoch_time(
            X,
            y,
            n_classes,
            n_threads,
            config["repeats"],
            config["repeat_budget"],
            random_state,
        )
        cut = "" if fraction == 1 else f" (from {100 * fraction:.0f} % of an epoch)"
        name = f"PyTorch {torch.__version__} loop, batch 256, {threads}{cut}"
        rows.append(dense_row(name, f"PyTorch, {threads}", f"torch{n_threads}", epoch))
    return rows


def bench_dense_epochs(X, y, n_classes, config, *, with_torch, random_state):
    """Section 1: per-epoch time at batch_size=256 on dense float32 data.

    Returns
    -------
    rows : list of dict
        One per method: ``name``, ``label`` (for the plot), ``key``, ``epoch``
        and ``setup`` in seconds (None where not measured).
    """

    def by_difference(make_estimator):
        return epoch_time_by_difference(
            make_estimator,
            X,
            y,
            config["epochs"],
            config["repeats"],
            config["repeat_budget"],
        )

    ours = dense_row(
        "SoftmaxSGDClassifier(batch_size=256)",
        "SoftmaxSGDClassifier",
        "ours",
        *by_difference(ours_for_timing(random_state)),
    )
    auto = SoftmaxSGDClassifier(
        max_iter=1, tol=None, batch_size=BATCH_SIZE, random_state=random_state
    )
    auto_fit, _ = min_time(lambda: quiet_fit(auto, X, y), 1, config["repeat_budget"])
    rows = [
        ours,
        dense_row(
            "  the same with eta0='auto' (setup only)",
            None,
            "ours_auto",
            None,
            max(auto_fit - ours["epoch"], 0.0),
        ),
        dense_row(
            "SoftmaxSGDClassifier(batch_size=256, shuffle='blocks')",
            "SoftmaxSGDClassifier, shuffle='blocks'",
            "ours_blocks",
            *by_difference(ours_for_timing(random_state, shuffle="blocks")),
        ),
        dense_row(
            "BLAS floor: X @ W + X.T @ G, default BLAS threads",
            "BLAS floor",
            "floor",
            blas_floor(X, n_classes),
        ),
        dense_row(
            "BLAS floor, 1 BLAS thread",
            "BLAS floor, 1 thread",
            "floor1",
            blas_floor(X, n_classes, n_threads=1),
        ),
        dense_row(
            "MLPClassifier(hidden_layer_sizes=(), solver='sgd', batch_size=256)",
            "MLPClassifier",
            "mlp",
            *by_difference(mlp_for_timing(random_state)),
        ),
        dense_row(
            "SGDClassifier(loss='log_loss')",
            "SGDClassifier",
            "sgd",
            *by_difference(sgd_for_timing(random_state)),
        ),
    ]
    if with_torch:
        rows += torch_rows(X, y, n_classes, config, random_state=random_state)
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
        help="tiny data, few repeats: a run of seconds that shows it works",
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
    details = []
    if not with_torch:
        reason = "skipped (--skip-torch)" if args.skip_torch else "not installed"
        details.append(f"- PyTorch: {reason}, its rows are left out")
    dense = config["dense"]
    details += [
        f"- dense data: make_classification, {X.shape[0]:,} training and "
        f"{X_test.shape[0]:,} held-out rows, {X.shape[1]} features "
        f"({dense['n_informative']} informative, {dense['n_redundant']} redundant), "
        f"{n_classes} classes, standardised, float32 ({X.nbytes / 2**20:.1f} MiB)",
        f"- timing: time.perf_counter, best of up to {config['repeats']} runs; "
        f"per-epoch time = (fit with 1 + k epochs - fit with 1 epoch) / k, "
        f"k = {config['epochs']} (tol=None; ours with eta0={TIMING_ETA0}: the loop "
        "costs the same for any step), so one-off setup is left out and shown apart",
    ]
    title = "sksoftmax benchmark against peers" + (" (--quick)" if args.quick else "")
    print_environment(title, ["torch"] if with_torch else [], details)
    if args.quick:
        print("--quick: tiny data, few runs; the numbers only show that it works.")


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
