"""Learning-rate schedules, update rules and penalty steps of minibatch SGD.

Everything here is small objects with explicit state, updated in place, in the
style of ``sklearn/neural_network/_stochastic_optimizers.py``: the schedules
behind one protocol (:class:`Schedule`), the stall rule, every update rule
(:class:`SGDOptimizer`) and the penalty (:class:`Penalty`). Nothing here
knows about estimators or data; ``t`` always counts minibatch updates done
so far.
"""

import math

import numpy as np
from sklearn.utils._array_api import get_namespace_and_device

# The "adaptive" schedule stops when a division of its step no longer buys
# tol; failing that, once its step falls under either of these (under the
# larger), with a ConvergenceWarning: 1e-6 is SGDClassifier's floor (for a
# given eta0 only, see AdaptiveSchedule); eta0 / 10,000 (six divisions by
# 5) for a step derived from the data.
MIN_ADAPTIVE_STEP = 1e-6
MIN_ADAPTIVE_FRACTION = 1e-4
# ... and with eta0="auto" first grows its step, doubling it after each epoch
# that improves the objective by tol, up to this multiple of the bound.
MAX_GROWTH = 64.0


def _zeros_like(array):
    """Zeros of the array's shape, dtype, namespace and device."""
    return get_namespace_and_device(array)[0].zeros_like(array)


class Schedule:
    """The protocol of a learning-rate schedule, and its neutral defaults.

    The engine and the estimator talk to a schedule through these members
    only (never through its class or its attributes):

    - ``schedule(t) -> eta``: the step size of update ``t`` (updates so far);
    - ``stalled(gain, tol) -> stop``: the objective stalled for
      ``n_iter_no_change`` epochs, having gained ``gain`` since the previous
      stall (inf at the first); react (shrink the step) and say whether
      training should stop;
    - ``at_floor``: the last stop was forced by a floor on the step while
      the objective still improved (the fit has not converged);
    - ``fixed_length``: the schedule runs its course (``max_iter`` epochs)
      and ``tol`` does not stop it (early stopping still does);
    - ``on_trial``: the current step is being tried (a step-growth phase):
      an epoch that does not improve, or overflows, is discarded, not fatal;
    - ``epoch_end(objective, previous, tol)``: the objective of the epoch
      just run and of the one before (``inf`` for the first);
    - ``run_end()``: a run stopped, perhaps in the middle of a trial;
    - ``get_state()`` / ``set_state(value)``: the mutable part, for the
      training state's snapshots (None: nothing changes during a run);
    - ``follow_calls(t, calls_done, total_calls, steps)`` and
      ``exhausted(t)``: partial_fit, whose calls are epochs of chunks of
      any size: spread the schedule over ``total_calls`` calls, and whether
      its step is 0 from update ``t`` on.

    A new schedule subclasses this class, overrides what it needs, and is
    registered in :func:`make_schedule` and in the estimator's
    ``learning_rate`` constraint.
    """

    fixed_length = False
    on_trial = False
    at_floor = False

    def __call__(self, t):
        raise NotImplementedError

    def stalled(self, gain=math.inf, tol=None):
        """React to epochs without improvement; return True to stop."""
        return True

    def epoch_end(self, objective, previous, tol):
        """See the class docstring; nothing by default."""

    def run_end(self):
        """See the class docstring; nothing by default."""

    def get_state(self):
        return None

    def set_state(self, value):
        """Put back what :meth:`get_state` returned (not None)."""

    def follow_calls(self, t, calls_done, total_calls, steps):
        """See the class docstring; nothing by default."""

    def exhausted(self, t):
        return False


class ConstantSchedule(Schedule):
    """``eta = eta0``; training stops when the objective stalls."""

    def __init__(self, eta0):
        self.eta0 = eta0

    def __call__(self, t):
        return self.eta0


class InvScalingSchedule(ConstantSchedule):
    """``eta = eta0 / (t + 1) ** power_t``."""

    def __init__(self, eta0, power_t):
        super().__init__(eta0)
        self.power_t = power_t

    def __call__(self, t):
        return self.eta0 / (t + 1) ** self.power_t


class OptimalSchedule(ConstantSchedule):
    """Bottou's ``eta = 1 / (alpha * (t0 + t))``, at most ``cap``.

    As SGDClassifier's "optimal", ``t0`` comes from Bottou's heuristic, not
    from ``eta0``: the first step is ``typw = alpha ** -0.25`` (the typical
    weight size of an ``alpha``-regularised model; the log loss's
    derivative is under 1), ``t0 = 1 / (alpha * typw)``, and later steps
    decay as ``1 / (alpha t)``, the rate that is optimal for an
    ``alpha``-strongly convex objective. ``cap``, the curvature bound of
    ``eta0="auto"``, keeps the first steps stable where the data's scale
    makes ``typw`` too large (SGDClassifier's single-row steps survive
    them; a minibatch softmax on unscaled rows would overflow).
    """

    def __init__(self, alpha, cap=math.inf):
        self.alpha = alpha
        self.typw = alpha**-0.25
        self.t0 = 1.0 / (alpha * self.typw)
        self.cap = cap
        super().__init__(min(cap, self.typw))

    def __call__(self, t):
        return min(self.cap, 1.0 / (self.alpha * (self.t0 + t)))


class AdaptiveSchedule(ConstantSchedule):
    """Constant ``eta`` divided by 5 each time the objective stalls.

    Stops, converged, at a stall whose phase (the epochs since the previous
    stall, at the current step) gained less than ``tol``: the last division
    of the step bought less than ``tol``, so that a smaller step would not
    buy it either. It also stops, not converged (``at_floor``), once ``eta``
    falls below ``max(min_step, MIN_ADAPTIVE_FRACTION * base)``, where
    ``base`` is ``eta0``, or the step the growth phase settled on.
    ``min_step`` is SGDClassifier's absolute floor, ``MIN_ADAPTIVE_STEP``,
    for a given ``eta0``; for one derived from the data (``eta0="auto"``),
    which scales as one over the squared feature scale, 0: on raw pixels the
    bound is about 1e-8, and the absolute floor would stop such a fit at its
    first stall, before any decay.

    With ``grow=True`` (``eta0="auto"`` in :meth:`fit`) a growth phase comes
    first: ``eta0`` is then the curvature bound of
    :func:`~sksoftmax._step_size.auto_step_sizes`, safe for the worst case,
    which on a small data set near separability can be tens of times
    smaller than the step the loss allows. After each epoch that improves
    the objective on the previous one by more than ``tol`` the step
    doubles, up to ``MAX_GROWTH * eta0``. The first epoch that does not
    ends the phase, and the step becomes half the last one that did, or
    ``eta0`` if that is more (the engine discards that epoch's weights if
    its objective did not decrease or diverged: the step was on trial).
    """

    def __init__(self, eta0, grow=False, min_step=MIN_ADAPTIVE_STEP):
        super().__init__(eta0)
        self.eta = self.base = eta0
        self.growing = grow
        self.min_step = min_step

    def __call__(self, t):
        return self.eta

    @property
    def on_trial(self):
        return self.growing

    def stalled(self, gain=math.inf, tol=None):
        if tol is not None and gain < tol:
            return True  # the last step's phase gained under tol: converged
        self.eta /= 5.0
        self.at_floor = self.eta < max(self.min_step, MIN_ADAPTIVE_FRACTION * self.base)
        return self.at_floor

    def epoch_end(self, objective, previous, tol):
        self.grow(objective, previous, tol)

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

    def run_end(self):
        """End the growth phase early (the run stopped during it): back to
        the last step that improved, the current one being untried (the
        bound if the first epoch, at the bound, did not finish)."""
        if self.growing:
            self.growing = False
            self.eta = max(self.eta / 2.0, self.eta0)
            self.base = self.eta

    def get_state(self):
        return self.eta

    def set_state(self, value):
        self.eta = value


class CosineSchedule(ConstantSchedule):
    """Linear warm-up over ``warmup`` steps, then cosine decay to 0 at ``total``.

    A fixed-length schedule: it runs its course (``max_iter`` epochs) rather
    than stop when the objective stalls.
    """

    fixed_length = True

    def __init__(self, eta0, total, warmup=0):
        super().__init__(eta0)
        self.total = max(int(total), 1)
        self.warmup = int(warmup)
        self.offset = 0  # the update the decay counts from (see follow_calls)

    def __call__(self, t):
        t -= self.offset
        if t < self.warmup:
            return self.eta0 * (t + 1) / self.warmup
        progress = min((t - self.warmup) / max(self.total - self.warmup, 1), 1.0)
        return 0.5 * self.eta0 * (1.0 + math.cos(math.pi * progress))

    def stalled(self, gain=math.inf, tol=None):
        return False

    def follow_calls(self, t, calls_done, total_calls, steps):
        """Spread the decay over ``total_calls`` calls of ``steps`` steps.

        For ``partial_fit``, whose chunks may differ in size: the call about
        to run, from step ``t``, takes the decay from ``calls_done /
        total_calls`` of its course to ``(calls_done + 1) / total_calls``,
        however many steps the first chunk had (counted in steps fixed by
        the first chunk, a small first chunk would end the decay within a
        call or two).
        """
        self.warmup = 0
        self.total = max(int(total_calls * steps), 1)
        self.offset = t - calls_done * steps

    def exhausted(self, t):
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
        # eta0: the curvature bound, a cap (see OptimalSchedule).
        return OptimalSchedule(alpha, cap=eta0)
    if name == "adaptive":
        return AdaptiveSchedule(
            eta0, grow, min_step=0.0 if from_data else MIN_ADAPTIVE_STEP
        )
    if name == "cosine":
        return CosineSchedule(eta0, total_steps)
    raise ValueError(f"Unknown learning_rate {name!r}.")


class StallMonitor:
    """Counts epochs that fail to improve by ``tol`` on the last reference value.

    The reference is the objective of the last epoch that improved on the
    reference before it by at least ``tol``. After ``n_iter_no_change``
    epochs in a row without such an improvement the caller reacts (stops,
    or shrinks the step); the count starts again, from the best value so
    far. ``tol=None`` never reports a stall.

    SGDClassifier compares each epoch with the best value so far, which
    moves with every improvement, however small: an objective falling
    steadily by less than ``tol`` an epoch then stalls, though it has
    fallen by several ``tol`` over the ``n_iter_no_change`` epochs. That is
    the slow, steady progress of ill-conditioned data, where shrinking the
    step only slows it further. Here improvements add up: a stall is
    ``n_iter_no_change`` epochs that together gain less than ``tol``.
    """

    def __init__(self):
        self.best = math.inf
        self.reference = math.inf
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
        if tol is not None and value > self.reference - tol:
            self.n_stalled += 1
        else:
            self.n_stalled = 0
            self.reference = value
        improved = value < self.best
        self.best = min(self.best, value)
        if tol is not None and self.n_stalled >= n_iter_no_change:
            self.n_stalled = 0
            self.reference = self.best
            return improved, True
        return improved, False


class SGDOptimizer:
    """Every update rule of minibatch SGD, and the state they carry.

    The rules: plain SGD, heavy-ball or Nesterov momentum, the penalty's
    steps (L2 as a decay or a gradient term, L1 as a proximal step), the
    lazy updates of CSR minibatches (:meth:`sparse_step`), and averaging.
    The parameters themselves belong to the caller (the training state) and
    are passed to each call; everything else an update needs is held here.

    Parameters
    ----------
    params : list of ndarray
        The parameters (``coef`` and, if fitted, ``intercept``): their
        shapes, dtype and namespace, for the velocities and averages.
    schedule : Schedule
        ``schedule(t) -> eta`` (see :class:`Schedule`).
    momentum : float, default=0.0
        Heavy-ball coefficient ``mu``: ``v <- mu v - eta g``, ``w <- w + v``.
    nesterov : bool, default=False
        Nesterov's variant in the form of Sutskever et al. (2013), as
        MLPClassifier: ``w <- w + mu v - eta g`` after updating ``v``.
    step_scales : list of float, default=None
        A factor on the step size of each parameter (a diagonal
        preconditioner); None means 1 for all.
    penalty : Penalty, default=None
        None: no penalty.
    average_start : int, default=None
        Average the weights once ``average_start`` samples have been seen
        (1: from the first update, SGDClassifier's ``average=True``; its
        integer ``average`` counts samples too); None: no averaging.

    Attributes
    ----------
    velocities : list of ndarray
        One per parameter, zeros at first (only when ``momentum > 0``).
    average_params : list of ndarray or None
        The running means of the parameters (with ``average_start``).
    n_averaged : int
        How many iterates the averages hold.
    samples_seen : int
        Rows of the minibatches stepped on so far.
    scale : float
        The lazy sparse updates keep the weights as ``scale * coef``.
    pending_decay : float
        L2 decay not yet applied to ``coef`` (see :meth:`decay`).
    """

    def __init__(
        self,
        params,
        schedule,
        *,
        momentum=0.0,
        nesterov=False,
        step_scales=None,
        penalty=None,
        average_start=None,
    ):
        self.schedule = schedule
        self.step_scales = (
            [1.0] * len(params) if step_scales is None else list(step_scales)
        )
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = [_zeros_like(p) for p in params] if momentum else []
        self.penalty = Penalty(0.0, 0.0) if penalty is None else penalty
        # Two classes: row 0 of the softmax stays pinned at zero, so the
        # model is binary logistic regression on row 1.
        self.binary = params[0].shape[0] == 2 and params[0].ndim == 2
        self.average_start = average_start
        self.n_averaged = 0
        self.samples_seen = 0
        self.average_params = (
            None if average_start is None else [_zeros_like(p) for p in params]
        )
        self.scale = 1.0
        self.pending_decay = 1.0
        # Factors at most this far below 1 go straight to coef (see decay).
        xp = get_namespace_and_device(params[0])[0]
        self.decay_threshold = 1.0 - 128 * float(xp.finfo(params[0].dtype).eps)

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

    # -- dense updates (numpy and the array API)

    def step(self, coef, intercept, grads, t, share=1.0, rows=1):
        """One update from the data gradients ``grads`` (scratch buffers).

        ``share``: the step's size as a share of the schedule's, the whole
        step (data and penalty) alike (a short last minibatch); ``rows``:
        the minibatch's rows.
        """
        self.samples_seen += rows
        if self.binary:
            for grad in grads:
                grad[0, ...] = 0
        penalty = self.penalty
        if self.momentum:
            penalty.add_gradient(grads[0], coef)
        elif penalty.l2:
            # Plain SGD: w <- (1 - eta l2) w - eta g, the L2 part of the
            # gradient applied in place rather than added to g.
            self.decay(coef, 1.0 - share * self.schedule(t) * penalty.l2)
        params = [coef] if intercept is None else [coef, intercept]
        eta = self.update_params(params, grads, t, share)
        # (The checks inline: each call costs a few percent of a small step.)
        if penalty.l1:
            velocity = self.velocities[0] if self.velocities else None
            penalty.proximal_step(coef, eta, velocity, self.lookahead)
        if self.average_start is not None:
            self.accumulate_average(coef, intercept, self.samples_seen)

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

    def decay(self, coef, factor):
        """``coef *= factor``, exactly even where coef's dtype cannot hold it.

        In float32 a factor within about 6e-8 of 1 rounds to 1 (no decay at
        all) or to 1 - 6e-8 (up to twice the decay): with eta * alpha of
        1e-8, common late in a decaying schedule, L2 would silently stop
        acting. Such factors are multiplied up in a Python float and applied
        once their product is resolvable, or at the end of the epoch
        (:meth:`flush_decay`): the weights lag their decay by at most ``128 *
        eps`` relatively, and an epoch's decay is applied to the weights'
        resolution rather than not at all. A factor already below that
        threshold (every factor in float64 but for eta * alpha below 3e-14)
        is applied at once.
        """
        self.pending_decay *= factor
        if self.pending_decay <= self.decay_threshold:
            coef *= self.pending_decay
            self.pending_decay = 1.0

    def flush_decay(self, coef):
        """Apply the decay that :meth:`decay` has not applied yet."""
        if self.pending_decay != 1.0:
            coef *= self.pending_decay
            self.pending_decay = 1.0

    def accumulate_average(self, coef, intercept, samples_seen):
        """Add the iterate to the running means, once ``samples_seen`` (the
        rows stepped on, this update's included) reach ``average_start``."""
        if self.average_start is None or samples_seen < self.average_start:
            return
        self.n_averaged += 1
        # Running mean: avg += (w - avg) / k, exact for k = 1.
        fraction = 1.0 / self.n_averaged
        average_coef = self.average_params[0]
        average_coef += fraction * (coef - average_coef)
        if intercept is not None:
            average_intercept = self.average_params[1]
            average_intercept += fraction * (intercept - average_intercept)

    def model(self, coef, intercept):
        """The weights to predict with: the averaged ones once averaging
        started, else the parameters themselves."""
        if self.n_averaged:
            average = self.average_params
            return average[0], average[1] if len(average) > 1 else None
        return coef, intercept

    # -- lazy updates of CSR minibatches

    def sparse_step(
        self, coef, intercept, grads, columns, coef_rows, t, share=1.0, rows=1
    ):
        """One plain-SGD update touching only ``coef[:, columns]``.

        ``coef_rows`` is the kernel's copy of ``coef.T[columns]``: updated and
        written back, one scatter rather than a gather and a scatter.

        The weights are ``scale * coef``: the L2 decay of every weight is one
        multiplication of ``scale`` (as SGDClassifier's weight vector does),
        the gradient step changes the touched columns, and the L1 shrinkage
        is accumulated and applied to the columns when they are touched (and
        to all at the end of the epoch, :meth:`fold_scale`).
        """
        self.samples_seen += rows
        grad_rows = grads[0]  # (n_columns, n_classes): coef.T's layout
        if self.binary:
            grad_rows[:, 0] = 0
            for grad in grads[1:]:
                grad[0] = 0
        eta = self.schedule(t) * share  # (see step)
        self.scale *= 1.0 - eta * self.penalty.l2
        if self.scale < 1e-9:  # keep coef away from overflow (and from 1 / 0)
            coef_rows *= self.scale  # the copy, as fold_scale does the rest
            self.fold_scale(coef)
        step = eta * self.step_scales[0] / self.scale
        grad_rows *= step
        coef_rows -= grad_rows
        # coef is column-major: coef.T[columns] are contiguous rows.
        put_rows(coef.T, columns, coef_rows)
        if intercept is not None:
            intercept -= (eta * self.step_scales[1]) * grads[1]
        if self.penalty.l1:
            self.penalty.accumulate(eta)
            self.catch_up(coef, columns)

    def catch_up(self, coef, columns):
        """Apply the L1 shrinkage that ``coef[:, columns]`` has not received."""
        penalty = self.penalty
        if not penalty.l1:
            return
        if penalty.received is None:
            penalty.received = np.zeros_like(coef)
        weights = self.scale * coef.T[columns]
        received = penalty.received.T[columns]
        penalty.clip(weights, received)
        coef.T[columns] = weights / self.scale
        penalty.received.T[columns] = received

    def fold_scale(self, coef):
        """Make ``coef`` the weights again (scale 1), with all L1 shrinkage applied."""
        if self.scale != 1.0:
            coef *= self.scale
            self.scale = 1.0
        if self.penalty.l1 and self.penalty.received is not None:
            self.penalty.clip(coef, self.penalty.received)


def put_rows(array, rows, values):
    """``array[rows] = values`` for a C-contiguous 2-D ``array``, row by row.

    Each row is put as one opaque item (a view of ``n_columns`` numbers as one
    ``np.void``): ``np.put`` then moves whole rows, about twice as fast as 2-D
    fancy assignment, which goes element by element. ``rows`` must be valid,
    non-negative row indices (``mode="clip"`` does not check them; the
    callers' come from the data's own column indices).
    """
    if not (
        array.flags.c_contiguous
        and values.flags.c_contiguous
        and values.dtype == array.dtype  # else the bytes would be reinterpreted
        and values.shape == (len(rows), array.shape[1])
    ):
        array[rows] = values
        return
    row_item = np.dtype((np.void, array.shape[1] * array.itemsize))
    np.put(
        array.view(row_item).reshape(-1),
        rows,
        values.view(row_item).reshape(-1),
        mode="clip",
    )


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
        self.apply_owed(coef, velocity, lookahead)

    def apply_owed(self, coef, velocity=None, lookahead=0.0):
        """Pull every weight towards zero by the shrinkage it is owed
        (``u`` less what it received), as at the end of a proximal step."""
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
