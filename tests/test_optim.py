"""Tests of schedules, update rules, penalty steps and the automatic step size."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy import sparse
from sklearn.datasets import make_classification

from sksoftmax._optim import (
    MAX_GROWTH,
    AdaptiveSchedule,
    CosineSchedule,
    InvScalingSchedule,
    OptimalSchedule,
    SGDOptimizer,
    StallMonitor,
    make_penalty,
    make_schedule,
)
from sksoftmax._step_size import auto_step_sizes


def test_schedules_against_hand_computed_steps():
    assert (
        make_schedule("constant", 0.5, alpha=1.0, power_t=0.5, total_steps=10)(7) == 0.5
    )
    invscaling = InvScalingSchedule(0.5, power_t=0.5)
    assert [invscaling(t) for t in (0, 3, 8)] == [0.5, 0.25, 0.5 / 3]
    # Bottou's 1 / (alpha (t0 + t)), t0 = 1 / (alpha typw), typw = alpha**-1/4
    # (SGDClassifier's heuristic): at alpha=0.1, typw 1.778 and t0 5.623.
    optimal = OptimalSchedule(alpha=0.1)
    assert [optimal(t) for t in (0, 10, 100)] == pytest.approx(
        [0.1**-0.25, 1 / (0.1 * 15.623413), 1 / (0.1 * 105.623413)]
    )
    capped = OptimalSchedule(alpha=0.1, cap=0.5)
    assert [capped(t) for t in (0, 10, 100)] == pytest.approx(
        [0.5, 0.5, 1 / (0.1 * 105.623413)]
    )
    cosine = CosineSchedule(1.0, total=10, warmup=2)
    assert cosine(0) == 0.5 and cosine(1) == 1.0
    assert cosine(2) == pytest.approx(1.0)
    assert cosine(6) == pytest.approx(0.5)
    assert cosine(10) == pytest.approx(0.0) and cosine(50) == pytest.approx(0.0)


def test_adaptive_divides_by_five_until_the_floor():
    schedule = AdaptiveSchedule(1e-4)
    assert schedule(0) == 1e-4
    assert schedule.stalled() is False and schedule(5) == pytest.approx(2e-5)
    assert schedule.stalled() is False and schedule(9) == pytest.approx(4e-6)
    assert schedule.stalled() is True  # 8e-7 < 1e-6: stop
    assert schedule.at_floor
    schedule = AdaptiveSchedule(1.0)
    # Six divisions by 5: 6.4e-5 < 1e-4 of the base.
    assert [schedule.stalled() for _ in range(6)] == [False] * 5 + [True]
    assert schedule.at_floor


def test_adaptive_stops_converged_when_a_smaller_step_gains_under_tol():
    # A stall whose phase (since the previous stall) gained less than tol
    # ends the fit, converged: the last division of the step bought less
    # than tol. More gain divides the step again.
    schedule = AdaptiveSchedule(1.0)
    assert schedule.stalled(math.inf, tol=1e-3) is False  # the first stall
    assert schedule.stalled(5e-3, tol=1e-3) is False and schedule(0) == 0.04
    assert schedule.stalled(5e-4, tol=1e-3) is True
    assert not schedule.at_floor and schedule(0) == 0.04


def test_plain_sgd_update():
    coef, intercept = np.array([[1.0, -2.0]]), np.array([0.5])
    optimizer = SGDOptimizer([coef, intercept], lambda t: 0.1, step_scales=[1.0, 3.0])
    optimizer.update_params(
        [coef, intercept], [np.array([[2.0, 4.0]]), np.array([1.0])], t=0
    )
    assert_allclose(coef, [[0.8, -2.4]])
    assert_allclose(intercept, [0.5 - 0.3])


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_updates_against_hand_arithmetic(nesterov):
    w = np.array([1.0])
    optimizer = SGDOptimizer([w], lambda t: 0.1, momentum=0.9, nesterov=nesterov)
    expected_w, velocity = 1.0, 0.0
    for t, g in enumerate([2.0, -1.0, 0.5]):
        optimizer.update_params([w], [np.array([g])], t)
        velocity = 0.9 * velocity - 0.1 * g
        expected_w += 0.9 * velocity - 0.1 * g if nesterov else velocity
        assert w[0] == pytest.approx(expected_w)


def test_restart_forgets_the_velocity():
    w = np.array([1.0])
    optimizer = SGDOptimizer([w], lambda t: 0.1, momentum=0.9)
    optimizer.update_params([w], [np.array([2.0])], 0)
    assert optimizer.velocities[0][0] == pytest.approx(-0.2)
    optimizer.restart()
    assert optimizer.velocities[0][0] == 0.0
    # The next step is a plain gradient step.
    optimizer.update_params([w], [np.array([1.0])], 1)
    assert w[0] == pytest.approx(1.0 - 0.2 - 0.1)


def test_l1_proximal_step_gives_exact_zeros():
    penalty = make_penalty("l1", alpha=1.0, l1_ratio=0.15)
    coef = np.array([[0.05, -0.05, 0.3, -0.3]])
    penalty.proximal_step(coef, eta=0.1)
    assert_allclose(coef, [[0.0, 0.0, 0.2, -0.2]])
    assert np.sum(coef == 0) == 2
    elasticnet = make_penalty("elasticnet", alpha=2.0, l1_ratio=0.25)
    assert elasticnet.l1 == 0.5 and elasticnet.l2 == 1.5
    assert elasticnet.value(np.array([[1.0, -2.0]])) == pytest.approx(
        0.5 * 3 + 0.75 * 5
    )
    assert make_penalty(None, alpha=1.0, l1_ratio=0.5).value(coef) == 0.0


@pytest.mark.parametrize("nesterov", [False, True])
def test_l1_shrinkage_is_part_of_the_momentum_step(nesterov):
    # One weight at 0.5, gradient 1, eta 0.1, l1 1, momentum 0.9. Heavy ball:
    # 0.5 -> 0.4, shrunk to 0.3, velocity -0.2 (the whole move); then
    # 0.3 - 0.18 - 0.1 = 0.02, shrunk to 0 (velocity dropped, landed on 0).
    # Nesterov (FISTA): x = 0.5 - 0.1 = 0.4, shrunk to 0.3, velocity
    # x_new - x_old = -0.2, weights at the look-ahead 0.3 + 0.9 * -0.2 = 0.12;
    # then x = 0.12 - 0.1 = 0.02, shrunk to 0: velocity and weights 0.
    w = np.array([0.5])
    optimizer = SGDOptimizer([w], lambda t: 0.1, momentum=0.9, nesterov=nesterov)
    penalty = make_penalty("l1", alpha=1.0, l1_ratio=1.0)
    velocity = optimizer.velocities[0]
    expected = [(0.12, -0.2), (0.0, 0.0)] if nesterov else [(0.3, -0.2), (0.0, 0.0)]
    for t, (expected_w, expected_velocity) in enumerate(expected):
        eta = optimizer.update_params([w], [np.array([1.0])], t)
        penalty.proximal_step(w, eta, velocity, optimizer.lookahead)
        assert w[0] == pytest.approx(expected_w, abs=1e-12)
        assert velocity[0] == pytest.approx(expected_velocity, abs=1e-12)


def test_auto_step_for_full_batches_on_centered_data():
    # Centered, uncorrelated columns with variances 4 and 1: the second-moment
    # matrix of [x / 2, 1] is the identity, so L_full = 1/2 and eta' = 2.
    X = np.array([[2.0, 1.0], [-2.0, -1.0], [2.0, -1.0], [-2.0, 1.0]])
    weights = np.ones(4)
    eta, scale = auto_step_sizes(X, weights, True, batch_size=4, alpha=0.0, n_samples=4)
    assert scale == pytest.approx(4.0)
    assert eta * scale == pytest.approx(2.0)
    # Without an intercept only the coefficient block remains: 1 / (4 / 2).
    eta, _ = auto_step_sizes(X, weights, False, batch_size=4, alpha=0.0, n_samples=4)
    assert eta == pytest.approx(0.5)


def test_auto_step_single_rows_use_the_largest_row():
    X = np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 0.0]])
    eta, _ = auto_step_sizes(X, np.ones(3), False, batch_size=1, alpha=0.0, n_samples=3)
    assert eta == pytest.approx(1 / (0.5 * 25))


def test_auto_step_single_weighted_rows_scale_by_their_share_of_the_weight():
    # A batch's gradient weighs a row by s_i / mean(s): a row of 40 times the
    # others' weight, 2.86 times the mean, bounds the step, though its norm
    # is the smallest.
    X = np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 0.0]])
    weights = np.array([1.0, 1.0, 40.0])
    eta, _ = auto_step_sizes(X, weights, False, batch_size=1, alpha=0.0, n_samples=3)
    assert eta == pytest.approx(1 / (0.5 * 40 * 3 / 42))


def test_auto_step_refuses_rows_whose_squares_overflow():
    X = np.array([[1e155, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="overflow float64.*StandardScaler"):
        auto_step_sizes(X, np.ones(2), True, batch_size=1, alpha=0.0, n_samples=2)


def test_auto_step_is_the_same_for_weights_and_repeats_and_sparse():
    rng = np.random.RandomState(0)
    X = rng.randn(15, 4) * [1, 10, 0.1, 3]
    weights = rng.randint(0, 4, 15).astype(float)
    weighted = auto_step_sizes(
        X, weights, True, batch_size=256, alpha=1e-3, n_samples=15
    )
    repeated = auto_step_sizes(
        np.repeat(X, weights.astype(int), axis=0),
        np.ones(int(weights.sum())),
        True,
        batch_size=256,
        alpha=1e-3,
        n_samples=int(weights.sum()),
    )
    assert_allclose(weighted, repeated, rtol=1e-12)
    on_csr = auto_step_sizes(
        sparse.csr_array(X), weights, True, batch_size=256, alpha=1e-3, n_samples=15
    )
    assert_allclose(on_csr, weighted, rtol=1e-12)


def test_auto_step_survives_all_zero_data():
    eta, scale = auto_step_sizes(
        np.zeros((5, 3)), np.ones(5), True, 2, 0.0, n_samples=5
    )
    assert math.isfinite(eta) and scale == 1.0


def test_stall_monitor_counts_epochs_without_tol_improvement():
    monitor = StallMonitor()
    # 1.0, then 0.85 (better by more than tol), then three epochs within tol
    # of the best (0.8 and 0.76 still lower it): the third is a stall.
    results = [
        monitor.update(v, tol=0.1, n_iter_no_change=3)
        for v in [1.0, 0.85, 0.8, 0.9, 0.76]
    ]
    assert results == [
        (True, False),
        (True, False),
        (True, False),
        (False, False),
        (True, True),
    ]
    assert monitor.best == 0.76 and monitor.n_stalled == 0
    assert StallMonitor().update(5.0, tol=None, n_iter_no_change=1) == (True, False)


def test_stall_monitor_adds_up_small_improvements():
    # Falling by 0.04 an epoch, under tol=0.1: SGDClassifier's rule (each
    # epoch against the running best) counts every epoch as stalled; here
    # three epochs gain 0.12, more than tol, and the count starts again.
    monitor = StallMonitor()
    steady = [
        monitor.update(1.0 - 0.04 * i, tol=0.1, n_iter_no_change=3) for i in range(30)
    ]
    assert not any(stalled for _, stalled in steady)
    # Noise around a level is a stall after three epochs, and again three
    # epochs later (the reference is then the best value so far).
    monitor = StallMonitor()
    noisy = [
        monitor.update(v, tol=0.1, n_iter_no_change=3)
        for v in [1.0, 1.02, 0.99, 1.01, 0.98, 1.0, 1.01]
    ]
    assert [stalled for _, stalled in noisy] == [
        False,
        False,
        False,
        True,
        False,
        False,
        True,
    ]
    # After a stall the reference is the best value so far (0.95), not the
    # value the count started from (1.0): 0.9, 0.88 and 0.87 then gain less
    # than tol on it, a second stall.
    monitor = StallMonitor()
    values = [1.0, 0.95, 0.95, 0.95, 0.9, 0.88, 0.87]
    stalls = [monitor.update(v, tol=0.1, n_iter_no_change=3)[1] for v in values]
    assert stalls == [False, False, False, True, False, False, True]


@pytest.mark.parametrize("center", [True, False])
def test_exact_and_power_iteration_step_sizes_agree(center):
    # gram_max_features decides how the top eigenvalue is found (a GPU uses
    # the exact one for more features). Both give the same coefficient
    # scale; with the intercept, power iteration bounds the eigenvalue
    # from above (exact when the rows' mean is zero or along their top
    # direction): its step is the same on centred data, and never larger.
    # (256 rows: all of them are used either way, no sample.)
    X, y = make_classification(n_samples=256, n_features=40, random_state=0)
    X = X - X.mean(axis=0) if center else X + np.linspace(-1, 2, X.shape[1])
    weight = np.ones(len(y))
    exact = auto_step_sizes(X, weight, True, 256, 1e-4, n_samples=len(y))
    iterated = auto_step_sizes(
        X, weight, True, 256, 1e-4, n_samples=len(y), gram_max_features=0
    )
    # (Power iteration stops when an iteration changes it by under 0.1 %.)
    assert iterated[1] == pytest.approx(exact[1], rel=1e-2)
    if center:
        assert iterated[0] == pytest.approx(exact[0], rel=1e-2)
    else:
        assert exact[0] / 2 < iterated[0] <= exact[0] * (1 + 1e-2)


def test_adaptive_growth_doubles_then_settles_at_half_the_last_improving_step():
    schedule = AdaptiveSchedule(0.1, grow=True)
    schedule.grow(1.0, math.inf, tol=1e-3)  # the first epoch: nothing to beat
    assert schedule(0) == pytest.approx(0.2) and schedule.growing
    schedule.grow(0.5, 1.0, tol=1e-3)  # 0.2 improved: try 0.4
    assert schedule(1) == pytest.approx(0.4) and schedule.growing
    schedule.grow(0.3, 0.5, tol=1e-3)  # 0.4 improved: try 0.8
    assert schedule(2) == pytest.approx(0.8) and schedule.growing
    schedule.grow(0.2995, 0.3, tol=1e-3)  # 0.8 improved by less than tol
    assert not schedule.growing
    assert schedule(3) == pytest.approx(0.2)  # half of 0.4, the last that improved
    schedule.grow(0.1, 0.2995, tol=1e-3)  # the phase is over: no change
    assert schedule(4) == pytest.approx(0.2)
    # The decay then counts from the settled step: six divisions by 5 take
    # it under 1e-4 of it.
    assert [schedule.stalled() for _ in range(6)] == [False] * 5 + [True]


def test_adaptive_growth_never_settles_under_the_bound():
    schedule = AdaptiveSchedule(0.1, grow=True)
    schedule.grow(1.0, math.inf, tol=1e-3)
    schedule.grow(1.5, 1.0, tol=1e-3)  # the first doubling (0.2) made it worse
    assert not schedule.growing and schedule(0) == 0.1  # not 0.2 / 4


def test_adaptive_growth_stops_at_its_cap_and_after_a_diverged_epoch():
    capped = AdaptiveSchedule(1.0, grow=True)
    objective = 10.0
    for _ in range(6):
        capped.grow(objective - 1.0, objective, tol=1e-3)
        objective -= 1.0
    assert capped(0) == pytest.approx(MAX_GROWTH) and capped.growing
    capped.grow(objective - 1.0, objective, tol=1e-3)  # improved, but at the cap
    assert not capped.growing and capped(0) == pytest.approx(MAX_GROWTH)

    diverged = AdaptiveSchedule(1.0, grow=True)
    diverged.grow(1.0, math.inf, tol=1e-3)
    diverged.grow(0.5, 1.0, tol=1e-3)
    diverged.grow(math.inf, 0.5, tol=1e-3)  # the step of 4 overflowed
    assert not diverged.growing and diverged(0) == pytest.approx(1.0)

    fixed = AdaptiveSchedule(1.0)  # grow=False: the bound is kept
    fixed.grow(0.5, math.inf, tol=1e-3)
    assert fixed(0) == 1.0 and not fixed.growing


def test_adaptive_floor_is_relative_for_a_step_derived_from_the_data():
    # A given eta0 keeps SGDClassifier's absolute floor: 2e-8 / 5 < 1e-6.
    assert AdaptiveSchedule(2e-8).stalled() is True
    # eta0="auto" on raw pixels is about that small; its floor is relative.
    schedule = make_schedule(
        "adaptive", 2e-8, alpha=1e-4, power_t=0.5, total_steps=10, from_data=True
    )
    assert [schedule.stalled() for _ in range(6)] == [False] * 5 + [True]


def _heavy_tailed(n_samples, n_features, seed=0):
    """Rows whose top direction is carried by a few large rows (Student t, 3 dof)."""
    rng = np.random.RandomState(seed)
    X = rng.standard_t(3, size=(n_samples, n_features))
    X[:, : n_features // 3] += rng.standard_t(3, size=(n_samples, 1))
    return X


@pytest.mark.parametrize("n_features", [20, 300])
def test_sampled_step_size_is_deterministic_and_rarely_above_the_exact_one(
    n_features, monkeypatch
):
    # More rows than a sample holds: the top eigenvalue comes from a random
    # sample raised by its margin. The step it gives is that of the seed,
    # and over many seeds almost never larger than the step from all rows
    # (the margin is three standard errors), nor much smaller.
    from sksoftmax import _step_size

    X = _heavy_tailed(20_000, n_features)
    weight = np.ones(len(X))
    with monkeypatch.context() as patch:
        patch.setattr(_step_size, "SAMPLE_ROWS", len(X))
        patch.setattr(_step_size, "SAMPLE_ENTRIES", X.size)
        exact_eta, _ = auto_step_sizes(
            X, weight, True, 256, 1e-4, n_samples=len(X), gram_max_features=10**6
        )
    sampled = [
        auto_step_sizes(X, weight, True, 256, 1e-4, n_samples=len(X), random_state=seed)
        for seed in range(40)
    ]
    assert sampled[0] == auto_step_sizes(
        X, weight, True, 256, 1e-4, n_samples=len(X), random_state=0
    )
    etas = np.array([eta for eta, _ in sampled])
    assert len(np.unique(etas)) > 30  # a sample, another for each seed
    assert np.mean(etas > exact_eta * 1.02) <= 0.05
    assert etas.min() > exact_eta / 2


def test_sampled_margin_grows_with_the_standard_error():
    # The same eigenvalue and vector, on rows with a few large entries along
    # the vector: their terms vary more, so the margin is larger.
    from sksoftmax._step_size import SAMPLE_MARGIN, _with_margin

    rng = np.random.RandomState(0)
    even = rng.choice([-1.0, 1.0], size=(400, 1))
    spiky = np.zeros((400, 1))
    spiky[:4] = 10.0  # the same second moment, 1, from four rows
    weight = np.full(400, 1 / 400)
    vector = (np.ones(1), 0.0)
    assert _with_margin(even, weight, 1.0, (1.0, *vector)) == pytest.approx(1.0)
    # Terms 100 on 1 % of the rows: standard error sqrt(99 / 400) = 0.497.
    assert _with_margin(spiky, weight, 1.0, (1.0, *vector)) == pytest.approx(
        1.0 + SAMPLE_MARGIN * math.sqrt(99 / 400)
    )


@pytest.mark.parametrize("container", [np.asarray, sparse.csr_array])
def test_float32_rows_whose_squares_overflow_float32_are_normed_in_float64(
    container,
):
    X = container(np.array([[1e20, 0.0], [0.0, 1.0]], dtype=np.float32))
    eta, scale = auto_step_sizes(
        X, np.ones(2), True, batch_size=1, alpha=0.0, n_samples=2
    )
    assert math.isfinite(eta) and scale == pytest.approx(0.5e40, rel=1e-5)
