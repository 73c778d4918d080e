"""How close to the BLAS floor can any numpy minibatch loop get?

The dense target of bench_peers.py is an epoch (batches of 256 rows) in at
most 2.0 x the BLAS floor: one ``X @ W`` plus one ``X.T @ G`` over all rows.
This script times the same data with the leanest numpy loop that still does
a step's work (gather the rows, logits, stable softmax, loss, ``P - Y``,
both gradients, the L2-decayed update): the estimator's fused softmax pass
(``_loss_and_logit_gradient``, about ten numpy calls) and the rest
written inline, with preallocated buffers and no estimator around it, and
with parts of it left out, so the floor of *any* numpy implementation of
the step can be read off. It takes
full batches only, draws each epoch's row permutation inside the timing
(where rows are gathered), and reads the blocks in their stored order (the
estimator also shuffles their order and offsets them by a random shift
each epoch, which costs little):

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/bench_minimal_loop.py [--quick]
"""

import argparse
import time

import numpy as np
from _common import (
    blas_floor,
    epoch_time_by_difference,
    make_dense_data,
    milliseconds,
    ours_for_timing,
    print_environment,
)
from threadpoolctl import threadpool_limits

from sksoftmax._loss import _flat_true_class, _loss_and_logit_gradient

BATCH = 256


def epoch(X, y, W, b, buffers, order, *, gather, softmax, update, eta=0.01, l2=1e-4):
    """One epoch of plain minibatch SGD; the flags leave parts of a step out."""
    X_batch, logits, grad_W, grad_b, samples, ones = buffers
    total = 0.0
    for start in range(0, len(y) - BATCH + 1, BATCH):
        if gather:
            rows = order[start : start + BATCH]
            xb = X.take(rows, axis=0, out=X_batch, mode="clip")
            yb = y.take(rows)
        else:  # contiguous blocks: X read in place
            xb, yb = X[start : start + BATCH], y[start : start + BATCH]
        np.matmul(W, xb.T, out=logits)
        if softmax:
            logits += b[:, np.newaxis]
            # The estimator's fused pass: loss, and P - Y over the batch,
            # shifted by the true class's logit, with its stable fallback.
            true_class = _flat_true_class(yb, BATCH, samples)
            loss = _loss_and_logit_gradient(
                logits, None, None, float(BATCH), true_class=true_class, fast=True
            )
            if loss is None:
                np.matmul(W, xb.T, out=logits)
                logits += b[:, np.newaxis]
                loss = _loss_and_logit_gradient(
                    logits, None, None, float(BATCH), true_class=true_class
                )
            total += loss
        np.matmul(xb.T, logits.T, out=grad_W.T)
        if update:
            np.matmul(logits, ones, out=grad_b)
            W *= 1.0 - eta * l2
            grad_W *= eta
            W -= grad_W
            grad_b *= eta
            b -= grad_b
    return total


def time_loops(X, y, n_classes, repeats, floors):
    """Print one table row per loop variant: its best epoch on 1 BLAS thread."""
    n_rows, n_features = X.shape
    W = np.zeros((n_classes, n_features), np.float32, order="F")
    b = np.zeros(n_classes, np.float32)
    buffers = (
        np.empty((BATCH, n_features), np.float32),
        np.empty((n_classes, BATCH), np.float32),
        np.empty((n_classes, n_features), np.float32, order="F"),
        np.empty(n_classes, np.float32),
        np.arange(BATCH),
        np.ones(BATCH, np.float32),
    )
    variants = [
        ("full step, rows gathered (the default's work)", True, True, True),
        ("full step, contiguous blocks (shuffle='blocks')", False, True, True),
        ("rows gathered, the two products only", True, False, False),
        ("contiguous blocks, the two products only", False, False, False),
    ]
    rng = np.random.RandomState(0)
    with threadpool_limits(1, user_api="blas"):
        for name, gather, softmax, update in variants:
            times = []
            W[...], b[...] = 0, 0
            for _ in range(repeats + 1):  # the first run warms up
                start = time.perf_counter()
                order = rng.permutation(n_rows) if gather else None
                loss = epoch(
                    X,
                    y,
                    W,
                    b,
                    buffers,
                    order,
                    gather=gather,
                    softmax=softmax,
                    update=update,
                )
                times.append(time.perf_counter() - start)
                assert np.isfinite(loss) and np.isfinite(W).all(), "diverged"
            print_row(name, min(times[1:] or times), n_rows // BATCH, floors)


def print_row(name, best, n_steps, floors):
    """A row of the table: epoch, time per step and the ratios to both floors."""
    floor, floor_1 = floors
    per_step = "—" if n_steps is None else f"{best / n_steps * 1e6:.0f}"
    print(
        f"| {name} | {milliseconds(best)} | {per_step} | {best / floor:.2f} "
        f"| {best / floor_1:.2f} |"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20,000 rows, 1 repeat")
    args = parser.parse_args(argv)
    n_rows, repeats = (20_000, 1) if args.quick else (200_000, 7)
    X, y, _, _ = make_dense_data(n_rows, 0, 100, 50, 10, 10, random_state=0)
    y = y.astype(np.intp)
    n_classes, n_steps = 10, n_rows // BATCH
    floors = blas_floor(X, n_classes), blas_floor(X, n_classes, n_threads=1)
    print_environment("The leanest numpy minibatch loop against the BLAS floor")
    print(
        f"{n_rows:,} rows x {X.shape[1]} float32 features, {n_classes} classes, "
        f"batches of {BATCH}; the loop on 1 BLAS thread, as the estimator's.\n"
    )
    print("| loop | epoch (ms) | per step (µs) | x floor | x 1-thread floor |")
    print("|---|---|---|---|---|")
    time_loops(X, y, n_classes, repeats, floors)
    # The estimator itself, for reference: the difference of a 4-epoch and a
    # 1-epoch fit over 3 (the same timing as bench_peers.py's).
    for shuffle, label in [(True, "rows"), ("blocks", "shuffle='blocks'")]:
        best, _ = epoch_time_by_difference(
            ours_for_timing(0, shuffle=shuffle), X, y, 3, max(repeats // 2, 1), np.inf
        )
        name = f"SoftmaxSGDClassifier(batch_size=256), {label}"
        print_row(name, best, n_steps, floors)
    print_row("BLAS floor, default threads", floors[0], None, floors)
    print_row("BLAS floor, 1 thread", floors[1], None, floors)


if __name__ == "__main__":
    main()
