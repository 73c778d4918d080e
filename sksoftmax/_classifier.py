"""SoftmaxSGDClassifier: multinomial logistic regression trained by minibatch SGD."""

import copy
import math
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, _fit_context
from sklearn.linear_model._base import LinearClassifierMixin, SparseCoefMixin
from sklearn.utils import check_random_state
from sklearn.utils._array_api import _convert_to_numpy, get_namespace_and_device
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from sksoftmax._callbacks import CallbackSupportMixin, EpochCallbacks
from sksoftmax._compat import (
    check_same_namespace,
    move_to,
)
from sksoftmax._engine import (
    LocalEpochs,
    on_accelerator,
    plan_run,
    resolve_batch_size,
    run_epochs,
    stall_patience,
    steps_per_epoch,
)
from sksoftmax._loss import log_softmax
from sksoftmax._state import (
    estimator_state_from_plain,
    estimator_state_to_plain,
    fitted_attributes,
    new_training_state,
    restored_on_error,
)
from sksoftmax._validation import (
    as_dtype,
    check_label_types,
    check_parameters_together,
    check_state_namespace,
    check_stream_classes,
    encode_labels,
    encode_stream_chunk,
    initial_params,
    split_validation,
    training_weight,
)


class SoftmaxSGDClassifier(
    CallbackSupportMixin, LinearClassifierMixin, SparseCoefMixin, BaseEstimator
):
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
        not improved by ``tol`` over ``n_iter_no_change`` epochs (the
        patience: fewer epochs on large data, see ``n_iter_no_change``).
        Unlike SGDClassifier, which needs each epoch to improve by ``tol`` on
        the best so far, the improvements of the patience's epochs add up:
        steady progress of ``tol / n_iter_no_change`` an epoch goes on. None:
        run ``max_iter`` epochs.
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
        Seeds shuffling, the validation split and the rows ``eta0="auto"``
        samples. An int gives bit-identical
        models for identical data on one machine (a second core can change
        the last bits: see "Threads" in the user guide).
    learning_rate : {"adaptive", "constant", "optimal", "invscaling", "cosine"}, \
            default="adaptive"
        The schedule, with ``t`` the number of updates so far:

        - "adaptive": ``eta0``, divided by 5 whenever the objective stalls
          (as in SGDClassifier). Training stops, converged, at a stall
          whose epochs since the previous stall gained less than ``tol``
          (a smaller step no longer buys ``tol``); or, with a
          ConvergenceWarning, when the step falls under ``eta0 / 10000``
          (for a numeric ``eta0``, under the larger of that and 1e-6,
          SGDClassifier's floor).
          With ``eta0="auto"``, :meth:`fit` may first let the step grow
          (see ``eta0``); the decay, and the ``/ 10000``, then start from
          the step it settles on.
        - "constant": ``eta0``.
        - "optimal": ``1 / (alpha * (t0 + t))`` (Bottou), ``t0`` from
          Bottou's heuristic as in SGDClassifier (``eta0`` is ignored), the
          steps capped at ``eta0="auto"``'s curvature bound (so that
          unscaled data does not diverge).
        - "invscaling": ``eta0 / (t + 1) ** power_t``.
        - "cosine": cosine decay from ``eta0`` to 0 over ``max_iter`` epochs;
          it runs all ``max_iter`` epochs (``tol`` does not stop it; early
          stopping does).
    eta0 : float or "auto", default="auto"
        Initial step size. "auto" derives it from the data: the inverse of
        the expected smoothness of a minibatch (from the curvature of the
        softmax loss and the row norms of ``X``), so that training is stable
        on unscaled data and fast on scaled data. That bound holds for the
        worst case. It takes one pass over the rows for their norms, and the
        top eigenvalue of their second moment from a random sample of rows
        (drawn with ``random_state``; all rows of small data sets), raised
        by three standard errors: it costs less than an epoch. With the
        "adaptive" schedule, a :meth:`fit` from zero weights (not a warm
        start from a previous fit, no ``coef_init`` or ``intercept_init``)
        with ``tol`` set, no momentum (``momentum="auto"`` is 0 on CSR data
        only) and no early stopping then doubles the step after each epoch
        that improves the objective by more than ``tol``, up to 64 times the
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
        Nesterov's 0.9 (see ``nesterovs_momentum``) when :meth:`fit` trains
        on dense data, and 0 on CSR data (plain SGD keeps its lazy sparse
        updates; momentum makes every update touch every weight) and in
        :meth:`partial_fit`. On dense data it speeds up progress along the
        directions of low curvature that leave plain SGD short of the
        optimum after its stopping rule fires (see "Why these defaults" in
        the user guide). Momentum multiplies the long-run step by
        ``1 / (1 - momentum)``: with a numeric ``eta0``, pair it with a
        smaller one. When an epoch's objective rises in :meth:`fit`, the
        velocity is reset to zero (adaptive restart).
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum when ``momentum > 0``.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data, stop
        when its log-loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of the data held out with ``early_stopping``.
    n_iter_no_change : int or np.inf, default=5
        Epochs without improvement before stopping (or shrinking the step),
        or as many blocks of 100,000 training rows where that takes fewer
        epochs (at least one): on 2,000,000 rows one epoch. The epoch
        objective is a mean over the epoch's rows, and the more rows the
        less of its change is noise (in :meth:`partial_fit`, calls, and
        blocks of a call's rows). ``np.inf`` never counts a stall, as in
        MLPClassifier (SGDClassifier refuses it): :meth:`fit` runs all
        ``max_iter`` epochs at the schedule's steps (with early stopping it
        keeps the best of them).
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
        first update (True) or once the samples seen reach the given count
        (as SGDClassifier: ``average=10`` begins after 10 samples; the count
        goes on across :meth:`partial_fit` calls).
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
        Weights; one row for two classes, as LogisticRegression. A CSR
        matrix after :meth:`sparsify` (worth it after an L1 penalty), until
        :meth:`densify`; :meth:`fit` with ``warm_start`` and
        :meth:`partial_fit` take it as it is (SGDClassifier needs
        :meth:`densify` first) and leave a dense array.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts (zeros when ``fit_intercept=False``).
    n_features_in_ : int
        Number of features seen during :meth:`fit`.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during :meth:`fit`, when ``X`` has string column
        names.
    n_iter_ : int
        Epochs run by the last call: of :meth:`fit`, or 1 for a
        :meth:`partial_fit` call (as SGDClassifier and MLPClassifier).
    t_ : int
        Training samples seen plus one, as SGDClassifier (``n_iter_ *
        n_samples + 1`` after a fit without early stopping; MLPClassifier's
        ``t_`` is the samples seen). It counts across :meth:`partial_fit`
        calls. With early stopping it counts the training rows (not the
        held-out ones, which SGDClassifier counts too) up to the epoch whose
        state the fit keeps.
    loss_curve_ : list of float
        The training objective after each epoch: the data term averaged over
        the epoch's minibatches (each evaluated at the weights before its
        update, as SGDClassifier does; with ``average`` these are the SGD
        iterates, not the averaged weights that predict), plus the penalty.
    validation_loss_curve_ : list of float or None
        Validation log-loss after each epoch of :meth:`fit` with
        ``early_stopping=True``; None otherwise.
    validation_scores_ : list of float or None
        Validation accuracy after each epoch of :meth:`fit` with
        ``early_stopping=True``; None otherwise (and after
        :meth:`partial_fit`), as in MLPClassifier.
    best_validation_score_ : float or None
        The validation accuracy of the epoch whose weights the model keeps,
        with ``early_stopping=True``; None otherwise (and when no epoch
        improved on the starting zero weights, which the model then keeps).
        Unlike MLPClassifier, which keeps the epoch of the best accuracy,
        early stopping here keeps the epoch of the lowest validation
        log-loss (a smooth criterion that ``tol`` applies to): this is that
        epoch's accuracy, not necessarily the highest of
        ``validation_scores_``.
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
        "n_iter_no_change": [
            Interval(Integral, 1, None, closed="left"),
            Options(Real, {np.inf}),
        ],
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
        with restored_on_error(self):
            check_parameters_together(self.get_params(deep=False))
            weights_given = sample_weight is not None
            X, y_encoded, classes, sample_weight = self._validate_training_data(
                X, y, sample_weight, reset=True
            )
            # Callbacks score with the user's weights (None if none were
            # given), as for any estimator, not with class_weight folded in.
            user_weight = sample_weight if weights_given else None
            sample_weight = training_weight(
                y_encoded, classes, sample_weight, self.class_weight
            )
            coef_init, intercept_init, cold_start = self._starting_point(
                classes, X, coef_init, intercept_init
            )
            coef, intercept = initial_params(
                coef_init, intercept_init, len(classes), X, self.fit_intercept
            )
            rng = check_random_state(self.random_state)
            train_rows, validation_rows = np.arange(len(y_encoded)), None
            if self.early_stopping:
                train_rows, validation_rows = split_validation(
                    y_encoded,
                    sample_weight,
                    len(classes),
                    rng,
                    self.validation_fraction,
                )
            state = new_training_state(
                self.get_params(deep=False),
                X,
                sample_weight,
                train_rows,
                coef,
                intercept,
                batch_size=self._batch_size(len(train_rows), X),
                cold_start=cold_start,
                random_state=rng,
            )
            callbacks = EpochCallbacks(
                self,
                X,
                y,
                user_weight,
                self.max_iter,
                lambda coef, intercept: fitted_attributes(coef, intercept, classes),
            )
            result = run_epochs(
                self._epochs(
                    X, y_encoded, sample_weight, state, rng, train_rows, validation_rows
                ),
                state,
                max_epochs=self.max_iter,
                t=0,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                check_convergence=True,
                verbose=self.verbose,
                callbacks=callbacks,
                # Zero weights: every row's loss is log(n_classes).
                start_objective=math.log(len(classes)) if cold_start else None,
            )
            self._publish(classes, state, result, result.n_epochs, result.loss_curve)
            self.best_loss_ = result.best_loss
            self._publish_validation(result if self.early_stopping else None)
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
        with restored_on_error(self):
            first_call = not hasattr(self, "classes_")
            all_classes = self._stream_classes(classes, first_call)
            if not first_call:
                check_same_namespace(X, self, attribute="coef_", method="partial_fit")
                self._check_state_params()
            X, y, sample_weight = self._validate_X_y_weight(
                X, y, sample_weight, reset=first_call
            )
            if not first_call:
                check_state_namespace(self._training_state.coef, X)
            y_encoded, sample_weight = encode_stream_chunk(
                y, sample_weight, all_classes, self.class_weight
            )
            if not first_call:
                X = as_dtype(X, self.coef_.dtype)
            rows = np.arange(X.shape[0])
            if first_call:
                coef, intercept = initial_params(
                    None, None, len(all_classes), X, self.fit_intercept
                )
                state = new_training_state(
                    self.get_params(deep=False),
                    X,
                    sample_weight,
                    rows,
                    coef,
                    intercept,
                    batch_size=self._batch_size(len(rows), X),
                    stream=True,
                    random_state=self.random_state,
                )
                t, samples, n_epochs, loss_curve = 0, 0, 0, []
            else:
                state = copy.deepcopy(self._training_state)
                t, samples = self._t_updates, self.t_ - 1
                n_epochs, loss_curve = self._n_epochs, list(self.loss_curve_)
            self._follow_calls(state, t, n_epochs, len(rows), X)
            result = run_epochs(
                self._epochs(
                    X, y_encoded, sample_weight, state, self.random_state, rows
                ),
                state,
                max_epochs=1,
                t=t,
                samples=samples,
                tol=self.tol,
                n_iter_no_change=self.n_iter_no_change,
                check_convergence=False,
                verbose=self.verbose,
            )
            if result.loss_curve:
                state.end_of_stream_call(
                    result.loss_curve[-1],
                    self.tol,
                    stall_patience(self.n_iter_no_change, len(rows)),
                )
            loss_curve += result.loss_curve
            self._publish(
                all_classes,
                state,
                result,
                n_epochs + result.n_epochs,
                loss_curve,
                # A call whose epoch diverged and was undone leaves n_iter_.
                n_iter=result.n_epochs or getattr(self, "n_iter_", 0),
            )
            self.best_loss_ = min(loss_curve, default=np.inf)
            if result.n_epochs:  # (a call undone by divergence changes nothing)
                self._publish_validation(None)
        return self

    def _publish_validation(self, result):
        """The early-stopping attributes: from ``result``, or None (as
        MLPClassifier has them without early stopping)."""
        if result is None:
            self.validation_loss_curve_ = None
            self.validation_scores_ = None
            self.best_validation_score_ = None
            return
        self.validation_loss_curve_ = result.validation_loss_curve
        self.validation_scores_ = result.validation_scores
        # The kept epoch is the first with the lowest validation loss (none
        # where the starting zero weights were kept).
        kept = int(np.argmin(result.validation_loss_curve))
        self.best_validation_score_ = (
            None if result.kept_start else result.validation_scores[kept]
        )

    def _stream_classes(self, classes, first_call):
        """The classes of a partial_fit stream, checked against earlier calls."""
        if not first_call:
            # _fit_context skips this once fitted; parameters set in between
            # must still be valid.
            self._validate_params()
        if first_call and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit.")
        check_parameters_together(self.get_params(deep=False))
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' needs the class counts of the whole "
                "data, which partial_fit does not see; pass a dict computed "
                "with sklearn.utils.compute_class_weight instead."
            )
        if classes is None:
            return self.classes_
        return check_stream_classes(classes, None if first_call else self.classes_)

    def _follow_calls(self, state, t, n_epochs, n_rows, X):
        """Each partial_fit call is an epoch: a schedule that runs a fixed
        course spreads it over max_iter calls (the current max_iter),
        whatever the chunks' sizes, and says when it is over."""
        schedule = state.optimizer.schedule
        batch_size = self._batch_size(n_rows, X)
        steps = steps_per_epoch(n_rows, batch_size, self.shuffle)
        schedule.follow_calls(t, n_epochs, self.max_iter, steps)
        if schedule.exhausted(t):
            warnings.warn(
                f"learning_rate={self.learning_rate!r} has decayed to a step of 0 "
                f"over max_iter={self.max_iter} partial_fit calls: this call "
                "does not move the weights (with average, their average "
                "still moves towards them). Raise max_iter to go on training.",
                UserWarning,
            )

    def _epochs(self, X, y_encoded, sample_weight, state, rng, rows, held_out=None):
        """The epochs of a run on ``X[rows]`` (:class:`LocalEpochs`)."""
        batch_size = self._batch_size(len(rows), X)
        plan = plan_run(
            X,
            y_encoded,
            sample_weight,
            state,
            rows,
            batch_size=batch_size,
            shuffle=self.shuffle,
        )
        return LocalEpochs(plan, check_random_state(rng), rows, held_out)

    def _publish(self, classes, state, result, n_epochs, loss_curve, n_iter=None):
        """The fitted attributes of a finished run.

        ``n_epochs``: the epochs of the whole stream (partial_fit calls so
        far, or the fit); ``n_iter``: ``n_iter_`` if not the run's epochs.
        The schedules resume from the private counts of updates and epochs;
        ``t_`` and ``n_iter_`` are SGDClassifier's.
        """
        self.classes_ = classes
        self._t_updates = result.t
        self._n_epochs = n_epochs
        self.t_ = result.samples + 1
        self.n_iter_ = result.n_epochs if n_iter is None else n_iter
        self.loss_curve_ = loss_curve
        self._training_state = state
        for name, value in fitted_attributes(*result.model, classes).items():
            setattr(self, name, value)

    def _check_state_params(self):
        """Refuse to continue a training state built with other parameters.

        The schedule, penalty, momentum and averaging are built on the first
        call (or by fit) and carried across calls; a parameter changed since
        would be silently ignored.
        """
        changed = [
            f"{name}={value!r} (now {getattr(self, name)!r})"
            for name, value in self._training_state.built_with.items()
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

    def sparsify(self):
        """Convert ``coef_`` to a CSR matrix (worth it after an L1 penalty).

        Returns
        -------
        self : object
            The fitted estimator. Its predictions do not change;
            :meth:`densify` converts back.
        """
        check_is_fitted(self)
        if not (isinstance(self.coef_, np.ndarray) or sparse.issparse(self.coef_)):
            raise ValueError(
                "sparsify() makes a scipy CSR matrix of coef_, which needs numpy "
                "weights; this model was fitted on arrays of another namespace "
                f"({type(self.coef_).__module__})."
            )
        return super().sparsify()

    def __getstate__(self):
        return estimator_state_to_plain(dict(super().__getstate__()))

    def __setstate__(self, state):
        super().__setstate__(estimator_state_from_plain(state))

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
        check_label_types(y, "y")
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
        classes, y_encoded = encode_labels(y)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the "
                f"data, but the data contains only one class: {classes[0]!r}."
            )
        return X, y_encoded.astype(np.intp, copy=False), classes, sample_weight

    def _batch_size(self, n_samples, X):
        return resolve_batch_size(self.batch_size, n_samples, on_accelerator(X))

    def _starting_point(self, classes, X, coef_init, intercept_init):
        """``coef_init`` and ``intercept_init``, from the previous fit where
        ``warm_start`` asks for it and they are not given; and whether the
        fit starts cold, from zeros."""
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
                # After sparsify(), the sparse coef_ as dense weights.
                coef_init = (
                    self.coef_.toarray() if sparse.issparse(self.coef_) else self.coef_
                )
            if intercept_init is None and self.fit_intercept:
                intercept_init = self.intercept_
        cold_start = not warm and coef_init is None and intercept_init is None
        return coef_init, intercept_init, cold_start
