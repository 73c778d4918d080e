"""scikit-learn callbacks (sklearn.callback, new in 1.9): one subtask per epoch."""

try:
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # scikit-learn < 1.9: no callbacks, the estimator still works

    class CallbackSupportMixin:
        """Stand-in for scikit-learn < 1.9, which has no callback framework."""


class EpochCallbacks:
    """Calls the fit task's hooks, and those of one subtask per epoch.

    Parameters
    ----------
    estimator : SoftmaxSGDClassifier
        The estimator being fitted; its callbacks are those of ``set_callbacks``
        or propagated by a meta-estimator (a search, a pipeline).
    X, y : arrays
        The validated training data, passed to the hooks.
    sample_weight : ndarray or None
        Passed to the hooks as metadata.
    max_epochs : int
        The most subtasks the fit can have.
    publish : callable
        ``publish(coef, intercept) -> dict`` of the fitted attributes that make
        the estimator predict with the given training parameters (the hooks
        receive a fitted copy built from them, for example to score it).
    """

    def __init__(self, estimator, X, y, sample_weight, max_epochs, publish):
        self.estimator, self.X, self.y = estimator, X, y
        self.metadata = (
            None if sample_weight is None else {"sample_weight": sample_weight}
        )
        self.publish = publish
        self.active = hasattr(estimator, "_init_callback_context") and hasattr(
            estimator, "_skl_callbacks"
        )
        self.context = self.epoch_context = None
        if hasattr(estimator, "_init_callback_context"):
            self.context = estimator._init_callback_context(max_subtasks=max_epochs)
            self.context.call_on_fit_task_begin(
                estimator=estimator, X=X, y=y, metadata=self.metadata
            )

    def _hook_arguments(self, coef, intercept):
        return dict(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes=self.publish(coef, intercept),
        )

    def epoch_begin(self, coef, intercept):
        if self.active:
            self.epoch_context = self.context.subcontext(task_name="epoch")
            self.epoch_context.call_on_fit_task_begin(
                **self._hook_arguments(coef, intercept)
            )

    def epoch_end(self, coef, intercept):
        """End the epoch's subtask; True when a callback asks training to stop."""
        if not self.active:
            return False
        return bool(
            self.epoch_context.call_on_fit_task_end(
                **self._hook_arguments(coef, intercept)
            )
        )

    def fit_end(self):
        if self.context is not None:
            self.context.call_on_fit_task_end(
                estimator=self.estimator,
                X=self.X,
                y=self.y,
                metadata=self.metadata,
                reconstruction_attributes={},
            )
