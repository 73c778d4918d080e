"""eta0="auto" from a sample of rows: weights, heavy rows, small wide data.

Each test failed on the first, uniform sample of rows (1aac474): rows that
carry much of the weight, or of the second moment, went undrawn; weights
and repeated rows gave different steps on wide data of a few hundred rows.
"""

import warnings
from unittest import mock

import numpy as np
import pytest

from sksoftmax import SoftmaxSGDClassifier, _step_size
from sksoftmax._step_size import auto_step_sizes


def _exact(X, weight, batch_size, fit_intercept=True, alpha=0.0, **kw):
    """auto_step_sizes from all rows (no sample)."""
    n = len(X)
    with (
        mock.patch.object(_step_size, "SAMPLE_ROWS", n),
        mock.patch.object(_step_size, "SAMPLE_SMALL_ROWS", n),
        mock.patch.object(_step_size, "SAMPLE_ENTRIES", X.size),
    ):
        return auto_step_sizes(
            X, weight, fit_intercept, batch_size, alpha, n_samples=n, **kw
        )


def _heavy_weighted_rows():
    # 20,000 rows; 10 far rows (x0 = 300) carry half of the total weight.
    rng = np.random.RandomState(0)
    X = rng.randn(20_000, 5)
    y = (X[:, 1] > 0).astype(int)
    X[:10, 0] = 300.0
    y[:10] = 1
    weight = np.ones(len(X))
    weight[:10] = 2000.0
    return X, y, weight


# One row carries half of the weight (and the top eigenvalue): the sample
# must draw it (rows are drawn in proportion to their weight, among other
# things), or the full-batch step would be tens of thousands of times the
# exact one; the margin, measured on the sample, cannot see an undrawn row.
def test_sampled_step_accounts_for_a_heavy_weighted_row():
    rng = np.random.RandomState(0)
    n = 20_000
    X = rng.randn(n, 5)
    X[0] = [300.0, 0.0, 0.0, 0.0, 0.0]
    weight = np.ones(n)
    weight[0] = n
    exact, _ = _exact(X, weight, n)
    sampled = np.array(
        [
            auto_step_sizes(X, weight, True, n, 0.0, n_samples=n, random_state=s)[0]
            for s in range(20)
        ]
    )
    assert np.mean(sampled > 1.02 * exact) <= 0.05, sampled / exact


# Ten far rows carry half of the weight: the weighted full-batch fit
# trains as the same data with those rows repeated does (not a model of
# zeros, kept because no epoch improved on it).
@pytest.mark.parametrize("seed", [0, 1])
def test_weighted_full_batch_fit_trains_like_repeated_rows(seed):
    X, y, weight = _heavy_weighted_rows()
    repeats = weight.astype(int)
    params = dict(random_state=seed, batch_size=10**6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weighted = SoftmaxSGDClassifier(**params).fit(X, y, sample_weight=weight)
        repeated = SoftmaxSGDClassifier(**params).fit(
            np.repeat(X, repeats, axis=0), np.repeat(y, repeats)
        )
    assert weighted.coef_.any()
    assert (
        weighted.score(X, y, sample_weight=weight)
        > repeated.score(X, y, sample_weight=weight) - 0.02
    )


# Beyond 32 features (the power-iteration path) up to 512 weighted rows
# are used whole: weights and repeated rows (315 rows here) give the same
# step.
def test_weights_and_repeated_rows_give_the_same_step_on_wide_small_data():
    rng = np.random.RandomState(42)
    X = rng.rand(150, 40)
    sw = rng.randint(0, 5, 150)
    X_repeated = X.repeat(sw, axis=0)
    weighted = auto_step_sizes(
        X, sw.astype(float), True, 1000, 1e-4, n_samples=150, random_state=0
    )
    repeated = auto_step_sizes(
        X_repeated,
        np.ones(len(X_repeated)),
        True,
        1000,
        1e-4,
        n_samples=len(X_repeated),
        random_state=0,
    )
    np.testing.assert_allclose(weighted, repeated, rtol=1e-7)


# The check scikit-learn's check_sample_weight_equivalence makes, on 40
# features instead of its 30: the full-batch fits agree.
def test_weighted_and_repeated_full_batch_fits_agree_on_wide_small_data():
    rng = np.random.RandomState(42)
    X = rng.rand(150, 40)
    y = rng.randint(0, 3, 150)
    sw = rng.randint(0, 5, 150)
    params = dict(random_state=0, batch_size=1000, tol=None, max_iter=50)
    weighted = SoftmaxSGDClassifier(**params).fit(X, y, sample_weight=sw)
    repeated = SoftmaxSGDClassifier(**params).fit(X.repeat(sw, axis=0), y.repeat(sw))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-7)


# Rows whose norms are log-normal (sigma 2), no weights: the sample draws
# rows in proportion to their squared norms too, so that the full-batch
# step is rarely above the exact one.
def test_sampled_full_batch_step_rarely_above_exact_on_heavy_tailed_norms():
    rng = np.random.RandomState(0)
    n = 50_000
    X = rng.randn(n, 10) * rng.lognormal(0, 2, n)[:, None]
    weight = np.ones(n)
    exact, _ = _exact(X, weight, n)
    sampled = np.array(
        [
            auto_step_sizes(X, weight, True, n, 0.0, n_samples=n, random_state=s)[0]
            for s in range(20)
        ]
    )
    assert np.mean(sampled > 1.02 * exact) <= 0.05, sampled / exact


def test_pareto_rows_keep_the_largest_positive_combination():
    # What merges the worst row's curvature across partitions: any
    # a * first + b * second (a, b >= 0) is largest on the rows kept.
    rng = np.random.RandomState(0)
    for trial in range(200):
        n_rows = rng.randint(1, 300)
        first = rng.exponential(size=n_rows)
        second = rng.choice([0.5, 1.0, 2.0], n_rows) if trial % 2 else rng.rand(n_rows)
        if trial % 5 == 0:  # ties
            first, second = np.round(first, 1), np.round(second, 1)
        rows = _step_size.pareto_rows(first, second)
        assert len(rows) <= n_rows
        for a, b in [(1, 0), (0, 1), (1, 1), (1e3, 1), (1, 1e3), (0.3, 2.0)]:
            assert (a * first[rows] + b * second[rows]).max() == pytest.approx(
                (a * first + b * second).max()
            ), trial
    # Unit weights leave one row: the largest norm.
    norms = rng.exponential(size=10_000)
    assert list(_step_size.pareto_rows(norms, np.ones(10_000))) == [np.argmax(norms)]
    assert len(_step_size.pareto_rows(np.zeros(0), np.zeros(0))) == 0
