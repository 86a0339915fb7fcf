r"""Linear regression: the worked example of Bu et al. (2021), Section 5.

The data model is

.. math::

    Y_i = X_i^\top w^* + \varepsilon_i, \qquad X_i \sim \mathcal N(0, \Sigma_X),
    \qquad \varepsilon_i \sim \mathcal N(0, \sigma'^2), \qquad i = 1, \dots, n,

with the mean squared error loss. Inputs are stored column-wise as in the paper: ``X`` has
shape ``(trials, d, n)`` and ``Y`` shape ``(trials, n)``, so that a whole Monte-Carlo
experiment is one batched array computation. All rates are in nats.

Besides the paper's formulas (Lemma 3, Propositions 1-2, Remark 2, Corollary 1, eqs.
(24)-(27)), the module holds closed forms derived for this book: the exact law of the
ERM's excess risk (:func:`erm_excess_risk_distribution`), the multivariate Student t law of
the ERM weights and the KL divergence of Remark 2 (:func:`erm_weight_kl`,
:func:`erm_weight_logpdf`); a ridge learner (:func:`ridge`), which does not minimise the
empirical risk, so that the distortion (13) can be negative; and :func:`project_to_ball`,
which makes a reconstruction set compact.

References
----------
.. [1] Y. Bu, W. Gao, S. Zou, V. V. Veeravalli, "Population risk improvement with model
   compression: an information-theoretic approach", Entropy 23(10):1255, 2021.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.special import digamma, gammaln

from ._validation import (
    ArrayLike,
    as_finite_array,
    as_generator,
    check_int,
    check_n_gt_d_plus_1,
    check_nonnegative,
    check_positive,
    check_real,
    validate_params,
)

__all__ = [
    "covariance_matrix",
    "distortion_rate_upper",
    "empirical_risk",
    "erm",
    "erm_excess_risk_distribution",
    "erm_weight_kl",
    "erm_weight_logpdf",
    "expected_empirical_risk_erm",
    "gen_error_bound",
    "gen_error_erm",
    "population_risk",
    "population_risk_bound",
    "project_to_ball",
    "rate_distortion_lower",
    "rate_distortion_upper",
    "reconstruction_radius",
    "ridge",
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
    noise_var = check_real(noise_var, "noise_var", positive=True)
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


@validate_params(X=ArrayLike(nonempty=True))
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


@validate_params(X=ArrayLike(nonempty=True))
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
    noise_var = check_real(noise_var, "noise_var", positive=True)
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
    return check_real(noise_var, "noise_var", positive=True) * (n - d) / n


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
    noise_var = check_real(noise_var, "noise_var", positive=True)
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
    c = check_real(c_w_star, "c_w_star", nonnegative=True)
    s = check_real(sigma_x_norm, "sigma_x_norm", positive=True)
    v = check_real(noise_var, "noise_var", positive=True)
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
    v = check_real(noise_var, "noise_var", positive=True)
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
    v = check_real(noise_var, "noise_var", positive=True)
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
    kl = check_real(kl, "kl", nonnegative=True)
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


# ----------------------------------------------------------------------------------------
# linear regression: ridge, ERM laws, Oracle closed forms
# ----------------------------------------------------------------------------------------
@validate_params(X=ArrayLike(nonempty=True))
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
    lam = check_real(lam, "lam", nonnegative=True)
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
    v = check_real(noise_var, "noise_var", positive=True)
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


@validate_params(w_star=ArrayLike(ndim=1, nonempty=True))
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
    v = check_real(noise_var, "noise_var", positive=True)
    cov = covariance_matrix(sigma_x, d)
    nu = n - d + 1
    delta = w - w_star
    quad = np.einsum("...i,ij,...j->...", delta, cov, delta) * nu / v  # delta^T Psi^{-1} delta
    logdet_psi = d * np.log(v / nu) - np.linalg.slogdet(cov)[1]
    return (gammaln((nu + d) / 2) - gammaln(nu / 2) - 0.5 * d * np.log(nu * np.pi)
            - 0.5 * logdet_psi - 0.5 * (nu + d) * np.log1p(quad / nu))


@validate_params(w=ArrayLike(nonempty=True))
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
    r = check_real(radius, "radius", positive=True)
    diff = w - c
    norm = np.linalg.norm(diff, axis=-1, keepdims=True)
    inside = norm <= r
    factor = np.where(inside, 1.0, r / np.where(inside, 1.0, norm))
    return c + diff * factor
