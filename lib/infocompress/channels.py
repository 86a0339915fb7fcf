r"""Channels :math:`P_{\hat W|W}` and :math:`P_{W|S}` with computable information.

Every channel draws its output with ``sample(W, rng=None)`` (the learner
:class:`NoisyMeanLearner`, a channel from data to weights, with ``sample(trials,
rng=None)``), and carries its closed forms as methods:

* :class:`OracleChannel` -- the achievability channel (26) of Bu et al. (2021): it attains
  the rate-distortion upper bound (24) for the ERM of linear regression but needs the true
  weights :math:`w^*`, so it is a yardstick, not a practical algorithm. Its exact
  generalization error and population risk are :func:`oracle_gen_error` and
  :func:`oracle_population_risk` (also its methods ``gen_error`` and
  ``population_risk``), and :func:`oracle_sigma_distortion` its distortion in the
  covariance-weighted norm;
* :class:`GaussianNoiseCompressor` -- additive Gaussian noise, with
  :math:`I(W;\hat W)` in closed form for Gaussian :math:`W`;
* :class:`UniformQuantizer` -- a uniform scalar quantizer with finitely many levels, for
  which :math:`I(W;\hat W) = H(\hat W)`;
* :class:`NoisyMeanLearner` -- the Gaussian-mean learner :math:`W = \bar Z +
  \mathcal N(0, \tau^2)` of the theory chapters, whose generalization error with the loss
  :class:`~infocompress.generalization.ProbitLinearLoss` and whose mutual informations
  :math:`I(S;W)`, :math:`I(W;\hat W)` are known exactly.

All mutual informations and entropies are in nats.

References
----------
.. [1] Y. Bu, W. Gao, S. Zou, V. V. Veeravalli, "Population risk improvement with model
   compression: an information-theoretic approach", Entropy 23(10):1255, 2021.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import entr

from ._validation import (
    ArrayLike,
    as_finite_array,
    as_generator,
    check_int,
    check_n_gt_d_plus_1,
    check_nonnegative,
    check_real,
    validate_params,
)
from .generalization import ProbitLinearLoss
from .linreg import covariance_matrix, reconstruction_radius

__all__ = [
    "GaussianNoiseCompressor",
    "NoisyMeanLearner",
    "OracleChannel",
    "UniformQuantizer",
    "oracle_gen_error",
    "oracle_population_risk",
    "oracle_sigma_distortion",
]


class OracleChannel:
    r"""The Oracle compressor of Bu et al. (2021), eq. (26).

    .. math::

        P_{\hat W|W} = \mathcal N\bigl((1-\alpha) W + \alpha w^*,\;
        (1-\alpha)\tfrac Dd \Sigma_X^{-1}\bigr), \qquad
        \alpha = \frac{nD}{d\sigma'^2} \le 1.

    For the ERM of linear regression its expected distortion
    :math:`E[(\hat W - W)^\top \tfrac1n XX^\top (\hat W - W)]` equals ``D`` exactly (A12).

    Parameters
    ----------
    w_star : array-like of shape (d,)
        True weights.
    n : int
        Training-set size, ``n > d + 1``.
    D : float
        Target distortion, ``0 <= D <= d * noise_var / n``.
    sigma_x : None, float, array-like of shape (d,) or (d, d), optional
        Input covariance (identity by default).
    noise_var : float, default 1.0
        :math:`\sigma'^2`.

    Attributes
    ----------
    alpha : float
        Shrinkage towards :math:`w^*`.
    d : int
        Dimension.

    References
    ----------
    Bu et al. (2021), eq. (26) and Appendix C.

    Examples
    --------
    >>> ch = OracleChannel(np.zeros(50), 80, 0.5)
    >>> round(ch.alpha, 6)
    0.8
    >>> round(ch.gaussian_mi(), 6)
    13.113112
    """

    @validate_params(w_star=ArrayLike(ndim=1, nonempty=True))
    def __init__(self, w_star, n, D, *, sigma_x=None, noise_var=1.0):
        self.w_star = as_finite_array(w_star, "w_star", ndim=1)
        self.d = self.w_star.size
        self.n = check_int(n, "n", low=1)
        check_n_gt_d_plus_1(self.d, self.n)
        self.noise_var = check_real(noise_var, "noise_var", positive=True)
        self.D = check_real(D, "D", nonnegative=True)
        d_max = self.d * self.noise_var / self.n
        if self.D > d_max:
            raise ValueError(
                f"D={self.D} exceeds d*noise_var/n={d_max}: alpha = nD/(d noise_var) must be <= 1"
            )
        # clip: at D = d*noise_var/n rounding can give 1 + 2**-52
        self.alpha = min(1.0, self.n * self.D / (self.d * self.noise_var))
        self.sigma_x = covariance_matrix(sigma_x, self.d)
        # Cholesky factor of the noise covariance (1 - alpha) D / d * Sigma_X^{-1}
        self._noise_chol = np.linalg.cholesky(np.linalg.inv(self.sigma_x)) * np.sqrt(
            (1.0 - self.alpha) * self.D / self.d
        )

    def sample(self, W, rng=None) -> np.ndarray:
        r"""Draw :math:`\hat W \sim P_{\hat W|W}` for each row of ``W``.

        Parameters
        ----------
        W : array-like of shape (..., d)
            Original weights (e.g. ERM solutions of many trials).
        rng : None, int or numpy.random.Generator

        Returns
        -------
        ndarray of shape (..., d)
        """
        W = as_finite_array(W, "W")
        if W.shape[-1:] != (self.d,):
            raise ValueError(f"W of shape {W.shape} does not end in d={self.d}")
        gen = as_generator(rng)
        xi = gen.standard_normal(W.shape) @ self._noise_chol.T
        return (1.0 - self.alpha) * W + self.alpha * self.w_star + xi

    def gaussian_mi(self) -> float:
        r"""Closed-form :math:`I(W_G; \hat W)` for the Gaussian surrogate, in nats.

        :math:`W_G \sim \mathcal N(w^*, \tfrac{\sigma'^2}{n-d-1}\Sigma_X^{-1})` has the mean and
        covariance of the ERM; since signal and channel noise are both proportional to
        :math:`\Sigma_X^{-1}`,

        .. math::

            I(W_G; \hat W) = \frac d2 \ln\Bigl(1 + \frac{(1-\alpha)\,d\,\sigma'^2}{(n-d-1)D}\Bigr)
            = \frac d2 \ln\Bigl(\frac{d\sigma'^2}{(n-d-1)D} - \frac{n}{n-d-1} + 1\Bigr),

        the middle line of (A13). It upper-bounds :math:`I(W;\hat W)` (a Gaussian input
        maximises the information through an additive Gaussian channel of given covariance)
        and is itself below the bound (24). ``D = 0`` gives ``inf``.

        Returns
        -------
        float
        """
        if self.D == 0.0:
            return float("inf")
        if self.alpha >= 1.0:
            return 0.0
        snr = (1.0 - self.alpha) * self.d * self.noise_var / ((self.n - self.d - 1) * self.D)
        return 0.5 * self.d * float(np.log1p(snr))

    def mutual_information(self) -> float:
        """The channel's information in nats: :meth:`gaussian_mi` (the common name of every
        channel of this module)."""
        return self.gaussian_mi()

    def gen_error(self) -> float:
        """Exact generalization error of the compressed ERM, :func:`oracle_gen_error`.

        Examples
        --------
        >>> OracleChannel(np.zeros(50), 80, 50 / 80).gen_error()
        0.0
        """
        return oracle_gen_error(self.d, self.n, self.D, self.noise_var)

    def population_risk(self) -> float:
        r"""Exact expected population risk of the compressed ERM,
        :func:`oracle_population_risk` (independent of :math:`\Sigma_X`)."""
        return oracle_population_risk(self.d, self.n, self.D, self.noise_var)


def _normal_pdf(x, mean, var):
    """Gaussian density that returns 0 at +/- inf (used with infinite cell edges)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        out = np.exp(-0.5 * (x - mean) ** 2 / var) / np.sqrt(2.0 * np.pi * var)
    return np.where(np.isfinite(x), out, 0.0)


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
        self.noise_var = check_real(noise_var, "noise_var", positive=True)

    def compress(self, W, rng=None) -> np.ndarray:
        """Return ``W`` plus independent Gaussian noise of variance ``noise_var``."""
        W = as_finite_array(W, "W")
        gen = as_generator(rng)
        return W + np.sqrt(self.noise_var) * gen.standard_normal(W.shape)

    def sample(self, W, rng=None) -> np.ndarray:
        r"""Draw :math:`\hat W \sim P_{\hat W|W}`: :meth:`compress` under the common name of
        every channel of this module."""
        return self.compress(W, rng=rng)

    def mutual_information(self, input_var) -> float:
        r"""Closed-form :math:`I(W;\hat W)` in nats for :math:`W \sim \mathcal N(\cdot, v)`."""
        v = check_real(input_var, "input_var", nonnegative=True)
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
        self.step = check_real(step, "step", positive=True)
        self.n_levels = check_int(n_levels, "n_levels", low=1)
        self.center = check_real(center, "center")
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

    def sample(self, W, rng=None) -> np.ndarray:
        r"""Draw :math:`\hat W \sim P_{\hat W|W}`: :meth:`compress` under the common name of
        every channel of this module."""
        return self.compress(W, rng=rng)

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
        mean = check_real(mean, "mean")
        sd = float(np.sqrt(check_real(var, "var", positive=True)))
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
    :class:`~infocompress.generalization.ProbitLinearLoss` the generalization error of any
    :math:`\hat W = q(\bar Z + \xi)`
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
        self.mean = check_real(mean, "mean")
        self.data_var = check_real(data_var, "data_var", positive=True)
        self.n = check_int(n, "n", low=1)
        self.noise_var = check_real(noise_var, "noise_var", nonnegative=True)

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


def _oracle_args(d, n, D, noise_var):
    d, n = check_n_gt_d_plus_1(d, n)
    v = check_real(noise_var, "noise_var", positive=True)
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
