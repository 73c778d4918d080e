"""Fallbacks for the oldest scikit-learn this package supports (1.6)."""

import numpy as np
from scipy import sparse
from sklearn.utils._array_api import _convert_to_numpy

try:  # scikit-learn >= 1.9
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # pragma: no cover - exercised by the lowest-versions CI job

    def check_same_namespace(X, estimator, *, attribute, method):
        """No-op: scikit-learn < 1.9 does not check fit and predict namespaces."""


try:  # scikit-learn >= 1.8
    from sklearn.utils._array_api import move_to
except ImportError:  # pragma: no cover - exercised by the lowest-versions CI job

    def move_to(*arrays, xp, device):
        """Move arrays to ``xp`` on ``device`` (None and sparse pass through)."""
        moved = tuple(
            array
            if array is None or sparse.issparse(array)
            else xp.asarray(array, device=device)
            for array in arrays
        )
        return moved[0] if len(moved) == 1 else moved


try:  # scikit-learn >= 1.7 vendors array-api-compat
    from sklearn.externals.array_api_compat import array_namespace
    from sklearn.externals.array_api_compat import device as array_device
except ImportError:  # pragma: no cover - exercised by the lowest-versions CI job
    try:  # scikit-learn 1.6 uses the package where it is installed
        from array_api_compat import array_namespace
        from array_api_compat import device as array_device
    except ImportError:  # and without it supports numpy arrays only

        def array_namespace(*arrays):
            """Stand-in without array-api-compat: nothing is an array API array."""
            raise TypeError("array-api-compat is not installed")

        def array_device(array):
            return "cpu"


def to_numpy(array):
    """``array`` as a numpy array on the CPU, from any namespace and device
    (and any other array-like), whether or not scikit-learn's array API
    dispatch is on (with it off, scikit-learn takes every array for
    numpy's, and ``np.asarray`` fails on a GPU)."""
    try:
        xp = array_namespace(array)
    except TypeError:  # an array-like: a pandas Series, a range, ...
        return np.asarray(array)
    return _convert_to_numpy(array, xp)


def namespace_and_device(array):
    """The names of the namespace and device ``array`` lives in (whatever
    scikit-learn's dispatch setting); CSR matrices count as numpy's."""
    if sparse.issparse(array):
        return "numpy", "cpu"
    try:
        name = array_namespace(array).__name__
    except TypeError:
        return "numpy", "cpu"
    return name.rpartition("array_api_compat.")[2], str(array_device(array))


__all__ = [
    "array_device",
    "array_namespace",
    "check_same_namespace",
    "move_to",
    "namespace_and_device",
    "to_numpy",
]
