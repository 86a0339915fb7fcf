r"""Test channels :math:`P_{\hat W|W}` used as idealised compressors.

:class:`OracleChannel` is the achievability channel (26) of Bu et al. (2021): it attains
the rate-distortion upper bound (24) for the ERM of linear regression but needs the true
weights :math:`w^*`, so it is a yardstick, not a practical algorithm.
"""

from __future__ import annotations

import numpy as np

from ._checks import (
    as_finite_array,
    as_generator,
    check_int,
    check_n_gt_d_plus_1,
    check_nonnegative,
    check_positive,
)
from .linreg import covariance_matrix

__all__ = ["OracleChannel"]


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

    def __init__(self, w_star, n, D, *, sigma_x=None, noise_var=1.0):
        self.w_star = as_finite_array(w_star, "w_star", ndim=1)
        self.d = self.w_star.size
        self.n = check_int(n, "n", low=1)
        check_n_gt_d_plus_1(self.d, self.n)
        self.noise_var = float(check_positive(noise_var, "noise_var"))
        self.D = float(check_nonnegative(D, "D"))
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
