"""Persistence of SoftmaxSGDClassifier with skops.io, which loads only trusted types."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import sparse
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier

# skops (the `skops` extra, part of `all`); CI installs it, so these run there.
sio = pytest.importorskip("skops.io")

OUR_TYPE = "sksoftmax._classifier.SoftmaxSGDClassifier"

# Options that put different objects in the training state partial_fit continues.
TRAINING_OPTIONS = [
    {},
    {"momentum": 0.9, "average": True},
    {"learning_rate": "cosine", "penalty": "elasticnet"},
    {"learning_rate": "optimal", "penalty": None, "fit_intercept": False},
    {"learning_rate": "invscaling", "eta0": 0.05, "momentum": 0.5},
    {"learning_rate": "constant", "eta0": 0.05, "average": 3},
]


def make_data(n_classes):
    X, y = make_classification(
        n_samples=240,
        n_features=5,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        random_state=0,
    )
    return X, np.array(["ant", "bee", "cow"])[y]


def round_trip(model, tmp_path):
    """Dump ``model`` to a file, check what it needs trusted, load it back."""
    path = tmp_path / "model.skops"
    sio.dump(model, path)
    assert sio.get_untrusted_types(file=path) == [OUR_TYPE]
    return sio.load(path, trusted=[OUR_TYPE])


def assert_same_predictions(model, loaded, X):
    assert_array_equal(loaded.predict(X), model.predict(X))
    assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert_array_equal(loaded.decision_function(X), model.decision_function(X))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_fitted_model_round_trips(n_classes, tmp_path):
    X, y = make_data(n_classes)
    model = SoftmaxSGDClassifier(random_state=0, max_iter=20, tol=None).fit(X, y)

    loaded = round_trip(model, tmp_path)

    assert type(loaded) is SoftmaxSGDClassifier
    assert loaded.get_params() == model.get_params()
    assert_array_equal(loaded.classes_, model.classes_)
    assert loaded.loss_curve_ == model.loss_curve_
    assert_same_predictions(model, loaded, X)


def test_pipeline_round_trips(tmp_path):
    X, y = make_data(3)
    pipeline = make_pipeline(
        StandardScaler(), SoftmaxSGDClassifier(random_state=0, max_iter=20, tol=None)
    ).fit(X, y)

    loaded = round_trip(pipeline, tmp_path)

    assert_same_predictions(pipeline, loaded, X)


@pytest.mark.parametrize("options", TRAINING_OPTIONS)
def test_partial_fit_continues_after_loading_as_without_saving(options, tmp_path):
    X, y = make_data(3)
    model = SoftmaxSGDClassifier(random_state=0, **options)
    model.partial_fit(X[:120], y[:120], classes=["ant", "bee", "cow"])

    loaded = round_trip(model, tmp_path)
    model.partial_fit(X[120:], y[120:])
    loaded.partial_fit(X[120:], y[120:])

    assert_array_equal(loaded.coef_, model.coef_)
    assert_array_equal(loaded.intercept_, model.intercept_)
    assert loaded.t_ == model.t_


def test_loading_without_trusting_our_class_is_refused(tmp_path):
    X, y = make_data(2)
    model = SoftmaxSGDClassifier(random_state=0, max_iter=5, tol=None).fit(X, y)
    path = tmp_path / "model.skops"
    sio.dump(model, path)

    with pytest.raises(sio.exceptions.UntrustedTypesFoundException, match=OUR_TYPE):
        sio.load(path)


def test_a_sparsified_model_round_trips_and_trains_on(tmp_path):
    X, y = make_data(3)
    model = SoftmaxSGDClassifier(
        penalty="l1", alpha=0.01, random_state=0, max_iter=20, tol=None
    ).fit(X, y)
    model.sparsify()
    loaded = round_trip(model, tmp_path)
    assert sparse.issparse(loaded.coef_)
    assert_array_equal(loaded.coef_.toarray(), model.coef_.toarray())
    assert_same_predictions(model, loaded, X)
    loaded.partial_fit(X, y)
    model.partial_fit(X, y)
    assert_array_equal(loaded.coef_, model.coef_)
