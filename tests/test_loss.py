"""Tests of the math kernel: vectorized vs loop reference, gradients, invariances."""

import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from scipy import sparse

from sksoftmax import check_gradient, log_softmax, softmax_loss, softmax_loss_naive
from sksoftmax._kernels import NumpyKernel
from sksoftmax._loss import _loss_and_logit_gradient
from sksoftmax._optim import put_rows


@st.composite
def problems(draw, dtype=np.float64):
    """A random softmax problem: shapes, classes, weights, scales."""
    n_samples = draw(st.integers(1, 12))
    n_features = draw(st.integers(1, 6))
    n_classes = draw(st.integers(2, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([1e-3, 1.0, 10.0]))
    rng = np.random.RandomState(seed)
    X = (scale * rng.randn(n_samples, n_features)).astype(dtype)
    y = rng.randint(0, n_classes, size=n_samples)
    coef = rng.randn(n_classes, n_features).astype(dtype)
    intercept = draw(st.sampled_from([True, False]))
    intercept = rng.randn(n_classes).astype(dtype) if intercept else None
    sample_weight = draw(st.sampled_from(["none", "float", "int"]))
    if sample_weight == "float":
        sample_weight = rng.uniform(0.1, 3.0, size=n_samples).astype(dtype)
    elif sample_weight == "int":
        sample_weight = rng.randint(1, 4, size=n_samples).astype(dtype)
    else:
        sample_weight = None
    alpha = draw(st.sampled_from([0.0, 0.1, 2.0]))
    return coef, intercept, X, y, alpha, sample_weight


def _assert_same(result, expected, rtol):
    loss, grad_coef, grad_intercept = result
    assert_allclose(loss, expected[0], rtol=rtol)
    assert_allclose(grad_coef, expected[1], rtol=rtol, atol=rtol * 1e-2)
    if expected[2] is None:
        assert grad_intercept is None
    else:
        assert_allclose(grad_intercept, expected[2], rtol=rtol, atol=rtol * 1e-2)


@given(problems())
def test_vectorized_equals_naive(problem):
    coef, intercept, X, y, alpha, sample_weight = problem
    kwargs = dict(alpha=alpha, sample_weight=sample_weight)
    expected = softmax_loss_naive(coef, intercept, X, y, **kwargs)
    _assert_same(softmax_loss(coef, intercept, X, y, **kwargs), expected, 1e-10)
    _assert_same(
        softmax_loss(coef, intercept, sparse.csr_array(X), y, **kwargs), expected, 1e-10
    )


def _central_differences(f, x, h=1e-5):
    """The central-difference gradient of ``f`` at ``x``, entry by entry."""
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x, dtype=np.float64)
        step[index] = h
        grad[index] = (f(x + step) - f(x - step)) / (2 * h)
    return grad


@given(problems())
def test_gradient_matches_central_differences(problem):
    coef, intercept, X, y, alpha, sample_weight = problem
    kwargs = dict(alpha=alpha, sample_weight=sample_weight)
    loss, grad_coef, grad_intercept = softmax_loss(coef, intercept, X, y, **kwargs)
    # Central differences of a loss of size L carry a rounding error of about
    # 1e-16 * L / epsilon: relative errors are meaningful above that floor.
    floor = 1e-4 * (1.0 + loss)

    def loss_of_coef(W):
        return softmax_loss(W, intercept, X, y, **kwargs)[0]

    # Where the gradient is near 0, the finite differences themselves must
    # be (not the analytic gradient, which a wrong kernel could set to 0).
    numerical = _central_differences(loss_of_coef, coef)
    errors = check_gradient(loss_of_coef, coef, grad_coef)
    assert np.all((errors < 1e-5) | (np.abs(grad_coef - numerical) < floor))
    if intercept is not None:

        def loss_of_intercept(b):
            return softmax_loss(coef, b, X, y, **kwargs)[0]

        numerical = _central_differences(loss_of_intercept, intercept)
        errors = check_gradient(loss_of_intercept, intercept, grad_intercept)
        assert np.all((errors < 1e-5) | (np.abs(grad_intercept - numerical) < floor))


@given(problems(), st.floats(-50, 50))
def test_invariant_to_a_constant_added_to_every_logit(problem, shift):
    coef, _, X, y, _, sample_weight = problem
    intercept = np.zeros(coef.shape[0])
    base = softmax_loss(coef, intercept, X, y, sample_weight=sample_weight)
    shifted = softmax_loss(coef, intercept + shift, X, y, sample_weight=sample_weight)
    _assert_same(shifted, base, 1e-9)


@given(problems(), st.integers(0, 2**32 - 1))
def test_integer_weights_equal_repeated_rows(problem, seed):
    coef, intercept, X, y, alpha, _ = problem
    sample_weight = np.random.RandomState(seed).randint(0, 4, size=X.shape[0])
    if sample_weight.sum() == 0:
        sample_weight[0] = 1
    weighted = softmax_loss(
        coef, intercept, X, y, alpha=alpha, sample_weight=sample_weight.astype(float)
    )
    repeated = softmax_loss(
        coef,
        intercept,
        np.repeat(X, sample_weight, axis=0),
        np.repeat(y, sample_weight),
        alpha=alpha,
    )
    _assert_same(weighted, repeated, 1e-10)


@given(problems())
def test_zero_weight_rows_contribute_nothing(problem):
    coef, intercept, X, y, alpha, _ = problem
    rng = np.random.RandomState(0)
    X_extra = np.vstack([X, 1e3 * rng.randn(3, X.shape[1])])
    y_extra = np.concatenate([y, rng.randint(0, coef.shape[0], size=3)])
    sample_weight = np.concatenate([np.ones(len(y)), np.zeros(3)])
    with_zeros = softmax_loss(
        coef, intercept, X_extra, y_extra, alpha=alpha, sample_weight=sample_weight
    )
    _assert_same(with_zeros, softmax_loss(coef, intercept, X, y, alpha=alpha), 1e-12)


@given(problems(dtype=np.float32))
def test_float32_in_float32_out(problem):
    coef, intercept, X, y, alpha, sample_weight = problem
    for data in (X, sparse.csr_array(X)):
        loss, grad_coef, grad_intercept = softmax_loss(
            coef, intercept, data, y, alpha=alpha, sample_weight=sample_weight
        )
        assert grad_coef.dtype == np.float32
        if intercept is not None:
            assert grad_intercept.dtype == np.float32
        expected = softmax_loss_naive(
            coef, intercept, X, y, alpha=alpha, sample_weight=sample_weight
        )
        assert_allclose(loss, expected[0], rtol=1e-4)
        assert_allclose(grad_coef, expected[1], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(
    "dtype, logit", [(np.float32, 1e4), (np.float32, -1e4), (np.float64, 1e300)]
)
def test_no_overflow_for_huge_logits(dtype, logit):
    X = np.array([[1.0], [1.0], [-1.0]], dtype=dtype)
    coef = np.array([[logit], [0.0], [-logit]], dtype=dtype)
    y = np.array([0, 1, 2])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, grad_coef, grad_intercept = softmax_loss(coef, np.zeros(3, dtype), X, y)
        log_proba = log_softmax(X @ coef.T)
    assert np.isfinite(loss) and np.all(np.isfinite(grad_coef))
    assert np.all(np.isfinite(grad_intercept)) and np.all(log_proba <= 0)
    # Each row's loss is the gap between its largest logit and its label's:
    # |logit| for row 1, and 0 (logit > 0) or 2 |logit| (logit < 0) for rows 0, 2.
    assert loss == pytest.approx(abs(logit) / 3 * (1 if logit > 0 else 5), rel=1e-6)


def test_log_softmax_rows_are_normalised():
    raw = np.random.RandomState(0).randn(50, 7) * 30
    assert_allclose(np.exp(log_softmax(raw)).sum(axis=1), 1.0)
    out = raw.copy()
    assert log_softmax(out, out=out) is out


def test_integer_logits_and_weights_give_float_results():
    assert_allclose(
        log_softmax(np.array([[1, 2]])), log_softmax(np.array([[1.0, 2.0]]))
    )
    rng = np.random.RandomState(0)
    X, y = rng.randn(6, 3), np.array([0, 1, 2, 0, 1, 2])
    for kernel in (softmax_loss, softmax_loss_naive):
        loss, grad, _ = kernel(np.eye(3, dtype=int), None, X, y)
        expected = kernel(np.eye(3), None, X, y)
        assert grad.dtype == np.float64
        assert loss == pytest.approx(expected[0])
        assert_allclose(grad, expected[1])
    # Labels as whole floats are still labels.
    assert softmax_loss(np.eye(3), None, X, y.astype(float))[0] == pytest.approx(
        softmax_loss(np.eye(3), None, X, y)[0]
    )


def test_all_zero_weights_leave_only_the_penalty():
    coef = np.ones((3, 2))
    loss, grad_coef, grad_intercept = softmax_loss(
        coef,
        np.zeros(3),
        np.ones((4, 2)),
        [0, 1, 2, 0],
        alpha=0.5,
        sample_weight=np.zeros(4),
    )
    assert loss == pytest.approx(0.5 * 0.5 * 6)
    assert_allclose(grad_coef, 0.5 * coef)
    assert_allclose(grad_intercept, 0.0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(coef=np.zeros((3, 5))), "coef must have shape"),
        (dict(intercept=np.zeros(2)), "intercept must have shape"),
        (dict(y=[0, 1, 3]), "encoded labels"),
        (dict(y=[0, 1]), "y must have shape"),
        (dict(sample_weight=np.ones(2)), "sample_weight must have shape"),
        (dict(y=[0, 1.5, 2]), "encoded integer labels"),
        (dict(sample_weight=[1.0, -1.0, 1.0]), "non-negative"),
    ],
)
def test_kernel_rejects_inconsistent_shapes(kwargs, message):
    arguments = dict(
        coef=np.zeros((3, 2)), intercept=np.zeros(3), X=np.ones((3, 2)), y=[0, 1, 2]
    )
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        softmax_loss(**arguments)


@pytest.mark.parametrize("layout", ["F", "transposed view"])
def test_check_gradient_at_column_major_weights(layout):
    # A fitted model's coef_ is column-major: the check must perturb x itself.
    rng = np.random.RandomState(0)
    X, y = rng.randn(50, 4), rng.randint(0, 3, 50)
    coef = 0.1 * rng.randn(3, 4)
    coef = np.asfortranarray(coef) if layout == "F" else np.ascontiguousarray(coef.T).T
    assert not coef.flags.c_contiguous
    _, grad, _ = softmax_loss(coef, None, X, y)

    def f(W):
        return softmax_loss(W, None, X, y)[0]

    assert check_gradient(f, coef, grad).max() < 1e-6


def test_check_gradient_catches_a_wrong_gradient():
    rng = np.random.RandomState(0)
    X, y = rng.randn(10, 3), rng.randint(0, 3, 10)
    coef = rng.randn(3, 3)
    _, grad, _ = softmax_loss(coef, None, X, y)

    def f(W):
        return softmax_loss(W, None, X, y)[0]

    assert check_gradient(f, coef, grad).max() < 1e-6
    assert check_gradient(f, coef, 1.1 * grad).max() > 0.01
    partial = check_gradient(f, coef, grad, n_checks=4, random_state=0)
    assert np.isfinite(partial).sum() == 4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_put_rows_equals_fancy_assignment(dtype, layout):
    rng = np.random.default_rng(0)
    array = np.asarray(rng.standard_normal((50, 3)), dtype=dtype, order=layout)
    expected = array.copy()
    rows = rng.permutation(50)[:20]
    values = rng.standard_normal((20, 3)).astype(dtype)
    expected[rows] = values
    put_rows(array, rows, values)  # F-order: the plain assignment fallback
    np.testing.assert_array_equal(array, expected)
    # Values of another dtype are converted, not reinterpreted as bytes.
    other = np.float64 if dtype == np.float32 else np.float32
    put_rows(array, rows[:2], np.ones((2, 3), dtype=other))
    np.testing.assert_array_equal(array[rows[:2]], 1.0)


def _training_kernel(X, y, sample_weight, n_classes, fit_intercept):
    mean_weight = 1.0
    if sample_weight is not None and sample_weight.sum() > 0:
        mean_weight = sample_weight.mean()  # as the engine's plan sets it
    return NumpyKernel(
        X,
        y.astype(np.intp),
        sample_weight,
        n_classes,
        len(y),
        fit_intercept,
        mean_weight=mean_weight,
    )


def _state(coef, intercept):
    """What a kernel reads of a training state."""
    return SimpleNamespace(coef=np.asfortranarray(coef), intercept=intercept)


@given(problems())
def test_training_kernel_equals_softmax_loss(problem):
    # The training loop's kernel (fast shift, flat true-class indices) on
    # gathered rows gives the public kernel's loss and data gradient.
    coef, intercept, X, y, _, sample_weight = problem
    kernel = _training_kernel(X, y, sample_weight, coef.shape[0], intercept is not None)
    rows = np.arange(len(y))[::-1]
    loss, weight_sum, grads = kernel(rows, _state(coef, intercept))
    weights = None if sample_weight is None else sample_weight[rows]
    expected = softmax_loss(coef, intercept, X[rows], y[rows], sample_weight=weights)
    assert weight_sum == pytest.approx(len(y) if weights is None else weights.sum())
    assert_allclose(loss, expected[0], rtol=1e-10)
    assert_allclose(grads[0], expected[1], rtol=1e-10, atol=1e-12)
    if intercept is not None:
        assert_allclose(grads[1], expected[2], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_training_kernel_falls_back_where_the_fast_shift_overflows(weighted):
    # Row 1's true class is 150 below its largest logit: exp(150) overflows
    # float32 after the shift by the true class's logit, so the kernel
    # computes that batch again with the stable shift by the largest logit.
    X = np.array([[1.0], [1.0], [-1.0]], dtype=np.float32)
    y = np.array([0, 1, 2])
    coef = np.array([[150.0], [0.0], [-150.0]], dtype=np.float32)
    logits = np.ascontiguousarray(coef @ X.T)
    with np.errstate(over="ignore", invalid="ignore"):
        assert _loss_and_logit_gradient(logits, y, None, 3.0, fast=True) is None
    sample_weight = np.array([1.0, 2.0, 0.5], np.float32) if weighted else None
    kernel = _training_kernel(X, y, sample_weight, 3, True)
    intercept = np.zeros(3, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, _, grads = kernel(np.arange(3), _state(coef, intercept))
    expected = softmax_loss(
        coef, np.zeros(3, np.float32), X, y, sample_weight=sample_weight
    )
    assert np.isfinite(loss) and np.all(np.isfinite(grads[0]))
    assert_allclose(loss, expected[0], rtol=1e-6)
    assert_allclose(grads[0], expected[1], rtol=1e-6)
    assert_allclose(grads[1], expected[2], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("sample_weight", [None, 2.0, 1e34])
def test_training_kernel_is_exact_where_the_fast_sum_nears_overflow(sample_weight):
    # After the shift by the true class's logit, a wrong class 85 above it
    # makes a finite sum of exps near float32's largest value (exp(85) =
    # 8e36). Scaled by the weight sum before the division, that sum
    # overflowed, and the row's probabilities came out as 0: a finite loss
    # with a wrong gradient. Large sample weights did the same at margins of
    # a few units.
    n_rows = 512
    X = np.zeros((n_rows, 2), np.float32)
    X[:, 1] = 1.0
    X[0, 0] = 1.0  # row 0 alone sees the first feature's weights
    y = np.arange(n_rows) % 3
    y[0] = 0
    coef = np.asfortranarray(np.array([[0, 0], [85, 0], [0, 0]], np.float32))
    if sample_weight is not None:
        sample_weight = np.full(n_rows, sample_weight, np.float32)
        if sample_weight[0] > 1e30:
            coef[1, 0] = 10.0  # a margin of 10 was enough with these weights
    kernel = _training_kernel(X, y, sample_weight, 3, fit_intercept=True)
    intercept = np.zeros(3, np.float32)
    with np.errstate(over="ignore", invalid="ignore"):
        loss, _, grads = kernel(np.arange(n_rows), _state(coef, intercept))
    expected = softmax_loss(coef, intercept, X, y, sample_weight=sample_weight)
    assert_allclose(loss, expected[0], rtol=1e-6)
    # Row 0's wrong class gets its push down (it was 0).
    assert grads[0][1, 0] > 0
    assert_allclose(grads[0], expected[1], rtol=1e-5, atol=1e-6)
    assert_allclose(grads[1], expected[2], rtol=1e-5, atol=1e-6)


def test_training_kernel_reports_diverged_weights_as_nan():
    X, y = np.ones((4, 2)), np.array([0, 1, 2, 1])
    coef = np.full((3, 2), np.nan, order="F")
    with np.errstate(invalid="ignore"):
        kernel = _training_kernel(X, y, None, 3, False)
        loss, _, _ = kernel(np.arange(4), _state(coef, None))
    assert math.isnan(loss)
