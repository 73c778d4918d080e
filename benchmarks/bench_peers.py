"""SoftmaxSGDClassifier against its peers: epoch time, time to accuracy, memory.

Prints markdown tables and saves bench_peers.png (when matplotlib is installed)::

    python benchmarks/bench_peers.py [--quick] [--out-dir DIR] [--skip-torch]

The logic lives in ``sksoftmax._benchmark`` (also ``python -m sksoftmax bench``);
``--help`` lists the options. See docs/benchmarks.rst for the measured numbers.
"""

import sys

from sksoftmax._benchmark import main

if __name__ == "__main__":
    sys.exit(main())
