"""The training state: built from the parameters, snapshots, plain serialization."""

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.utils._array_api import get_namespace_and_device

from sksoftmax._engine import on_accelerator, steps_per_epoch
from sksoftmax._optim import (
    AdaptiveSchedule,
    ConstantSchedule,
    CosineSchedule,
    InvScalingSchedule,
    OptimalSchedule,
    Penalty,
    SGDOptimizer,
    StallMonitor,
    _zeros_like,
    make_penalty,
    make_schedule,
)
from sksoftmax._step_size import (
    GRAM_MAX_FEATURES,
    GRAM_MAX_FEATURES_ACCELERATOR,
    auto_step_sizes,
)


@dataclass
class Snapshot:
    """All that an epoch changes in a :class:`TrainingState`, for a rollback.

    ``arrays`` holds copies of the state's arrays by name (see
    :meth:`TrainingState.arrays`); the rest are the optimizer's scalars.
    """

    arrays: dict
    n_averaged: int
    samples_seen: int
    scale: float
    total_shrinkage: float
    l1_started: bool
    schedule_state: object


class TrainingState:
    """What one fit or partial_fit call trains: the full-softmax parameters
    and the optimizer that updates them (with its velocities, averages,
    penalty state and schedule).

    For two classes row 0 of ``coef`` and ``intercept`` is pinned at zero, so the
    model is binary logistic regression on ``coef[1]`` (the published ``coef_``)
    and its penalty matches LogisticRegression's.

    Parameters
    ----------
    coef : array of shape (n_classes, n_features)
    intercept : array of shape (n_classes,) or None
    optimizer : SGDOptimizer
    built_with : dict, default=None
        The estimator parameters the optimizer was built from (partial_fit
        refuses to continue with others).
    """

    def __init__(self, coef, intercept, optimizer, built_with=None):
        self.coef = coef
        self.intercept = intercept
        self.optimizer = optimizer
        self.built_with = {} if built_with is None else built_with
        self.stream_monitor = StallMonitor()  # across partial_fit calls

    def model(self):
        """The weights to predict with: averaged ones once averaging started."""
        return self.optimizer.model(self.coef, self.intercept)

    def end_of_stream_call(self, loss, tol, n_iter_no_change):
        """Stall detection across partial_fit calls, each one epoch of a stream.

        As fit does across epochs: ``n_iter_no_change`` calls without an
        improvement of ``tol`` make the schedule react (the "adaptive" step
        shrinks; other schedules decay by ``t`` alone), so a long stream
        converges instead of staying at the noise level of the first step.
        """
        if self.stream_monitor.update(loss, tol, n_iter_no_change)[1]:
            self.optimizer.schedule.stalled()

    def arrays(self):
        """The state's arrays, by name (None where absent)."""
        optimizer = self.optimizer
        averages = optimizer.average_params or []
        arrays = {
            "coef": self.coef,
            "intercept": self.intercept,
            "average_coef": averages[0] if averages else None,
            "average_intercept": averages[1] if len(averages) > 1 else None,
            "received": optimizer.penalty.received,
        }
        for index, velocity in enumerate(optimizer.velocities):
            arrays[f"velocity{index}"] = velocity
        return arrays

    def snapshot(self, previous=None):
        """A :class:`Snapshot` of the state.

        Arrays are copied one by one (a deepcopy of the state's objects
        costs more than a small epoch), into the arrays of the ``previous``
        snapshot where they fit: a fresh copy of large weights each epoch
        costs its page faults again (a tenth of a sparse epoch).
        """
        kept = {} if previous is None else previous.arrays
        arrays = {}
        for name, value in self.arrays().items():
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
        return self.scalar_snapshot(arrays)

    def scalar_snapshot(self, arrays=None):
        """A :class:`Snapshot` of the scalars only: with all arrays zero (a
        cold start), all that :meth:`restore_zeros` needs."""
        optimizer = self.optimizer
        return Snapshot(
            arrays={} if arrays is None else arrays,
            n_averaged=optimizer.n_averaged,
            samples_seen=optimizer.samples_seen,
            scale=optimizer.scale,
            total_shrinkage=optimizer.penalty.total_shrinkage,
            l1_started=optimizer.penalty.received is not None,
            schedule_state=optimizer.schedule.get_state(),
        )

    def restore(self, snapshot):
        """Put back the state of ``snapshot`` (after a divergence, or the
        best epoch of early stopping)."""
        for name, value in self.arrays().items():
            if value is not None and name in snapshot.arrays:
                value[...] = snapshot.arrays[name]
        optimizer = self.optimizer
        optimizer.n_averaged = snapshot.n_averaged
        optimizer.samples_seen = snapshot.samples_seen
        optimizer.scale = snapshot.scale
        optimizer.pending_decay = 1.0  # the restored coef has had all its decay
        optimizer.penalty.total_shrinkage = snapshot.total_shrinkage
        if not snapshot.l1_started:
            optimizer.penalty.received = None
        if snapshot.schedule_state is not None:
            optimizer.schedule.set_state(snapshot.schedule_state)

    def restore_zeros(self, snapshot):
        """Put back a state of zero arrays and the scalars of ``snapshot``."""
        for value in self.arrays().values():
            if value is not None:
                value[...] = 0
        self.restore(snapshot)


# momentum="auto" on dense data in fit.
AUTO_MOMENTUM = 0.9

# The parameters a training state is built from: partial_fit refuses to
# continue a state built with others (see TrainingState.built_with).
STATE_PARAMS = (
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


def new_training_state(
    params,
    X,
    sample_weight,
    rows,
    coef,
    intercept,
    *,
    batch_size,
    stream=False,
    cold_start=False,
    random_state=None,
):
    """The training state of a fit (or of the first partial_fit call) on
    ``X[rows]``, from the starting parameters ``coef`` and ``intercept``.

    ``params``: the estimator's parameters (``get_params``); ``stream``:
    for partial_fit; ``cold_start``: the weights start at zero;
    ``random_state``: draws the rows ``eta0="auto"`` is estimated from.
    """
    l2 = make_penalty(params["penalty"], params["alpha"], params["l1_ratio"]).l2
    step_sizes = _step_sizes(
        params, X, sample_weight, rows, batch_size, l2, random_state
    )
    return build_training_state(
        params,
        step_sizes,
        coef,
        intercept,
        n_rows=len(rows),
        batch_size=batch_size,
        sparse_data=sparse.issparse(X),
        stream=stream,
        cold_start=cold_start,
    )


def build_training_state(
    params,
    step_sizes,
    coef,
    intercept,
    *,
    n_rows,
    batch_size,
    sparse_data,
    stream=False,
    cold_start=False,
    epoch_steps=None,
):
    """The training state of :func:`new_training_state`, from its step
    sizes (``eta0`` and the intercept's step scale) found elsewhere: by
    :func:`~sksoftmax._step_size.auto_step_sizes` on the data, or merged
    from blocks of it. ``n_rows``: the training rows of an epoch;
    ``sparse_data``: whether they are CSR; ``epoch_steps``: the updates an
    epoch counts, if not those of ``n_rows`` in batches (a fixed-length
    schedule runs its course over ``max_iter`` such epochs).
    """
    penalty = make_penalty(params["penalty"], params["alpha"], params["l1_ratio"])
    eta0, intercept_scale = step_sizes
    n_steps = epoch_steps or steps_per_epoch(n_rows, batch_size, params["shuffle"])
    momentum = params["momentum"]
    if momentum == "auto":
        # Nesterov's momentum on dense data in fit (see the estimator's
        # docstring); plain SGD keeps the lazy updates of CSR minibatches,
        # and a stream's calls each see one epoch.
        momentum = 0.0 if stream or sparse_data else AUTO_MOMENTUM
    schedule = make_schedule(
        params["learning_rate"],
        eta0,
        alpha=params["alpha"],
        power_t=params["power_t"],
        total_steps=params["max_iter"] * n_steps,
        # The bound is the worst case: a fit from zeros lets the step grow
        # from it (not with momentum, whose long-run step is already larger,
        # nor early stopping, whose best epoch would pick up the noise of
        # trial steps; partial_fit sees one epoch per call, and warm starts
        # may begin where a doubled step is already too much).
        grow=(
            params["eta0"] == "auto"
            and params["tol"] is not None
            and cold_start
            and not (momentum or stream or params["early_stopping"])
        ),
        from_data=params["eta0"] == "auto",
    )
    if isinstance(coef, np.ndarray):
        # Column-major weights: a sparse batch reads and writes whole
        # columns coef[:, j], each then contiguous in memory, and the dense
        # products coef @ X_batch.T run about twice as fast for a few
        # classes as with row-major weights.
        coef = np.asfortranarray(coef)
    weights = [coef] if intercept is None else [coef, intercept]
    average = params["average"]
    optimizer = SGDOptimizer(
        weights,
        schedule,
        momentum=momentum,
        nesterov=params["nesterovs_momentum"],
        step_scales=[1.0, intercept_scale][: len(weights)],
        penalty=penalty,
        average_start=1 if average is True else (int(average) or None),
    )
    built_with = {name: params[name] for name in STATE_PARAMS}
    return TrainingState(coef, intercept, optimizer, built_with)


def step_from_data(params):
    """Whether the step size is estimated from the data: ``eta0="auto"``,
    and "optimal", which ignores ``eta0`` as SGDClassifier's does and caps
    its steps at that estimate."""
    return params["eta0"] == "auto" or params["learning_rate"] == "optimal"


def _step_sizes(params, X, sample_weight, rows, batch_size, l2, random_state):
    """``eta0`` and the intercept's step scale (see ``eta0="auto"``)."""
    if not step_from_data(params):
        return float(params["eta0"]), 1.0
    # Held-out rows get zero weight rather than a copy of X.
    training_weight = np.zeros_like(sample_weight)
    training_weight[rows] = sample_weight[rows]
    return auto_step_sizes(
        X,
        training_weight,
        params["fit_intercept"],
        batch_size,
        l2,
        n_samples=len(rows),
        gram_max_features=(
            GRAM_MAX_FEATURES_ACCELERATOR if on_accelerator(X) else GRAM_MAX_FEATURES
        ),
        random_state=random_state,
    )


def _copy(array):
    """A copy in the array's own namespace and device."""
    if isinstance(array, np.ndarray):
        return array.copy()
    return get_namespace_and_device(array)[0].asarray(array, copy=True)


# The classes a TrainingState is made of, by name: a pickled or skops-saved
# model stores them as plain dicts (see SoftmaxSGDClassifier.__getstate__),
# so that skops.io need trust no type but the estimator's.
_STATE_CLASSES = {
    cls.__name__: cls
    for cls in (
        TrainingState,
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


def state_to_plain(value):
    """``value`` with every training-state object replaced by a tagged dict."""
    if _STATE_CLASSES.get(type(value).__name__) is type(value):
        return {
            "__class__": type(value).__name__,
            "attributes": {
                name: state_to_plain(attribute)
                for name, attribute in vars(value).items()
            },
        }
    if isinstance(value, list):
        return [state_to_plain(item) for item in value]
    return value


def state_from_plain(value):
    """Inverse of :func:`state_to_plain`."""
    if isinstance(value, dict) and "__class__" in value:
        cls = _STATE_CLASSES.get(value["__class__"])
        if cls is None:
            raise ValueError(
                f"This model's training state holds a {value['__class__']!r}, "
                "a type that this version of sksoftmax does not have: the "
                "model was saved by a development version from before the "
                "0.1.0 release. Fit it again with this version."
            )
        instance = cls.__new__(cls)
        instance.__dict__.update(
            {name: state_from_plain(item) for name, item in value["attributes"].items()}
        )
        return instance
    if isinstance(value, list):
        return [state_from_plain(item) for item in value]
    return value


# What scikit-learn's callback framework sets on the estimator for the
# duration of a fit (``_init_callback_context``) and removes at its end, when
# it tears the callbacks down: kept through a restore, or that teardown would
# be skipped (and ProgressBar's monitor thread keep the process alive).
_CALLBACK_FIT_ATTRIBUTES = ("_callback_fit_ctx", "_skl_callbacks_to_teardown")


@contextmanager
def restored_on_error(estimator):
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


def fitted_attributes(coef, intercept, classes):
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


def estimator_state_to_plain(state):
    """An estimator's ``__dict__`` for pickling: the partial_fit state, and a
    sparsified ``coef_``, as dicts, lists, arrays and numbers, so that
    skops.io trusts everything in a saved model but the estimator's class."""
    if "_training_state" in state:
        state["_training_state"] = state_to_plain(state["_training_state"])
    if sparse.issparse(state.get("coef_")):
        coef = state["coef_"]
        state["coef_"] = {
            "csr_matrix": [coef.data, coef.indices, coef.indptr],
            "shape": list(coef.shape),
        }
    return state


def estimator_state_from_plain(state):
    """The inverse of :func:`estimator_state_to_plain`."""
    state = dict(state)
    if "_training_state" in state:
        state["_training_state"] = state_from_plain(state["_training_state"])
    if isinstance(state.get("coef_"), dict):
        coef = state["coef_"]
        state["coef_"] = sparse.csr_matrix(
            tuple(coef["csr_matrix"]), shape=tuple(coef["shape"])
        )
    return state
