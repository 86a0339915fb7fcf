"""The LC algorithm on least-squares regression, where every step is exact.

For the loss :math:`L(w) = \\frac1n\\|y - Xw\\|^2` the L step is a linear solve,

.. math::

    \\Big(\\tfrac{2}{n}X^\\top X + \\mu I\\Big)\\, w = \\tfrac{2}{n}X^\\top y + \\mu\\, t,

(the gradient of :math:`L` is :math:`\\frac2n X^\\top(Xw - y)`), so the LC path, direct
compression, iterated direct compression and -- for binarization, pruning and small fixed
codebooks -- the true constrained optimum (by enumeration) can all be computed and compared.
Every function accepts one problem (``X`` of shape ``(n, d)``) or a batch of independent
problems (``X`` of shape ``(B, n, d)``), vectorised over the batch.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import (
    as_finite_array,
    as_generator,
    check_int,
    check_nonnegative,
    check_real,
)
from ..progress import progress_bar
from .algorithm import check_mus, iterated_direct_compression, lc_algorithm
from .compression import Binarization, Compression, FixedCodebook, Pruning

__all__ = [
    "LSResult",
    "idc_least_squares",
    "lc_least_squares",
    "least_squares_gd_l_step",
    "least_squares_l_step",
    "least_squares_loss",
    "least_squares_optimum",
    "random_least_squares",
]

#: largest number of candidate feasible patterns enumerated by least_squares_optimum
MAX_ENUMERATION = 2**20


def random_least_squares(n_problems, n, d, rho, *, noise=0.5, rng=None):
    r"""A batch of random least-squares problems with equicorrelated Gaussian inputs.

    Each problem has ``n`` inputs :math:`x_i \sim \mathcal N(0, C)` with
    :math:`C = \rho\,\mathbf 1\mathbf 1^\top + (1-\rho) I_d` (every pair of features has
    correlation :math:`\rho`), its own true weights :math:`w \sim \mathcal N(0, I_d)` and
    targets :math:`y_i = x_i^\top w + \text{noise}\cdot\varepsilon_i`. Correlated features
    make the compressed optimum differ from the compressed reference, which is what the LC
    chapters study.

    Parameters
    ----------
    n_problems : int
        Batch size B, >= 1.
    n, d : int
        Examples and features per problem, >= 1.
    rho : float
        Feature correlation, ``0 <= rho < 1``.
    noise : float, default 0.5
        Standard deviation of the target noise, >= 0.
    rng : None, int or numpy.random.Generator
        Draws, in this order: the inputs, the true weights, the noise.

    Returns
    -------
    X : ndarray of shape (n_problems, n, d)
    y : ndarray of shape (n_problems, n)

    Raises
    ------
    ValueError
        For sizes below 1, ``rho`` outside ``[0, 1)`` or a negative ``noise``.

    Examples
    --------
    >>> X, y = random_least_squares(3, 20, 4, 0.5, rng=0)
    >>> X.shape, y.shape
    ((3, 20, 4), (3, 20))
    """
    n_problems = check_int(n_problems, "n_problems", low=1)
    n = check_int(n, "n", low=1)
    d = check_int(d, "d", low=1)
    rho = check_nonnegative(as_finite_array(rho, "rho", ndim=0), "rho")
    if not rho < 1.0:
        raise ValueError(f"rho must be in [0, 1), got {float(rho)!r}")
    rho = float(rho)
    noise = check_real(noise, "noise", nonnegative=True)
    gen = as_generator(rng)
    cov = rho * np.ones((d, d)) + (1.0 - rho) * np.eye(d)
    X = gen.standard_normal((n_problems, n, d)) @ np.linalg.cholesky(cov).T
    w_true = gen.standard_normal((n_problems, d))
    y = np.einsum("bnd,bd->bn", X, w_true) + noise * gen.standard_normal((n_problems, n))
    return X, y


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def _check_xy(X, y):
    X = as_finite_array(X, "X", ndim=(2, 3))
    y = as_finite_array(y, "y", ndim=(1, 2))
    if X.ndim == 2:
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have shape ({X.shape[0]},) to match X of shape "
                             f"{X.shape}, got {y.shape}")
    else:
        if y.shape != X.shape[:2]:
            raise ValueError(f"y must have shape {X.shape[:2]} to match X of shape "
                             f"{X.shape}, got {y.shape}")
    if X.shape[-1] < 1 or X.shape[-2] < 1:
        raise ValueError(f"X must have at least one row and one column, got shape {X.shape}")
    return X, y


def _check_w(w, X, name="w"):
    w = as_finite_array(w, name)
    expected = X.shape[:-2] + X.shape[-1:]
    if w.shape != expected:
        raise ValueError(f"{name} must have shape {expected} to match X, got {w.shape}")
    return w


def _loss(w, X, y):
    r = y - np.einsum("...nd,...d->...n", X, w)
    return np.mean(r * r, axis=-1)


def least_squares_loss(w, X, y):
    """Mean squared error :math:`L(w) = \\frac1n\\|y - Xw\\|^2`.

    Parameters
    ----------
    w : array-like of shape (d,) or (B, d)
    X : array-like of shape (n, d) or (B, n, d)
    y : array-like of shape (n,) or (B, n)

    Returns
    -------
    float or ndarray of shape (B,)

    Examples
    --------
    >>> import numpy as np
    >>> least_squares_loss(np.array([1.0]), np.array([[1.0], [2.0]]), np.array([1.0, 0.0]))
    2.0
    """
    X, y = _check_xy(X, y)
    w = _check_w(w, X)
    out = _loss(w, X, y)
    return float(out) if X.ndim == 2 else out


def _ref_solution(X, y):
    """Minimum-norm least-squares solution, batched."""
    if X.ndim == 2:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    return np.einsum("bdn,bn->bd", np.linalg.pinv(X), y)


class _Quadratic:
    """Eigendecomposition of the Hessian 2 X^T X / n, cached for repeated L steps."""

    def __init__(self, X, y):
        n = X.shape[-2]
        H2 = 2.0 * np.einsum("...nd,...ne->...de", X, X) / n
        self.g2 = 2.0 * np.einsum("...nd,...n->...d", X, y) / n
        evals, Q = np.linalg.eigh(H2)
        self.evals = np.clip(evals, 0.0, None)
        self.Q = Q
        self.H2 = H2
        self.lipschitz = self.evals[..., -1]

    def solve(self, target, mu):
        """argmin L(w) + mu/2 ||w - target||^2 (batched; mu scalar or (B,))."""
        rhs = self.g2 + np.asarray(mu)[..., None] * target
        z = np.einsum("...de,...d->...e", self.Q, rhs)
        z = z / (self.evals + np.asarray(mu)[..., None])
        return np.einsum("...de,...e->...d", self.Q, z)

    def grad(self, w):
        return np.einsum("...de,...e->...d", self.H2, w) - self.g2

    def gd(self, w, target, mu, n_steps, lr=None):
        """n_steps of gradient descent on L(w) + mu/2||w - t||^2, step 1/(Lip + mu)."""
        mu_ = np.asarray(mu, dtype=float)
        eta = 1.0 / (self.lipschitz + mu_) if lr is None else np.asarray(lr, dtype=float)
        eta = np.asarray(eta)[..., None]
        for _ in range(n_steps):
            w = w - eta * (self.grad(w) + mu_[..., None] * (w - target))
        return w


# --------------------------------------------------------------------------------------
# L steps for the generic lc_algorithm
# --------------------------------------------------------------------------------------
def least_squares_l_step(X, y):
    """Exact L step for :math:`L(w) = \\frac1n\\|y - Xw\\|^2`, as a callable for lc_algorithm.

    The returned ``l_step(w, target, mu)`` ignores the warm start ``w`` and returns

    .. math::

        w^{+} = \\Big(\\tfrac2n X^\\top X + \\mu I\\Big)^{-1}
                \\Big(\\tfrac2n X^\\top y + \\mu\\,t\\Big),

    computed from a cached eigendecomposition (so each call costs two matrix-vector
    products). ``mu = 0`` with a singular Hessian returns the minimum-norm solution.

    Parameters
    ----------
    X : array-like of shape (n, d)
    y : array-like of shape (n,)

    Returns
    -------
    callable ``l_step(w, target, mu) -> ndarray of shape (d,)``

    References
    ----------
    Carreira-Perpiñán (2017), eq. (9) and section 5.1 ("even solving a linear system if
    the loss is quadratic").

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(2); y = np.array([1.0, 3.0])
    >>> step = least_squares_l_step(X, y)
    >>> step(np.zeros(2), np.zeros(2), 1.0).tolist()   # (2 y / 2 + 0) / (2/2 + 1)
    [0.5, 1.5]
    """
    X, y = _check_xy(X, y)
    if X.ndim != 2:
        raise ValueError(f"least_squares_l_step takes one problem, X of shape (n, d); got "
                         f"{X.shape}")
    quad = _Quadratic(X, y)
    w_min = _ref_solution(X, y)
    d = X.shape[1]

    def l_step(w, target, mu):
        if target is None or mu == 0:
            return w_min.copy()
        t = np.asarray(target, dtype=float)
        if t.shape != (d,):
            raise ValueError(f"target must have shape ({d},), got {t.shape}")
        return quad.solve(t, float(mu))

    return l_step


def least_squares_gd_l_step(X, y, n_steps, *, lr=None):
    """Inexact L step: ``n_steps`` of gradient descent with a fixed step size.

    Each call runs, from the warm start ``w``,

    .. math::

        w \\leftarrow w - \\eta\\,\\big(\\nabla L(w) + \\mu\\,(w - t)\\big),
        \\qquad \\eta = \\frac{1}{M + \\mu}\\ \\text{by default},

    where :math:`M = 2\\lambda_{\\max}(X^\\top X)/n` is the Lipschitz constant of
    :math:`\\nabla L`, the step recommended in appendix B.1.2 of the paper. With
    ``mu = 0`` it is plain gradient descent on the loss (a partial retraining).

    Parameters
    ----------
    X : array-like of shape (n, d)
    y : array-like of shape (n,)
    n_steps : int
        Gradient steps per call, >= 1.
    lr : float, optional
        Fixed step size (> 0) overriding ``1 / (M + mu)``.

    Returns
    -------
    callable ``l_step(w, target, mu) -> ndarray of shape (d,)``

    References
    ----------
    Carreira-Perpiñán (2017), section 5.1.1 and appendix B.1.2.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.eye(2) * np.sqrt(2); y = np.array([1.0, 3.0]) * np.sqrt(2)
    >>> step = least_squares_gd_l_step(X, y, 50)
    >>> step(np.zeros(2), np.zeros(2), 2.0).round(6).tolist()   # exact: (2y/2)/(2+2)*2
    [0.5, 1.5]
    """
    X, y = _check_xy(X, y)
    if X.ndim != 2:
        raise ValueError(f"least_squares_gd_l_step takes one problem, X of shape (n, d); got "
                         f"{X.shape}")
    n_steps = check_int(n_steps, "n_steps", low=1)
    if lr is not None:
        lr = check_real(lr, "lr", positive=True)
    quad = _Quadratic(X, y)
    d = X.shape[1]

    def l_step(w, target, mu):
        w = np.asarray(w, dtype=float)
        t = np.zeros(d) if target is None else np.asarray(target, dtype=float)
        return quad.gd(w, t, float(mu), n_steps, lr)

    return l_step


# --------------------------------------------------------------------------------------
# results
# --------------------------------------------------------------------------------------
@dataclass
class LSResult:
    """Output of :func:`lc_least_squares` and :func:`idc_least_squares`.

    Shapes carry a leading batch axis ``B`` when ``X`` had one.

    Attributes
    ----------
    w : ndarray of shape (d,) or (B, d)
        Compressed (feasible) weights :math:`\\Delta(\\Theta)`.
    w_dc : ndarray of shape (d,) or (B, d)
        Direct compression :math:`\\Pi(w_{ref})`.
    w_ref : ndarray of shape (d,) or (B, d)
        Reference (least-squares) weights.
    w_unconstrained : ndarray of shape (d,) or (B, d)
        Last L-step iterate.
    loss, loss_dc, loss_ref : float or ndarray of shape (B,)
        :math:`L` at ``w``, ``w_dc`` and ``w_ref``.
    path : dict of ndarray of shape (K,) or (K, B)
        ``"mu"``, ``"violation"`` (:math:`\\|w - \\Delta(\\Theta)\\|`), ``"loss_w"``,
        ``"loss_compressed"``, ``"delta_change"`` (see :class:`LCResult`) per iteration; a
        problem that stopped early (``tol``) repeats its last values (``delta_change`` 0).
    converged : bool or ndarray of shape (B,)
    n_iter : int or ndarray of shape (B,)
    theta : object or None
        Low-dimensional parameters (one problem only; None for a batch).
    """

    w: np.ndarray
    w_dc: np.ndarray
    w_ref: np.ndarray
    w_unconstrained: np.ndarray
    loss: object
    loss_dc: object
    loss_ref: object
    path: dict = field(repr=False)
    converged: object = False
    n_iter: object = 0
    theta: object = None


def _check_compression(compression):
    if not isinstance(compression, Compression):
        raise ValueError(f"compression must be a Compression, got {compression!r}")


def _prepare(X, y, compression, w_ref):
    X, y = _check_xy(X, y)
    _check_compression(compression)
    if w_ref is None:
        w_ref = _ref_solution(X, y)
    else:
        w_ref = _check_w(w_ref, X, "w_ref")
    return X, y, w_ref


# --------------------------------------------------------------------------------------
# LC on least squares
# --------------------------------------------------------------------------------------
def lc_least_squares(X, y, compression, mus, *, augmented=True, tol=0.0, w_ref=None,
                     l_step_iters=None, inner=1, keep_iterates=False, progress=None):
    """LC algorithm for :math:`\\min_w \\frac1n\\|y - Xw\\|^2` s.t. :math:`w = \\Delta(\\Theta)`.

    The L step solves :math:`(\\tfrac2n X^\\top X + \\mu I) w = \\tfrac2n X^\\top y +
    \\mu\\,(\\Delta(\\Theta) + \\lambda/\\mu)` exactly (or by ``l_step_iters`` gradient
    steps of size :math:`1/(M + \\mu)`); the C step is ``compression``'s projection; the
    loop is that of :func:`infocompress.lc.lc_algorithm`. For a batch of problems all
    steps are vectorised and each problem stops on its own when its violation falls below
    ``tol``.

    Parameters
    ----------
    X : array-like of shape (n, d) or (B, n, d)
        Design matrices.
    y : array-like of shape (n,) or (B, n)
        Targets.
    compression : Compression
        Compression of the whole weight vector (use ``LowRank(r, shape=(m, k))`` to view
        ``w`` as a matrix).
    mus : array-like of shape (K,)
        Penalty schedule, > 0 and non-decreasing.
    augmented : bool, default True
        Augmented Lagrangian (True) or quadratic penalty (False).
    tol : float, default 0.0
        Stop a problem when :math:`\\|w - \\Delta(\\Theta)\\| < tol`.
    w_ref : array-like of shape (d,) or (B, d), optional
        Reference model (default: the least-squares solution, minimum norm if singular).
    l_step_iters : int, optional
        Inexact L step: this many gradient steps from the previous iterate (default:
        exact solve).
    inner : int, default 1
        L/C alternations per value of :math:`\\mu` (see :func:`lc_algorithm`).
    keep_iterates : bool, default False
        Batch only: also store ``path["w"]`` and ``path["delta"]``, the L-step iterate and
        the compressed model after every value of :math:`\\mu` (shape ``(K, B, d)``).
    progress : bool or None, optional
        Progress bar over the schedule (see :func:`infocompress.progress.progress_enabled`;
        it appears only after 2 s).

    Returns
    -------
    LSResult

    References
    ----------
    Carreira-Perpiñán (2017), eqs. (1), (6)-(10), Fig. 2 and section 5 (least squares
    under binarization or :math:`\\ell_0` pruning is NP-complete in general, so LC gives a
    feasible, low-loss point but not always the optimum).

    Examples
    --------
    >>> import numpy as np
    >>> from infocompress.lc import Pruning, mu_schedule
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]); y = np.array([1.0, 2.0, 1.2])
    >>> res = lc_least_squares(X, y, Pruning(1), mu_schedule(1e-3, 1.3, 60))
    >>> res.w.round(2).tolist(), res.w_dc.round(2).tolist()
    ([0.0, 1.6], [0.0, 1.13])
    >>> bool(res.loss < res.loss_dc)
    True
    """
    X, y, w_ref = _prepare(X, y, compression, w_ref)
    mus = check_mus(mus)
    tol = check_real(tol, "tol", nonnegative=True)
    if l_step_iters is not None:
        l_step_iters = check_int(l_step_iters, "l_step_iters", low=1)
    inner = check_int(inner, "inner", low=1)
    if X.ndim == 2:
        if l_step_iters is None:
            step = least_squares_l_step(X, y)
        else:
            step = least_squares_gd_l_step(X, y, l_step_iters)
        res = lc_algorithm(step, compression, w_ref, mus, augmented=augmented, tol=tol,
                           loss=lambda w: float(_loss(w, X, y)), inner=inner,
                           progress=progress)
        return LSResult(
            w=res.w, w_dc=res.w_dc, w_ref=w_ref, w_unconstrained=res.w_unconstrained,
            loss=float(_loss(res.w, X, y)), loss_dc=float(_loss(res.w_dc, X, y)),
            loss_ref=float(_loss(w_ref, X, y)), path=res.path, converged=res.converged,
            n_iter=res.n_iter, theta=res.theta,
        )
    return _lc_ls_batch(X, y, compression, mus, bool(augmented), tol, w_ref, l_step_iters,
                        inner, bool(keep_iterates), progress)


def _lc_ls_batch(X, y, comp, mus, augmented, tol, w_ref, l_step_iters, inner, keep,
                 progress):
    B = X.shape[0]
    quad = _Quadratic(X, y)
    w = w_ref.copy()
    delta, state = comp._project_batch(w_ref, None)
    delta_dc = delta.copy()
    lam = np.zeros_like(w)
    K = mus.size
    path = {k: np.empty((K, B)) for k in ("mu", "violation", "loss_w", "loss_compressed",
                                           "delta_change")}
    if keep:
        path["w"] = np.empty((K,) + w.shape)
        path["delta"] = np.empty((K,) + w.shape)
    active = np.ones(B, dtype=bool)
    n_iter = np.zeros(B, dtype=int)
    for k, mu in enumerate(progress_bar(mus, desc=f"LC schedule, {B} problems",
                                        progress=progress)):
        if active.any():
            a = active
            sub = _Sub(quad, a)
            for _ in range(inner):
                target = delta[a] + lam[a] / mu
                if l_step_iters is None:
                    w_new = sub.solve(target, mu)
                else:
                    w_new = sub.gd(w[a], target, np.full(a.sum(), mu), l_step_iters)
                w[a] = w_new
                shifted = w - lam / mu
                new_delta, state = comp._project_batch(shifted, state)
                change = np.sqrt(np.sum((new_delta - delta) ** 2, axis=1))
                delta[a] = new_delta[a]
            r = w - delta
            if augmented:
                lam[a] = lam[a] - mu * r[a]
            n_iter[a] += 1
            viol = np.sqrt(np.sum(r * r, axis=1))
            path["mu"][k] = np.where(a, mu, path["mu"][k - 1] if k else mu)
            path["violation"][k] = viol
            path["delta_change"][k] = np.where(a, change, 0.0)
            path["loss_w"][k] = _loss(w, X, y)
            path["loss_compressed"][k] = _loss(delta, X, y)
            active = active & ~(viol < tol)
        else:
            for key in path:
                path[key][k] = path[key][k - 1]
            path["delta_change"][k] = 0.0
        if keep:
            path["w"][k] = w
            path["delta"][k] = delta
    converged = path["violation"][-1] < tol
    return LSResult(
        w=delta, w_dc=delta_dc, w_ref=w_ref, w_unconstrained=w,
        loss=_loss(delta, X, y), loss_dc=_loss(delta_dc, X, y), loss_ref=_loss(w_ref, X, y),
        path=path, converged=converged, n_iter=n_iter,
    )


class _Sub:
    """Restriction of a batched _Quadratic to the problems selected by a mask."""

    def __init__(self, quad, mask):
        self.quad = quad
        self.mask = mask

    def solve(self, target, mu):
        q, m = self.quad, self.mask
        rhs = q.g2[m] + mu * target
        z = np.einsum("bde,bd->be", q.Q[m], rhs) / (q.evals[m] + mu)
        return np.einsum("bde,be->bd", q.Q[m], z)

    def gd(self, w, target, mu, n_steps):
        q, m = self.quad, self.mask
        eta = (1.0 / (q.lipschitz[m] + mu))[:, None]
        H2, g2 = q.H2[m], q.g2[m]
        for _ in range(n_steps):
            grad = np.einsum("bde,be->bd", H2, w) - g2
            w = w - eta * (grad + mu[:, None] * (w - target))
        return w


# --------------------------------------------------------------------------------------
# iterated direct compression on least squares
# --------------------------------------------------------------------------------------
def idc_least_squares(X, y, compression, n_iter, *, retrain_steps=None, w_ref=None):
    """Iterated direct compression on least squares: retrain from the compressed model, compress.

    With an exact retraining (``retrain_steps=None``) each round returns to the
    least-squares solution, so iDC reproduces direct compression exactly; with
    ``retrain_steps`` gradient steps (step :math:`1/M`) started from the compressed model
    the retraining is partial, as in practice with SGD.

    Parameters
    ----------
    X : array-like of shape (n, d) or (B, n, d)
    y : array-like of shape (n,) or (B, n)
    compression : Compression
    n_iter : int
        Retrain-compress rounds, >= 0.
    retrain_steps : int, optional
        Gradient steps per retraining (default: exact retraining).
    w_ref : array-like of shape (d,) or (B, d), optional
        Reference model (default: the least-squares solution).

    Returns
    -------
    LSResult
        ``path["mu"]`` is zero.

    References
    ----------
    Carreira-Perpiñán (2017), section 6.2.3.

    Examples
    --------
    >>> import numpy as np
    >>> from infocompress.lc import Pruning
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]); y = np.array([1.0, 2.0, 1.2])
    >>> res = idc_least_squares(X, y, Pruning(1), 5)
    >>> bool(np.allclose(res.w, res.w_dc))
    True
    """
    X, y, w_ref = _prepare(X, y, compression, w_ref)
    n_iter = check_int(n_iter, "n_iter", low=0)
    if retrain_steps is not None:
        retrain_steps = check_int(retrain_steps, "retrain_steps", low=1)
    quad = _Quadratic(X, y)

    def retrain(w0):
        if retrain_steps is None:
            return np.broadcast_to(w_ref, np.shape(w0)).copy()
        zero = np.zeros(X.shape[:-2]) if X.ndim == 3 else 0.0
        return quad.gd(np.asarray(w0, dtype=float), np.zeros_like(w0), zero, retrain_steps)

    if X.ndim == 2:
        res = iterated_direct_compression(retrain, compression, w_ref, n_iter,
                                          loss=lambda w: float(_loss(w, X, y)))
        return LSResult(
            w=res.w, w_dc=res.w_dc, w_ref=w_ref, w_unconstrained=res.w_unconstrained,
            loss=float(_loss(res.w, X, y)), loss_dc=float(_loss(res.w_dc, X, y)),
            loss_ref=float(_loss(w_ref, X, y)), path=res.path, converged=False,
            n_iter=n_iter, theta=res.theta,
        )
    B = X.shape[0]
    delta, state = compression._project_batch(w_ref, None)
    delta_dc = delta.copy()
    w = w_ref.copy()
    path = {k: np.zeros((n_iter, B)) for k in ("mu", "violation", "loss_w", "loss_compressed",
                                                "delta_change")}
    for k in range(n_iter):
        w = retrain(delta)
        new_delta, state = compression._project_batch(w, state)
        path["delta_change"][k] = np.sqrt(np.sum((new_delta - delta) ** 2, axis=1))
        delta = new_delta
        path["violation"][k] = np.sqrt(np.sum((w - delta) ** 2, axis=1))
        path["loss_w"][k] = _loss(w, X, y)
        path["loss_compressed"][k] = _loss(delta, X, y)
    return LSResult(
        w=delta, w_dc=delta_dc, w_ref=w_ref, w_unconstrained=w, loss=_loss(delta, X, y),
        loss_dc=_loss(delta_dc, X, y), loss_ref=_loss(w_ref, X, y), path=path,
        converged=np.zeros(B, dtype=bool), n_iter=np.full(B, n_iter),
    )


# --------------------------------------------------------------------------------------
# exact constrained optimum by enumeration
# --------------------------------------------------------------------------------------
def least_squares_optimum(X, y, compression, *, chunk=None):
    """Exact constrained least-squares optimum by enumeration of the discrete structure.

    * :class:`Binarization`: every sign pattern :math:`s` (up to a global sign) with its
      optimal scale :math:`a = s^\\top g / s^\\top H s`, where :math:`H = X^\\top X/n`,
      :math:`g = X^\\top y/n`; the loss is :math:`c - (s^\\top g)^2 / s^\\top H s`.
    * :class:`Pruning`: every support :math:`S` of size :math:`\\kappa` with the
      least-squares fit on it, :math:`w_S = H_{SS}^{-1} g_S`.
    * :class:`FixedCodebook`: every assignment of the ``d`` weights to the ``K`` codewords.

    Parameters
    ----------
    X : array-like of shape (n, d) or (B, n, d)
    y : array-like of shape (n,) or (B, n)
    compression : Binarization, Pruning or FixedCodebook
    chunk : int, optional
        Problems processed at once (default: chosen to keep memory small).

    Returns
    -------
    w_opt : ndarray of shape (d,) or (B, d)
    loss_opt : float or ndarray of shape (B,)

    Raises
    ------
    ValueError
        For other compression types, or when more than ``2**20`` candidates would be
        enumerated.

    References
    ----------
    Carreira-Perpiñán (2017), section 5 (both problems are NP-complete in general; small
    ``d`` makes enumeration possible).

    Examples
    --------
    >>> import numpy as np
    >>> from infocompress.lc import Pruning
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]); y = np.array([1.0, 2.0, 1.2])
    >>> w, loss = least_squares_optimum(X, y, Pruning(1))
    >>> w.round(4).tolist(), round(loss, 4)
    ([0.0, 1.6], 0.44)
    """
    X, y = _check_xy(X, y)
    _check_compression(compression)
    single = X.ndim == 2
    if single:
        X, y = X[None], y[None]
    B, n, d = X.shape
    if isinstance(compression, Binarization):
        n_cand = 2 ** (d - 1)
    elif isinstance(compression, Pruning):
        if compression.kappa > d:
            raise ValueError(f"kappa must be <= d = {d}, got {compression.kappa}")
        n_cand = math.comb(d, compression.kappa)
    elif isinstance(compression, FixedCodebook):
        n_cand = compression.codebook.size ** d
    else:
        raise ValueError(f"least_squares_optimum enumerates Binarization, Pruning or "
                         f"FixedCodebook, got {compression!r}")
    if n_cand > MAX_ENUMERATION:
        raise ValueError(f"enumeration would visit {n_cand} candidates (> {MAX_ENUMERATION}); "
                         f"reduce d = {d}")
    if chunk is None:
        per = max(1, n_cand * max(d, 1) ** 2)
        chunk = max(1, int(2e7 // per))
    chunk = check_int(chunk, "chunk", low=1)
    H = np.einsum("bnd,bne->bde", X, X) / n
    g = np.einsum("bnd,bn->bd", X, y) / n
    w_opt = np.empty((B, d))
    for s in range(0, B, chunk):
        sl = slice(s, min(B, s + chunk))
        if isinstance(compression, Binarization):
            w_opt[sl] = _enum_binary(H[sl], g[sl], d)
        elif isinstance(compression, Pruning):
            w_opt[sl] = _enum_support(H[sl], g[sl], d, compression.kappa)
        else:
            w_opt[sl] = _enum_codebook(H[sl], g[sl], d, compression.codebook)
    loss = _loss(w_opt, X, y)
    if single:
        return w_opt[0], float(loss[0])
    return w_opt, loss


def _enum_binary(H, g, d):
    # sign patterns with s_0 = +1 (the set {a s} is symmetric under s -> -s, a -> -a)
    codes = np.arange(2 ** (d - 1))[:, None]
    bits = (codes >> np.arange(d - 1)) & 1
    S = np.concatenate([np.ones((codes.shape[0], 1)), 1.0 - 2.0 * bits], axis=1)  # (P, d)
    sg = g @ S.T  # (b, P)
    sHs = np.einsum("pd,bde,pe->bp", S, H, S)
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where(sHs > 0, sg**2 / sHs, 0.0)
    best = np.argmax(gain, axis=1)
    rows = np.arange(H.shape[0])
    sb = S[best]
    a = np.where(sHs[rows, best] > 0, sg[rows, best] / sHs[rows, best], 0.0)
    # express with a >= 0
    sb = sb * np.where(a < 0, -1.0, 1.0)[:, None]
    return np.abs(a)[:, None] * sb


def _enum_support(H, g, d, kappa):
    b = H.shape[0]
    if kappa == 0:
        return np.zeros((b, d))
    supports = np.array(list(itertools.combinations(range(d), kappa)))  # (C, kappa)
    Hs = H[:, supports[:, :, None], supports[:, None, :]]  # (b, C, k, k)
    gs = g[:, supports]  # (b, C, k)
    try:
        ws = np.linalg.solve(Hs, gs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        ws = np.einsum("bcij,bcj->bci", np.linalg.pinv(Hs), gs)
    gain = np.einsum("bci,bci->bc", gs, ws)  # c - loss
    best = np.argmax(gain, axis=1)
    rows = np.arange(b)
    out = np.zeros((b, d))
    out[rows[:, None], supports[best]] = ws[rows, best]
    return out


def _enum_codebook(H, g, d, codebook):
    K = codebook.size
    codes = np.arange(K**d)[:, None]
    digits = (codes // K ** np.arange(d)) % K
    Wc = codebook[digits]  # (P, d)
    val = np.einsum("pd,bde,pe->bp", Wc, H, Wc) - 2.0 * g @ Wc.T
    best = np.argmin(val, axis=1)
    return Wc[best]
