r"""Information-theoretic generalization bounds and losses with known cumulant functions.

* :func:`sub_gaussian_gen_bound` -- the mutual-information bound on the generalization
  error of a sigma-sub-Gaussian loss, eqs. (9)-(10) of Bu et al. (2021) (Xu and Raginsky
  2017);
* :class:`ProbitLinearLoss` -- a bounded-coefficient linear loss that is exactly Gaussian
  under Gaussian data, hence sub-Gaussian with a known parameter (the loss of the
  Gaussian-mean learner :class:`~infocompress.channels.NoisyMeanLearner`);
* the cumulant generating function of the squared loss of linear regression, eq. (A5), and
  the one-sided bound (A6) of the proof of Proposition 1 (:func:`chi2_loss_cgf`,
  :func:`chi2_loss_cgf_bound`), with the Monte-Carlo estimate :func:`empirical_cgf`.

References
----------
.. [1] Y. Bu, W. Gao, S. Zou, V. V. Veeravalli, "Population risk improvement with model
   compression: an information-theoretic approach", Entropy 23(10):1255, 2021.
.. [2] A. Xu, M. Raginsky, "Information-theoretic analysis of generalization capability of
   learning algorithms", NeurIPS 2017.
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf

from ._validation import (
    ArrayLike,
    Options,
    Real,
    as_finite_array,
    check_int,
    check_real,
    validate_params,
)

__all__ = [
    "ProbitLinearLoss",
    "chi2_loss_cgf",
    "chi2_loss_cgf_bound",
    "empirical_cgf",
    "sub_gaussian_gen_bound",
]


# ----------------------------------------------------------------------------------------
# the information-theoretic generalization bound
# ----------------------------------------------------------------------------------------
@validate_params(mi=Options(Real(low=0, allow_inf=True), ArrayLike(low=0)))
def sub_gaussian_gen_bound(mi, n, sigma):
    r"""Mutual-information bound on the generalization error, eqs. (9) and (10).

    .. math:: \lvert \mathrm{gen}(\mu, P_{W|S}) \rvert \le \sqrt{\frac{2\sigma^2}{n} I(S;W)}

    for a loss that is :math:`\sigma`-sub-Gaussian under :math:`Z\sim\mu` for every
    hypothesis (Xu and Raginsky 2017; Lemma 2 of Bu et al. 2021). Theorem 1 evaluates it at
    :math:`\min\{I(S;W), I(W;\hat W)\}` for a compressed model.

    Parameters
    ----------
    mi : float or array-like
        Mutual information in nats, >= 0 (``inf`` gives ``inf``).
    n : int
        Number of training samples, >= 1.
    sigma : float
        Sub-Gaussian parameter, > 0.

    Returns
    -------
    float or ndarray

    References
    ----------
    Bu et al. (2021), Lemma 2, eq. (9) and Theorem 1, eq. (10).

    Examples
    --------
    >>> sub_gaussian_gen_bound(0.5, 10, 1.0)
    0.31622776601683794
    >>> sub_gaussian_gen_bound(np.inf, 10, 1.0)
    inf
    """
    mi = np.asarray(mi, dtype=float)
    if np.any(np.isnan(mi)) or np.any(mi < 0):
        raise ValueError(f"mi must be >= 0 (inf allowed), got {mi}")
    n = check_int(n, "n", low=1)
    sigma = check_real(sigma, "sigma", positive=True)
    out = np.sqrt(2.0 * sigma**2 * mi / n)
    return out if out.ndim else float(out)


# ----------------------------------------------------------------------------------------
# the Gaussian-mean learner, its loss and two compressors
# ----------------------------------------------------------------------------------------
class ProbitLinearLoss:
    r"""The loss :math:`\ell(w, z) = -g(w)\,z` with :math:`g(w) = \operatorname{erf}(w/(b\sqrt2))`.

    The learner is rewarded for choosing :math:`w` of the same sign as the data mean.
    Because :math:`\lvert g\rvert < 1`, for :math:`Z \sim \mathcal N(\theta, s^2)` the loss
    :math:`\ell(w, Z) \sim \mathcal N(-g(w)\theta, g(w)^2 s^2)` is Gaussian with variance at
    most :math:`s^2`, so it is :math:`s`-sub-Gaussian for **every** hypothesis :math:`w`:
    its CGF is exactly :math:`g(w)^2 s^2\lambda^2/2 \le s^2\lambda^2/2`. The parameter
    :math:`\sigma = s` is the smallest one valid for all :math:`w`, since
    :math:`g(w)^2 \to 1` as :math:`\lvert w\rvert\to\infty`. (The loss is not non-negative;
    Lemma 2 does not need that.)

    Parameters
    ----------
    scale : float, default 1.0
        Width :math:`b > 0` of the probit ramp; small ``b`` makes :math:`g` close to
        :math:`\operatorname{sign}`.

    References
    ----------
    Bu et al. (2021), Lemma 2 (eq. 9) for the role of :math:`\sigma`; Xu and Raginsky (2017).

    Examples
    --------
    >>> loss = ProbitLinearLoss(1.0)
    >>> float(loss(0.0, 3.0)), round(float(loss.g(1.0)), 6)
    (-0.0, 0.682689)
    >>> loss.sigma(4.0)
    2.0
    """

    def __init__(self, scale=1.0):
        self.scale = check_real(scale, "scale", positive=True)

    def g(self, w):
        r"""Coefficient :math:`g(w) = \operatorname{erf}(w / (b\sqrt2)) = 2\Phi(w/b) - 1`."""
        w = as_finite_array(w, "w")
        return erf(w / (self.scale * np.sqrt(2.0)))

    def __call__(self, w, z):
        """Loss :math:`-g(w) z`, broadcast over ``w`` and ``z``."""
        return -self.g(w) * as_finite_array(z, "z")

    def empirical_risk(self, w, S):
        r"""Empirical risk :math:`L_S(w) = -g(w)\bar Z`, batched.

        Parameters
        ----------
        w : array-like of shape (trials,)
        S : array-like of shape (trials, n)

        Returns
        -------
        ndarray of shape (trials,)
        """
        S = as_finite_array(S, "S", ndim=(1, 2))
        w = as_finite_array(w, "w")
        if w.shape != S.shape[:-1]:
            raise ValueError(f"w of shape {w.shape} does not match S of shape {S.shape}")
        return -self.g(w) * S.mean(axis=-1)

    def population_risk(self, w, mean):
        r"""Population risk :math:`L_\mu(w) = -g(w)\theta` for :math:`Z\sim\mathcal N(\theta, s^2)`.

        Parameters
        ----------
        w : array-like
        mean : float
            :math:`\theta`.
        """
        return -self.g(w) * check_real(mean, "mean")

    def sigma(self, data_var) -> float:
        r"""Sub-Gaussian parameter :math:`\sigma = s` valid for all hypotheses."""
        return float(np.sqrt(check_real(data_var, "data_var", positive=True)))


# ----------------------------------------------------------------------------------------
# cumulant generating function of the squared loss, (A5)-(A6)
# ----------------------------------------------------------------------------------------
def chi2_loss_cgf(lam, sigma2):
    r"""CGF (A5) of the squared loss :math:`\ell = \sigma_\ell^2\chi^2_1` of linear regression.

    .. math::

        \Lambda(\lambda) = \ln E\bigl[e^{\lambda(\ell - E\ell)}\bigr]
        = -\sigma_\ell^2\lambda - \tfrac12\ln(1 - 2\sigma_\ell^2\lambda),
        \qquad \lambda < \frac{1}{2\sigma_\ell^2},

    and :math:`+\infty` for :math:`\lambda \ge 1/(2\sigma_\ell^2)`. With
    :math:`x = 2\sigma_\ell^2\lambda`, :math:`\Lambda = \sum_{k\ge2} x^k/(2k)`; this series is
    used for :math:`\lvert x\rvert < 10^{-2}` to avoid cancellation.

    Parameters
    ----------
    lam : float or array-like
        :math:`\lambda` (finite).
    sigma2 : float
        :math:`\sigma_\ell^2 = (\hat w - w^*)^\top\Sigma_X(\hat w - w^*) + \sigma'^2 > 0`.

    Returns
    -------
    float or ndarray

    References
    ----------
    Bu et al. (2021), Appendix B, eq. (A5).

    Examples
    --------
    >>> round(chi2_loss_cgf(-1.0, 1.0), 6)  # 1 - ln(3)/2
    0.450694
    >>> chi2_loss_cgf(0.5, 1.0)
    inf
    """
    lam = as_finite_array(lam, "lam")
    s2 = check_real(sigma2, "sigma2", positive=True)
    x = 2.0 * s2 * lam
    out = np.full(x.shape, np.inf)
    ok = x < 1.0
    xs = x[ok]
    val = -0.5 * (xs + np.log1p(-xs))
    small = np.abs(xs) < 1e-2
    xsm = xs[small]
    val[small] = sum(xsm**k / (2 * k) for k in range(2, 9))
    out[ok] = val
    return out if out.ndim else float(out)


def chi2_loss_cgf_bound(lam, sigma2):
    r"""One-sided quadratic bound (A6), :math:`\Lambda(\lambda) \le \sigma_\ell^4\lambda^2`.

    The inequality holds for :math:`\lambda \le 0` only: writing
    :math:`f(x) = x^2/4 + x/2 + \tfrac12\ln(1-x)` with :math:`x = 2\sigma_\ell^2\lambda`,
    :math:`f(0) = 0` and :math:`f'(x) = -x^2/(2(1-x)) \le 0`, so :math:`f \ge 0` on
    :math:`x \le 0` (the bound) and :math:`f < 0` on :math:`0 < x < 1` (the bound fails for
    every :math:`\lambda > 0`). In sub-Gaussian form it is
    :math:`\sigma^2\lambda^2/2` with :math:`\sigma^2 = 2\sigma_\ell^4`.

    Parameters
    ----------
    lam : float or array-like
    sigma2 : float
        :math:`\sigma_\ell^2 > 0`.

    Returns
    -------
    float or ndarray

    References
    ----------
    Bu et al. (2021), Appendix B, eq. (A6).

    Examples
    --------
    >>> chi2_loss_cgf_bound(-1.0, 1.0)
    1.0
    >>> bool(chi2_loss_cgf(-1.0, 1.0) <= chi2_loss_cgf_bound(-1.0, 1.0))
    True
    """
    lam = as_finite_array(lam, "lam")
    s2 = check_real(sigma2, "sigma2", positive=True)
    out = s2**2 * lam**2
    return out if out.ndim else float(out)


def empirical_cgf(samples, lam, *, mean=None):
    r"""Monte-Carlo estimate of a CGF, with a delta-method standard error.

    .. math::

        \hat\Lambda(\lambda) = \ln \frac1N\sum_{i=1}^N e^{\lambda(x_i - m)},
        \qquad \widehat{\mathrm{SE}} = \frac{\operatorname{sd}(e^{\lambda(x_i - m)})}
        {\sqrt N\,\frac1N\sum_i e^{\lambda(x_i - m)}},

    with :math:`m` the known mean if given, else the sample mean. The SE is meaningful only
    where :math:`E[e^{2\lambda X}] < \infty` (for the squared loss, :math:`\lambda <
    1/(4\sigma_\ell^2)`); beyond that the estimate is finite but its error is not
    Gaussian.

    Parameters
    ----------
    samples : array-like of shape (N,)
        Independent draws, ``N >= 2``.
    lam : float or array-like of shape (L,)
    mean : float, optional
        Known mean :math:`E X`.

    Returns
    -------
    estimate, se : float or ndarray of shape (L,)

    References
    ----------
    Bu et al. (2021), Notation 1 (definition of the CGF) and Appendix B.

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal(100_000)
    >>> est, se = empirical_cgf(x, 1.0, mean=0.0)  # exact CGF: 1/2
    >>> bool(abs(est - 0.5) < 5 * se)
    True
    """
    x = as_finite_array(samples, "samples", ndim=1)
    if x.size < 2:
        raise ValueError(f"samples must hold at least 2 draws, got {x.size}")
    lam = as_finite_array(lam, "lam", ndim=(0, 1))
    m = float(x.mean()) if mean is None else check_real(mean, "mean")
    lam_1d = np.atleast_1d(lam)
    est = np.empty(lam_1d.shape)
    se = np.empty(lam_1d.shape)
    c = x - m
    for i, lm in enumerate(lam_1d):
        a = lm * c
        shift = a.max()
        e = np.exp(a - shift)
        mu = e.mean()
        est[i] = shift + np.log(mu)
        se[i] = e.std(ddof=1) / (np.sqrt(x.size) * mu)
    if lam.ndim == 0:
        return float(est[0]), float(se[0])
    return est, se
