"""Fitting and predicting on array API namespaces (array-api-strict, torch on CPU)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn import config_context
from sklearn.datasets import make_classification
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._array_api import _convert_to_numpy, get_namespace_and_device

from sksoftmax import SoftmaxSGDClassifier, log_softmax

# Both come with the "array-api" extra, which CI installs (".[test,all]").
torch = pytest.importorskip("torch")
array_api_strict = pytest.importorskip("array_api_strict")


def _namespaces():
    yield "torch-cpu", torch, "cpu"
    if torch.cuda.is_available():
        yield "torch-cuda", torch, "cuda"
    yield "array-api-strict", array_api_strict, array_api_strict.Device("CPU_DEVICE")


NAMESPACES = list(_namespaces())


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=700, n_features=12, n_informative=6, n_classes=3, random_state=0
    )
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("name, xp, device", NAMESPACES, ids=[n[0] for n in NAMESPACES])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    "options",
    [
        {},
        {"average": True},
        {"penalty": "l1", "alpha": 1e-3},
        {"early_stopping": True},
    ],
    ids=["defaults", "average", "l1", "early_stopping"],
)
def test_fit_matches_the_numpy_fit(data, name, xp, device, dtype, options):
    X, y = data
    X = X.astype(dtype)
    params = dict(random_state=0, max_iter=8, tol=None, **options)
    reference = SoftmaxSGDClassifier(**params).fit(X, y)
    X_xp = xp.asarray(X, device=device)
    y_xp = xp.asarray(y, device=device)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxSGDClassifier(**params).fit(X_xp, y_xp)
        proba = clf.predict_proba(X_xp)
        predictions = clf.predict(X_xp)
    for fitted in (clf.coef_, clf.intercept_, proba):
        namespace, _, fitted_device = get_namespace_and_device(fitted)
        assert fitted.dtype == X_xp.dtype
        assert str(fitted_device) == str(get_namespace_and_device(X_xp)[2])
    rtol = 1e-4 if dtype == "float32" else 1e-9
    assert_allclose(
        _convert_to_numpy(clf.coef_, xp), reference.coef_, rtol=rtol, atol=rtol
    )
    assert_allclose(
        _convert_to_numpy(proba, xp), reference.predict_proba(X), rtol=rtol, atol=rtol
    )
    assert (_convert_to_numpy(predictions, xp) == reference.predict(X)).mean() > 0.99


# StandardScaler itself divides 0 / 0 on array-api-strict for its zero-variance
# guard and warns; nothing of ours.
@pytest.mark.filterwarnings("ignore:invalid value encountered in divide:RuntimeWarning")
@pytest.mark.parametrize("name, xp, device", NAMESPACES, ids=[n[0] for n in NAMESPACES])
def test_pipeline_with_standard_scaler_on_tensors(data, name, xp, device):
    X, y = data
    X_xp = xp.asarray(X * 50 + 3, device=device)
    y_xp = xp.asarray(y, device=device)
    with config_context(array_api_dispatch=True):
        pipeline = make_pipeline(StandardScaler(), SoftmaxSGDClassifier(random_state=0))
        pipeline.fit(X_xp, y_xp)
        score = pipeline.score(X_xp, y_xp)
        proba = pipeline.predict_proba(X_xp)
    reference = make_pipeline(StandardScaler(), SoftmaxSGDClassifier(random_state=0))
    reference.fit(X * 50 + 3, y)
    assert score == pytest.approx(reference.score(X * 50 + 3, y), abs=0.01)
    assert_allclose(
        _convert_to_numpy(proba, xp), reference.predict_proba(X * 50 + 3), atol=1e-6
    )


def test_binary_partial_fit_on_torch(data):
    X, y = data
    X, y = X[y < 2], y[y < 2]
    X_t, y_t = torch.asarray(X), torch.asarray(y)
    reference = SoftmaxSGDClassifier(random_state=0)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxSGDClassifier(random_state=0)
        for chunk in np.array_split(np.arange(len(y)), 3):
            # classes may live in the array namespace too.
            clf.partial_fit(X_t[chunk], y_t[chunk], classes=torch.asarray([0, 1]))
            reference.partial_fit(X[chunk], y[chunk], classes=[0, 1])
        assert isinstance(clf.coef_, torch.Tensor) and clf.coef_.shape == (1, 12)
        assert clf.decision_function(X_t).shape == (len(y),)
    assert_allclose(clf.coef_.numpy(), reference.coef_, rtol=1e-9)


def test_sparse_input_under_dispatch_keeps_the_numpy_path(data):
    X, y = data
    X[np.abs(X) < 0.5] = 0
    with config_context(array_api_dispatch=True):
        clf = SoftmaxSGDClassifier(random_state=0, max_iter=5, tol=None)
        clf.fit(sparse.csr_array(X), y)
        assert isinstance(clf.coef_, np.ndarray)
        on_torch = SoftmaxSGDClassifier(random_state=0).fit(
            torch.asarray(X), torch.asarray(y)
        )
        for method in (on_torch.predict, on_torch.predict_proba, on_torch.partial_fit):
            arguments = (y,) if method == on_torch.partial_fit else ()
            with pytest.raises(
                ValueError, match="Only the NumPy namespace is compatible"
            ):
                method(sparse.csr_array(X), *arguments)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_shuffle_blocks_on_torch_matches_numpy(data, early_stopping):
    # Blocks are slices of X (or of the training rows, moved to the device).
    X, y = data
    params = dict(shuffle="blocks", early_stopping=early_stopping, random_state=0)
    reference = SoftmaxSGDClassifier(**params).fit(X, y)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxSGDClassifier(**params).fit(torch.asarray(X), torch.asarray(y))
    assert_allclose(clf.coef_.numpy(), reference.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name, xp, device", NAMESPACES, ids=[n[0] for n in NAMESPACES])
def test_auto_batch_size_is_larger_on_a_gpu_only(name, xp, device):
    # 4096 rows: 256 per batch on a CPU; on a GPU an eighth of them, 512. The
    # update count t_ after one epoch shows the batch size the fit used.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4096, 5))
    y = (X[:, 0] > 0).astype(int)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxSGDClassifier(max_iter=1, tol=None, random_state=0).fit(
            xp.asarray(X, device=device), xp.asarray(y, device=device)
        )
    assert clf._t_updates == (4096 // 512 if name == "torch-cuda" else 4096 // 256)


@pytest.mark.parametrize(
    "n_samples, expected",
    [(100, 100), (1_000, 256), (2_048, 256), (20_000, 2_500), (10**6, 16_384)],
)
def test_auto_batch_size_rule_on_an_accelerator(monkeypatch, n_samples, expected):
    import sksoftmax._classifier as classifier

    clf = SoftmaxSGDClassifier()
    monkeypatch.setattr(classifier, "on_accelerator", lambda X: True)
    assert clf._batch_size(n_samples, None) == expected


def test_only_arrays_off_the_cpu_are_on_an_accelerator():
    # Under dispatch, as fit calls it (outside, X is converted to numpy first).
    from sksoftmax._engine import on_accelerator as _on_accelerator

    X = np.ones((3, 2))
    with config_context(array_api_dispatch=True):
        for array in (
            X,
            sparse.csr_array(X),
            torch.asarray(X),
            array_api_strict.asarray(X, device=array_api_strict.Device("device1")),
        ):
            assert not _on_accelerator(array)
        # A torch device other than the CPU ("meta" exists on every build).
        assert _on_accelerator(torch.empty((3, 2), device="meta"))


@pytest.mark.filterwarnings(
    "ignore:No epoch improved:sklearn.exceptions.ConvergenceWarning"
)
def test_float32_epoch_loss_on_the_device_does_not_overflow():
    # Huge float32 features and a constant step of 1: batch losses near 1e35,
    # whose sum over 4096 rows would pass float32's 3.4e38. The device path
    # sums them on the device; it must train like numpy, not "diverge".
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4096, 3)).astype(np.float32) * np.float32(1e18)
    y = rng.integers(0, 3, 4096)
    params = dict(
        eta0=1.0, learning_rate="constant", max_iter=2, tol=None, random_state=0
    )
    reference = SoftmaxSGDClassifier(**params).fit(X, y)
    assert reference.n_iter_ == 2
    with config_context(array_api_dispatch=True):
        clf = SoftmaxSGDClassifier(**params).fit(torch.asarray(X), torch.asarray(y))
    assert clf.n_iter_ == 2
    assert_allclose(clf.loss_curve_, reference.loss_curve_, rtol=1e-5)


def test_second_moments_summed_on_the_device_match_numpy():
    from sksoftmax._step_size import _second_moments

    rng = np.random.default_rng(0)
    X = rng.standard_normal((3000, 7))  # three blocks of rows, the last partial
    weight = rng.random(3000)
    weight /= weight.sum()
    gram, first = _second_moments(X, weight, 2.0)
    with config_context(array_api_dispatch=True):
        gram_torch, first_torch = _second_moments(torch.asarray(X), weight, 2.0)
    assert_allclose(gram_torch, gram, rtol=1e-12)
    assert_allclose(first_torch, first, rtol=1e-12)


@pytest.mark.parametrize("name, xp, device", NAMESPACES, ids=[n[0] for n in NAMESPACES])
@pytest.mark.parametrize("dispatch", [False, True])
def test_log_softmax_stays_in_the_arrays_namespace(name, xp, device, dispatch):
    # With scikit-learn's dispatch off, a tensor went to numpy's functions,
    # which torch refused with a TypeError about its max's arguments.
    raw = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]])
    tensor = xp.asarray(raw, device=device)
    with config_context(array_api_dispatch=dispatch):
        result = log_softmax(tensor)
    assert type(result) is type(tensor) and result.device == tensor.device
    assert_allclose(_convert_to_numpy(result, xp), log_softmax(raw))
    assert_allclose(log_softmax([[0.0, 0.0]]), np.log([[0.5, 0.5]]))
    integers = log_softmax(xp.asarray([[1, 2, 3]], device=device))
    assert_allclose(_convert_to_numpy(integers, xp), log_softmax(raw[:1]), rtol=1e-6)


def test_partial_fit_takes_classes_on_another_device(data):
    # An array of classes on a GPU (here array-api-strict's second device)
    # cannot go through np.asarray: it is moved to numpy first.
    X, y = data
    device = array_api_strict.Device("device1")
    X_xp, y_xp = (array_api_strict.asarray(a, device=device) for a in (X, y))
    classes = array_api_strict.asarray([0, 1, 2], device=device)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxSGDClassifier(random_state=0).partial_fit(
            X_xp, y_xp, classes=classes
        )
        clf.partial_fit(X_xp, y_xp, classes=classes)
    assert list(clf.classes_) == [0, 1, 2] and clf.coef_.device == device


def test_partial_fit_refuses_x_elsewhere_than_its_training_state(data):
    # move_estimator_to moves coef_ but not the optimizer's state, and with
    # dispatch turned off a torch model's next chunk becomes numpy: both
    # ended in TypeErrors from deep inside the kernel.
    from sklearn.utils._array_api import move_estimator_to

    X, y = data
    X_torch = torch.asarray(X)
    with config_context(array_api_dispatch=True):
        clf = SoftmaxSGDClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
        xp, _, device = get_namespace_and_device(X_torch)
        moved = move_estimator_to(clf, xp, device)
        t = moved._t_updates
        with pytest.raises(ValueError, match="held in numpy .* X is torch"):
            moved.partial_fit(X_torch, y)
        assert moved._t_updates == t
        on_torch = SoftmaxSGDClassifier(random_state=0).partial_fit(
            X_torch, y, classes=[0, 1, 2]
        )
    with pytest.raises(ValueError, match="held in torch .* turn it on"):
        on_torch.partial_fit(X_torch, y)
    with config_context(array_api_dispatch=True):
        on_torch.partial_fit(X_torch, y)  # and it goes on where it belongs
