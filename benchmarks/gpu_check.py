"""GPU check: the same SoftmaxSGDClassifier fit on torch CUDA and on numpy CPU.

Fits a 1 000 000 x 256, 32-class float32 problem for 3 epochs on both, for
each ``--batch-size`` given, checks the two models agree (held-out accuracy
within 0.5 point; with "auto", which takes larger batches on a GPU, the GPU's
at most 0.5 point lower), and prints both times and the speed-up (target: at
least 20x over the 2-core CPU fit).

    SCIPY_ARRAY_API=1 env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        python benchmarks/gpu_check.py [--n-samples N]
"""

import argparse
import os
import sys
import time

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy/sklearn are imported

import numpy as np  # noqa: E402
from _common import print_environment  # noqa: E402
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


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=1_000_000)
    parser.add_argument("--n-features", type=int, default=256)
    parser.add_argument("--n-classes", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cpu-threads", type=int, default=2)
    parser.add_argument(
        "--device", default="cuda", help="torch device (cpu: a dry run of the script)"
    )
    parser.add_argument(
        "--batch-size",
        nargs="+",
        default=["auto"],
        type=lambda value: value if value == "auto" else int(value),
        help="batch_size values to compare (default: the estimator's 'auto')",
    )
    return parser


def compare(batch_size, data, args, synchronize):
    """Fit on the CPU and on the device; print their row; True if they agree."""
    import torch

    X_train, y_train, X_test, y_test, X_gpu, y_gpu, X_test_gpu = data
    params = dict(max_iter=args.epochs, tol=None, random_state=0, batch_size=batch_size)
    # The CPU baseline is this project's 2-core machine: limit BLAS to 2
    # threads even where the GPU host has more cores.
    with threadpool_limits(limits=args.cpu_threads):
        start = time.perf_counter()
        cpu = SoftmaxSGDClassifier(**params).fit(X_train, y_train)
        cpu_time = time.perf_counter() - start
    cpu_accuracy = cpu.score(X_test, y_test)

    with config_context(array_api_dispatch=True):
        synchronize()
        start = time.perf_counter()
        gpu = SoftmaxSGDClassifier(**params).fit(X_gpu, y_gpu)
        synchronize()
        gpu_time = time.perf_counter() - start
        predictions = gpu.predict(X_test_gpu)
        n_rows = len(y_train)
        gpu_batch_size = gpu._batch_size(n_rows, X_gpu)
    gpu_accuracy = float((predictions.cpu().numpy() == y_test).mean())
    device_type = torch.device(args.device).type
    assert gpu.coef_.device.type == device_type and gpu.coef_.dtype == torch.float32
    if batch_size == "auto":
        # "auto" takes larger batches on a GPU: the same or a better model
        # is expected, not the same one.
        agree = gpu_accuracy >= cpu_accuracy - 0.005
        batch_size = (
            f"auto (CPU {cpu._batch_size(n_rows, X_train)}, GPU {gpu_batch_size})"
        )
    else:
        agree = abs(cpu_accuracy - gpu_accuracy) <= 0.005
    print(
        f"| {batch_size} | {cpu_time:.2f} | {gpu_time:.2f} "
        f"| {cpu_time / gpu_time:.1f}x | {cpu_accuracy:.4f} | {gpu_accuracy:.4f} |"
    )
    return agree


def main(argv=None):
    args = build_parser().parse_args(argv)
    import torch

    device_type = torch.device(args.device).type
    if device_type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 2
    X, y = make_problem(args.n_samples, args.n_features, args.n_classes)
    n_test = min(100_000, args.n_samples // 10)
    X_train, y_train, X_test, y_test = X[n_test:], y[n_test:], X[:n_test], y[:n_test]
    X_gpu, y_gpu = (
        torch.asarray(X_train, device=args.device),
        torch.asarray(y_train, device=args.device),
    )
    X_test_gpu = torch.asarray(X_test, device=args.device)
    if device_type == "cuda":
        synchronize, device_name = torch.cuda.synchronize, torch.cuda.get_device_name()
    elif device_type == "cpu":
        synchronize, device_name = (lambda: None), "cpu"
    else:
        sys.exit(f"--device {args.device}: only cuda (or cpu, a dry run) is timed")
    with config_context(array_api_dispatch=True):
        SoftmaxSGDClassifier(max_iter=1, tol=None, random_state=0).fit(
            X_gpu[:10_000], y_gpu[:10_000]
        )  # warm-up: CUDA context and kernels

    print_environment("SoftmaxSGDClassifier on a GPU against the CPU", ["torch"])
    print(
        f"Fit: {args.epochs} epochs, {len(y_train)} x {args.n_features}, "
        f"{args.n_classes} classes, float32; CPU: numpy with {args.cpu_threads} "
        f"BLAS threads; GPU: torch on {device_name}.\n"
    )
    print(
        "| batch_size | CPU time (s) | GPU time (s) | speed-up "
        "| CPU accuracy | GPU accuracy |"
    )
    print("|---|---|---|---|---|---|")
    data = X_train, y_train, X_test, y_test, X_gpu, y_gpu, X_test_gpu
    all_agree = True
    for batch_size in args.batch_size:
        all_agree &= compare(batch_size, data, args, synchronize)
    print(
        "\nTarget: speed-up >= 20x. Accuracies agree within 0.5 point (with "
        f"'auto': the GPU's at most 0.5 point lower): {all_agree}"
    )
    return 0 if all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
