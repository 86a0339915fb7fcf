r"""Rate-distortion function of linear regression by reverse water-filling (Gao et al. 2019).

Setting of the theorem on the ICML 2019 slides of Gao, Liu, Wang and Oh: a linear model
:math:`f_w(x) = w^\top x`, random weights :math:`W \sim \mathcal N(0, \Sigma_W)` and inputs
with :math:`E[X] = 0`, :math:`E[X_i^2] = \lambda_i`, :math:`E[X_i X_j] = 0` for
:math:`i \ne j`. The regression distortion of a compressed model :math:`\hat w` is

.. math::

    d(w, \hat w) = E_X\bigl[(f_w(X) - f_{\hat w}(X))^2\bigr]
                 = (w - \hat w)^\top \Sigma_X (w - \hat w)
                 = \sum_i \lambda_i (w_i - \hat w_i)^2 ,

so that :math:`R(D) = \min\{ I(W; \hat W) : E[d(W, \hat W)] \le D\}` is the rate-distortion
function of a Gaussian vector under a *weighted* squared error. With
:math:`V_i = \sqrt{\lambda_i}\, W_i` the weighting disappears and the classical reverse
water-filling of independent Gaussian components (Cover & Thomas, Theorem 10.3.3) applies.

All rates are in nats.

References
----------
.. [1] W. Gao, Y.-H. Liu, C. Wang, S. Oh, "Rate distortion for model compression: from
   theory to practice", ICML 2019 (talk slides: theorem on linear regression, golden
   rules).
.. [2] T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley 2006,
   Section 10.3.3 (parallel Gaussian sources, reverse water-filling).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validation import as_finite_array, as_generator, check_nonnegative, check_real

__all__ = [
    "OptimalGaussianCompressor",
    "WaterfillingResult",
    "reverse_waterfilling",
    "waterfilling_rate_distortion",
]


class WaterfillingResult(NamedTuple):
    """Output of :func:`waterfilling_rate_distortion` (a named tuple).

    Attributes
    ----------
    rate : float or ndarray of shape (m,)
        Lower bound on :math:`R(D)` in nats (exact when :math:`\\Sigma_W` is diagonal).
    distortions : ndarray of shape (d,) or (m, d)
        Per-coordinate weight distortions :math:`D_i = E[(W_i - \\hat W_i)^2]` of the
        optimal allocation; they satisfy :math:`\\sum_i \\lambda_i D_i = \\min(D, \\sum_i
        \\lambda_i \\sigma_i^2)`.
    level : float or ndarray of shape (m,)
        Water level :math:`\\mu` (in units of output variance): :math:`\\lambda_i D_i =
        \\min(\\mu, \\lambda_i \\sigma_i^2)`.
    """

    rate: float | np.ndarray
    distortions: np.ndarray
    level: float | np.ndarray


# ----------------------------------------------------------------------------------------
# core: reverse water-filling over component variances
# ----------------------------------------------------------------------------------------
def _waterlevel(nu: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Water level theta with sum_i min(theta, nu_i) = min(D, sum nu); vectorised over D.

    nu has shape (d,) (positive), D shape (m,) (>= 0). Returns shape (m,). For
    D >= sum(nu) the level is max(nu) (every component is dropped).
    """
    v = np.sort(nu)
    d = v.size
    csum = np.concatenate([[0.0], np.cumsum(v)])  # csum[k] = sum of the k smallest
    # G[k] = sum_i min(v_k, nu_i): the distortion reached when the level equals v_k.
    G = csum[:-1] + (d - np.arange(d)) * v
    k = np.searchsorted(G, D, side="right")  # number of saturated components
    k = np.minimum(k, d - 1)
    theta = (D - csum[k]) / (d - k)
    full = D >= csum[-1]
    return np.where(full, v[-1], theta)


def reverse_waterfilling(variances, D):
    r"""Reverse water-filling for independent Gaussian components under sum squared error.

    For :math:`V_i \sim \mathcal N(0, \nu_i)` independent and distortion
    :math:`E\lVert V - \hat V \rVert^2 \le D`,

    .. math::

        R(D) = \sum_i \frac12 \ln \frac{\nu_i}{D_i'}, \qquad
        D_i' = \min(\theta, \nu_i), \qquad \sum_i D_i' = D ,

    for :math:`0 < D < \sum_i \nu_i`; :math:`R(D) = 0` with :math:`D_i' = \nu_i` for
    :math:`D \ge \sum_i \nu_i`, and :math:`R(0) = \infty`.

    Parameters
    ----------
    variances : array-like of shape (d,)
        Component variances :math:`\nu_i > 0`.
    D : float or array-like of shape (m,)
        Distortion(s), >= 0.

    Returns
    -------
    rate : float or ndarray of shape (m,)
        :math:`R(D)` in nats.
    component_distortions : ndarray of shape (d,) or (m, d)
        :math:`D_i'`.
    level : float or ndarray of shape (m,)
        Water level :math:`\theta`.

    Raises
    ------
    ValueError
        If ``variances`` is not a non-empty 1-D array of finite positive numbers or ``D``
        is negative, NaN or infinite, or has more than one dimension.

    References
    ----------
    Cover & Thomas (2006), Theorem 10.3.3.

    Examples
    --------
    >>> rate, Di, level = reverse_waterfilling([4.0, 1.0], 1.0)
    >>> Di.tolist(), level
    ([0.5, 0.5], 0.5)
    >>> round(rate, 6)  # 0.5 ln(4 / 0.5) + 0.5 ln(1 / 0.5) = ln 4
    1.386294
    """
    nu = _check_variances(variances, "variances")
    D_arr = _check_D(D)
    rate, Di, level = _reverse_waterfilling(nu, D_arr)
    if np.ndim(D) == 0:
        return float(rate[0]), Di[0], float(level[0])
    return rate, Di, level


def _reverse_waterfilling(nu: np.ndarray, D: np.ndarray):
    theta = _waterlevel(nu, D)
    Di = np.minimum(theta[:, None], nu[None, :])
    with np.errstate(divide="ignore"):
        logs = np.where(Di > 0, np.log(nu[None, :] / np.where(Di > 0, Di, 1.0)), np.inf)
    rate = 0.5 * logs.sum(axis=1)
    return rate, Di, theta


# ----------------------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------------------
def _check_variances(x, name: str) -> np.ndarray:
    arr = as_finite_array(x, name, ndim=1)
    if arr.size == 0:
        raise ValueError(f"{name} must have at least one entry")
    if np.any(arr <= 0):
        bad = int(np.flatnonzero(arr <= 0)[0])
        raise ValueError(f"{name} must be > 0; entry {bad} is {arr[bad]}")
    return arr


def _check_D(D) -> np.ndarray:
    arr = check_nonnegative(D, "D")
    if arr.ndim > 1:
        raise ValueError(f"D must be a scalar or a 1-D array, got shape {arr.shape}")
    return np.atleast_1d(arr).astype(float)


def _check_weight_cov(weight_var, d: int):
    """Return (diagonal variances, log det Sigma_W, is_diagonal)."""
    s = as_finite_array(weight_var, "weight_var", ndim=(1, 2))
    if s.ndim == 1:
        if s.shape != (d,):
            raise ValueError(
                f"weight_var of shape {s.shape} must match data_var of shape ({d},)"
            )
        s = _check_variances(s, "weight_var")
        return s, float(np.sum(np.log(s))), True
    if s.shape != (d, d):
        raise ValueError(f"weight_var of shape {s.shape} must be ({d}, {d}) to match data_var")
    asym = float(np.max(np.abs(s - s.T)))
    if asym > 1e-10 * max(1.0, float(np.max(np.abs(s)))):
        raise ValueError(f"weight_var must be symmetric, got max |S - S.T| = {asym:.3g}")
    try:
        chol = np.linalg.cholesky(0.5 * (s + s.T))
    except np.linalg.LinAlgError:
        raise ValueError("weight_var must be positive definite") from None
    diag = np.diag(s).copy()
    off = s - np.diag(diag)
    return diag, float(2.0 * np.sum(np.log(np.diag(chol)))), not np.any(off)


# ----------------------------------------------------------------------------------------
# the bound of Gao et al.
# ----------------------------------------------------------------------------------------
def waterfilling_rate_distortion(D, weight_var, data_var) -> WaterfillingResult:
    r"""Water-filling bound on the rate-distortion function of linear regression.

    Theorem of Gao, Liu, Wang and Oh (ICML 2019): for :math:`f_w(x) = w^\top x`,
    :math:`W \sim \mathcal N(0, \Sigma_W)` and zero-mean, uncorrelated inputs with
    :math:`E[X_i^2] = \lambda_i`, under the distortion
    :math:`E[(W - \hat W)^\top \Sigma_X (W - \hat W)]`,

    .. math::

        R(D) \ge B(D) = \frac12 \ln\det\Sigma_W - \sum_{i=1}^d \frac12 \ln D_i,
        \qquad
        D_i = \begin{cases} \mu/\lambda_i & \text{if } \mu < \lambda_i \sigma_i^2, \\
                            \sigma_i^2 & \text{if } \mu \ge \lambda_i \sigma_i^2,
              \end{cases}

    where :math:`\sigma_i^2 = E[W_i^2] = (\Sigma_W)_{ii}` and the water level :math:`\mu` is
    chosen so that :math:`\sum_i \lambda_i D_i = D`. Equivalently :math:`\lambda_i D_i =
    \min(\mu, \lambda_i\sigma_i^2)` is reverse water-filling on the output variances
    :math:`\nu_i = \lambda_i \sigma_i^2` of :math:`V_i = \sqrt{\lambda_i} W_i`.

    * Diagonal :math:`\Sigma_W` (``weight_var`` a vector): the bound is tight,
      :math:`R(D) = \sum_i \frac12 \ln(\sigma_i^2 / D_i)`, attained by
      :class:`OptimalGaussianCompressor`.
    * Full :math:`\Sigma_W` (``weight_var`` a matrix): the same :math:`D_i` (computed from
      the diagonal) give :math:`B(D) = \sum_i \frac12\ln(\sigma_i^2/D_i) - TC(W)` with the
      total correlation :math:`TC(W) = \frac12(\sum_i \ln\sigma_i^2 - \ln\det\Sigma_W) \ge
      0`; it is still a lower bound (it follows from
      :math:`h(W \mid \hat W) \le \sum_i \frac12 \ln(2\pi e \min(D_i, \sigma_i^2))`) but in
      general not tight. We return :math:`\max(B(D), 0)`, since a rate is non-negative.

    Parameters
    ----------
    D : float or array-like of shape (m,)
        Expected distortion :math:`E[(W - \hat W)^\top \Sigma_X (W - \hat W)] \ge 0`.
        ``D = 0`` gives rate ``inf`` and :math:`D_i = 0`; ``D >= sum(data_var *
        diag(weight_var))`` gives rate 0 and :math:`D_i = \sigma_i^2`.
    weight_var : array-like of shape (d,) or (d, d)
        Prior variances :math:`\sigma_i^2 > 0` of the weights, or a full symmetric
        positive definite covariance :math:`\Sigma_W`.
    data_var : array-like of shape (d,)
        Input second moments :math:`\lambda_i = E[X_i^2] > 0`.

    Returns
    -------
    WaterfillingResult
        Named tuple ``(rate, distortions, level)``: the bound in nats (float, or shape
        (m,) for a vector of ``D``), the :math:`D_i` (shape (d,) or (m, d)) and the water
        level :math:`\mu`.

    Raises
    ------
    ValueError
        If ``D`` is negative or not finite, ``weight_var``/``data_var`` have mismatched
        shapes, non-positive or non-finite entries, or ``weight_var`` is a matrix that is
        not symmetric positive definite.

    See Also
    --------
    OptimalGaussianCompressor : the test channel that attains the bound.
    reverse_waterfilling : the same computation on the component variances.

    References
    ----------
    W. Gao, Y.-H. Liu, C. Wang, S. Oh (2019), theorem on linear regression (talk slides);
    Cover & Thomas (2006), Theorem 10.3.3.

    Examples
    --------
    Equal output variances share the distortion equally:
    :math:`R = \frac d2 \ln(d\,\lambda\sigma^2 / D)`.

    >>> res = waterfilling_rate_distortion(0.5, [1.0, 1.0], [1.0, 1.0])
    >>> round(res.rate, 6)  # (2/2) ln(2 * 1 / 0.5) = ln 4
    1.386294
    >>> res.distortions.tolist()
    [0.25, 0.25]

    A component whose output variance lies below the water level is dropped:

    >>> res = waterfilling_rate_distortion(5.0, [1.0, 1.0], [10.0, 1.0])
    >>> res.level, res.distortions.tolist(), round(res.rate, 6)  # 0.5 ln(1 / 0.4)
    (4.0, [0.4, 1.0], 0.458145)
    """
    lam = _check_variances(data_var, "data_var")
    sig2, logdet, is_diag = _check_weight_cov(weight_var, lam.size)
    D_arr = _check_D(D)
    return _waterfilling(D_arr, sig2, lam, logdet, is_diag, scalar=np.ndim(D) == 0)


def _waterfilling(D, sig2, lam, logdet, is_diag, *, scalar):
    nu = lam * sig2
    rate, Dp, level = _reverse_waterfilling(nu, D)
    # dropped components get exactly sigma_i^2 (no rounding through nu_i / lambda_i)
    Di = np.where(Dp >= nu[None, :], sig2[None, :], Dp / lam[None, :])
    if not is_diag:
        tc = 0.5 * (float(np.sum(np.log(sig2))) - logdet)
        rate = np.maximum(rate - tc, 0.0)
    if scalar:
        return WaterfillingResult(float(rate[0]), Di[0], float(level[0]))
    return WaterfillingResult(rate, Di, level)


# ----------------------------------------------------------------------------------------
# the compressor that attains the bound
# ----------------------------------------------------------------------------------------
class OptimalGaussianCompressor:
    r"""The Gaussian test channel that attains the water-filling bound.

    For each coordinate, with :math:`D_i` from :func:`waterfilling_rate_distortion`, the
    *backward* channel is :math:`W_i = \hat W_i + Z_i` with
    :math:`\hat W_i \sim \mathcal N(0, \sigma_i^2 - D_i)` and
    :math:`Z_i \sim \mathcal N(0, D_i)` independent. The equivalent *forward* channel,
    used by :meth:`sample`, is

    .. math::

        \hat W_i = a_i W_i + N_i, \qquad a_i = 1 - \frac{D_i}{\sigma_i^2}, \qquad
        N_i \sim \mathcal N(0, a_i D_i),

    independently over coordinates. Then :math:`E[(W_i - \hat W_i)^2] = D_i`,
    :math:`E[\hat W_i (W_i - \hat W_i)] = 0` (orthogonality), and

    .. math::

        I(W; \hat W) = \sum_i \frac12 \ln \frac{\sigma_i^2}{D_i}, \qquad
        E[(W - \hat W)^\top \Sigma_X (W - \hat W)] = \sum_i \lambda_i D_i = D .

    Coordinates with :math:`D_i = \sigma_i^2` are dropped (:math:`\hat W_i = 0`).

    Parameters
    ----------
    weight_var : array-like of shape (d,)
        Prior variances :math:`\sigma_i^2 > 0` of independent Gaussian weights.
    data_var : array-like of shape (d,)
        Input second moments :math:`\lambda_i > 0`.
    D : float
        Target distortion, >= 0.

    Attributes
    ----------
    distortions : ndarray of shape (d,)
        :math:`D_i`.
    gain : ndarray of shape (d,)
        :math:`a_i`.
    noise_var : ndarray of shape (d,)
        :math:`a_i D_i`, the variance of the forward-channel noise.
    level : float
        Water level :math:`\mu`.

    References
    ----------
    Gao et al. (2019), tightness of the linear-regression bound; Cover & Thomas (2006),
    Section 10.3.

    Examples
    --------
    >>> comp = OptimalGaussianCompressor([1.0, 1.0], [1.0, 1.0], 0.5)
    >>> comp.gain.tolist(), comp.noise_var.tolist()
    ([0.75, 0.75], [0.1875, 0.1875])
    >>> round(comp.mutual_information(), 6)  # ln(sigma^2 / D_i) summed: 2 * 0.5 ln 4
    1.386294
    >>> comp.sample(np.zeros((3, 2)), rng=0).shape
    (3, 2)
    """

    def __init__(self, weight_var, data_var, D):
        lam = _check_variances(data_var, "data_var")
        sig2 = as_finite_array(weight_var, "weight_var")
        if sig2.ndim != 1:
            raise ValueError(
                f"weight_var must be a vector of variances of shape ({lam.size},), got "
                f"shape {sig2.shape}"
            )
        sig2, logdet, _ = _check_weight_cov(sig2, lam.size)
        D = check_real(D, "D", nonnegative=True)
        res = _waterfilling(np.array([D]), sig2, lam, logdet, True, scalar=True)
        self.weight_var = sig2
        self.data_var = lam
        self.D = D
        self.distortions = res.distortions
        self.level = res.level
        self._rate = res.rate
        self.gain = 1.0 - self.distortions / sig2
        self.noise_var = self.gain * self.distortions

    @property
    def d(self) -> int:
        """Dimension."""
        return self.weight_var.size

    def sample(self, W, rng=None) -> np.ndarray:
        r"""Compress weights through the forward channel.

        Parameters
        ----------
        W : array-like of shape (d,) or (trials, d)
            Weights to compress (one row per Monte-Carlo trial).
        rng : None, int or numpy.random.Generator
            Source of the channel noise.

        Returns
        -------
        ndarray of the shape of ``W``
            :math:`\hat W = a \odot W + N`.
        """
        W = as_finite_array(W, "W", ndim=(1, 2))
        if W.shape[-1] != self.d:
            raise ValueError(f"W must have last dimension d={self.d}, got shape {W.shape}")
        gen = as_generator(rng)
        noise = gen.standard_normal(W.shape) * np.sqrt(self.noise_var)
        return self.gain * W + noise

    def sample_weights(self, trials, rng=None) -> np.ndarray:
        r"""Draw ``trials`` weight vectors from the prior :math:`\mathcal N(0, \mathrm{diag}
        \,\sigma^2)`.

        Parameters
        ----------
        trials : int
            Number of rows, >= 1.
        rng : None, int or numpy.random.Generator

        Returns
        -------
        ndarray of shape (trials, d)
        """
        if isinstance(trials, bool) or not isinstance(trials, (int, np.integer)) or trials < 1:
            raise ValueError(f"trials must be a positive integer, got {trials!r}")
        gen = as_generator(rng)
        return gen.standard_normal((int(trials), self.d)) * np.sqrt(self.weight_var)

    def mutual_information(self) -> float:
        r""":math:`I(W; \hat W) = \sum_i \frac12\ln(\sigma_i^2/D_i)` in nats (``inf`` if D=0).

        Returns
        -------
        float
        """
        return self._rate

    def distortion(self) -> float:
        r"""Expected distortion :math:`\sum_i \lambda_i D_i` (equals ``min(D, total)``).

        Returns
        -------
        float
        """
        return float(np.sum(self.data_var * self.distortions))
