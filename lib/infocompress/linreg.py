r"""Linear regression: the worked example of Bu et al. (2021), Section 5.

The data model is

.. math::

    Y_i = X_i^\top w^* + \varepsilon_i, \qquad X_i \sim \mathcal N(0, \Sigma_X),
    \qquad \varepsilon_i \sim \mathcal N(0, \sigma'^2), \qquad i = 1, \dots, n,

with the mean squared error loss. Inputs are stored column-wise as in the paper: ``X`` has
shape ``(trials, d, n)`` and ``Y`` shape ``(trials, n)``, so that a whole Monte-Carlo
experiment is one batched array computation. All rates are in nats.

References
----------
.. [1] Y. Bu, W. Gao, S. Zou, V. V. Veeravalli, "Population risk improvement with model
   compression: an information-theoretic approach", Entropy 23(10):1255, 2021.
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

__all__ = [
    "covariance_matrix",
    "distortion_rate_upper",
    "empirical_risk",
    "erm",
    "expected_empirical_risk_erm",
    "gen_error_bound",
    "gen_error_erm",
    "population_risk",
    "population_risk_bound",
    "rate_distortion_lower",
    "rate_distortion_upper",
    "reconstruction_radius",
    "sample_datasets",
    "waterfilling_rate_distortion",
]


def covariance_matrix(sigma_x, d: int) -> np.ndarray:
    """Return the input covariance :math:`\\Sigma_X` as a ``(d, d)`` array.

    Parameters
    ----------
    sigma_x : None, float, array-like of shape (d,) or (d, d)
        ``None`` is the identity, a scalar ``s`` is ``s * I``, a vector gives a diagonal
        covariance, a matrix must be symmetric positive definite.
    d : int
        Dimension.

    Returns
    -------
    ndarray of shape (d, d)

    Examples
    --------
    >>> covariance_matrix([1.0, 4.0], 2)
    array([[1., 0.],
           [0., 4.]])
    """
    d = check_int(d, "d", low=1)
    if sigma_x is None:
        return np.eye(d)
    s = as_finite_array(sigma_x, "sigma_x", ndim=(0, 1, 2))
    if s.ndim == 0:
        check_positive(s, "sigma_x")
        return float(s) * np.eye(d)
    if s.ndim == 1:
        if s.shape != (d,):
            raise ValueError(f"sigma_x of shape {s.shape} does not match d={d}")
        check_positive(s, "sigma_x")
        return np.diag(s)
    if s.shape != (d, d):
        raise ValueError(f"sigma_x of shape {s.shape} does not match d={d}")
    if not np.allclose(s, s.T, rtol=1e-10, atol=1e-12):
        raise ValueError("sigma_x must be symmetric")
    try:
        np.linalg.cholesky(s)
    except np.linalg.LinAlgError:
        raise ValueError("sigma_x must be positive definite") from None
    return s


def _check_w_star(w_star) -> np.ndarray:
    w = as_finite_array(w_star, "w_star", ndim=1)
    if w.size == 0:
        raise ValueError("w_star must have at least one coordinate")
    return w


def sample_datasets(w_star, n, *, trials=1, sigma_x=None, noise_var=1.0, rng=None):
    r"""Draw ``trials`` independent training sets from the linear model (16).

    Parameters
    ----------
    w_star : array-like of shape (d,)
        True weight vector :math:`w^*`.
    n : int
        Number of samples per training set.
    trials : int, default 1
        Number of independent training sets (Monte-Carlo trials).
    sigma_x : None, float, array-like of shape (d,) or (d, d), optional
        Input covariance :math:`\Sigma_X` (see :func:`covariance_matrix`); identity by default.
    noise_var : float, default 1.0
        Noise variance :math:`\sigma'^2 > 0`.
    rng : None, int or numpy.random.Generator
        Source of randomness.

    Returns
    -------
    X : ndarray of shape (trials, d, n)
        Inputs, one column per sample.
    Y : ndarray of shape (trials, n)
        Responses :math:`Y = X^\top w^* + \varepsilon`.

    Examples
    --------
    >>> X, Y = sample_datasets([1.0, -1.0], 5, trials=3, rng=0)
    >>> X.shape, Y.shape
    ((3, 2, 5), (3, 5))
    """
    w_star = _check_w_star(w_star)
    d = w_star.size
    n = check_int(n, "n", low=1)
    trials = check_int(trials, "trials", low=1)
    noise_var = float(check_positive(noise_var, "noise_var"))
    cov = covariance_matrix(sigma_x, d)
    gen = as_generator(rng)
    z = gen.standard_normal((trials, d, n))
    if sigma_x is not None:
        z = np.linalg.cholesky(cov) @ z
    eps = np.sqrt(noise_var) * gen.standard_normal((trials, n))
    y = np.einsum("d,tdn->tn", w_star, z) + eps
    return z, y


def _batch_xy(X, Y):
    X = as_finite_array(X, "X", ndim=(2, 3))
    Y = as_finite_array(Y, "Y", ndim=(1, 2))
    if X.ndim - Y.ndim != 1 or X.shape[:-2] != Y.shape[:-1] or X.shape[-1] != Y.shape[-1]:
        raise ValueError(
            f"X of shape {X.shape} (trials, d, n) does not match Y of shape {Y.shape} (trials, n)"
        )
    return X, Y


def erm(X, Y) -> np.ndarray:
    r"""Least-squares (ERM) solution :math:`W = (XX^\top)^{-1} X Y`, eq. (18), batched.

    Parameters
    ----------
    X : array-like of shape (trials, d, n) or (d, n)
    Y : array-like of shape (trials, n) or (n,)

    Returns
    -------
    ndarray of shape (trials, d) or (d,)

    Raises
    ------
    ValueError
        If ``n < d`` (then :math:`XX^\top` is singular) or the shapes do not match.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    >>> erm(X, X.T @ np.array([2.0, -1.0]))
    array([ 2., -1.])
    """
    X, Y = _batch_xy(X, Y)
    d, n = X.shape[-2:]
    if n < d:
        raise ValueError(f"ERM needs n >= d for an invertible X X^T, got n={n}, d={d}")
    gram = X @ np.swapaxes(X, -1, -2)
    rhs = (X @ Y[..., None])[..., 0]
    try:
        return np.linalg.solve(gram, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise ValueError("X X^T is singular: the rows of X (the d input coordinates) are "
                         "linearly dependent in at least one trial") from None


def empirical_risk(w, X, Y) -> np.ndarray:
    r"""Empirical risk :math:`L_S(w) = \frac1n \lVert Y - X^\top w\rVert_2^2`, eq. (17), batched.

    Parameters
    ----------
    w : array-like of shape (trials, d) or (d,)
        Weights, one vector per trial (a single vector is broadcast over trials).
    X : array-like of shape (trials, d, n) or (d, n)
    Y : array-like of shape (trials, n) or (n,)

    Returns
    -------
    ndarray of shape (trials,) or float

    Examples
    --------
    >>> X = np.array([[1.0, 2.0]]); Y = np.array([1.0, 1.0])
    >>> float(empirical_risk([1.0], X, Y))
    0.5
    """
    X, Y = _batch_xy(X, Y)
    w = as_finite_array(w, "w", ndim=(1, 2))
    if w.shape[-1] != X.shape[-2]:
        raise ValueError(f"w of shape {w.shape} does not match d={X.shape[-2]}")
    resid = Y - np.einsum("...dn,...d->...n", X, w)
    return np.mean(resid**2, axis=-1)


def population_risk(w, w_star, *, sigma_x=None, noise_var=1.0) -> np.ndarray:
    r"""Population risk :math:`L_\mu(w) = (w - w^*)^\top \Sigma_X (w - w^*) + \sigma'^2`.

    Parameters
    ----------
    w : array-like of shape (..., d)
    w_star : array-like of shape (d,)
    sigma_x : None, float, array-like of shape (d,) or (d, d), optional
    noise_var : float, default 1.0

    Returns
    -------
    ndarray of shape (...)

    Examples
    --------
    >>> float(population_risk([1.0, 1.0], [0.0, 0.0], noise_var=0.5))
    2.5
    """
    w_star = _check_w_star(w_star)
    w = as_finite_array(w, "w")
    if w.shape[-1:] != w_star.shape:
        raise ValueError(f"w of shape {w.shape} does not match w_star of shape {w_star.shape}")
    noise_var = float(check_positive(noise_var, "noise_var"))
    cov = covariance_matrix(sigma_x, w_star.size)
    diff = w - w_star
    return np.einsum("...i,ij,...j->...", diff, cov, diff) + noise_var


def expected_empirical_risk_erm(d, n, noise_var=1.0) -> float:
    r"""Expected empirical risk of the ERM, :math:`E[L_S(W)] = \sigma'^2 (n - d)/n`.

    Parameters
    ----------
    d, n : int
        Dimension and sample size, ``n >= d``.
    noise_var : float, default 1.0

    Returns
    -------
    float

    Examples
    --------
    >>> expected_empirical_risk_erm(50, 80)
    0.375
    """
    d = check_int(d, "d", low=1)
    n = check_int(n, "n", low=1)
    if n < d:
        raise ValueError(f"needs n >= d, got n={n}, d={d}")
    return float(check_positive(noise_var, "noise_var")) * (n - d) / n


def gen_error_erm(d, n, noise_var=1.0) -> float:
    r"""Exact generalization error of the ERM (Lemma 3, eq. 19).

    .. math::

        \mathrm{gen}(\mu, P_{W|S}) = \frac{\sigma'^2 d}{n}\Bigl(2 + \frac{d+1}{n-d-1}\Bigr),
        \qquad n > d + 1.

    It does not depend on :math:`\Sigma_X` or :math:`w^*`.

    Parameters
    ----------
    d, n : int
        Dimension and sample size with ``n > d + 1``.
    noise_var : float, default 1.0
        :math:`\sigma'^2`.

    Returns
    -------
    float

    Examples
    --------
    >>> round(gen_error_erm(50, 80), 6)
    2.349138
    """
    d, n = check_n_gt_d_plus_1(d, n)
    noise_var = float(check_positive(noise_var, "noise_var"))
    return noise_var * d / n * (2.0 + (d + 1) / (n - d - 1))


def gen_error_bound(mi, n, *, c_w_star, sigma_x_norm=1.0, noise_var=1.0):
    r"""Generalization bound of Proposition 1 (eq. 21) for a compressed ERM.

    .. math::

        \mathrm{gen}(\mu, P_{\hat W|S}) \le 2\,\sigma_\ell^{*2}\sqrt{\frac{I(W;\hat W)}{n}},
        \qquad \sigma_\ell^{*2} = C(w^*)\,\lVert\Sigma_X\rVert + \sigma'^2.

    Parameters
    ----------
    mi : float or array-like
        :math:`I(W;\hat W)` in nats, >= 0.
    n : int
        Sample size.
    c_w_star : float
        :math:`C(w^*) = \sup_{\hat w} \lVert \hat w - w^*\rVert_2^2` (eq. 20), >= 0; see
        :func:`reconstruction_radius`.
    sigma_x_norm : float, default 1.0
        Spectral norm :math:`\lVert\Sigma_X\rVert`.
    noise_var : float, default 1.0

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> float(gen_error_bound(4.0, 100, c_w_star=1.0))
    0.8
    """
    mi = check_nonnegative(mi, "mi")
    n = check_int(n, "n", low=1)
    c = float(check_nonnegative(c_w_star, "c_w_star"))
    s = float(check_positive(sigma_x_norm, "sigma_x_norm"))
    v = float(check_positive(noise_var, "noise_var"))
    out = 2.0 * (c * s + v) * np.sqrt(mi / n)
    return out if out.ndim else float(out)


def reconstruction_radius(w_star, levels) -> float:
    r"""Return :math:`C(w^*)` of eq. (20) for scalar quantization onto ``levels``.

    When every coordinate of :math:`\hat w` takes a value in the finite set ``levels``,
    the supremum in (20) is attained coordinate-wise:

    .. math:: C(w^*) = \sum_{j=1}^d \max_{c \in \text{levels}} (c - w^{*(j)})^2.

    Parameters
    ----------
    w_star : array-like of shape (d,)
    levels : array-like of shape (K,)
        Reconstruction levels (e.g. k-means centres).

    Returns
    -------
    float

    Examples
    --------
    >>> reconstruction_radius([0.0, 1.0], [-1.0, 1.0])
    5.0
    """
    w_star = _check_w_star(w_star)
    levels = as_finite_array(levels, "levels", ndim=1)
    if levels.size == 0:
        raise ValueError("levels must not be empty")
    return float(np.sum(np.max((levels[None, :] - w_star[:, None]) ** 2, axis=1)))


def _log_ratio(D, d, n, noise_var):
    d, n = check_n_gt_d_plus_1(d, n)
    D = check_nonnegative(D, "D")
    v = float(check_positive(noise_var, "noise_var"))
    with np.errstate(divide="ignore"):
        return d, np.log(d * v / ((n - d - 1) * D))


def rate_distortion_upper(D, d, n, noise_var=1.0):
    r"""Upper bound (24) on the rate-distortion function of the ERM, in nats.

    .. math::

        R(D) \le \frac d2 \Bigl(\ln \frac{d\sigma'^2}{(n-d-1)D}\Bigr)^+, \qquad D \ge 0.

    Parameters
    ----------
    D : float or array-like
        Distortion (increase in empirical risk), >= 0; ``D = 0`` gives ``inf``.
    d, n : int
        Dimension and sample size with ``n > d + 1``.
    noise_var : float, default 1.0

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(rate_distortion_upper(50 / 29 / 4, 50, 80), 6)
    34.657359
    """
    d, lr = _log_ratio(D, d, n, noise_var)
    out = 0.5 * d * np.maximum(lr, 0.0)
    return out if out.ndim else float(out)


def distortion_rate_upper(R, d, n, noise_var=1.0):
    r"""Upper bound (25) on the distortion-rate function of the ERM.

    .. math:: D(R) \le \frac{d\sigma'^2}{n-d-1} e^{-2R/d}, \qquad R \ge 0 \text{ (nats)}.

    Parameters
    ----------
    R : float or array-like
        Rate in nats, >= 0.
    d, n : int
        Dimension and sample size with ``n > d + 1``.
    noise_var : float, default 1.0

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(distortion_rate_upper(0.0, 50, 80), 6)
    1.724138
    """
    d, n = check_n_gt_d_plus_1(d, n)
    R = check_nonnegative(R, "R")
    v = float(check_positive(noise_var, "noise_var"))
    out = d * v / (n - d - 1) * np.exp(-2.0 * R / d)
    return out if out.ndim else float(out)


def rate_distortion_lower(D, d, n, noise_var=1.0, kl=0.0):
    r"""Approximate lower bound (27) of Remark 2 on the rate-distortion function, in nats.

    .. math::

        R(D) \gtrsim \frac d2 \Bigl(\ln\frac{d\sigma'^2}{(n-d-1)D}\Bigr)^+
        - D(P_W \,\|\, P_{W_G}),

    valid when :math:`\frac1n XX^\top` is close to :math:`\Sigma_X` (large ``n``). The value
    is returned as the formula gives it; a negative value is a vacuous bound.

    Parameters
    ----------
    D : float or array-like
        Distortion, >= 0.
    d, n : int
        Dimension and sample size with ``n > d + 1``.
    noise_var : float, default 1.0
    kl : float, default 0.0
        :math:`D(P_W \| P_{W_G})` in nats, >= 0.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> rate_distortion_lower(1.0, 50, 80, kl=0.0) == rate_distortion_upper(1.0, 50, 80)
    True
    """
    kl = float(check_nonnegative(kl, "kl"))
    d, lr = _log_ratio(D, d, n, noise_var)
    out = 0.5 * d * np.maximum(lr, 0.0) - kl
    return out if out.ndim else float(out)


def population_risk_bound(R, d, n, *, c_w_star, sigma_x_norm=1.0, noise_var=1.0):
    r"""Bound (28) of Corollary 1 on :math:`E[L_\mu(\hat W) - L_S(W)]` at rate ``R`` (nats).

    .. math::

        \min_{P_{\hat W|W}: I(W;\hat W) = R} E[L_\mu(\hat W) - L_S(W)]
        \le 2\sigma_\ell^{*2}\sqrt{\frac Rn} + \frac{d\sigma'^2}{n-d-1}e^{-2R/d}.

    Add :func:`expected_empirical_risk_erm` to obtain a bound on the expected population
    risk of the compressed model itself.

    Parameters
    ----------
    R : float or array-like
        Rate in nats, >= 0.
    d, n : int
        Dimension and sample size with ``n > d + 1``.
    c_w_star : float
        :math:`C(w^*)` of eq. (20).
    sigma_x_norm : float, default 1.0
    noise_var : float, default 1.0

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(population_risk_bound(0.0, 50, 80, c_w_star=1.0), 6)
    1.724138
    """
    R = check_nonnegative(R, "R")
    gen = gen_error_bound(R, n, c_w_star=c_w_star, sigma_x_norm=sigma_x_norm,
                          noise_var=noise_var)
    return gen + distortion_rate_upper(R, d, n, noise_var)


def waterfilling_rate_distortion(D, weight_var, data_var):
    """Water-filling lower bound on R(D) for linear regression (Gao et al. 2019).

    Re-exported from :func:`infocompress.waterfilling.waterfilling_rate_distortion`;
    see that function for the full documentation.
    """
    from .waterfilling import waterfilling_rate_distortion as _wf

    return _wf(D, weight_var, data_var)
