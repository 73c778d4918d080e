"""Fallbacks for the oldest scikit-learn this package supports (1.6)."""

from scipy import sparse

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


__all__ = ["check_same_namespace", "move_to"]
