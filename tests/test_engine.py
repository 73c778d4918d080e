"""The engine: one epoch on a block of rows, and blocks' sums merged."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification

from sksoftmax import softmax_loss
from sksoftmax._engine import (
    STALL_ROWS,
    merge_epoch_losses,
    plan_run,
    run_epoch,
    stall_patience,
)
from sksoftmax._optim import ConstantSchedule, SGDOptimizer
from sksoftmax._state import TrainingState


def _data(weighted):
    X, y = make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    rng = np.random.RandomState(0)
    sample_weight = rng.uniform(0.2, 3.0, len(y)) if weighted else np.ones(len(y))
    return X, y.astype(np.intp), sample_weight


def _state(n_features, eta, seed=0):
    rng = np.random.RandomState(seed)
    coef = np.asfortranarray(rng.randn(3, n_features) * 0.1)
    intercept = rng.randn(3) * 0.1
    optimizer = SGDOptimizer([coef, intercept], ConstantSchedule(eta))
    return TrainingState(coef, intercept, optimizer)


def _epoch(X, y, sample_weight, state, rows, t=0):
    plan = plan_run(X, y, sample_weight, state, rows, batch_size=32, shuffle=True)
    return run_epoch(plan, state, rows, plan.batches, t)


@pytest.mark.parametrize("weighted", [False, True])
def test_blocks_sums_merge_into_the_loss_of_all_rows(weighted):
    # With a step of 0 the weights stay put, and each block's epoch sum is
    # its rows' weighted mean loss: the merged blocks give the loss of all
    # rows, whatever the split (the sums a data-parallel epoch combines).
    X, y, sample_weight = _data(weighted)
    state = _state(X.shape[1], eta=0.0)
    rows = np.random.RandomState(1).permutation(len(y))
    blocks = [rows[:70], rows[70:250], rows[250:]]
    sums = [_epoch(X, y, sample_weight, state, block) for block in blocks]
    expected = softmax_loss(
        state.coef, state.intercept, X, y, sample_weight=sample_weight
    )[0]
    assert_allclose(merge_epoch_losses(sums), expected, rtol=1e-12)
    assert [block.weight for block in sums] == pytest.approx(
        [sample_weight[block].sum() for block in blocks]
    )


def test_an_epoch_on_a_block_continues_from_the_state_and_update_count_given():
    # Two blocks run one after the other on one state equal one epoch over
    # their concatenation (the batches do not straddle the blocks' border).
    X, y, sample_weight = _data(False)
    rows = np.random.RandomState(2).permutation(len(y))[:256]
    whole = _state(X.shape[1], eta=0.5)
    in_one = _epoch(X, y, sample_weight, whole, rows, t=10)
    split = _state(X.shape[1], eta=0.5)
    first = _epoch(X, y, sample_weight, split, rows[:128], t=10)
    second = _epoch(X, y, sample_weight, split, rows[128:], t=first.t)
    assert in_one.t == second.t == 10 + 8
    assert_allclose(split.coef, whole.coef, rtol=1e-12)
    assert_allclose(split.intercept, whole.intercept, rtol=1e-12)
    assert_allclose(merge_epoch_losses([first, second]), in_one.loss, rtol=1e-12)
    assert not np.allclose(whole.coef, _state(X.shape[1], eta=0.5).coef)


@pytest.mark.parametrize(
    "n_rows, expected",
    [(1_000, 5), (100_000, 5), (150_000, 4), (250_000, 2), (2_000_000, 1)],
)
def test_stall_patience_counts_epochs_or_blocks_of_rows(n_rows, expected):
    # n_iter_no_change=5 epochs, or 5 blocks of STALL_ROWS rows if fewer.
    assert STALL_ROWS == 100_000
    assert stall_patience(5, n_rows) == expected
    assert stall_patience(1, n_rows) == 1


def test_large_epochs_stall_sooner(monkeypatch):
    # With blocks of 10 rows, an epoch of 300 rows holds 30 of them: one
    # epoch without improvement is a stall, as with n_iter_no_change=1.
    from sksoftmax import SoftmaxSGDClassifier, _engine

    X, y, _ = _data(weighted=False)
    patient = SoftmaxSGDClassifier(random_state=0, tol=1e-2).fit(X, y)
    monkeypatch.setattr(_engine, "STALL_ROWS", 10)
    hasty = SoftmaxSGDClassifier(random_state=0, tol=1e-2).fit(X, y)
    reference = SoftmaxSGDClassifier(random_state=0, tol=1e-2, n_iter_no_change=1)
    reference.fit(X, y)
    assert hasty.n_iter_ == reference.n_iter_ < patient.n_iter_
    assert_allclose(hasty.coef_, reference.coef_, rtol=0, atol=0)


def test_momentum_auto_is_nesterov_on_dense_data_in_fit_only():
    from scipy import sparse

    from sksoftmax import SoftmaxSGDClassifier

    X, y, _ = _data(weighted=False)
    momentum = [
        SoftmaxSGDClassifier(random_state=0)
        .fit(data, y)
        ._training_state.optimizer.momentum
        for data in (X, sparse.csr_array(X))
    ]
    assert momentum == [0.9, 0.0]
    stream = SoftmaxSGDClassifier(random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    assert stream._training_state.optimizer.momentum == 0.0
