r"""Exact weighted k-means of scalars by dynamic programming (the 1-D programme).

Optimal clusters of weighted scalars are intervals of the sorted values, so the global
optimum of eq. (30) of Bu et al. (2021) (the Hessian-weighted k-means objective without
the diameter penalty) is a segmentation of the sorted weights, found exactly by a dynamic
programme: :func:`optimal_kmeans_1d` for one weight vector and
:func:`optimal_kmeans_1d_batch` for every row of an array. The iterative algorithms of
:mod:`infocompress.kmeans` are measured against it.

Kernel notes
------------
The dynamic program of :func:`optimal_kmeans_1d` calls the module attribute
``_SEGMENT_KERNEL(x, wts, K) -> boundaries``. Its contract: ``x`` sorted, strictly
increasing float64 values of shape (n,), ``wts`` non-negative float64 weights of shape
(n,), ``1 <= K <= n``; return int64 boundaries ``b`` of shape (K + 1,), ``b[0] = 0 <
b[1] < ... < b[K] = n``, such that the segments ``x[b[k]:b[k+1]]`` minimise the
weighted within-segment sum of squares. The default, ``_segments_default``, runs the
SMAWK kernel ``_segments_smawk`` compiled by numba (O(K n); compiled on first use,
cached in ``__pycache__``) when numba is installed, and the numpy divide and conquer
``_segments_divide_and_conquer`` (O(K n log n)) otherwise. Another kernel can be
plugged in by reassigning the attribute; ``tests/test_kernels.py`` checks every kernel
against brute force.
The batched function runs the compiled kernel ``_optimal_rows`` (the SMAWK kernel per
row) when numba is installed and ``infocompress.kmeans._USE_NUMBA`` is true.

References
----------
.. [1] H. Wang, M. Song, "Ckmeans.1d.dp: optimal k-means clustering in one dimension by
   dynamic programming", The R Journal 3(2), 2011.
.. [2] A. Grønlund et al., "Fast exact k-means, k-medians and Bregman divergence
   clustering in 1D", arXiv:1701.07204, 2017.
.. [3] A. Aggarwal, M. M. Klawe, S. Moran, P. Shor, R. Wilber, "Geometric applications
   of a matrix-searching algorithm", Algorithmica 2:195-208, 1987 (SMAWK).
"""

from __future__ import annotations

import numpy as np

from . import kmeans as _kmeans
from ._validation import ArrayLike, as_finite_array, validate_params
from .kmeans import KMeansResult, _check_h, _check_n_clusters

__all__ = ["optimal_kmeans_1d", "optimal_kmeans_1d_batch"]

# Candidate split points evaluated per numpy call in the 1-D dynamic program.
_DP_CHUNK = 1 << 15


# --------------------------------------------------------------------------------------
# exact 1-D k-means by dynamic programming
# --------------------------------------------------------------------------------------
def _dc_layer(D, P0, P1, P2, jlo, jhi, ilo, ihi, guard):
    r"""One layer of the DP, :math:`D'[j] = \min_{i<j} D[i] + \mathrm{cost}(i, j)`, for
    j in [jlo, jhi] with i in [ilo, j - 1], by divide and conquer on the monotone optimal
    split point.

    All sub-problems of one recursion depth are evaluated together (in chunks of about
    ``_DP_CHUNK`` candidate split points, to stay in cache). ``guard`` protects the
    division when an interval can have zero mass. Any minimiser may be kept for a
    sub-problem: leftmost and rightmost minimisers are both monotone in j, so the ranges
    handed to the two halves always contain an optimal split point.
    """
    n1 = D.size
    E = D - P2  # D[i] + cost(i, j) = E[i] + P2[j] - (P1[j]-P1[i])^2 / (P0[j]-P0[i])
    Dn = np.full(n1, np.inf)
    arg = np.zeros(n1, dtype=np.int64 if n1 >= 2**31 else np.int32)
    tjl, tjh = np.array([jlo]), np.array([jhi])
    til, tih = np.array([ilo]), np.array([ihi])
    while tjl.size:
        nt = tjl.size
        mid = (tjl + tjh) // 2
        lens = np.minimum(tih, mid - 1) - til + 1
        ends = np.cumsum(lens)
        cuts = np.searchsorted(ends, np.arange(_DP_CHUNK, ends[-1], _DP_CHUNK))
        bounds = np.unique(np.concatenate([[0], cuts, [nt]]))
        best = np.empty(nt, dtype=np.int64)
        mins = np.empty(nt)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            ln = lens[a:b]
            e = np.cumsum(ln)
            s = e - ln
            seg = np.repeat(np.arange(b - a), ln)
            i = np.arange(e[-1])
            i += (til[a:b] - s)[seg]
            d0 = P0[mid[a:b]][seg]
            d0 -= P0[i]
            d1 = P1[mid[a:b]][seg]
            d1 -= P1[i]
            if guard:  # zero mass: d1 is exactly 0 there as well
                np.copyto(d0, 1.0, where=d0 <= 0)
            d1 *= d1
            d1 /= d0
            val = E[i]
            val -= d1
            mn = np.minimum.reduceat(val, s)
            best[a:b] = np.minimum.reduceat(np.where(val == mn[seg], i, n1), s)
            mins[a:b] = mn
        Dn[mid] = mins + P2[mid]
        arg[mid] = best
        # children, kept in increasing order of j: left half, then right half of each task
        keep = np.stack([tjl < mid, mid < tjh], axis=1)
        tjl, tjh, til, tih = (
            np.stack([tjl, mid + 1], axis=1)[keep],
            np.stack([mid - 1, tjh], axis=1)[keep],
            np.stack([til, best], axis=1)[keep],
            np.stack([best, tih], axis=1)[keep],
        )
    return Dn, arg


def _segments_divide_and_conquer(x, wts, K):
    """Optimal K-segmentation of sorted distinct x with weights wts (see module notes).

    O(K n log n) time, O(K n) memory for the split points.
    """
    n = x.size
    if K == 1:
        return np.array([0, n], dtype=np.int64)
    if K == n:
        return np.arange(n + 1, dtype=np.int64)
    tot = wts.sum()
    xc = x - ((wts @ x) / tot if tot > 0 else x.mean())  # centring limits cancellation
    P0 = np.concatenate([[0.0], np.cumsum(wts)])
    P1 = np.concatenate([[0.0], np.cumsum(wts * xc)])
    P2 = np.concatenate([[0.0], np.cumsum(wts * xc * xc)])
    safe = np.where(P0 > 0, P0, 1.0)
    D = P2 - P1 * P1 / safe  # one segment covering the first j points
    D[0] = np.inf
    guard = not bool(np.all(P0[1:] > P0[:-1]))
    args = []
    for k in range(2, K):
        D, arg = _dc_layer(D, P0, P1, P2, k, n - K + k, k - 1, n - K + k - 1, guard)
        args.append(arg)
    i = np.arange(K - 1, n)
    d0 = P0[n] - P0[i]
    d1 = P1[n] - P1[i]
    d0[d0 <= 0] = 1.0
    val = D[i] + (P2[n] - P2[i]) - d1 * d1 / d0
    b = np.empty(K + 1, dtype=np.int64)
    b[0], b[K] = 0, n
    b[K - 1] = i[int(np.argmin(val))]
    for k in range(K - 1, 1, -1):
        b[k - 1] = args[k - 2][b[k]]
    return b


def _segments_smawk(x, wts, K):
    r"""Optimal K-segmentation (module notes) by the SMAWK algorithm, O(K n) time.

    Written in the subset of Python that numba compiles (:func:`_compiled_kernel`); it
    also runs, slowly, as plain Python, which the tests use on small inputs. Each layer
    :math:`D_k(j) = \min_{i<j} D_{k-1}(i) + \mathrm{cost}(i, j)` is the row-minimum
    problem of a totally monotone matrix (rows j, columns i, entries with
    :math:`i \ge j` infinite), solved by SMAWK (Aggarwal, Klawe, Moran, Shor and
    Wilber 1987) without recursion: a downward pass applies REDUCE to the rows of each
    level (level l holds every :math:`2^l`-th row) and stores the surviving columns with
    the entry they gave for their row; an upward pass interpolates the minima of the
    even rows of each level between those of the odd rows found one level deeper. Ties
    go to the smallest column, as in the numpy kernel's interval cost
    :math:`\sum h x^2 - (\sum h x)^2 / \sum h` on prefix sums of centred data.
    """
    n = x.shape[0]
    b = np.empty(K + 1, dtype=np.int64)
    b[0] = 0
    b[K] = n
    if K == 1:
        return b
    if K == n:
        for k in range(K + 1):
            b[k] = k
        return b
    tot = 0.0
    s1 = 0.0
    s0 = 0.0
    for i in range(n):
        tot += wts[i]
        s1 += wts[i] * x[i]
        s0 += x[i]
    ref = s1 / tot if tot > 0 else s0 / n  # centring limits cancellation
    P0 = np.zeros(n + 1)
    P1 = np.zeros(n + 1)
    P2 = np.zeros(n + 1)
    for i in range(n):
        xc = x[i] - ref
        P0[i + 1] = P0[i] + wts[i]
        P1[i + 1] = P1[i] + wts[i] * xc
        P2[i + 1] = P2[i] + wts[i] * xc * xc
    D = np.empty(n + 1)
    Dn = np.empty(n + 1)
    D[0] = np.inf
    for j in range(1, n + 1):
        D[j] = P2[j]
        if P0[j] > 0:
            D[j] -= P1[j] * P1[j] / P0[j]
    args = np.zeros((max(K - 2, 1), n + 1), dtype=np.int32)
    m_max = n - K + 1  # rows per layer
    cbuf = np.empty(2 * m_max + 2, dtype=np.int64)
    vbuf = np.empty(2 * m_max + 2)
    offs = np.zeros(64, dtype=np.int64)
    lens = np.zeros(64, dtype=np.int64)
    for k in range(2, K):
        arg = args[k - 2]
        j_lo = k
        i_lo = k - 1
        m = n - K + 1  # rows j_lo .. j_lo + m - 1, columns i_lo .. i_lo + m - 1
        n_lev = 0
        while (m >> n_lev) >= 1:
            n_lev += 1
        # downward pass: REDUCE on every level
        off = 0
        for lev in range(n_lev):
            ml = m >> lev
            step = 1 << lev
            r0 = j_lo + step - 1
            n_in = m if lev == 0 else lens[lev - 1]
            in_off = 0 if lev == 0 else offs[lev - 1]
            top = 0
            for t in range(n_in):
                c = i_lo + t if lev == 0 else cbuf[in_off + t]
                while top > 0:
                    r = r0 + (top - 1) * step
                    if c >= r:
                        v = np.inf
                    else:
                        d0 = P0[r] - P0[c]
                        d1 = P1[r] - P1[c]
                        v = D[c] + (P2[r] - P2[c])
                        if d0 > 0:
                            v -= d1 * d1 / d0
                    if vbuf[off + top - 1] > v:
                        top -= 1
                    else:
                        break
                if top < ml:
                    r = r0 + top * step
                    if c >= r:
                        v = np.inf
                    else:
                        d0 = P0[r] - P0[c]
                        d1 = P1[r] - P1[c]
                        v = D[c] + (P2[r] - P2[c])
                        if d0 > 0:
                            v -= d1 * d1 / d0
                    cbuf[off + top] = c
                    vbuf[off + top] = v
                    top += 1
            offs[lev] = off
            lens[lev] = top
            off += top
        # upward pass: interpolate the even rows of each level
        for lev in range(n_lev - 1, -1, -1):
            ml = m >> lev
            step = 1 << lev
            r0 = j_lo + step - 1
            co = offs[lev]
            nc = lens[lev]
            pos = 0
            for t in range(0, ml, 2):
                r = r0 + t * step
                last = cbuf[co + nc - 1] if t == ml - 1 else arg[r + step]
                best = -1
                bv = np.inf
                while True:
                    c = cbuf[co + pos]
                    if c < r:
                        d0 = P0[r] - P0[c]
                        d1 = P1[r] - P1[c]
                        v = D[c] + (P2[r] - P2[c])
                        if d0 > 0:
                            v -= d1 * d1 / d0
                        if best < 0 or v < bv:
                            bv = v
                            best = c
                    if c == last:
                        break
                    pos += 1
                arg[r] = best
                Dn[r] = bv
        D, Dn = Dn, D
    best = -1
    bv = np.inf
    for i in range(K - 1, n):
        d0 = P0[n] - P0[i]
        d1 = P1[n] - P1[i]
        v = D[i] + (P2[n] - P2[i])
        if d0 > 0:
            v -= d1 * d1 / d0
        if best < 0 or v < bv:
            bv = v
            best = i
    b[K - 1] = best
    for k in range(K - 1, 1, -1):
        b[k - 1] = args[k - 2, b[k]]
    return b


_COMPILED: dict = {}


def _compiled_kernel():
    """The numba-compiled ``_segments_smawk``, or None when numba is not installed (compiled
    whatever ``infocompress.kmeans._USE_NUMBA`` says)."""
    return _kmeans._compile(globals(), _COMPILED, "_segments_smawk", always=True)


def _segments_default(x, wts, K):
    """Default ``_SEGMENT_KERNEL``: compiled SMAWK, O(K n), when numba is available;
    otherwise (or beyond the int32 split-point tables) the numpy divide and conquer."""
    kernel = _compiled_kernel()
    if kernel is None or x.size >= 2**31 - 1:
        return _segments_divide_and_conquer(x, wts, K)
    return kernel(x, wts, K)


_SEGMENT_KERNEL = _segments_default


@validate_params(w=ArrayLike(nonempty=True))
def optimal_kmeans_1d(w, n_clusters, *, h=None) -> KMeansResult:
    r"""Exact (globally optimal) weighted k-means of scalars by dynamic programming.

    Solves eq. (30) exactly,

    .. math::

        \min_{c, C} \sum_{k=1}^K \sum_{w_j \in C^{(k)}} h_j (w_j - c^{(k)})^2 ,

    using that optimal clusters are intervals of the sorted weights. With prefix sums of
    :math:`h`, :math:`h w` and :math:`h w^2` the cost of any interval costs O(1), and
    :math:`D_k(j) = \min_{i<j} D_{k-1}(i) + \mathrm{cost}(i, j)` is solved layer by
    layer; the optimal split point is monotone in j (each layer is a totally monotone
    matrix), so the SMAWK algorithm solves a layer in O(n), O(K n) in total, when numba
    is installed (compiled on first use, then cached on disk); without numba a numpy
    divide and conquer takes O(K n log n) (Wang & Song 2011; Grønlund et al. 2017;
    Aggarwal et al. 1987). Both need O(K n) memory for the split points. Equal weights
    are merged (with summed h) before the DP, so equal weights always share a cluster.
    The result is exact up to floating-point rounding in the prefix sums.

    Parameters
    ----------
    w : array-like of shape (n,)
        Weights.
    n_clusters : int
        Number of clusters K, ``1 <= K <= n``.
    h : array-like of shape (n,), optional
        Non-negative weights (diagonal Hessian); ``None`` means all ones. Weights with
        ``h = 0`` cost nothing wherever they go; they stay with their neighbours in
        sorted order, and a cluster made only of them gets the unweighted mean of its
        members as centre.

    Returns
    -------
    KMeansResult
        ``centers`` of shape (K,) in increasing order, ``labels`` of shape (n,),
        ``objective`` (the minimum of eq. (30)), ``n_iter = 0``, ``converged = True``,
        ``stop_reason = "exact"``. If the number of distinct values ``u`` is at least K
        every cluster is non-empty; if ``u < K`` each distinct value is its own cluster
        (objective 0) and the last ``K - u`` clusters are empty, with centres equal to
        the largest weight (so they change neither the reconstruction nor the diameter).

    Raises
    ------
    ValueError
        If ``w`` is not 1-D or not finite, ``h`` is negative, non-finite or of another
        shape, or ``n_clusters`` is outside ``[1, n]``.

    References
    ----------
    Bu et al. (2021), eq. (30); H. Wang and M. Song (2011), Ckmeans.1d.dp; A. Grønlund,
    K. G. Larsen, A. Mathiasen, J. S. Nielsen, S. Schneider, M. Song (2017), fast exact
    k-means in 1D; A. Aggarwal, M. M. Klawe, S. Moran, P. Shor, R. Wilber (1987), the
    SMAWK matrix-searching algorithm.

    Examples
    --------
    >>> res = optimal_kmeans_1d([0.0, 1.0, 2.0, 10.0, 11.0], 2)
    >>> res.centers.tolist(), res.labels.tolist(), res.objective
    ([1.0, 10.5], [0, 0, 0, 1, 1], 2.5)

    A large Hessian weight pulls its point's cluster:

    >>> optimal_kmeans_1d([0.0, 1.0, 2.0], 2, h=[1.0, 1.0, 100.0]).labels.tolist()
    [0, 0, 1]
    """
    w = as_finite_array(w, "w", ndim=1)
    n = w.size
    K = _check_n_clusters(n_clusters, n, "weights")
    h = _check_h(h, w.shape)
    x, inv = np.unique(w, return_inverse=True)
    inv = inv.reshape(-1)
    u = x.size
    if u <= K:
        labels = inv
        centers = np.concatenate([x, np.full(K - u, x[-1])])
    else:
        wts = np.bincount(inv, weights=h, minlength=u)
        b = _SEGMENT_KERNEL(x, wts, K)
        seg = np.searchsorted(b[1:-1], np.arange(u), side="right")
        labels = seg[inv]
        A = np.bincount(labels, weights=h, minlength=K)
        B = np.bincount(labels, weights=h * w, minlength=K)
        cnt = np.bincount(labels, minlength=K)
        S = np.bincount(labels, weights=w, minlength=K)
        centers = np.where(A > 0, B / np.where(A > 0, A, 1.0), S / np.maximum(cnt, 1))
    objective = float(np.sum(h * (w - centers[labels]) ** 2))
    return KMeansResult(
        centers=centers,
        labels=labels.astype(np.int64),
        objective=objective,
        n_iter=0,
        converged=True,
        stop_reason="exact",
        history=np.array([objective]),
        beta=0.0,
        block=1,
    )


def _optimal_rows(W, H, weighted, order, K, L_out, xc_out, u_out):
    """Exact 1-D segmentation of every row of W (T, n) (compiled with numba).

    ``order`` sorts each row stably. Per row: equal weights are merged (their h summed
    in the original order, as :func:`numpy.bincount` does in :func:`optimal_kmeans_1d`),
    the ``u`` distinct values are cut into K segments by :func:`_segments_smawk` (or each
    is its own cluster if ``u <= K``), and ``L_out[t]`` receives the segment of every
    weight, ``u_out[t]`` the number of distinct values and, when ``u <= K``, ``xc_out[t]``
    the distinct values padded with the largest.
    """
    T, n = W.shape
    x = np.empty(n)
    wts = np.empty(n)
    uidx = np.empty(n, dtype=np.int64)
    seg = np.empty(n, dtype=np.int64)
    for t in range(T):
        u = 0
        for i in range(n):
            j = order[t, i]
            v = W[t, j]
            g = H[t, j] if weighted else 1.0
            if u == 0 or v != x[u - 1]:
                x[u] = v
                wts[u] = g
                u += 1
            else:
                wts[u - 1] += g
            uidx[i] = u - 1
        u_out[t] = u
        if u <= K:
            for i in range(u):
                seg[i] = i
                xc_out[t, i] = x[i]
            for k in range(u, K):
                xc_out[t, k] = x[u - 1]
        else:
            b = _segments_smawk(x[:u], wts[:u], K)
            k = 0
            for i in range(u):
                while i >= b[k + 1]:
                    k += 1
                seg[i] = k
        for i in range(n):
            L_out[t, order[t, i]] = seg[uidx[i]]


def optimal_kmeans_1d_batch(W, n_clusters, *, h=None) -> KMeansResult:
    r"""Exact weighted 1-D k-means of every row of a (trials, n) array.

    Row ``t`` of the output is exactly (bit for bit) :func:`optimal_kmeans_1d` of
    ``W[t]`` and ``h[t]``: the global minimum of eq. (30),

    .. math::

        \min_{c, C} \sum_{k=1}^K \sum_{w_{tj} \in C^{(k)}} h_{tj} (w_{tj} - c^{(k)})^2 ,

    for each trial. With numba installed one compiled kernel runs over the rows (stable
    sort, merging of equal weights, the O(K n) SMAWK dynamic program of
    :func:`optimal_kmeans_1d`); centres and objectives are then computed for all rows at
    once. Without numba (or with another ``_SEGMENT_KERNEL`` plugged in) it calls
    :func:`optimal_kmeans_1d` row by row.

    Parameters
    ----------
    W : array-like of shape (trials, n)
        One weight vector per Monte-Carlo trial.
    n_clusters : int
        Number of clusters K, ``1 <= K <= n``.
    h : array-like of shape (trials, n), optional
        Non-negative weights (diagonal Hessians); ``None`` means all ones.

    Returns
    -------
    KMeansResult
        With ``batched=True``: ``centers`` (trials, K), each row in increasing order;
        ``labels`` (trials, n); ``objective`` (trials,); ``n_iter`` zeros;
        ``converged`` all True; ``stop_reason`` all ``"exact"``; ``history`` (trials, 1).
        Rows with fewer than K distinct values are handled as in
        :func:`optimal_kmeans_1d`.

    Raises
    ------
    ValueError
        If ``W`` is not a finite 2-D array with at least one row, ``h`` is negative,
        non-finite or of another shape, or ``n_clusters`` is outside ``[1, n]``.

    See Also
    --------
    optimal_kmeans_1d : one weight vector.
    drhw_kmeans_batch : Lloyd's algorithm (and Algorithm 1) over trials.

    References
    ----------
    Bu et al. (2021), eq. (30); Wang and Song (2011); Grønlund et al. (2017);
    Aggarwal et al. (1987).

    Examples
    --------
    >>> res = optimal_kmeans_1d_batch([[0.0, 1.0, 2.0, 10.0, 11.0], [5.0, 0.0, 1.0, 6.0, 7.0]], 2)
    >>> res.centers.tolist()
    [[1.0, 10.5], [0.5, 6.0]]
    >>> res.labels.tolist(), res.objective.tolist()
    ([[0, 0, 0, 1, 1], [1, 0, 0, 1, 1]], [2.5, 2.5])
    """
    W = as_finite_array(W, "W", ndim=2)
    T, n = W.shape
    if T < 1 or n < 1:
        raise ValueError(f"W must hold at least one trial of at least one weight, got shape "
                         f"{W.shape}")
    K = _check_n_clusters(n_clusters, n, "weights per trial")
    H = None if h is None else _check_h(h, W.shape, "h", "W")
    kernel = _jit("_optimal_rows") if _SEGMENT_KERNEL is _segments_default else None
    if kernel is None or n >= 2**31 - 1:
        rows = [optimal_kmeans_1d(W[t], K, h=None if H is None else H[t]) for t in range(T)]
        centers = np.stack([r.centers for r in rows])
        labels = np.stack([r.labels for r in rows])
        objective = np.array([r.objective for r in rows])
    else:
        W = np.ascontiguousarray(W)
        labels = np.empty((T, n), dtype=np.int64)
        xc = np.empty((T, K))
        u = np.empty(T, dtype=np.int64)
        kernel(W, W if H is None else np.ascontiguousarray(H), H is not None,
               np.argsort(W, axis=1, kind="stable"), K, labels, xc, u)
        Hh = np.ones_like(W) if H is None else H
        # the sums of optimal_kmeans_1d, for all rows at once (bincount adds in index order)
        flat = (labels + K * np.arange(T)[:, None]).ravel()
        size = T * K
        A = np.bincount(flat, weights=Hh.ravel(), minlength=size).reshape(T, K)
        B = np.bincount(flat, weights=(Hh * W).ravel(), minlength=size).reshape(T, K)
        cnt = np.bincount(flat, minlength=size).reshape(T, K)
        S = np.bincount(flat, weights=W.ravel(), minlength=size).reshape(T, K)
        centers = np.where(A > 0, B / np.where(A > 0, A, 1.0), S / np.maximum(cnt, 1))
        few = u <= K
        centers[few] = xc[few]
        objective = np.sum(Hh * (W - np.take_along_axis(centers, labels, axis=1)) ** 2, axis=1)
    return KMeansResult(
        centers=centers,
        labels=labels,
        objective=objective,
        n_iter=np.zeros(T, dtype=np.int64),
        converged=np.ones(T, dtype=bool),
        stop_reason=np.full(T, "exact"),
        history=objective[:, None].copy(),
        beta=0.0,
        block=1,
        batched=True,
    )


def _jit(name):
    """The numba-compiled ``_optimal_rows`` (with ``_segments_smawk`` compiled into it), or
    None without numba or when ``infocompress.kmeans._USE_NUMBA`` is False."""
    return _kmeans._compile(globals(), _COMPILED, name, ("_segments_smawk",))
