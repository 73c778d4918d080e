"""eta0="auto": the step sizes of minibatch SGD estimated from the data."""

import math
from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state
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
        norms = np.asarray(X.multiply(X).sum(axis=1), dtype=np.float64).ravel()
        if not np.isfinite(norms).all() and X.dtype != np.float64:
            # float32 squares overflow from about 1e19: redo in float64.
            X = X.astype(np.float64)
            norms = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        return norms
    if isinstance(X, np.ndarray):
        # In X's own dtype (float32 stays float32: one pass at memory speed),
        # redone in float64 for the rows whose squares overflow it.
        norms = np.einsum("ij,ij->i", X, X).astype(np.float64, copy=False)
        overflowed = np.flatnonzero(~np.isfinite(norms))
        if len(overflowed):
            rows = X[overflowed]
            norms[overflowed] = np.einsum("ij,ij->i", rows, rows, dtype=np.float64)
        return norms
    xp = get_namespace_and_device(X)[0]
    chunks = []
    for start in range(0, X.shape[0], chunk_rows):
        block = X[start : min(start + chunk_rows, X.shape[0]), ...]
        chunks.append(_convert_to_numpy(xp.sum(block * block, axis=1), xp))
    return np.concatenate(chunks).astype(np.float64) if chunks else np.zeros(0)


# The top eigenvalue comes from at most this many rows, drawn at random: the
# eigenvalue of a second-moment matrix is estimated well from a sample (its
# relative standard error, measured on the sample, sets a safety margin), at
# a cost that does not grow with the number of rows. Wide dense rows are
# sampled fewer (down to SAMPLE_MIN_ROWS), so that a sample holds at most
# about SAMPLE_ENTRIES entries: the power iteration's 40 products then read
# a few megabytes each, whatever the width.
SAMPLE_ROWS = 4096
SAMPLE_MIN_ROWS = 1024
SAMPLE_ENTRIES = 2**22
SAMPLE_SMALL_ROWS = 512
# The margin: the estimate is raised by this many relative standard errors.
SAMPLE_MARGIN = 3.0


def _sample_rows(X, relative_weight, weighted_norms_sq, random_state, power_iteration):
    """X and its weights, or a random sample of the weighted rows.

    Returns the rows, their weights (summing to one) and whether they are a
    sample. Data sets up to the sample's size in weighted rows are used
    whole, so that the estimate is exact (and the same for weights as for
    repeated rows, while both are that small). With ``power_iteration`` (10
    to 40 products with the rows, where an epoch makes a few) at most a
    quarter of the rows of data sets over ``4 * SAMPLE_SMALL_ROWS`` are
    used, so that the estimate costs less than an epoch at any size.

    The sample is drawn with replacement, row ``i`` with probability
    ``p_i = (r_i + r_i ||x_i||^2 / sum_j r_j ||x_j||^2) / 2`` for its
    relative weight ``r_i``, and weighted by ``r_i / p_i``: half in
    proportion to the weights (rows that carry much of the weight are
    drawn, however few) and half to each row's share of the second moment's
    trace (length-squared sampling, Drineas, Kannan and Mahoney 2006: rows
    of large norm, which dominate the top eigenvalue, are drawn, however
    rare). The weighted sample estimates the second moment without bias,
    and since ``r_i / p_i <= 2``, no drawn row weighs much more than others.
    Weights and repeated rows give the same law of the sample.
    """
    n_weighted = int(np.count_nonzero(relative_weight))
    n_rows = sample_size(X.shape[1], sparse.issparse(X), n_weighted, power_iteration)
    if n_weighted <= n_rows:
        return X, relative_weight, False
    rows, weight = importance_sample(
        relative_weight, weighted_norms_sq, n_rows, random_state
    )
    weight /= weight.sum()
    return take_rows(X, rows), weight, True


def sample_size(n_features, is_sparse, n_weighted, power_iteration):
    """How many rows :func:`_sample_rows` draws from ``n_weighted`` rows of
    positive weight (of CSR data if ``is_sparse``)."""
    n_rows = SAMPLE_ROWS
    if not is_sparse:
        n_rows = min(n_rows, max(SAMPLE_MIN_ROWS, SAMPLE_ENTRIES // max(n_features, 1)))
    if power_iteration:
        n_rows = min(n_rows, max(SAMPLE_SMALL_ROWS, n_weighted // 4))
    return n_rows


def importance_sample(relative_weight, weighted_norms_sq, n_rows, random_state):
    """``n_rows`` row indices drawn as :func:`_sample_rows` says, sorted,
    with their weights ``r_i / p_i`` (whose mean over the draws estimates
    sums weighted by ``r`` without bias)."""
    trace = float(weighted_norms_sq.sum())
    probability = relative_weight.copy()
    if trace > 0.0:
        probability += weighted_norms_sq / trace
    probability /= probability.sum()
    rows = np.sort(
        check_random_state(random_state).choice(len(probability), n_rows, p=probability)
    )
    return rows, relative_weight[rows] / probability[rows]


def take_rows(X, rows):
    """``X[rows]`` for X of any namespace, or CSR."""
    if sparse.issparse(X) or isinstance(X, np.ndarray):
        return X[rows]
    xp, _, device = get_namespace_and_device(X)
    return xp.take(X, xp.asarray(rows, device=device), axis=0)


def pareto_rows(first, second):
    """The rows not dominated in both ``first`` and ``second``: those where
    ``a * first + b * second`` can be largest for some ``a, b >= 0``
    (their maximum over these rows is that over all rows)."""
    if len(first) == 0:
        return np.zeros(0, dtype=np.intp)
    # The rows that lead in either, and those that beat both leaders in
    # the other (a pass, leaving few rows for the sort).
    top_first, top_second = int(np.argmax(first)), int(np.argmax(second))
    candidates = np.flatnonzero(
        (second > second[top_first]) & (first > first[top_second])
    )
    candidates = np.concatenate([[top_first, top_second], candidates])
    order = candidates[np.lexsort((-second[candidates], -first[candidates]))]
    ordered = second[order]
    best_before = np.maximum.accumulate(np.concatenate([[-np.inf], ordered[:-1]]))
    return np.unique(order[ordered > best_before])


def check_row_norms(row_norms_sq, X):
    """Refuse row norms that overflow float64 (see :func:`_row_norms_sq`)."""
    if not np.isfinite(row_norms_sq).all():
        raise ValueError(
            f"eta0='auto' needs the squared norms of the rows of X, which "
            f"overflow float64 here (entries up to {_max_abs(X):.3g}): scale the "
            "features, for example with StandardScaler, or give eta0 a number."
        )


def _max_abs(X):
    """The largest absolute entry of X (dense in any namespace, or CSR) as a float."""
    if sparse.issparse(X) or isinstance(X, np.ndarray):
        return max(float(X.max()), -float(X.min()))
    xp = get_namespace_and_device(X)[0]
    return max(float(xp.max(X)), -float(xp.min(X)))


# The power iteration stops once an iteration changes the estimate by less
# than this fraction: a step size needs no more digits.
POWER_ITERATION_RTOL = 1e-3


def _top_eigenvalue(X, relative_weight, feature_scale, with_ones, n_iterations=20):
    """Largest eigenvalue of the weighted second moment of ``[X * feature_scale, 1]``.

    A power iteration from a fixed start vector: deterministic, cheap (two
    products with X per iteration, never a Gram matrix), and identical for
    integer weights and repeated rows up to rounding. It approaches the
    eigenvalue from below. Returns the eigenvalue and its unit eigenvector
    ``(v_coef, v_ones)``.
    """
    n_features = X.shape[1]
    v_coef = np.cos(np.arange(1, n_features + 1, dtype=np.float64))
    v_ones = 1.0 if with_ones else 0.0
    eigenvalue = previous = 0.0
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
        if abs(eigenvalue - previous) <= POWER_ITERATION_RTOL * eigenvalue:
            break
        previous = eigenvalue
    if eigenvalue > 0.0:
        v_coef, v_ones = v_coef / eigenvalue, v_ones / eigenvalue
    return eigenvalue, v_coef, v_ones


# Up to this many features the step size comes from the exact eigenvalue of
# the (n_features + 1) square second-moment matrix, formed in one pass over
# the rows: for small data that costs a fraction of the power iteration's 80
# products (each a numpy call), and it is exact rather than a lower bound.
GRAM_MAX_FEATURES = 32
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
    by power iteration beyond. Either returns the eigenvalue and its unit
    eigenvector.
    """
    if X.shape[1] > gram_max_features:
        return lambda feature_scale, with_ones: _top_eigenvalue(
            X, relative_weight, feature_scale, with_ones
        )
    gram, first = _second_moments(X, relative_weight, magnitude)

    def top(feature_scale, with_ones):
        if not (np.isfinite(gram).all() and np.isfinite(first).all()):
            return math.nan, None, 0.0  # the caller falls back to the trace
        # [X f, 1] = [Z c, 1] with c = f * magnitude.
        c = feature_scale * magnitude
        if not with_ones:
            values, vectors = np.linalg.eigh(c * c * gram)
            return float(values[-1]), vectors[:, -1], 0.0
        n_features = len(first)
        moments = np.empty((n_features + 1, n_features + 1))
        moments[:n_features, :n_features] = c * c * gram
        moments[:n_features, -1] = moments[-1, :n_features] = c * first
        moments[-1, -1] = relative_weight.sum()
        values, vectors = np.linalg.eigh(moments)
        return float(values[-1]), vectors[:-1, -1], float(vectors[-1, -1])

    return top


def _bound_with_ones(top, mean_norm):
    """An upper bound on the top eigenvalue of ``[[A, m], [m^T, 1]]``.

    ``A`` (the second moment of the scaled rows) has top eigenvalue at most
    ``top`` and ``m`` (their weighted mean) norm ``mean_norm``. Since
    ``A <= top * I``, the matrix is at most ``[[top * I, m], [m^T, 1]]``,
    whose top eigenvalue is that of the 2 x 2 ``[[top, |m|], [|m|, 1]]``.
    It is exact when the mean lies along A's top eigenvector (or is zero,
    as on standardised data), and saves a second power iteration.
    """
    half_gap = 0.5 * (top - 1.0)
    return 0.5 * (top + 1.0) + math.sqrt(half_gap * half_gap + mean_norm * mean_norm)


def _with_margin(X, relative_weight, feature_scale, found):
    """The sampled eigenvalue ``found`` raised by ``SAMPLE_MARGIN`` standard errors.

    ``found = (eigenvalue, v_coef, v_ones)`` from a sample of rows. Along
    the eigenvector ``v`` the full data's second moment is the weighted mean
    of ``(z_i . v)^2`` over the rows ``z_i = [x_i * feature_scale, 1]``; the
    sample's mean of the same terms estimates it without bias, with a
    standard error measured from the terms themselves (large for heavy
    tailed rows). The largest eigenvalue is at least that second moment, so
    the margin covers a sample that under-represents the top direction.
    """
    eigenvalue, v_coef, v_ones = found
    if v_coef is None or not eigenvalue > 0.0:
        return eigenvalue
    terms = (_product(X, feature_scale * v_coef) + v_ones) ** 2
    mean = float(terms @ relative_weight)
    if not mean > 0.0:
        return eigenvalue
    error = math.sqrt(float(((terms - mean) ** 2) @ relative_weight**2)) / mean
    return eigenvalue * (1.0 + SAMPLE_MARGIN * error)


def auto_step_sizes(
    X,
    sample_weight,
    fit_intercept,
    batch_size,
    alpha,
    *,
    n_samples,
    gram_max_features=GRAM_MAX_FEATURES,
    random_state=None,
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

    The row norms come from one pass over all rows; ``c`` and ``L_full``
    from at most ``SAMPLE_ROWS`` rows drawn at random, raised by
    ``SAMPLE_MARGIN`` standard errors (see :func:`_with_margin`), so that
    the cost does not grow with the number of rows.

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
    random_state : int, RandomState instance or None, default=None
        Draws the rows the top eigenvalue is estimated from, where there
        are more than ``SAMPLE_ROWS``.

    Returns
    -------
    eta0 : float
        Step size for ``coef``.
    intercept_scale : float
        ``c``: the intercept's step is ``c * eta``.
    """
    relative_weight = np.asarray(sample_weight, dtype=np.float64)
    relative_weight = relative_weight / relative_weight.sum()
    with np.errstate(over="ignore"):
        row_norms_sq = _row_norms_sq(X)
    check_row_norms(row_norms_sq, X)
    # A minibatch's gradient weighs each row by s_i / mean(s) (see the
    # kernels' _batch_normaliser): the worst row's curvature is scaled alike.
    # (Rows of zero weight add zero to each maximum: norms are non-negative.)
    weighted_norms_sq = relative_weight * row_norms_sq
    power_iteration = X.shape[1] > gram_max_features
    X_top, weight_top, sampled = _sample_rows(
        X, relative_weight, weighted_norms_sq, random_state, power_iteration
    )
    rows = RowMoments(
        trace=float(weighted_norms_sq.sum()),
        largest_norm_sq=float(row_norms_sq.max(initial=0.0)),
        weighted_norms_sq=weighted_norms_sq,
        relative_weight=relative_weight,
    )
    return step_sizes_from_sample(
        X_top,
        weight_top,
        sampled,
        rows,
        fit_intercept,
        batch_size,
        alpha,
        n_samples=n_samples,
        gram_max_features=gram_max_features,
    )


class RowMoments(NamedTuple):
    """What :func:`step_sizes_from_sample` needs of all rows, beyond a sample.

    ``trace``: the weighted mean squared row norm ``sum_i r_i ||x_i||^2``
    for relative weights ``r`` (summing to one); ``largest_norm_sq``: the
    largest squared row norm. ``weighted_norms_sq`` (``r_i ||x_i||^2``) and
    ``relative_weight`` (``r_i``) of every row, or only of the rows that
    :func:`pareto_rows` keeps of them: the worst row's curvature is the
    largest of a positive combination of the two.
    """

    trace: float
    largest_norm_sq: float
    weighted_norms_sq: np.ndarray
    relative_weight: np.ndarray


def step_sizes_from_sample(
    X_top,
    weight_top,
    sampled,
    rows,
    fit_intercept,
    batch_size,
    alpha,
    *,
    n_samples,
    gram_max_features=GRAM_MAX_FEATURES,
):
    """:func:`auto_step_sizes` from the rows ``X_top`` (weights
    ``weight_top``, summing to one), a sample of the data if ``sampled``
    else all of it, and the :class:`RowMoments` ``rows`` of all rows.

    The rows may come from several blocks of the data, merged.
    """
    weighted_norms_sq = rows.weighted_norms_sq
    max_norm_sq = n_samples * float(weighted_norms_sq.max(initial=0.0))
    # The mean squared row norm (the trace) bounds the eigenvalue from above,
    # and replaces it should a spurious floating-point flag of the BLAS (seen
    # rarely on small float32 data) make it NaN.
    trace = rows.trace
    power_iteration = X_top.shape[1] > gram_max_features
    # The power iteration squares X twice: entries beyond 1e77 (or under
    # 1e-77) overflow (underflow) float64, so it runs on X / m, with m the
    # largest row norm (at least every entry, and no pass over X to find).
    magnitude = math.sqrt(rows.largest_norm_sq) or 1.0
    top_eigenvalue_of = _top_eigenvalue_function(
        X_top, weight_top, magnitude, gram_max_features
    )

    def top_eigenvalue(feature_scale, with_ones):
        with np.errstate(over="ignore", invalid="ignore"):
            found = top_eigenvalue_of(feature_scale, with_ones)
            if sampled:
                return _with_margin(X_top, weight_top, feature_scale, found)
        return found[0]

    # (magnitude * magnitude: a product overflows to inf, a power raises)
    top_scaled = (
        magnitude * magnitude * top_eigenvalue(1.0 / magnitude, with_ones=False)
    )
    scale = min(top_scaled, trace) if math.isfinite(top_scaled) else trace
    if not scale > 0.0:
        scale = 1.0  # every weighted row is zero: nothing to rescale
    if fit_intercept:
        if power_iteration:
            # (X^T w: the weighted mean of the rows, in X's namespace.)
            mean = _product(X_top.T, weight_top) / math.sqrt(scale)
            full = 0.5 * _bound_with_ones(
                top_scaled / scale, math.sqrt(float(mean @ mean))
            )
        else:
            full = 0.5 * top_eigenvalue(1.0 / math.sqrt(scale), with_ones=True)
        if not math.isfinite(full):
            full = 0.5 * (trace / scale + 1.0)
        per_row = (
            0.5
            * n_samples
            * float((weighted_norms_sq / scale + rows.relative_weight).max(initial=0.0))
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
