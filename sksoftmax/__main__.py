"""``python -m sksoftmax``: the command line (see ``sksoftmax._cli``)."""

import sys

from sksoftmax._cli import main

if __name__ == "__main__":
    sys.exit(main())
