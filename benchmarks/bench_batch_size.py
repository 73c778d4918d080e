"""Batches of 256 rows against the larger ones batch_size="auto" takes on a GPU.

On an accelerator "auto" is an eighth of the training rows, clamped to
[256, 16384] (see benchmarks/gpu_check.py for why). This script runs both
batch sizes with otherwise default settings on the CPU, where the algorithm
is the same, and prints held-out accuracy, epochs and update steps beside
LogisticRegression's accuracy: larger batches must reach the same accuracy
in far fewer steps, since on a GPU steps, not rows, cost the time.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_batch_size.py

With ``--cpu-sweep`` it measures instead the CPU trade-off that
``batch_size="auto"`` settles: for batches of 128 to 1,024 rows, the
default fit's time (best of 3), held-out accuracy and epochs.
"""

import argparse
import time
import warnings

import numpy as np
from _common import print_environment
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier
from sksoftmax._engine import auto_batch_size as _auto_batch_size


def datasets():
    yield "digits", load_digits(return_X_y=True)
    for n_samples, n_features, n_classes, class_sep in [
        (5_000, 50, 5, 1.0),
        (20_000, 50, 10, 0.3),
        (20_000, 50, 10, 1.0),
        (100_000, 100, 10, 1.0),
        (400_000, 100, 20, 0.5),
    ]:
        name = f"{n_samples:,} rows, {n_classes} classes, class_sep {class_sep}"
        yield (
            name,
            make_classification(
                n_samples,
                n_features,
                n_informative=n_features // 2,
                n_classes=n_classes,
                n_clusters_per_class=1,
                class_sep=class_sep,
                random_state=0,
            ),
        )


def split(X, y):
    """A stratified 30 % held out, standardised on the rest, float32."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train = scaler.transform(X_train).astype(np.float32)
    X_test = scaler.transform(X_test).astype(np.float32)
    return X_train, X_test, y_train, y_test


def cpu_sweep(batch_sizes=(128, 256, 512, 1024), repeats=3):
    print(
        "| data | training rows | "
        + " | ".join(f"batch {b}: time (s), accuracy, epochs" for b in batch_sizes)
        + " |"
    )
    print("|---|---|" + "---|" * len(batch_sizes))
    for name, (X, y) in datasets():
        X_train, X_test, y_train, y_test = split(X, y)
        cells = []
        for batch_size in batch_sizes:
            best = np.inf
            for _ in range(repeats):
                clf = SoftmaxSGDClassifier(batch_size=batch_size, random_state=0)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    clf.fit(X_train, y_train)
                best = min(best, time.perf_counter() - start)
            cells.append(f"{best:.3f}, {clf.score(X_test, y_test):.4f}, {clf.n_iter_}")
        print(f"| {name} | {len(y_train):,} | " + " | ".join(cells) + " |", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--cpu-sweep",
        action="store_true",
        help="fit time against batch size on the CPU",
    )
    cpu_sweep_only = parser.parse_args(argv).cpu_sweep
    print_environment(
        "Fit time against batch size on the CPU"
        if cpu_sweep_only
        else "Batches of 256 rows against the GPU's 'auto' batches, on the CPU"
    )
    if cpu_sweep_only:
        cpu_sweep()
        return
    print(
        "| data | training rows | LogisticRegression accuracy "
        "| batch 256: accuracy, epochs, steps "
        "| GPU 'auto' batch: rows, accuracy, epochs, steps |"
    )
    print("|---|---|---|---|---|")
    for name, (X, y) in datasets():
        X_train, X_test, y_train, y_test = split(X, y)
        reference = LogisticRegression(max_iter=1000).fit(X_train, y_train)
        cells = []
        gpu_batch_size = _auto_batch_size(len(y_train), on_accelerator=True)
        for batch_size in (256, gpu_batch_size):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf = SoftmaxSGDClassifier(batch_size=batch_size, random_state=0)
                clf.fit(X_train, y_train)
            cells.append(f"{clf.score(X_test, y_test):.4f}, {clf.n_iter_}, {clf.t_:,}")
        print(
            f"| {name} | {len(y_train):,} "
            f"| {reference.score(X_test, y_test):.4f} | {cells[0]} "
            f"| {gpu_batch_size:,}, {cells[1]} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
