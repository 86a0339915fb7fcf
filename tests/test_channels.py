"""Tests of the Oracle channel (26) of Bu et al. (2021)."""

import numpy as np
import pytest

from infocompress import linreg
from infocompress.channels import OracleChannel

from conftest import mean_se

N_SE = 5.0


@pytest.mark.parametrize("cov", [None, [0.5, 1.0, 2.0, 4.0]])
def test_oracle_distortion_equals_D(cov):
    """(A12): E[(What - W)^T XX^T/n (What - W)] = D for the ERM."""
    rng = np.random.default_rng(0)
    d, n, D = 4, 12, 0.2
    w_star = rng.standard_normal(d)
    X, Y = linreg.sample_datasets(w_star, n, trials=200_000, sigma_x=cov, rng=rng)
    W = linreg.erm(X, Y)
    ch = OracleChannel(w_star, n, D, sigma_x=cov)
    What = ch.sample(W, rng=rng)
    dist = linreg.empirical_risk(What, X, Y) - linreg.empirical_risk(W, X, Y)
    m, se = mean_se(dist)
    assert abs(m - D) <= N_SE * se, (m, se)
    assert abs(m - 1.1 * D) > N_SE * se  # the check has power


def test_oracle_endpoints():
    w_star = np.array([1.0, -1.0, 0.5])
    W = np.random.default_rng(1).standard_normal((10, 3))
    full = OracleChannel(w_star, 10, 3 / 10)  # alpha = 1: What = w*
    assert full.alpha == 1.0 and full.gaussian_mi() == 0.0
    assert np.allclose(full.sample(W, rng=0), w_star)
    none = OracleChannel(w_star, 10, 0.0)  # alpha = 0, no noise: What = W
    assert np.allclose(none.sample(W, rng=0), W) and np.isinf(none.gaussian_mi())


def test_gaussian_mi_matches_covariance_formula_and_bound_24():
    d, n, D, v = 3, 10, 0.1, 1.3
    cov_x = np.diag([0.5, 1.0, 2.0])
    ch = OracleChannel(np.zeros(d), n, D, sigma_x=cov_x, noise_var=v)
    cw = v / (n - d - 1) * np.linalg.inv(cov_x)
    a = 1 - ch.alpha
    noise = a * D / d * np.linalg.inv(cov_x)
    joint = np.block([[cw, a * cw], [a * cw, a * a * cw + noise]])
    sign, logdet = np.linalg.slogdet(joint)
    ref = 0.5 * (np.linalg.slogdet(cw)[1] + np.linalg.slogdet(a * a * cw + noise)[1] - logdet)
    assert np.isclose(ch.gaussian_mi(), ref)
    assert ch.gaussian_mi() <= linreg.rate_distortion_upper(D, d, n, v)


def test_sampling_reproducible():
    ch = OracleChannel(np.zeros(2), 10, 0.05)
    W = np.ones((3, 2))
    assert np.array_equal(ch.sample(W, rng=4), ch.sample(W, rng=4))


@pytest.mark.parametrize(
    "kwargs",
    [dict(D=-0.1), dict(D=1.0), dict(n=4), dict(noise_var=0.0), dict(w_star=[np.nan, 0, 0])],
)
def test_bad_input(kwargs):
    args = dict(w_star=np.zeros(3), n=10, D=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError):
        OracleChannel(args.pop("w_star"), args.pop("n"), args.pop("D"), **args)


def test_sample_shape_mismatch():
    with pytest.raises(ValueError, match="d=3"):
        OracleChannel(np.zeros(3), 10, 0.1).sample(np.zeros((2, 4)))
