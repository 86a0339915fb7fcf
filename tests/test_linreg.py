"""Tests of infocompress.linreg against the closed forms of Bu et al. (2021), Section 5."""

import numpy as np
import pytest

from infocompress import linreg

from conftest import mean_se

N_SE = 5.0  # two-sided false-alarm probability ~5.7e-7 per check


def test_sample_shapes_and_noise_variance():
    w = np.array([1.0, -2.0, 0.5])
    X, Y = linreg.sample_datasets(w, 40, trials=5000, noise_var=2.0, rng=1)
    assert X.shape == (5000, 3, 40) and Y.shape == (5000, 40)
    resid = Y - np.einsum("d,tdn->tn", w, X)
    m, se = mean_se((resid**2).mean(axis=1))
    assert abs(m - 2.0) <= N_SE * se


def test_sample_covariance_is_respected():
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    X, _ = linreg.sample_datasets([0.0, 0.0], 1, trials=200_000, sigma_x=cov, rng=2)
    x = X[:, :, 0]
    prod = x[:, 0] * x[:, 1]
    m, se = mean_se(prod)
    assert abs(m - 0.6) <= N_SE * se
    m, se = mean_se(x[:, 0] ** 2)
    assert abs(m - 2.0) <= N_SE * se


def test_sampling_is_reproducible():
    a = linreg.sample_datasets([1.0, 2.0], 5, trials=2, rng=7)
    b = linreg.sample_datasets([1.0, 2.0], 5, trials=2, rng=np.random.default_rng(7))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_erm_recovers_noiseless_weights_batched():
    rng = np.random.default_rng(3)
    w = rng.standard_normal((4, 6))
    X = rng.standard_normal((4, 6, 20))
    Y = np.einsum("tdn,td->tn", X, w)
    assert np.allclose(linreg.erm(X, Y), w)


def test_erm_gradient_vanishes():
    X, Y = linreg.sample_datasets(np.ones(5), 30, trials=3, rng=4)
    W = linreg.erm(X, Y)
    grad = np.einsum("tdn,tn->td", X, Y - np.einsum("tdn,td->tn", X, W))
    assert np.allclose(grad, 0.0, atol=1e-9)


@pytest.mark.parametrize("d,n,cov", [(3, 12, None), (5, 14, [1.0, 2.0, 0.5, 3.0, 1.5]),
                                     (2, 10, None)])
def test_lemma3_generalization_error_by_monte_carlo(d, n, cov):
    """Lemma 3: the closed form does not depend on Sigma_X; check it by Monte-Carlo.

    Only cases with nu = n - d + 1 > 8 are checked against a standard error: for smaller
    n the gap's fourth (nu <= 8) or second (nu <= 4) moment is infinite and its sample SE is
    unreliable. (An earlier version checked d=2, n=4 and d=3, n=8 this way; the seed audit
    of the test suite made the n=4 case fail, see tests/conftest.py.) The chapter on
    Lemma 3 covers n = d + 2 and d + 3 exactly, with sympy.
    """
    rng = np.random.default_rng(10 + d)
    w_star = rng.standard_normal(d)
    X, Y = linreg.sample_datasets(w_star, n, trials=100_000, sigma_x=cov, noise_var=0.7,
                                  rng=rng)
    W = linreg.erm(X, Y)
    gap = linreg.population_risk(W, w_star, sigma_x=cov, noise_var=0.7) - \
        linreg.empirical_risk(W, X, Y)
    m, se = mean_se(gap)
    theory = linreg.gen_error_erm(d, n, 0.7)
    assert abs(m - theory) <= N_SE * se, (m, se, theory)
    # the check can fail: a 10% error in the formula is far outside the tolerance
    assert abs(m - 1.1 * theory) > N_SE * se


def test_expected_empirical_risk_of_erm():
    X, Y = linreg.sample_datasets(np.zeros(4), 10, trials=100_000, rng=5)
    m, se = mean_se(linreg.empirical_risk(linreg.erm(X, Y), X, Y))
    assert abs(m - linreg.expected_empirical_risk_erm(4, 10)) <= N_SE * se


def test_bounds_closed_forms_and_ordering():
    d, n = 50, 80
    dmax = d / (n - d - 1)
    assert linreg.rate_distortion_upper(dmax, d, n) == 0.0
    assert linreg.rate_distortion_upper(2 * dmax, d, n) == 0.0
    assert np.isinf(linreg.rate_distortion_upper(0.0, d, n))
    assert np.isclose(linreg.rate_distortion_upper(dmax / np.e, d, n), d / 2)
    R = np.linspace(0, 40, 9)
    D = linreg.distortion_rate_upper(R, d, n)
    # (25) is the inverse of (24)
    assert np.allclose(linreg.rate_distortion_upper(D, d, n), R)
    assert np.all(np.diff(D) < 0)
    lower = linreg.rate_distortion_lower(D, d, n, kl=0.3)
    assert np.allclose(lower, R - 0.3)
    pr = linreg.population_risk_bound(R, d, n, c_w_star=2.0, sigma_x_norm=1.5)
    expected = 2 * (2.0 * 1.5 + 1.0) * np.sqrt(R / n) + D
    assert np.allclose(pr, expected)


def test_reconstruction_radius_matches_brute_force():
    rng = np.random.default_rng(0)
    w_star = rng.standard_normal(4)
    levels = rng.standard_normal(3)
    grid = np.array(np.meshgrid(*[levels] * 4, indexing="ij")).reshape(4, -1).T
    brute = np.max(np.sum((grid - w_star) ** 2, axis=1))
    assert np.isclose(linreg.reconstruction_radius(w_star, levels), brute)


@pytest.mark.parametrize(
    "call",
    [
        lambda: linreg.gen_error_erm(5, 6),
        lambda: linreg.gen_error_erm(5, 7, noise_var=-1.0),
        lambda: linreg.rate_distortion_upper(-0.1, 5, 10),
        lambda: linreg.distortion_rate_upper(-1.0, 5, 10),
        lambda: linreg.rate_distortion_lower(0.1, 5, 10, kl=-1.0),
        lambda: linreg.gen_error_bound(-1.0, 10, c_w_star=1.0),
        lambda: linreg.gen_error_bound(1.0, 10, c_w_star=np.nan),
        lambda: linreg.sample_datasets([1.0, np.nan], 5),
        lambda: linreg.sample_datasets([1.0, 2.0], 5, sigma_x=[1.0, 2.0, 3.0]),
        lambda: linreg.sample_datasets([1.0, 2.0], 5, sigma_x=[[1.0, 2.0], [2.0, 1.0]]),
        lambda: linreg.erm(np.ones((2, 3, 5)), np.ones((2, 4))),
        lambda: linreg.erm(np.ones((3, 2)), np.ones(2)),
        lambda: linreg.empirical_risk(np.ones(3), np.ones((2, 5)), np.ones(5)),
        lambda: linreg.population_risk(np.ones(3), np.ones(2)),
        lambda: linreg.reconstruction_radius([1.0], []),
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


def test_error_message_names_the_value():
    with pytest.raises(ValueError, match="n=6"):
        linreg.gen_error_erm(5, 6)
    with pytest.raises(ValueError, match="D must be >= 0"):
        linreg.rate_distortion_upper(-0.5, 5, 10)
