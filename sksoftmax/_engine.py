"""The training engine: plans a run of minibatch SGD and runs its epochs.

A run takes a training state (:mod:`sksoftmax._state`), data and the rows
to train on; it chooses the kernel (:mod:`sksoftmax._kernels`), the
shuffling and the BLAS threads (:func:`plan_run`), then loops over epochs
(:func:`run_epochs`): shuffle, minibatches, gradient, update, and at each
epoch's end one decision (:class:`EpochOutcome`): kept, rolled back after
an overflow, or a step on trial discarded; then the stall, validation and
early-stopping bookkeeping. :func:`run_epoch` runs one epoch on a block of
rows with a state and update count passed in, and returns sums that merge
with other blocks' (:func:`merge_epoch_losses`).
"""

import math
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import gen_batches
from sklearn.utils._array_api import _convert_to_numpy, get_namespace_and_device
from threadpoolctl import ThreadpoolController

from sksoftmax._kernels import ArrayAPIKernel, NumpyKernel, SparseKernel
from sksoftmax._loss import log_softmax
from sksoftmax._optim import StallMonitor
from sksoftmax._step_size import _max_abs

# batch_size="auto" on a CPU: min(AUTO_BATCH_SIZE, n_samples), and
# AUTO_BATCH_SIZE_LARGE from AUTO_LARGE_ROWS rows on. A step costs some 40 µs
# of numpy calls before its arithmetic, so larger batches fit faster (11 to
# 20 % from 10,000 to 100,000 rows) at the same accuracy and distance to the
# optimum; on smaller data, where an epoch holds few steps, they end further
# from it (benchmarks page, "The trade-off of batch_size on the CPU").
AUTO_BATCH_SIZE = 256
AUTO_BATCH_SIZE_LARGE = 512
AUTO_LARGE_ROWS = 8192
# On a GPU a step costs about the same for 256 rows as for thousands (kernel
# launches, not arithmetic, take the time): "auto" takes batches of an eighth
# of the data, between AUTO_BATCH_SIZE and this many rows (benchmarks/gpu_check).
AUTO_BATCH_SIZE_ACCELERATOR = 16384
# Below this many multiply-adds per minibatch product, BLAS threads cost more in
# synchronisation than they save (a 256 x 64 x 10 batch on 2 cores runs 3x
# faster on one thread), so the epoch loop runs single-threaded.
SMALL_BATCH_PRODUCT = 2**22


# ---------------------------------------------------------------- the plan


@dataclass
class RunPlan:
    """How a run trains: the kernel, the batches and the threads."""

    kernel: object
    batch_size: int
    batches: list  # the slices of an epoch's order, without block shuffling
    n_rows: int
    shuffle: bool  # a fresh permutation of the rows each epoch
    shuffle_blocks: bool  # contiguous blocks in a random order each epoch
    in_place: bool  # the batches are slices of X itself (no gather)
    single_blas_thread: bool
    sample_weight: object  # of all rows (numpy), for validation passes
    weight_total: float  # the training rows' weight sum
    x_max_abs: float


def plan_run(
    X, y_encoded, sample_weight, state, rows, *, batch_size, shuffle, mean_weight=None
):
    """The :class:`RunPlan` for training ``state`` on ``X[rows]``.

    ``shuffle`` is the estimator's (True, False or "blocks").
    ``mean_weight``: the mean weight of a training row, which normalises
    each minibatch's gradient (see the kernels' ``_batch_normaliser``);
    that of ``rows`` if None. A block of a larger data set passes the
    whole data's, so that its steps are those of the whole.
    """
    n_rows = len(rows)
    batches = list(gen_batches(n_rows, batch_size))
    # Full batches need no shuffling; all rows in order need no gathering.
    shuffle_blocks = shuffle == "blocks" and len(batches) > 1
    row_shuffle = bool(shuffle) and not shuffle_blocks and len(batches) > 1
    if shuffle_blocks:
        _warn_if_rows_look_sorted(y_encoded[rows])
    in_place = not row_shuffle and n_rows == X.shape[0]
    batch_product = batch_size * X.shape[1] * state.coef.shape[0]
    on_numpy = isinstance(state.coef, np.ndarray)
    single_blas_thread = on_numpy and batch_product < SMALL_BATCH_PRODUCT
    weight_total = float(sample_weight[rows].sum())
    # Unit weights take the kernels' unweighted path, whose batches are
    # divided by their size: for a block whose rows weigh 1 in data whose
    # mean weight is not 1, the weighted path divides by the right amount.
    unit_weights = mean_weight in (None, 1.0) and bool(np.all(sample_weight == 1))
    kernel_args = (
        X,
        y_encoded,
        None if unit_weights else sample_weight,
        state.coef.shape[0],
        batch_size,
        state.intercept is not None,
    )
    if mean_weight is None:
        mean_weight = weight_total / n_rows
    optimizer = state.optimizer
    if (
        sparse.issparse(X)
        and not optimizer.momentum
        and optimizer.average_start is None
    ):
        # CSR data with plain SGD updates only the columns each batch
        # touches; momentum and averaging change every weight at every step.
        kernel = SparseKernel(*kernel_args, mean_weight=mean_weight)
    elif on_numpy:
        kernel = NumpyKernel(*kernel_args, mean_weight=mean_weight)
    else:
        kernel = ArrayAPIKernel(*kernel_args, mean_weight=mean_weight)
    return RunPlan(
        kernel=kernel,
        batch_size=batch_size,
        batches=batches,
        n_rows=n_rows,
        shuffle=row_shuffle,
        shuffle_blocks=shuffle_blocks,
        in_place=in_place,
        single_blas_thread=single_blas_thread,
        sample_weight=sample_weight,
        weight_total=weight_total,
        x_max_abs=_max_abs(X),
    )


def auto_batch_size(n_samples, on_accelerator):
    """``batch_size="auto"``: 256 rows, 512 from 8192 rows on, or on an
    accelerator an eighth of the rows clamped to [256, 16384]; never more
    than ``n_samples``."""
    batch_size = (
        AUTO_BATCH_SIZE_LARGE if n_samples >= AUTO_LARGE_ROWS else AUTO_BATCH_SIZE
    )
    if on_accelerator:
        # At least 8 steps an epoch: the noise of minibatches keeps the weakly
        # regularised default from overfitting (full batches did on digits).
        batch_size = max(batch_size, min(AUTO_BATCH_SIZE_ACCELERATOR, n_samples // 8))
    return max(1, min(batch_size, n_samples))


def resolve_batch_size(batch_size, n_samples, on_accelerator):
    """The estimator's ``batch_size`` for ``n_samples`` rows: "auto" (see
    :func:`auto_batch_size`), or at most ``n_samples`` (a larger batch is
    the full batch: no buffers beyond the data)."""
    if batch_size == "auto":
        return auto_batch_size(n_samples, on_accelerator)
    return min(batch_size, n_samples)


def steps_per_epoch(n_rows, batch_size, shuffle):
    steps = math.ceil(n_rows / batch_size)
    if shuffle == "blocks" and steps > 1:
        steps += 1  # the offset splits one block in two
    return steps


def on_accelerator(X):
    """True for arrays on a GPU or other accelerator (torch CUDA/MPS/XPU, CuPy).

    numpy, scipy.sparse, array-api-strict and torch CPU arrays are on the CPU.
    """
    if isinstance(X, np.ndarray) or sparse.issparse(X):
        return False
    device = get_namespace_and_device(X)[2]
    device_type = getattr(device, "type", None)  # torch.device
    if device_type is not None:
        return device_type != "cpu"
    return type(device).__module__.partition(".")[0] == "cupy"


# ---------------------------------------------------------------- one epoch


class EpochSums(NamedTuple):
    """What one epoch on a block of rows adds up to.

    ``loss`` is the batches' mean losses weighted by their share of
    ``weight``, the block's weight sum: blocks merge by
    :func:`merge_epoch_losses`. ``t`` is the update count after the epoch.
    """

    loss: float
    weight: float
    t: int


def run_epoch(plan, state, order, batches, t):
    """One pass of minibatch updates of ``state`` over the rows ``order``.

    ``batches`` are slices of ``order`` (or of X itself, where
    ``plan.in_place``). A kernel whose losses stay on the device is never
    read mid-epoch (a read waits for the device): a divergence there shows
    as a non-finite total at the end of the epoch, and the caller rolls
    back either way. The total is summed in shares, not as a weighted sum,
    so that it stays in float32's range wherever each batch's mean loss does.
    """
    kernel = plan.kernel
    check_each_batch = not kernel.loss_on_device
    batch_size, weight_total = plan.batch_size, plan.weight_total
    in_place = plan.in_place
    epoch_loss = 0.0
    for batch in batches:
        batch_loss, batch_weight, grads = kernel(
            batch if in_place else order[batch], state
        )
        if grads is None:
            continue  # zero-weight rows carry no gradient
        if check_each_batch and not math.isfinite(batch_loss):
            kernel.end_epoch(state)
            return EpochSums(math.nan, weight_total, t)  # rolled back by the caller
        epoch_loss += batch_loss * (batch_weight / weight_total)
        # A short batch (the last; with shuffle="blocks" the two the offset
        # shortens) takes a step of its share of a full batch, the penalty's
        # included: each of its rows moves the weights as much as a row of a
        # full batch does. At a full step a one-row batch would be as noisy
        # as it is large, and each short batch would add a batch's worth of
        # penalty for a fraction of a batch's data.
        rows = batch.stop - batch.start
        kernel.step(
            state, grads, t, 1.0 if rows == batch_size else rows / batch_size, rows
        )
        t += 1
    kernel.end_epoch(state)
    return EpochSums(float(epoch_loss), weight_total, t)


def merge_epoch_losses(sums):
    """The data loss of an epoch run as several blocks (:class:`EpochSums`)."""
    total = sum(block.weight for block in sums)
    return sum(block.loss * block.weight for block in sums) / total


class LocalEpochs:
    """The epochs of a run on data in this process, for :func:`run_epochs`.

    Each epoch is a pass of minibatches over the training rows, shuffled
    with ``rng`` as ``plan`` says. :func:`run_epochs` drives any object
    with this interface: ``n_rows`` (training rows an epoch steps on),
    ``x_max_abs`` (the data's largest entry), ``has_validation``,
    ``threads()`` (a context for the loop), ``run(state, t)`` (one epoch,
    returning :class:`EpochSums`), ``validation(state)`` (held-out
    log-loss and accuracy of the model) and ``training_loss(state)`` (the
    model's data loss on the training rows); so does the data-parallel
    trainer of :mod:`sksoftmax.dask`, whose epochs are rounds on a cluster.
    """

    def __init__(self, plan, rng, train_rows, validation_rows=None):
        self.plan, self.rng = plan, rng
        self.train_rows, self.validation_rows = train_rows, validation_rows
        self.n_rows, self.x_max_abs = plan.n_rows, plan.x_max_abs
        self.has_validation = validation_rows is not None

    def threads(self):
        return _blas_threads(self.plan.single_blas_thread)

    def run(self, state, t):
        plan, rng = self.plan, self.rng
        order = plan.kernel.move_indices(
            rng.permutation(self.train_rows) if plan.shuffle else self.train_rows
        )
        batches = (
            _shuffled_blocks(plan.n_rows, plan.batch_size, rng)
            if plan.shuffle_blocks
            else plan.batches
        )
        return run_epoch(plan, state, order, batches, t)

    def validation(self, state):
        return self._metrics(state, self.validation_rows)

    def training_loss(self, state):
        return self._metrics(state, self.train_rows)[0]

    def _metrics(self, state, rows):
        plan = self.plan
        return validation_metrics(
            plan.kernel, plan.sample_weight, rows, *state.model(), plan.batch_size
        )


# ---------------------------------------------------------------- the epochs


class EpochOutcome(NamedTuple):
    """The end of an epoch, judged (see :func:`settle_epoch`)."""

    objective: float  # what the loss curve records
    measured: float  # what the epoch measured (differs where discarded)
    step_size: float  # the step the epoch ended with
    t: int  # the update count from which training goes on
    discarded: bool  # a step on trial made things worse: its weights put back
    diverged: bool  # an overflow not on trial: weights rolled back, stop


def settle_epoch(x_max_abs, state, epoch, snapshot, snapshot_t, previous, tol):
    """Judge the epoch that ``epoch`` summed up, and roll back what failed.

    ``x_max_abs`` is the data's largest entry; ``snapshot`` the state
    before the epoch, at update ``snapshot_t``;
    ``previous`` the last recorded objective (None before the first). An
    epoch whose objective or logits overflow is rolled back: fatal unless
    its step was on trial (see :class:`~sksoftmax._optim.Schedule`), whose
    epoch is discarded, with the weights before it, when it did not improve.
    """
    schedule = state.optimizer.schedule
    objective = epoch.loss + state.optimizer.penalty.value(state.coef)
    in_range = logits_in_range(state, x_max_abs)
    step_size, t = schedule(epoch.t), epoch.t
    on_trial = schedule.on_trial and previous is not None
    if not (math.isfinite(objective) and in_range):
        state.restore(snapshot)
        t = snapshot_t
        if not on_trial:
            return EpochOutcome(objective, objective, schedule(t), t, False, True)
        objective = math.inf
    previous = math.inf if previous is None else previous
    discarded = on_trial and not objective < previous
    if discarded and math.isfinite(objective):
        # The doubled step made things worse: back to the weights before it.
        # (restore puts back the trial step, which epoch_end then cuts:
        # restore first.)
        state.restore(snapshot)
        t = snapshot_t
    schedule.epoch_end(objective, previous, tol)
    # A discarded epoch leaves the previous weights, and their objective.
    recorded = previous if discarded else objective
    return EpochOutcome(recorded, objective, step_size, t, discarded, False)


@dataclass
class RunResult:
    """What :func:`run_epochs` returns: the curves, counts and the model."""

    t: int
    samples: int = 0
    n_epochs: int = 0
    loss_curve: list = field(default_factory=list)
    validation_loss_curve: list = field(default_factory=list)
    validation_scores: list = field(default_factory=list)
    best_loss: float = math.inf
    model: tuple = None
    kept_start: bool = False  # no epoch improved: the starting zeros kept


# The patience of the stopping rule: n_iter_no_change epochs, or as many
# blocks of this many rows where an epoch holds more (see stall_patience).
STALL_ROWS = 100_000


def stall_patience(n_iter_no_change, n_rows):
    """Epochs without improvement that make a stall, for epochs of ``n_rows``.

    ``n_iter_no_change`` epochs, or ``n_iter_no_change`` blocks of
    ``STALL_ROWS`` rows if that takes fewer epochs (one at least). The
    patience is there so that the noise of the epoch objective (a mean over
    the epoch's minibatches) is not taken for a stall; that noise falls as
    the rows grow, and on millions of rows one epoch without improvement is
    as telling as five on thousands, while waiting five epochs costs
    millions of updates at a step that no longer helps.
    """
    if math.isinf(n_iter_no_change):
        return n_iter_no_change  # never a stall
    return min(
        n_iter_no_change, max(1, math.ceil(n_iter_no_change * STALL_ROWS / n_rows))
    )


def run_epochs(
    epochs,
    state,
    *,
    max_epochs,
    t,
    tol,
    n_iter_no_change,
    check_convergence,
    samples=0,
    verbose=0,
    callbacks=None,
    start_objective=None,
):
    """The epoch loop: shuffle, minibatch gradient, update, bookkeeping.

    ``epochs``: runs each epoch (:class:`LocalEpochs`, or a cluster's
    rounds), and measures the held-out rows of early stopping if any.
    ``t`` and ``samples``: the updates and the rows seen before this run
    (an epoch's rows count once its updates are kept).
    ``check_convergence``: stop on stalls (fit; a partial_fit call is one
    epoch). ``start_objective``: the objective of the starting weights,
    where known (a cold start from zeros): if no epoch improves on it,
    those weights are kept, with a warning.
    """
    schedule = state.optimizer.schedule
    # (Read once: on small data an epoch takes some 40 µs.)
    run_epoch_on, n_rows, x_max_abs = epochs.run, epochs.n_rows, epochs.x_max_abs
    has_validation = epochs.has_validation
    patience = stall_patience(n_iter_no_change, n_rows)
    result = RunResult(t=t)
    monitor, best, snapshot = StallMonitor(), None, None
    phase_best = math.inf
    # The starting weights of a cold start are zeros: their scalars suffice
    # to restore them, with no copy of the weights.
    start = None if start_objective is None else state.scalar_snapshot()
    converged = not check_convergence or tol is None or schedule.fixed_length
    start_time = time.perf_counter()
    # Overflow is detected (non-finite loss, logits out of range), not warned about.
    with (
        np.errstate(over="ignore", invalid="ignore", divide="ignore"),
        epochs.threads(),
    ):
        for _ in range(max_epochs):
            # A rollback puts back all that the epoch changes: weights,
            # velocities, averages, penalty and schedule state, and t.
            snapshot, snapshot_t = state.snapshot(snapshot), t
            if callbacks is not None:
                callbacks.epoch_begin(*state.model())
            epoch = run_epoch_on(state, t)
            previous = result.loss_curve[-1] if result.loss_curve else None
            outcome = settle_epoch(
                x_max_abs, state, epoch, snapshot, snapshot_t, previous, tol
            )
            if outcome.t != snapshot_t:  # the epoch's updates were kept
                samples += n_rows
            t = outcome.t
            if outcome.diverged:
                _warn_divergence(result.n_epochs + 1, outcome.step_size)
                converged = True
                break
            if (
                state.optimizer.momentum
                and previous is not None
                and outcome.objective > previous
            ):
                # The objective rose: drop the velocity (adaptive restart).
                # (It mixes the data loss along the epoch with the penalty
                # after it; with one full batch per epoch, where restarts
                # matter, that is the objective one step apart.)
                state.optimizer.restart()
            current = _record(result, epochs, state, outcome)
            if verbose:
                _print_epoch(result, outcome, start_time)
            improved, stalled = (
                (False, False)
                if outcome.discarded
                else monitor.update(current, tol, patience)
            )
            if improved and has_validation:
                # The whole state, not only the model: what continues from
                # this fit (partial_fit) starts where coef_ is.
                best = (state.snapshot(None if best is None else best[0]), t, samples)
            if callbacks is not None and callbacks.epoch_end(*state.model()):
                converged = True  # a callback asked to stop: not a failure
                break
            if check_convergence and stalled:
                # What the step since the previous stall bought (inf at the
                # first); early stopping ends a fixed-length schedule too,
                # whose own stalled() never asks to stop.
                gain, phase_best = phase_best - monitor.best, monitor.best
                if schedule.stalled(gain, tol) or (
                    has_validation and schedule.fixed_length
                ):
                    converged = True
                    if schedule.at_floor:
                        _warn_step_floor(schedule(t), gain, tol)
                    break
    # Stopped during a step on trial (max_iter, a callback): what follows,
    # partial_fit included, keeps the last step that improved.
    schedule.run_end()
    if not converged:
        _warn_max_iter(max_epochs)
    if best is not None:
        state.restore(best[0])  # early stopping keeps the best epoch
        t, samples = best[1], best[2]
    if start is not None and _keep_zero_weights(
        epochs, state, result, start, start_objective
    ):
        t = samples = 0
        result.kept_start = True
    result.t, result.samples = t, samples
    result.best_loss, result.model = monitor.best, state.model()
    return result


def _warn_max_iter(max_epochs):
    warnings.warn(
        f"Maximum number of epochs ({max_epochs}) reached before the "
        "objective stopped improving by tol; increase max_iter.",
        ConvergenceWarning,
    )


def _warn_step_floor(step_size, gain, tol):
    warnings.warn(
        f"Training stopped at the adaptive schedule's smallest step "
        f"({step_size:.3g}) while the objective still improved by {gain:.3g} "
        f"(more than tol={tol:g}) since the step's last reduction: the fit "
        "has not converged. A larger tol accepts this objective; momentum, "
        "or a larger batch_size, reduce the noise that keeps it moving.",
        ConvergenceWarning,
    )


def _record(result, epochs, state, outcome):
    """Append the epoch to the curves; return the value that stall
    detection watches (the validation loss with early stopping)."""
    result.n_epochs += 1
    result.loss_curve.append(outcome.objective)
    if not epochs.has_validation:
        return outcome.objective
    validation_loss, validation_accuracy = epochs.validation(state)
    result.validation_loss_curve.append(validation_loss)
    result.validation_scores.append(validation_accuracy)
    return validation_loss


def _print_epoch(result, outcome, start_time):
    message = f"Epoch {result.n_epochs}, objective {outcome.measured:.6f}"
    if outcome.discarded:
        message += " (step too large: this epoch's weights discarded)"
    if result.validation_loss_curve:
        message += f", validation loss {result.validation_loss_curve[-1]:.6f}"
    print(
        f"{message}, step size {outcome.step_size:.4g}, "
        f"time {time.perf_counter() - start_time:.3f}s"
    )


def validation_metrics(kernel, sample_weight, rows, coef, intercept, batch_size):
    """Weighted log-loss and accuracy on the rows ``rows``, batch by batch.

    Uses the kernel's gather: no copy of the validation part of X.
    """
    xp = get_namespace_and_device(coef)[0]
    total_loss = total_correct = total_weight = 0.0
    for batch in gen_batches(len(rows), batch_size):
        batch_rows = rows[batch]
        raw = kernel.gather(kernel.move_indices(batch_rows)) @ coef.T
        if intercept is not None:
            raw = raw + intercept
        log_proba = _convert_to_numpy(log_softmax(raw), xp)
        y_batch = kernel.labels[batch_rows]
        weight_batch = sample_weight[batch_rows]
        correct = log_proba.argmax(axis=1) == y_batch
        total_loss -= float(
            log_proba[np.arange(len(batch_rows)), y_batch] @ weight_batch
        )
        total_correct += float(correct @ weight_batch)
        total_weight += float(weight_batch.sum())
    if total_weight <= 0:
        return np.inf, 0.0
    return total_loss / total_weight, total_correct / total_weight


# ------------------------------------------------------- safeguards


def _keep_zero_weights(epochs, state, result, start, zero_objective):
    """Put back the starting zero weights (``start``, a scalar snapshot)
    where no epoch, nor the model, improved on them, with a warning; return
    whether it did.

    A step far too large need not overflow: in float64 the loss can stay
    finite (1e91) and stall, which stops the fit as if converged, on weights
    worse than none.
    """
    best_epoch = min(result.loss_curve, default=math.inf)
    if not _worse_than_zero_weights(epochs, state, best_epoch, zero_objective):
        return False
    state.restore_zeros(start)
    _warn_zero_weights_kept(best_epoch, zero_objective)
    return True


def _worse_than_zero_weights(epochs, state, best_epoch, zero_objective):
    """Whether no epoch's objective, nor the model's own, is below that of
    zero weights (beyond the rounding of their sums).

    ``best_epoch`` is the least epoch objective: one below says the fit made
    progress, at no cost. Only otherwise is the model's objective computed,
    in one pass over the training rows: an epoch of one full batch
    measures its loss before its step, at zero weights after a cold start,
    so a good first step shows only there.
    """
    threshold = zero_objective * (1 + 1e-5)
    if best_epoch <= threshold:
        return False
    loss = epochs.training_loss(state)
    return not loss + state.optimizer.penalty.value(state.model()[0]) <= threshold


def _warn_zero_weights_kept(best_epoch, zero_objective):
    warnings.warn(
        f"No epoch improved on the starting (zero) weights: the best "
        f"epoch's objective was {best_epoch:.4g}, theirs "
        f"{zero_objective:.4g}. They are kept. Where the features carry "
        "signal, the step size is too large for this data: lower eta0 "
        "(or use eta0='auto') or scale the features, for example with "
        "StandardScaler.",
        ConvergenceWarning,
    )


def _warn_divergence(epoch, step_size):
    warnings.warn(
        f"Training diverged in epoch {epoch}: the loss or the weights overflowed "
        f"with step size {step_size:.3g}. The weights of the last finite epoch "
        "are kept. Lower eta0 (or use eta0='auto') or scale the features, for "
        "example with StandardScaler.",
        ConvergenceWarning,
    )


def logits_in_range(state, x_max_abs):
    """Whether the weights, and the model, give finite logits for rows with
    entries up to ``x_max_abs`` (the training data).

    ``|x . w_k + b_k| <= max|x| ||w_k||_1 + |b_k|``; under a quarter of the
    dtype's largest value, log-softmax's ``z - max(z)`` cannot overflow either.
    """
    models = [(state.coef, state.intercept)]
    if state.model()[0] is not state.coef:  # averaged weights predict too
        models.append(state.model())
    if isinstance(state.coef, np.ndarray):
        # Checked every epoch: the ufuncs directly, without numpy's wrappers.
        limit = _QUARTER_MAX[state.coef.dtype.type]
        absolute, largest, row_norms = np.abs, np.maximum.reduce, _l1_row_norms
    else:
        xp = get_namespace_and_device(state.coef)[0]
        limit = float(xp.finfo(state.coef.dtype).max) / 4
        absolute, largest = xp.abs, xp.max

        def row_norms(coef):
            return xp.sum(xp.abs(coef), axis=1)

    for coef, intercept in models:
        bound = x_max_abs * float(largest(row_norms(coef)))
        if intercept is not None:
            bound += float(largest(absolute(intercept)))
        if not bound <= limit:
            return False
    return True


def _l1_row_norms(coef, block=2**16):
    """``|coef|.sum(axis=1)`` of numpy weights, a block of columns at a time:
    the temporary ``|coef|`` stays small even when coef is large (CSR data
    with 2**18 features and 20 classes: 40 MiB)."""
    if coef.shape[1] <= block:
        return np.add.reduce(np.abs(coef), axis=1)
    norms = np.zeros(coef.shape[0], dtype=coef.dtype)
    for start in range(0, coef.shape[1], block):
        norms += np.add.reduce(np.abs(coef[:, start : start + block]), axis=1)
    return norms


_QUARTER_MAX = {
    dtype: float(np.finfo(dtype).max) / 4 for dtype in (np.float32, np.float64)
}


# ------------------------------------------------------- shuffling, threads


def _warn_if_rows_look_sorted(labels):
    """shuffle="blocks" needs rows in random order: warn when neighbouring
    rows share their class far more often than they would by chance."""
    if len(labels) < 100:
        return  # too few pairs to tell
    same = float(np.mean(labels[1:] == labels[:-1]))
    frequencies = np.bincount(labels) / len(labels)
    chance = float(frequencies @ frequencies)
    if same > chance + 0.5 * (1.0 - chance):
        warnings.warn(
            f"shuffle='blocks' trains on blocks of neighbouring rows, but "
            f"{same:.0%} of neighbouring rows share their class (about "
            f"{chance:.0%} in random order): the rows look sorted by class, and "
            "each block would hold few classes. Shuffle the rows once, or use "
            "shuffle=True.",
            UserWarning,
        )


def _shuffled_blocks(n_rows, batch_size, rng):
    """An epoch's batches for ``shuffle="blocks"``: contiguous slices in a
    random order, their boundaries shifted by a random offset so that the
    batches differ from epoch to epoch (rows ``[0, offset)`` and the last
    rows form the two shorter batches)."""
    offset = rng.randint(batch_size)
    blocks = [slice(0, offset)] if offset else []
    blocks += [
        slice(start, min(start + batch_size, n_rows))
        for start in range(offset, n_rows, batch_size)
    ]
    return [blocks[i] for i in rng.permutation(len(blocks))]


@cache
def _threadpool_controller():
    # Built once: building one inspects every loaded library (0.2 ms), which
    # would dominate the smallest fits.
    return ThreadpoolController()


def _blas_threads(single_thread):
    """One BLAS thread (small minibatch products on numpy), else unchanged."""
    if single_thread:
        return _threadpool_controller().limit(limits=1, user_api="blas")
    return nullcontext()
