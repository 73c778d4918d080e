"""scikit-learn 1.9 callbacks on SoftmaxSGDClassifier: one subtask per epoch."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier

callback = pytest.importorskip("sklearn.callback")  # scikit-learn >= 1.9


@pytest.fixture(scope="module")
def data():
    return make_classification(
        n_samples=600, n_features=10, n_informative=5, n_classes=3, random_state=0
    )


class StopAfter:
    """A FitCallback that asks training to stop at the end of a given epoch."""

    def __init__(self, n_epochs):
        self.n_epochs = n_epochs
        self.seen = []

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context, **kwargs):
        pass

    def on_fit_task_end(self, estimator, context, *, fitted_estimator=None, **kwargs):
        if context.task_name != "epoch":
            return False
        self.seen.append(fitted_estimator.coef_.copy())
        return len(self.seen) >= self.n_epochs


def test_scoring_monitor_records_a_score_per_epoch(data):
    X, y = data
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = SoftmaxSGDClassifier(max_iter=6, tol=None, random_state=0).set_callbacks(
        monitor
    )
    clf.fit(X, y)
    rows = monitor.get_logs().data
    epochs = [row for row in rows if row["task_name"] == "epoch"]
    assert [row["task_id"] for row in epochs] == list(range(6))
    # The last epoch's score is the fitted model's.
    assert epochs[-1]["accuracy"] == pytest.approx(clf.score(X, y))
    fit_rows = [row for row in rows if row["task_name"] == "fit"]
    assert len(fit_rows) == 1 and fit_rows[0]["accuracy"] == pytest.approx(
        clf.score(X, y)
    )


@pytest.mark.parametrize("weighted", [False, True])
def test_scoring_monitor_scores_with_the_users_weights_not_class_weight(weighted):
    X, y = make_classification(
        n_samples=600,
        n_informative=5,
        n_classes=3,
        weights=[0.8, 0.15, 0.05],
        random_state=0,
    )
    sample_weight = (
        np.random.RandomState(0).uniform(0.5, 2, len(y)) if weighted else None
    )
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = SoftmaxSGDClassifier(
        class_weight="balanced", max_iter=3, tol=None, random_state=0
    ).set_callbacks(monitor)
    clf.fit(X, y, sample_weight=sample_weight)
    fit_rows = [row for row in monitor.get_logs().data if row["task_name"] == "fit"]
    assert fit_rows[0]["accuracy"] == pytest.approx(
        clf.score(X, y, sample_weight=sample_weight)
    )


def test_a_callback_can_stop_training_cleanly(data):
    X, y = data
    stopper = StopAfter(3)
    clf = SoftmaxSGDClassifier(max_iter=50, tol=None, random_state=0)
    clf.set_callbacks(stopper).fit(X, y)  # no ConvergenceWarning: a requested stop
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3
    # The published model is the one the callback saw last.
    assert_allclose(clf.coef_, stopper.seen[-1])
    assert np.isfinite(clf.predict_proba(X)).all()
    reference = SoftmaxSGDClassifier(max_iter=3, tol=None, random_state=0).fit(X, y)
    assert_allclose(clf.coef_, reference.coef_)


class RecordingProgressBar(callback.ProgressBar):
    """A ProgressBar that also keeps, in order, the tasks it was told about."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.events = []

    def on_fit_task_begin(self, estimator, context):
        self.events.append(("begin", context))
        super().on_fit_task_begin(estimator, context)

    def on_fit_task_end(self, estimator, context):
        self.events.append(("end", context))
        super().on_fit_task_end(estimator, context)

    def fits(self, estimator_name):
        """The fit tasks of the named estimator, each with its own bar."""
        return [
            context
            for event, context in self.events
            if event == "begin"
            and context.estimator_name == estimator_name
            and context.task_name == "fit"
        ]

    def epochs(self, event_name, fit):
        """The task ids of the epochs of ``fit`` that began, or ended."""
        return [
            context.task_id
            for event, context in self.events
            if event == event_name
            and context.task_name == "epoch"
            and context.parent is fit
        ]


def test_progress_bar_shows_epochs(data, capsys):
    pytest.importorskip("rich")  # ProgressBar's own dependency (extra "progress")
    X, y = data
    bar = RecordingProgressBar()
    clf = SoftmaxSGDClassifier(max_iter=50, tol=1e-3, random_state=0)
    clf.set_callbacks(bar).fit(X, y)
    assert 1 < clf.n_iter_ < 50  # converged: fewer epochs than the bar's total
    (fit,) = bar.fits("SoftmaxSGDClassifier")
    assert fit.max_subtasks == 50
    # The bar advances once per epoch run, then closes.
    assert bar.epochs("begin", fit) == list(range(clf.n_iter_))
    assert bar.epochs("end", fit) == list(range(clf.n_iter_))
    assert bar.events[-1] == ("end", fit)
    out = capsys.readouterr().out
    assert "SoftmaxSGDClassifier - fit" in out and "100%" in out


def test_progress_bar_nested_in_grid_search(data, capsys):
    pytest.importorskip("rich")
    X, y = data
    search = GridSearchCV(
        make_pipeline(
            StandardScaler(), SoftmaxSGDClassifier(max_iter=3, tol=None, random_state=0)
        ),
        {"softmaxsgdclassifier__alpha": [1e-4, 1e-3]},
        cv=2,
    )
    bar = RecordingProgressBar(max_propagation_depth=None)
    search.set_callbacks(bar).fit(X, y)
    out = capsys.readouterr().out
    assert "GridSearchCV" in out and "SoftmaxSGDClassifier" in out
    assert search.best_estimator_[-1].n_iter_ == 3
    # 2 candidates x 2 folds, and the refit: each fit's bar counts its 3 epochs.
    fits = bar.fits("SoftmaxSGDClassifier")
    assert len(fits) == 5
    for fit in fits:
        assert fit.source_estimator_name == "Pipeline"
        assert bar.epochs("end", fit) == [0, 1, 2]


def test_without_callbacks_nothing_is_left_behind(data):
    X, y = data
    clf = SoftmaxSGDClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)
    assert not any(name.startswith("_callback") for name in vars(clf))


class FailAt(StopAfter):
    """Raises at the end of a given epoch of the first fit, and records
    setup and teardown."""

    def __init__(self, n_epochs):
        super().__init__(n_epochs)
        self.calls = []
        self.epochs = 0

    def setup(self, estimator, context):
        self.calls.append("setup")

    def teardown(self, estimator, context):
        self.calls.append("teardown")

    def on_fit_task_end(self, estimator, context, **kwargs):
        if context.task_name == "epoch":
            self.epochs += 1
            if self.epochs == self.n_epochs:
                raise KeyboardInterrupt
        return False


def test_callbacks_are_torn_down_when_the_fit_raises(data):
    # The restore of the estimator's attributes after an error took the
    # callback framework's with it, so teardown was skipped (and ProgressBar's
    # monitor thread then kept the interpreter from exiting).
    X, y = data
    failing = FailAt(2)
    clf = SoftmaxSGDClassifier(max_iter=10, tol=None, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        clf.set_callbacks(failing).fit(X, y)
    assert failing.calls == ["setup", "teardown"]
    assert not hasattr(clf, "coef_")
    assert not any(name.startswith("_callback") for name in vars(clf))
    clf.fit(X, y)  # and the next fit works
    assert failing.calls == ["setup", "teardown"] * 2
