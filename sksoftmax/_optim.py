"""Step sizes, learning-rate schedules, update rules and penalty steps of minibatch SGD.

Everything here is small objects with explicit state, updated in place, in the
style of ``sklearn/neural_network/_stochastic_optimizers.py``. Nothing here
knows about estimators; ``t`` always counts minibatch updates done so far.
"""

import math

import numpy as np
from scipy import sparse
from sklearn.utils._array_api import _convert_to_numpy, get_namespace_and_device

# The "adaptive" schedule stops once its step falls under either of these
# (under the larger): 1e-6 is SGDClassifier's floor (for a given eta0 only,
# see AdaptiveSchedule); eta0 / 100 (three divisions by 5) ends the decay
# sooner, where further steps only polish digits that the SGD noise blurs.
MIN_ADAPTIVE_STEP = 1e-6
MIN_ADAPTIVE_FRACTION = 1e-2
# ... and with eta0="auto" first grows its step, doubling it after each epoch
# that improves the objective by tol, up to this multiple of the bound.
MAX_GROWTH = 64.0


def _zeros_like(array):
    """Zeros of the array's shape, dtype, namespace and device."""
    return get_namespace_and_device(array)[0].zeros_like(array)


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


class ConstantSchedule:
    """``eta = eta0``; training stops when the objective stalls."""

    fixed_length = False
    growing = False  # see AdaptiveSchedule

    def __init__(self, eta0):
        self.eta0 = eta0

    def __call__(self, t):
        return self.eta0

    def stalled(self):
        """React to an epoch without improvement; return True to stop."""
        return True


class InvScalingSchedule(ConstantSchedule):
    """``eta = eta0 / (t + 1) ** power_t``."""

    def __init__(self, eta0, power_t):
        super().__init__(eta0)
        self.power_t = power_t

    def __call__(self, t):
        return self.eta0 / (t + 1) ** self.power_t


class OptimalSchedule(ConstantSchedule):
    """Bottou's ``eta = 1 / (alpha * (t0 + t))`` with ``t0 = 1 / (alpha * eta0)``.

    The first step is ``eta0``; later steps decay as ``1 / (alpha t)``, the
    rate that is optimal for an ``alpha``-strongly convex objective.
    """

    def __init__(self, eta0, alpha):
        super().__init__(eta0)
        self.alpha = alpha

    def __call__(self, t):
        return self.eta0 / (1.0 + self.alpha * self.eta0 * t)


class AdaptiveSchedule(ConstantSchedule):
    """Constant ``eta`` divided by 5 each time the objective stalls.

    Stops once ``eta`` falls below ``max(min_step, MIN_ADAPTIVE_FRACTION *
    base)``, where ``base`` is ``eta0``, or the step the growth phase settled
    on. ``min_step`` is SGDClassifier's absolute floor, ``MIN_ADAPTIVE_STEP``,
    for a given ``eta0``; for one derived from the data (``eta0="auto"``),
    which scales as one over the squared feature scale, 0: on raw pixels the
    bound is about 1e-8, and the absolute floor would stop such a fit at its
    first stall, before any decay.

    With ``grow=True`` (``eta0="auto"`` in :meth:`fit`) a growth phase comes
    first: ``eta0`` is then the curvature bound of :func:`auto_step_sizes`,
    safe for the worst case, which on a small data set near separability can
    be tens of times smaller than the step the loss allows. After each epoch
    that improves the objective on the previous one by more than ``tol``
    the step doubles, up to ``MAX_GROWTH * eta0``. The first epoch that does
    not ends the phase, and the step becomes half the last one that did, or
    ``eta0`` if that is more (the caller discards that epoch's weights if
    its objective did not decrease or diverged).
    """

    def __init__(self, eta0, grow=False, min_step=MIN_ADAPTIVE_STEP):
        super().__init__(eta0)
        self.eta = self.base = eta0
        self.growing = grow
        self.min_step = min_step

    def __call__(self, t):
        return self.eta

    def stalled(self):
        self.eta /= 5.0
        # (getattr: absent from the state of models pickled before them)
        base = getattr(self, "base", self.eta0)
        min_step = getattr(self, "min_step", MIN_ADAPTIVE_STEP)
        return self.eta < max(min_step, MIN_ADAPTIVE_FRACTION * base)

    def grow(self, objective, previous, tol):
        """The growth phase's reaction to an epoch's objective (a no-op after it).

        ``previous`` is the previous epoch's objective (inf for the first
        epoch), ``tol`` the improvement that counts (None for any).
        """
        if not self.growing:
            return
        improved = objective < previous - (tol or 0.0)
        if improved and self.eta < MAX_GROWTH * self.eta0:
            self.eta *= 2.0
            return
        self.growing = False
        if not improved:
            # Half the last step that improved (one that improved once can
            # still be too noisy to keep improving), but not under the bound:
            # where the first doubling fails, the fit is the bound's.
            self.eta = max(self.eta / 4.0, self.eta0)
        self.base = self.eta

    def end_growth(self):
        """End the growth phase early (the fit stopped during it): back to the
        last step that improved, the current one being untried (the bound if
        the first epoch, at the bound, did not finish)."""
        if self.growing:
            self.growing = False
            self.eta = max(self.eta / 2.0, self.eta0)
            self.base = self.eta


class CosineSchedule(ConstantSchedule):
    """Linear warm-up over ``warmup`` steps, then cosine decay to 0 at ``total``."""

    def __init__(self, eta0, total, warmup=0):
        super().__init__(eta0)
        self.total = max(int(total), 1)
        self.warmup = int(warmup)

    # A fixed-length schedule: it runs its course (max_iter epochs) rather
    # than stop when the objective stalls.
    fixed_length = True
    # The step the decay counts from (moved by follow_calls).
    offset = 0

    def __call__(self, t):
        t -= self.offset
        if t < self.warmup:
            return self.eta0 * (t + 1) / self.warmup
        progress = min((t - self.warmup) / max(self.total - self.warmup, 1), 1.0)
        return 0.5 * self.eta0 * (1.0 + math.cos(math.pi * progress))

    def stalled(self):
        return False

    def follow_calls(self, t, calls_done, total_calls, steps):
        """Spread the decay over ``total_calls`` calls of ``steps`` steps.

        For ``partial_fit``, whose chunks may differ in size: the call about
        to run, from step ``t``, takes the decay from ``calls_done /
        total_calls`` of its course to ``(calls_done + 1) / total_calls``,
        however many steps the first chunk had. (Counted in steps fixed by
        the first chunk, a small first chunk ended the decay within a call
        or two.)
        """
        self.warmup = 0
        self.total = max(int(total_calls * steps), 1)
        self.offset = t - calls_done * steps

    def finished(self, t):
        """Whether the step has decayed to 0 at step ``t``."""
        return t - self.offset >= self.total


def make_schedule(
    name, eta0, *, alpha, power_t, total_steps, grow=False, from_data=False
):
    """The schedule object for ``learning_rate=name``.

    ``grow``, and ``from_data`` (``eta0`` was derived from the data): see
    :class:`AdaptiveSchedule`; the other schedules ignore them.
    """
    if name == "constant":
        return ConstantSchedule(eta0)
    if name == "invscaling":
        return InvScalingSchedule(eta0, power_t)
    if name == "optimal":
        return OptimalSchedule(eta0, alpha)
    if name == "adaptive":
        return AdaptiveSchedule(
            eta0, grow, min_step=0.0 if from_data else MIN_ADAPTIVE_STEP
        )
    if name == "cosine":
        return CosineSchedule(eta0, total_steps)
    raise ValueError(f"Unknown learning_rate {name!r}.")


class StallMonitor:
    """Counts epochs whose value failed to improve on the best by ``tol``.

    The stopping rule of SGDClassifier: after ``n_iter_no_change`` such
    epochs in a row the caller reacts (stops, or shrinks the step) and the
    count starts again. ``tol=None`` never reports a stall.
    """

    def __init__(self):
        self.best = math.inf
        self.n_stalled = 0

    def update(self, value, tol, n_iter_no_change):
        """Record one epoch's value.

        Returns
        -------
        improved : bool
            Whether ``value`` is the best so far.
        stalled : bool
            Whether ``n_iter_no_change`` epochs in a row have now stalled.
        """
        if tol is not None and value > self.best - tol:
            self.n_stalled += 1
        else:
            self.n_stalled = 0
        improved = value < self.best
        self.best = min(self.best, value)
        if tol is not None and self.n_stalled >= n_iter_no_change:
            self.n_stalled = 0
            return improved, True
        return improved, False


class SGDOptimizer:
    """Minibatch SGD with optional heavy-ball or Nesterov momentum.

    Parameters
    ----------
    params : list of ndarray
        The parameters, updated in place by :meth:`update_params`.
    schedule : callable
        ``schedule(t) -> eta``.
    momentum : float, default=0.0
        Heavy-ball coefficient ``mu``: ``v <- mu v - eta g``, ``w <- w + v``.
    nesterov : bool, default=False
        Nesterov's variant in the form of Sutskever et al. (2013), as
        MLPClassifier: ``w <- w + mu v - eta g`` after updating ``v``.
    step_scales : list of float, default=None
        A factor on the step size of each parameter (a diagonal
        preconditioner); None means 1 for all.

    Attributes
    ----------
    velocities : list of ndarray
        One per parameter, zeros at first (only when ``momentum > 0``).
    """

    def __init__(
        self, params, schedule, *, momentum=0.0, nesterov=False, step_scales=None
    ):
        self.schedule = schedule
        self.step_scales = (
            [1.0] * len(params) if step_scales is None else list(step_scales)
        )
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = [_zeros_like(p) for p in params] if momentum else []

    @property
    def lookahead(self):
        """``mu`` with Nesterov's momentum, whose weights are the look-ahead
        point ``x + mu v`` of the iterate ``x``; 0 otherwise."""
        return self.momentum if self.nesterov else 0.0

    def restart(self):
        """Forget the velocity: the adaptive restart of O'Donoghue and Candès
        ("Adaptive restart for accelerated gradient schemes", 2015), which the
        caller triggers when the objective rises. Without it momentum keeps
        carrying the weights past the optimum (the objective of a full-batch
        Nesterov fit climbs again after converging), and a smaller step does
        not stop a velocity that is already there."""
        for velocity in self.velocities:
            velocity[...] = 0

    def update_joint(self, weights, grads, t, share=1.0):
        """:meth:`update_params` without momentum for a weight matrix and an
        intercept kept as one array, ``weights`` (its first columns and its
        last), whose gradients ``grads`` are likewise the two parts of one
        array: two numpy calls for both rather than two for each."""
        eta = self.schedule(t) * share
        coef_scale, intercept_scale = self.step_scales
        gradient = grads[0].base
        if intercept_scale != coef_scale:
            grads[1] *= intercept_scale / coef_scale
        gradient *= eta * coef_scale
        weights -= gradient
        return eta

    def update_params(self, params, grads, t, share=1.0):
        """Take one step of ``share`` times the schedule's size; ``grads`` are
        scratch and are overwritten. Returns the step size taken."""
        eta = self.schedule(t) * share
        if not self.momentum:
            for param, grad, scale in zip(params, grads, self.step_scales):
                # Python floats keep each array's dtype (float32 stays float32).
                grad *= eta * scale
                param -= grad
            return eta
        for param, grad, velocity, scale in zip(
            params, grads, self.velocities, self.step_scales
        ):
            mu = self.momentum
            grad *= eta * scale
            velocity *= mu
            velocity -= grad
            if self.nesterov:
                # w += mu * v_new - eta * g, reusing grad as scratch.
                param += mu * velocity
                param -= grad
            else:
                param += velocity
        return eta


class Penalty:
    """Elastic-net penalty ``alpha * (l1_ratio ||w||_1 + (1 - l1_ratio)/2 ||w||^2)``.

    The L2 part is differentiable and joins the gradient (:meth:`add_gradient`).
    The L1 part is the cumulative penalty of Tsuruoka, Tsujii and Ananiadou
    (ACL 2009), applied after each update (:meth:`proximal_step`): ``u`` is
    the total L1 shrinkage every weight should have received so far, ``q``
    what each weight did receive, and each weight is pulled towards zero by
    the difference, never across it. Unlike a plain soft-threshold per step,
    this yields exact zeros despite the noise of minibatch gradients.

    With momentum the shrinkage is part of the step: the velocity is the
    move the weights made, the proximal step's included (the proximal heavy
    ball of Ochs et al., "iPiano", SIAM J. Imaging Sci. 2014). Kept out of
    the velocity, the shrinkage of ``l1 * eta`` per step is all the L1 part
    does against a velocity that grows to ``-eta g / (1 - momentum)``: the
    fit solves ``g + (1 - momentum) l1 sign(w) = 0``, an L1 penalty ten times
    too weak for momentum 0.9. Nesterov's momentum keeps the weights at the
    look-ahead point ``x + momentum * v``: the proximal step applies to ``x``,
    and the look-ahead is taken from its result (FISTA, Beck and Teboulle,
    SIAM J. Imaging Sci. 2009). Either way a fixed point has ``v = 0`` and
    ``x = prox(x - eta g(x))``, the optimum. A weight that lands on zero
    also loses its momentum, so the velocity does not carry it straight back
    out (nor, with Nesterov's, the look-ahead past zero).
    """

    def __init__(self, alpha, l1_ratio):
        self.l2 = alpha * (1.0 - l1_ratio)
        self.l1 = alpha * l1_ratio
        self.total_shrinkage = 0.0  # u
        self.received = None  # q, one entry per weight

    def value(self, coef):
        xp = np if isinstance(coef, np.ndarray) else get_namespace_and_device(coef)[0]
        # (l2 == 0 must give 0 even when ||coef||^2 overflows.)
        if not self.l2:
            value = 0.0
        elif xp is np:
            # A BLAS dot over the flat array: no temporary the size of coef.
            flat = coef.ravel(order="K")
            value = 0.5 * self.l2 * float(flat @ flat)
        else:
            value = 0.5 * self.l2 * float(xp.sum(coef * coef))
        if self.l1:
            value += self.l1 * float(xp.sum(xp.abs(coef)))
        return value

    def add_gradient(self, grad_coef, coef):
        if self.l2:
            grad_coef += self.l2 * coef

    def proximal_step(self, coef, eta, velocity=None, lookahead=0.0):
        """Accumulate this step's L1 shrinkage and apply it to every weight.

        ``velocity``: the momentum's, updated to include the shrinkage.
        ``lookahead``: with Nesterov's momentum, ``coef`` is the look-ahead
        point ``x + lookahead * velocity``; ``x`` is shrunk, and ``coef``
        becomes the look-ahead point of the result.
        """
        if not self.l1:
            return
        self.accumulate(eta)
        if self.received is None:
            self.received = _zeros_like(coef)
        if not lookahead:
            self.clip(coef, self.received, velocity)
            return
        point = coef - lookahead * velocity
        self.clip(point, self.received, velocity)
        coef[...] = point + lookahead * velocity

    def accumulate(self, eta):
        """Add this step's L1 shrinkage to ``u`` (applied later by :meth:`clip`)."""
        self.total_shrinkage += self.l1 * eta

    def clip(self, coef, received, velocity=None):
        """Pull ``coef`` towards zero by the shrinkage it has not received yet.

        ``coef`` and ``received`` (its ``q``) are updated in place; they may be
        all weights or the columns a sparse minibatch touches.
        """
        xp = get_namespace_and_device(coef)[0]
        before = xp.asarray(coef, copy=True)
        # w > 0: w <- max(0, w - (u + q)); w < 0: w <- min(0, w + (u - q)).
        # (xp.where rather than clip or maximum with a scalar: portable to
        # every namespace and to numpy 1.23.)
        zeros = xp.zeros_like(coef)
        shrunk_down = coef - (self.total_shrinkage + received)
        shrunk_down = xp.where(shrunk_down > 0, shrunk_down, zeros)
        shrunk_up = coef + (self.total_shrinkage - received)
        shrunk_up = xp.where(shrunk_up < 0, shrunk_up, zeros)
        coef[...] = xp.where(
            before > 0, shrunk_down, xp.where(before < 0, shrunk_up, before)
        )
        moved = coef - before
        received += moved
        if velocity is not None:
            velocity += moved
            velocity[(coef == 0) & (before != 0)] = 0


def make_penalty(penalty, alpha, l1_ratio):
    """The :class:`Penalty` for ``penalty`` in {"l2", "l1", "elasticnet", None}."""
    if penalty is None:
        return Penalty(0.0, 0.0)
    ratio = {"l2": 0.0, "l1": 1.0, "elasticnet": l1_ratio}[penalty]
    return Penalty(alpha, ratio)
