"""The learning-compression (LC) algorithm and iterated direct compression (iDC).

The loop reads like Fig. 2 of Carreira-Perpiñán (2017):

.. code-block:: text

    w = w_ref;  theta = Pi(w)                      # direct compression (mu -> 0+)
    lam = 0
    for mu in mus:
        w     = argmin_w L(w) + mu/2 ||w - Delta(theta) - lam/mu||^2     # L step
        theta = Pi(w - lam/mu)                                            # C step
        lam   = lam - mu (w - Delta(theta))        # augmented Lagrangian only
        if ||w - Delta(theta)|| < tol: break
    return Delta(theta)

The L step is supplied by the user as a callable ``l_step(w, target, mu) -> w_new`` that
(approximately) minimises ``loss(w) + mu/2 * ||w - target||^2`` starting from ``w``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import (
    IsCallable,
    Options,
    as_finite_array,
    check_int,
    check_real,
    validate_params,
)
from ..progress import progress_bar
from .compression import Compression, CompressionTask

__all__ = [
    "LCResult",
    "check_mus",
    "iterated_direct_compression",
    "lc_algorithm",
    "mu_schedule",
]


# --------------------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------------------
def mu_schedule(mu0, a, n):
    """Multiplicative penalty schedule ``mu_k = mu0 * a**k``, ``k = 0, ..., n - 1``.

    Parameters
    ----------
    mu0 : float
        First penalty parameter, > 0.
    a : float
        Multiplier, >= 1 (the paper uses ``a`` slightly above 1).
    n : int
        Number of values, >= 1.

    Returns
    -------
    ndarray of shape (n,)

    References
    ----------
    Carreira-Perpiñán (2017), section 4.1 ("Schedule of the penalty parameter") and the
    remark after Theorem 5.1.

    Examples
    --------
    >>> mu_schedule(0.1, 2.0, 4).tolist()
    [0.1, 0.2, 0.4, 0.8]
    """
    mu0 = check_real(mu0, "mu0")
    a = check_real(a, "a")
    if not mu0 > 0:
        raise ValueError(f"mu0 must be > 0, got {mu0}")
    if not a >= 1:
        raise ValueError(f"a must be >= 1, got {a}")
    n = check_int(n, "n", low=1)
    return mu0 * a ** np.arange(n, dtype=float)


def check_mus(mus) -> np.ndarray:
    """Validate a penalty schedule: a non-empty 1-D array, finite, > 0, non-decreasing.

    Parameters
    ----------
    mus : array-like of shape (K,)

    Returns
    -------
    ndarray of shape (K,)

    Examples
    --------
    >>> check_mus([1, 2, 2, 5]).tolist()
    [1.0, 2.0, 2.0, 5.0]
    """
    mus = as_finite_array(mus, "mus", ndim=1)
    if mus.size == 0:
        raise ValueError("mus must contain at least one penalty value, got an empty schedule")
    if np.any(mus <= 0):
        raise ValueError(f"mus must be > 0, got {mus.min()}")
    if np.any(np.diff(mus) < 0):
        k = int(np.flatnonzero(np.diff(mus) < 0)[0])
        raise ValueError(f"mus must be non-decreasing, got mus[{k}]={mus[k]} > "
                         f"mus[{k + 1}]={mus[k + 1]}")
    return mus


# --------------------------------------------------------------------------------------
# parameter groups: single array, list of arrays, or dict of arrays
# --------------------------------------------------------------------------------------
class _Groups:
    """Normalises (w_ref, compression) to a dict of float arrays and a list of entries."""

    def __init__(self, w_ref, compression):
        if isinstance(w_ref, dict):
            self.kind = "dict"
            self.keys = list(w_ref)
            arrays = {k: as_finite_array(v, f"w_ref[{k!r}]") for k, v in w_ref.items()}
        elif isinstance(w_ref, (list, tuple)):
            self.kind = "list"
            self.keys = list(range(len(w_ref)))
            arrays = {i: as_finite_array(v, f"w_ref[{i}]") for i, v in enumerate(w_ref)}
        else:
            self.kind = "array"
            self.keys = [None]
            arrays = {None: as_finite_array(w_ref, "w_ref")}
        if not self.keys:
            raise ValueError("w_ref must contain at least one parameter group")
        for k, a in arrays.items():
            if a.size == 0:
                where = "" if k is None else f"[{k!r}]"
                raise ValueError(f"w_ref{where} is empty: every parameter group needs at least "
                                 "one weight")
        self.w_ref = arrays
        self.shapes = {k: a.shape for k, a in arrays.items()}

        if self.kind == "array":
            if not isinstance(compression, Compression):
                raise ValueError(
                    "with an array w_ref, compression must be a Compression, got "
                    f"{compression!r}"
                )
            task = CompressionTask({None: compression})
        elif isinstance(compression, CompressionTask):
            task = compression
        elif isinstance(compression, dict):
            task = CompressionTask(compression)
        elif isinstance(compression, (list, tuple)) and self.kind == "list":
            if len(compression) != len(self.keys):
                raise ValueError(
                    f"compression has {len(compression)} entries but w_ref has "
                    f"{len(self.keys)} groups"
                )
            task = CompressionTask({i: c for i, c in enumerate(compression) if c is not None})
        else:
            raise ValueError(
                "compression must be a Compression (array w_ref), a dict / CompressionTask "
                f"or a list aligned with a list w_ref, got {compression!r}"
            )
        for k in task.compressed_keys():
            if k not in arrays:
                raise ValueError(f"compression refers to group {k!r}, which is not in w_ref "
                                 f"(groups: {self.keys})")
        self.entries = task.entries

    # gathered form of an entry: the array itself for one group, else the flat concatenation
    def gather(self, w, keys):
        if len(keys) == 1:
            return w[keys[0]]
        return np.concatenate([np.ravel(w[k]) for k in keys])

    def scatter(self, v, keys, out):
        if len(keys) == 1:
            out[keys[0]] = np.asarray(v).reshape(self.shapes[keys[0]])
            return out
        start = 0
        for k in keys:
            size = math.prod(self.shapes[k])
            out[k] = np.asarray(v[start:start + size]).reshape(self.shapes[k])
            start += size
        return out

    def wrap(self, d):
        """Back to the user's container type."""
        if self.kind == "array":
            return d[None]
        if self.kind == "list":
            return [d[k] for k in self.keys]
        return {k: d[k] for k in self.keys}

    def unwrap(self, w, name):
        """User container -> dict of float arrays (shape-checked)."""
        if self.kind == "array":
            d = {None: as_finite_array(w, name)}
        elif self.kind == "list":
            if not isinstance(w, (list, tuple)) or len(w) != len(self.keys):
                raise ValueError(f"{name} must be a list of {len(self.keys)} arrays")
            d = {i: as_finite_array(v, f"{name}[{i}]") for i, v in enumerate(w)}
        else:
            if not isinstance(w, dict) or set(w) != set(self.keys):
                raise ValueError(f"{name} must be a dict with keys {self.keys}")
            d = {k: as_finite_array(w[k], f"{name}[{k!r}]") for k in self.keys}
        for k in self.keys:
            if d[k].shape != self.shapes[k]:
                where = name if k is None else f"{name}[{k!r}]"
                raise ValueError(f"{where} has shape {d[k].shape}, expected {self.shapes[k]}")
        return d


def _sqnorm(a):
    return float(np.sum(np.square(a)))


# --------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------
@dataclass
class LCResult:
    """Output of :func:`lc_algorithm`.

    Attributes
    ----------
    w : array or list/dict of arrays
        The compressed model: compressed groups replaced by :math:`\\Delta(\\Theta)`
        (exactly feasible), free groups from the last L step. Same container as ``w_ref``.
    theta : parameters or dict
        Low-dimensional parameters :math:`\\Theta` (one per compression entry; a dict keyed
        by the entry key when there are groups).
    w_dc : same as ``w``
        The direct-compression model :math:`\\Delta(\\Pi(w_{ref}))` (free groups at ``w_ref``).
    theta_dc : same as ``theta``
        Parameters of the direct-compression model.
    w_unconstrained : same as ``w``
        The last L-step iterate ``w`` (not feasible; close to ``w`` at convergence).
    lam : dict
        Final Lagrange-multiplier estimates per compression entry (zero for the QP).
    path : dict of ndarray of shape (n_iter,)
        ``"mu"``; ``"violation"`` = :math:`\\|w - \\Delta(\\Theta)\\|` after the C step;
        ``"delta_change"`` = :math:`\\|\\Delta(\\Theta_{new}) - \\Delta(\\Theta_{old})\\|` in
        the last C step (with an exact L step, :math:`\\mu` times it is the norm of the
        gradient of the penalty function in ``w`` after the C step, the accuracy that
        Theorem 5.1 asks to tend to 0); ``"loss_w"`` and ``"loss_compressed"`` (loss of ``w``
        and of the compressed model) when ``loss`` was given, else NaN.
    converged : bool
        Whether the violation fell below ``tol``.
    n_iter : int
        Number of L/C iterations (values of mu) used.
    """

    w: object
    theta: object
    w_dc: object
    theta_dc: object
    w_unconstrained: object
    lam: dict
    path: dict = field(repr=False)
    converged: bool = False
    n_iter: int = 0


# --------------------------------------------------------------------------------------
# the LC loop
# --------------------------------------------------------------------------------------
def _pack(groups, entries, items):
    """Per-group results as the caller gave the groups: one array, or a dict by group key."""
    if groups.kind == "array":
        return items[0]
    return {(keys if len(keys) > 1 else keys[0]): it
            for (keys, _), it in zip(entries, items, strict=True)}


def lc_algorithm(l_step, compression, w_ref, mus, *, augmented=True, tol=0.0, loss=None,
                 inner=1, progress=None):
    """Learning-compression algorithm (quadratic penalty or augmented Lagrangian).

    Solves the compression problem

    .. math::

        \\min_{w, \\Theta} L(w) \\quad \\text{s.t.}\\quad w = \\Delta(\\Theta)

    by alternating, for each penalty value :math:`\\mu` of an increasing schedule,

    .. math::

        w &\\leftarrow \\arg\\min_w\\ L(w) + \\tfrac{\\mu}{2}
            \\big\\|w - \\Delta(\\Theta) - \\tfrac{1}{\\mu}\\lambda\\big\\|^2
            \\quad\\text{(L step)}\\\\
        \\Theta &\\leftarrow \\arg\\min_\\Theta
            \\big\\|w - \\tfrac{1}{\\mu}\\lambda - \\Delta(\\Theta)\\big\\|^2
            \\quad\\text{(C step)}\\\\
        \\lambda &\\leftarrow \\lambda - \\mu\\,(w - \\Delta(\\Theta))
            \\quad\\text{(augmented Lagrangian only)}

    starting from the direct compression :math:`\\Theta = \\Pi(w_{ref})` and
    :math:`\\lambda = 0`; with ``augmented=False`` (quadratic penalty) :math:`\\lambda`
    stays 0. As in the paper's pseudocode, one L and one C step are made per value of
    :math:`\\mu` by default; ``inner > 1`` alternates them ``inner`` times before the
    multiplier update (a closer approximation of the joint minimiser over
    :math:`(w, \\Theta)` that Theorem 5.1 assumes).

    Parameters
    ----------
    l_step : callable ``l_step(w, target, mu) -> w_new``
        The L step. It must return (an approximation of) the minimiser of
        ``loss(w) + mu / 2 * ||w - target||**2``, starting from ``w`` (a warm start: the
        previous L-step iterate, ``w_ref`` at the first call). ``w`` and the returned value
        have the container type of ``w_ref`` (array, list or dict of arrays); ``target``
        has the same container with ``None`` for uncompressed groups, which carry no
        penalty. The callable must not modify its inputs.
    compression : Compression, dict, list or CompressionTask
        A :class:`Compression` when ``w_ref`` is an array; otherwise a mapping from group
        key (dict key or list index; a tuple of keys compresses those groups jointly) to a
        :class:`Compression`, or a list aligned with ``w_ref`` (``None`` = uncompressed).
    w_ref : array-like, list of arrays or dict of arrays
        The reference (trained, uncompressed) model.
    mus : array-like of shape (K,)
        Penalty schedule, > 0 and non-decreasing (e.g. :func:`mu_schedule`).
    augmented : bool, default True
        Augmented Lagrangian (multiplier updates) or quadratic penalty.
    tol : float, default 0.0
        Stop as soon as :math:`\\|w - \\Delta(\\Theta)\\| < tol` (over all compressed groups).
        ``0`` runs the whole schedule.
    loss : callable ``loss(w) -> float``, optional
        Task loss, evaluated on the L-step iterate and on the compressed model at every
        iteration for :attr:`LCResult.path`.
    inner : int, default 1
        L/C alternations per value of :math:`\\mu`, >= 1.
    progress : bool or None, optional
        Progress bar over the schedule (see :func:`infocompress.progress.progress_enabled`;
        it appears only after 2 s).

    Returns
    -------
    LCResult

    Raises
    ------
    ValueError
        If ``mus`` is empty, non-finite, not > 0 or decreasing, if ``tol < 0``, if the
        groups of ``compression`` and ``w_ref`` do not match, or if ``l_step`` returns
        weights of the wrong shape or non-finite weights.

    References
    ----------
    Carreira-Perpiñán (2017), eqs. (1) and (6)-(10), Fig. 2 (pseudocode), section 4.2
    (direct compression as the beginning of the path) and Theorem 5.1.

    Examples
    --------
    A separable quadratic loss ``||w - c||^2`` whose L step is in closed form:

    >>> import numpy as np
    >>> from infocompress.lc import Binarization, lc_algorithm, mu_schedule
    >>> c = np.array([1.2, -0.8, 0.1])
    >>> def l_step(w, target, mu):
    ...     return (2 * c + mu * target) / (2 + mu)
    >>> res = lc_algorithm(l_step, Binarization(), c, mu_schedule(1e-2, 1.5, 40))
    >>> res.w.round(2).tolist(), res.w_dc.round(2).tolist()
    ([0.7, -0.7, 0.7], [0.7, -0.7, 0.7])
    """
    if not callable(l_step):
        raise ValueError(f"l_step must be callable, got {l_step!r}")
    if loss is not None and not callable(loss):
        raise ValueError(f"loss must be callable or None, got {loss!r}")
    mus = check_mus(mus)
    tol = check_real(tol, "tol", nonnegative=True)
    inner = check_int(inner, "inner", low=1)
    groups = _Groups(w_ref, compression)
    return _lc_loop(l_step, groups, mus, bool(augmented), tol, loss, inner, progress)


def _direct_compression(groups):
    """Copy of the reference weights, and Theta = Pi(w_ref) and Delta(Theta) per entry."""
    w = {k: v.copy() for k, v in groups.w_ref.items()}
    thetas = [comp.compress(groups.gather(w, keys)) for keys, comp in groups.entries]
    deltas = [np.asarray(comp.decompress(th), dtype=float)
              for (_, comp), th in zip(groups.entries, thetas, strict=True)]
    return w, thetas, deltas


def _lc_loop(l_step, groups, mus, augmented, tol, loss, inner, progress):
    entries = groups.entries
    # direct compression: the start of the path (mu -> 0+)
    w, thetas, deltas = _direct_compression(groups)
    theta_dc, delta_dc = list(thetas), list(deltas)
    lams = [np.zeros_like(d) for d in deltas]

    n = mus.size
    path = {name: np.full(n, np.nan) for name in ("mu", "violation", "loss_w",
                                                   "loss_compressed", "delta_change")}
    converged = False
    k = -1
    for k, mu in enumerate(progress_bar(mus, desc="LC schedule", progress=progress)):
        for _ in range(inner):
            # L step on the shifted target Delta(theta) + lam / mu
            target = {key: None for key in groups.keys}
            for (keys, _), d, lam in zip(entries, deltas, lams, strict=True):
                groups.scatter(d + lam / mu, keys, target)
            w_new = l_step(groups.wrap(w), groups.wrap(target), float(mu))
            w = groups.unwrap(w_new, f"l_step output (mu={mu:g})")

            # C step on the shifted weights w - lam / mu, warm-started from the last theta
            change2 = 0.0
            for j, (keys, comp) in enumerate(entries):
                wj = groups.gather(w, keys)
                thetas[j] = comp.compress(wj - lams[j] / mu, thetas[j])
                new = np.asarray(comp.decompress(thetas[j]), dtype=float)
                change2 += _sqnorm(new - deltas[j])
                deltas[j] = new
        viol2 = 0.0
        for j, (keys, _) in enumerate(entries):
            r = groups.gather(w, keys) - deltas[j]
            viol2 += _sqnorm(r)
            if augmented:
                lams[j] = lams[j] - mu * r
        viol = math.sqrt(viol2)
        path["mu"][k] = mu
        path["violation"][k] = viol
        path["delta_change"][k] = math.sqrt(change2)
        if loss is not None:
            path["loss_w"][k] = float(loss(groups.wrap(w)))
            path["loss_compressed"][k] = float(loss(groups.wrap(
                _compressed(groups, w, deltas))))
        if viol < tol:
            converged = True
            break
    n_iter = k + 1
    path = {name: v[:n_iter] for name, v in path.items()}

    return LCResult(
        w=groups.wrap(_compressed(groups, w, deltas)),
        theta=_pack(groups, entries, thetas),
        w_dc=groups.wrap(_compressed(groups, groups.w_ref, delta_dc)),
        theta_dc=_pack(groups, entries, theta_dc),
        w_unconstrained=groups.wrap(w),
        lam=_pack(groups, entries, lams),
        path=path,
        converged=converged,
        n_iter=n_iter,
    )


def _compressed(groups, w, deltas):
    out = {k: v.copy() for k, v in w.items()}
    for (keys, _), d in zip(groups.entries, deltas, strict=True):
        groups.scatter(d, keys, out)
    return out


# --------------------------------------------------------------------------------------
# iterated direct compression
# --------------------------------------------------------------------------------------
@validate_params(loss=Options(None, IsCallable()))
def iterated_direct_compression(retrain, compression, w_ref, n_iter, *, loss=None):
    """Iterated direct compression (iDC): retrain from the compressed model, compress, repeat.

    .. math::

        \\Theta_0 = \\Pi(w_{ref}),\\qquad
        w_k = \\mathrm{retrain}(\\Delta(\\Theta_{k-1})),\\qquad
        \\Theta_k = \\Pi(w_k).

    It is the LC loop without the coupling term: the retraining ignores where the
    compressed model is, so with an exact retraining (``w_k`` the minimiser of the loss)
    it cycles between :math:`w_{ref}` and the direct compression.

    Parameters
    ----------
    retrain : callable ``retrain(w0) -> w``
        (Partial) minimisation of the loss started from ``w0`` (same container as
        ``w_ref``).
    compression : Compression, dict, list or CompressionTask
        As in :func:`lc_algorithm`.
    w_ref : array-like, list or dict of arrays
        Reference model.
    n_iter : int
        Number of retrain-compress rounds, >= 0 (0 gives direct compression).
    loss : callable, optional
        Task loss for the path.

    Returns
    -------
    LCResult
        ``path["mu"]`` is all zeros and ``lam`` is zero.

    References
    ----------
    Carreira-Perpiñán (2017), section 6.2.3.

    Examples
    --------
    >>> import numpy as np
    >>> from infocompress.lc import Pruning, iterated_direct_compression
    >>> c = np.array([1.2, -0.8, 0.1])
    >>> res = iterated_direct_compression(lambda w0: c.copy(), Pruning(1), c, 3)
    >>> res.w.tolist()
    [1.2, 0.0, 0.0]
    """
    if not callable(retrain):
        raise ValueError(f"retrain must be callable, got {retrain!r}")
    n_iter = check_int(n_iter, "n_iter", low=0)
    groups = _Groups(w_ref, compression)
    entries = groups.entries
    w, thetas, deltas = _direct_compression(groups)
    theta_dc, delta_dc = list(thetas), list(deltas)
    path = {name: np.full(n_iter, np.nan) for name in ("mu", "violation", "loss_w",
                                                        "loss_compressed", "delta_change")}
    path["mu"][:] = 0.0
    for k in range(n_iter):
        start = _compressed(groups, w, deltas)
        w = groups.unwrap(retrain(groups.wrap(start)), f"retrain output (round {k})")
        viol2 = change2 = 0.0
        for j, (keys, comp) in enumerate(entries):
            wj = groups.gather(w, keys)
            thetas[j] = comp.compress(wj, thetas[j])
            new = np.asarray(comp.decompress(thetas[j]), dtype=float)
            change2 += _sqnorm(new - deltas[j])
            deltas[j] = new
            viol2 += _sqnorm(wj - deltas[j])
        path["violation"][k] = math.sqrt(viol2)
        path["delta_change"][k] = math.sqrt(change2)
        if loss is not None:
            path["loss_w"][k] = float(loss(groups.wrap(w)))
            path["loss_compressed"][k] = float(loss(groups.wrap(
                _compressed(groups, w, deltas))))

    return LCResult(
        w=groups.wrap(_compressed(groups, w, deltas)),
        theta=_pack(groups, entries, thetas),
        w_dc=groups.wrap(_compressed(groups, groups.w_ref, delta_dc)),
        theta_dc=_pack(groups, entries, theta_dc),
        w_unconstrained=groups.wrap(w),
        lam=_pack(groups, entries, [np.zeros_like(d) for d in deltas]),
        path=path,
        converged=False,
        n_iter=n_iter,
    )
