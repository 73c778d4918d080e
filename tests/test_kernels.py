"""The three minibatch kernels against the public loss, through their one protocol."""

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse

from sksoftmax import softmax_loss
from sksoftmax._kernels import ArrayAPIKernel, NumpyKernel, SparseKernel
from sksoftmax._optim import ConstantSchedule, SGDOptimizer


def _problem(weighted, fit_intercept, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(40, 7) * (rng.rand(40, 7) < 0.4)  # sparse enough for CSR
    y = rng.randint(0, 3, 40)
    coef = np.asfortranarray(rng.randn(3, 7))
    intercept = rng.randn(3) if fit_intercept else None
    sample_weight = rng.uniform(0.5, 2.0, 40) if weighted else None
    return X, y, coef, intercept, sample_weight


def _state(coef, intercept):
    params = [coef] if intercept is None else [coef, intercept]
    optimizer = SGDOptimizer(params, ConstantSchedule(0.1))
    return SimpleNamespace(coef=coef, intercept=intercept, optimizer=optimizer)


@pytest.mark.parametrize("kernel_class", [NumpyKernel, SparseKernel, ArrayAPIKernel])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_each_kernel_gives_the_public_loss_and_gradient(
    kernel_class, weighted, fit_intercept
):
    # One call of the protocol on gathered rows: the loss and data gradient
    # of softmax_loss on those rows (weighted means divide by the batch's
    # rows times the training rows' mean weight, here the batch's own).
    X, y, coef, intercept, sample_weight = _problem(weighted, fit_intercept)
    rows = np.array([3, 17, 5, 29, 11, 0, 38, 22])
    mean_weight = 1.0 if sample_weight is None else sample_weight[rows].mean()
    data = sparse.csr_matrix(X) if kernel_class is SparseKernel else X
    kernel = kernel_class(
        data, y, sample_weight, 3, len(rows), fit_intercept, mean_weight=mean_weight
    )
    state = _state(coef, intercept)
    loss, weight_sum, grads = kernel(kernel.move_indices(rows), state)
    weight = None if sample_weight is None else sample_weight[rows]
    expected_loss, grad_coef, grad_intercept = softmax_loss(
        coef, intercept, X[rows], y[rows], sample_weight=weight
    )
    assert weight_sum == pytest.approx(len(rows) if weight is None else weight.sum())
    assert_allclose(float(loss), expected_loss, rtol=1e-12)
    if kernel_class is SparseKernel:
        # The gradient of the touched columns only, in coef.T's layout.
        assert_allclose(grads[0], grad_coef[:, kernel.columns].T, rtol=1e-12)
        untouched = np.setdiff1d(np.arange(7), kernel.columns)
        assert_allclose(grad_coef[:, untouched], 0.0, atol=1e-15)
    else:
        assert_allclose(grads[0], grad_coef, rtol=1e-12, atol=1e-15)
    if fit_intercept:
        assert_allclose(grads[1], grad_intercept, rtol=1e-12, atol=1e-15)
    else:
        assert len(grads) == 1


@pytest.mark.parametrize("kernel_class", [NumpyKernel, SparseKernel, ArrayAPIKernel])
def test_rows_without_weight_give_no_gradient(kernel_class):
    X, y, coef, intercept, _ = _problem(False, True)
    sample_weight = np.ones(40)
    sample_weight[:10] = 0.0
    data = sparse.csr_matrix(X) if kernel_class is SparseKernel else X
    kernel = kernel_class(data, y, sample_weight, 3, 10, True)
    state = _state(coef, intercept)
    assert kernel(kernel.move_indices(np.arange(10)), state) == (0.0, 0.0, None)


@pytest.mark.parametrize("kernel_class", [NumpyKernel, SparseKernel, ArrayAPIKernel])
def test_a_step_moves_the_weights_against_the_gradient(kernel_class):
    # kernel.step applies the optimizer's rule for the kernel's gradients:
    # plain SGD, so the weights move by -eta * gradient (the sparse kernel's
    # lazy update included).
    X, y, coef, intercept, _ = _problem(False, True)
    data = sparse.csr_matrix(X) if kernel_class is SparseKernel else X
    kernel = kernel_class(data, y, None, 3, 40, True)
    state = _state(coef.copy(order="F"), intercept.copy())
    rows = kernel.move_indices(np.arange(40))
    _, _, grads = kernel(rows, state)
    expected = softmax_loss(coef, intercept, X, y)
    kernel.step(state, grads, t=0, share=1.0, rows=40)
    kernel.end_epoch(state)
    assert_allclose(state.coef, coef - 0.1 * expected[1], rtol=1e-12, atol=1e-15)
    assert_allclose(state.intercept, intercept - 0.1 * expected[2], rtol=1e-12)
