"""Convergence of SoftmaxSGDClassifier's defaults against LogisticRegression's optimum.

For each data set and alpha, LogisticRegression(C=1/(alpha n), tol=1e-10) gives
the optimum f* of the objective that both minimise; the table shows the
objective our default solver reaches, the gap to f*, our fit time, and the time
LogisticRegression takes with its default tolerance. The last two columns are
scikit-learn's own stochastic solver on the same objective,
LogisticRegression(solver="saga") with its defaults (compiled, variance
reduced): where it is far from f* too, no first-order stochastic method is near
it in that time. Between them, ours with ``momentum=0.9`` (Nesterov, restarted
when the objective rises) instead of the default plain SGD: the one setting
that takes small data sets, trained in a few minibatches per epoch, closest to
f*.

With ``--budget`` it prints instead, for the two small data sets (digits,
breast_cancer), the closest to f* that each of several settings of ours gets
within LogisticRegression's default fit time, and within ten times it: the
defaults with ever smaller ``tol``, and averaging, momentum and full-batch
steps run for 1, 2, 4, ... epochs. It shows whether any setting, not only the
defaults, reaches the 0.5 % bar in that time.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_convergence.py [--quick] [--budget]
"""

import argparse
import math
import time
import warnings

import numpy as np
from _common import print_environment
from sklearn.datasets import load_breast_cancer, load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier, softmax_loss


def objective(coef, intercept, X, y, alpha):
    """Our objective at a fitted model's coefficients (binary: row 0 pinned at 0)."""
    if coef.shape[0] == 1:
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.r_[0.0, intercept]
    return softmax_loss(coef, intercept, X, y, alpha=alpha)[0]


def datasets(quick):
    yield "digits", load_digits(return_X_y=True)
    yield "breast_cancer", load_breast_cancer(return_X_y=True)
    sizes = (
        [(1_000, 3), (10_000, 10)]
        if quick
        else [(1_000, 3), (10_000, 10), (100_000, 30)]
    )
    for n_samples, n_classes in sizes:
        X, y = make_classification(
            n_samples=n_samples,
            n_features=50,
            n_informative=20,
            n_classes=n_classes,
            n_clusters_per_class=1,
            random_state=0,
        )
        yield f"synthetic n={n_samples} k={n_classes}", (X, y)


def timed_fit(estimator, X, y, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        estimator.fit(X, y)
        times.append(time.perf_counter() - start)
    return estimator, min(times)


# --budget: settings of ours, each run with growing effort: the defaults with
# ever smaller tol, the others for 1, 2, 4, ... epochs (tol=None).
TOL_SWEEP = "defaults, tol 1e-3 to 1e-8"
EPOCH_SETTINGS = {
    "average=True": {"average": True},
    "momentum=0.9": {"momentum": 0.9},
    "full batch": {"batch_size": 10**9},
    "full batch, momentum=0.9": {"batch_size": 10**9, "momentum": 0.9},
}
MAX_EPOCHS = 4096


def efforts(setting):
    """The fits of one --budget setting, from least to most work."""
    if setting == TOL_SWEEP:
        for exponent in range(3, 9):
            yield {"tol": 10.0**-exponent}
        return
    max_iter = 1
    while max_iter <= MAX_EPOCHS:
        yield {"tol": None, "max_iter": max_iter, **EPOCH_SETTINGS[setting]}
        max_iter *= 2


def effort_label(params):
    """How a --budget fit was run: its tol, or its epochs."""
    if params.get("tol") is not None:
        return f"tol {params['tol']:.0e}"
    return f"{params['max_iter']} ep"


def best_gaps_in_budget(setting, X, y, alpha, f_star, time_reference):
    """Least gap of ``setting`` in 1x and in 10x LogisticRegression's time.

    Returns a table cell: "gap % (fit) / gap %", "-" where no fit was as fast.
    """
    within, within_ten = (math.inf, "-"), math.inf
    for params in efforts(setting):
        estimator = SoftmaxSGDClassifier(alpha=alpha, random_state=0, **params)
        estimator, seconds = timed_fit(estimator, X, y, 1)
        if seconds <= 2 * time_reference:  # near the line: the best of three fits
            seconds = min(seconds, timed_fit(estimator, X, y, 2)[1])
        f = objective(estimator.coef_, estimator.intercept_, X, y, alpha)
        gap = 100 * (f - f_star) / f_star
        if seconds <= time_reference and gap < within[0]:
            within = (gap, effort_label(params))
        if seconds <= 10 * time_reference:
            within_ten = min(within_ten, gap)
        else:
            break  # every later fit does more work
    first = "-" if math.isinf(within[0]) else f"{within[0]:.1f} ({within[1]})"
    second = "-" if math.isinf(within_ten) else f"{within_ten:.1f}"
    return f"{first} / {second}"


def budget(alphas):
    """The --budget table."""
    settings = [TOL_SWEEP, *EPOCH_SETTINGS]
    print(
        "Least gap to f* (%) within LogisticRegression's fit time (the fit that "
        "got it) / within ten times it; -: no fit was that fast\n"
    )
    print("| dataset | alpha | f* | time LR (ms) | " + " | ".join(settings) + " |")
    print("|---" * (4 + len(settings)) + "|")
    for name, (X, y) in [
        ("digits", load_digits(return_X_y=True)),
        ("breast_cancer", load_breast_cancer(return_X_y=True)),
    ]:
        X = StandardScaler().fit_transform(X)
        for alpha in alphas:
            C = 1.0 / (alpha * X.shape[0])
            optimum = LogisticRegression(C=C, tol=1e-10, max_iter=100_000).fit(X, y)
            f_star = objective(optimum.coef_, optimum.intercept_, X, y, alpha)
            _, time_reference = timed_fit(LogisticRegression(C=C), X, y, 3)
            cells = [
                best_gaps_in_budget(setting, X, y, alpha, f_star, time_reference)
                for setting in settings
            ]
            print(
                f"| {name} | {alpha:g} | {f_star:.5f} | {1e3 * time_reference:.1f} | "
                + " | ".join(cells)
                + " |",
                flush=True,
            )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    parser.add_argument("--alphas", type=float, nargs="+", default=[1e-5, 1e-4, 1e-3])
    parser.add_argument(
        "--budget",
        action="store_true",
        help="the least gap of several settings within LogisticRegression's time",
    )
    args = parser.parse_args(argv)
    print_environment(
        "Closest to f* within LogisticRegression's time"
        if args.budget
        else "SoftmaxSGDClassifier's defaults against LogisticRegression's optimum"
    )
    if args.budget:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            budget(args.alphas)
        return
    print(
        "| dataset | alpha | f* | ours | gap % | time ours (s) | time LR (s) "
        "| momentum=0.9: gap % | time (s) | SAGA gap % | time SAGA (s) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    worst_gap, slower = 0.0, 0
    for name, (X, y) in datasets(args.quick):
        X = StandardScaler().fit_transform(X)
        n_samples = X.shape[0]
        repeats = 3 if n_samples <= 20_000 else 1
        for alpha in args.alphas:
            C = 1.0 / (alpha * n_samples)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                optimum = LogisticRegression(C=C, tol=1e-10, max_iter=100_000).fit(X, y)
                reference, time_reference = timed_fit(
                    LogisticRegression(C=C), X, y, repeats
                )
                ours, time_ours = timed_fit(
                    SoftmaxSGDClassifier(alpha=alpha, random_state=0), X, y, repeats
                )
                momentum, time_momentum = timed_fit(
                    SoftmaxSGDClassifier(alpha=alpha, momentum=0.9, random_state=0),
                    X,
                    y,
                    repeats,
                )
                saga, time_saga = timed_fit(
                    LogisticRegression(C=C, solver="saga", random_state=0), X, y, 1
                )
            f_star = objective(optimum.coef_, optimum.intercept_, X, y, alpha)
            f_ours = objective(ours.coef_, ours.intercept_, X, y, alpha)
            gap = 100 * (f_ours - f_star) / f_star
            f_momentum = objective(momentum.coef_, momentum.intercept_, X, y, alpha)
            gap_momentum = 100 * (f_momentum - f_star) / f_star
            f_saga = objective(saga.coef_, saga.intercept_, X, y, alpha)
            gap_saga = 100 * (f_saga - f_star) / f_star
            worst_gap = max(worst_gap, gap)
            slower += time_ours > time_reference
            print(
                f"| {name} | {alpha:g} | {f_star:.5f} | {f_ours:.5f} | {gap:.3f} | "
                f"{time_ours:.3f} | {time_reference:.3f} | {gap_momentum:.3f} | "
                f"{time_momentum:.3f} | {gap_saga:.3f} | "
                f"{time_saga:.3f} |"
            )
    print(
        f"\nworst gap: {worst_gap:.3f} %; "
        f"slower than LogisticRegression in {slower} rows"
    )


if __name__ == "__main__":
    main()
