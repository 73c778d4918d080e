"""GPU check: the same SoftmaxSGDClassifier fit on torch CUDA and on numpy CPU.

Fits a 1 000 000 x 256, 32-class float32 problem for 3 epochs on both, checks
the two models agree (held-out accuracy within 0.5 point), and prints both
times and the speed-up (target: at least 20x over the 2-core CPU fit).

    SCIPY_ARRAY_API=1 python benchmarks/gpu_check.py [--n-samples N]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy/sklearn are imported

import numpy as np  # noqa: E402
from sklearn import config_context  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from sksoftmax import SoftmaxSGDClassifier  # noqa: E402


def make_problem(n_samples, n_features, n_classes, seed=0):
    """A linearly separable-ish float32 problem with a known generating model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), dtype=np.float32)
    true_coef = rng.standard_normal((n_classes, n_features), dtype=np.float32) / 4
    logits = X @ true_coef.T + rng.gumbel(size=(n_samples, n_classes)).astype(
        np.float32
    )
    return X, logits.argmax(axis=1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--n-features", type=int, default=256)
    parser.add_argument("--n-classes", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cpu-threads", type=int, default=2)
    args = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 2
    X, y = make_problem(args.n_samples, args.n_features, args.n_classes)
    n_test = min(100_000, args.n_samples // 10)
    X_train, y_train, X_test, y_test = X[n_test:], y[n_test:], X[:n_test], y[:n_test]
    params = dict(max_iter=args.epochs, tol=None, random_state=0)

    # The CPU baseline is this project's 2-core machine: limit BLAS to 2 threads
    # even where the GPU host has more cores.
    with threadpool_limits(limits=args.cpu_threads):
        start = time.perf_counter()
        cpu = SoftmaxSGDClassifier(**params).fit(X_train, y_train)
        cpu_time = time.perf_counter() - start
    cpu_accuracy = cpu.score(X_test, y_test)

    X_gpu, y_gpu = (
        torch.asarray(X_train, device="cuda"),
        torch.asarray(y_train, device="cuda"),
    )
    with config_context(array_api_dispatch=True):
        SoftmaxSGDClassifier(max_iter=1, tol=None, random_state=0).fit(
            X_gpu[:10_000], y_gpu[:10_000]
        )  # warm-up: CUDA context and kernels
        torch.cuda.synchronize()
        start = time.perf_counter()
        gpu = SoftmaxSGDClassifier(**params).fit(X_gpu, y_gpu)
        torch.cuda.synchronize()
        gpu_time = time.perf_counter() - start
        predictions = gpu.predict(torch.asarray(X_test, device="cuda"))
    gpu_accuracy = float((predictions.cpu().numpy() == y_test).mean())
    assert gpu.coef_.device.type == "cuda" and gpu.coef_.dtype == torch.float32

    print(
        f"| fit ({args.epochs} epochs, {len(y_train)} x {args.n_features}, "
        f"{args.n_classes} classes, float32) | time (s) | held-out accuracy |"
    )
    print("|---|---|---|")
    print(
        f"| numpy, CPU ({args.cpu_threads} threads) "
        f"| {cpu_time:.2f} | {cpu_accuracy:.4f} |"
    )
    print(
        f"| torch, {torch.cuda.get_device_name()} "
        f"| {gpu_time:.2f} | {gpu_accuracy:.4f} |"
    )
    speedup = cpu_time / gpu_time
    agree = abs(cpu_accuracy - gpu_accuracy) <= 0.005
    print(
        f"\nspeed-up {speedup:.1f}x (target >= 20x); accuracies agree within 0.5 "
        f"point: {agree}"
    )
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
