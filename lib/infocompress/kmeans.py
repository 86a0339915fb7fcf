r"""Lloyd k-means of weights: plain, Hessian-weighted and diameter-regularized (DRHW).

This module implements the clustering step of Section 6 of Bu, Gao, Zou and Veeravalli
(2021). Given weights :math:`w^{(1)},\dots,w^{(d')}` (scalars, or vectors of length
:math:`m` formed from consecutive weights), non-negative diagonal Hessian weights and
:math:`K` clusters, it minimises

.. math::

    F(c, C) = \sum_{k=1}^K \sum_{w^{(j)} \in C^{(k)}}
        (w^{(j)} - c^{(k)})^\top H^{(j)} (w^{(j)} - c^{(k)})
        + \beta \max_{k_1, k_2} \lVert c^{(k_1)} - c^{(k_2)} \rVert_2^2 ,

which is eq. (34) (scalar) and eq. (35) (vector) of the paper. Three special cases share
one function, :func:`drhw_kmeans`:

* ``h=None, beta=0``: plain k-means (Lloyd's algorithm);
* ``beta=0``: Hessian-weighted (HW) k-means of Choi et al. (2017), eq. (30);
* ``beta>0``: diameter-regularized Hessian-weighted (DRHW) k-means, Algorithm 1.

:func:`drhw_kmeans_batch` runs the algorithm on many independent weight vectors at once
(Monte-Carlo trials). The exact global optimum of weighted scalar k-means, the yardstick
for these iterative algorithms, is in :mod:`infocompress.kmeans1d`.

Notes for developers
--------------------
The k-means functions run compiled kernels over the rows of a (trials, n) array when
numba is installed (``_jit``; ``_USE_NUMBA = False`` switches to the numpy engines):

* scalar Algorithm 1 (``_scalar_rows``): one sort per row (a radix sort of the doubles
  for long rows, ``_radix_argsort``), then every iteration on prefix sums of h, h w and
  h w^2 kept as double-double numbers (error-free sums and products, about eps^2
  relative accuracy, on data centred at the row's median): assignment by binary search
  of the midpoints, cluster sums and the objective (34) from differences of prefix
  sums, O(K log n) per iteration after the sort;
  labels are written once, at the end. Without numba a numpy engine sums the runs of
  the sorted rows with one O(n) pass per iteration;
* vector Algorithm 1 (``_vector_rows``).

References
----------
.. [1] Y. Bu, W. Gao, S. Zou, V. V. Veeravalli, "Population risk improvement with model
   compression: an information-theoretic approach", Entropy 23(10):1255, 2021,
   Section 6, eqs. (30)-(38) and Algorithm 1.
.. [2] Y. Choi, M. El-Khamy, J. Lee, "Towards the limit of network quantization",
   ICLR 2017.
.. [3] S. Han, H. Mao, W. J. Dally, "Deep compression", ICLR 2016.
.. [4] T. J. Dekker, "A floating-point technique for extending the available precision",
   Numerische Mathematik 18:224-242, 1971 (error-free products, double-double sums).
.. [5] D. E. Knuth, *The Art of Computer Programming*, vol. 2, Section 4.2.2 (TwoSum).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._validation import (
    ArrayLike,
    Integer,
    Options,
    as_finite_array,
    as_generator,
    check_int,
    validate_params,
)

__all__ = [
    "DIAMETER_PENALTIES",
    "KMeansResult",
    "centers_diameter",
    "drhw_kmeans",
    "drhw_kmeans_batch",
    "hw_distortion",
]

_INITS = ("linear", "quantile", "kmeans++")
#: Accepted values of ``diameter`` in :func:`drhw_kmeans`: the squared diameter of eq. (34)
#: or the linear diameter penalty of the authors' code (see :func:`drhw_kmeans`).
DIAMETER_PENALTIES = ("squared", "linear")
# Largest number of booleans materialised at once by the batched assignment step.
_CHUNK = 1 << 23


# --------------------------------------------------------------------------------------
# result type
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class KMeansResult:
    r"""Output of the k-means functions of this module (single vectors and batches).

    Shape convention: scalar quantization (``block == 1``) stores ``centers`` of shape
    (K,); vector quantization with block length ``m > 1`` stores shape (K, m); a batch
    stores shape (trials, K) or (trials, K, m). Cluster ``k`` of the labels is
    ``centers[k]`` (``centers[t, k]`` in a batch).

    Attributes
    ----------
    centers : ndarray of shape (K,), (K, m), (trials, K) or (trials, K, m)
        Cluster centres :math:`c^{(k)}`.
    labels : ndarray of int of shape (n_blocks,) or (trials, n_blocks)
        Cluster of each weight (block); ``n_blocks = n / block``.
    objective : float or ndarray of shape (trials,)
        Value of eq. (34)/(35) at (``centers``, ``labels``): Hessian-weighted squared
        error plus ``beta`` times :func:`centers_diameter` of the centres.
    n_iter : int or ndarray of shape (trials,)
        Number of (assignment, update) iterations performed.
    converged : bool or ndarray of shape (trials,)
        True when the run stopped before ``max_iter`` (``stop_reason`` is
        ``"fixed_point"``, ``"tol"`` or ``"exact"``).
    stop_reason : str or ndarray of str of shape (trials,)
        ``"fixed_point"`` (the update left every centre unchanged, so the labels cannot
        change either), ``"tol"`` (relative change of the objective at most ``tol``),
        ``"max_iter"``, or ``"exact"`` (:func:`~infocompress.kmeans1d.optimal_kmeans_1d`
        and its batch).
    history : ndarray of shape (n_iter + 1,) or (trials, max_iter + 1)
        ``history[t]`` is the objective after iteration ``t``; ``history[0]`` is the
        objective of the initial centres with their nearest-centre assignment. In a
        batch, entries after a trial stopped are NaN.
    beta : float
        Diameter-regularization weight used in ``objective``.
    diameter : {"squared", "linear"}
        Diameter penalty used in ``objective``: ``beta`` times the squared diameter
        (eq. (34)/(35)) or ``beta / 2`` times the diameter (Bu et al.'s code).
    block : int
        Block length ``m`` (1 for scalar quantization).
    batched : bool
        True for the output of :func:`drhw_kmeans_batch` and
        :func:`~infocompress.kmeans1d.optimal_kmeans_1d_batch`.

    Examples
    --------
    >>> res = drhw_kmeans([0.0, 0.1, 1.0, 1.1], n_clusters=2)
    >>> res.centers.round(3).tolist(), res.labels.tolist()
    ([0.05, 1.05], [0, 0, 1, 1])
    >>> res.reconstruct().round(3).tolist()
    [0.05, 0.05, 1.05, 1.05]
    """

    centers: np.ndarray
    labels: np.ndarray
    objective: float | np.ndarray
    n_iter: int | np.ndarray
    converged: bool | np.ndarray
    stop_reason: str | np.ndarray
    history: np.ndarray
    beta: float = 0.0
    block: int = 1
    batched: bool = False
    diameter: str = "squared"

    @property
    def n_clusters(self) -> int:
        """Number of clusters K."""
        return int(self.centers.shape[1] if self.batched else self.centers.shape[0])

    def reconstruct(self) -> np.ndarray:
        """Quantized weights: each weight replaced by the centre of its cluster.

        Returns
        -------
        ndarray of shape (n,) or (trials, n)
            Same shape as the ``w`` (or ``W``) that was quantized.
        """
        if self.batched:
            if self.centers.ndim == 3:  # blocks: (trials, n / m, m) -> (trials, n)
                rec = np.take_along_axis(self.centers, self.labels[:, :, None], axis=1)
                return rec.reshape(self.labels.shape[0], -1)
            return np.take_along_axis(self.centers, self.labels, axis=1)
        return self.centers[self.labels].reshape(-1)


# --------------------------------------------------------------------------------------
# small public helpers
# --------------------------------------------------------------------------------------
def centers_diameter(centers) -> float:
    r"""Largest squared distance between two cluster centres (regularizer of eq. (33)).

    .. math::

        \operatorname{diam}(c) = \max_{k_1, k_2} \lVert c^{(k_1)} - c^{(k_2)} \rVert_2^2 .

    Parameters
    ----------
    centers : array-like of shape (K,) or (K, m)
        Scalar centres or K centre vectors of length m.

    Returns
    -------
    float
        The squared diameter (0 when K = 1). Multiply by ``beta`` to get the penalty of
        eq. (34)/(35).

    References
    ----------
    Bu et al. (2021), eq. (33).

    Examples
    --------
    >>> centers_diameter([-1.0, 0.5, 2.0])
    9.0
    >>> centers_diameter([[0.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    25.0
    """
    c = as_finite_array(centers, "centers", ndim=(1, 2))
    if c.shape[0] < 1:
        raise ValueError(f"centers must hold at least one centre, got shape {c.shape}")
    if c.ndim == 1:
        return float((c.max() - c.min()) ** 2)
    return float(_max_pair(c)[2])


@validate_params(axis=Options(None, Integer()))
def hw_distortion(w, w_hat, h=None, *, axis=None):
    r"""Hessian-weighted squared error between weights and their quantized values.

    .. math::

        d_H(w, \hat w) = \sum_j h^{(j)} \bigl(w^{(j)} - \hat w^{(j)}\bigr)^2 ,

    the diagonal second-order approximation of the increase of the empirical risk
    (eq. (29) with a vanishing gradient), minimised by eq. (30).

    Parameters
    ----------
    w, w_hat : array-like of the same shape
        Original and quantized weights.
    h : array-like of the same shape, optional
        Non-negative diagonal Hessian entries; ``None`` means all ones (plain squared
        error).
    axis : None or int or tuple of int, default None
        Axes summed over (``None``: all, giving a float).

    Returns
    -------
    float or ndarray
        The weighted squared error.

    References
    ----------
    Bu et al. (2021), eqs. (29)-(30); Choi et al. (2017).

    Examples
    --------
    >>> hw_distortion([1.0, 2.0], [1.5, 2.0], h=[4.0, 1.0])
    1.0
    """
    w = as_finite_array(w, "w")
    w_hat = as_finite_array(w_hat, "w_hat")
    if w_hat.shape != w.shape:
        raise ValueError(f"w_hat must have the shape of w {w.shape}, got {w_hat.shape}")
    h = _check_h(h, w.shape)
    out = np.sum(h * (w - w_hat) ** 2, axis=axis)
    return float(out) if np.ndim(out) == 0 else out


# --------------------------------------------------------------------------------------
# validation helpers
# --------------------------------------------------------------------------------------
def _check_real(x, name: str, *, low: float = 0.0) -> float:
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {x!r}")
    x = float(x)
    if not np.isfinite(x) or x < low:
        raise ValueError(f"{name} must be a finite number >= {low}, got {x}")
    return x


def _check_h(h, shape, name="h", wname="w") -> np.ndarray:
    if h is None:
        return np.ones(shape)
    h = as_finite_array(h, name)
    if h.shape != tuple(shape):
        raise ValueError(f"{name} must have the shape of {wname} {tuple(shape)}, got {h.shape}")
    neg = np.flatnonzero(h.ravel() < 0)
    if neg.size:
        idx = (
            tuple(int(i) for i in np.unravel_index(neg[0], h.shape)) if h.ndim > 1 else int(neg[0])
        )
        raise ValueError(
            f"{name} must be >= 0 (clip negative Hessian estimates first); entry {idx} is "
            f"{h.ravel()[neg[0]]}"
        )
    return h


def _check_n_clusters(n_clusters, n_points: int, what: str) -> int:
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral):
        raise ValueError(f"n_clusters must be an integer, got {n_clusters!r}")
    k = int(n_clusters)
    if k < 1 or k > n_points:
        raise ValueError(
            f"n_clusters must be between 1 and the number of {what} ({n_points}), got {k}"
        )
    return k


def _check_init(init, shape_expected) -> np.ndarray | str:
    if isinstance(init, str):
        if init not in _INITS:
            raise ValueError(f"init must be one of {_INITS} or an array of centres, got {init!r}")
        return init
    c0 = as_finite_array(init, "init")
    if c0.shape not in shape_expected:
        raise ValueError(
            f"init array must have shape {' or '.join(map(str, shape_expected))}, got {c0.shape}"
        )
    return c0


# --------------------------------------------------------------------------------------
# initialisation
# --------------------------------------------------------------------------------------
def _linear_init(X: np.ndarray, K: int) -> np.ndarray:
    """Centres evenly spaced on the segment from min to max (per coordinate).

    X has shape (T, nb, m); returns (T, K, m). K = 1 gives the midpoint.
    """
    lo = X.min(axis=1)
    hi = X.max(axis=1)
    t = np.arange(K) / (K - 1) if K > 1 else np.array([0.5])
    return lo[:, None, :] + (hi - lo)[:, None, :] * t[None, :, None]


def _quantile_init(X: np.ndarray, K: int) -> np.ndarray:
    """Centres at the quantiles (2k + 1) / (2K), k = 0..K-1, of the points (per coordinate).

    X has shape (T, nb, m); returns (T, K, m). These are the medians of K groups of equal
    size, the start used by Bu et al.'s code (``init='quantile'``); the Hessian weights
    play no part. Quantiles interpolate linearly between order statistics (numpy's default).
    """
    q = (2.0 * np.arange(K) + 1.0) / (2.0 * K)
    return np.moveaxis(np.quantile(X, q, axis=1), 0, 1)


def _initial_centres(init, X, S, K, rng):
    """Initial centres (T, K, m) of the named method ``init`` for points X (T, nb, m)."""
    if init == "linear":
        return _linear_init(X, K)
    if init == "quantile":
        return _quantile_init(X, K)
    return _kmeanspp_init(X, S, K, as_generator(rng))


def _check_diameter(diameter, m):
    if not isinstance(diameter, str) or diameter not in DIAMETER_PENALTIES:
        raise ValueError(f"diameter must be one of {DIAMETER_PENALTIES}, got {diameter!r}")
    if diameter == "linear" and m != 1:
        raise ValueError(f"diameter='linear' is defined for scalar quantization (block=1), "
                         f"got block={m}")
    return diameter


def _kmeanspp_init(X: np.ndarray, S: np.ndarray, K: int, rng: np.random.Generator):
    """k-means++ seeding (Arthur & Vassilvitskii 2007) with point weights, batched.

    X (T, nb, m) points, S (T, nb) non-negative point weights (sum of the Hessian entries
    of a block). The first centre is drawn with probability proportional to S, each next
    one proportional to S times the squared distance to the nearest chosen centre; rows
    whose weights are all zero fall back to uniform probabilities.
    """
    T, nb, m = X.shape
    rows = np.arange(T)

    def draw(p):
        tot = p.sum(axis=1, keepdims=True)
        p = np.where(tot > 0, p, 1.0)
        cum = np.cumsum(p, axis=1)
        u = rng.random(T) * cum[:, -1]
        idx = (cum <= u[:, None]).sum(axis=1)
        return np.minimum(idx, nb - 1)

    C = np.empty((T, K, m))
    C[:, 0] = X[rows, draw(S)]
    d2 = np.sum((X - C[:, 0][:, None, :]) ** 2, axis=2)
    for k in range(1, K):
        C[:, k] = X[rows, draw(S * d2)]
        d2 = np.minimum(d2, np.sum((X - C[:, k][:, None, :]) ** 2, axis=2))
    return C


# --------------------------------------------------------------------------------------
# scalar (and batched scalar) Algorithm 1
# --------------------------------------------------------------------------------------
# The scalar engine sorts every row once. On sorted weights a nearest-centre assignment
# is a set of K contiguous runs, so an assignment is stored as the order of the centres
# (``corder``, shape (T, K)) and the run boundaries (``bnd``, shape (T, K + 1)); run j of
# row t holds the sorted positions bnd[t, j]:bnd[t, j + 1] and belongs to centre
# corder[t, j]. Finding the runs costs O(K log n) per row (binary search), and the
# cluster sums of the update step are sums over runs (``numpy.add.reduceat``), which add
# only the members of each cluster. Labels in the original order are built once, at the
# end. Every quantity of row t depends on row t alone and is computed in the same way
# whatever the number of rows (sums over the same runs in the same order; the binary
# searches return the same integers), so a batch reproduces single runs bit for bit.
def _sorted_rows(W: np.ndarray, H: np.ndarray):
    """Sort each row of W (T, n); returns the permutation, sorted W and H, and padded flat
    copies of H and H*W (a trailing 0 makes index T*n valid for ``reduceat``)."""
    order = np.argsort(W, axis=1, kind="stable")
    Ws = np.take_along_axis(W, order, axis=1)
    Hs = np.take_along_axis(H, order, axis=1)
    flat_h = np.zeros(Hs.size + 1)
    flat_h[:-1] = Hs.ravel()
    flat_hw = np.zeros(Hs.size + 1)
    np.multiply(Hs.ravel(), Ws.ravel(), out=flat_hw[:-1])
    return order, Ws, Hs, flat_h, flat_hw


def _searchsorted_rows(S: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``numpy.searchsorted(S[t], q[t], side="right")`` for every row t of sorted S (T, n).

    One row uses numpy directly; several rows run one branch-free bisection over all
    queries at once (about log2(n) steps), which returns the same integers. Invariant:
    the answer lies in [base, base + length].
    """
    T, n = S.shape
    if T == 1:
        return np.searchsorted(S[0], q[0], side="right")[None, :]
    flat = S.ravel()
    row0 = np.arange(0, T * n, n, dtype=np.int64)[:, None]
    base = np.broadcast_to(row0, q.shape).copy()
    length = n
    while length > 1:
        half = length // 2
        base += (flat[base + (half - 1)] <= q) * half
        length -= half
    return base + (flat[base] <= q) - row0


def _assign_sorted(Ws: np.ndarray, C: np.ndarray):
    """Nearest centre (eq. (36)) on sorted rows Ws (T, n) for centres C (T, K).

    Returns ``(corder, bnd)`` (see the comment above). The centres are sorted (stable,
    so equal centres keep their index order) and a weight goes to the run between the
    midpoints of consecutive sorted centres; a weight exactly at a midpoint goes to the
    smaller centre (run boundary = number of weights <= midpoint).
    """
    T, K = C.shape
    n = Ws.shape[1]
    corder = np.argsort(C, axis=1, kind="stable")
    bnd = np.empty((T, K + 1), dtype=np.int64)
    bnd[:, 0] = 0
    bnd[:, K] = n
    if K > 1:
        cs = np.take_along_axis(C, corder, axis=1)
        mid = 0.5 * (cs[:, :-1] + cs[:, 1:])
        bnd[:, 1:K] = _searchsorted_rows(Ws, mid)
    return corder, bnd


def _run_sums(flat, rows: np.ndarray, n: int, corder, bnd) -> np.ndarray:
    """Sum of ``flat`` over each run, returned per centre index, shape (len(rows), K).

    ``flat`` is a padded flattened (T, n) array and ``rows`` the row numbers of the runs.
    Start and end indices are interleaved so that ``reduceat`` sums exactly the members
    of each run (and nothing else); empty runs give 0. ``flat=None`` stands for an array
    of ones: the sums are then the run lengths, which is what adding ones gives exactly.
    """
    Ta, K = corder.shape
    if flat is None:
        sums = np.diff(bnd, axis=1).astype(float)
    else:
        off = (rows * n)[:, None]
        idx = np.empty((Ta, K, 2), dtype=np.int64)
        idx[:, :, 0] = bnd[:, :-1] + off
        idx[:, :, 1] = bnd[:, 1:] + off
        sums = np.add.reduceat(flat, idx.ravel())[::2].reshape(Ta, K)
        sums[bnd[:, 1:] == bnd[:, :-1]] = 0.0
    out = np.empty_like(sums)
    np.put_along_axis(out, corder, sums, axis=1)
    return out


def _pair_solve(a1, b1, a2, b2, old1, old2, beta):
    r"""Exact joint minimiser of the two-cluster objective of eq. (37), per coordinate.

    Minimising :math:`\sum_{C_1} h (w - c_1)^2 + \sum_{C_2} h (w - c_2)^2
    + \beta (c_1 - c_2)^2` gives the linear system
    :math:`(a_1 + \beta) c_1 - \beta c_2 = b_1`, :math:`-\beta c_1 + (a_2 + \beta) c_2 = b_2`
    with :math:`a = \sum h` and :math:`b = \sum h w` over each cluster; its determinant
    is :math:`a_1 a_2 + \beta (a_1 + a_2)`. When it vanishes (both clusters without
    Hessian mass) the old centres are kept.
    """
    det = a1 * a2 + beta * (a1 + a2)
    ok = det > 0
    safe = np.where(ok, det, 1.0)
    c1 = np.where(ok, ((a2 + beta) * b1 + beta * b2) / safe, old1)
    c2 = np.where(ok, (beta * b1 + (a1 + beta) * b2) / safe, old2)
    return c1, c2


def _update_scalar(A, B, C, beta, diameter="squared"):
    """Update step of Algorithm 1 for each row from the cluster sums A = sum h and
    B = sum h w (T, K): eq. (37) for the farthest pair, else (38); with
    ``diameter="linear"`` the end centres are moved inward instead (see
    :func:`_shift_end_centres`)."""
    T, K = C.shape
    Cn = C.copy()
    np.divide(B, A, out=Cn, where=A > 0)
    if beta > 0 and K > 1:
        r = np.arange(T)
        k1 = np.argmin(C, axis=1)
        k2 = np.argmax(C, axis=1)
        same = k1 == k2  # all centres equal: every pair is farthest, take (0, 1)
        k1 = np.where(same, 0, k1)
        k2 = np.where(same, 1, k2)
        if diameter == "linear":
            _shift_end_centres(A, B, Cn, k1, k2, beta)
        else:
            c1, c2 = _pair_solve(A[r, k1], B[r, k1], A[r, k2], B[r, k2], C[r, k1], C[r, k2],
                                 beta)
            Cn[r, k1] = c1
            Cn[r, k2] = c2
    return Cn


def _shift_end_centres(A, B, Cn, k1, k2, beta):
    r"""Update of the end centres for the linear diameter penalty, in place on Cn (T, K).

    With the other centres fixed at their weighted means, the end centre :math:`c_{k_1}`
    (smallest before the update) minimises
    :math:`a_1 (c - \bar w_1)^2 - \tfrac{\beta}{2} c` subject to staying at or below the
    next centre, so it moves up by :math:`\beta / (4 a_1)` and is clipped there; the
    largest centre moves down symmetrically. With K = 2, if the two shifted centres would
    cross, the joint minimiser under :math:`c_{k_1} \le c_{k_2}` puts both at the
    weighted mean of the two clusters. A cluster without Hessian mass keeps its centre.
    This is the ``diameter_reg`` step of ``weighted_k_means_cpu`` in Bu et al.'s code,
    without its 1e-8 offsets.
    """
    T, K = Cn.shape
    r = np.arange(T)
    a1, a2 = A[r, k1], A[r, k2]
    lo = Cn[r, k1] + np.where(a1 > 0, beta / (4.0 * np.where(a1 > 0, a1, 1.0)), 0.0)
    hi = Cn[r, k2] - np.where(a2 > 0, beta / (4.0 * np.where(a2 > 0, a2, 1.0)), 0.0)
    if K == 2:
        tot = a1 + a2
        pooled = np.where(tot > 0, (B[r, k1] + B[r, k2]) / np.where(tot > 0, tot, 1.0),
                          0.5 * (lo + hi))
        cross = lo > hi
        lo = np.where(cross, pooled, lo)
        hi = np.where(cross, pooled, hi)
    else:
        inner = Cn.copy()
        inner[r, k1] = np.inf
        low_inner = inner.min(axis=1)
        inner[r, k1] = -np.inf
        inner[r, k2] = -np.inf
        high_inner = inner.max(axis=1)
        lo = np.minimum(lo, low_inner)
        hi = np.maximum(hi, high_inner)
    Cn[r, k1] = lo
    Cn[r, k2] = hi


def _objective_sorted(Ws, Hs, C, corder, bnd, beta, diameter="squared"):
    """Eq. (34) per row on sorted rows, each weight compared with its run's centre (with
    ``diameter="linear"``, the penalty is beta/2 times the diameter instead)."""
    cs = np.take_along_axis(C, corder, axis=1)
    rep = np.repeat(cs.ravel(), np.diff(bnd, axis=1).ravel()).reshape(Ws.shape)
    rep -= Ws
    rep *= rep
    rep *= Hs
    err = rep.sum(axis=1)
    if beta > 0:
        spread = C.max(axis=1) - C.min(axis=1)
        err = err + (0.5 * beta * spread if diameter == "linear" else beta * spread**2)
    return err


def _labels_from_runs(order, corder, bnd):
    """Labels (T, n) in the original order from the runs of the sorted rows."""
    T, n = order.shape
    ls = np.repeat(corder.ravel(), np.diff(bnd, axis=1).ravel()).reshape(T, n)
    L = np.empty((T, n), dtype=np.int64)
    np.put_along_axis(L, order, ls, axis=1)
    return L


def _run_scalar_numpy(W, H, C0, beta, max_iter, tol, diameter="squared"):
    """Algorithm 1 on every row of W (T, n) with numpy (the engine used without numba);
    rows are frozen once they stop."""
    T, n = W.shape
    order, Ws, Hs, flat_h, flat_hw = _sorted_rows(W, H)
    if np.all(H == 1.0):  # unweighted: cluster masses are counts
        flat_h = None
    C = C0.copy()
    corder, bnd = _assign_sorted(Ws, C)
    hist = np.full((T, max_iter + 1), np.nan)
    hist[:, 0] = _objective_sorted(Ws, Hs, C, corder, bnd, beta, diameter)
    n_iter = np.zeros(T, dtype=np.int64)
    reason = np.full(T, "max_iter", dtype="<U11")
    active = np.arange(T)
    for t in range(1, max_iter + 1):
        full = active.size == T
        Wa = Ws if full else Ws[active]
        Ha = Hs if full else Hs[active]
        Ca = C if full else C[active]
        if t == 1:
            co, bd = corder, bnd
        else:
            co, bd = _assign_sorted(Wa, Ca)
        A = _run_sums(flat_h, active, n, co, bd)
        B = _run_sums(flat_hw, active, n, co, bd)
        Cn = _update_scalar(A, B, Ca, beta, diameter)
        En = _objective_sorted(Wa, Ha, Cn, co, bd, beta, diameter)
        prev = hist[active, t - 1]
        fixed = np.all(Cn == Ca, axis=1)  # before C is overwritten (Ca may be a view)
        small = np.abs(prev - En) <= tol * np.abs(prev)
        C[active] = Cn
        corder[active] = co
        bnd[active] = bd
        hist[active, t] = En
        n_iter[active] = t
        reason[active[fixed]] = "fixed_point"
        reason[active[small & ~fixed]] = "tol"
        active = active[~(fixed | small)]
        if active.size == 0:
            break
    return C, _labels_from_runs(order, corder, bnd), hist, n_iter, reason


# --------------------------------------------------------------------------------------
# vector Algorithm 1
# --------------------------------------------------------------------------------------
def _max_pair(C: np.ndarray):
    """Farthest pair (k1 < k2) of centres C (K, m), first in row-major order, and its
    squared distance. K = 1 gives (0, 0, 0.0)."""
    K = C.shape[0]
    if K == 1:
        return 0, 0, 0.0
    d = np.sum((C[:, None, :] - C[None, :, :]) ** 2, axis=2)
    iu, ju = np.triu_indices(K, 1)
    p = int(np.argmax(d[iu, ju]))
    return int(iu[p]), int(ju[p]), float(d[iu[p], ju[p]])


def _assign_vector(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Nearest centre in plain squared Euclidean distance (eq. (36)); ties to lower k."""
    nb, m = X.shape
    K = C.shape[0]
    L = np.empty(nb, dtype=np.int64)
    step = max(1, _CHUNK // (K * m))
    for a in range(0, nb, step):
        b = min(nb, a + step)
        d = np.sum((X[a:b, None, :] - C[None, :, :]) ** 2, axis=2)
        L[a:b] = np.argmin(d, axis=1)
    return L


def _update_vector(X, HX, L, C, beta):
    K, m = C.shape
    idx = (L[:, None] * m + np.arange(m)[None, :]).ravel()
    A = np.bincount(idx, weights=HX.ravel(), minlength=K * m).reshape(K, m)
    B = np.bincount(idx, weights=(HX * X).ravel(), minlength=K * m).reshape(K, m)
    Cn = C.copy()
    np.divide(B, A, out=Cn, where=A > 0)
    if beta > 0 and K > 1:
        k1, k2, _ = _max_pair(C)
        Cn[k1], Cn[k2] = _pair_solve(A[k1], B[k1], A[k2], B[k2], C[k1], C[k2], beta)
    return Cn


def _objective_vector(X, HX, C, L, beta):
    err = float(np.sum(HX * (X - C[L]) ** 2))
    if beta > 0:
        err += beta * _max_pair(C)[2]
    return err


def _run_vector(X, HX, C0, beta, max_iter, tol):
    C = C0.copy()
    L = _assign_vector(X, C)
    hist = [_objective_vector(X, HX, C, L, beta)]
    reason = "max_iter"
    for t in range(1, max_iter + 1):
        if t > 1:
            L = _assign_vector(X, C)
        Cn = _update_vector(X, HX, L, C, beta)
        En = _objective_vector(X, HX, Cn, L, beta)
        fixed = bool(np.all(Cn == C))
        small = abs(hist[-1] - En) <= tol * abs(hist[-1])
        C = Cn
        hist.append(En)
        if fixed or small:
            reason = "fixed_point" if fixed else "tol"
            break
    return C, L, np.asarray(hist), len(hist) - 1, reason


# --------------------------------------------------------------------------------------
# compiled engines (numba): scalar Algorithm 1 on prefix sums, vector Algorithm 1, and
# the exact 1-D optimum, each one kernel over the rows of a (trials, n) array
# --------------------------------------------------------------------------------------
# The functions of this section are written in the subset of Python that numba compiles;
# :func:`_jit` compiles a kernel on first use (the small helpers are compiled into it), and
# they also run, slowly, as plain Python, which the tests use on small inputs.
#
# Scalar engine. Each row is sorted once. Prefix sums of h, h v and h v^2 over the sorted
# row, with v = w - ref centred at the row's median, are kept as double-double numbers (a
# rounded running sum and the sum of its rounding errors, from error-free transformations:
# Knuth's TwoSum and Dekker's product), so the sum over any run of sorted positions is
# known to about n eps^2 times the row total, whatever the offset of the data. They are
# stored every _PREFIX_STRIDE positions and continued by the same steps up to a boundary
# (the stores would otherwise cost more than the arithmetic). An assignment is the order
# of the centres and the K + 1 run boundaries (searches of the midpoints, started from the
# previous boundaries); the update needs each run's sums, and the objective of a run at
# centre c is Q + S0 (c - mean)^2 with Q = S2 - S1^2 / S0 evaluated in double-double
# arithmetic, so an iteration costs O(K log n) and the objective agrees with a direct
# evaluation to a few eps. Labels in the original order are written once, at the end.
_SPLIT = 134217729.0  # 2**27 + 1, Dekker's constant: splits a double into two 26-bit halves
_PREFIX_STRIDE = 32  # running sums are stored every this many sorted positions
_RADIX_MIN = 2048  # rows at least this long are sorted by radix sort
_REASONS = np.array(["max_iter", "fixed_point", "tol"])


def _two_sum(a, b):
    """Error-free sum (Knuth): ``s = fl(a + b)`` and ``e`` with ``s + e == a + b``."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _two_prod(a, b):
    """Error-free product (Dekker): ``p = fl(a * b)`` and ``e`` with ``p + e == a * b``
    (barring underflow or overflow)."""
    p = a * b
    c = _SPLIT * a
    ah = c - (c - a)
    al = a - ah
    c = _SPLIT * b
    bh = c - (c - b)
    bl = b - bh
    return p, al * bl - (((p - ah * bh) - al * bh) - ah * bl)


def _radix_argsort(w, order, keys, tmpk, tmpi):
    """Stable sorting permutation of the float64 vector ``w`` into ``order`` (LSD radix sort).

    Each double is mapped to an unsigned 64-bit key with the same order (sign bit set for
    positive numbers, all bits flipped for negative ones, -0.0 taken as +0.0), then sorted
    by eight passes of 8-bit digits, each stable; a pass whose digit is the same for every key
    is skipped. ``keys``, ``tmpk`` (uint64) and ``tmpi`` (int64) are scratch of length n.
    Equal values keep their index order, so the result is ``numpy.argsort(w,
    kind="stable")``; on 10^6 doubles it takes a third of numpy's default argsort.
    """
    n = w.shape[0]
    u = w.view(np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    zero = np.uint64(0)
    for i in range(n):
        k = u[i]
        if k == sign:  # -0.0 sorts with +0.0
            k = zero
        keys[i] = ~k if (k & sign) != zero else (k | sign)
        order[i] = i
    hist = np.zeros((8, 256), dtype=np.int64)
    for i in range(n):
        k = keys[i]
        for b in range(8):
            hist[b, (k >> np.uint64(8 * b)) & np.uint64(255)] += 1
    src_k = keys
    src_i = order
    dst_k = tmpk
    dst_i = tmpi
    off = np.empty(256, dtype=np.int64)
    moved = 0
    for b in range(8):
        shift = np.uint64(8 * b)
        if hist[b, (src_k[0] >> shift) & np.uint64(255)] == n:
            continue  # every key has this digit
        acc = 0
        for d in range(256):
            off[d] = acc
            acc += hist[b, d]
        for i in range(n):
            k = src_k[i]
            d = (k >> shift) & np.uint64(255)
            p = off[d]
            off[d] = p + 1
            dst_k[p] = k
            dst_i[p] = src_i[i]
        src_k, dst_k = dst_k, src_k
        src_i, dst_i = dst_i, src_i
        moved += 1
    if moved % 2 == 1:  # the permutation ended in the scratch array
        for i in range(n):
            order[i] = src_i[i]


def _sort_row(w, order, keys, tmpk, tmpi):
    """Stable sorting permutation of ``w`` into ``order``: radix sort from
    ``_RADIX_MIN`` weights on, a merge sort below (the same permutation either way)."""
    if w.shape[0] >= _RADIX_MIN:
        _radix_argsort(w, order, keys, tmpk, tmpi)
    else:
        order[:] = np.argsort(w, kind="mergesort")


def _dd_step(x, ref, g, weighted, s0, l0, s1, l1, s2, l2):
    """Running sums after one more weight x with Hessian g (1 if not ``weighted``): pairs
    (rounded sum, accumulated rounding error) of h, h v and h v^2 for the centred weight
    v = x - ref. The centring, the products and the sums are error-free transformations
    (TwoSum, Dekker's product); only terms of relative size eps^2 are rounded."""
    u, ue = _two_sum(x, -ref)  # v = u + ue exactly
    q, qe = _two_prod(u, u)
    qe += (u + u + ue) * ue  # v^2 = q + qe up to eps^2
    if weighted:
        v1, e1 = _two_prod(g, u)
        e1 += g * ue
        v2, e2 = _two_prod(g, q)
        e2 += g * qe
        s0, d = _two_sum(s0, g)
        l0 += d
    else:
        v1 = u
        e1 = ue
        v2 = q
        e2 = qe
        s0 += 1.0
    s1, d = _two_sum(s1, v1)
    l1 += d + e1
    s2, d = _two_sum(s2, v2)
    l2 += d + e2
    return s0, l0, s1, l1, s2, l2


def _dd_prefix(w, h, order, weighted, xs, hs, BP):
    """Sorted row and its double-double prefix sums every ``_PREFIX_STRIDE`` positions.

    ``xs[i] = w[order[i]]`` (and ``hs[i] = h[order[i]]`` if ``weighted``, else h = 1);
    ``BP[r]`` (6,) holds the running sums of :func:`_dd_step` (h, its error, h v, its
    error, h v^2, its error) of the centred weights ``v = w - ref`` over the first
    ``r * _PREFIX_STRIDE`` sorted weights. Returns ``ref``, the median of the row, so that
    the sums do not carry an offset of the data. The gather is a separate pass: random
    reads inside the arithmetic loop would stall it.
    """
    n = xs.shape[0]
    for i in range(n):
        xs[i] = w[order[i]]
    if weighted:
        for i in range(n):
            hs[i] = h[order[i]]
    ref = xs[n // 2]
    s0 = 0.0
    l0 = 0.0
    s1 = 0.0
    l1 = 0.0
    s2 = 0.0
    l2 = 0.0
    for c in range(6):
        BP[0, c] = 0.0
    r = 0
    for i in range(n):
        s0, l0, s1, l1, s2, l2 = _dd_step(xs[i], ref, hs[i] if weighted else 1.0, weighted,
                                          s0, l0, s1, l1, s2, l2)
        if (i + 1) % _PREFIX_STRIDE == 0:
            r += 1
            BP[r, 0] = s0
            BP[r, 1] = l0
            BP[r, 2] = s1
            BP[r, 3] = l1
            BP[r, 4] = s2
            BP[r, 5] = l2
    return ref


def _dd_prefix_at(xs, hs, weighted, ref, BP, b, out):
    """Running sums over the first b sorted weights into ``out`` (6,): the stored sums of
    the last multiple of ``_PREFIX_STRIDE``, continued by the same steps, so the result
    does not depend on how it is reached."""
    r = b // _PREFIX_STRIDE
    s0 = BP[r, 0]
    l0 = BP[r, 1]
    s1 = BP[r, 2]
    l1 = BP[r, 3]
    s2 = BP[r, 4]
    l2 = BP[r, 5]
    for i in range(r * _PREFIX_STRIDE, b):
        s0, l0, s1, l1, s2, l2 = _dd_step(xs[i], ref, hs[i] if weighted else 1.0, weighted,
                                          s0, l0, s1, l1, s2, l2)
    out[0] = s0
    out[1] = l0
    out[2] = s1
    out[3] = l1
    out[4] = s2
    out[5] = l2


def _dd_range(P, a, b, c):
    """Difference of the running sums in columns (c, c + 1) of rows b and a of ``P``, as
    a normalised double-double (hi, lo): hi is the rounded sum over the run, exactly 0
    for an empty run or a run without mass."""
    s, e = _two_sum(P[b, c], -P[a, c])
    return _two_sum(s, e + (P[b, c + 1] - P[a, c + 1]))


def _count_le(xs, mid, lo, hint):
    """Number of entries of the sorted ``xs`` that are <= ``mid``, known to be >= ``lo``.

    With ``hint >= 0`` (the answer of the previous iteration) the search gallops from the
    hint, so that it reads memory near it; otherwise it bisects [lo, n]. Both give the
    same integer.
    """
    n = xs.shape[0]
    hi = n
    if hint >= 0:
        i = min(max(hint, lo), n)
        step = 1
        if i < n and xs[i] <= mid:  # the answer is above i
            lo = i + 1
            while True:
                p = lo + step - 1
                if p >= n:
                    break
                if xs[p] <= mid:
                    lo = p + 1
                    step *= 2
                else:
                    hi = p
                    break
        else:  # the answer is at most i
            hi = i
            while True:
                p = hi - step
                if p < lo:
                    break
                if xs[p] > mid:
                    hi = p
                    step *= 2
                else:
                    lo = p + 1
                    break
    while lo < hi:
        m = (lo + hi) >> 1
        if xs[m] <= mid:
            lo = m + 1
        else:
            hi = m
    return lo


def _scalar_assign(xs, C, corder, bnd, warm):
    """Nearest-centre assignment (eq. (36)) of the sorted row ``xs`` to centres ``C``.

    Writes the stable order of the centres into ``corder`` and the run boundaries into
    ``bnd`` (K + 1): run j, positions bnd[j]:bnd[j + 1], belongs to centre corder[j]. A
    weight exactly at a midpoint goes to the smaller centre (boundary = number of weights
    <= midpoint). With ``warm`` the previous boundaries seed the searches.
    """
    K = C.shape[0]
    if K <= 32:  # stable insertion sort, no allocation
        for k in range(K):
            corder[k] = k
        for i in range(1, K):
            v = corder[i]
            j = i - 1
            while j >= 0 and C[corder[j]] > C[v]:
                corder[j + 1] = corder[j]
                j -= 1
            corder[j + 1] = v
    else:
        corder[:] = np.argsort(C, kind="mergesort")
    bnd[0] = 0
    bnd[K] = xs.shape[0]
    lo = 0
    for j in range(1, K):
        mid = 0.5 * (C[corder[j - 1]] + C[corder[j]])
        lo = _count_le(xs, mid, lo, bnd[j] if warm else -1)
        bnd[j] = lo


def _scalar_stats(PB, xs, ref, bnd, corder, A, B, Q, MH, ML):
    """Sums of every run, per centre k (in place), from the running sums ``PB`` (K + 1, 6)
    of the centred weights v at the run boundaries: mass A = sum h, B = sum h v (both
    rounded), the weighted sum of squares about the run's mean Q = S2 - S1^2 / S0
    (double-double arithmetic) and the centred mean MH + ML (double-double). Runs without
    mass get A = B = Q = 0; a run of equal weights gets Q = 0 and its value as mean,
    exactly."""
    for j in range(corder.shape[0]):
        k = corder[j]
        m0, m0l = _dd_range(PB, j, j + 1, 0)
        if m0 > 0.0:
            s1, s1l = _dd_range(PB, j, j + 1, 2)
            s2, s2l = _dd_range(PB, j, j + 1, 4)
            q1 = s1 / m0
            p, pe = _two_prod(q1, m0)
            r = (((s1 - p) - pe) + s1l) - q1 * m0l
            mh, ml = _two_sum(q1, r / m0)
            t, te = _two_prod(s1, mh)
            te += s1 * ml + s1l * mh
            d, de = _two_sum(s2, -t)
            q = d + ((de + s2l) - te)
            a = bnd[j]
            if xs[a] == xs[bnd[j + 1] - 1]:  # all weights of the run are equal
                mh, ml = _two_sum(xs[a], -ref)
                q = 0.0
            A[k] = m0
            B[k] = s1
            Q[k] = q if q > 0.0 else 0.0
            MH[k] = mh
            ML[k] = ml
        else:
            A[k] = 0.0
            B[k] = 0.0
            Q[k] = 0.0
            MH[k] = 0.0
            ML[k] = 0.0


def _boundary_sums(xs, hs, weighted, ref, BP, bnd, known, PB):
    """Running sums at every run boundary into ``PB`` (K + 1, 6); rows whose boundary
    equals ``known`` (the previous boundaries; -1 = none) are kept. ``known`` is updated."""
    for j in range(bnd.shape[0]):
        if bnd[j] != known[j]:
            _dd_prefix_at(xs, hs, weighted, ref, BP, bnd[j], PB[j])
            known[j] = bnd[j]


def _uncentre(ref, mh, ml):
    """The double nearest (up to one rounding) to ``ref + mh + ml``."""
    c, e = _two_sum(ref, mh)
    return c + (e + ml)


def _scalar_objective(C, corder, A, Q, MH, ML, ref, beta, linear):
    """Eq. (34) (or the linear penalty) at centres C for the runs of the last assignment:
    sum over runs of Q + A (c - mean)^2, plus the diameter penalty; c - mean is formed
    exactly from c - ref and the double-double centred mean."""
    f = 0.0
    for j in range(corder.shape[0]):
        k = corder[j]
        if A[k] > 0.0:
            u, ue = _two_sum(C[k], -ref)
            dc = (u - MH[k]) + (ue - ML[k])
            f += Q[k] + A[k] * dc * dc
    if beta > 0.0:
        spread = C.max() - C.min()
        if linear:
            f += 0.5 * beta * spread
        else:
            f += beta * spread * spread
    return f


def _scalar_update(C, A, B, MH, ML, ref, beta, linear, Cn):
    """Update step of Algorithm 1 for one row into Cn: weighted means (eq. (38)), then
    eq. (37) for the farthest pair (first smallest and first largest previous centre,
    (0, 1) if all coincide), or the linear-penalty shift of the end centres. ``B``,
    ``MH`` and ``ML`` are centred at ``ref`` (the solutions are translation equivariant)."""
    K = C.shape[0]
    for k in range(K):
        Cn[k] = _uncentre(ref, MH[k], ML[k]) if A[k] > 0.0 else C[k]
    if beta > 0.0 and K > 1:
        k1 = 0
        k2 = 0
        for k in range(1, K):
            if C[k] < C[k1]:
                k1 = k
            if C[k] > C[k2]:
                k2 = k
        if k1 == k2:
            k1 = 0
            k2 = 1
        a1 = A[k1]
        a2 = A[k2]
        if linear:
            lo = Cn[k1] + (beta / (4.0 * a1) if a1 > 0.0 else 0.0)
            hi = Cn[k2] - (beta / (4.0 * a2) if a2 > 0.0 else 0.0)
            if K == 2:
                tot = a1 + a2
                if lo > hi:
                    pooled = ref + (B[k1] + B[k2]) / tot if tot > 0.0 else 0.5 * (lo + hi)
                    lo = pooled
                    hi = pooled
            else:
                low_inner = np.inf
                high_inner = -np.inf
                for k in range(K):
                    if k != k1 and Cn[k] < low_inner:
                        low_inner = Cn[k]
                    if k != k1 and k != k2 and Cn[k] > high_inner:
                        high_inner = Cn[k]
                lo = min(lo, low_inner)
                hi = max(hi, high_inner)
            Cn[k1] = lo
            Cn[k2] = hi
        else:
            det = a1 * a2 + beta * (a1 + a2)
            if det > 0.0:
                b1 = B[k1]
                b2 = B[k2]
                Cn[k1] = ref + ((a2 + beta) * b1 + beta * b2) / det
                Cn[k2] = ref + (beta * b1 + (a1 + beta) * b2) / det
            else:
                Cn[k1] = C[k1]
                Cn[k2] = C[k2]


def _scalar_rows(W, H, weighted, C0, beta, linear, max_iter, tol, C_out, L_out, hist, n_iter,
                 reason):
    """Scalar Algorithm 1 on every row of W (T, n), one row after the other.

    Each row is sorted once (:func:`_sort_row`); ``H`` is ignored unless ``weighted``.
    Outputs (in place): centres C_out (T, K), labels L_out (T, n), objective history ``hist``
    (T, max_iter + 1; entries after a row stopped are left as they were), ``n_iter`` and
    the stop ``reason`` (0 max_iter, 1 fixed_point, 2 tol) per row.
    """
    T, n = W.shape
    K = C0.shape[1]
    order = np.empty(n, dtype=np.int64)
    m = n if n >= _RADIX_MIN else 0
    keys = np.empty(m, dtype=np.uint64)
    tmpk = np.empty(m, dtype=np.uint64)
    tmpi = np.empty(m, dtype=np.int64)
    BP = np.empty((n // _PREFIX_STRIDE + 1, 6))
    xs = np.empty(n)
    hs = np.empty(n if weighted else 0)
    corder = np.empty(K, dtype=np.int64)
    bnd = np.empty(K + 1, dtype=np.int64)
    known = np.empty(K + 1, dtype=np.int64)
    PB = np.empty((K + 1, 6))
    A = np.empty(K)
    B = np.empty(K)
    Q = np.empty(K)
    MH = np.empty(K)
    ML = np.empty(K)
    C = np.empty(K)
    Cn = np.empty(K)
    for t in range(T):
        _sort_row(W[t], order, keys, tmpk, tmpi)
        ref = _dd_prefix(W[t], H[t] if weighted else W[t], order, weighted, xs, hs, BP)
        known[:] = -1
        for k in range(K):
            C[k] = C0[t, k]
        _scalar_assign(xs, C, corder, bnd, False)
        _boundary_sums(xs, hs, weighted, ref, BP, bnd, known, PB)
        _scalar_stats(PB, xs, ref, bnd, corder, A, B, Q, MH, ML)
        prev = _scalar_objective(C, corder, A, Q, MH, ML, ref, beta, linear)
        hist[t, 0] = prev
        code = 0
        it = 0
        while it < max_iter:
            it += 1
            if it > 1:
                _scalar_assign(xs, C, corder, bnd, True)
                _boundary_sums(xs, hs, weighted, ref, BP, bnd, known, PB)
                _scalar_stats(PB, xs, ref, bnd, corder, A, B, Q, MH, ML)
            _scalar_update(C, A, B, MH, ML, ref, beta, linear, Cn)
            en = _scalar_objective(Cn, corder, A, Q, MH, ML, ref, beta, linear)
            fixed = True
            for k in range(K):
                if Cn[k] != C[k]:
                    fixed = False
                C[k] = Cn[k]
            hist[t, it] = en
            if fixed:
                code = 1
                break
            if abs(prev - en) <= tol * abs(prev):
                code = 2
                break
            prev = en
        n_iter[t] = it
        reason[t] = code
        for k in range(K):
            C_out[t, k] = C[k]
        for j in range(K):
            k = corder[j]
            for i in range(bnd[j], bnd[j + 1]):
                L_out[t, order[i]] = k


def _vector_assign(x, m, C, L):
    """Nearest centre in plain squared Euclidean distance (eq. (36)), ties to the lower
    index, for the blocks x[i m : (i + 1) m] of the flat row x."""
    K = C.shape[0]
    for i in range(L.shape[0]):
        best = 0
        bd = np.inf
        for k in range(K):
            d = 0.0
            for c in range(m):
                e = x[i * m + c] - C[k, c]
                d += e * e
            if d < bd:
                bd = d
                best = k
        L[i] = best


def _vector_max_pair(C):
    """Farthest pair (k1 < k2) of centres C (K, m), first in row-major order, and its
    squared distance; K = 1 gives (0, 0, 0.0)."""
    K, m = C.shape
    k1 = 0
    k2 = 0
    best = -1.0
    for a in range(K):
        for b in range(a + 1, K):
            d = 0.0
            for c in range(m):
                e = C[a, c] - C[b, c]
                d += e * e
            if d > best:
                best = d
                k1 = a
                k2 = b
    return k1, k2, (best if K > 1 else 0.0)


def _vector_objective(x, g, weighted, m, C, L, beta):
    """Eq. (35): sum of h (w - c)^2 over the blocks (compensated sum) plus beta times the
    squared diameter of the centres."""
    s = 0.0
    comp = 0.0
    for i in range(L.shape[0]):
        k = L[i]
        for c in range(m):
            e = x[i * m + c] - C[k, c]
            v = g[i * m + c] * (e * e) if weighted else e * e
            s, d = _two_sum(s, v)
            comp += d
    f = s + comp
    if beta > 0.0:
        f += beta * _vector_max_pair(C)[2]
    return f


def _vector_update(x, g, weighted, m, L, C, beta, A, B, Cn):
    """Update step of Algorithm 1 for blocks: per-coordinate weighted means (eq. (38))
    and the joint solve of eq. (37) for the farthest pair of the previous centres."""
    K = C.shape[0]
    for k in range(K):
        for c in range(m):
            A[k, c] = 0.0
            B[k, c] = 0.0
    for i in range(L.shape[0]):
        k = L[i]
        for c in range(m):
            hv = g[i * m + c] if weighted else 1.0
            A[k, c] += hv
            B[k, c] += hv * x[i * m + c]
    for k in range(K):
        for c in range(m):
            Cn[k, c] = B[k, c] / A[k, c] if A[k, c] > 0.0 else C[k, c]
    if beta > 0.0 and K > 1:
        k1, k2, _ = _vector_max_pair(C)
        for c in range(m):
            a1 = A[k1, c]
            a2 = A[k2, c]
            det = a1 * a2 + beta * (a1 + a2)
            if det > 0.0:
                b1 = B[k1, c]
                b2 = B[k2, c]
                Cn[k1, c] = ((a2 + beta) * b1 + beta * b2) / det
                Cn[k2, c] = (beta * b1 + (a1 + beta) * b2) / det
            else:
                Cn[k1, c] = C[k1, c]
                Cn[k2, c] = C[k2, c]


def _vector_rows(W, H, weighted, m, C0, beta, max_iter, tol, C_out, L_out, hist, n_iter,
                 reason):
    """Vector Algorithm 1 (blocks of m consecutive weights) on every row of W (T, n).

    Outputs as :func:`_scalar_rows`, with centres C_out (T, K, m) and labels L_out
    (T, n / m).
    """
    T = W.shape[0]
    K = C0.shape[1]
    C = np.empty((K, m))
    Cn = np.empty((K, m))
    A = np.empty((K, m))
    B = np.empty((K, m))
    L = np.empty(L_out.shape[1], dtype=np.int64)
    for t in range(T):
        x = W[t]
        g = H[t] if weighted else W[t]
        for k in range(K):
            for c in range(m):
                C[k, c] = C0[t, k, c]
        _vector_assign(x, m, C, L)
        prev = _vector_objective(x, g, weighted, m, C, L, beta)
        hist[t, 0] = prev
        code = 0
        it = 0
        while it < max_iter:
            it += 1
            if it > 1:
                _vector_assign(x, m, C, L)
            _vector_update(x, g, weighted, m, L, C, beta, A, B, Cn)
            en = _vector_objective(x, g, weighted, m, Cn, L, beta)
            fixed = True
            for k in range(K):
                for c in range(m):
                    if Cn[k, c] != C[k, c]:
                        fixed = False
                    C[k, c] = Cn[k, c]
            hist[t, it] = en
            if fixed:
                code = 1
                break
            if abs(prev - en) <= tol * abs(prev):
                code = 2
                break
            prev = en
        n_iter[t] = it
        reason[t] = code
        for k in range(K):
            for c in range(m):
                C_out[t, k, c] = C[k, c]
        for i in range(L.shape[0]):
            L_out[t, i] = L[i]


# Helpers compiled into the kernels above (numba's ``register_jitable``).
_JIT_HELPERS = ("_radix_argsort", "_sort_row", "_two_sum", "_two_prod", "_dd_step",
                "_dd_prefix", "_dd_prefix_at", "_dd_range", "_count_le", "_scalar_assign",
                "_boundary_sums", "_scalar_stats", "_uncentre", "_scalar_objective",
                "_scalar_update", "_vector_assign", "_vector_max_pair", "_vector_objective",
                "_vector_update")
# Set to False (tests, benchmarks) to run the numpy engines even when numba is installed.
_USE_NUMBA = True
# Compiled kernels by name (filled on first use).
_COMPILED: dict = {}


def _compile(namespace, compiled, name, helpers=(), *, always=False):
    """The numba-compiled function ``namespace[name]``, memoised in the dict ``compiled``.

    The functions named in ``helpers`` are made callable from compiled code
    (``register_jitable``) before the first compilation. Returns None when numba is not
    installed, or when ``_USE_NUMBA`` is False (unless ``always``). Compiled on first use
    (``cache=True`` keeps the machine code in ``__pycache__`` for later processes), never at
    import time. :mod:`infocompress.kmeans1d` compiles its kernels through it too.
    """
    if not (_USE_NUMBA or always):
        return None
    if name not in compiled:
        try:
            import numba
            from numba.extending import register_jitable
        except ImportError:
            compiled[name] = None
        else:
            if helpers and "_helpers" not in compiled:
                for helper in helpers:
                    register_jitable(namespace[helper])
                compiled["_helpers"] = True
            compiled[name] = numba.njit(cache=True, nogil=True)(namespace[name])
    return compiled[name]


def _jit(name):
    """The numba-compiled module function ``name``, or None without numba (or when
    ``_USE_NUMBA`` is False); see :func:`_compile`."""
    return _compile(globals(), _COMPILED, name, _JIT_HELPERS)


def _run_scalar(W, H, C0, beta, max_iter, tol, diameter="squared"):
    """Scalar Algorithm 1 on every row of W (T, n), H (T, n) or None (unweighted).

    Runs the compiled prefix-sum engine (:func:`_scalar_rows`) when numba is available
    and the numpy engine :func:`_run_scalar_numpy` otherwise. Returns (centres (T, K),
    labels (T, n), history (T, max_iter + 1) padded with NaN, n_iter (T,), stop reasons).
    """
    kernel = _jit("_scalar_rows")
    if kernel is None:
        return _run_scalar_numpy(W, np.ones_like(W) if H is None else H, C0, beta, max_iter,
                                 tol, diameter)
    T, n = W.shape
    W = np.ascontiguousarray(W, dtype=float)
    weighted = H is not None
    Hk = np.ascontiguousarray(H, dtype=float) if weighted else W
    C = np.empty((T, C0.shape[1]))
    L = np.empty((T, n), dtype=np.int64)
    hist = np.full((T, max_iter + 1), np.nan)
    n_iter = np.zeros(T, dtype=np.int64)
    code = np.zeros(T, dtype=np.int64)
    kernel(W, Hk, weighted, np.ascontiguousarray(C0, dtype=float), float(beta),
           diameter == "linear", int(max_iter), float(tol), C, L, hist, n_iter, code)
    return C, L, hist, n_iter, _REASONS[code]


def _run_vector_rows(W, H, C0, beta, max_iter, tol):
    """Vector Algorithm 1 on every row of W (T, n) with centres C0 (T, K, m).

    Runs the compiled kernel :func:`_vector_rows` when numba is available and the numpy
    loop :func:`_run_vector` row by row otherwise. Returns (centres (T, K, m), labels
    (T, n / m), history (T, max_iter + 1) padded with NaN, n_iter (T,), stop reasons).
    """
    T, n = W.shape
    K, m = C0.shape[1], C0.shape[2]
    nb = n // m
    C = np.empty((T, K, m))
    L = np.empty((T, nb), dtype=np.int64)
    hist = np.full((T, max_iter + 1), np.nan)
    n_iter = np.zeros(T, dtype=np.int64)
    kernel = _jit("_vector_rows")
    if kernel is None:
        reason = np.full(T, "max_iter", dtype="<U11")
        for t in range(T):
            HX = np.ones((nb, m)) if H is None else H[t].reshape(nb, m)
            C[t], L[t], h_t, n_iter[t], reason[t] = _run_vector(W[t].reshape(nb, m), HX,
                                                                C0[t], beta, max_iter, tol)
            hist[t, : h_t.size] = h_t
        return C, L, hist, n_iter, reason
    W = np.ascontiguousarray(W, dtype=float)
    weighted = H is not None
    Hk = np.ascontiguousarray(H, dtype=float) if weighted else W
    code = np.zeros(T, dtype=np.int64)
    kernel(W, Hk, weighted, int(m), np.ascontiguousarray(C0, dtype=float), float(beta),
           int(max_iter), float(tol), C, L, hist, n_iter, code)
    return C, L, hist, n_iter, _REASONS[code]


# --------------------------------------------------------------------------------------
# public k-means functions
# --------------------------------------------------------------------------------------
@validate_params(w=ArrayLike(nonempty=True))
def drhw_kmeans(
    w,
    h=None,
    n_clusters=2,
    *,
    beta=0.0,
    block=1,
    init="linear",
    max_iter=100,
    tol=1e-10,
    rng=None,
    diameter="squared",
) -> KMeansResult:
    r"""Diameter-regularized Hessian-weighted k-means (Algorithm 1 of Bu et al. 2021).

    Minimises, over centres :math:`c^{(1)},\dots,c^{(K)} \in \mathbb{R}^m` and a
    partition :math:`C^{(1)},\dots,C^{(K)}` of the blocks :math:`w^{(j)} \in \mathbb{R}^m`
    (``m = block``; consecutive groups of ``m`` weights),

    .. math::

        F = \sum_{k=1}^K \sum_{w^{(j)} \in C^{(k)}}
            (w^{(j)} - c^{(k)})^\top H^{(j)} (w^{(j)} - c^{(k)})
            + \beta \max_{k_1, k_2} \lVert c^{(k_1)} - c^{(k_2)} \rVert_2^2 ,

    with :math:`H^{(j)} = \operatorname{diag}(h \text{ on block } j)`. Each iteration
    is one pass of Algorithm 1:

    1. *Assignment* (eq. (36)): each block goes to the nearest previous centre in plain
       squared Euclidean distance, as in the paper. For scalars (``block=1``) this is
       also the Hessian-weighted nearest centre, since :math:`h^{(j)}` is a common factor;
       for vectors with unequal Hessian entries inside a block it is not, so with
       ``block > 1`` the assignment step may increase :math:`F`.
    2. *Update*: the farthest pair :math:`(k_1, k_2)` of the previous centres (scalar
       case: first index of the smallest and of the largest centre, or (0, 1) if all
       centres coincide; vector case: first maximal pair :math:`k_1 < k_2` in
       row-major order) is updated by eq. (37). The two equations of
       (37) refer to each other's new values; we solve them jointly, per coordinate,

       .. math::

           (a_1 + \beta) c^{(k_1)} - \beta c^{(k_2)} = b_1, \qquad
           -\beta c^{(k_1)} + (a_2 + \beta) c^{(k_2)} = b_2,

       with :math:`a_i = \sum_{C^{(k_i)}} h` and :math:`b_i = \sum_{C^{(k_i)}} h w`.
       This is the exact minimiser of the two clusters' weighted error plus
       :math:`\beta \lVert c^{(k_1)} - c^{(k_2)} \rVert^2` (an exact block-coordinate
       step for the fixed pair). If one of the two clusters has no Hessian mass, the
       solution places its centre on the other one's weighted mean (what (37) gives);
       if neither has mass both are kept. Every other centre becomes the weighted mean
       of its cluster (eq. (38)); a cluster that is empty or has zero total Hessian
       weight (per coordinate) keeps its old centre.

    With ``beta = 0`` and ``block = 1`` (or ``h=None``) the objective never increases
    from one iteration to the next (up to rounding). With ``beta > 0`` the update does
    not increase the *fixed-pair* objective (weighted error plus :math:`\beta` times the
    squared distance of the previous farthest pair), but after the update another pair
    may be the farthest, so :math:`F` itself can increase (for instance when an empty
    member of the farthest pair is moved onto its partner while a third centre stays
    far away). ``history`` records :math:`F` so that this can be seen.

    *The authors' variant.* The code published with the paper (``weighted_k_means_cpu``
    in ``utils/quantize_utils.py`` of github.com/wgao9/weight-quant) regularizes the
    diameter linearly: after the weighted means, the smallest centre moves up by
    :math:`eta / (4 a_1)` and the largest down by :math:`eta / (4 a_K)`, without
    passing their neighbours. That is the exact minimiser, for the end centres, of
    :math:`\sum h (w - c)^2 + 	frac{eta}{2}(c_{\max} - c_{\min})`, a penalty linear in
    the diameter; ``diameter="linear"`` runs it (scalar case only) and reports that
    objective. Its ``beta`` is in other units than eq. (34)'s: the shift of an end centre
    does not depend on the distance between the centres.

    Parameters
    ----------
    w : array-like of shape (n,)
        Weights; 1-D only (flatten a layer before calling).
    h : array-like of shape (n,), optional
        Non-negative diagonal Hessian entries (clip estimates at 0 first). ``None`` means
        all ones, i.e. plain (unweighted) k-means.
    n_clusters : int, default 2
        Number of clusters K, ``1 <= K <= n / block``.
    beta : float, default 0.0
        Diameter-regularization weight, >= 0. ``0`` gives (Hessian-weighted) k-means.
    block : int, default 1
        Block length m of vector quantization; ``n`` must be divisible by ``m``.
    init : {"linear", "quantile", "kmeans++"} or array-like, default "linear"
        Array-like initial centres have shape (K,) or (K, m).
        ``"linear"``: centres evenly spaced from the minimum to the maximum weight (per
        coordinate for vectors), as in Han et al. (2016); ``K = 1`` starts at the
        midpoint. ``"quantile"``: the quantiles :math:`(2k+1)/(2K)` of the weights (per
        coordinate for vectors, Hessian ignored), the start of Bu et al.'s code.
        ``"kmeans++"``: k-means++ seeding with sampling probabilities
        proportional to (sum of the block's Hessian entries) times squared distance,
        drawn from ``rng``. An array gives the initial centres explicitly.
    max_iter : int, default 100
        Maximum number of iterations T, >= 1.
    tol : float, default 1e-10
        Stop when :math:`|F_{t-1} - F_t| \le \mathrm{tol}\,|F_{t-1}|`. The run also stops
        at an exact fixed point (an update that leaves every centre unchanged, so the
        next assignment and update would repeat themselves; for ``beta = 0`` this is
        when the labels stop changing). ``tol=0`` stops only at a fixed point (or at
        ``max_iter``).
    rng : None, int or numpy.random.Generator, optional
        Randomness for ``init="kmeans++"``; unused otherwise.
    diameter : {"squared", "linear"}, default "squared"
        ``"squared"``: the penalty :math:`\beta \operatorname{diam}^2` of eq. (34)/(35)
        and the update (37). ``"linear"``: the authors' penalty
        :math:`\tfrac{\beta}{2}\operatorname{diam}` (``block=1`` only, see above).

    Returns
    -------
    KMeansResult
        ``centers`` of shape (K,) if ``block == 1`` else (K, m); ``labels`` of shape
        (n / m,); ``objective`` (the value of F at the output centres and labels);
        ``n_iter``; ``converged``; ``stop_reason``; ``history`` of shape (n_iter + 1,).
        As in Algorithm 1 the output is the pair :math:`(c_T, C_T)`: the labels are those
        of the last assignment step, made with the previous centres.

    Raises
    ------
    ValueError
        If ``w`` is not 1-D or not finite, ``h`` has another shape, is negative or not
        finite, ``n`` is not divisible by ``block``, ``n_clusters`` is outside
        ``[1, n / block]``, ``beta < 0``, ``tol < 0``, ``max_iter < 1``, ``init`` is
        unknown or has the wrong shape, or ``diameter`` is unknown (or ``"linear"`` with
        ``block > 1``).

    See Also
    --------
    drhw_kmeans_batch : the algorithm over many trials at once.
    optimal_kmeans_1d : the exact optimum of the scalar problem with ``beta = 0``.

    Notes
    -----
    For scalars (``block=1``) the weights are sorted once (a radix sort of the doubles for
    long vectors, faster than :func:`numpy.argsort`); on sorted weights each
    cluster of a nearest-centre assignment is a run between two midpoints of the sorted
    centres, found by binary search, and its sums of h, h w and h w^2 are differences of
    prefix sums. Every iteration, including the objective, then costs O(K log n) after
    the O(n log n) sort. The prefix sums are accumulated with error-free transformations
    (double-double arithmetic) on data centred at the median, so the objective agrees with
    a direct evaluation to a few units of rounding even for data far from 0 or clusters
    much narrower than their distance. This needs numba (a compiled kernel, cached on
    disk after the first call); without it an O(n) numpy pass per iteration is used.

    References
    ----------
    Bu et al. (2021), eqs. (30), (34)-(38) and Algorithm 1; Choi et al. (2017) for
    Hessian-weighted k-means; Han et al. (2016) for the linear initialisation.

    Examples
    --------
    >>> w = [-1.0, -0.9, 0.0, 0.1, 1.0, 1.1]
    >>> res = drhw_kmeans(w, n_clusters=3)
    >>> res.centers.round(3).tolist(), res.labels.tolist(), res.converged
    ([-0.95, 0.05, 1.05], [0, 0, 1, 1, 2, 2], True)
    >>> reg = drhw_kmeans(w, n_clusters=3, beta=1.0)
    >>> bool(centers_diameter(reg.centers) < centers_diameter(res.centers))
    True

    The authors' linear penalty moves each end centre inward by beta / (4 * cluster size):

    >>> lin = drhw_kmeans(w, n_clusters=3, beta=0.4, diameter="linear", init="quantile")
    >>> lin.centers.round(3).tolist()
    [-0.9, 0.05, 1.0]

    Vector quantization of pairs of weights:

    >>> res = drhw_kmeans([0.0, 0.0, 0.1, 0.1, 1.0, 1.0, 1.1, 1.1], n_clusters=2, block=2)
    >>> res.centers.round(2).tolist()
    [[0.05, 0.05], [1.05, 1.05]]
    """
    w = as_finite_array(w, "w", ndim=1)
    n = w.size
    m = check_int(block, "block", low=1)
    if n % m:
        raise ValueError(f"the number of weights n={n} must be divisible by block m={m}")
    nb = n // m
    K = _check_n_clusters(n_clusters, nb, "weight blocks" if m > 1 else "weights")
    h = None if h is None else _check_h(h, w.shape)
    beta = _check_real(beta, "beta")
    tol = _check_real(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", low=1)
    init = _check_init(init, [(K,)] if m == 1 else [(K, m)])
    diameter = _check_diameter(diameter, m)
    C, L, hist, n_iter, reason = _kmeans_rows(
        w[None, :], None if h is None else h[None, :], K, m, beta, init, max_iter, tol, rng,
        diameter)
    k = int(n_iter[0])
    return KMeansResult(
        centers=C[0] if m == 1 else C[0].reshape(K, m),
        labels=L[0],
        objective=float(hist[0, k]),
        n_iter=k,
        converged=bool(reason[0] != "max_iter"),
        stop_reason=str(reason[0]),
        history=hist[0, : k + 1].copy(),
        beta=beta,
        block=m,
        diameter=diameter,
    )


def _kmeans_rows(W, H, K, m, beta, init, max_iter, tol, rng, diameter):
    """Initial centres, then scalar (m = 1) or vector Algorithm 1 on every row of W (T, n).

    ``init`` is a method name or an array of shape (K,), (K, m), (T, K) or (T, K, m).
    Returns centres (T, K) (m = 1) or (T, K, m), labels (T, n / m), history, n_iter and
    stop reasons.
    """
    T, n = W.shape
    nb = n // m
    if isinstance(init, str):
        X = W.reshape(T, nb, m)
        S = None
        if init == "kmeans++":
            # sum of the Hessian entries of each block (m when H is None, as for all ones)
            S = np.full((T, nb), float(m)) if H is None else H.reshape(T, nb, m).sum(axis=2)
        C0 = _initial_centres(init, X, S, K, rng)
    else:
        C0 = np.broadcast_to(np.asarray(init, dtype=float).reshape(-1, K, m), (T, K, m))
    if m == 1:
        return _run_scalar(W, H, C0[:, :, 0], beta, max_iter, tol, diameter)
    return _run_vector_rows(W, H, C0, beta, max_iter, tol)


def drhw_kmeans_batch(
    W,
    H=None,
    n_clusters=2,
    *,
    beta=0.0,
    block=1,
    init="linear",
    max_iter=100,
    tol=1e-10,
    rng=None,
    diameter="squared",
) -> KMeansResult:
    r"""DRHW k-means (Algorithm 1) on many independent weight vectors at once.

    Row ``t`` of the output is exactly (bit for bit) what :func:`drhw_kmeans` returns
    for ``W[t]``, ``H[t]``, the same ``block`` and the same initial centres: one kernel
    runs the rows one after the other, each until its own stopping rule fires. See
    :func:`drhw_kmeans` for the algorithm and the objective, for scalars

    .. math::

        F_t = \sum_{j} h_{t j} (w_{t j} - c_{t, k(j)})^2
              + \beta \max_{k_1,k_2} (c_{t k_1} - c_{t k_2})^2 ,

    and its vector form (35) for ``block > 1``.

    Parameters
    ----------
    W : array-like of shape (trials, n)
        One weight vector per Monte-Carlo trial.
    H : array-like of shape (trials, n), optional
        Non-negative Hessian entries; ``None`` means all ones.
    n_clusters : int, default 2
        Number of clusters K, ``1 <= K <= n / block``.
    beta : float, default 0.0
        Diameter-regularization weight, >= 0.
    block : int, default 1
        Block length m (vector quantization of consecutive groups of m weights if
        ``m > 1``); ``n`` must be divisible by it.
    init : {"linear", "quantile", "kmeans++"} or array-like, default "linear"
        As in :func:`drhw_kmeans`, per row. An array of shape (K,) (``block=1``) or
        (K, m) is used for every row; (trials, K) or (trials, K, m) gives each row its
        own. With ``"kmeans++"`` every row draws its own seeds from the one ``rng``, so
        rows agree with :func:`drhw_kmeans` only given the same initial centres.
    max_iter : int, default 100
        Maximum number of iterations per row, >= 1.
    tol : float, default 1e-10
        Relative objective-change tolerance, >= 0 (see :func:`drhw_kmeans`).
    rng : None, int or numpy.random.Generator, optional
        Randomness for ``init="kmeans++"``.
    diameter : {"squared", "linear"}, default "squared"
        Diameter penalty, as in :func:`drhw_kmeans` (``"linear"`` needs ``block=1``).

    Returns
    -------
    KMeansResult
        With ``batched=True``: ``centers`` (trials, K) for ``block=1``, else
        (trials, K, m); ``labels`` (trials, n / m), ``objective`` (trials,),
        ``n_iter`` (trials,), ``converged`` (trials,), ``stop_reason`` (trials,),
        ``history`` (trials, max_iter + 1) padded with NaN; ``reconstruct()`` has shape
        (trials, n).

    Raises
    ------
    ValueError
        As :func:`drhw_kmeans`, with ``W`` required to be 2-D.

    Notes
    -----
    With numba installed the rows run in compiled kernels: for ``block=1`` one sort per
    row, then every iteration on prefix sums (O(K log n), see :func:`drhw_kmeans`); for
    ``block > 1`` the plain assignment and update loops of Algorithm 1. Without numba
    the scalar rows run together in numpy (an O(n) pass per iteration) and vector rows
    one after the other.

    References
    ----------
    Bu et al. (2021), Algorithm 1 and eqs. (34)-(38).

    Examples
    --------
    >>> W = [[0.0, 0.1, 1.0, 1.1], [0.0, 2.0, 2.2, 2.4]]
    >>> res = drhw_kmeans_batch(W, n_clusters=2)
    >>> res.centers.round(3).tolist()
    [[0.05, 1.05], [0.0, 2.2]]
    >>> res.labels.tolist()
    [[0, 0, 1, 1], [0, 1, 1, 1]]
    >>> res.reconstruct().shape
    (2, 4)

    Vector quantization of pairs, two trials of four pairs each:

    >>> V = [[0.0, 0.0, 0.1, 0.1, 1.0, 1.0, 1.1, 1.1], [0.0, 1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 3.0]]
    >>> vec = drhw_kmeans_batch(V, n_clusters=2, block=2)
    >>> vec.centers.round(2).tolist()
    [[[0.05, 0.05], [1.05, 1.05]], [[0.0, 1.0], [2.0, 3.0]]]
    >>> vec.labels.tolist(), vec.reconstruct().shape
    ([[0, 0, 1, 1], [0, 0, 1, 1]], (2, 8))
    """
    W = as_finite_array(W, "W", ndim=2)
    T, n = W.shape
    if T < 1:
        raise ValueError(f"W must hold at least one trial, got shape {W.shape}")
    m = check_int(block, "block", low=1)
    if n % m:
        raise ValueError(f"the number of weights per trial n={n} must be divisible by block "
                         f"m={m}")
    nb = n // m
    K = _check_n_clusters(n_clusters, nb, "weight blocks per trial" if m > 1
                          else "weights per trial")
    H = None if H is None else _check_h(H, W.shape, "H", "W")
    beta = _check_real(beta, "beta")
    tol = _check_real(tol, "tol")
    max_iter = check_int(max_iter, "max_iter", low=1)
    init = _check_init(init, [(K,), (T, K)] if m == 1 else [(K, m), (T, K, m)])
    diameter = _check_diameter(diameter, m)
    W = np.ascontiguousarray(W)
    H = None if H is None else np.ascontiguousarray(H)
    C, L, hist, n_iter, reason = _kmeans_rows(W, H, K, m, beta, init, max_iter, tol, rng,
                                              diameter)
    return KMeansResult(
        centers=C,
        labels=L,
        objective=hist[np.arange(T), n_iter],
        n_iter=n_iter,
        converged=reason != "max_iter",
        stop_reason=reason,
        history=hist,
        beta=beta,
        block=m,
        batched=True,
        diameter=diameter,
    )
