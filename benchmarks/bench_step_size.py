"""What ``eta0="auto"`` costs, against one epoch, at several shapes.

The setup estimates the step size from the data (``auto_step_sizes``): one
pass over all rows for their norms, and the top eigenvalue of the second
moment from a sample of rows. The target is at most ``max(one epoch, 2 ms)``.
Data: float32 standard normal features, a third of them sharing a common
factor (so that the top eigenvalue stands out, as in real data), 10 classes,
batches of 256. The epoch is plain SGD's (without the default momentum's
velocity update: the cheaper epoch, so the stricter target).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_step_size.py [--quick]
"""

import argparse

import numpy as np
from _common import (
    BATCH_SIZE,
    epoch_time_by_difference,
    markdown_table,
    milliseconds,
    min_time,
    ours_for_timing,
    print_environment,
    ratio,
)

from sksoftmax._step_size import auto_step_sizes

SHAPES = [
    (150, 4),
    (4_096, 32),
    (100_000, 32),
    (4_096, 128),
    (20_000, 128),
    (4_096, 784),
    (1_000, 3_072),
    (200_000, 100),
    (60_000, 784),
    (50_000, 3_072),
    (2_000_000, 100),
]
QUICK_SHAPES = [(150, 4), (4_096, 784), (20_000, 100)]
TARGET_FLOOR = 2e-3  # seconds


def make_data(n_samples, n_features, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    X[:, : n_features // 3] += rng.standard_normal((n_samples, 1), dtype=np.float32)
    y = rng.integers(0, 10, n_samples)
    return X, y


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small shapes only")
    args = parser.parse_args(argv)
    print_environment('eta0="auto" setup against one epoch')
    rows = []
    for n_samples, n_features in QUICK_SHAPES if args.quick else SHAPES:
        X, y = make_data(n_samples, n_features)
        weight = np.ones(n_samples)
        setup, _ = min_time(
            lambda X=X, weight=weight, n_samples=n_samples: auto_step_sizes(
                X,
                weight,
                True,
                min(BATCH_SIZE, n_samples),
                1e-4,
                n_samples=n_samples,
                random_state=0,
            ),
            repeats=7,
            budget=5.0,
        )
        epoch, _ = epoch_time_by_difference(
            ours_for_timing(0, learning_rate="constant", momentum=0.0),
            X,
            y,
            # (Enough epochs that the difference is not the setup's noise.)
            n_epochs=10,
            repeats=3,
            budget=20.0,
        )
        target = max(epoch, TARGET_FLOOR)
        rows.append(
            [
                f"{n_samples:,} x {n_features:,}",
                milliseconds(setup),
                milliseconds(epoch),
                ratio(setup, epoch),
                milliseconds(target),
                "yes" if setup <= target else "no",
            ]
        )
    print("\n## Setup of eta0='auto' (float32, batch 256)\n")
    headers = ["shape", "setup (ms)", "epoch (ms)", "setup / epoch"]
    print(markdown_table([*headers, "target (ms)", "met"], rows))


if __name__ == "__main__":
    main()
