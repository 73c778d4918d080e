"""SoftmaxSGDClassifier: multinomial logistic regression trained by minibatch SGD."""

import copy
import functools
import math
import time
import warnings
from contextlib import contextmanager, nullcontext
from numbers import Integral, Number, Real

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.base import BaseEstimator, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.model_selection import StratifiedShuffleSplit
from sklearn.utils import (
    assert_all_finite,
    check_random_state,
    compute_class_weight,
    gen_batches,
)
from sklearn.utils._array_api import _convert_to_numpy, get_namespace_and_device
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, unique_labels
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)
from threadpoolctl import ThreadpoolController

from sksoftmax._callbacks import CallbackSupportMixin, EpochCallbacks
from sksoftmax._compat import (
    check_same_namespace,
    move_to,
    namespace_and_device,
    to_numpy,
)
from sksoftmax._loss import (
    ArrayAPIMinibatchGradient,
    MinibatchGradient,
    SparseMinibatchGradient,
    log_softmax,
    put_rows,
)
from sksoftmax._optim import (
    GRAM_MAX_FEATURES,
    GRAM_MAX_FEATURES_ACCELERATOR,
    AdaptiveSchedule,
    ConstantSchedule,
    CosineSchedule,
    InvScalingSchedule,
    OptimalSchedule,
    Penalty,
    SGDOptimizer,
    StallMonitor,
    _max_abs,
    auto_step_sizes,
    make_penalty,
    make_schedule,
)
from sksoftmax._prefetch import RowPrefetcher, prefetch_pays

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


# What scikit-learn's callback framework sets on the estimator for the
# duration of a fit (``_init_callback_context``) and removes at its end, when
# it tears the callbacks down: kept through a restore, or that teardown would
# be skipped (and ProgressBar's monitor thread keep the process alive).
_CALLBACK_FIT_ATTRIBUTES = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


@contextmanager
def _state_restored_on_error(estimator):
    """Put back every attribute of ``estimator`` if the block raises (but
    the callback framework's, see ``_CALLBACK_FIT_ATTRIBUTES``)."""
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        callback_state = {
            name: estimator.__dict__[name]
            for name in _CALLBACK_FIT_ATTRIBUTES
            if name in estimator.__dict__
        }
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        estimator.__dict__.update(callback_state)
        raise


class _TrainingState:
    """What one fit or partial_fit call trains: the full-softmax parameters,
    the optimizer and its running averages.

    For two classes row 0 of ``coef`` and ``intercept`` is pinned at zero, so the
    model is binary logistic regression on ``coef[1]`` (the published ``coef_``)
    and its penalty matches LogisticRegression's.
    """

    # Saved before it existed (a model pickled by an earlier version): none.
    pending_decay = 1.0

    def __init__(self, coef, intercept, optimizer, penalty, average_start):
        self.coef = coef
        self.intercept = intercept
        self.optimizer = optimizer
        self.penalty = penalty
        self.average_start = average_start
        self.n_averaged = 0
        self.binary = coef.shape[0] == 2
        self.scale = 1.0  # the lazy sparse path's weights are scale * coef
        self.pending_decay = 1.0  # L2 decay not yet applied to coef (decay)
        self.stream_monitor = StallMonitor()  # across partial_fit calls
        self.average_coef = None if average_start is None else _zeros_like(coef)
        self.average_intercept = (
            None
            if average_start is None or intercept is None
            else _zeros_like(intercept)
        )

    @property
    def coef_velocity(self):
        velocities = self.optimizer.velocities
        return velocities[0] if velocities else None

    @property
    def params(self):
        return [self.coef] if self.intercept is None else [self.coef, self.intercept]

    def join_weights(self):
        """Put ``coef`` and ``intercept`` in one array and return it.

        A column-major (n_classes, n_features + 1) array whose first columns
        are ``coef`` and whose last is ``intercept``, both then views of it:
        with rows that end in a 1 the intercept joins the minibatch products
        (see :class:`~sksoftmax._loss.MinibatchGradient`). Everything else
        keeps updating ``coef`` and ``intercept`` in place, as before. A copy
        or a loaded model has separate arrays: joined again here, where the
        epochs start.
        """
        coef, intercept = self.coef, self.intercept
        n_classes, n_features = coef.shape
        weights = coef.base
        if (
            weights is not None
            and intercept.base is weights
            and weights.shape == (n_classes, n_features + 1)
            and weights.flags.f_contiguous
            and np.shares_memory(weights[:, :-1], coef)
            and np.shares_memory(weights[:, -1], intercept)
        ):
            return weights
        weights = np.empty((n_classes, n_features + 1), coef.dtype, order="F")
        weights[:, :-1] = coef
        weights[:, -1] = intercept
        self.coef, self.intercept = weights[:, :-1], weights[:, -1]
        return weights

    def model(self):
        """The weights to predict with: averaged ones once averaging started."""
        if self.n_averaged:
            return self.average_coef, self.average_intercept
        return self.coef, self.intercept

    def snapshot(self, previous=None):
        """Copies of all that an epoch changes, for :meth:`restore`.

        Arrays are copied one by one (a deepcopy of the state's objects
        costs more than a small epoch), into the arrays of the ``previous``
        snapshot where they fit: a fresh copy of large weights each epoch
        costs its page faults again (a tenth of a sparse epoch).
        """
        kept = {} if previous is None else previous[0]
        arrays = {}
        for name, value in self._arrays().items():
            if value is None:
                continue
            copy = kept.get(name)
            if (
                isinstance(value, np.ndarray)
                and isinstance(copy, np.ndarray)
                and copy.shape == value.shape
                and copy.dtype == value.dtype
            ):
                np.copyto(copy, value)
            else:
                copy = _copy(value)
            arrays[name] = copy
        return arrays, self.snapshot_scalars()

    def snapshot_scalars(self):
        """The scalars of :meth:`snapshot`; with all arrays zero (a cold
        start), all that :meth:`restore_zeros` needs."""
        return (
            self.n_averaged,
            self.scale,
            self.penalty.total_shrinkage,
            self.penalty.received is None,
            getattr(self.optimizer.schedule, "eta", None),
        )

    def restore_zeros(self, scalars):
        """Put back a state of zero arrays and the given scalars."""
        for value in self._arrays().values():
            if value is not None:
                value[...] = 0
        self.restore(({}, scalars))

    def restore(self, snapshot):
        """Put back the state of :meth:`snapshot` (after a divergence)."""
        arrays, scalars = snapshot
        for name, value in self._arrays().items():
            if value is not None and name in arrays:
                value[...] = arrays[name]
        (
            self.n_averaged,
            self.scale,
            self.penalty.total_shrinkage,
            no_l1_state,
            eta,
        ) = scalars
        self.pending_decay = 1.0  # the restored coef has had all its decay
        if no_l1_state:
            self.penalty.received = None
        if eta is not None:
            self.optimizer.schedule.eta = eta

    def _arrays(self):
        """The state's arrays, by name (None where absent)."""
        arrays = {
            "coef": self.coef,
            "intercept": self.intercept,
            "average_coef": self.average_coef,
            "average_intercept": self.average_intercept,
            "received": self.penalty.received,
        }
        for index, velocity in enumerate(self.optimizer.velocities):
            arrays[f"velocity{index}"] = velocity
        return arrays

    def end_of_partial_fit(self, loss, tol, n_iter_no_change):
        """Stall detection across partial_fit calls, each one epoch of a stream.

        As fit does across epochs: ``n_iter_no_change`` calls without an
        improvement of ``tol`` shrink the "adaptive" step (other schedules
        decay by ``t`` alone), so a long stream converges instead of staying
        at the noise level of the first step size.
        """
        if self.stream_monitor.update(loss, tol, n_iter_no_change)[1]:
            self.optimizer.schedule.stalled()

    def step(self, grads, t, weights=None, share=1.0):
        """One update from the data gradients ``grads`` (scratch buffers).

        ``share``: the step's size as a share of the schedule's, the whole
        step (data and penalty) alike; see :func:`_batch_share`.

        ``weights``: the joint array of :meth:`join_weights`, when ``grads``
        are the two parts of one array shaped alike (the kernel's, see
        :class:`~sksoftmax._loss.MinibatchGradient`); plain SGD then updates
        both parameters at once.
        """
        if self.binary:
            # Row 0 stays pinned at zero: binary logistic regression.
            for grad in grads:
                grad[0, ...] = 0
        optimizer, penalty = self.optimizer, self.penalty
        if optimizer.momentum:
            penalty.add_gradient(grads[0], self.coef)
        elif penalty.l2:
            # Plain SGD: w <- (1 - eta l2) w - eta g, the L2 part of the
            # gradient applied in place rather than added to g.
            self.decay(1.0 - share * optimizer.schedule(t) * penalty.l2)
        if weights is not None and not optimizer.momentum:
            eta = optimizer.update_joint(weights, grads, t, share)
        else:
            eta = optimizer.update_params(self.params, grads, t, share)
        # (The checks inline: each call costs a few percent of a small step.)
        if penalty.l1:
            penalty.proximal_step(
                self.coef, eta, self.coef_velocity, optimizer.lookahead
            )
        if self.average_start is not None:
            self.accumulate_average(t + 1)

    def decay(self, factor):
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
        is applied at once, as before.
        """
        self.pending_decay *= factor
        if self.pending_decay <= self.decay_threshold():
            self.coef *= self.pending_decay
            self.pending_decay = 1.0

    def flush_decay(self):
        """Apply the decay that :meth:`decay` has not applied yet."""
        if self.pending_decay != 1.0:
            self.coef *= self.pending_decay
            self.pending_decay = 1.0

    def decay_threshold(self):
        """Factors at most this far below 1 go straight to coef (made once)."""
        threshold = self.__dict__.get("_decay_threshold")
        if threshold is None:
            xp = get_namespace_and_device(self.coef)[0]
            threshold = 1.0 - 128 * float(xp.finfo(self.coef.dtype).eps)
            self._decay_threshold = threshold
        return threshold

    def sparse_step(self, grads, columns, coef_rows, t, share=1.0):
        """One plain-SGD update touching only ``coef[:, columns]``.

        ``coef_rows`` is the kernel's copy of ``coef.T[columns]``: updated and
        written back, one scatter rather than a gather and a scatter.

        The weights are ``scale * coef``: the L2 decay of every weight is one
        multiplication of ``scale`` (as SGDClassifier's weight vector does),
        the gradient step changes the touched columns, and the L1 shrinkage
        is accumulated and applied to the columns when they are touched (and
        to all at the end of the epoch, :meth:`fold_scale`).
        """
        grad_rows = grads[0]  # (n_columns, n_classes): coef.T's layout
        if self.binary:
            grad_rows[:, 0] = 0
            for grad in grads[1:]:
                grad[0] = 0
        eta = self.optimizer.schedule(t) * share  # (see step)
        self.scale *= 1.0 - eta * self.penalty.l2
        if self.scale < 1e-9:  # keep coef away from overflow (and from 1 / 0)
            coef_rows *= self.scale  # the copy, as fold_scale does the rest
            self.fold_scale()
        step = eta * self.optimizer.step_scales[0] / self.scale
        grad_rows *= step
        coef_rows -= grad_rows
        # coef is column-major: coef.T[columns] are contiguous rows.
        put_rows(self.coef.T, columns, coef_rows)
        if self.intercept is not None:
            self.intercept -= (eta * self.optimizer.step_scales[1]) * grads[1]
        if self.penalty.l1:
            self.penalty.accumulate(eta)
            self.catch_up(columns)

    def catch_up(self, columns):
        """Apply the L1 shrinkage that ``coef[:, columns]`` has not received."""
        if not self.penalty.l1:
            return
        if self.penalty.received is None:
            self.penalty.received = np.zeros_like(self.coef)
        weights = self.scale * self.coef.T[columns]
        received = self.penalty.received.T[columns]
        self.penalty.clip(weights, received)
        self.coef.T[columns] = weights / self.scale
        self.penalty.received.T[columns] = received

    def fold_scale(self):
        """Make ``coef`` the weights again (scale 1), with all L1 shrinkage applied."""
        if self.scale != 1.0:
            self.coef *= self.scale
            self.scale = 1.0
        if self.penalty.l1 and self.penalty.received is not None:
            self.penalty.clip(self.coef, self.penalty.received)

    def accumulate_average(self, t):
        if self.average_start is None or t < self.average_start:
            return
        self.n_averaged += 1
        # Running mean: avg += (w - avg) / k, exact for k = 1.
        fraction = 1.0 / self.n_averaged
        self.average_coef += fraction * (self.coef - self.average_coef)
        if self.intercept is not None:
            self.average_intercept += fraction * (
                self.intercept - self.average_intercept
            )


# The classes a _TrainingState is made of, by name: a pickled or skops-saved
# model stores them as plain dicts (see SoftmaxSGDClassifier.__getstate__).
_STATE_CLASSES = {
    cls.__name__: cls
    for cls in (
        _TrainingState,
        SGDOptimizer,
        Penalty,
        ConstantSchedule,
        InvScalingSchedule,
        OptimalSchedule,
        AdaptiveSchedule,
        CosineSchedule,
        StallMonitor,
    )
}


def _state_to_plain(value):
    """``value`` with every training-state object replaced by a tagged dict."""
    if _STATE_CLASSES.get(type(value).__name__) is type(value):
        return {
            "__class__": type(value).__name__,
            "attributes": {
                name: _state_to_plain(attribute)
                for name, attribute in vars(value).items()
            },
        }
    if isinstance(value, list):
        return [_state_to_plain(item) for item in value]
    return value


def _state_from_plain(value):
    """Inverse of :func:`_state_to_plain`."""
    if isinstance(value, dict) and "__class__" in value:
        cls = _STATE_CLASSES[value["__class__"]]
        instance = cls.__new__(cls)
        instance.__dict__.update(
            {
                name: _state_from_plain(item)
                for name, item in value["attributes"].items()
            }
        )
        return instance
    if isinstance(value, list):
        return [_state_from_plain(item) for item in value]
    return value


# The parameters a training state is built from (see
# SoftmaxSGDClassifier._check_state_params).
_STATE_PARAMS = (
    "penalty",
    "alpha",
    "l1_ratio",
    "fit_intercept",
    "learning_rate",
    "eta0",
    "power_t",
    "momentum",
    "nesterovs_momentum",
    "average",
)


class SoftmaxSGDClassifier(CallbackSupportMixin, LinearClassifierMixin, BaseEstimator):
    """Multinomial logistic (softmax) regression trained by minibatch SGD.

    Minimises the weighted cross-entropy of the softmax of ``X @ coef.T +
    intercept`` plus a penalty, by stochastic gradient descent over shuffled
    minibatches (see :func:`sksoftmax.softmax_loss` for the objective)::

        sum_i s_i * CE(y_i, softmax(x_i W^T + b)) / sum_i s_i + alpha * R(W)

    Unlike :class:`~sklearn.linear_model.SGDClassifier` (one-vs-rest), the class
    probabilities come from one softmax; unlike
    :class:`~sklearn.linear_model.LogisticRegression` it supports
    :meth:`partial_fit` and scales to data seen once, in minibatches.

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet"} or None, default="l2"
        ``R(W)``: ``||W||^2 / 2``, ``||W||_1``, or
        ``l1_ratio ||W||_1 + (1 - l1_ratio) ||W||^2 / 2``. L1 is applied as a
        proximal step and yields exact zeros (with ``average``, the average
        of the iterates is zero only where each averaged iterate was).
    alpha : float, default=1e-4
        Regularisation strength. With ``penalty="l2"`` it matches
        LogisticRegression's ``C = 1 / (alpha * n_samples)``.
    l1_ratio : float, default=0.15
        The L1 share for ``penalty="elasticnet"``.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    max_iter : int, default=1000
        Maximum number of epochs (passes over the data) in :meth:`fit`.
    tol : float or None, default=1e-3
        Training stops (or, with ``learning_rate="adaptive"``, the step shrinks)
        when the epoch objective (validation loss with ``early_stopping``) has
        not improved by ``tol`` for ``n_iter_no_change`` epochs. None: run
        ``max_iter`` epochs.
    shuffle : bool or "blocks", default=True
        Whether to reshuffle the rows before each epoch. "blocks" keeps the
        rows in their order and makes each minibatch a contiguous block of
        rows, the blocks in a random order and their boundaries shifted by a
        random offset each epoch: no rows are copied into a batch buffer (a
        dense epoch about a fifth shorter, see the benchmarks; with
        ``early_stopping`` the training rows are a subset, still gathered,
        in blocks of neighbouring rows). Use it only for rows that are
        already in random order: sorted by class or by time, each batch
        would hold one kind of row and training would suffer (a warning
        says so when neighbouring rows share their class far more often
        than chance).
    verbose : int, default=0
        Print one line per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds shuffling and the validation split. An int gives bit-identical
        models for identical data on one machine (a second core can change
        the last bits: see "Threads" in the user guide).
    learning_rate : {"adaptive", "constant", "optimal", "invscaling", "cosine"}, \
            default="adaptive"
        The schedule, with ``t`` the number of updates so far:

        - "adaptive": ``eta0``, divided by 5 whenever the objective stalls
          (as in SGDClassifier); training stops when it falls under
          ``eta0 / 100``, or under 1e-6 (SGDClassifier's floor) for a
          numeric ``eta0``. With ``eta0="auto"``, :meth:`fit` may
          first let the step grow (see ``eta0``); the decay, and the
          ``/ 100``, then start from the step it settles on.
        - "constant": ``eta0``.
        - "optimal": ``eta0 / (1 + alpha * eta0 * t)`` (Bottou).
        - "invscaling": ``eta0 / (t + 1) ** power_t``.
        - "cosine": cosine decay from ``eta0`` to 0 over ``max_iter`` epochs;
          it runs all ``max_iter`` epochs (``tol`` does not stop it; early
          stopping does).
    eta0 : float or "auto", default="auto"
        Initial step size. "auto" derives it from the data: the inverse of
        the expected smoothness of a minibatch (from the curvature of the
        softmax loss and the row norms of ``X``), so that training is stable
        on unscaled data and fast on scaled data. That bound holds for the
        worst case. With the "adaptive" schedule, a :meth:`fit` from zero
        weights (not a warm start from a previous fit, no ``coef_init`` or
        ``intercept_init``) with ``tol`` set, no
        momentum (``momentum="auto"`` is 0.9 on data that fit in one batch)
        and no early stopping then doubles the step after each epoch that
        improves the objective by more than ``tol``, up to 64 times the
        bound. The first epoch that does not ends the growth, and the step
        becomes half the last one that improved (at least the bound); if
        that epoch's objective did not decrease (or its logits left the
        safe range) its weights are discarded, and its entry in
        ``loss_curve_`` repeats the previous one (``verbose`` prints what
        it measured).
    power_t : float, default=0.5
        Exponent of "invscaling".
    momentum : float or "auto", default="auto"
        Momentum, in [0, 1), as in MLPClassifier; 0 is plain SGD. "auto" is
        0.9 when :meth:`fit` trains on one full batch per epoch (data no
        larger than ``batch_size``: gradient descent, which Nesterov's
        momentum accelerates and where there is no gradient noise for it to
        amplify) and 0 otherwise, and in :meth:`partial_fit`. With
        minibatches, momentum multiplies the long-run step by
        ``1 / (1 - momentum)`` (pair it with a smaller ``eta0``) and makes
        every update touch every weight, so CSR data loses its sparse
        updates. When an epoch's objective rises in :meth:`fit`, the velocity
        is reset to zero (adaptive restart).
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum when ``momentum > 0``.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data, stop
        when its log-loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of the data held out with ``early_stopping``.
    n_iter_no_change : int, default=5
        Epochs without improvement before stopping (or shrinking the step).
    class_weight : dict, "balanced" or None, default=None
        Weights ``{label: weight}`` multiplied into ``sample_weight``;
        "balanced" uses ``n_samples / (n_classes * np.bincount(y))``, with
        ``sample_weight`` the weighted counts ``S / (n_classes * S_k)`` (as
        LogisticRegression: integer weights stay repeated rows).
    warm_start : bool, default=False
        Start :meth:`fit` from the previous solution (for whichever of
        ``coef_init`` and ``intercept_init`` is not given). The schedule,
        momentum and averages start afresh, with the current parameters.
    average : bool or int, default=False
        Averaged SGD: predict with the running mean of the weights, from the
        first update (True) or once ``t`` reaches the given count.
    batch_size : int or "auto", default="auto"
        Rows per minibatch; "auto" is ``min(256, n_samples)``, and 512 from
        8192 samples on. Data sets no larger than a batch are trained by
        full-batch gradient descent. For
        arrays on an accelerator (array API dispatch with torch CUDA, MPS or
        XPU tensors, or CuPy arrays), where a step costs about the same for
        256 rows as for thousands, "auto" is an eighth of the samples, clamped
        to [256, 16384] (and at most n_samples).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights; one row for two classes, as LogisticRegression.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string column
        names.
    n_iter_ : int
        Epochs run by the last :meth:`fit`, or by all :meth:`partial_fit` calls.
    t_ : int
        Number of minibatch updates done (after early stopping, up to the
        best epoch, whose state the fit keeps).
    loss_curve_ : list of float
        The training objective after each epoch: the data term averaged over
        the epoch's minibatches (each evaluated at the weights before its
        update, as SGDClassifier does; with ``average`` these are the SGD
        iterates, not the averaged weights that predict), plus the penalty.
    validation_loss_curve_ : list of float
        Validation log-loss after each epoch (``early_stopping=True`` only).
    validation_scores_ : list of float
        Validation accuracy after each epoch (``early_stopping=True`` only).
    best_loss_ : float
        The best validation log-loss (``early_stopping``) or training objective.

    See Also
    --------
    sklearn.linear_model.LogisticRegression : Batch solvers for the same model.
    sklearn.linear_model.SGDClassifier : One-vs-rest linear models trained by SGD.
    sksoftmax.softmax_loss : The objective and its gradient.

    Notes
    -----
    For two classes the model is binary logistic regression: ``coef_`` is the
    difference of the two softmax rows, the first row being held at zero.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sksoftmax import SoftmaxSGDClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), SoftmaxSGDClassifier(random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.predict_proba(X[:1]).sum().round(6)
    np.float64(1.0)
    """

    _parameter_constraints = {
        "penalty": [StrOptions({"l2", "l1", "elasticnet"}), None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "shuffle": ["boolean", StrOptions({"blocks"})],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
        "learning_rate": [
            StrOptions({"adaptive", "constant", "optimal", "invscaling", "cosine"})
        ],
        "eta0": [Interval(Real, 0, None, closed="neither"), StrOptions({"auto"})],
        "power_t": [Interval(Real, None, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left"), StrOptions({"auto"})],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "average": [Interval(Integral, 0, None, closed="left"), "boolean"],
        "batch_size": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
    }

    def __init__(
        self,
        *,
        penalty="l2",
        alpha=1e-4,
        l1_ratio=0.15,
        fit_intercept=True,
        max_iter=1000,
        tol=1e-3,
        shuffle=True,
        verbose=0,
        random_state=None,
        learning_rate="adaptive",
        eta0="auto",
        power_t=0.5,
        momentum="auto",
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        class_weight=None,
        warm_start=False,
        average=False,
        batch_size="auto",
    ):
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.verbose = verbose
        self.random_state = random_state
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.power_t = power_t
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.average = average
        self.batch_size = batch_size

    # ------------------------------------------------------------------ fit

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, coef_init=None, intercept_init=None, sample_weight=None):
        """Fit the model by minibatch SGD over up to ``max_iter`` epochs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        coef_init : ndarray of shape (n_classes, n_features), default=None
            Initial weights ((1, n_features) for two classes).
        intercept_init : ndarray of shape (n_classes,), default=None
            Initial intercepts ((1,) for two classes).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by ``class_weight``.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        with _state_restored_on_error(self):
            self._check_class_weight()
            weights_given = sample_weight is not None
            X, y_encoded, classes, sample_weight = self._validate_training_data(
                X, y, sample_weight, reset=True
            )
            # Callbacks score with the user's weights (None if none were
            # given), as for any estimator, not with class_weight folded in.
            user_weight = sample_weight if weights_given else None
            if self.class_weight == "balanced":
                sample_weight = (
                    sample_weight
                    * _balanced_class_weight(
                        y_encoded, sample_weight, len(classes)
                    ).astype(sample_weight.dtype)[y_encoded]
                )
            elif self.class_weight is not None:
                sample_weight = (
                    sample_weight
                    * compute_class_weight(
                        self.class_weight, classes=classes, y=classes[y_encoded]
                    ).astype(sample_weight.dtype)[y_encoded]
                )
            self._check_weighted_classes(y_encoded, sample_weight, classes)
            sample_weight = _normalised_weight(sample_weight)
            warm = self.warm_start and hasattr(self, "coef_")
            if warm and not np.array_equal(self.classes_, classes):
                raise ValueError(
                    f"warm_start needs the classes of the previous fit, "
                    f"{self.classes_.tolist()}; got {classes.tolist()}."
                )
            if warm:
                if self.coef_.shape[1] != X.shape[1]:
                    raise ValueError(
                        f"warm_start needs X with the {self.coef_.shape[1]} "
                        f"features of the previous fit; got {X.shape[1]}."
                    )
                # What is not given starts where the previous fit ended.
                if coef_init is None:
                    coef_init = self.coef_
                if intercept_init is None and self.fit_intercept:
                    intercept_init = self.intercept_
            coef, intercept = self._initial_params(
                coef_init, intercept_init, len(classes), X
            )

            rng = check_random_state(self.random_state)
            train_rows, validation_rows = self._split_validation(
                y_encoded, sample_weight, len(classes), rng
            )
            cold_start = not warm and coef_init is None and intercept_init is None
            state = self._new_training_state(
                X,
                sample_weight,
                train_rows,
                coef,
                intercept,
                total_epochs=self.max_iter,
                cold_start=cold_start,
            )
            callbacks = EpochCallbacks(
                self,
                X,
                y,
                user_weight,
                self.max_iter,
                lambda coef, intercept: self._fitted_attributes(
                    coef, intercept, classes
                ),
            )
            result = self._run_epochs(
                X,
                y_encoded,
                sample_weight,
                state,
                rng,
                train_rows,
                validation_rows,
                max_epochs=self.max_iter,
                t=0,
                check_convergence=True,
                callbacks=callbacks,
                # Zero weights: every row's loss is log(n_classes).
                start_objective=math.log(len(classes)) if cold_start else None,
            )
            self.classes_ = classes
            self.t_ = result["t"]
            self.n_iter_ = result["n_epochs"]
            self.loss_curve_ = result["loss_curve"]
            self.best_loss_ = result["best_loss"]
            if self.early_stopping:
                self.validation_loss_curve_ = result["validation_loss_curve"]
                self.validation_scores_ = result["validation_scores"]
            else:
                for name in ("validation_loss_curve_", "validation_scores_"):
                    self.__dict__.pop(name, None)
            self._training_state = state
            self._publish(*result["model"])
            callbacks.fit_end()
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of minibatch SGD over ``(X, y)``, continuing training.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,)
            Its labels.
        classes : array-like of shape (n_classes,), default=None
            All classes the stream can hold: required on the first call,
            optional (and checked) afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, multiplied by ``class_weight`` (a dict;
            "balanced" needs the whole data and is refused here).

        Returns
        -------
        self : object
            The updated estimator. If this call raises, the estimator is left
            exactly as it was.

        Notes
        -----
        The schedule, penalty, momentum and averaging are built by the first
        call (or by :meth:`fit`) and carried across calls: changing a
        parameter they depend on (``penalty``, ``alpha``, ``l1_ratio``,
        ``fit_intercept``, ``learning_rate``, ``eta0``, ``power_t``,
        ``momentum``, ``nesterovs_momentum``, ``average``) in between raises
        a ValueError that names it. After :meth:`fit` with early stopping,
        training continues from the best epoch, the one ``coef_`` holds.
        """
        with _state_restored_on_error(self):
            first_call = not hasattr(self, "classes_")
            if not first_call:
                # _fit_context skips this once fitted; parameters set in between
                # must still be valid.
                self._validate_params()
            if first_call and classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit."
                )
            self._check_class_weight()
            if isinstance(self.class_weight, str):
                raise ValueError(
                    "class_weight='balanced' needs the class counts of the whole "
                    "data, which partial_fit does not see; pass a dict computed "
                    "with sklearn.utils.compute_class_weight instead."
                )
            if classes is not None:
                # To numpy first: an array on a GPU has no np.asarray.
                if not isinstance(classes, (list, tuple)):
                    classes = to_numpy(classes)
                _check_label_types(classes, "classes")
                all_classes = unique_labels(classes)
                if not first_call and not np.array_equal(self.classes_, all_classes):
                    raise ValueError(
                        f"classes={all_classes.tolist()} differs from the classes of "
                        f"earlier calls to partial_fit, {self.classes_.tolist()}."
                    )
            else:
                all_classes = self.classes_
            if len(all_classes) < 2:
                raise ValueError(
                    f"partial_fit needs at least 2 classes; got {all_classes.tolist()}."
                )
            if not first_call:
                check_same_namespace(X, self, attribute="coef_", method="partial_fit")
                self._check_state_params()
            X, y, sample_weight = self._validate_X_y_weight(
                X, y, sample_weight, reset=first_call
            )
            if not first_call:
                self._check_state_namespace(X)
            unseen = y[~np.isin(y, all_classes)]
            if unseen.size:
                raise ValueError(
                    f"y holds labels not in classes {all_classes.tolist()}: "
                    f"{np.unique(unseen).tolist()}."
                )
            y_encoded = np.searchsorted(all_classes, y)
            if isinstance(self.class_weight, dict):
                sample_weight = (
                    sample_weight
                    * compute_class_weight(
                        self.class_weight, classes=all_classes, y=y
                    ).astype(sample_weight.dtype)[y_encoded]
                )
            sample_weight = _normalised_weight(sample_weight)
            if not first_call and self.coef_.dtype != X.dtype:
                # Later chunks follow the dtype the model was started with.
                X = (
                    X.astype(self.coef_.dtype)
                    if sparse.issparse(X)
                    else (get_namespace_and_device(X)[0].astype(X, self.coef_.dtype))
                )
                # float64 data beyond float32's range becomes infinite here.
                assert_all_finite(X, input_name="X")

            rows = np.arange(X.shape[0])
            if first_call:
                coef, intercept = self._initial_params(None, None, len(all_classes), X)
                state = self._new_training_state(
                    X,
                    sample_weight,
                    rows,
                    coef,
                    intercept,
                    total_epochs=self.max_iter,
                    stream=True,
                )
                t, n_epochs, loss_curve = 0, 0, []
            else:
                state = copy.deepcopy(self._training_state)
                t, n_epochs, loss_curve = self.t_, self.n_iter_, list(self.loss_curve_)
            schedule = state.optimizer.schedule
            if isinstance(schedule, CosineSchedule):
                # Each call is an epoch: the decay runs over max_iter calls
                # (the current max_iter), whatever the chunks' sizes.
                steps = self._steps_per_epoch(len(rows), self._batch_size(len(rows), X))
                schedule.follow_calls(t, n_epochs, self.max_iter, steps)
                if schedule.finished(t):
                    warnings.warn(
                        f"learning_rate='cosine' has decayed to a step of 0 over "
                        f"max_iter={self.max_iter} partial_fit calls: this call "
                        "does not move the weights (with average, their average "
                        "still moves towards them). Raise max_iter to go on "
                        "training.",
                        UserWarning,
                    )
            rng = check_random_state(self.random_state)
            result = self._run_epochs(
                X,
                y_encoded,
                sample_weight,
                state,
                rng,
                rows,
                None,
                max_epochs=1,
                t=t,
                check_convergence=False,
            )
            if result["loss_curve"]:
                state.end_of_partial_fit(
                    result["loss_curve"][-1], self.tol, self.n_iter_no_change
                )
            self.classes_ = all_classes
            self.t_ = result["t"]
            self.n_iter_ = n_epochs + result["n_epochs"]
            self.loss_curve_ = loss_curve + result["loss_curve"]
            self.best_loss_ = min(self.loss_curve_, default=np.inf)
            self._training_state = state
            self._publish(*result["model"])
        return self

    def _check_state_namespace(self, X):
        """Refuse ``X`` in another namespace or on another device than the
        training state that partial_fit continues (the state's arrays stay
        where the first call put them; ``coef_`` alone may have been moved,
        or dispatch turned off since)."""
        state = namespace_and_device(self._training_state.coef)
        data = namespace_and_device(X)
        if data != state:
            if state[0] != "numpy" and not get_config()["array_api_dispatch"]:
                advice = (
                    "With array_api_dispatch off, every X becomes numpy: turn it "
                    "on (sklearn.config_context(array_api_dispatch=True))"
                )
            else:
                advice = "Pass X as the earlier calls did"
            raise ValueError(
                f"partial_fit continues training held in {state[0]} on device "
                f"{state[1]!r}, but X is {data[0]} on device {data[1]!r}. "
                f"{advice}, or start again with fit."
            )

    def _check_state_params(self):
        """Refuse to continue a training state built with other parameters.

        The schedule, penalty, momentum and averaging are built on the first
        call (or by fit) and carried across calls; a parameter changed since
        would be silently ignored.
        """
        built_with = getattr(self._training_state, "built_with", None)
        if built_with is None:
            return  # a model saved before this check existed
        changed = [
            f"{name}={value!r} (now {getattr(self, name)!r})"
            for name, value in built_with.items()
            if getattr(self, name) != value
        ]
        if changed:
            raise ValueError(
                "partial_fit continues the training of earlier calls, whose "
                f"schedule, penalty, momentum and averaging were built with "
                f"{', '.join(changed)}. Set these back, or start again: fit "
                "(warm_start=True starts from the current weights), or "
                "partial_fit on a clone."
            )

    # ------------------------------------------------------------- predict

    def predict_log_proba(self, X):
        """Log of the class probabilities, computed by a stable log-softmax.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict_log_proba")
        raw_prediction = self.decision_function(X)
        if raw_prediction.ndim == 1:
            # Two classes: softmax([0, z]) is [1 - sigmoid(z), sigmoid(z)].
            xp = get_namespace_and_device(raw_prediction)[0]
            raw_prediction = xp.stack(
                [xp.zeros_like(raw_prediction), raw_prediction], axis=1
            )
        if isinstance(raw_prediction, np.ndarray):
            return log_softmax(raw_prediction, out=raw_prediction)
        return log_softmax(raw_prediction)

    def predict_proba(self, X):
        """Class probabilities: the softmax of :meth:`decision_function`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Rows sum to one; columns follow ``classes_``.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict_proba")
        log_proba = self.predict_log_proba(X)
        return get_namespace_and_device(log_proba)[0].exp(log_proba)

    def __getstate__(self):
        # The partial_fit state is kept as dicts, lists, arrays and numbers,
        # so that skops.io trusts everything in a saved model but this class.
        state = dict(super().__getstate__())
        if "_training_state" in state:
            state["_training_state"] = _state_to_plain(state["_training_state"])
        return state

    def __setstate__(self, state):
        state = dict(state)
        if "_training_state" in state:
            state["_training_state"] = _state_from_plain(state["_training_state"])
        super().__setstate__(state)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.array_api_support = True
        return tags

    # ------------------------------------------------------------ helpers

    def _validate_X_y_weight(self, X, y, sample_weight, *, reset):
        """Checked X (in its namespace and device), y and sample_weight (numpy).

        Labels and weights are small: the bookkeeping (encoding, class checks,
        batch weight sums) uses numpy copies, and the training loop moves them
        to X's device once.
        """
        xp, _, device = get_namespace_and_device(X)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse="csr",
            dtype=[xp.float64, xp.float32],
            order="C",
            reset=reset,
        )
        y = _convert_to_numpy(y, get_namespace_and_device(y)[0])
        _check_label_types(y, "y")
        check_classification_targets(y)
        sample_weight = _check_sample_weight(
            move_to(sample_weight, xp=xp, device=device),
            X,
            dtype=X.dtype,
            ensure_non_negative=True,
        )
        return X, y, _convert_to_numpy(sample_weight, xp)

    def _validate_training_data(self, X, y, sample_weight, *, reset):
        X, y, sample_weight = self._validate_X_y_weight(
            X, y, sample_weight, reset=reset
        )
        classes, y_encoded = _encode_labels(y)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {classes[0]!r}."
            )
        return X, y_encoded.astype(np.intp, copy=False), classes, sample_weight

    def _check_class_weight(self):
        """class_weight's values must be finite and non-negative (the constraints
        only ask for a dict)."""
        if isinstance(self.class_weight, dict) and not all(
            isinstance(weight, Real) and math.isfinite(weight) and weight >= 0
            for weight in self.class_weight.values()
        ):
            raise ValueError(
                "class_weight must map labels to finite, non-negative weights; "
                f"got {self.class_weight!r}."
            )

    @staticmethod
    def _check_weighted_classes(y_encoded, sample_weight, classes):
        weighted = np.flatnonzero(
            np.bincount(y_encoded, weights=sample_weight > 0, minlength=len(classes))
        )
        if len(weighted) < 2:
            raise ValueError(
                "sample_weight (times class_weight) leaves positive weight on "
                f"fewer than 2 classes: {classes[weighted].tolist()}; at least 2 "
                "classes must carry weight."
            )

    def _initial_params(self, coef_init, intercept_init, n_classes, X):
        """Full-softmax parameters (in X's namespace, device and dtype), from
        initial values given in the published shapes, or zeros."""
        xp, _, device = get_namespace_and_device(X)
        n_rows = 1 if n_classes == 2 else n_classes
        n_features = X.shape[1]
        if isinstance(X, np.ndarray) or sparse.issparse(X):
            # Column-major, as training keeps it: no copy when training starts.
            coef = np.zeros((n_classes, n_features), dtype=X.dtype, order="F")
        else:
            coef = xp.zeros((n_classes, n_features), dtype=X.dtype, device=device)
        intercept = (
            xp.zeros(n_classes, dtype=X.dtype, device=device)
            if self.fit_intercept
            else None
        )
        if coef_init is not None:
            coef_init = xp.asarray(
                move_to(coef_init, xp=xp, device=device), dtype=X.dtype
            )
            if not bool(xp.all(xp.isfinite(coef_init))):
                raise ValueError(
                    "coef_init contains NaN or infinity; it must be finite."
                )
            if tuple(coef_init.shape) != (n_rows, n_features):
                raise ValueError(
                    f"coef_init must have shape {(n_rows, n_features)}; "
                    f"got {tuple(coef_init.shape)}."
                )
            coef[-n_rows:, ...] = coef_init
        if intercept_init is not None:
            intercept_init = xp.reshape(
                xp.asarray(
                    move_to(intercept_init, xp=xp, device=device), dtype=X.dtype
                ),
                (-1,),
            )
            if not bool(xp.all(xp.isfinite(intercept_init))):
                raise ValueError(
                    "intercept_init contains NaN or infinity; it must be finite."
                )
            if tuple(intercept_init.shape) != (n_rows,):
                raise ValueError(
                    f"intercept_init must have shape ({n_rows},); "
                    f"got {tuple(intercept_init.shape)}."
                )
            if intercept is not None:
                intercept[-n_rows:] = intercept_init
        return coef, intercept

    @staticmethod
    def _fitted_attributes(coef, intercept, classes):
        """``coef_``, ``intercept_`` and ``classes_`` from training parameters
        (copies; for two classes, row 1 of the pinned softmax)."""
        xp = get_namespace_and_device(coef)[0]
        if coef.shape[0] == 2:
            coef, intercept = (
                coef[1:, ...],
                None if intercept is None else intercept[1:],
            )
        return {
            "coef_": xp.asarray(coef, copy=True),
            "intercept_": (
                _zeros_like(coef[:, 0])
                if intercept is None
                else xp.asarray(intercept, copy=True)
            ),
            "classes_": classes,
        }

    def _publish(self, coef, intercept):
        for name, value in self._fitted_attributes(
            coef, intercept, self.classes_
        ).items():
            setattr(self, name, value)

    def _batch_size(self, n_samples, X):
        if self.batch_size == "auto":
            return _auto_batch_size(n_samples, _on_accelerator(X))
        # A larger batch is the full batch: never allocate buffers beyond the data.
        return min(self.batch_size, n_samples)

    def _new_training_state(
        self,
        X,
        sample_weight,
        rows,
        coef,
        intercept,
        *,
        total_epochs,
        stream=False,
        cold_start=False,
    ):
        n_rows = len(rows)
        batch_size = self._batch_size(n_rows, X)
        penalty = make_penalty(self.penalty, self.alpha, self.l1_ratio)
        if self.eta0 == "auto":
            # Held-out rows get zero weight rather than a copy of X.
            training_weight = np.zeros_like(sample_weight)
            training_weight[rows] = sample_weight[rows]
            eta0, intercept_scale = auto_step_sizes(
                X,
                training_weight,
                self.fit_intercept,
                batch_size,
                penalty.l2,
                n_samples=n_rows,
                gram_max_features=(
                    GRAM_MAX_FEATURES_ACCELERATOR
                    if _on_accelerator(X)
                    else GRAM_MAX_FEATURES
                ),
            )
        else:
            eta0, intercept_scale = float(self.eta0), 1.0
        steps_per_epoch = self._steps_per_epoch(n_rows, batch_size)
        momentum = self.momentum
        if momentum == "auto":
            momentum = 0.9 if steps_per_epoch == 1 and not stream else 0.0
        schedule = make_schedule(
            self.learning_rate,
            eta0,
            alpha=self.alpha,
            power_t=self.power_t,
            total_steps=total_epochs * steps_per_epoch,
            # The bound is the worst case: a fit from zeros lets the step grow
            # from it (not with momentum, whose long-run step is already
            # larger, nor early stopping, whose best epoch would pick up the
            # noise of trial steps; partial_fit sees one epoch per call, and
            # warm starts may begin where a doubled step is already too much).
            grow=(
                self.eta0 == "auto"
                and self.tol is not None
                and cold_start
                and not (momentum or stream or self.early_stopping)
            ),
            from_data=self.eta0 == "auto",
        )
        if isinstance(coef, np.ndarray):
            # Column-major weights: a sparse batch reads and writes whole
            # columns coef[:, j], each then contiguous in memory, and the
            # dense products coef @ X_batch.T run about twice as fast for a
            # few classes as with row-major weights.
            coef = np.asfortranarray(coef)
        params = [coef] if intercept is None else [coef, intercept]
        optimizer = SGDOptimizer(
            params,
            schedule,
            momentum=momentum,
            nesterov=self.nesterovs_momentum,
            step_scales=[1.0, intercept_scale][: len(params)],
        )
        if self.average is True:
            average_start = 1
        elif self.average:
            average_start = int(self.average)
        else:
            average_start = None
        state = _TrainingState(coef, intercept, optimizer, penalty, average_start)
        state.built_with = {name: getattr(self, name) for name in _STATE_PARAMS}
        return state

    def _steps_per_epoch(self, n_rows, batch_size):
        steps = math.ceil(n_rows / batch_size)
        if self.shuffle == "blocks" and steps > 1:
            steps += 1  # the offset splits one block in two
        return steps

    def _split_validation(self, y_encoded, sample_weight, n_classes, rng):
        rows = np.arange(len(y_encoded))
        if not self.early_stopping:
            return rows, None
        n_validation = math.ceil(self.validation_fraction * len(rows))
        if n_validation < n_classes or len(rows) - n_validation < n_classes:
            raise ValueError(
                "early_stopping holds out "
                f"validation_fraction={self.validation_fraction} "
                f"of {len(rows)} samples ({n_validation} rows), which cannot hold "
                f"each of the {n_classes} classes in both the training and the "
                "validation part; use more data, another validation_fraction, or "
                "early_stopping=False."
            )
        splitter = StratifiedShuffleSplit(
            test_size=self.validation_fraction, random_state=rng.randint(2**31 - 1)
        )
        try:
            train_rows, validation_rows = next(splitter.split(rows, y_encoded))
        except ValueError as error:
            raise ValueError(
                f"early_stopping could not split the data into stratified training "
                f"and validation parts: {error}"
            ) from error
        weighted = sample_weight[train_rows] > 0
        if len(np.unique(y_encoded[train_rows][weighted])) < 2:
            raise ValueError(
                "early_stopping left positive sample_weight on fewer than 2 classes "
                "in the training part; give more samples positive weight, or use "
                "another validation_fraction or early_stopping=False."
            )
        if not np.any(sample_weight[validation_rows] > 0):
            raise ValueError(
                "early_stopping left no positive sample_weight in the validation "
                "part, so its loss cannot be measured; give more samples positive "
                "weight, or use another validation_fraction or early_stopping=False."
            )
        return np.sort(train_rows), np.sort(validation_rows)

    def _run_epochs(
        self,
        X,
        y_encoded,
        sample_weight,
        state,
        rng,
        train_rows,
        validation_rows,
        *,
        max_epochs,
        t,
        check_convergence,
        callbacks=None,
        start_objective=None,
    ):
        """The epoch loop: shuffle, minibatch gradient, update, bookkeeping.

        ``start_objective``: the objective of the starting weights, when
        known (a cold start): if no epoch improves on it, those weights are
        kept, with a warning.
        """
        n_rows = len(train_rows)
        batch_size = self._batch_size(n_rows, X)
        unit_weights = bool(np.all(sample_weight == 1))
        # CSR data with plain SGD updates only the columns each batch touches;
        # momentum and averaging change every weight at every step.
        lazy_sparse = (
            sparse.issparse(X)
            and not state.optimizer.momentum
            and state.average_start is None
        )
        if lazy_sparse:
            kernel = SparseMinibatchGradient
        elif isinstance(state.coef, np.ndarray):
            kernel = MinibatchGradient
        else:
            kernel = ArrayAPIMinibatchGradient
        gradient = kernel(
            X,
            y_encoded,
            None if unit_weights else sample_weight,
            state.coef.shape[0],
            batch_size,
            state.intercept is not None,
        )
        train_weight_sum = float(sample_weight[train_rows].sum())
        gradient.mean_weight = train_weight_sum / n_rows
        x_max_abs = _max_abs(X)
        batches = list(gen_batches(n_rows, batch_size))
        # Full batches need no shuffling; all rows in order need no gathering.
        shuffle_blocks = self.shuffle == "blocks" and len(batches) > 1
        shuffle = bool(self.shuffle) and not shuffle_blocks and len(batches) > 1
        if shuffle_blocks:
            _warn_if_rows_look_sorted(y_encoded[train_rows])
        in_place = not shuffle and n_rows == X.shape[0]
        batch_product = batch_size * X.shape[1] * state.coef.shape[0]
        single_blas_thread = isinstance(state.coef, np.ndarray) and (
            batch_product < SMALL_BATCH_PRODUCT
        )
        # Gathered rows of large dense data: the next batches' gather runs
        # in a second thread, on the core the products leave free.
        prefetch = (
            kernel is MinibatchGradient
            and isinstance(X, np.ndarray)
            and not (in_place or shuffle_blocks)
            and prefetch_pays(
                X, batch_size, len(batches), single_blas_thread, _blas_thread_count()
            )
        )
        # There the rows are copied anyway, and the thread can append a 1 to
        # each: the intercept then joins the products as a last column of
        # the weights, which saves three numpy calls a step.
        joint = prefetch and state.intercept is not None
        if joint:
            state.join_weights()
        prefetcher = (
            RowPrefetcher(X, batch_size, y_encoded, ones_column=joint)
            if prefetch
            else None
        )

        train_epoch = (
            _train_sparse_epoch
            if lazy_sparse
            else functools.partial(_train_epoch, prefetcher=prefetcher)
        )
        loss_curve, validation_loss_curve, validation_scores = [], [], []
        monitor, best, n_epochs = StallMonitor(), None, 0
        last_good = None  # the state before the epoch, for divergence
        # (The starting weights of a cold start are zeros: their scalars
        # suffice to restore them, with no copy of the weights.)
        start = None if start_objective is None else state.snapshot_scalars()
        converged = (
            not check_convergence
            or self.tol is None
            or state.optimizer.schedule.fixed_length
        )
        start_time = time.perf_counter()
        # Overflow is detected below (non-finite loss) rather than warned about.
        with (
            np.errstate(over="ignore", invalid="ignore", divide="ignore"),
            _blas_threads(single_blas_thread),
        ):
            for _ in range(max_epochs):
                order = gradient.move_indices(
                    rng.permutation(train_rows) if shuffle else train_rows
                )
                epoch_batches = (
                    _shuffled_blocks(n_rows, batch_size, rng)
                    if shuffle_blocks
                    else batches
                )
                # Divergence puts back all the epoch changed: weights, velocities,
                # averages, penalty and schedule state, and the update count.
                last_good, last_good_t = state.snapshot(last_good), t
                if callbacks is not None:
                    callbacks.epoch_begin(*state.model())
                epoch_loss, t = train_epoch(
                    gradient, state, order, epoch_batches, in_place, t, train_weight_sum
                )
                objective = epoch_loss + state.penalty.value(state.coef)
                in_range = _logits_in_range(state, x_max_abs)
                schedule = state.optimizer.schedule
                epoch_step = schedule(t)
                # A step grown past the bound is on trial (see AdaptiveSchedule).
                on_trial = schedule.growing and bool(loss_curve)
                if not (math.isfinite(objective) and in_range):
                    state.restore(last_good)
                    t = last_good_t
                    if not on_trial:
                        _warn_divergence(n_epochs + 1, schedule(t))
                        converged = True
                        break
                    objective = math.inf
                previous = loss_curve[-1] if loss_curve else math.inf
                discarded = on_trial and not objective < previous
                if discarded and math.isfinite(objective):
                    # The doubled step made things worse: back to the weights
                    # before it. (restore puts back the trial step, which
                    # grow() then cuts: restore first.)
                    state.restore(last_good)
                    t = last_good_t
                if schedule.growing:
                    schedule.grow(objective, previous, self.tol)
                measured = objective
                if discarded:
                    # The weights are the previous epoch's, and so is their
                    # objective; the stall count ignores this epoch.
                    objective = previous
                # (The objective mixes the data loss along the epoch with the
                # penalty after it; with one full batch per epoch, where
                # restarts matter, that is the objective one step apart.)
                if (
                    state.optimizer.momentum
                    and loss_curve
                    and objective > loss_curve[-1]
                ):
                    state.optimizer.restart()  # the objective rose: drop the velocity
                n_epochs += 1
                coef_model, intercept_model = state.model()
                loss_curve.append(objective)
                message = f"Epoch {n_epochs}, objective {measured:.6f}"
                if discarded:
                    message += " (step too large: this epoch's weights discarded)"
                current = objective
                if validation_rows is not None:
                    validation_loss, validation_accuracy = _validation_metrics(
                        gradient,
                        sample_weight,
                        validation_rows,
                        coef_model,
                        intercept_model,
                        batch_size,
                    )
                    validation_loss_curve.append(validation_loss)
                    validation_scores.append(validation_accuracy)
                    message += f", validation loss {validation_loss:.6f}"
                    current = validation_loss
                if self.verbose:
                    print(
                        f"{message}, step size {epoch_step:.4g}, "
                        f"time {time.perf_counter() - start_time:.3f}s"
                    )
                improved, stalled = (
                    (False, False)
                    if discarded
                    else monitor.update(current, self.tol, self.n_iter_no_change)
                )
                if improved and validation_rows is not None:
                    # The whole state, not only the model: what continues
                    # from this fit (partial_fit) starts where coef_ is.
                    best = (state.snapshot(None if best is None else best[0]), t)
                if callbacks is not None and callbacks.epoch_end(
                    coef_model, intercept_model
                ):
                    converged = True  # a callback asked to stop: not a failure
                    break
                if check_convergence and stalled:
                    # Early stopping ends a fixed-length schedule too, whose
                    # own stalled() never asks to stop.
                    schedule = state.optimizer.schedule
                    if schedule.stalled() or (
                        validation_rows is not None and schedule.fixed_length
                    ):
                        converged = True
                        break
        if state.optimizer.schedule.growing:
            # Stopped during the growth phase (max_iter, a callback): what
            # follows, partial_fit included, keeps the last step that improved.
            state.optimizer.schedule.end_growth()
        if not converged:
            warnings.warn(
                f"Maximum number of epochs ({max_epochs}) reached before the "
                "objective stopped improving by tol; increase max_iter.",
                ConvergenceWarning,
            )
        if best is not None:
            state.restore(best[0])  # early stopping keeps the best epoch
            t = best[1]
        if start is not None and _worse_than_zero_weights(
            state,
            min(loss_curve, default=math.inf),
            start_objective,
            gradient,
            sample_weight,
            train_rows,
            batch_size,
        ):
            # A step far too large need not overflow: in float64 the loss
            # can stay finite (1e91) and stall, which stops the fit as if
            # converged, on weights worse than none.
            state.restore_zeros(start)
            t = 0
            warnings.warn(
                f"No epoch improved on the starting (zero) weights: the best "
                f"epoch's objective was {min(loss_curve):.4g}, theirs "
                f"{start_objective:.4g}. They are kept. Where the features carry "
                "signal, the step size is too large for this data: lower eta0 "
                "(or use eta0='auto') or scale the features, for example with "
                "StandardScaler.",
                ConvergenceWarning,
            )
        return {
            "t": t,
            "n_epochs": n_epochs,
            "loss_curve": loss_curve,
            "validation_loss_curve": validation_loss_curve,
            "validation_scores": validation_scores,
            "best_loss": monitor.best,
            "model": state.model(),
        }


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


def _warn_divergence(epoch, step_size):
    warnings.warn(
        f"Training diverged in epoch {epoch}: the loss or the weights overflowed "
        f"with step size {step_size:.3g}. The weights of the last finite epoch "
        "are kept. Lower eta0 (or use eta0='auto') or scale the features, for "
        "example with StandardScaler.",
        ConvergenceWarning,
    )


# Below this many multiply-adds per minibatch product, BLAS threads cost more in
# synchronisation than they save (measured: a 256 x 64 x 10 batch on 2 cores
# runs 3x faster on one thread), so the epoch loop runs single-threaded.
SMALL_BATCH_PRODUCT = 2**22


@functools.cache
def _threadpool_controller():
    # Built once: building one inspects every loaded library (0.2 ms), which
    # would dominate the smallest fits.
    return ThreadpoolController()


def _blas_thread_count():
    """The most threads a BLAS library of this process may use now."""
    libraries = _threadpool_controller().select(user_api="blas").lib_controllers
    return max((library.num_threads for library in libraries), default=1)


def _blas_threads(single_thread):
    """One BLAS thread (small minibatch products on numpy), else unchanged."""
    if single_thread:
        return _threadpool_controller().limit(limits=1, user_api="blas")
    return nullcontext()


def _train_epoch(
    gradient, state, order, batches, in_place, t, weight_total, prefetcher=None
):
    """One pass of minibatch updates.

    Returns the epoch's data loss, the batches' losses weighted by their share
    of ``weight_total`` (the training rows' weight sum), and ``t``.

    A kernel whose losses stay on the device is never read mid-epoch (a read
    waits for the device): a divergence there shows as a non-finite total at
    the end of the epoch, and the caller restores the last good weights
    either way. The total is summed in shares, not as a weighted sum, so that
    it stays in float32's range wherever each batch's mean loss does.
    """
    check_each_batch = not gradient.loss_on_device
    batch_size = gradient.batch_size
    epoch_loss = 0.0
    # Rows that end in a 1 go with the joint weights (see _run_epochs).
    weights = state.coef.base if prefetcher and prefetcher.ones_column else None
    with nullcontext() if prefetcher is None else prefetcher.epoch(order) as gathered:
        for batch in batches:
            rows = batch if in_place else order[batch]
            if gathered is None:
                batch_loss, batch_weight, grads = gradient(
                    rows, state.coef, state.intercept
                )
            else:
                X_batch, true_class = next(gathered)
                batch_loss, batch_weight, grads = gradient(
                    rows,
                    state.coef,
                    state.intercept,
                    X_batch=X_batch,
                    true_class=true_class,
                    weights=weights,
                )
            if grads is None:
                continue  # zero-weight rows carry no gradient
            if check_each_batch and not math.isfinite(batch_loss):
                # Diverged: the caller restores the last good weights.
                return math.nan, t
            epoch_loss += batch_loss * (batch_weight / weight_total)
            state.step(grads, t, weights, _batch_share(batch, batch_size))
            t += 1
    state.flush_decay()
    return float(epoch_loss), t


def _batch_share(batch, batch_size):
    """The step size of the batch ``batch`` as a share of a full batch's.

    The epoch's last batch (with ``shuffle="blocks"``, the first and the last
    block, which the random offset shortens) may hold a few rows, or one.
    Its mean gradient is as large as a full batch's but far noisier, and the
    step sizes are made for full batches: a one-row batch after 2048 rows
    cost 5 points of held-out accuracy. With a step of ``m / batch_size``
    times the schedule's, each of its ``m`` rows moves the weights exactly
    as much as a row of a full batch does. The penalty's step shrinks
    alike: at a full step each short batch would add a batch's worth of
    penalty for a fraction of a batch's data, and the fit would converge
    to a larger alpha (about twice it for 257 rows in batches of 256).
    """
    rows = batch.stop - batch.start
    return 1.0 if rows == batch_size else rows / batch_size


def _train_sparse_epoch(gradient, state, order, batches, in_place, t, weight_total):
    """:func:`_train_epoch` for CSR data: updates touch the batch's columns only."""
    batch_size = gradient.batch_size
    epoch_loss = 0.0
    for batch in batches:
        selected = gradient.select(batch if in_place else order[batch])
        if selected is None:
            continue
        columns, weight_sum = selected[1], selected[4]
        # Shrinkage owed since the columns were last touched comes first, as
        # it would have with dense updates.
        state.catch_up(columns)
        batch_loss, grads, coef_rows = gradient(
            selected, state.coef, state.intercept, state.scale
        )
        if not math.isfinite(batch_loss):
            state.fold_scale()
            return math.nan, t
        epoch_loss += batch_loss * (weight_sum / weight_total)
        state.sparse_step(grads, columns, coef_rows, t, _batch_share(batch, batch_size))
        t += 1
    state.fold_scale()
    return epoch_loss, t


def _worse_than_zero_weights(
    state, best_epoch, zero_objective, gradient, sample_weight, rows, batch_size
):
    """Whether no epoch's objective, nor the model's own, is below that of
    zero weights (beyond the rounding of their sums).

    ``best_epoch`` is the least epoch objective: one below says the fit made
    progress, at no cost. Only otherwise is the model's objective computed,
    in one pass over the training ``rows``: an epoch of one full batch
    measures its loss before its step, at zero weights after a cold start,
    so a good first step shows only there.
    """
    threshold = zero_objective * (1 + 1e-5)
    if best_epoch <= threshold:
        return False
    coef, intercept = state.model()
    loss = _validation_metrics(
        gradient, sample_weight, rows, coef, intercept, batch_size
    )[0]
    return not loss + state.penalty.value(coef) <= threshold


def _validation_metrics(gradient, sample_weight, rows, coef, intercept, batch_size):
    """Weighted log-loss and accuracy on the rows ``rows``, batch by batch.

    Uses the training loop's gather: no copy of the validation part of X.
    """
    xp = get_namespace_and_device(coef)[0]
    total_loss = total_correct = total_weight = 0.0
    for batch in gen_batches(len(rows), batch_size):
        batch_rows = rows[batch]
        raw = gradient.gather(gradient.move_indices(batch_rows)) @ coef.T
        if intercept is not None:
            raw = raw + intercept
        log_proba = _convert_to_numpy(log_softmax(raw), xp)
        y_batch = gradient.labels[batch_rows]
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


def _encode_labels(y):
    """``np.unique(y, return_inverse=True)``, in O(n) for integer labels.

    Integer labels spanning a range not much wider than the data are counted
    with ``bincount`` rather than sorted (5x faster on 200,000 labels).
    """
    if y.dtype.kind in "iu" and y.dtype.isnative and y.size:
        low = y.min()
        if int(y.max()) - int(low) <= 2 * y.size + 1024:
            # In y's dtype the offsets cannot overflow for unsigned labels; signed
            # ones are widened first (int8 labels may span 255).
            wide = y if y.dtype.kind == "u" else y.astype(np.int64)
            offsets = (wide - low).astype(np.intp, copy=False)
            present = np.bincount(offsets) > 0
            classes = low + np.flatnonzero(present).astype(y.dtype)
            position = np.cumsum(present) - 1  # each value's index in classes
            return classes, position[offsets]
    classes, inverse = np.unique(y, return_inverse=True)
    return classes, inverse.reshape(-1)


def _auto_batch_size(n_samples, on_accelerator):
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


def _on_accelerator(X):
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


def _copy(array):
    """A copy in the array's own namespace and device."""
    if isinstance(array, np.ndarray):
        return array.copy()
    return get_namespace_and_device(array)[0].asarray(array, copy=True)


def _zeros_like(array):
    return get_namespace_and_device(array)[0].zeros_like(array)


def _check_label_types(labels, name):
    """Refuse object labels that mix kinds (strings, numbers, None, ...): NumPy
    cannot sort them and fails deep inside with a TypeError."""
    labels = np.asarray(labels)
    if labels.dtype == object:
        kinds = set()
        for kind in set(map(type, labels.ravel())):
            if issubclass(kind, str):
                kinds.add("str")
            elif issubclass(kind, Number):
                kinds.add("number")
            else:
                kinds.add(kind.__name__)
        if len(kinds) > 1:
            raise ValueError(
                f"{name} mixes label types {sorted(kinds)}; labels must be all "
                "strings or all numbers."
            )


def _balanced_class_weight(y_encoded, sample_weight, n_classes):
    """``S / (n_classes * S_k)``, ``S_k`` the weight of class ``k``'s rows:
    scikit-learn's "balanced" weights on the weighted class counts (as
    LogisticRegression computes them; here for any scikit-learn version).
    A class whose rows all weigh 0 gets 0 (they carry no weight anyway)."""
    counts = np.bincount(y_encoded, weights=sample_weight, minlength=n_classes)
    with np.errstate(divide="ignore"):
        weights = counts.sum() / (n_classes * counts)
    weights[counts == 0] = 0.0
    return weights


def _normalised_weight(sample_weight):
    """Weights with a finite, positive sum.

    The objective divides by the weight sum, so weights whose sum overflows are
    divided by their largest value, which changes nothing else.
    """
    with np.errstate(over="ignore"):
        total = float(sample_weight.sum())
    if total == 0:
        raise ValueError(
            "sample_weight times class_weight is zero for every sample; at least "
            "one sample must carry weight."
        )
    if not math.isfinite(total):
        sample_weight = sample_weight / sample_weight.max()
    return sample_weight


def _logits_in_range(state, x_max_abs):
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
