"""Tests of the water-filling rate-distortion bound of Gao et al. (2019) and its compressor."""

import numpy as np
import pytest

from infocompress.waterfilling import (
    OptimalGaussianCompressor,
    reverse_waterfilling,
    waterfilling_rate_distortion,
)

from conftest import mean_se

N_SE = 5.0


@pytest.mark.parametrize("d, s2, lam", [(1, 2.0, 0.5), (4, 1.0, 1.0), (7, 0.3, 3.0)])
def test_equal_variances_closed_form(d, s2, lam):
    """Equal output variances: R = d/2 ln(d lam s2 / D), D_i = D / (d lam)."""
    D = np.array([1e-3, 0.1, 0.9]) * d * lam * s2
    res = waterfilling_rate_distortion(D, np.full(d, s2), np.full(d, lam))
    np.testing.assert_allclose(res.rate, 0.5 * d * np.log(d * lam * s2 / D), rtol=1e-12)
    np.testing.assert_allclose(res.distortions, np.repeat(D[:, None] / (d * lam), d, 1))
    np.testing.assert_allclose(res.level, D / d)


def test_rate_zero_beyond_total_power():
    s2, lam = np.array([1.0, 2.0, 0.5]), np.array([3.0, 0.1, 1.0])
    total = float(np.sum(s2 * lam))
    res = waterfilling_rate_distortion([total, 2 * total], s2, lam)
    assert np.all(res.rate == 0.0)
    np.testing.assert_allclose(res.distortions, np.vstack([s2, s2]))
    # just below the total power the rate is positive
    assert waterfilling_rate_distortion(0.999 * total, s2, lam).rate > 0


def test_zero_distortion_gives_infinite_rate():
    res = waterfilling_rate_distortion(0.0, [1.0, 2.0], [1.0, 1.0])
    assert np.isinf(res.rate) and np.all(res.distortions == 0)
    comp = OptimalGaussianCompressor([1.0, 2.0], [1.0, 1.0], 0.0)
    W = np.arange(6.0).reshape(3, 2)
    np.testing.assert_array_equal(comp.sample(W, rng=0), W)
    assert np.isinf(comp.mutual_information())


def test_one_active_component():
    """nu = (10, 1, 1): for 3 <= D < 12 only the first component is kept."""
    s2, lam = np.array([5.0, 1.0, 0.5]), np.array([2.0, 1.0, 2.0])
    D = np.linspace(3.0, 11.5, 9)
    res = waterfilling_rate_distortion(D, s2, lam)
    np.testing.assert_allclose(res.rate, 0.5 * np.log(10.0 / (D - 2.0)), rtol=1e-12)
    np.testing.assert_allclose(res.distortions[:, 1:], np.tile(s2[1:], (D.size, 1)))
    np.testing.assert_allclose(res.distortions[:, 0], (D - 2.0) / 2.0)


def test_slide_form_and_constraint():
    """D_i = mu/lambda_i if mu < lambda_i sigma_i^2 else sigma_i^2, sum lambda_i D_i = D."""
    rng = np.random.default_rng(3)
    d = 15
    lam = np.logspace(-1, 1, d)
    s2 = rng.uniform(0.2, 2.0, d)
    D = np.linspace(0.01, 1.2, 25) * np.sum(lam * s2)
    res = waterfilling_rate_distortion(D, s2, lam)
    mu = res.level[:, None]
    slide = np.where(mu < lam * s2, mu / lam, s2)
    np.testing.assert_allclose(res.distortions, slide, rtol=1e-12)
    np.testing.assert_allclose(res.distortions @ lam, np.minimum(D, np.sum(lam * s2)))
    np.testing.assert_allclose(res.rate, 0.5 * np.log(s2 / res.distortions).sum(1), rtol=1e-12)


def test_monotone_decreasing():
    lam = np.logspace(-2, 0, 8)
    s2 = np.linspace(0.5, 2.0, 8)
    D = np.linspace(1e-4, 1.1 * np.sum(lam * s2), 400)
    rate = waterfilling_rate_distortion(D, s2, lam).rate
    pos = rate > 0
    assert np.all(np.diff(rate[pos]) < 0) and np.all(np.diff(rate) <= 0)


def test_allocation_beats_random_feasible_allocations():
    """Water-filling minimises sum 1/2 ln(s2/D_i) over sum lam D_i = D, 0 < D_i <= s2."""
    rng = np.random.default_rng(4)
    lam = np.array([0.1, 0.5, 1.0, 4.0, 9.0])
    s2 = np.array([1.0, 0.2, 0.6, 0.3, 1.5])
    D = 0.3 * np.sum(lam * s2)
    best = waterfilling_rate_distortion(D, s2, lam).rate
    # random allocations of the distortion budget (in output units), capped at nu_i
    nu = lam * s2
    share = rng.uniform(0.0, 1.0, size=(20_000, 5)) * nu
    share *= D / share.sum(1, keepdims=True)
    ok = np.all(share <= nu, axis=1)
    rates = 0.5 * np.log(nu / share[ok]).sum(1)
    assert ok.sum() > 1000 and np.all(rates >= best - 1e-12)


def test_full_covariance():
    lam = np.array([0.5, 1.0, 2.0])
    s2 = np.array([1.0, 2.0, 0.5])
    D = np.array([0.05, 0.5, 1.5])
    diag = waterfilling_rate_distortion(D, s2, lam)
    as_matrix = waterfilling_rate_distortion(D, np.diag(s2), lam)
    np.testing.assert_allclose(as_matrix.rate, diag.rate)
    # correlated weights: the bound subtracts the total correlation and stays below the
    # exact Gaussian R(D), i.e. water-filling on the eigenvalues of L^1/2 S L^1/2
    a = np.array([[1.0, 0.6, 0.2], [0.6, 2.0, -0.3], [0.2, -0.3, 0.5]])
    res = waterfilling_rate_distortion(D, a, lam)
    tc = 0.5 * (np.sum(np.log(np.diag(a))) - np.linalg.slogdet(a)[1])
    wf_diag = waterfilling_rate_distortion(D, np.diag(a), lam)
    np.testing.assert_allclose(res.rate, np.maximum(wf_diag.rate - tc, 0.0))
    nu = np.linalg.eigvalsh(np.sqrt(lam)[:, None] * a * np.sqrt(lam)[None, :])
    exact = reverse_waterfilling(nu, D)[0]
    assert np.all(res.rate <= exact + 1e-12) and np.any(res.rate < exact - 1e-3)


def test_vector_matches_scalar_and_linreg_reexport():
    from infocompress import linreg

    lam, s2 = np.array([1.0, 0.1, 3.0]), np.array([0.7, 1.1, 0.4])
    D = np.array([0.01, 0.3, 1.0])
    vec = waterfilling_rate_distortion(D, s2, lam)
    for j, Dj in enumerate(D):
        one = linreg.waterfilling_rate_distortion(Dj, s2, lam)
        assert np.isclose(one.rate, vec.rate[j])
        np.testing.assert_allclose(one.distortions, vec.distortions[j])


def test_compressor_monte_carlo():
    """Distortion, MI (Gaussian plug-in) and orthogonality of the sampler within 5 SE."""
    rng = np.random.default_rng(7)
    lam = np.array([0.1, 0.3, 1.0, 3.0, 10.0])
    s2 = np.array([1.0, 0.5, 1.0, 0.8, 0.2])
    D = 0.4 * np.sum(lam * s2)
    comp = OptimalGaussianCompressor(s2, lam, D)
    assert np.isclose(comp.distortion(), D)
    n = 200_000
    W = comp.sample_weights(n, rng=rng)
    What = comp.sample(W, rng=rng)
    err = W - What
    m, se = mean_se((lam * err**2).sum(1))
    assert abs(m - D) <= N_SE * se
    assert abs(m - 1.05 * D) > N_SE * se  # power
    m, se = mean_se((lam * What * err).sum(1))
    assert abs(m) <= N_SE * se
    # per-coordinate plug-in Gaussian MI, -1/2 ln(1 - r^2); delta-method SE |r|/sqrt(n)
    act = comp.distortions < s2
    r = np.array([np.corrcoef(W[:, i], What[:, i])[0, 1] for i in np.flatnonzero(act)])
    mi_hat = float(np.sum(-0.5 * np.log1p(-(r**2))))
    mi_se = float(np.sqrt(np.sum(r**2) / n))
    assert abs(mi_hat - comp.mutual_information()) <= N_SE * mi_se
    assert abs(mi_hat - 1.05 * comp.mutual_information()) > N_SE * mi_se
    # dropped coordinates are reconstructed as exactly zero
    assert np.all(What[:, ~act] == 0)


def test_compressor_reproducible_and_1d():
    comp = OptimalGaussianCompressor([1.0, 1.0], [1.0, 2.0], 0.5)
    assert np.array_equal(comp.sample([1.0, 2.0], rng=3), comp.sample([1.0, 2.0], rng=3))
    assert comp.sample([1.0, 2.0], rng=3).shape == (2,)


@pytest.mark.parametrize(
    "args, match",
    [
        ((-0.1, [1.0], [1.0]), "D"),
        ((np.nan, [1.0], [1.0]), "D"),
        ((np.ones((2, 2)), [1.0], [1.0]), "D"),
        ((0.1, [1.0, 1.0], [1.0]), "weight_var"),
        ((0.1, [0.0, 1.0], [1.0, 1.0]), "weight_var"),
        ((0.1, [np.inf, 1.0], [1.0, 1.0]), "weight_var"),
        ((0.1, [1.0, 1.0], [1.0, -1.0]), "data_var"),
        ((0.1, [1.0], []), "data_var"),
        ((0.1, [[1.0, 2.0], [2.0, 1.0]], [1.0, 1.0]), "positive definite"),
        ((0.1, [[1.0, 0.5], [0.0, 1.0]], [1.0, 1.0]), "symmetric"),
        ((0.1, np.eye(3), [1.0, 1.0]), "weight_var"),
    ],
)
def test_value_errors(args, match):
    with pytest.raises(ValueError, match=match):
        waterfilling_rate_distortion(*args)


def test_compressor_value_errors():
    with pytest.raises(ValueError, match="weight_var"):
        OptimalGaussianCompressor(np.eye(2), [1.0, 1.0], 0.1)
    with pytest.raises(ValueError, match="D"):
        OptimalGaussianCompressor([1.0], [1.0], -1.0)
    comp = OptimalGaussianCompressor([1.0, 1.0], [1.0, 1.0], 0.1)
    with pytest.raises(ValueError, match="W"):
        comp.sample(np.ones((3, 3)))
    with pytest.raises(ValueError, match="trials"):
        comp.sample_weights(0)
    with pytest.raises(ValueError, match="variances"):
        reverse_waterfilling([1.0, 0.0], 0.1)
