"""Tests of SoftmaxSGDClassifier as a user meets it."""

import math
import pickle
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from scipy import sparse
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_blobs,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.fixes import parse_version

from sksoftmax import SoftmaxSGDClassifier, _engine, _optim, softmax_loss
from sksoftmax._step_size import auto_step_sizes


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)


def test_pipeline_grid_search_on_digits(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    search = GridSearchCV(
        make_pipeline(StandardScaler(), SoftmaxSGDClassifier(random_state=0)),
        {
            "softmaxsgdclassifier__alpha": [1e-4, 1e-3],
            "softmaxsgdclassifier__eta0": ["auto", 0.05],
        },
        cv=3,
        n_jobs=2,
    )
    search.fit(X_train, y_train)
    assert search.score(X_test, y_test) > 0.95
    assert search.best_estimator_[-1].coef_.shape == (10, 64)


@pytest.mark.parametrize(
    "load", [load_iris, load_wine, load_digits, load_breast_cancer]
)
def test_defaults_match_logistic_regression_accuracy(load):
    X, y = load(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    ours = make_pipeline(StandardScaler(), SoftmaxSGDClassifier(random_state=0))
    reference = make_pipeline(StandardScaler(), LogisticRegression())
    accuracy = ours.fit(X_train, y_train).score(X_test, y_test)
    reference_accuracy = reference.fit(X_train, y_train).score(X_test, y_test)
    assert accuracy >= reference_accuracy - 0.01


def test_binary_model_is_logistic_regression():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-2
    clf = SoftmaxSGDClassifier(
        alpha=alpha,
        batch_size=len(y),
        learning_rate="constant",
        momentum=0.0,
        tol=1e-10,
        max_iter=20000,
        random_state=0,
    ).fit(X, y)
    reference = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-10).fit(X, y)
    assert clf.coef_.shape == (1, X.shape[1]) and clf.intercept_.shape == (1,)
    assert clf.decision_function(X).shape == (len(y),)
    # Same objective: LogisticRegression's binary penalty is ||w||^2 / (2 C n).
    ours = softmax_loss(
        np.vstack([0 * clf.coef_, clf.coef_]),
        np.r_[0, clf.intercept_],
        X,
        y,
        alpha=alpha,
    )[0]
    optimum = softmax_loss(
        np.vstack([0 * reference.coef_, reference.coef_]),
        np.r_[0, reference.intercept_],
        X,
        y,
        alpha=alpha,
    )[0]
    assert ours == pytest.approx(optimum, rel=1e-4)
    assert_allclose(clf.predict_proba(X), reference.predict_proba(X), atol=2e-3)
    assert_array_equal(clf.predict(X), clf.decision_function(X) > 0)


def test_multiclass_reaches_the_logistic_regression_optimum():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    alpha = 1e-2
    clf = SoftmaxSGDClassifier(
        alpha=alpha,
        learning_rate="constant",
        momentum=0.0,
        tol=1e-10,
        max_iter=20000,
        random_state=0,
    )
    clf.fit(X, y)
    reference = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-12).fit(X, y)

    def objective(model):
        return softmax_loss(model.coef_, model.intercept_, X, y, alpha=alpha)[0]

    assert objective(clf) == pytest.approx(objective(reference), rel=1e-4)
    assert_allclose(clf.predict_proba(X), reference.predict_proba(X), atol=2e-3)


@pytest.mark.parametrize("alpha", [1e-3, 1e-2])
def test_full_batch_momentum_restarts_when_the_objective_rises(alpha):
    # Full-batch Nesterov overshoots: without the restart the objective of
    # this fit (alpha=1e-3) climbs again after epoch 11 and stops 13 % above
    # the optimum. (At alpha=1e-2 an L2 term of the wrong strength shows.)
    X, y = make_classification(
        n_samples=1000,
        n_features=50,
        n_informative=20,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    clf = SoftmaxSGDClassifier(
        alpha=alpha, batch_size=len(y), tol=1e-5, random_state=0
    ).fit(X, y)
    assert clf._training_state.optimizer.momentum == 0.9
    reference = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-10).fit(X, y)

    def objective(model):
        return softmax_loss(model.coef_, model.intercept_, X, y, alpha=alpha)[0]

    assert objective(clf) == pytest.approx(objective(reference), rel=1e-3)


@pytest.mark.parametrize("nesterov", [False, True], ids=["heavy-ball", "nesterov"])
@pytest.mark.parametrize("penalty, l1_ratio", [("l1", 1.0), ("elasticnet", 0.5)])
def test_l1_with_momentum_reaches_the_saga_optimum(penalty, l1_ratio, nesterov):
    # Momentum 0.9 ("auto" on data in one batch): with the L1 shrinkage kept
    # out of the velocity, the fit solved g + (1 - 0.9) * l1 * sign(w) = 0,
    # and ended with 2-4 weights too few at zero and the objective up to
    # 3 % above the optimum.
    X, y = make_classification(
        n_samples=200,
        n_features=10,
        n_informative=4,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    alpha = 0.02
    clf = SoftmaxSGDClassifier(
        penalty=penalty,
        alpha=alpha,
        l1_ratio=l1_ratio,
        learning_rate="constant",
        momentum=0.9,
        nesterovs_momentum=nesterov,
        max_iter=500,
        tol=None,
        random_state=0,
    ).fit(X, y)
    # LogisticRegression's penalty is l1_ratio ||w||_1 + (1 - l1_ratio) ||w||^2 / 2
    # (from scikit-learn 1.8 l1_ratio alone selects it).
    legacy = parse_version(sklearn.__version__) < parse_version("1.8")
    reference = LogisticRegression(
        **({"penalty": "elasticnet"} if legacy else {}),
        solver="saga",
        l1_ratio=l1_ratio,
        C=1 / (alpha * len(y)),
        tol=1e-12,
        max_iter=100000,
    ).fit(X, y)

    def objective(model):
        loss = softmax_loss(
            model.coef_, model.intercept_, X, y, alpha=alpha * (1 - l1_ratio)
        )[0]
        return loss + alpha * l1_ratio * np.abs(model.coef_).sum()

    assert objective(clf) == pytest.approx(objective(reference), rel=1e-6)
    assert_array_equal(clf.coef_ == 0, reference.coef_ == 0)


def test_probabilities_are_a_softmax():
    X, y = make_blobs(n_samples=200, centers=4, random_state=0)
    clf = SoftmaxSGDClassifier(random_state=0).fit(X, y)
    proba = clf.predict_proba(X)
    assert_allclose(proba.sum(axis=1), 1.0)
    decision = clf.decision_function(X)
    expected = np.exp(decision - decision.max(axis=1, keepdims=True))
    assert_allclose(proba, expected / expected.sum(axis=1, keepdims=True))
    assert_allclose(clf.predict_log_proba(X), np.log(proba), atol=1e-12)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


def test_log_proba_is_exact_where_proba_rounds_to_zero():
    X = np.array([[-1.0], [1.0]])
    clf = SoftmaxSGDClassifier(random_state=0).fit(X, [0, 1])
    clf.coef_ = np.array([[1000.0]])
    log_proba = clf.predict_log_proba(np.array([[1.0]]))
    assert_allclose(log_proba, [[-1000.0 - clf.intercept_[0], 0.0]], atol=1e-9)


@pytest.mark.parametrize(
    "labels", [["cat", "dog", "emu"], [True, False], [-3, 10, 7, 1]], ids=str
)
def test_any_label_kind(labels):
    X, y = make_blobs(n_samples=120, centers=len(labels), random_state=0)
    y_labels = np.asarray(labels, dtype=object if isinstance(labels[0], str) else None)[
        y
    ]
    clf = SoftmaxSGDClassifier(random_state=0).fit(X, y_labels)
    assert set(clf.classes_) == set(labels)
    assert clf.score(X, y_labels) > 0.85
    assert set(clf.predict(X)) <= set(labels)


def test_pickle_round_trip(digits_split):
    X_train, X_test, y_train, _ = digits_split
    clf = make_pipeline(StandardScaler(), SoftmaxSGDClassifier(random_state=0))
    clf.fit(X_train, y_train)
    restored = pickle.loads(pickle.dumps(clf))
    assert_array_equal(restored.predict_proba(X_test), clf.predict_proba(X_test))


def test_partial_fit_stream_converges():
    X, y = make_classification(
        n_samples=6000, n_features=20, n_informative=10, n_classes=4, random_state=0
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    clf = SoftmaxSGDClassifier(random_state=0)
    scores = []
    for _ in range(5):
        for chunk in np.array_split(np.arange(len(y_train)), 9):
            clf.partial_fit(X_train[chunk], y_train[chunk], classes=np.arange(4))
        scores.append(clf.score(X_test, y_test))
    reference = LogisticRegression().fit(X_train, y_train).score(X_test, y_test)
    assert scores[-1] >= reference - 0.02
    # n_iter_ is the last call's epochs and t_ the samples seen plus one,
    # as in SGDClassifier; the loss curve and the updates span the stream.
    assert clf.n_iter_ == 1 and len(clf.loss_curve_) == 45
    assert clf.t_ == 5 * len(y_train) + 1
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    assert (
        clf._t_updates
        == sum(-(-len(c) // 256) for c in np.array_split(np.arange(len(y_train)), 9))
        * 5
    )


def test_partial_fit_continues_a_pickled_model_identically():
    X, y = make_blobs(n_samples=300, centers=3, random_state=1)
    clf = SoftmaxSGDClassifier(random_state=0).partial_fit(
        X[:150], y[:150], classes=[0, 1, 2]
    )
    restored = pickle.loads(pickle.dumps(clf))
    clf.partial_fit(X[150:], y[150:])
    restored.partial_fit(X[150:], y[150:])
    assert_array_equal(clf.coef_, restored.coef_)
    assert_array_equal(clf.intercept_, restored.intercept_)


def test_sparse_and_dense_give_the_same_model():
    X, y = make_classification(
        n_samples=500, n_features=30, n_informative=8, n_classes=3, random_state=0
    )
    X[np.abs(X) < 1] = 0
    dense = SoftmaxSGDClassifier(
        momentum=0.0, random_state=0, max_iter=20, tol=None
    ).fit(X, y)
    csr = SoftmaxSGDClassifier(momentum=0.0, random_state=0, max_iter=20, tol=None).fit(
        sparse.csr_array(X), y
    )
    assert_allclose(csr.coef_, dense.coef_, rtol=1e-8, atol=1e-10)
    assert_allclose(csr.predict_proba(sparse.csr_matrix(X)), dense.predict_proba(X))


@pytest.mark.parametrize(
    "penalty, rtol", [("l2", 1e-9), (None, 1e-9), ("l1", 1e-9), ("elasticnet", 2e-2)]
)
@pytest.mark.parametrize("n_classes", [2, 4])
def test_lazy_sparse_updates_match_dense_updates(penalty, rtol, n_classes):
    # Plain SGD on CSR data touches only each batch's columns (L2 as a scalar
    # scale, L1 accumulated): the same model as the dense path. Elastic-net
    # differs slightly: L1 shrinkage and L2 decay commute only approximately.
    rng = np.random.RandomState(0)
    X = sparse.random(900, 400, density=0.02, random_state=rng, format="csr")
    y = rng.randint(0, n_classes, 900)
    # A moderate fixed step: with eta0="auto" (about 17 on this data) the
    # trajectory is sensitive enough to amplify rounding differences.
    params = dict(
        momentum=0.0,
        max_iter=5,
        tol=None,
        random_state=0,
        penalty=penalty,
        alpha=1e-3,
        l1_ratio=0.5,
        eta0=2.0,
    )
    dense = SoftmaxSGDClassifier(**params).fit(X.toarray(), y)
    lazy = SoftmaxSGDClassifier(**params).fit(X, y)
    assert_allclose(lazy.coef_, dense.coef_, rtol=rtol, atol=rtol * 1e-2)
    assert_allclose(lazy.loss_curve_, dense.loss_curve_, rtol=rtol)
    if penalty == "l1":
        assert_array_equal(lazy.coef_ == 0, dense.coef_ == 0)


def test_lazy_sparse_scale_folds_into_the_weights_mid_epoch(monkeypatch):
    # eta0 * alpha = 0.7: the scalar scale of the lazy weights shrinks by 0.3
    # per step and passes 1e-9 every 18 steps of the 90 in the epoch, where
    # it is folded into coef; the model must not notice.
    from sksoftmax._optim import SGDOptimizer

    folds = []
    fold_scale = SGDOptimizer.fold_scale

    def counting_fold_scale(self, coef):
        folds.append(self.scale)
        fold_scale(self, coef)

    monkeypatch.setattr(SGDOptimizer, "fold_scale", counting_fold_scale)
    rng = np.random.RandomState(0)
    X = sparse.random(900, 400, density=0.02, random_state=rng, format="csr")
    y = rng.randint(0, 3, 900)
    params = dict(
        momentum=0.0,
        max_iter=1,
        tol=None,
        random_state=0,
        alpha=0.35,
        eta0=2.0,
        batch_size=10,
    )
    # (Given zero weights, not a cold start: the labels are noise and this
    # strong penalty ends above the zero weights' objective, which a cold
    # start would then keep.)
    start = np.zeros((3, 400))
    dense = SoftmaxSGDClassifier(**params).fit(X.toarray(), y, coef_init=start)
    lazy = SoftmaxSGDClassifier(**params).fit(X, y, coef_init=start)
    assert np.abs(dense.coef_).max() > 0
    assert sum(scale < 1e-9 for scale in folds) == 5
    assert_allclose(lazy.coef_, dense.coef_, rtol=1e-9, atol=1e-14)
    assert_allclose(lazy.intercept_, dense.intercept_, rtol=1e-9)


@pytest.mark.parametrize("container", [np.asarray, sparse.csr_array])
def test_float32_is_kept_end_to_end(container):
    X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    X = container(X.astype(np.float32))
    clf = SoftmaxSGDClassifier(random_state=0).fit(X, y)
    assert clf.coef_.dtype == np.float32 and clf.intercept_.dtype == np.float32
    assert clf.predict_proba(X).dtype == np.float32
    assert clf.decision_function(X).dtype == np.float32


@pytest.mark.parametrize("eta_alpha", [1e-8, 4e-8, 1e-5])
def test_float32_applies_l2_decay_too_small_for_its_precision(eta_alpha):
    # All-zero features carry no data gradient: the weights only decay, by
    # (1 - eta alpha) a step. In float32 a factor of 1 - 1e-8 rounds to 1 and
    # one of 1 - 4e-8 to 1 - 6e-8; the decay must still be the float64 one,
    # to float32's resolution: an epoch's decay of 1e-6 can be applied to
    # weights near 0.5 to within a few percent.
    X = np.zeros((100, 3))
    y = np.arange(100) % 3
    params = dict(
        momentum=0.0,
        learning_rate="constant",
        eta0=1e-2,
        alpha=eta_alpha / 1e-2,
        fit_intercept=False,
        batch_size=1,
        shuffle=False,
        max_iter=20,
        tol=None,
    )
    coef_init = np.full((3, 3), 0.5)
    wide = SoftmaxSGDClassifier(**params).fit(X, y, coef_init=coef_init)
    narrow = SoftmaxSGDClassifier(**params).fit(
        X.astype(np.float32), y, coef_init=coef_init.astype(np.float32)
    )
    assert_allclose(wide.coef_, 0.5 * (1 - eta_alpha) ** 2000, rtol=1e-12)
    assert narrow.coef_.dtype == np.float32
    decayed = 0.5 - wide.coef_
    assert_allclose(0.5 - narrow.coef_, decayed, rtol=0.03)


def test_read_only_and_memmapped_inputs_are_not_written(tmp_path):
    X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    path = tmp_path / "X.npy"
    np.save(path, X)
    X_memmap = np.load(path, mmap_mode="r")
    y_read_only = y.copy()
    y_read_only.setflags(write=False)
    weights = np.ones(len(y))
    weights.setflags(write=False)
    clf = SoftmaxSGDClassifier(random_state=0).fit(
        X_memmap, y_read_only, sample_weight=weights
    )
    assert_array_equal(np.load(path), X)
    assert clf.score(X_memmap, y) > 0.85


def test_same_random_state_gives_bit_identical_models():
    X, y = make_classification(
        n_samples=2000, n_classes=3, n_informative=5, random_state=0
    )
    first = SoftmaxSGDClassifier(random_state=42).fit(X, y)
    second = SoftmaxSGDClassifier(random_state=42).fit(X, y)
    assert_array_equal(first.coef_, second.coef_)
    assert_array_equal(first.intercept_, second.intercept_)


def test_fitted_attributes():
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    clf = SoftmaxSGDClassifier(random_state=0, max_iter=7, tol=None).fit(X, y)
    assert clf.n_iter_ == 7 and len(clf.loss_curve_) == 7
    # SGDClassifier's t_: n_iter_ * n_samples + 1.
    assert clf.t_ == 7 * 300 + 1
    assert clf._t_updates == 7 * 2  # 300 rows in batches of 256
    assert clf.n_features_in_ == 2
    assert clf.coef_.shape == (3, 2) and clf.intercept_.shape == (3,)


def test_warm_start_continues():
    X, y = make_blobs(n_samples=300, centers=3, random_state=0, cluster_std=3)
    clf = SoftmaxSGDClassifier(random_state=0, max_iter=3, tol=None, warm_start=True)
    first_loss = clf.fit(X, y).loss_curve_[-1]
    warm_loss = clf.fit(X, y).loss_curve_[0]
    cold_loss = (
        SoftmaxSGDClassifier(random_state=0, max_iter=3, tol=None)
        .fit(X, y)
        .loss_curve_[0]
    )
    # The second fit starts where the first ended (and keeps improving), far
    # from a cold start.
    assert warm_loss < first_loss + 0.1 * (cold_loss - first_loss)


def test_warm_start_keeps_what_coef_init_or_intercept_init_do_not_give():
    X, y = make_blobs(n_samples=300, centers=3, random_state=0, cluster_std=3)
    clf = SoftmaxSGDClassifier(random_state=0, max_iter=3, tol=None, warm_start=True)
    clf.fit(X, y)
    previous_intercept = clf.intercept_.copy()
    assert np.abs(previous_intercept).max() > 0.05
    zeros = np.zeros_like(clf.coef_)
    # One epoch from coef 0 and the previous intercepts: the intercepts
    # move by one epoch's steps, not back to 0 first.
    clf.set_params(max_iter=1).fit(X, y, coef_init=zeros)
    cold = SoftmaxSGDClassifier(random_state=0, max_iter=1, tol=None).fit(
        X, y, coef_init=zeros, intercept_init=previous_intercept
    )
    assert_allclose(clf.intercept_, cold.intercept_, rtol=1e-12)
    assert_allclose(clf.coef_, cold.coef_, rtol=1e-12)


def test_warm_start_on_other_features_names_the_previous_fit():
    X, y = make_blobs(n_samples=100, centers=3, random_state=0)
    clf = SoftmaxSGDClassifier(random_state=0, warm_start=True).fit(X, y)
    coef = clf.coef_.copy()
    with pytest.raises(ValueError, match="warm_start needs X with the 2 features"):
        clf.fit(np.c_[X, X], y)
    assert_array_equal(clf.coef_, coef)
    assert clf.n_features_in_ == 2


def test_max_iter_reached_before_tol_warns():
    X, y = make_blobs(n_samples=300, centers=3, random_state=0, cluster_std=3)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        SoftmaxSGDClassifier(random_state=0, max_iter=2, tol=1e-8).fit(X, y)


def test_l1_gives_exact_zeros_that_grow_with_alpha():
    X, y = make_classification(
        n_samples=600,
        n_features=40,
        n_informative=5,
        n_redundant=0,
        n_classes=3,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    n_zeros = []
    for alpha in [1e-4, 1e-3, 1e-2, 5e-2]:
        clf = SoftmaxSGDClassifier(penalty="l1", alpha=alpha, random_state=0).fit(X, y)
        n_zeros.append(int(np.sum(clf.coef_ == 0.0)))
    assert n_zeros == sorted(n_zeros) and n_zeros[-1] > n_zeros[0]
    assert n_zeros[-1] >= 0.5 * clf.coef_.size
    l2 = SoftmaxSGDClassifier(penalty="l2", alpha=5e-2, random_state=0).fit(X, y)
    assert np.sum(l2.coef_ == 0.0) == 0
    elasticnet = SoftmaxSGDClassifier(
        penalty="elasticnet", alpha=5e-2, l1_ratio=0.5, random_state=0
    ).fit(X, y)
    assert 0 < np.sum(elasticnet.coef_ == 0.0) < n_zeros[-1] + 1


def test_balanced_class_weight_equals_the_matching_sample_weights():
    X, y = make_classification(
        n_samples=400,
        n_classes=3,
        n_informative=4,
        weights=[0.6, 0.3, 0.1],
        random_state=0,
    )
    balanced = SoftmaxSGDClassifier(class_weight="balanced", random_state=0).fit(X, y)
    counts = np.bincount(y)
    weights = (len(y) / (3 * counts))[y]
    weighted = SoftmaxSGDClassifier(random_state=0).fit(X, y, sample_weight=weights)
    assert_allclose(balanced.coef_, weighted.coef_, rtol=1e-10)
    as_dict = SoftmaxSGDClassifier(
        class_weight=dict(enumerate(len(y) / (3 * counts))), random_state=0
    ).fit(X, y, sample_weight=np.full(len(y), 2.0))
    # Weights are normalised by their sum: a constant factor changes nothing.
    assert_allclose(as_dict.coef_, balanced.coef_, rtol=1e-6)


def test_partial_fit_takes_classes_as_any_array_like():
    # A pandas Series is what dask's ddf["label"].unique().compute() gives.
    pandas = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True)
    for classes in [
        pandas.Series([0, 1, 2]),
        pandas.Index([0, 1, 2]),
        range(3),
        (0, 1, 2),
    ]:
        clf = SoftmaxSGDClassifier(random_state=0).partial_fit(X, y, classes=classes)
        clf.partial_fit(X, y, classes=classes)
        assert_array_equal(clf.classes_, [0, 1, 2])


def test_cosine_decays_over_max_iter_partial_fit_calls():
    # Each call is an epoch: the decay spans max_iter calls, even where the
    # first chunk is small (its step count fixed the length: the step was 0
    # from the second call on).
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.RandomState(0)
    chunks = [rng.choice(150, size) for size in [30] + [150] * 5]
    clf = SoftmaxSGDClassifier(
        learning_rate="cosine", eta0=0.1, batch_size=10, max_iter=5, random_state=0
    )
    for call, rows in enumerate(chunks[:5], start=1):
        before = clf.coef_.copy() if call > 1 else None
        clf.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
        schedule = clf._training_state.optimizer.schedule
        expected = 0.05 * (1 + np.cos(np.pi * call / 5))
        assert schedule(clf._t_updates) == pytest.approx(expected, abs=1e-12)
        if before is not None:
            assert not np.array_equal(clf.coef_, before)
    assert clf.score(X, y) > 0.8
    before = clf.coef_.copy()
    with pytest.warns(UserWarning, match="decayed to a step of 0"):
        clf.partial_fit(X[chunks[5]], y[chunks[5]])
    assert_array_equal(clf.coef_, before)
    clf.set_params(max_iter=10).partial_fit(X[chunks[5]], y[chunks[5]])
    assert not np.array_equal(clf.coef_, before)


def test_balanced_class_weight_counts_sample_weights():
    # As LogisticRegression: "balanced" on the weighted class counts, so
    # integer weights stay repeated rows (on the unweighted counts the two
    # fits differed by 0.27 in coef_).
    X, y = make_classification(
        n_samples=60, n_features=4, n_informative=3, n_redundant=0, random_state=0
    )
    weight = np.where(y == 0, 3, 1)
    params = dict(
        class_weight="balanced",
        batch_size=1000,
        shuffle=False,
        eta0=0.1,
        max_iter=30,
        tol=None,
        random_state=0,
    )
    weighted = SoftmaxSGDClassifier(**params).fit(X, y, sample_weight=weight)
    repeated = SoftmaxSGDClassifier(**params).fit(
        np.repeat(X, weight, axis=0), np.repeat(y, weight)
    )
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-10)


def test_partial_fit_applies_class_weight_by_label():
    # Labels whose sorted order differs from the dict's: each class's weight
    # must reach its own rows, as the matching sample weights would.
    X, y = load_iris(return_X_y=True)
    labels = np.array(["virginica", "setosa", "versicolor"])[y]
    class_weight = {"versicolor": 5.0, "setosa": 1.0, "virginica": 0.5}
    weights = np.array([class_weight[label] for label in labels])
    classes = ["setosa", "versicolor", "virginica"]
    by_class = SoftmaxSGDClassifier(class_weight=class_weight, random_state=0)
    by_sample = SoftmaxSGDClassifier(random_state=0)
    for _ in range(3):
        by_class.partial_fit(X, labels, classes=classes)
        by_sample.partial_fit(X, labels, classes=classes, sample_weight=weights)
    assert_allclose(by_class.coef_, by_sample.coef_, rtol=1e-12)
    unweighted = SoftmaxSGDClassifier(random_state=0).partial_fit(
        X, labels, classes=classes
    )
    assert not np.allclose(by_class.coef_, unweighted.coef_, rtol=0.01)


def test_partial_fit_refuses_balanced_class_weight():
    clf = SoftmaxSGDClassifier(class_weight="balanced")
    with pytest.raises(ValueError, match="compute_class_weight"):
        clf.partial_fit([[0.0], [1.0]], [0, 1], classes=[0, 1])
    assert not hasattr(clf, "coef_")


def noisy_three_classes():
    """Data on which a large constant step trains past its best epoch."""
    return make_classification(
        n_samples=3000,
        n_features=20,
        n_informative=5,
        n_classes=3,
        flip_y=0.2,
        random_state=0,
    )


def test_early_stopping_keeps_the_best_epoch():
    X, y = noisy_three_classes()
    clf = SoftmaxSGDClassifier(
        early_stopping=True,
        n_iter_no_change=3,
        tol=1e-3,
        learning_rate="constant",
        eta0=0.5,
        momentum=0.0,
        random_state=0,
    ).fit(X, y)
    curve = clf.validation_loss_curve_
    assert (
        len(curve) == clf.n_iter_ == len(clf.validation_scores_) == len(clf.loss_curve_)
    )
    best_epoch = int(np.argmin(curve))
    assert best_epoch < len(curve) - 1  # training ran past its best epoch
    assert clf.best_loss_ == min(curve)
    # The published weights are those of the best epoch: same validation loss.
    rng = np.random.RandomState(0)
    rows = np.arange(len(y))
    from sklearn.model_selection import StratifiedShuffleSplit

    _, validation = next(
        StratifiedShuffleSplit(
            test_size=0.1, random_state=rng.randint(2**31 - 1)
        ).split(rows, y)
    )
    decision = clf.decision_function(X[validation])
    log_proba = decision - np.log(np.exp(decision).sum(axis=1, keepdims=True))
    validation_loss = -np.mean(log_proba[np.arange(len(validation)), y[validation]])
    assert validation_loss == pytest.approx(clf.best_loss_, rel=1e-9)


@pytest.mark.parametrize(
    "params",
    [
        {"learning_rate": "constant", "eta0": 0.5},
        {"learning_rate": "constant", "eta0": 0.5, "momentum": 0.9},
        {"learning_rate": "constant", "eta0": 0.5, "average": True},
        {"eta0": 0.5},  # "adaptive": the step shrinks after the best epoch
    ],
)
def test_partial_fit_after_early_stopping_continues_from_the_best_epoch(params):
    X, y = noisy_three_classes()
    params = {
        "early_stopping": True,
        "n_iter_no_change": 3,
        "random_state": 0,
        **params,
    }
    clf = SoftmaxSGDClassifier(**params).fit(X, y)
    best_epoch = int(np.argmin(clf.validation_loss_curve_)) + 1
    assert best_epoch < clf.n_iter_
    # The same fit cut at the best epoch ends in the state the longer fit
    # keeps: weights, velocities, averages, step size and update count.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cut = SoftmaxSGDClassifier(**params, max_iter=best_epoch).fit(X, y)
    assert_array_equal(clf.coef_, cut.coef_)
    assert clf._t_updates == cut._t_updates
    chunk = slice(0, 500)
    clf.partial_fit(X[chunk], y[chunk])
    cut.partial_fit(X[chunk], y[chunk])
    assert_allclose(clf.coef_, cut.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(clf.intercept_, cut.intercept_, rtol=1e-12, atol=1e-14)


def test_partial_fit_refuses_parameters_changed_since_the_first_call():
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    clf = SoftmaxSGDClassifier(random_state=0, eta0=0.01, learning_rate="constant")
    clf.partial_fit(X, y, classes=[0, 1, 2])
    before = clf.coef_.copy(), clf.intercept_.copy(), clf._t_updates
    for name, value in [("alpha", 10.0), ("eta0", 1.0), ("fit_intercept", False)]:
        old = clf.get_params()[name]
        clf.set_params(**{name: value})
        with pytest.raises(ValueError, match=f"{name}={old!r} \\(now {value!r}\\)"):
            clf.partial_fit(X, y)
        assert_array_equal(clf.coef_, before[0])
        assert_array_equal(clf.intercept_, before[1])
        assert clf._t_updates == before[2]
        clf.set_params(**{name: old})
    # Parameters that the state is not built from may change: batch_size.
    clf.set_params(batch_size=50).partial_fit(X, y)
    assert clf._t_updates == before[2] + 6
    # fit builds a new state with the parameters of its time.
    clf.set_params(alpha=10.0).fit(X, y)
    clf.partial_fit(X, y)


def test_early_stopping_on_too_little_data_says_so():
    X, y = np.arange(12.0).reshape(6, 2), [0, 1, 2, 0, 1, 2]
    with pytest.raises(ValueError, match="validation_fraction"):
        SoftmaxSGDClassifier(early_stopping=True).fit(X, y)


def test_coef_init_and_intercept_init_start_the_fit():
    X, y = make_blobs(n_samples=200, centers=3, random_state=0)
    reference = SoftmaxSGDClassifier(random_state=0).fit(X, y)
    started = SoftmaxSGDClassifier(random_state=0, max_iter=1, tol=None).fit(
        X, y, coef_init=reference.coef_, intercept_init=reference.intercept_
    )
    assert started.loss_curve_[0] < reference.loss_curve_[0]
    with pytest.raises(ValueError, match="coef_init must have shape"):
        SoftmaxSGDClassifier().fit(X, y, coef_init=np.zeros((2, 2)))


def test_averaged_sgd_predicts_with_the_running_mean():
    X, y = make_blobs(n_samples=512, centers=3, random_state=0, cluster_std=4)
    clf = SoftmaxSGDClassifier(
        average=True,
        max_iter=1,
        tol=None,
        shuffle=False,
        momentum=0.0,
        learning_rate="constant",
        eta0=0.01,
        random_state=0,
    )
    # Replay the two minibatch updates by hand and average the iterates.
    coef, intercept = np.zeros((3, 2)), np.zeros(3)
    iterates = []
    for rows in (slice(0, 256), slice(256, 512)):
        from sksoftmax import softmax_loss

        _, grad_coef, grad_intercept = softmax_loss(
            coef, intercept, X[rows], y[rows], alpha=1e-4
        )
        coef = coef - 0.01 * grad_coef
        intercept = intercept - 0.01 * grad_intercept
        iterates.append((coef, intercept))
    clf.fit(X, y)
    assert_allclose(clf.coef_, (iterates[0][0] + iterates[1][0]) / 2, rtol=1e-12)
    assert_allclose(clf.intercept_, (iterates[0][1] + iterates[1][1]) / 2, rtol=1e-12)


@pytest.mark.parametrize(
    "n_samples, expected",
    [(100, 100), (1_000, 256), (8_191, 256), (8_192, 512), (10**6, 512)],
)
def test_auto_batch_size_rule_on_a_cpu(n_samples, expected):
    clf = SoftmaxSGDClassifier()
    assert clf._batch_size(n_samples, np.zeros((1, 1))) == expected
    assert SoftmaxSGDClassifier(batch_size=300)._batch_size(n_samples, None) == min(
        300, n_samples
    )


@pytest.mark.parametrize("n_samples, n_steps", [(8_191, 32), (8_192, 16)])
def test_auto_batch_size_doubles_from_8192_rows(n_samples, n_steps):
    # The update count t_ after one epoch shows the batch size the fit used:
    # 8191 rows in 31 batches of 256 and a short one; 8192 in 16 of 512.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, 3))
    y = (X[:, 0] > 0).astype(int)
    clf = SoftmaxSGDClassifier(max_iter=1, tol=None, random_state=0).fit(X, y)
    assert clf._t_updates == n_steps


def test_a_short_last_batch_steps_in_proportion_to_its_rows():
    X, y = make_blobs(n_samples=300, centers=3, random_state=0, cluster_std=4)
    clf = SoftmaxSGDClassifier(
        penalty=None,
        max_iter=1,
        tol=None,
        shuffle=False,
        momentum=0.0,
        learning_rate="constant",
        eta0=0.01,
        batch_size=256,
        random_state=0,
    ).fit(X, y)
    # By hand: a full batch of 256 rows, then the last 44 rows at 44/256 of
    # the step, so that each of them counts as much as a row of a full batch.
    from sksoftmax import softmax_loss

    coef, intercept = np.zeros((3, 2)), np.zeros(3)
    for rows, share in ((slice(0, 256), 1.0), (slice(256, 300), 44 / 256)):
        _, grad_coef, grad_intercept = softmax_loss(coef, intercept, X[rows], y[rows])
        coef = coef - 0.01 * share * grad_coef
        intercept = intercept - 0.01 * share * grad_intercept
    assert_allclose(clf.coef_, coef, rtol=1e-12)
    assert_allclose(clf.intercept_, intercept, rtol=1e-12)


def test_one_row_left_over_does_not_spoil_the_fit():
    # 2049 rows make 8 batches of 256 and one of a single row. Stepping on
    # that row's gradient as on a full batch's cost 5 points of accuracy.
    X, y = make_classification(
        n_samples=6000,
        n_features=50,
        n_informative=25,
        n_classes=5,
        n_clusters_per_class=1,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    X_test, y_test = X[4000:], y[4000:]
    scores = [
        SoftmaxSGDClassifier(random_state=0).fit(X[:n], y[:n]).score(X_test, y_test)
        for n in (2048, 2049)
    ]
    assert abs(scores[1] - scores[0]) < 0.01


def test_verbose_prints_one_line_per_epoch(capsys):
    X, y = make_blobs(n_samples=100, centers=2, random_state=0)
    SoftmaxSGDClassifier(verbose=1, max_iter=4, tol=None, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 4
    assert all(
        "objective" in line and "step size" in line and "time" in line for line in lines
    )


def _step_sizes(verbose_output):
    """The "step size" of each epoch line that ``verbose=1`` printed."""
    return [
        float(line.split("step size ")[1].split(",")[0])
        for line in verbose_output.splitlines()
        if "step size" in line
    ]


def _standardised_digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def test_auto_step_grows_where_the_bound_is_too_small(capsys, monkeypatch):
    # On digits the curvature bound is tens of times smaller than the step the
    # loss allows: fit doubles it while each epoch improves by tol.
    X, y = _standardised_digits()
    grown = SoftmaxSGDClassifier(momentum=0.0, random_state=0, verbose=1).fit(X, y)
    steps = _step_sizes(capsys.readouterr().out)
    bound = steps[0]
    assert steps[1:4] == pytest.approx([2 * bound, 4 * bound, 8 * bound], rel=1e-3)
    assert max(steps) >= 16 * bound
    # Without the growth phase (a cap of 1: the bound is kept), the same data
    # ends far from the optimum, after more epochs.
    monkeypatch.setattr(_optim, "MAX_GROWTH", 1.0)
    kept = SoftmaxSGDClassifier(momentum=0.0, random_state=0, verbose=1).fit(X, y)
    assert max(_step_sizes(capsys.readouterr().out)) == bound
    assert grown.loss_curve_[-1] < 0.5 * kept.loss_curve_[-1]
    assert grown.n_iter_ < kept.n_iter_


def _objectives(verbose_output):
    """The objective of each epoch line that ``verbose=1`` printed."""
    return [
        float(line.split("objective ")[1].split()[0].rstrip(","))
        for line in verbose_output.splitlines()
        if "objective" in line
    ]


@pytest.mark.parametrize(
    "container, params",
    [
        (np.asarray, {}),
        (np.asarray, {"average": True}),
        (sparse.csr_array, {"penalty": "elasticnet"}),  # lazy updates, L1 state
    ],
)
def test_an_epoch_whose_grown_step_overshoots_is_discarded(container, params, capsys):
    X, y = _standardised_digits()
    X = container(X)
    SoftmaxSGDClassifier(momentum=0.0, random_state=0, verbose=1, **params).fit(X, y)
    output = capsys.readouterr().out
    lines = output.splitlines()
    epoch = next(i + 1 for i, line in enumerate(lines) if "discarded" in line)
    measured = _objectives(output)
    assert measured[epoch - 1] > measured[epoch - 2]  # the objective rose
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        at = SoftmaxSGDClassifier(
            momentum=0.0, random_state=0, max_iter=epoch, **params
        ).fit(X, y)
        before = SoftmaxSGDClassifier(
            momentum=0.0, random_state=0, max_iter=epoch - 1, **params
        ).fit(X, y)
    # The weights (averages, L1 state and update count included) are those
    # of the epoch before, and so is the objective recorded.
    assert at.n_iter_ == before.n_iter_ + 1
    assert_array_equal(at.coef_, before.coef_)
    assert_array_equal(at.intercept_, before.intercept_)
    assert at._t_updates == before._t_updates
    assert at.loss_curve_[-1] == before.loss_curve_[-1]
    # Training goes on from there, at a smaller step, to a good model.
    full = SoftmaxSGDClassifier(momentum=0.0, random_state=0, **params).fit(X, y)
    assert full.n_iter_ > epoch and full.score(X, y) > 0.97


def test_a_grown_step_that_diverges_is_discarded_without_a_warning(capsys, monkeypatch):
    # Fault injection: the third epoch (on a step of 4x the bound) reports
    # logits out of range, as an overflow would.
    checks = []

    def third_epoch_overflows(state, x_max_abs):
        checks.append(None)
        return len(checks) != 3 and logits_in_range(state, x_max_abs)

    X, y = _standardised_digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        two_epochs = SoftmaxSGDClassifier(momentum=0.0, random_state=0, max_iter=2).fit(
            X, y
        )
    logits_in_range = _engine.logits_in_range
    monkeypatch.setattr(_engine, "logits_in_range", third_epoch_overflows)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        three_epochs = SoftmaxSGDClassifier(
            momentum=0.0, random_state=0, max_iter=3
        ).fit(X, y)
    # max_iter=3 stops before convergence, and says only that.
    assert [str(w.message).split(" (")[0] for w in caught] == [
        "Maximum number of epochs"
    ]
    assert_array_equal(three_epochs.coef_, two_epochs.coef_)
    assert three_epochs._t_updates == two_epochs._t_updates
    assert three_epochs.loss_curve_[2] == three_epochs.loss_curve_[1]
    checks.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = SoftmaxSGDClassifier(momentum=0.0, random_state=0, verbose=1).fit(X, y)
    steps = _step_sizes(capsys.readouterr().out)
    assert steps[3] == pytest.approx(steps[2] / 4, rel=1e-3)  # half of the last good
    assert clf.n_iter_ > 10 and clf.score(X, y) > 0.97


def test_auto_step_decays_on_unscaled_data(capsys, monkeypatch):
    # Pixels times 1,000: the bound is about 1e-9, under SGDClassifier's
    # absolute floor of 1e-6, which would end the fit at its first stall.
    # (No growth, so that only the decay can change the step.)
    monkeypatch.setattr(_optim, "MAX_GROWTH", 1.0)
    X, y = load_digits(return_X_y=True)
    SoftmaxSGDClassifier(random_state=0, verbose=1).fit(X * 1000.0, y)
    steps = _step_sizes(capsys.readouterr().out)
    assert max(steps) == steps[0] < 1e-6
    # Divided by 5 at least once, though under the absolute floor.
    assert min(steps) == pytest.approx(
        steps[0] / 5 ** round(math.log(steps[0] / min(steps), 5))
    )
    assert min(steps) <= steps[0] / 5


@pytest.mark.parametrize("factor", [100.0, 1e6])
def test_auto_step_from_a_row_sample_trains_unscaled_data(factor):
    # More rows than the step size's sample holds, features multiplied by
    # 100 or a million: the sampled estimate keeps the fit from diverging.
    from sksoftmax._step_size import SAMPLE_ROWS

    X, y = make_classification(
        n_samples=2 * SAMPLE_ROWS,
        n_features=20,
        n_informative=10,
        n_classes=3,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    assert len(X_train) > SAMPLE_ROWS
    reference = SoftmaxSGDClassifier(random_state=0).fit(X_train, y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divergence, no overflow
        clf = SoftmaxSGDClassifier(random_state=0).fit(X_train * factor, y_train)
    assert np.isfinite(clf.coef_).all()
    assert clf.score(X_test * factor, y_test) > reference.score(X_test, y_test) - 0.02
    # Without a penalty the estimate is equivariant: the step scales as one
    # over the squared feature scale, the intercept's factor as its square.
    weight = np.ones(len(X_train))
    eta, scale = auto_step_sizes(
        X_train, weight, True, 256, 0.0, n_samples=len(X_train), random_state=0
    )
    eta_unscaled, scale_unscaled = auto_step_sizes(
        X_train * factor,
        weight,
        True,
        256,
        0.0,
        n_samples=len(X_train),
        random_state=0,
    )
    assert eta_unscaled * factor**2 == pytest.approx(eta, rel=1e-9)
    assert scale_unscaled / factor**2 == pytest.approx(scale, rel=1e-9)


@pytest.mark.parametrize(
    "params",
    [
        {"eta0": 0.05},
        {"momentum": 0.9},
        {"early_stopping": True},
        {"tol": None, "max_iter": 20},
    ],
)
def test_the_step_grows_only_from_the_auto_bound_of_an_adaptive_fit(params, capsys):
    X, y = _standardised_digits()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        SoftmaxSGDClassifier(random_state=0, verbose=1, **params).fit(X, y)
    steps = _step_sizes(capsys.readouterr().out)
    assert max(steps) == steps[0]


def test_a_discarded_epoch_does_not_count_as_stalled(capsys):
    X, y = _standardised_digits()
    # With n_iter_no_change=1 a stall would divide the step at once.
    SoftmaxSGDClassifier(
        momentum=0.0, random_state=0, verbose=1, n_iter_no_change=1
    ).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    steps = _step_sizes("\n".join(lines))
    epoch = next(i for i, line in enumerate(lines) if "discarded" in line)
    assert steps[epoch + 1] == pytest.approx(steps[epoch] / 4, rel=1e-3)  # not / 20


def test_no_growth_with_one_batch_per_epoch(capsys):
    # momentum="auto" is Nesterov's 0.9 on dense data.
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    SoftmaxSGDClassifier(random_state=0, verbose=1).fit(X, y)
    steps = _step_sizes(capsys.readouterr().out)
    assert max(steps) == steps[0]


def test_a_diverged_first_epoch_keeps_the_bound(monkeypatch):
    # Fault injection: the first epoch, at the bound, reports logits out of
    # range. The fit stops with the divergence warning; the step left for
    # partial_fit is the bound, not half of it.
    monkeypatch.setattr(_engine, "logits_in_range", lambda state, x: False)
    X, y = _standardised_digits()
    with pytest.warns(ConvergenceWarning, match="diverg"):
        clf = SoftmaxSGDClassifier(random_state=0).fit(X, y)
    schedule = clf._training_state.optimizer.schedule
    assert not schedule.growing and schedule(0) == schedule.eta0


def test_no_growth_from_given_weights_or_in_partial_fit(capsys):
    X, y = _standardised_digits()
    grown = SoftmaxSGDClassifier(momentum=0.0, random_state=0).fit(X, y)
    # From given weights (warm_start or coef_init) the step does not grow.
    grown.set_params(warm_start=True, verbose=1).fit(X, y)
    steps = _step_sizes(capsys.readouterr().out)
    assert max(steps) == steps[0]
    SoftmaxSGDClassifier(momentum=0.0, random_state=0, verbose=1).fit(
        X, y, coef_init=grown.coef_, intercept_init=grown.intercept_
    )
    steps = _step_sizes(capsys.readouterr().out)
    assert max(steps) == steps[0]
    # partial_fit sees one epoch per call: no growth, not even after a fit
    # that stopped during the growth phase, which keeps the last step that
    # improved.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = SoftmaxSGDClassifier(momentum=0.0, random_state=0, max_iter=2).fit(X, y)
    schedule = clf._training_state.optimizer.schedule
    assert not schedule.growing
    assert schedule(0) == pytest.approx(2 * schedule.eta0)  # epoch 2's step
    for _ in range(3):
        clf.partial_fit(X, y)
    assert clf._training_state.optimizer.schedule(0) == pytest.approx(2 * schedule.eta0)
    fresh = SoftmaxSGDClassifier(momentum=0.0, random_state=0)
    for _ in range(3):
        fresh.partial_fit(X, y, classes=np.unique(y))
    schedule = fresh._training_state.optimizer.schedule
    assert not schedule.growing and schedule(0) == schedule.eta0


@pytest.mark.parametrize(
    "learning_rate", ["constant", "optimal", "invscaling", "cosine"]
)
def test_every_schedule_trains(learning_rate):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = SoftmaxSGDClassifier(
        learning_rate=learning_rate, random_state=0, max_iter=300
    )
    assert clf.fit(X, y).score(X, y) > 0.9


def test_cosine_runs_its_course_without_warning():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = SoftmaxSGDClassifier(
        learning_rate="cosine", alpha=0.01, max_iter=30, random_state=0
    ).fit(X, y)
    assert clf.n_iter_ == 30
    assert clf._training_state.optimizer.schedule(clf._t_updates) == pytest.approx(0.0)


def test_cosine_is_stopped_by_early_stopping():
    # tol does not stop the cosine schedule, but early stopping does (it
    # ran all max_iter epochs, then restored the best).
    rng = np.random.RandomState(0)
    X = rng.standard_normal((400, 10))
    y = (X[:, 0] + 2 * rng.standard_normal(400) > 0).astype(int)
    clf = SoftmaxSGDClassifier(
        learning_rate="cosine",
        eta0=0.05,
        early_stopping=True,
        n_iter_no_change=5,
        max_iter=300,
        random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ == len(clf.validation_loss_curve_) < 20


def test_shuffle_blocks_visits_contiguous_batches_in_a_new_order_each_epoch(
    monkeypatch,
):
    from sksoftmax._kernels import NumpyKernel

    seen = []
    call = NumpyKernel.__call__

    def recording_call(self, rows, state):
        seen.append(rows)
        return call(self, rows, state)

    monkeypatch.setattr(NumpyKernel, "__call__", recording_call)
    X, y = make_classification(
        n_samples=1000, n_classes=3, n_informative=4, random_state=0
    )
    SoftmaxSGDClassifier(
        shuffle="blocks", batch_size=100, max_iter=3, tol=None, random_state=0
    ).fit(X, y)
    epochs, rows_left = [[]], 1000
    for batch in seen:
        # Slices of X itself: no gathered copy.
        assert isinstance(batch, slice) and 0 < batch.stop - batch.start <= 100
        epochs[-1].append(batch)
        rows_left -= batch.stop - batch.start
        if rows_left == 0:
            epochs.append([])
            rows_left = 1000
    assert len(epochs) == 4 and epochs[-1] == []
    for batches in epochs[:3]:
        # Every row once: the sorted slices tile [0, 1000); at most two (the
        # first and the last rows) are short.
        tiles = sorted(batches, key=lambda batch: batch.start)
        assert tiles[0].start == 0 and tiles[-1].stop == 1000
        assert all(a.stop == b.start for a, b in zip(tiles, tiles[1:]))
        assert sum(batch.stop - batch.start < 100 for batch in batches) <= 2
    # A new order and new boundaries each epoch.
    starts = [[batch.start for batch in batches] for batches in epochs[:3]]
    assert starts[0] != starts[1] and starts[1] != starts[2]
    assert len({frozenset(batch_starts) for batch_starts in starts}) > 1


def test_shuffle_blocks_trains_as_well_on_rows_in_random_order():
    X, y = make_classification(
        n_samples=20_000,
        n_features=40,
        n_informative=20,
        n_classes=5,
        random_state=0,
    )
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    rows = SoftmaxSGDClassifier(random_state=0).fit(X_train, y_train)
    blocks = SoftmaxSGDClassifier(shuffle="blocks", random_state=0).fit(
        X_train, y_train
    )
    assert blocks.score(X_test, y_test) == pytest.approx(
        rows.score(X_test, y_test), abs=0.01
    )
    # The same seed gives the same model; another order, another model.
    again = SoftmaxSGDClassifier(shuffle="blocks", random_state=0).fit(X_train, y_train)
    assert_array_equal(again.coef_, blocks.coef_)
    assert not np.array_equal(blocks.coef_, rows.coef_)


@pytest.mark.parametrize("container", [np.asarray, sparse.csr_array])
def test_shuffle_blocks_with_early_stopping_and_sparse_data(container, monkeypatch):
    # The early-stopping split leaves the training rows non-contiguous:
    # the blocks are then contiguous runs of the training rows.
    X, y = make_classification(
        n_samples=2000, n_classes=3, n_informative=4, random_state=0
    )
    X = container(StandardScaler().fit_transform(X))
    plans = []  # each epoch's batches, as slices of the training rows
    shuffled_blocks = _engine._shuffled_blocks

    def recording_shuffled_blocks(n_rows, batch_size, rng):
        plans.append((n_rows, shuffled_blocks(n_rows, batch_size, rng)))
        return plans[-1][1]

    # Spied on where the epoch loop looks it up.
    monkeypatch.setattr(_engine, "_shuffled_blocks", recording_shuffled_blocks)
    rows = SoftmaxSGDClassifier(momentum=0.0, early_stopping=True, random_state=0).fit(
        X, y
    )
    blocks = SoftmaxSGDClassifier(
        momentum=0.0, shuffle="blocks", early_stopping=True, random_state=0
    ).fit(X, y)
    assert blocks.score(X, y) == pytest.approx(rows.score(X, y), abs=0.02)
    # The same seed, another order of the rows: another model.
    assert not np.array_equal(blocks.coef_, rows.coef_)
    # Each epoch run tiles the 1800 training rows with contiguous blocks...
    assert len(plans) == blocks.n_iter_ > 1
    for n_rows, batches in plans:
        assert n_rows == 1800
        tiles = sorted(batches, key=lambda batch: batch.start)
        assert tiles[0].start == 0 and tiles[-1].stop == n_rows
        assert all(a.stop == b.start for a, b in zip(tiles, tiles[1:]))
    # ... and training stepped once per block (up to the best epoch).
    assert blocks._t_updates in np.cumsum([len(batches) for _, batches in plans])


def test_shuffle_blocks_counts_the_split_block_in_the_schedule():
    # With an offset the first and last rows form two short batches: one
    # step more per epoch, which the cosine schedule's length must include.
    X, y = make_classification(
        n_samples=1024, n_classes=3, n_informative=4, random_state=0
    )
    clf = SoftmaxSGDClassifier(
        shuffle="blocks",
        learning_rate="cosine",
        batch_size=256,
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    schedule = clf._training_state.optimizer.schedule
    assert 4 * 30 < clf._t_updates <= schedule.total
    assert schedule(clf._t_updates - 5) > 0  # still stepping in the last epoch


@pytest.mark.parametrize(
    "container, shuffle, penalty",
    [
        (np.asarray, False, "l2"),
        (sparse.csr_array, False, "l2"),
        (np.asarray, "blocks", "l2"),
        (np.asarray, False, "elasticnet"),
    ],
)
def test_short_batches_take_a_short_penalty_step_too(container, shuffle, penalty):
    # 300 rows in batches of 256: a full and a short batch each epoch. With
    # a full penalty step for the short one, the fit converged to a penalty
    # 1.7 times as strong (1.25 times with shuffled blocks, whose offset
    # makes a short batch even where 256 divides the rows).
    rng = np.random.RandomState(0)
    X = rng.standard_normal((300, 5))
    y = (X @ rng.standard_normal((5, 3))).argmax(axis=1)
    alpha = 0.1
    params = dict(
        alpha=alpha,
        penalty=penalty,
        l1_ratio=0.0 if penalty == "l2" else 0.5,
        batch_size=256,
        shuffle=shuffle,
        learning_rate="constant",
        eta0=0.05,
        momentum=0.0,
        max_iter=3000,
        tol=None,
        random_state=0,
    )
    clf = SoftmaxSGDClassifier(**params).fit(container(X), y)
    reference = SoftmaxSGDClassifier(**{**params, "batch_size": 300}).fit(X, y)
    if penalty == "l2":
        reference = LogisticRegression(C=1 / (alpha * 300), tol=1e-12).fit(X, y)
    objective = [
        softmax_loss(model.coef_, model.intercept_, X, y, alpha=alpha)[0]
        for model in (clf, reference)
    ]
    # (The cumulative L1 penalty leaves a bias of the step size's order.)
    rel = 1e-6 if penalty == "l2" else 1e-4
    assert objective[0] == pytest.approx(objective[1], rel=rel)
    assert_allclose(clf.coef_, reference.coef_, rtol=0.02, atol=1e-3)


@pytest.mark.parametrize("batch_size", [1, 8, 64])
@pytest.mark.parametrize("container", [np.asarray, sparse.csr_array])
def test_weights_count_in_every_minibatch(batch_size, container):
    # Each batch's gradient was divided by its own weight sum: a batch of
    # one row then ignored its weight (batch_size=1 gave the unweighted
    # fit: intercept +0.02 against LogisticRegression's -2.2) and small
    # batches leant towards it. Now weighted fits reach the weighted
    # optimum at any batch size, and weights equal repeated rows.
    rng = np.random.RandomState(0)
    X = rng.standard_normal((600, 2))
    y = (X[:, 0] + rng.standard_normal(600) > 0).astype(int)
    class_weight = {0: 10.0, 1: 1.0}
    weight = np.where(y == 0, 10.0, 1.0)
    alpha = 1e-3
    clf = SoftmaxSGDClassifier(
        momentum=0.0,
        batch_size=batch_size,
        class_weight=class_weight,
        alpha=alpha,
        tol=1e-7,
        average=10 * 600,  # samples: from the 11th epoch on
        random_state=0,
    )
    with warnings.catch_warnings():
        # tol=1e-7 is finer than the SGD noise of the smallest step: the fit
        # says it stopped at the floor, and is as close as asserted below.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(container(X), y)
    reference = LogisticRegression(
        C=1 / (alpha * weight.sum()), class_weight=class_weight, tol=1e-10
    ).fit(X, y)
    objective = [
        softmax_loss(
            np.vstack([np.zeros(2), model.coef_]),
            np.array([0.0, model.intercept_[0]]),
            X,
            y,
            sample_weight=weight,
            alpha=alpha,
        )[0]
        for model in (clf, reference)
    ]
    assert objective[0] == pytest.approx(objective[1], rel=1e-3)
    assert clf.intercept_[0] == pytest.approx(reference.intercept_[0], abs=0.05)


def test_shuffle_blocks_warns_on_rows_sorted_by_class():
    X, y = make_classification(
        n_samples=1000, n_classes=3, n_informative=4, random_state=0
    )
    order = np.argsort(y, kind="stable")
    with pytest.warns(UserWarning, match="look sorted by class"):
        SoftmaxSGDClassifier(shuffle="blocks", random_state=0).fit(X[order], y[order])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SoftmaxSGDClassifier(shuffle="blocks", random_state=0).fit(X, y)
        SoftmaxSGDClassifier(random_state=0).fit(X[order], y[order])


def test_sparse_fit_keeps_few_weight_sized_arrays():
    # With many features the weights outgrow the data: 2**16 features and 10
    # classes are 5 MiB of float64. A fit holds three arrays that size: the
    # working weights, the last epoch's (for divergence recovery) and coef_;
    # no full-size gradient, no second copy of the initial zeros, no
    # full-size |coef| temporary (which took the peak to 6.5 times).
    import tracemalloc

    rng = np.random.RandomState(0)
    X = sparse.random(2000, 2**16, density=60 / 2**16, format="csr", random_state=rng)
    y = rng.randint(10, size=2000)
    coef_bytes = 10 * 2**16 * 8
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        SoftmaxSGDClassifier(max_iter=2, tol=None, random_state=0).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < 4 * coef_bytes


def test_l1_row_norms_by_blocks_of_columns():
    from sksoftmax._engine import _l1_row_norms

    coef = np.asfortranarray(np.random.default_rng(0).standard_normal((3, 1000)))
    assert_allclose(_l1_row_norms(coef, block=64), np.abs(coef).sum(axis=1))


def test_a_training_state_of_unknown_types_is_refused_with_a_clear_error():
    # A model pickled by a development version whose training state was made
    # of other classes: loading it names the problem and the fix.
    clf = SoftmaxSGDClassifier(max_iter=2, tol=None, random_state=0)
    clf.fit(*make_blobs(n_samples=60, centers=3, random_state=0))
    state = clf.__getstate__()
    state["_training_state"] = {"__class__": "_TrainingState", "attributes": {}}
    with pytest.raises(ValueError, match="'_TrainingState'.*Fit it again"):
        SoftmaxSGDClassifier().__setstate__(state)


def test_partial_fit_names_unseen_labels_before_converting_the_chunk():
    # A chunk with a label outside classes and values beyond the model's
    # float32: the labels are the first thing named.
    X = np.random.RandomState(0).randn(30, 3).astype(np.float32)
    clf = SoftmaxSGDClassifier(random_state=0).partial_fit(
        X, np.arange(30) % 3, classes=[0, 1, 2]
    )
    chunk = X.astype(np.float64)
    chunk[0, 0] = 1e300
    with pytest.raises(ValueError, match=r"labels not in classes \[0, 1, 2\]: \[7\]"):
        clf.partial_fit(chunk, np.r_[7, np.arange(29) % 3])


def test_n_iter_no_change_inf_never_stalls():
    # As MLPClassifier: np.inf means "never stop (or shrink the step) on
    # stalls"; the fit runs max_iter epochs, and says it did not converge.
    X, y = _standardised_digits()
    with pytest.warns(ConvergenceWarning, match="Maximum number of epochs"):
        clf = SoftmaxSGDClassifier(
            n_iter_no_change=np.inf, max_iter=30, random_state=0
        ).fit(X, y)
    assert clf.n_iter_ == 30
    schedule = clf._training_state.optimizer.schedule
    assert schedule(0) == schedule.base  # never shrunk
    with pytest.warns(ConvergenceWarning):
        early = SoftmaxSGDClassifier(
            n_iter_no_change=np.inf, max_iter=15, early_stopping=True, random_state=0
        ).fit(X, y)
    assert early.n_iter_ == 15
    assert early.best_loss_ == min(early.validation_loss_curve_)


def test_validation_attributes_exist_as_in_mlpclassifier():
    # MLPClassifier always has validation_scores_ and best_validation_score_
    # (None without early stopping, and after partial_fit).
    X, y = _standardised_digits()
    plain = SoftmaxSGDClassifier(random_state=0).fit(X, y)
    assert plain.validation_scores_ is None
    assert plain.best_validation_score_ is None
    assert plain.validation_loss_curve_ is None
    early = SoftmaxSGDClassifier(early_stopping=True, random_state=0).fit(X, y)
    kept = int(np.argmin(early.validation_loss_curve_))
    assert early.best_validation_score_ == early.validation_scores_[kept]
    assert 0.9 < early.best_validation_score_ <= 1.0
    assert early.best_loss_ == early.validation_loss_curve_[kept]
    early.partial_fit(X, y)
    assert early.validation_scores_ is None
    assert early.best_validation_score_ is None


def test_t_and_n_iter_mean_what_they_mean_in_sgdclassifier():
    # 7 epochs of 150 rows in batches of 50: t_ is the samples seen plus
    # one (1051), as SGDClassifier's, not the 21 updates.
    X, y = load_iris(return_X_y=True)
    params = dict(max_iter=7, tol=None, batch_size=50, random_state=0)
    clf = SoftmaxSGDClassifier(**params).fit(X, y)
    reference = SGDClassifier(loss="log_loss", max_iter=7, tol=None).fit(X, y)
    assert clf.t_ == reference.t_ == 1051
    assert clf.n_iter_ == reference.n_iter_ == 7
    # partial_fit: n_iter_ is the last call's epochs (1), t_ keeps counting.
    stream = SoftmaxSGDClassifier(random_state=0)
    reference = SGDClassifier(loss="log_loss")
    for _ in range(3):
        stream.partial_fit(X, y, classes=[0, 1, 2])
        reference.partial_fit(X, y, classes=[0, 1, 2])
    assert stream.n_iter_ == reference.n_iter_ == 1
    assert stream.t_ == reference.t_ == 3 * 150 + 1
    # The schedule follows the updates and the epochs of the whole stream,
    # kept privately.
    assert stream._t_updates == 3 and stream._n_epochs == 3


def test_integer_average_counts_samples_as_in_sgdclassifier():
    # 30 updates of 50 rows (10 epochs of 150): average=100 starts averaging
    # at the second update (100 samples seen), not never (at update 100).
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(batch_size=50, max_iter=10, tol=None, random_state=0)
    clf = SoftmaxSGDClassifier(average=100, **params).fit(X, y)
    optimizer = clf._training_state.optimizer
    assert optimizer.samples_seen == 1500
    assert optimizer.n_averaged == 29
    assert not np.array_equal(clf.coef_, clf._training_state.coef)
    # The count goes on across partial_fit calls: 150 rows each.
    stream = SoftmaxSGDClassifier(average=400, batch_size=50, random_state=0)
    stream.partial_fit(X, y, classes=[0, 1, 2])
    stream.partial_fit(X, y)
    assert stream._training_state.optimizer.n_averaged == 0
    stream.partial_fit(X, y)  # samples 350, 400 (averaged), 450 (averaged)
    assert stream._training_state.optimizer.n_averaged == 2


def test_sparsify_and_densify_as_in_sgdclassifier():
    # After L1 a sparse coef_ is what a user wants: sparsify() makes it CSR
    # (SparseCoefMixin, as SGDClassifier and LogisticRegression), predictions
    # do not change, and densify() gives the array back.
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = SoftmaxSGDClassifier(penalty="l1", alpha=0.01, random_state=0).fit(X, y)
    dense, proba = clf.coef_.copy(), clf.predict_proba(X)
    assert (dense == 0).any()
    assert clf.sparsify() is clf
    assert sparse.issparse(clf.coef_) and clf.coef_.nnz == np.count_nonzero(dense)
    assert_allclose(clf.predict_proba(X), proba, rtol=1e-12)
    assert_array_equal(clf.predict(X), np.argmax(proba, axis=1))
    assert clf.densify() is clf
    assert_array_equal(clf.coef_, dense)
    # SGDClassifier's warm_start and partial_fit fail until densify(); here
    # they densify by themselves, and continue from the same weights.
    reference = pickle.loads(pickle.dumps(clf))
    clf.sparsify().partial_fit(X, y)
    reference.partial_fit(X, y)
    assert_array_equal(clf.coef_, reference.coef_)
    clf.sparsify()
    reference.set_params(warm_start=True, max_iter=3, tol=None)
    clf.set_params(warm_start=True, max_iter=3, tol=None).fit(X, y)
    reference.fit(X, y)
    assert_array_equal(clf.coef_, reference.coef_)
    with pytest.raises(NotFittedError):
        SoftmaxSGDClassifier().sparsify()


def test_optimal_schedule_ignores_eta0_as_in_sgdclassifier():
    # Bottou's heuristic sets the first step; eta0 changes nothing (it
    # changed |coef_| from 2.74 to 34.69 on standardised iris).
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    params = dict(learning_rate="optimal", max_iter=20, tol=None, random_state=0)
    small = SoftmaxSGDClassifier(eta0=1e-3, **params).fit(X, y)
    large = SoftmaxSGDClassifier(eta0=1.0, **params).fit(X, y)
    assert_array_equal(small.coef_, large.coef_)
    assert small.score(X, y) > 0.9
    with pytest.raises(ValueError, match="alpha must be > 0"):
        SoftmaxSGDClassifier(learning_rate="optimal", alpha=0.0).fit(X, y)


@pytest.mark.parametrize("container", [np.asarray, sparse.csr_array])
def test_optimal_schedule_trains_unscaled_data(container):
    # Without a data-derived eta0 the first step (10 at alpha=1e-4) would
    # overflow on features times 100; the curvature bound caps it.
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    scaler = StandardScaler().fit(X_train)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = SoftmaxSGDClassifier(learning_rate="optimal", random_state=0).fit(
            container(scaler.transform(X_train) * 100), y_train
        )
    assert np.isfinite(clf.coef_).all()
    assert clf.score(container(scaler.transform(X_test) * 100), y_test) > 0.9


def test_a_fit_stopped_by_the_step_floor_says_so():
    # tol=1e-9 is finer than what the smallest step of the adaptive schedule
    # can resolve: the fit stops at that floor while still improving, and
    # warns, as LogisticRegression does when it stops short of its tol.
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with pytest.warns(ConvergenceWarning, match="smallest step"):
        SoftmaxSGDClassifier(tol=1e-9, momentum=0.0, random_state=0).fit(X, y)
    # The defaults end converged: a division of the step bought under tol.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf = SoftmaxSGDClassifier(random_state=0).fit(X, y)
    assert not clf._training_state.optimizer.schedule.at_floor


def test_validation_attributes_follow_the_kept_weights_and_divergence():
    # No epoch improved on the zero weights, which the model keeps: no
    # epoch's accuracy is theirs.
    X, y = make_blobs(n_samples=300, centers=3, random_state=0)
    params = dict(eta0=1e10, learning_rate="constant", max_iter=20, random_state=0)
    with pytest.warns(ConvergenceWarning, match="starting"):
        clf = SoftmaxSGDClassifier(early_stopping=True, **params).fit(X, y)
    assert clf.best_validation_score_ is None and clf.t_ == 1
    # A partial_fit call that diverges and is undone leaves them as they were.
    before = list(clf.validation_scores_), list(clf.validation_loss_curve_)
    with pytest.warns(ConvergenceWarning, match="diverged"):
        clf.partial_fit(X * 1e150, y)
    assert (clf.validation_scores_, clf.validation_loss_curve_) == before
    assert clf.best_validation_score_ is None


def test_sparsify_refuses_weights_of_another_namespace():
    torch = pytest.importorskip("torch")
    X, y = load_iris(return_X_y=True)
    with sklearn.config_context(array_api_dispatch=True):
        clf = SoftmaxSGDClassifier(max_iter=5, tol=None, random_state=0).fit(
            torch.asarray(X), torch.asarray(y)
        )
        with pytest.raises(ValueError, match="needs numpy weights"):
            clf.sparsify()
