"""Tests of infocompress.learners: closed forms against Monte-Carlo at 5 standard errors."""

import numpy as np
import pytest
from scipy import stats

from infocompress import learners as L
from infocompress import linreg
from infocompress.channels import OracleChannel
from infocompress.mi import gaussian_mi

from conftest import mean_se

N_SE = 5.0


def _close(est, se, theory):
    return abs(est - theory) <= N_SE * se


# ----------------------------------------------------------------------------------------
# Gaussian-mean learner
# ----------------------------------------------------------------------------------------
COMPRESSORS = [
    None,
    L.GaussianNoiseCompressor(0.05),
    L.UniformQuantizer(0.3, 5),
    L.UniformQuantizer(0.5, 2, center=0.1),
]


@pytest.mark.parametrize("noise_var", [0.0, 0.04])
@pytest.mark.parametrize("comp", COMPRESSORS)
def test_gen_error_closed_form_matches_monte_carlo(noise_var, comp):
    rng = np.random.default_rng(11)
    learner = L.NoisyMeanLearner(0.2, 1.5, 8, noise_var=noise_var)
    loss = L.ProbitLinearLoss(0.3)
    S, W = learner.sample(400_000, rng=rng)
    What = W if comp is None else comp.compress(W, rng=rng)
    gen = loss.population_risk(What, learner.mean) - loss.empirical_risk(What, S)
    m, se = mean_se(gen)
    theory = learner.gen_error(loss, comp)
    assert _close(m, se, theory), (m, se, theory)
    assert not _close(m, se, 1.1 * theory)  # the check has power


def test_loss_is_gaussian_with_variance_below_sigma():
    loss = L.ProbitLinearLoss(0.5)
    z = np.random.default_rng(0).normal(0.3, 2.0, 200_000)
    for w in (-3.0, 0.1, 10.0):
        vals = loss(w, z)
        var, se_var = np.var(vals, ddof=1), np.std((vals - vals.mean()) ** 2) / np.sqrt(z.size)
        theory = float(loss.g(w)) ** 2 * 4.0
        assert abs(var - theory) <= N_SE * se_var
        assert theory <= loss.sigma(4.0) ** 2
    assert np.isclose(float(loss.g(50.0)), 1.0)


def test_mi_sw_gaussian_cases_match_covariance_formula():
    learner = L.NoisyMeanLearner(0.0, 2.0, 5, noise_var=0.3)
    eta = 0.2
    # (Zbar, W, What) jointly Gaussian: Zbar var a, W = Zbar + tau, What = W + eta
    a, t = 2.0 / 5, 0.3
    cov_sw = np.array([[a, a], [a, a + t]])
    cov_swh = np.array([[a, a], [a, a + t + eta]])
    cov_wwh = np.array([[a + t, a + t], [a + t, a + t + eta]])
    comp = L.GaussianNoiseCompressor(eta)
    assert np.isclose(learner.mi_sw(), gaussian_mi(cov_sw, 1))
    assert np.isclose(learner.mi_sw(comp), gaussian_mi(cov_swh, 1))
    assert np.isclose(learner.mi_w_what(comp), gaussian_mi(cov_wwh, 1))
    assert L.NoisyMeanLearner(0.0, 1.0, 3).mi_sw() == np.inf


def test_quantizer_mi_sw_matches_monte_carlo():
    """I(Zbar; What) = E[ln p(What|Zbar) - ln p(What)] with both densities exact."""
    rng = np.random.default_rng(5)
    learner = L.NoisyMeanLearner(0.1, 1.0, 4, noise_var=0.09)
    q = L.UniformQuantizer(0.4, 6)
    trials = 200_000
    S, W = learner.sample(trials, rng=rng)
    zbar = S.mean(axis=1)
    k = q.index(W)
    p_marg = q.cell_probabilities(
        lambda e: stats.norm.cdf(e, learner.mean, np.sqrt(learner.weight_var)))
    p_cond = q.cell_probabilities(lambda e: stats.norm.cdf((e - zbar[:, None]) / 0.3))
    vals = np.log(p_cond[np.arange(trials), k]) - np.log(p_marg[k])
    m, se = mean_se(vals)
    assert _close(m, se, learner.mi_sw(q)), (m, se, learner.mi_sw(q))
    # data processing: I(S;What) <= min(I(S;W), I(W;What))
    assert learner.mi_sw(q) <= min(learner.mi_sw(), learner.mi_w_what(q))


def test_quantizer_entropy_matches_plug_in():
    rng = np.random.default_rng(6)
    q = L.UniformQuantizer(0.5, 7, center=0.2)
    w = rng.normal(0.4, 0.8, 500_000)
    k = q.index(w)
    p = np.bincount(k, minlength=q.n_levels) / w.size
    vals = -np.log(p[k])
    m, se = mean_se(vals)
    theory = q.entropy_gaussian(0.4, 0.8**2)
    assert _close(m, se, theory)
    assert np.allclose(q.compress(w), q.levels[k])
    assert q.entropy_gaussian(0.0, 1.0) <= np.log(q.n_levels)


def test_quantizer_deterministic_learner_mi_is_entropy():
    learner = L.NoisyMeanLearner(0.0, 1.0, 10)
    q = L.UniformQuantizer(0.2, 9)
    assert learner.mi_sw(q) == learner.mi_w_what(q)


def test_quantizer_levels_edges_and_radius():
    q = L.UniformQuantizer(2.0, 2)
    assert np.allclose(q.levels, [-1.0, 1.0])
    assert q.edges[0] == -np.inf and q.edges[-1] == np.inf and q.edges[1] == 0.0
    assert q.reconstruction_radius([1.0, -1.0]) == 8.0
    assert q.entropy(lambda e: stats.norm.cdf(e)) == pytest.approx(np.log(2))


def test_sub_gaussian_gen_bound():
    assert L.sub_gaussian_gen_bound(2.0, 4, 1.0) == pytest.approx(1.0)
    assert np.allclose(L.sub_gaussian_gen_bound([0.0, 8.0], 4, 0.5), [0.0, 1.0])


# ----------------------------------------------------------------------------------------
# CGF (A5)-(A6)
# ----------------------------------------------------------------------------------------
def test_chi2_cgf_matches_monte_carlo_and_bound():
    rng = np.random.default_rng(7)
    s2 = 1.7
    ell = s2 * rng.standard_normal(1_000_000) ** 2
    lam = np.array([-2.0, -0.5, -0.05, 0.02, 0.1]) / s2  # all below 1/(4 s2): finite variance
    est, se = L.empirical_cgf(ell, lam, mean=s2)
    theory = L.chi2_loss_cgf(lam, s2)
    assert np.all(np.abs(est - theory) <= N_SE * se), (est, se, theory)
    bound = L.chi2_loss_cgf_bound(lam, s2)
    neg = lam < 0
    assert np.all(theory[neg] <= bound[neg])
    assert np.all(theory[~neg] > bound[~neg])  # (A6) fails for every lambda > 0


def test_chi2_cgf_series_branch_and_blow_up():
    s2 = 0.8
    x = np.array([-0.0101, -0.0099, 0.0099, 0.0101])
    lam = x / (2 * s2)
    direct = -0.5 * (x + np.log1p(-x))
    assert np.allclose(L.chi2_loss_cgf(lam, s2), direct, rtol=1e-9)
    assert L.chi2_loss_cgf(1 / (2 * s2), s2) == np.inf
    assert L.chi2_loss_cgf(0.0, s2) == 0.0
    assert L.chi2_loss_cgf(0.499 / s2, s2) > 2.0


def test_empirical_cgf_scalar_and_sample_mean():
    x = np.random.default_rng(8).standard_normal(200_000)
    est, se = L.empirical_cgf(x, 0.5)
    assert isinstance(est, float) and _close(est, se, 0.125)


# ----------------------------------------------------------------------------------------
# linear regression closed forms
# ----------------------------------------------------------------------------------------
COV = np.array([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 0.5]])


def test_excess_risk_law_matches_erm():
    rng = np.random.default_rng(9)
    d, n, v = 3, 9, 0.7
    w_star = np.array([1.0, -2.0, 0.5])
    X, Y = linreg.sample_datasets(w_star, n, trials=100_000, sigma_x=COV, noise_var=v, rng=rng)
    W = linreg.erm(X, Y)
    ex = linreg.population_risk(W, w_star, sigma_x=COV, noise_var=v) - v
    dist = L.erm_excess_risk_distribution(d, n, v)
    for q in (0.1, 0.5, 0.9, 0.99):
        frac = np.mean(ex <= dist.ppf(q))
        se = np.sqrt(q * (1 - q) / ex.size)
        assert abs(frac - q) <= N_SE * se, (q, frac)
    wrong = L.erm_excess_risk_distribution(d, n + 1, v)  # power: a neighbouring law fails
    frac = np.mean(ex <= wrong.ppf(0.5))
    assert abs(frac - 0.5) > N_SE * np.sqrt(0.25 / ex.size)


def test_erm_weight_logpdf_matches_scipy_multivariate_t():
    d, n, v = 3, 8, 1.3
    nu = n - d + 1
    w_star = np.array([0.1, 0.2, 0.3])
    shape = v / nu * np.linalg.inv(COV)
    w = np.random.default_rng(1).standard_normal((5, d))
    ref = stats.multivariate_t(loc=w_star, shape=shape, df=nu).logpdf(w)
    got = L.erm_weight_logpdf(w, w_star, n, sigma_x=COV, noise_var=v)
    assert np.allclose(got, ref)


def test_erm_weight_kl_matches_monte_carlo():
    """KL(P_W || P_WG) = E_W[ln p_W(W) - ln p_WG(W)] with W the actual ERM."""
    rng = np.random.default_rng(10)
    d, n = 3, 9
    w_star = np.zeros(d)
    X, Y = linreg.sample_datasets(w_star, n, trials=200_000, sigma_x=COV, rng=rng)
    W = linreg.erm(X, Y)
    cov_w = np.linalg.inv(COV) / (n - d - 1)
    lr = (L.erm_weight_logpdf(W, w_star, n, sigma_x=COV)
          - stats.multivariate_normal(w_star, cov_w).logpdf(W))
    m, se = mean_se(lr)
    kl = L.erm_weight_kl(d, n)
    assert _close(m, se, kl), (m, se, kl)
    # power: a 25% error is about 12 SE away (a 10% error, 5 SE away, failed under some seeds)
    assert not _close(m, se, 1.25 * kl)
    assert L.erm_weight_kl(2, 500) < L.erm_weight_kl(2, 50) < L.erm_weight_kl(2, 5)


@pytest.mark.parametrize("frac", [0.0, 0.3, 0.8])
def test_oracle_closed_forms_match_monte_carlo(frac):
    rng = np.random.default_rng(12)
    d, n, v = 3, 10, 0.8
    D = frac * d * v / n
    w_star = np.array([1.0, 0.0, -1.0])
    X, Y = linreg.sample_datasets(w_star, n, trials=300_000, sigma_x=COV, noise_var=v, rng=rng)
    W = linreg.erm(X, Y)
    What = OracleChannel(w_star, n, D, sigma_x=COV, noise_var=v).sample(W, rng=rng)
    pop = linreg.population_risk(What, w_star, sigma_x=COV, noise_var=v)
    emp = linreg.empirical_risk(What, X, Y)
    diff = What - W
    dsig = np.einsum("ti,ij,tj->t", diff, COV, diff)
    for vals, theory in [
        (pop - emp, L.oracle_gen_error(d, n, D, v)),
        (pop, L.oracle_population_risk(d, n, D, v)),
        (dsig, L.oracle_sigma_distortion(d, n, D, v)),
    ]:
        m, se = mean_se(vals)
        assert _close(m, se, theory), (m, se, theory)
        if theory > 0:
            assert not _close(m, se, 1.1 * theory)


def test_oracle_closed_forms_endpoints_and_arrays():
    d, n = 4, 12
    assert L.oracle_gen_error(d, n, 0.0) == pytest.approx(linreg.gen_error_erm(d, n))
    assert L.oracle_population_risk(d, n, d / n) == pytest.approx(1.0)
    D = np.array([0.0, 0.1, d / n])
    assert L.oracle_gen_error(d, n, D).shape == (3,)
    assert np.all(L.oracle_sigma_distortion(d, n, D) >= D)


def test_ridge():
    rng = np.random.default_rng(13)
    X, Y = linreg.sample_datasets([1.0, -1.0], 6, trials=4, rng=rng)
    assert np.allclose(L.ridge(X, Y, 0.0), linreg.erm(X, Y))
    lam = 0.3
    W = L.ridge(X, Y, lam)
    # gradient of L_S(w) + lam ||w||^2 vanishes
    resid = Y - np.einsum("tdn,td->tn", X, W)
    grad = -2 / 6 * np.einsum("tdn,tn->td", X, resid) + 2 * lam * W
    assert np.allclose(grad, 0.0, atol=1e-12)
    assert L.ridge(X[0], Y[0], lam).shape == (2,)


def test_project_to_ball():
    c = np.array([1.0, 1.0])
    w = np.array([[1.0, 4.0], [1.0, 1.5], [1.0, 1.0]])
    out = L.project_to_ball(w, c, 2.0)
    assert np.allclose(out, [[1.0, 3.0], [1.0, 1.5], [1.0, 1.0]])


# ----------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: L.sub_gaussian_gen_bound(-1.0, 5, 1.0),
        lambda: L.sub_gaussian_gen_bound(np.nan, 5, 1.0),
        lambda: L.sub_gaussian_gen_bound(1.0, 0, 1.0),
        lambda: L.sub_gaussian_gen_bound(1.0, 5, 0.0),
        lambda: L.ProbitLinearLoss(0.0),
        lambda: L.ProbitLinearLoss(np.inf),
        lambda: L.ProbitLinearLoss().empirical_risk(np.zeros(3), np.zeros((4, 5))),
        lambda: L.ProbitLinearLoss().sigma(-1.0),
        lambda: L.GaussianNoiseCompressor(0.0),
        lambda: L.GaussianNoiseCompressor(1.0).mutual_information(-1.0),
        lambda: L.GaussianNoiseCompressor(1.0).compress([np.nan]),
        lambda: L.UniformQuantizer(0.0, 3),
        lambda: L.UniformQuantizer(1.0, 0),
        lambda: L.UniformQuantizer(1.0, 2.5),
        lambda: L.UniformQuantizer(1.0, 3).entropy_gaussian(0.0, 0.0),
        lambda: L.NoisyMeanLearner(0.0, 0.0, 5),
        lambda: L.NoisyMeanLearner(0.0, 1.0, 0),
        lambda: L.NoisyMeanLearner(0.0, 1.0, 5, noise_var=-0.1),
        lambda: L.NoisyMeanLearner(np.nan, 1.0, 5),
        lambda: L.NoisyMeanLearner(0.0, 1.0, 5).sample(0),
        lambda: L.NoisyMeanLearner(0.0, 1.0, 5).mi_sw("round"),
        lambda: L.NoisyMeanLearner(0.0, 1.0, 5).mi_sw(L.UniformQuantizer(1.0, 3), grid=2),
        lambda: L.NoisyMeanLearner(0.0, 1.0, 5).mi_w_what(None),
        lambda: L.NoisyMeanLearner(0.0, 1.0, 5).gen_error("loss"),
        lambda: L.chi2_loss_cgf(0.1, 0.0),
        lambda: L.chi2_loss_cgf(np.inf, 1.0),
        lambda: L.chi2_loss_cgf_bound(0.1, -1.0),
        lambda: L.empirical_cgf([1.0], 0.1),
        lambda: L.empirical_cgf([[1.0, 2.0]], 0.1),
        lambda: L.empirical_cgf([1.0, 2.0], np.nan),
        lambda: L.ridge(np.zeros((2, 5)), np.zeros(4), 0.1),
        lambda: L.ridge(np.zeros((2, 5)), np.zeros(5), -0.1),
        lambda: L.erm_excess_risk_distribution(5, 4),
        lambda: L.erm_excess_risk_distribution(2, 4, noise_var=0.0),
        lambda: L.erm_weight_kl(3, 4),
        lambda: L.erm_weight_logpdf(np.zeros(2), np.zeros(3), 5),
        lambda: L.erm_weight_logpdf(np.zeros(3), np.zeros(3), 2),
        lambda: L.oracle_gen_error(3, 4, 0.1),
        lambda: L.oracle_gen_error(3, 10, -0.1),
        lambda: L.oracle_gen_error(3, 10, 0.31),
        lambda: L.oracle_population_risk(3, 10, 0.1, noise_var=0.0),
        lambda: L.oracle_sigma_distortion(3, 10, [0.1, 0.5]),
        lambda: L.project_to_ball(np.zeros((2, 3)), np.zeros(2), 1.0),
        lambda: L.project_to_ball(np.zeros((2, 2)), np.zeros(2), 0.0),
    ],
)
def test_invalid_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()
