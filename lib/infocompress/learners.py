r"""Small learners, compressors and closed forms used by the theory chapters.

The theory chapters check Lemma 2, Theorems 1-2, Lemma 3, Propositions 1-2 and Corollary 1
of Bu et al. (2021) by Monte-Carlo. A check needs a learner whose generalization error and
mutual information are known exactly; this module collects such pieces.

* A **Gaussian-mean learner** (:class:`NoisyMeanLearner`): the data are
  :math:`Z_i \sim \mathcal N(\theta, s^2)`, the learner outputs
  :math:`W = \bar Z + \mathcal N(0, \tau^2)`. With the bounded-coefficient linear loss
  :class:`ProbitLinearLoss` the loss is exactly Gaussian, hence sub-Gaussian with a known
  parameter, and the generalization error follows from Stein's lemma in closed form.
* Two **compressors** :math:`P_{\hat W|W}` with computable :math:`I(W;\hat W)`: additive
  Gaussian noise (:class:`GaussianNoiseCompressor`) and a uniform scalar quantizer with finitely
  many levels (:class:`UniformQuantizer`, for which :math:`I(W;\hat W) = H(\hat W)`).
* The **cumulant generating function** of the squared loss of linear regression, eq. (A5), and
  the one-sided bound (A6) used in the proof of Proposition 1 (:func:`chi2_loss_cgf`,
  :func:`chi2_loss_cgf_bound`), with a Monte-Carlo estimator :func:`empirical_cgf`.
* Closed forms for the **ERM of linear regression** derived for this book: the exact law of
  its excess risk (:func:`erm_excess_risk_distribution`), the fact that the ERM weights follow
  a multivariate Student t law, hence :math:`\mathrm{KL}(P_W\|P_{W_G})` of Remark 2 in closed
  form (:func:`erm_weight_kl`, :func:`erm_weight_logpdf`); and for the **Oracle channel** (26)
  its exact generalization error and population risk (:func:`oracle_gen_error`,
  :func:`oracle_population_risk`, :func:`oracle_sigma_distortion`).
* A **ridge** learner (:func:`ridge`), which does not minimise the empirical risk, so that the
  distortion (13) can be negative, and :func:`project_to_ball`, which makes a reconstruction
  set compact.

All mutual informations and entropies are in nats.

References
----------
.. [1] Y. Bu, W. Gao, S. Zou, V. V. Veeravalli, "Population risk improvement with model
   compression: an information-theoretic approach", Entropy 23(10):1255, 2021.
.. [2] A. Xu, M. Raginsky, "Information-theoretic analysis of generalization capability of
   learning algorithms", NeurIPS 2017.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import digamma, entr, erf, gammaln

from ._checks import (
    as_finite_array,
    as_generator,
    check_int,
    check_n_gt_d_plus_1,
    check_nonnegative,
    check_positive,
)
from .linreg import covariance_matrix, reconstruction_radius

__all__ = [
    "GaussianNoiseCompressor",
    "NoisyMeanLearner",
    "ProbitLinearLoss",
    "UniformQuantizer",
    "chi2_loss_cgf",
    "chi2_loss_cgf_bound",
    "empirical_cgf",
    "erm_excess_risk_distribution",
    "erm_weight_kl",
    "erm_weight_logpdf",
    "oracle_gen_error",
    "oracle_population_risk",
    "oracle_sigma_distortion",
    "project_to_ball",
    "ridge",
    "sub_gaussian_gen_bound",
]


def _scalar(x, name, *, positive=False, nonnegative=False) -> float:
    arr = as_finite_array(x, name, ndim=0)
    if positive:
        check_positive(arr, name)
    if nonnegative:
        check_nonnegative(arr, name)
    return float(arr)


def _normal_pdf(x, mean, var):
    """Gaussian density that returns 0 at +/- inf (used with infinite cell edges)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.exp(-0.5 * (x - mean) ** 2 / var) / np.sqrt(2.0 * np.pi * var)
    return np.where(np.isfinite(x), out, 0.0)


# ----------------------------------------------------------------------------------------
# the information-theoretic generalization bound
# ----------------------------------------------------------------------------------------
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
    sigma = _scalar(sigma, "sigma", positive=True)
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
        self.scale = _scalar(scale, "scale", positive=True)

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
        return -self.g(w) * _scalar(mean, "mean")

    def sigma(self, data_var) -> float:
        r"""Sub-Gaussian parameter :math:`\sigma = s` valid for all hypotheses."""
        return float(np.sqrt(_scalar(data_var, "data_var", positive=True)))


class GaussianNoiseCompressor:
    r"""Additive-noise compressor :math:`\hat W = W + \mathcal N(0, \eta^2)`.

    For a Gaussian input of variance :math:`v`,

    .. math:: I(W;\hat W) = \tfrac12 \ln\bigl(1 + v/\eta^2\bigr).

    Parameters
    ----------
    noise_var : float
        :math:`\eta^2 > 0`.

    References
    ----------
    Bu et al. (2021), Section 3 (compression as post-processing, :math:`S\to W\to\hat W`);
    T. M. Cover and J. A. Thomas, *Elements of Information Theory*, 2nd ed. (2006), eq. (9.16).

    Examples
    --------
    >>> c = GaussianNoiseCompressor(1.0)
    >>> round(c.mutual_information(3.0), 6)  # ln(4) / 2
    0.693147
    """

    def __init__(self, noise_var):
        self.noise_var = _scalar(noise_var, "noise_var", positive=True)

    def compress(self, W, rng=None) -> np.ndarray:
        """Return ``W`` plus independent Gaussian noise of variance ``noise_var``."""
        W = as_finite_array(W, "W")
        gen = as_generator(rng)
        return W + np.sqrt(self.noise_var) * gen.standard_normal(W.shape)

    def mutual_information(self, input_var) -> float:
        r"""Closed-form :math:`I(W;\hat W)` in nats for :math:`W \sim \mathcal N(\cdot, v)`."""
        v = _scalar(input_var, "input_var", nonnegative=True)
        return 0.5 * float(np.log1p(v / self.noise_var))


class UniformQuantizer:
    r"""Scalar quantizer onto ``n_levels`` equally spaced levels (nearest level).

    The levels are :math:`c_k = c_0 + \Delta\,(k - (K-1)/2)`, :math:`k = 0,\dots,K-1`; the cells
    are bounded by the mid-points, the two outer cells extend to :math:`\pm\infty`. The
    reconstruction set is finite, hence compact, so :math:`C(w^*)` of eq. (20) is finite.
    For a continuous input :math:`W`, :math:`\hat W` is a deterministic function of it and

    .. math:: I(W;\hat W) = H(\hat W) = -\sum_k p_k \ln p_k,
        \qquad p_k = F(u_k) - F(l_k),

    with :math:`F` the CDF of :math:`W` and :math:`[l_k, u_k)` the cells.

    Parameters
    ----------
    step : float
        Spacing :math:`\Delta > 0`.
    n_levels : int
        Number of levels :math:`K \ge 1`.
    center : float, default 0.0
        Centre :math:`c_0` of the level grid.

    Attributes
    ----------
    levels : ndarray of shape (n_levels,)
    edges : ndarray of shape (n_levels + 1,)
        Cell boundaries, starting at ``-inf`` and ending at ``inf``.

    References
    ----------
    Bu et al. (2021), eq. (20) for :math:`C(w^*)` and Section 5.3 (quantized reconstructions).

    Examples
    --------
    >>> q = UniformQuantizer(1.0, 3)
    >>> q.levels
    array([-1.,  0.,  1.])
    >>> q.compress([-0.7, 0.2, 5.0])
    array([-1.,  0.,  1.])
    >>> p = np.diff(stats.norm.cdf([-np.inf, -0.5, 0.5, np.inf]))
    >>> bool(np.isclose(q.entropy_gaussian(0.0, 1.0), -np.sum(p * np.log(p))))
    True
    """

    def __init__(self, step, n_levels, *, center=0.0):
        self.step = _scalar(step, "step", positive=True)
        self.n_levels = check_int(n_levels, "n_levels", low=1)
        self.center = _scalar(center, "center")
        k = np.arange(self.n_levels, dtype=float)
        self.levels = self.center + self.step * (k - (self.n_levels - 1) / 2.0)
        mids = 0.5 * (self.levels[1:] + self.levels[:-1])
        self.edges = np.concatenate([[-np.inf], mids, [np.inf]])

    def index(self, W) -> np.ndarray:
        """Index of the nearest level for every entry of ``W`` (same shape, int)."""
        W = as_finite_array(W, "W")
        k = np.rint((W - self.levels[0]) / self.step)
        return np.clip(k, 0, self.n_levels - 1).astype(np.int64)

    def compress(self, W, rng=None) -> np.ndarray:
        """Nearest level for every entry of ``W`` (``rng`` is unused: deterministic)."""
        return self.levels[self.index(W)]

    def cell_probabilities(self, cdf) -> np.ndarray:
        r"""Probabilities :math:`p_k = F(u_k) - F(l_k)` of the cells.

        Parameters
        ----------
        cdf : callable
            Maps an array of edges of shape ``(n_levels + 1,)`` to CDF values; it may
            broadcast to shape ``(..., n_levels + 1)`` (e.g. a vector of means).

        Returns
        -------
        ndarray of shape (..., n_levels)
        """
        F = np.asarray(cdf(self.edges), dtype=float)
        return np.clip(np.diff(F, axis=-1), 0.0, 1.0)

    def entropy(self, cdf):
        r"""Entropy :math:`H(\hat W)` in nats for an input with CDF ``cdf``."""
        p = self.cell_probabilities(cdf)
        h = np.sum(entr(p), axis=-1)
        return h if h.ndim else float(h)

    def entropy_gaussian(self, mean, var) -> float:
        r"""Entropy :math:`H(\hat W) = I(W;\hat W)` in nats for a Gaussian input.

        Parameters
        ----------
        mean, var : float
            Mean and variance (> 0) of :math:`W`.
        """
        mean = _scalar(mean, "mean")
        sd = float(np.sqrt(_scalar(var, "var", positive=True)))
        return self.entropy(lambda e: stats.norm.cdf(e, loc=mean, scale=sd))

    def reconstruction_radius(self, w_star) -> float:
        r""":math:`C(w^*) = \sum_j \max_k (c_k - w^{*(j)})^2`, eq. (20)."""
        return reconstruction_radius(w_star, self.levels)


class NoisyMeanLearner:
    r"""Gaussian-mean learner :math:`W = \bar Z + \mathcal N(0, \tau^2)`, with closed forms.

    Data :math:`S = (Z_1,\dots,Z_n)`, :math:`Z_i \sim \mathcal N(\theta, s^2)` i.i.d.; the
    learner releases the sample mean plus independent noise. Since :math:`W` depends on
    :math:`S` only through the sufficient statistic :math:`\bar Z \sim \mathcal N(\theta,
    s^2/n)`,

    .. math:: I(S;W) = I(\bar Z; W) = \tfrac12 \ln\Bigl(1 + \frac{s^2}{n\tau^2}\Bigr),

    infinite for the deterministic learner :math:`\tau = 0`. For the loss
    :class:`ProbitLinearLoss` the generalization error of any :math:`\hat W = q(\bar Z + \xi)`
    follows from Stein's lemma: with :math:`v = s^2/n + \tau^2`,

    .. math::

        \mathrm{gen} = E[g(\hat W)(\bar Z - \theta)] = \frac{s^2}{n}\, E[g'(W)]
        = \frac{2 s^2}{n}\, \varphi(\theta; 0, v + b^2)

    without compression (:math:`\varphi(x; m, v)` the normal density) and, for a quantizer
    with levels :math:`c_k` and cells :math:`[l_k, u_k)`,

    .. math::

        \mathrm{gen} = \frac{s^2}{n} \sum_k g(c_k)\,\bigl[\varphi(l_k;\theta, v)
        - \varphi(u_k;\theta, v)\bigr].

    Parameters
    ----------
    mean : float
        :math:`\theta`.
    data_var : float
        :math:`s^2 > 0`.
    n : int
        Sample size :math:`n \ge 1`.
    noise_var : float, default 0.0
        :math:`\tau^2 \ge 0`; 0 is the deterministic sample mean.

    References
    ----------
    Bu et al. (2021), Lemma 2 and Theorem 1 (eqs. 9-10), which this learner is built to test;
    C. M. Stein, "Estimation of the mean of a multivariate normal distribution",
    Ann. Statist. 9 (1981), Lemma 1.

    Examples
    --------
    >>> learner = NoisyMeanLearner(0.0, 1.0, 10, noise_var=0.1)
    >>> round(learner.mi_sw(), 6)  # ln(2) / 2
    0.346574
    >>> S, W = learner.sample(4, rng=0)
    >>> S.shape, W.shape
    ((4, 10), (4,))
    """

    def __init__(self, mean, data_var, n, noise_var=0.0):
        self.mean = _scalar(mean, "mean")
        self.data_var = _scalar(data_var, "data_var", positive=True)
        self.n = check_int(n, "n", low=1)
        self.noise_var = _scalar(noise_var, "noise_var", nonnegative=True)

    @property
    def mean_var(self) -> float:
        r"""Variance :math:`s^2/n` of the sample mean."""
        return self.data_var / self.n

    @property
    def weight_var(self) -> float:
        r"""Variance :math:`v = s^2/n + \tau^2` of :math:`W`."""
        return self.mean_var + self.noise_var

    def sample(self, trials, rng=None):
        """Draw ``trials`` data sets and the learner's outputs.

        Returns
        -------
        S : ndarray of shape (trials, n)
        W : ndarray of shape (trials,)
        """
        trials = check_int(trials, "trials", low=1)
        gen = as_generator(rng)
        S = self.mean + np.sqrt(self.data_var) * gen.standard_normal((trials, self.n))
        W = S.mean(axis=1) + np.sqrt(self.noise_var) * gen.standard_normal(trials)
        return S, W

    def _check_compressor(self, compressor):
        if compressor is not None and not isinstance(
            compressor, (GaussianNoiseCompressor, UniformQuantizer)
        ):
            raise ValueError(
                "compressor must be None, a GaussianNoiseCompressor or a UniformQuantizer, "
                f"got {compressor!r}"
            )

    def mi_sw(self, compressor=None, *, grid=2001) -> float:
        r""":math:`I(S;W)`, or :math:`I(S;\hat W)` for a compressor, in nats.

        For the quantizer, :math:`I(S;\hat W) = H(\hat W) - E_{\bar Z}[H(\hat W\mid\bar Z)]`;
        the outer expectation over :math:`\bar Z\sim\mathcal N(\theta, s^2/n)` is a trapezoid
        rule on ``grid`` points spanning :math:`\pm 10` standard deviations (exact to about
        machine precision for this smooth Gaussian integrand).

        Parameters
        ----------
        compressor : None, GaussianNoiseCompressor or UniformQuantizer
        grid : int, default 2001
            Quadrature points (>= 3) for the quantizer case.

        Returns
        -------
        float
        """
        self._check_compressor(compressor)
        grid = check_int(grid, "grid", low=3)
        if compressor is None:
            if self.noise_var == 0.0:
                return float("inf")
            return 0.5 * float(np.log1p(self.mean_var / self.noise_var))
        if isinstance(compressor, GaussianNoiseCompressor):
            return 0.5 * float(np.log1p(self.mean_var / (self.noise_var + compressor.noise_var)))
        h_what = self.mi_w_what(compressor)
        if self.noise_var == 0.0:
            return h_what
        sd_m = np.sqrt(self.mean_var)
        m = self.mean + sd_m * np.linspace(-10.0, 10.0, grid)
        weights = stats.norm.pdf(m, loc=self.mean, scale=sd_m)
        tau = np.sqrt(self.noise_var)
        h_cond = compressor.entropy(lambda e: stats.norm.cdf((e - m[:, None]) / tau))
        expected = np.trapezoid(weights * h_cond, m)
        # quadrature rounding can leave about -1e-16 where the information is 0
        return max(0.0, float(h_what - expected))

    def mi_w_what(self, compressor) -> float:
        r""":math:`I(W;\hat W)` in nats (:math:`H(\hat W)` for the quantizer)."""
        self._check_compressor(compressor)
        if compressor is None:
            raise ValueError("mi_w_what needs a compressor, got None")
        if isinstance(compressor, GaussianNoiseCompressor):
            return compressor.mutual_information(self.weight_var)
        return compressor.entropy_gaussian(self.mean, self.weight_var)

    def gen_error(self, loss, compressor=None) -> float:
        r"""Closed-form generalization error of :math:`W` (or :math:`\hat W`) for ``loss``.

        Parameters
        ----------
        loss : ProbitLinearLoss
        compressor : None, GaussianNoiseCompressor or UniformQuantizer

        Returns
        -------
        float
        """
        if not isinstance(loss, ProbitLinearLoss):
            raise ValueError(f"loss must be a ProbitLinearLoss, got {loss!r}")
        self._check_compressor(compressor)
        if isinstance(compressor, UniformQuantizer):
            v = self.weight_var
            dens = _normal_pdf(compressor.edges, self.mean, v)
            coef = loss.g(compressor.levels)
            return float(self.mean_var * np.sum(coef * (dens[:-1] - dens[1:])))
        extra = 0.0 if compressor is None else compressor.noise_var
        v = self.weight_var + extra + loss.scale**2
        return float(2.0 * self.mean_var * _normal_pdf(self.mean, 0.0, v))


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
    s2 = _scalar(sigma2, "sigma2", positive=True)
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
    s2 = _scalar(sigma2, "sigma2", positive=True)
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
    m = float(x.mean()) if mean is None else _scalar(mean, "mean")
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


# ----------------------------------------------------------------------------------------
# linear regression: ridge, ERM laws, Oracle closed forms
# ----------------------------------------------------------------------------------------
def ridge(X, Y, lam) -> np.ndarray:
    r"""Ridge regression :math:`W_\lambda = (XX^\top + n\lambda I)^{-1} XY`, batched.

    It minimises :math:`L_S(w) + \lambda\lVert w\rVert_2^2`, not :math:`L_S`, so
    :math:`\nabla L_S(W_\lambda) = -2\lambda W_\lambda \ne 0` and the distortion (13)
    :math:`L_S(\hat w) - L_S(W_\lambda)` can be negative.

    Parameters
    ----------
    X : array-like of shape (trials, d, n) or (d, n)
    Y : array-like of shape (trials, n) or (n,)
    lam : float
        :math:`\lambda \ge 0` (0 is the ERM when :math:`XX^\top` is invertible).

    Returns
    -------
    ndarray of shape (trials, d) or (d,)

    References
    ----------
    Bu et al. (2021), Section 4.1: eq. (13) is a distortion only for an ERM.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> ridge(X, X.T @ np.array([2.0, -1.0]), 0.0)
    array([ 2., -1.])
    """
    X = as_finite_array(X, "X", ndim=(2, 3))
    Y = as_finite_array(Y, "Y", ndim=(1, 2))
    if X.ndim - Y.ndim != 1 or X.shape[:-2] != Y.shape[:-1] or X.shape[-1] != Y.shape[-1]:
        raise ValueError(
            f"X of shape {X.shape} (trials, d, n) does not match Y of shape {Y.shape} (trials, n)"
        )
    lam = _scalar(lam, "lam", nonnegative=True)
    d, n = X.shape[-2:]
    gram = X @ np.swapaxes(X, -1, -2) + n * lam * np.eye(d)
    rhs = (X @ Y[..., None])[..., 0]
    return np.linalg.solve(gram, rhs[..., None])[..., 0]


def erm_excess_risk_distribution(d, n, noise_var=1.0):
    r"""Exact law of the excess risk :math:`(W - w^*)^\top\Sigma_X(W - w^*)` of the ERM.

    Whitening reduces to :math:`\Sigma_X = I`. Write :math:`X = U S V^\top`; then
    :math:`W - w^* = U S^{-1} V^\top\varepsilon` with :math:`g = V^\top\varepsilon/\sigma'
    \sim\mathcal N(0, I_d)` independent of :math:`X`, so
    :math:`\lVert W - w^*\rVert^2 = \sigma'^2 g^\top (XX^\top)^{-1} g`. For a Wishart
    :math:`XX^\top` with :math:`n` degrees of freedom and a fixed unit vector :math:`u`,
    :math:`1/u^\top (XX^\top)^{-1}u \sim \chi^2_{n-d+1}`, independent of the direction of
    :math:`g`; hence, with :math:`\nu = n - d + 1`,

    .. math::

        (W - w^*)^\top\Sigma_X(W - w^*) = \sigma'^2\,\frac{\chi^2_d}{\chi^2_\nu}
        = \frac{\sigma'^2 d}{\nu}\, F_{d,\nu},

    a scaled F law (independent of :math:`\Sigma_X` and :math:`w^*`). Its mean
    :math:`\sigma'^2 d/(n-d-1)` gives Lemma 3; its moment of order :math:`p` is finite iff
    :math:`p < \nu/2`, i.e. the variance is finite iff :math:`n > d + 3`.

    Parameters
    ----------
    d, n : int
        Dimension and sample size, ``n >= d`` (the ERM exists).
    noise_var : float, default 1.0

    Returns
    -------
    scipy.stats frozen distribution
        ``scipy.stats.f(d, n - d + 1, scale=noise_var * d / (n - d + 1))``.

    References
    ----------
    Bu et al. (2021), Lemma 3 and Appendix A; R. J. Muirhead, *Aspects of Multivariate
    Statistical Theory*, Wiley (1982), Theorem 3.2.12.

    Examples
    --------
    >>> dist = erm_excess_risk_distribution(50, 80)
    >>> round(float(dist.mean()), 6)  # d / (n - d - 1)
    1.724138
    """
    d = check_int(d, "d", low=1)
    n = check_int(n, "n", low=1)
    if n < d:
        raise ValueError(f"the ERM needs n >= d, got n={n}, d={d}")
    v = _scalar(noise_var, "noise_var", positive=True)
    nu = n - d + 1
    return stats.f(d, nu, scale=v * d / nu)


def erm_weight_kl(d, n) -> float:
    r"""Closed-form :math:`\mathrm{KL}(P_W \,\|\, P_{W_G})` of Remark 2 for the ERM, in nats.

    By the argument of :func:`erm_excess_risk_distribution`,
    :math:`W - w^* = \sigma'\,\Sigma_X^{-1/2} g/\sqrt{\chi^2_\nu}` with independent
    :math:`g\sim\mathcal N(0,I_d)` and :math:`\chi^2_\nu`, :math:`\nu = n-d+1`: the ERM is a
    multivariate Student t vector with :math:`\nu` degrees of freedom and scale matrix
    :math:`\Psi = (\sigma'^2/\nu)\Sigma_X^{-1}`. :math:`W_G` is the Gaussian with the same mean
    and covariance :math:`\frac{\nu}{\nu-2}\Psi`. KL is invariant under the common affine map,
    so it depends on :math:`(d, n)` only:

    .. math::

        \mathrm{KL} = \frac d2\ln\frac{2\pi e\,\nu}{\nu-2}
        - \Bigl[\frac d2\ln(\nu\pi) + \ln\frac{\Gamma(\nu/2)}{\Gamma((\nu+d)/2)}
        + \frac{\nu+d}2\Bigl(\psi\bigl(\tfrac{\nu+d}2\bigr) - \psi\bigl(\tfrac\nu2\bigr)\Bigr)
        \Bigr],

    the entropy of the Gaussian with the t law's covariance minus the entropy of the t law,
    both for the scale matrix :math:`\Psi = I_d` (:math:`\psi` is the digamma function).

    Parameters
    ----------
    d, n : int
        Dimension and sample size with ``n > d + 1`` (finite covariance).

    Returns
    -------
    float

    References
    ----------
    Bu et al. (2021), Remark 2 and Appendix D, eq. (A17). The entropy of the multivariate t
    law is in Kotz and Nadarajah (2004).

    Examples
    --------
    >>> round(erm_weight_kl(50, 80), 4)
    0.3653
    >>> erm_weight_kl(2, 1000) < 1e-5
    True
    """
    d, n = check_n_gt_d_plus_1(d, n)
    nu = n - d + 1
    h_t = (0.5 * d * np.log(np.pi) + gammaln(nu / 2) - gammaln((nu + d) / 2)
           + 0.5 * (nu + d) * (digamma((nu + d) / 2) - digamma(nu / 2)))
    h_g = 0.5 * d * np.log(2 * np.pi * np.e / (nu - 2))
    return float(max(h_g - h_t, 0.0))


def erm_weight_logpdf(w, w_star, n, *, sigma_x=None, noise_var=1.0) -> np.ndarray:
    r"""Log-density of the ERM weights, a multivariate t law (see :func:`erm_weight_kl`).

    .. math::

        \ln p_W(w) = \ln\frac{\Gamma((\nu+d)/2)}{\Gamma(\nu/2)} - \frac d2\ln(\nu\pi)
        - \frac12\ln\det\Psi - \frac{\nu+d}2\ln\Bigl(1 + \frac{\delta^\top\Psi^{-1}\delta}
        \nu\Bigr),

    :math:`\delta = w - w^*`, :math:`\Psi = (\sigma'^2/\nu)\Sigma_X^{-1}`.

    Parameters
    ----------
    w : array-like of shape (..., d)
    w_star : array-like of shape (d,)
    n : int
        Sample size, ``n >= d``.
    sigma_x : None, float, array-like of shape (d,) or (d, d), optional
    noise_var : float, default 1.0

    Returns
    -------
    ndarray of shape (...)

    References
    ----------
    Bu et al. (2021), Remark 2; Kotz and Nadarajah (2004), *Multivariate t Distributions and
    Their Applications*, Chapter 1.

    Examples
    --------
    In one dimension it is Student's t with :math:`\nu = n` and scale :math:`\sigma'/\sqrt n`:

    >>> ref = stats.t.logpdf(0.2, df=3, scale=np.sqrt(1 / 3))
    >>> bool(np.isclose(erm_weight_logpdf([0.2], [0.0], 3), ref))
    True
    """
    w_star = as_finite_array(w_star, "w_star", ndim=1)
    d = w_star.size
    w = as_finite_array(w, "w")
    if w.shape[-1:] != (d,):
        raise ValueError(f"w of shape {w.shape} does not end in d={d}")
    n = check_int(n, "n", low=d)
    v = _scalar(noise_var, "noise_var", positive=True)
    cov = covariance_matrix(sigma_x, d)
    nu = n - d + 1
    delta = w - w_star
    quad = np.einsum("...i,ij,...j->...", delta, cov, delta) * nu / v  # delta^T Psi^{-1} delta
    logdet_psi = d * np.log(v / nu) - np.linalg.slogdet(cov)[1]
    return (gammaln((nu + d) / 2) - gammaln(nu / 2) - 0.5 * d * np.log(nu * np.pi)
            - 0.5 * logdet_psi - 0.5 * (nu + d) * np.log1p(quad / nu))


def _oracle_args(d, n, D, noise_var):
    d, n = check_n_gt_d_plus_1(d, n)
    v = _scalar(noise_var, "noise_var", positive=True)
    D = check_nonnegative(D, "D")
    if np.any(D > d * v / n):
        raise ValueError(f"D must be <= d*noise_var/n = {d * v / n}, got {np.max(D)}")
    alpha = np.minimum(1.0, n * D / (d * v))  # rounding can give 1 + 2**-52 at the top
    return d, n, D, v, alpha


def oracle_gen_error(d, n, D, noise_var=1.0):
    r"""Exact generalization error of the Oracle-compressed ERM (derived for this book).

    With :math:`\hat W = (1-\alpha)W + \alpha w^* + \xi` (eq. 26), :math:`W - w^* =
    (XX^\top)^{-1}X\varepsilon` and :math:`\xi` independent of :math:`S`,

    .. math::

        \mathrm{gen}(\mu, P_{\hat W|S}) = \frac{(1-\alpha)^2\sigma'^2 d(d+1)}{n(n-d-1)}
        + \frac{2(1-\alpha)\sigma'^2 d}{n}.

    At :math:`\alpha = 0` it is Lemma 3, at :math:`\alpha = 1` (:math:`\hat W = w^*`) it is 0.
    Derivation: :math:`E[L_\mu(\hat W)]` is :func:`oracle_population_risk`, and
    :math:`E[L_S(\hat W)] = \sigma'^2 - 2(1-\alpha)\sigma'^2 d/n + (1-\alpha)^2\sigma'^2 d/n
    + (1-\alpha)D`, using :math:`E[\varepsilon^\top P\varepsilon] = \sigma'^2 d` for the
    hat matrix :math:`P` and :math:`E[\xi^\top XX^\top\xi] = n(1-\alpha)D`.

    Parameters
    ----------
    d, n : int
        ``n > d + 1``.
    D : float or array-like
        Target distortion, ``0 <= D <= d * noise_var / n``.
    noise_var : float, default 1.0

    Returns
    -------
    float or ndarray

    References
    ----------
    Bu et al. (2021), eq. (26) and Appendix C (A12); Lemma 3 (eq. 19) at :math:`\alpha = 0`.

    Examples
    --------
    >>> from infocompress.linreg import gen_error_erm
    >>> bool(np.isclose(oracle_gen_error(50, 80, 0.0), gen_error_erm(50, 80)))
    True
    >>> oracle_gen_error(50, 80, 50 / 80)
    0.0
    """
    d, n, D, v, a = _oracle_args(d, n, D, noise_var)
    out = (1 - a) ** 2 * v * d * (d + 1) / (n * (n - d - 1)) + 2 * (1 - a) * v * d / n
    return out if out.ndim else float(out)


def oracle_population_risk(d, n, D, noise_var=1.0):
    r"""Exact :math:`E[L_\mu(\hat W)]` for the Oracle-compressed ERM.

    .. math::

        E[L_\mu(\hat W)] = \sigma'^2 + (1-\alpha)^2\frac{\sigma'^2 d}{n-d-1} + (1-\alpha)D,

    from :math:`E[(W-w^*)^\top\Sigma_X(W-w^*)] = \sigma'^2 d/(n-d-1)` (Lemma 3) and
    :math:`E[\xi^\top\Sigma_X\xi] = (1-\alpha)D`; independent of :math:`\Sigma_X`.

    Parameters
    ----------
    d, n : int
        ``n > d + 1``.
    D : float or array-like
        ``0 <= D <= d * noise_var / n``.
    noise_var : float, default 1.0

    Returns
    -------
    float or ndarray

    References
    ----------
    Bu et al. (2021), eq. (26), eq. (12) and Lemma 3.

    Examples
    --------
    >>> oracle_population_risk(50, 80, 50 / 80)  # What = w*
    1.0
    """
    d, n, D, v, a = _oracle_args(d, n, D, noise_var)
    out = v + (1 - a) ** 2 * v * d / (n - d - 1) + (1 - a) * D
    return out if out.ndim else float(out)


def oracle_sigma_distortion(d, n, D, noise_var=1.0):
    r"""Oracle distortion measured with :math:`\Sigma_X` instead of :math:`\frac1n XX^\top`.

    .. math::

        D_\Sigma = E[(\hat W - W)^\top\Sigma_X(\hat W - W)]
        = \alpha^2\frac{\sigma'^2 d}{n-d-1} + (1-\alpha)D \;\ge\; D,

    the quantity the lower bound of Remark 2 actually controls (Appendix D works with
    :math:`\Sigma_X`); it exceeds the empirical distortion :math:`D` by
    :math:`\alpha^2\sigma'^2 d(d+1)/(n(n-d-1))`.

    Parameters
    ----------
    d, n : int
        ``n > d + 1``.
    D : float or array-like
        ``0 <= D <= d * noise_var / n``.
    noise_var : float, default 1.0

    Returns
    -------
    float or ndarray

    References
    ----------
    Bu et al. (2021), Appendix D, eqs. (A14)-(A17).

    Examples
    --------
    >>> oracle_sigma_distortion(50, 80, 0.0)
    0.0
    >>> round(oracle_sigma_distortion(50, 80, 50 / 80), 6)  # alpha = 1: E||W - w*||^2
    1.724138
    """
    d, n, D, v, a = _oracle_args(d, n, D, noise_var)
    out = a**2 * v * d / (n - d - 1) + (1 - a) * D
    return out if out.ndim else float(out)


def project_to_ball(w, center, radius) -> np.ndarray:
    r"""Project each row of ``w`` onto the Euclidean ball :math:`\{u: \lVert u - c\rVert \le r\}`.

    Post-processing a compressor's output this way makes the reconstruction set compact with
    :math:`C(w^*) = r^2` when :math:`c = w^*` (eq. 20), and cannot increase
    :math:`I(W;\hat W)` (data processing).

    Parameters
    ----------
    w : array-like of shape (..., d)
    center : array-like of shape (d,)
    radius : float
        :math:`r > 0`.

    Returns
    -------
    ndarray of shape (..., d)

    References
    ----------
    Bu et al. (2021), eq. (20) and Proposition 1 (compact reconstruction set).

    Examples
    --------
    >>> project_to_ball([[3.0, 4.0], [0.3, 0.4]], [0.0, 0.0], 1.0)
    array([[0.6, 0.8],
           [0.3, 0.4]])
    """
    c = as_finite_array(center, "center", ndim=1)
    w = as_finite_array(w, "w")
    if w.shape[-1:] != c.shape:
        raise ValueError(f"w of shape {w.shape} does not match center of shape {c.shape}")
    r = _scalar(radius, "radius", positive=True)
    diff = w - c
    norm = np.linalg.norm(diff, axis=-1, keepdims=True)
    inside = norm <= r
    factor = np.where(inside, 1.0, r / np.where(inside, 1.0, norm))
    return c + diff * factor
