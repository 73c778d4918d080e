"""Time one training epoch of SoftmaxSGDClassifier, for paired comparisons.

Prints the environment header (the BLAS kernel in use), then the seconds of
one epoch as the last number, by difference of fits (best of ``--repeats``
fits of 1 and of 1 + ``--epochs`` epochs; see ``_common.epoch_time_by_difference``).
The data are the peer benchmark's: dense 200,000 x 100 float32 with 10
classes, or CSR 100,000 x 2**18 with 50 nonzeros a row and 20 classes.

It is the measurement behind "no slower than before" claims: run it on two
source trees in alternating pairs, for example with the shared
``paired_timing.py``::

    PYTHONPATH=/path/to/old/tree python benchmarks/bench_epoch.py dense
    PYTHONPATH=. python benchmarks/bench_epoch.py dense

(``PYTHONPATH`` selects the ``sksoftmax`` a run imports; the script's own
folder comes first on the path, so run it from the new tree's ``benchmarks/``.)
Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset.
"""

import argparse

from _common import (
    epoch_time_by_difference,
    make_dense_data,
    make_sparse_data,
    ours_for_timing,
    print_environment,
)

import sksoftmax


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=["dense", "sparse"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print_environment(
        f"One epoch, {args.kind}", details=[f"- sksoftmax: {sksoftmax.__file__}"]
    )
    if args.kind == "dense":
        X, y, _, _ = make_dense_data(200_000, 1, 100, 50, 10, 10)
    else:
        X, y = make_sparse_data(100_000, 2**18, 50, 20)
    epoch, setup = epoch_time_by_difference(
        ours_for_timing(0), X, y, args.epochs, args.repeats, budget=60.0
    )
    print(f"setup seconds: {setup:.6f}")
    print(f"epoch seconds: {epoch:.6f}")


if __name__ == "__main__":
    main()
