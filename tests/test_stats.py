"""Tests of infocompress.stats against closed forms and by simulation."""

import numpy as np
import pytest

from infocompress import stats


def test_mean_se_closed_form_and_axis():
    x = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    m, se = stats.mean_se(x, axis=0)
    np.testing.assert_allclose(m, [3.0, 6.0])
    np.testing.assert_allclose(se, [2.0 / np.sqrt(3), 4.0 / np.sqrt(3)])
    assert stats.paired(x[:, 1], x[:, 0]) == pytest.approx((3.0, 2.0 / np.sqrt(3)))


def test_crossed_se_covers_both_sources():
    """Simulated crossed design: the combined SE matches the spread of the grand mean over
    repetitions (within the Monte-Carlo error of that spread), the model-only SE does not."""
    rng = np.random.default_rng(0)
    M, N, reps = 20, 200, 4000
    sa, sb, se_ = 0.3, 1.0, 0.5
    a = rng.normal(0, sa, size=(reps, M, 1))
    b = rng.normal(0, sb, size=(reps, 1, N))
    e = rng.normal(0, se_, size=(reps, M, N))
    d = a + b + e
    grand = d.mean(axis=(1, 2))
    truth = np.sqrt(sa**2 / M + sb**2 / N + se_**2 / (M * N))
    ses = np.array([stats.crossed_se(d[r])["se"] for r in range(reps)])
    models_only = np.array([stats.crossed_se(d[r])["se_models"] for r in range(reps)])
    # the spread of the grand mean over repetitions agrees with the exact formula
    sd, sd_se = grand.std(ddof=1), grand.std(ddof=1) / np.sqrt(2 * (reps - 1))
    assert abs(sd - truth) < 5 * sd_se
    # E[SE^2] = Var(grand mean) + sigma_e^2 / (M N) exactly (unbiased variances): 5 SE
    expect = truth**2 + se_**2 / (M * N)
    m2, s2 = (ses**2).mean(), (ses**2).std(ddof=1) / np.sqrt(reps)
    assert abs(m2 - expect) < 5 * s2, (m2, expect, s2)
    # the SE over models alone misses the test-set part (about half of the variance here)
    assert (models_only**2).mean() + 5 * (models_only**2).std(ddof=1) / np.sqrt(reps) \
        < 0.6 * expect


@pytest.mark.parametrize("bad, match", [([[1.0, 2.0]], "at least 2"), ([1.0, 2.0], "ndim"),
                                        ([[1.0, np.nan], [1.0, 2.0]], "finite")])
def test_crossed_se_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        stats.crossed_se(bad)


def test_mean_se_bad_input():
    with pytest.raises(ValueError, match="at least 2"):
        stats.mean_se([1.0])
    with pytest.raises(ValueError, match="one shape"):
        stats.paired([1.0, 2.0], [1.0, 2.0, 3.0])
