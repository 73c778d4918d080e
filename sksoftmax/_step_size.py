"""eta0="auto": the step sizes of minibatch SGD estimated from the data."""

import math

import numpy as np
from scipy import sparse
from sklearn.utils._array_api import _convert_to_numpy, get_namespace_and_device


def _product(matrix, vector):
    """``matrix @ vector`` as a float64 numpy vector, for any array namespace.

    The power iteration runs on the host: only vectors cross to the device.
    """
    if sparse.issparse(matrix) or isinstance(matrix, np.ndarray):
        # In the matrix's dtype: a float64 vector would upcast a float32 X.
        return np.asarray(
            matrix @ vector.astype(matrix.dtype), dtype=np.float64
        ).ravel()
    xp, _, device = get_namespace_and_device(matrix)
    result = matrix @ xp.asarray(vector, dtype=matrix.dtype, device=device)
    return np.asarray(_convert_to_numpy(result, xp), dtype=np.float64)


def _row_norms_sq(X, chunk_rows=65536):
    """Squared row norms as float64 numpy, with no (n_samples, n_features) temporary."""
    if sparse.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
    if isinstance(X, np.ndarray):
        return np.einsum("ij,ij->i", X, X, dtype=np.float64)
    xp = get_namespace_and_device(X)[0]
    chunks = []
    for start in range(0, X.shape[0], chunk_rows):
        block = X[start : min(start + chunk_rows, X.shape[0]), ...]
        chunks.append(_convert_to_numpy(xp.sum(block * block, axis=1), xp))
    return np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0)


# The power iteration uses at most this many rows: the top eigenvalue of a
# second-moment matrix is estimated well from a random subset, at a fixed cost.
MAX_POWER_ITERATION_ROWS = 16384


def _power_iteration_rows(X, relative_weight):
    """X and its weights, or a fixed random subset of the weighted rows."""
    weighted_rows = np.flatnonzero(relative_weight > 0)
    if len(weighted_rows) <= MAX_POWER_ITERATION_ROWS:
        return X, relative_weight
    rows = np.sort(
        np.random.RandomState(0).choice(
            weighted_rows, MAX_POWER_ITERATION_ROWS, replace=False
        )
    )
    weight = relative_weight[rows]
    if sparse.issparse(X) or isinstance(X, np.ndarray):
        return X[rows], weight / weight.sum()
    xp, _, device = get_namespace_and_device(X)
    return xp.take(X, xp.asarray(rows, device=device), axis=0), weight / weight.sum()


def _max_abs(X):
    """The largest absolute entry of X (dense in any namespace, or CSR) as a float."""
    if sparse.issparse(X) or isinstance(X, np.ndarray):
        return max(float(X.max()), -float(X.min()))
    xp = get_namespace_and_device(X)[0]
    return max(float(xp.max(X)), -float(xp.min(X)))


def _top_eigenvalue(X, relative_weight, feature_scale, with_ones, n_iterations=20):
    """Largest eigenvalue of the weighted second moment of ``[X * feature_scale, 1]``.

    A power iteration from a fixed start vector: deterministic, cheap (two
    products with X per iteration, never a Gram matrix), and identical for
    integer weights and repeated rows up to rounding. It approaches the
    eigenvalue from below.
    """
    n_features = X.shape[1]
    v_coef = np.cos(np.arange(1, n_features + 1, dtype=np.float64))
    v_ones = 1.0 if with_ones else 0.0
    eigenvalue = 0.0
    for _ in range(n_iterations):
        norm = math.sqrt(float(v_coef @ v_coef) + v_ones**2)
        if norm == 0.0:
            break
        v_coef /= norm
        v_ones /= norm
        u = _product(X, feature_scale * v_coef) + v_ones
        u *= relative_weight
        v_coef = feature_scale * _product(X.T, u)
        v_ones = float(u.sum()) if with_ones else 0.0
        eigenvalue = math.sqrt(float(v_coef @ v_coef) + v_ones**2)
    return eigenvalue


# Up to this many features the step size comes from the exact eigenvalue of
# the (n_features + 1) square second-moment matrix, formed in one pass over
# the rows: for small data that costs a fraction of the power iteration's 80
# products (each a numpy call), and it is exact rather than a lower bound.
GRAM_MAX_FEATURES = 128
# On a GPU the power iteration's cost is its ~80 waits for the device (each
# product's result comes back to the host), while the matrix is one pass of
# kernels and its eigenvalue takes milliseconds on the host up to 512 + 1.
GRAM_MAX_FEATURES_ACCELERATOR = 512
GRAM_CHUNK_ROWS = 1024  # rows per block of the one pass: a temporary <= 1 MiB


def _second_moments(X, relative_weight, magnitude):
    """``Z^T W Z`` and ``Z^T w`` of ``Z = X / magnitude``, float64 numpy.

    Formed block by block of rows (no temporary of X's size), in the
    namespace of X and summed there; only the small results come back to
    the host, once.
    """
    n_features = X.shape[1]
    if sparse.issparse(X) or isinstance(X, np.ndarray):
        xp, device = np, None
        gram = np.zeros((n_features, n_features))
        first = np.zeros(n_features)
    else:
        # X's dtype (some devices have no float64), on X's device.
        xp, _, device = get_namespace_and_device(X)
        gram = xp.zeros((n_features, n_features), dtype=X.dtype, device=device)
        first = xp.zeros(n_features, dtype=X.dtype, device=device)
    for start in range(0, X.shape[0], GRAM_CHUNK_ROWS):
        stop = min(start + GRAM_CHUNK_ROWS, X.shape[0])
        weight = relative_weight[start:stop]
        if sparse.issparse(X):
            block = X[start:stop].astype(np.float64) / magnitude
            first += np.asarray(block.T @ weight).ravel()
            # (sparse.diags: diags_array needs scipy >= 1.11.)
            scaled = sparse.diags(np.sqrt(weight)) @ block
            gram += (scaled.T @ scaled).toarray()
            continue
        block = X[start:stop, ...]
        if xp is np:
            block = block.astype(np.float64)
        else:
            weight = xp.asarray(weight, dtype=block.dtype, device=device)
        block = block / magnitude
        first += block.T @ weight
        # Z^T W Z = (sqrt(W) Z)^T (sqrt(W) Z), the weighting done in place.
        block *= xp.sqrt(weight)[:, None]
        gram += block.T @ block
    if xp is not np:
        gram = np.asarray(_convert_to_numpy(gram, xp), dtype=np.float64)
        first = np.asarray(_convert_to_numpy(first, xp), dtype=np.float64)
    return gram, first


def _top_eigenvalue_function(X, relative_weight, magnitude, gram_max_features):
    """``top(feature_scale, with_ones)``: :func:`_top_eigenvalue` of X's rows.

    Exact, from the second moments, for up to ``gram_max_features`` features;
    by power iteration beyond.
    """
    if X.shape[1] > gram_max_features:
        return lambda feature_scale, with_ones: _top_eigenvalue(
            X, relative_weight, feature_scale, with_ones
        )
    gram, first = _second_moments(X, relative_weight, magnitude)

    def top(feature_scale, with_ones):
        if not (np.isfinite(gram).all() and np.isfinite(first).all()):
            return math.nan  # the caller falls back to the trace
        # [X f, 1] = [Z c, 1] with c = f * magnitude.
        c = feature_scale * magnitude
        if not with_ones:
            return float(np.linalg.eigvalsh(c * c * gram)[-1])
        n_features = len(first)
        moments = np.empty((n_features + 1, n_features + 1))
        moments[:n_features, :n_features] = c * c * gram
        moments[:n_features, -1] = moments[-1, :n_features] = c * first
        moments[-1, -1] = relative_weight.sum()
        return float(np.linalg.eigvalsh(moments)[-1])

    return top


def auto_step_sizes(
    X,
    sample_weight,
    fit_intercept,
    batch_size,
    alpha,
    *,
    n_samples,
    gram_max_features=GRAM_MAX_FEATURES,
):
    """Step sizes from the curvature of the softmax loss on this data.

    The Hessian of log-sum-exp is ``diag(p) - p p^T``, whose eigenvalues are at
    most 1/2 (Boehning 1992). So the loss of one row ``x`` has curvature at
    most ``||x||^2 / 2``, and the weighted mean over all rows at most
    ``lambda_max(X^T diag(s) X / S) / 2``.

    The weights and the intercept live on different scales (on unscaled data
    by orders of magnitude), so the problem is solved as if each row were
    ``[x / sqrt(c), 1]`` with ``c = lambda_max(X^T diag(s) X / S)``: one step
    size ``eta'`` for that well-scaled problem gives ``eta = eta' / c`` for
    ``coef`` and ``eta'`` (``c`` times more) for the intercept.

    For minibatches of ``b`` rows drawn from ``n``, ``eta' = 1 / L(b)`` with the
    expected smoothness of Gower et al. ("SGD: General Analysis and Improved
    Rates", ICML 2019)::

        L(b) = n (b - 1) / (b (n - 1)) * L_full + (n - b) / (b (n - 1)) * L_row

    which is ``L_full`` for full batches and ``L_row`` (the worst row) for
    single rows; the L2 penalty adds ``alpha / c``.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,)
    fit_intercept : bool
    batch_size : int
    alpha : float
        The L2 strength.
    n_samples : int
        Number of rows an epoch draws batches from (those of X that are
        used for training).
    gram_max_features : int, default=GRAM_MAX_FEATURES
        Up to this many features the top eigenvalue is exact, from the
        second-moment matrix; beyond, it comes from power iteration.

    Returns
    -------
    eta0 : float
        Step size for ``coef``.
    intercept_scale : float
        ``c``: the intercept's step is ``c * eta``.
    """
    relative_weight = (sample_weight / sample_weight.sum()).astype(np.float64)
    with np.errstate(over="ignore"):
        row_norms_sq = _row_norms_sq(X)
    if not np.isfinite(row_norms_sq).all():
        raise ValueError(
            f"eta0='auto' needs the squared norms of the rows of X, which "
            f"overflow float64 here (entries up to {_max_abs(X):.3g}): scale the "
            "features, for example with StandardScaler, or give eta0 a number."
        )
    # A minibatch's gradient weighs each row by s_i / mean(s) (see the
    # kernels' _batch_normaliser): the worst row's curvature is scaled alike.
    row_factor = sample_weight.astype(np.float64) * (n_samples / sample_weight.sum())
    weighted = row_factor > 0
    max_norm_sq = float((row_factor * row_norms_sq)[weighted].max(initial=0.0))

    X_power, weight_power = _power_iteration_rows(X, relative_weight)
    # The power iteration squares X twice: entries beyond 1e77 (or under
    # 1e-77) overflow (underflow) float64, so it runs on X / max|X|.
    magnitude = _max_abs(X_power) or 1.0
    # The mean squared row norm (the trace) bounds the eigenvalue from above,
    # and replaces it should a spurious floating-point flag of the BLAS (seen
    # rarely on small float32 data) make it NaN.
    trace = float(row_norms_sq @ relative_weight)
    with np.errstate(over="ignore", invalid="ignore"):
        top_eigenvalue = _top_eigenvalue_function(
            X_power, weight_power, magnitude, gram_max_features
        )
        # (magnitude * magnitude: a product overflows to inf, a power raises)
        scale = magnitude * magnitude * top_eigenvalue(1.0 / magnitude, with_ones=False)
    scale = min(scale, trace) if math.isfinite(scale) else trace
    if not scale > 0.0:
        scale = 1.0  # every weighted row is zero: nothing to rescale
    if fit_intercept:
        with np.errstate(over="ignore", invalid="ignore"):
            full = 0.5 * top_eigenvalue(1.0 / math.sqrt(scale), with_ones=True)
        if not math.isfinite(full):
            full = 0.5 * (trace / scale + 1.0)
        per_row = 0.5 * float(
            (row_factor * (row_norms_sq / scale + 1.0))[weighted].max(initial=0.0)
        )
    else:
        full, per_row = 0.5, 0.5 * max_norm_sq / scale
    full = max(full, 0.5 * (1.0 if fit_intercept else 1e-12))
    per_row = max(per_row, full)

    b = min(batch_size, n_samples)
    if n_samples <= 1 or b >= n_samples:
        smoothness = full
    else:
        smoothness = (n_samples * (b - 1) * full + (n_samples - b) * per_row) / (
            b * (n_samples - 1)
        )
    eta = 1.0 / (smoothness + alpha / scale)
    return eta / scale, scale
