"""ONNX export of SoftmaxSGDClassifier through skl2onnx, checked under onnxruntime."""

import subprocess
import sys

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import SoftmaxSGDClassifier

# The `onnx` extra; CI installs it, so these run there.
skl2onnx = pytest.importorskip("skl2onnx")
onnxruntime = pytest.importorskip("onnxruntime")

from sksoftmax.onnx import register_onnx_converter  # noqa: E402

LABELS = {
    "int": np.array([-1, 2, 7]),
    "str": np.array(["cat", "dog", "emu"]),
}


@pytest.fixture(scope="module", autouse=True)
def registered_converter():
    register_onnx_converter()


def make_data(n_classes, label_kind, dtype=np.float32):
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        random_state=0,
    )
    # Unscaled features, so that the exported StandardScaler matters.
    X = (X * [1, 10, 100, 0.1, 1, 5] + 3).astype(dtype)
    return X, LABELS[label_kind][y]


def fitted_pipeline(X, y):
    classifier = SoftmaxSGDClassifier(random_state=0, max_iter=30, tol=None)
    return make_pipeline(StandardScaler(), classifier).fit(X, y)


def run_onnx(model, X, options=None):
    """Convert ``model`` for inputs like ``X`` and run the graph on ``X``."""
    onx = skl2onnx.to_onnx(model, X[:1], options=options)
    session = onnxruntime.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("label_kind", ["int", "str"])
def test_pipeline_export_matches_predict_and_predict_proba(n_classes, label_kind):
    X, y = make_data(n_classes, label_kind)
    pipeline = fitted_pipeline(X, y)

    label, proba = run_onnx(pipeline, X, options={"zipmap": False})

    assert_array_equal(label, pipeline.predict(X))
    assert proba.shape == (len(X), n_classes)
    assert_allclose(proba, pipeline.predict_proba(X), rtol=1e-5, atol=0)


def test_binary_probabilities_stay_accurate_for_confident_predictions():
    # Scores far from 0 give class probabilities down to 1e-20: still rtol 1e-5.
    X, y = make_data(2, "int")
    classifier = SoftmaxSGDClassifier(random_state=0, max_iter=5, tol=None)
    classifier.fit(StandardScaler().fit_transform(X), y)
    # Whole scores from -45 to 45 but 0: a score of 0 lies on the decision
    # boundary, where the label is a coin toss of float32 rounding (it
    # differed between onnxruntime's AVX2 and AVX-512 kernels).
    scores = np.r_[np.arange(-45, 0), np.arange(1, 46)].astype(float)
    X_far = (
        np.outer(scores - classifier.intercept_[0], classifier.coef_[0])
        / np.dot(classifier.coef_[0], classifier.coef_[0])
    ).astype(np.float32)

    label, proba = run_onnx(classifier, X_far, options={"zipmap": False})

    expected = classifier.predict_proba(X_far)
    assert expected.min() < 1e-18
    assert_array_equal(label, classifier.predict(X_far))
    assert_allclose(proba, expected, rtol=1e-5, atol=0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_double_inputs_export_in_double_precision(n_classes):
    X, y = make_data(n_classes, "str", dtype=np.float64)
    pipeline = fitted_pipeline(X, y)

    label, proba = run_onnx(pipeline, X, options={"zipmap": False})

    assert proba.dtype == np.float64
    assert_array_equal(label, pipeline.predict(X))
    assert_allclose(proba, pipeline.predict_proba(X), rtol=1e-12, atol=0)


def test_integer_inputs_are_cast_to_float():
    X, y = make_data(3, "int")
    X = np.round(X).astype(np.int64)
    classifier = SoftmaxSGDClassifier(random_state=0, max_iter=10, tol=None)
    classifier.fit(X, y)

    label, proba = run_onnx(classifier, X, options={"zipmap": False})

    assert_array_equal(label, classifier.predict(X))
    assert_allclose(proba, classifier.predict_proba(X), rtol=1e-5, atol=0)


def test_default_options_give_one_dict_of_probabilities_per_row():
    X, y = make_data(3, "str")
    pipeline = fitted_pipeline(X, y)

    label, proba = run_onnx(pipeline, X[:5])

    assert_array_equal(label, pipeline.predict(X[:5]))
    expected = pipeline.predict_proba(X[:5])
    for row, expected_row in zip(proba, expected, strict=True):
        assert list(row) == ["cat", "dog", "emu"]
        assert_allclose(list(row.values()), expected_row, rtol=1e-5)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_raw_scores_option_gives_decision_function(n_classes):
    X, y = make_data(n_classes, "int")
    pipeline = fitted_pipeline(X, y)

    # Options other than zipmap reach a pipeline's step when keyed by its class.
    options = {SoftmaxSGDClassifier: {"zipmap": False, "raw_scores": True}}
    _, scores = run_onnx(pipeline, X, options=options)

    decision = pipeline.decision_function(X)
    if n_classes == 2:
        assert_array_equal(scores[:, 0], 0)
        scores = scores[:, 1]
    assert_allclose(scores, decision, rtol=1e-4, atol=1e-5)


def test_nocl_option_gives_class_indices():
    X, y = make_data(3, "str")
    pipeline = fitted_pipeline(X, y)

    options = {SoftmaxSGDClassifier: {"zipmap": False, "nocl": True}}
    label, _ = run_onnx(pipeline, X, options=options)

    assert_array_equal(label, np.searchsorted(pipeline.classes_, pipeline.predict(X)))


@pytest.mark.parametrize(
    "to_labels",
    [
        lambda y: y.astype(np.float64),
        lambda y: y == 2,
    ],
    ids=["float", "bool"],
)
def test_float_and_bool_labels_export_as_int64(to_labels):
    X, y = make_data(2, "int")
    y = to_labels(y)
    classifier = SoftmaxSGDClassifier(random_state=0, max_iter=5, tol=None).fit(X, y)

    label, _ = run_onnx(classifier, X, options={"zipmap": False})

    assert label.dtype == np.int64
    assert_array_equal(label, classifier.predict(X).astype(np.int64))


def test_core_package_does_not_import_skl2onnx():
    code = (
        "import sys, sksoftmax, sksoftmax.onnx; "
        "assert 'skl2onnx' not in sys.modules, 'skl2onnx imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_model_fitted_off_the_cpu_exports():
    # Fitted on a second device (array-api-strict's stand-in for a GPU), the
    # weights are there; the converter failed on np.asarray of them.
    array_api_strict = pytest.importorskip("array_api_strict")
    from sklearn import config_context

    def on_cpu(array):
        cpu = array_api_strict.Device("CPU_DEVICE")
        return np.asarray(array_api_strict.asarray(array, device=cpu))

    X, y = make_data(3, "int")
    X = StandardScaler().fit_transform(X).astype(np.float32)
    X_device = array_api_strict.asarray(X, device=array_api_strict.Device("device1"))
    with config_context(array_api_dispatch=True):
        model = SoftmaxSGDClassifier(random_state=0).fit(X_device, y)
        expected_label = on_cpu(model.predict(X_device))
        expected_proba = on_cpu(model.predict_proba(X_device))
    assert_array_equal(np.unique(expected_label), model.classes_)

    label, proba = run_onnx(model, X, options={"zipmap": False})

    assert_array_equal(label, expected_label)
    assert_allclose(proba, expected_proba, rtol=1e-5, atol=0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_sparsified_model_exports(n_classes):
    X, y = make_data(n_classes, "int")
    X = StandardScaler().fit_transform(X).astype(np.float32)
    model = SoftmaxSGDClassifier(
        penalty="l1", alpha=0.01, random_state=0, max_iter=30, tol=None
    ).fit(X, y)
    expected = model.predict_proba(X)
    model.sparsify()
    label, proba = run_onnx(model, X, options={"zipmap": False})
    assert_array_equal(label, model.predict(X))
    assert_allclose(proba, expected, rtol=1e-5, atol=0)
