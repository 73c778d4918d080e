"""Default SoftmaxSGDClassifier vs default LogisticRegression: accuracy and fit time.

Every classification data set bundled with scikit-learn, plus synthetic
problems of varied size, conditioning and class count, each standardised
(StandardScaler fitted on the training part).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_defaults.py [--quick] [--splits N]

With ``--splits N`` it also prints, for the data sets under 10,000 rows,
the accuracy gap to LogisticRegression over N stratified splits (seeds 0
to N-1, our model seeded alike): its mean and its worst.
"""

import argparse
import time
import warnings

from _common import print_environment
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier


def datasets(quick):
    for load in (load_iris, load_wine, load_breast_cancer, load_digits):
        yield load.__name__.removeprefix("load_"), load(return_X_y=True)
    problems = [
        (2_000, 20, 3, 1.0),
        (20_000, 50, 10, 1.0),
        (20_000, 50, 10, 0.3),
        (5_000, 200, 30, 1.0),
    ]
    if not quick:
        problems.append((100_000, 100, 10, 1.0))
    for n_samples, n_features, n_classes, class_sep in problems:
        X, y = make_classification(
            n_samples=n_samples,
            n_features=n_features,
            n_informative=n_features // 2,
            n_classes=n_classes,
            n_clusters_per_class=1,
            class_sep=class_sep,
            random_state=0,
        )
        name = f"synthetic n={n_samples} d={n_features} k={n_classes} sep={class_sep}"
        yield name, (X, y)


def timed(estimator, X, y, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        estimator.fit(X, y)
        best = min(best, time.perf_counter() - start)
    return best


def split(X, y, seed):
    """A stratified quarter held out, standardised on the training part."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def accuracy_gaps(X, y, n_splits):
    """LogisticRegression's held-out accuracy minus ours, in points, per split."""
    gaps = []
    for seed in range(n_splits):
        X_train, X_test, y_train, y_test = split(X, y, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reference = LogisticRegression().fit(X_train, y_train)
            ours = SoftmaxSGDClassifier(random_state=seed).fit(X_train, y_train)
        gaps.append(
            100 * (reference.score(X_test, y_test) - ours.score(X_test, y_test))
        )
    return gaps


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the largest problem")
    parser.add_argument(
        "--splits",
        type=int,
        default=0,
        metavar="N",
        help="also the accuracy gap over N splits of the data sets under 10,000 rows",
    )
    args = parser.parse_args(argv)
    print_environment("Default SoftmaxSGDClassifier against default LogisticRegression")
    print("| dataset | accuracy LR | accuracy ours | fit LR (s) | fit ours (s) |")
    print("|---|---|---|---|---|")
    for name, (X, y) in datasets(args.quick):
        X_train, X_test, y_train, y_test = split(X, y, 0)
        repeats = 5 if len(y) < 10_000 else 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            reference = LogisticRegression()
            time_reference = timed(reference, X_train, y_train, repeats)
            ours = SoftmaxSGDClassifier(random_state=0)
            time_ours = timed(ours, X_train, y_train, repeats)
        print(
            f"| {name} | {reference.score(X_test, y_test):.4f} "
            f"| {ours.score(X_test, y_test):.4f} | {time_reference:.3f} "
            f"| {time_ours:.3f} |"
        )
    if not args.splits:
        return
    print(f"\nAccuracy of LogisticRegression minus ours over {args.splits} splits:\n")
    print("| dataset | mean gap (points) | worst gap (points) |")
    print("|---|---|---|")
    for name, (X, y) in datasets(quick=True):
        if len(y) < 10_000:
            gaps = accuracy_gaps(X, y, args.splits)
            print(f"| {name} | {sum(gaps) / len(gaps):+.2f} | {max(gaps):+.2f} |")


if __name__ == "__main__":
    main()
