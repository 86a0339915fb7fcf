"""Tests of infocompress.quantize against closed forms, brute force and invariants."""

import itertools

import numpy as np
import pytest

from infocompress import kmeans, kmeans1d
from infocompress.quantize import (
    KMeansResult,
    centers_diameter,
    drhw_kmeans,
    drhw_kmeans_batch,
    hw_distortion,
    optimal_kmeans_1d,
    optimal_kmeans_1d_batch,
)

EPS = np.finfo(float).eps


# ----------------------------------------------------------------------------- helpers
def weighted_sse(w, h, labels, centers):
    """Independent evaluation of eq. (30) for scalars."""
    return float(np.sum(h * (w - np.asarray(centers)[labels]) ** 2))


def brute_contiguous(w, h, K):
    """Minimum of eq. (30) over all partitions of the sorted weights into K intervals."""
    o = np.argsort(w, kind="stable")
    ws, hs = w[o], h[o]
    n = len(w)
    best = np.inf
    for cuts in itertools.combinations(range(1, n), K - 1):
        b = (0, *cuts, n)
        cost = 0.0
        for a, e in zip(b[:-1], b[1:], strict=True):
            x, y = ws[a:e], hs[a:e]
            c = (y @ x) / y.sum() if y.sum() > 0 else x.mean()
            cost += y @ (x - c) ** 2
        best = min(best, cost)
    return best


def brute_all_assignments(w, h, K):
    """Minimum of eq. (30) over all K**n labelings (no contiguity assumption)."""
    n = len(w)
    lab = np.array(list(itertools.product(range(K), repeat=n)))  # (K**n, n)
    best = np.inf
    for labels in lab:
        cost = 0.0
        for k in range(K):
            sel = labels == k
            y = h[sel]
            if sel.any() and y.sum() > 0:
                c = (y @ w[sel]) / y.sum()
                cost += y @ (w[sel] - c) ** 2
        best = min(best, cost)
    return best


def dp_quadratic(w, h, K):
    """Plain O(K n^2) dynamic program on sorted data (reference for larger n)."""
    o = np.argsort(w)
    x, y = w[o], h[o]
    n = len(x)
    P0 = np.concatenate([[0], np.cumsum(y)])
    P1 = np.concatenate([[0], np.cumsum(y * x)])
    P2 = np.concatenate([[0], np.cumsum(y * x * x)])

    def cost(i, j):
        d0 = P0[j] - P0[i]
        d1 = P1[j] - P1[i]
        return P2[j] - P2[i] - d1 * d1 / d0

    D = np.full(n + 1, np.inf)
    D[1:] = [cost(0, j) for j in range(1, n + 1)]
    for _ in range(2, K + 1):
        Dn = np.full(n + 1, np.inf)
        for j in range(1, n + 1):
            i = np.arange(1, j)
            if i.size:
                Dn[j] = np.min(D[i] + cost(i, j))
        D = Dn
    return D[n]


def objective_vector(X, HX, C, L, beta):
    """Independent evaluation of eq. (35)."""
    err = float(np.sum(HX * (X - C[L]) ** 2))
    diam = max(
        (float(np.sum((C[a] - C[b]) ** 2)) for a in range(len(C)) for b in range(len(C))),
        default=0.0,
    )
    return err + beta * diam


# ------------------------------------------------------------------- small helpers
def test_centers_diameter_closed_form():
    assert centers_diameter([3.0]) == 0.0
    assert centers_diameter([-2.0, 1.0, 0.5]) == 9.0
    c = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 0.0]])
    assert centers_diameter(c) == pytest.approx(8.0)  # (1,2) to (-1,0)


def test_hw_distortion_closed_form():
    w = np.array([1.0, -2.0, 3.0])
    wh = np.array([0.0, -2.0, 2.0])
    assert hw_distortion(w, wh) == pytest.approx(2.0)
    assert hw_distortion(w, wh, h=[2.0, 5.0, 0.5]) == pytest.approx(2.5)
    W = np.stack([w, 2 * w])
    np.testing.assert_allclose(hw_distortion(W, 0 * W, axis=1), [14.0, 56.0])


# ------------------------------------------------------------ monotonicity (beta = 0)
@pytest.mark.parametrize("seed", range(8))
def test_history_nonincreasing_scalar_beta0(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    w = rng.standard_t(3, size=n)
    h = rng.exponential(size=n) if seed % 2 else None
    K = int(rng.integers(2, 12))
    init = "linear" if seed < 4 else "kmeans++"
    res = drhw_kmeans(w, h, K, init=init, rng=seed, tol=0.0, max_iter=200)
    scale = res.history[0]
    assert np.all(np.diff(res.history) <= 8 * EPS * scale)
    hh = np.ones(n) if h is None else h
    assert res.objective == pytest.approx(weighted_sse(w, hh, res.labels, res.centers))
    assert res.objective == res.history[-1]
    assert len(res.history) == res.n_iter + 1


@pytest.mark.parametrize("block", [2, 3])
def test_history_nonincreasing_vector_unweighted(block):
    # With H = I the plain nearest-centre assignment is the weighted one: F cannot grow.
    rng = np.random.default_rng(10 + block)
    w = rng.standard_normal(block * 300)
    for K in (2, 5, 9):
        res = drhw_kmeans(w, None, K, block=block, init="kmeans++", rng=K, tol=0.0)
        assert np.all(np.diff(res.history) <= 8 * EPS * res.history[0])
        X = w.reshape(-1, block)
        assert res.objective == pytest.approx(
            objective_vector(X, np.ones_like(X), res.centers, res.labels, 0.0)
        )


# --------------------------------------------------------- the update step (beta >= 0)
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("block", [1, 2])
def test_update_step_is_exact_block_minimiser(seed, block):
    """One iteration from explicit centres, checked against the optimality conditions.

    Farthest pair: gradient of (weighted error of both clusters + beta ||c1 - c2||^2)
    vanishes; other clusters: weighted mean. Hence the fixed-pair objective cannot
    exceed the objective before the update.
    """
    rng = np.random.default_rng(100 + seed)
    nb, K = 40, 4
    beta = float(rng.choice([0.3, 3.0, 30.0]))
    w = rng.standard_normal(nb * block) * 2
    h = rng.exponential(size=nb * block)
    c0 = rng.standard_normal((K, block)) * 2
    init = c0[:, 0] if block == 1 else c0
    res = drhw_kmeans(w, h, K, beta=beta, block=block, init=init, max_iter=1)
    X, HX = w.reshape(nb, block), h.reshape(nb, block)
    C, L = np.asarray(res.centers).reshape(K, block), res.labels
    # labels: plain nearest previous centre (eq. 36)
    d = ((X[:, None, :] - c0[None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(L, d.argmin(axis=1))
    # farthest pair of the previous centres (first maximal pair in row-major order)
    D = ((c0[:, None] - c0[None]) ** 2).sum(axis=2)
    k1, k2 = np.unravel_index(np.argmax(np.triu(D, 1)), D.shape)
    for k in range(K):
        sel = L == k
        grad = -2 * np.sum(HX[sel] * (X[sel] - C[k]), axis=0)
        if k == k1:
            grad += 2 * beta * (C[k1] - C[k2])
        elif k == k2:
            grad += 2 * beta * (C[k2] - C[k1])
        if sel.any():
            np.testing.assert_allclose(grad, 0.0, atol=1e-10 * (1 + np.abs(X).sum()))
    before = objective_vector(X, HX, c0, L, beta)
    assert res.history[0] == pytest.approx(before, rel=1e-12)
    fixed_pair = float(np.sum(HX * (X - C[L]) ** 2)) + beta * float(np.sum((C[k1] - C[k2]) ** 2))
    assert fixed_pair <= before * (1 + 1e-12)
    assert res.objective == pytest.approx(objective_vector(X, HX, C, L, beta), rel=1e-12)


def test_beta_objective_can_increase_hand_example():
    """F of eq. (34) can grow under Algorithm 1 when another pair becomes the farthest.

    w = (0, -1, -3), h = (1, 2, 3), K = 3, beta = 10, c0 = (-1, 0, 1). Assignment:
    {-1, -3} -> c=-1, {0} -> c=0, nothing -> c=1. F0 = 2*0 + 3*2^2 + 10*2^2 = 52.
    Farthest pair (-1, 1): the second cluster is empty, so eq. (37) puts both centres at
    the first cluster's weighted mean (2*(-1) + 3*(-3))/5 = -2.2; the middle centre stays
    at 0. F1 = 2*1.2^2 + 3*0.8^2 + 10*2.2^2 = 53.2 > 52. The fixed-pair objective drops
    to 4.8.
    """
    res = drhw_kmeans(
        [0.0, -1.0, -3.0], [1.0, 2.0, 3.0], 3, beta=10.0, init=[-1.0, 0.0, 1.0], max_iter=1
    )
    np.testing.assert_allclose(res.centers, [-2.2, 0.0, -2.2], rtol=1e-14)
    np.testing.assert_array_equal(res.labels, [1, 0, 0])
    np.testing.assert_allclose(res.history, [52.0, 53.2], rtol=1e-14)
    assert res.history[1] > res.history[0]


def test_vector_assignment_is_unweighted_as_in_paper():
    # point (1, 1) with H = diag(100, 0.001): the Euclidean-nearest centre is (0, 0)
    # (distance 2 < 81) while the Hessian-weighted nearest is (1, 10) (0.081 < 100).
    w = [1.0, 1.0, 0.0, 0.0, 1.0, 10.0]
    h = [100.0, 0.001, 1.0, 1.0, 1.0, 1.0]
    res = drhw_kmeans(w, h, 2, block=2, init=[[0.0, 0.0], [1.0, 10.0]], max_iter=1)
    assert res.labels.tolist() == [0, 0, 1]


# ---------------------------------------------------------------- diameter regularizer
@pytest.mark.parametrize("seed", range(5))
def test_beta_shrinks_diameter(seed):
    rng = np.random.default_rng(200 + seed)
    n = 2000
    w = rng.standard_normal(n)
    h = rng.exponential(size=n)
    for K in (4, 8):
        plain = drhw_kmeans(w, h, K)
        reg = drhw_kmeans(w, h, K, beta=0.05 * n)
        assert centers_diameter(reg.centers) < centers_diameter(plain.centers)
        # and the regularized run pays for it in weighted error
        assert hw_distortion(w, reg.reconstruct(), h) > hw_distortion(w, plain.reconstruct(), h)


# ---------------------------------------------------------------- plain k-means checks
def test_h_none_equals_ones():
    rng = np.random.default_rng(3)
    w = rng.standard_normal(500)
    for kw in ({}, {"beta": 2.0}, {"init": "kmeans++", "rng": 5}):
        a = drhw_kmeans(w, None, 6, **kw)
        b = drhw_kmeans(w, np.ones_like(w), 6, **kw)
        np.testing.assert_array_equal(a.centers, b.centers)
        np.testing.assert_array_equal(a.labels, b.labels)
        assert a.objective == b.objective and a.n_iter == b.n_iter
    v = drhw_kmeans(w, None, 4, block=2)
    u = drhw_kmeans(w, np.ones_like(w), 4, block=2)
    np.testing.assert_array_equal(v.centers, u.centers)


@pytest.mark.parametrize("weighted", [False, True])
def test_recovers_well_separated_clusters(weighted):
    rng = np.random.default_rng(4)
    true = np.array([-10.0, 0.0, 10.0])
    g = np.repeat(np.arange(3), 100)
    w = true[g] + 0.1 * rng.standard_normal(g.size)
    perm = rng.permutation(g.size)
    w, g = w[perm], g[perm]
    h = rng.exponential(size=g.size) if weighted else np.ones(g.size)
    res = drhw_kmeans(w, h if weighted else None, 3)
    means = np.array([(h[g == k] @ w[g == k]) / h[g == k].sum() for k in range(3)])
    np.testing.assert_allclose(res.centers, means, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(res.labels, g)
    assert res.converged and res.stop_reason == "fixed_point"
    # vector version: 2-D blobs
    C2 = np.array([[-5.0, 5.0], [5.0, 5.0], [0.0, -5.0]])
    X = C2[g] + 0.1 * rng.standard_normal((g.size, 2))
    res2 = drhw_kmeans(X.ravel(), None, 3, block=2, init="kmeans++", rng=1)
    found = res2.centers[np.argsort(res2.centers[:, 0] + 10 * res2.centers[:, 1])]
    expect = np.array([X[g == k].mean(axis=0) for k in (2, 0, 1)])
    np.testing.assert_allclose(found, expect, atol=1e-12)
    assert res2.reconstruct().shape == (2 * g.size,)


def test_fixed_point_and_stopping_rules():
    rng = np.random.default_rng(5)
    w = rng.standard_normal(300)
    res = drhw_kmeans(w, None, 5, tol=0.0, max_iter=500)
    assert res.converged and res.stop_reason == "fixed_point"
    again = drhw_kmeans(w, None, 5, init=res.centers, tol=0.0)
    assert again.n_iter == 1 and again.stop_reason == "fixed_point"
    np.testing.assert_array_equal(again.centers, res.centers)
    np.testing.assert_array_equal(again.labels, res.labels)
    short = drhw_kmeans(w, None, 5, tol=0.0, max_iter=1, init=[-3.0, -2.0, 0.0, 0.1, 3.0])
    assert short.n_iter == 1 and not short.converged and short.stop_reason == "max_iter"
    loose = drhw_kmeans(w, None, 5, tol=0.5)
    assert loose.stop_reason in ("tol", "fixed_point") and loose.converged
    h = loose.history
    assert abs(h[-2] - h[-1]) <= 0.5 * abs(h[-2])


def test_empty_and_massless_clusters_keep_their_centre():
    w = np.array([0.0, 0.1, 0.2, 1.0, 1.1])
    res = drhw_kmeans(w, None, 3, init=[0.1, 1.05, 50.0], max_iter=5)
    assert res.centers[2] == 50.0 and not np.any(res.labels == 2)
    h = np.array([1.0, 1.0, 1.0, 0.0, 0.0])  # second cluster has no Hessian mass
    res = drhw_kmeans(w, h, 2, init=[0.0, 1.2], max_iter=5)
    assert res.centers[1] == 1.2
    assert res.centers[0] == pytest.approx(0.1)


def test_kmeanspp_reproducible():
    w = np.random.default_rng(6).standard_normal(400)
    a = drhw_kmeans(w, None, 7, init="kmeans++", rng=11)
    b = drhw_kmeans(w, None, 7, init="kmeans++", rng=np.random.default_rng(11))
    np.testing.assert_array_equal(a.centers, b.centers)
    c = drhw_kmeans_batch(w[None], None, 7, init="kmeans++", rng=11)
    np.testing.assert_array_equal(c.centers[0], a.centers)


def test_result_is_frozen_and_typed():
    res = drhw_kmeans([0.0, 1.0, 2.0], None, 2)
    assert isinstance(res, KMeansResult)
    assert res.n_clusters == 2
    with pytest.raises(AttributeError):
        res.objective = 0.0


# ------------------------------------------------------------------------------ batch
@pytest.mark.parametrize("beta", [0.0, 0.7])
@pytest.mark.parametrize("K", [1, 2, 5, 16])
def test_batch_equals_rowwise(beta, K):
    rng = np.random.default_rng(7 + K)
    T, n = 40, 30
    W = rng.standard_normal((T, n))
    H = rng.exponential(size=(T, n))
    W[3] = 1.5  # a constant row: all centres coincide
    for init in ("linear", rng.standard_normal((T, K))):
        b = drhw_kmeans_batch(W, H, K, beta=beta, init=init, max_iter=60)
        assert b.centers.shape == (T, K) and b.labels.shape == (T, n)
        assert b.reconstruct().shape == (T, n)
        for t in range(T):
            ini = init if isinstance(init, str) else init[t]
            r = drhw_kmeans(W[t], H[t], K, beta=beta, init=ini, max_iter=60)
            np.testing.assert_array_equal(b.centers[t], r.centers)
            np.testing.assert_array_equal(b.labels[t], r.labels)
            assert b.objective[t] == r.objective
            assert b.n_iter[t] == r.n_iter
            assert b.stop_reason[t] == r.stop_reason and b.converged[t] == r.converged
            np.testing.assert_array_equal(b.history[t, : r.n_iter + 1], r.history)
            assert np.all(np.isnan(b.history[t, r.n_iter + 1 :]))


def test_batch_shared_init_and_unweighted():
    rng = np.random.default_rng(8)
    W = rng.standard_normal((5, 20))
    b = drhw_kmeans_batch(W, None, 3, init=[-1.0, 0.0, 1.0])
    for t in range(5):
        r = drhw_kmeans(W[t], None, 3, init=[-1.0, 0.0, 1.0])
        np.testing.assert_array_equal(b.centers[t], r.centers)


@pytest.mark.parametrize("block", [2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_vector_batch_equals_rowwise(block, weighted):
    """drhw_kmeans_batch(block=m) row t is drhw_kmeans(W[t], block=m) bit for bit, for
    every kind of initialisation."""
    rng = np.random.default_rng(40 + block)
    T, nb = 25, 12
    W = rng.standard_normal((T, nb * block))
    W[4] = 0.5  # a constant row
    W[5] = np.round(W[5])  # ties
    H = rng.exponential(size=W.shape) if weighted else None
    for K in (1, 3, 7):
        inits = ["linear", "quantile", rng.standard_normal((K, block)),
                 rng.standard_normal((T, K, block))]
        for init in inits:
            for beta in (0.0, 0.6):
                b = drhw_kmeans_batch(W, H, K, beta=beta, block=block, init=init, max_iter=40)
                assert b.centers.shape == (T, K, block) and b.labels.shape == (T, nb)
                assert b.reconstruct().shape == W.shape and b.block == block and b.batched
                for t in range(T):
                    ini = init if isinstance(init, str) or init.ndim == 2 else init[t]
                    r = drhw_kmeans(W[t], None if H is None else H[t], K, beta=beta,
                                    block=block, init=ini, max_iter=40)
                    np.testing.assert_array_equal(b.centers[t], r.centers)
                    np.testing.assert_array_equal(b.labels[t], r.labels)
                    assert b.objective[t] == r.objective and b.n_iter[t] == r.n_iter
                    assert b.stop_reason[t] == r.stop_reason
                    np.testing.assert_array_equal(b.history[t, : r.n_iter + 1], r.history)
                    np.testing.assert_array_equal(b.reconstruct()[t], r.reconstruct())


def test_vector_batch_kmeanspp_and_objective():
    rng = np.random.default_rng(44)
    W = rng.standard_normal((30, 40))
    H = rng.exponential(size=W.shape)
    a = drhw_kmeans_batch(W, H, 4, block=2, init="kmeans++", rng=5, beta=0.3)
    b = drhw_kmeans_batch(W, H, 4, block=2, init="kmeans++", rng=np.random.default_rng(5),
                          beta=0.3)
    np.testing.assert_array_equal(a.centers, b.centers)
    for t in range(W.shape[0]):
        X, HX = W[t].reshape(20, 2), H[t].reshape(20, 2)
        assert a.objective[t] == pytest.approx(
            objective_vector(X, HX, a.centers[t], a.labels[t], 0.3), rel=1e-12)


# ------------------------------------------------------------------- exact 1-D k-means
def test_optimal_matches_brute_force_contiguous():
    rng = np.random.default_rng(9)
    for _ in range(300):
        n = int(rng.integers(1, 11))
        K = int(rng.integers(1, min(n, 4) + 1))
        w = rng.standard_normal(n)
        if rng.random() < 0.3:
            w = np.round(w)  # ties
        h = rng.exponential(size=n) * (rng.random(n) > 0.15)  # some zero weights
        res = optimal_kmeans_1d(w, K, h=h)
        assert res.objective == pytest.approx(brute_contiguous(w, h, K), rel=1e-9, abs=1e-12)
        assert res.objective == pytest.approx(weighted_sse(w, h, res.labels, res.centers))
        if np.unique(w).size >= K:
            assert np.bincount(res.labels, minlength=K).min() >= 1
        assert np.all(np.diff(res.centers) >= 0)


def test_optimal_matches_brute_force_all_assignments():
    rng = np.random.default_rng(10)
    for _ in range(25):
        n = int(rng.integers(2, 8))
        K = int(rng.integers(1, min(n, 3) + 1))
        w = rng.standard_normal(n)
        h = rng.exponential(size=n)
        res = optimal_kmeans_1d(w, K, h=h)
        assert res.objective == pytest.approx(brute_all_assignments(w, h, K), rel=1e-9)


@pytest.mark.parametrize("K", [2, 3, 7])
def test_optimal_matches_quadratic_dp_larger_n(K):
    # enough points for many levels of the divide-and-conquer recursion
    rng = np.random.default_rng(11 + K)
    w = np.concatenate([rng.standard_normal(400), 3 + 0.3 * rng.standard_normal(200)])
    h = rng.exponential(size=w.size)
    res = optimal_kmeans_1d(w, K, h=h)
    assert res.objective == pytest.approx(dp_quadratic(w, h, K), rel=1e-10)


def test_optimal_never_worse_than_lloyd():
    rng = np.random.default_rng(12)
    for seed in range(40):
        n = int(rng.integers(5, 300))
        K = int(rng.integers(1, min(n, 10) + 1))
        w = rng.standard_t(2, size=n)
        h = rng.exponential(size=n)
        opt = optimal_kmeans_1d(w, K, h=h)
        for init in ("linear", "kmeans++"):
            lloyd = drhw_kmeans(w, h, K, init=init, rng=seed)
            assert opt.objective <= lloyd.objective * (1 + 1e-12) + 1e-300


def test_optimal_fewer_distinct_values_than_clusters():
    w = [2.0, 1.0, 2.0, 1.0, 5.0]
    res = optimal_kmeans_1d(w, 5)
    assert res.centers.tolist() == [1.0, 2.0, 5.0, 5.0, 5.0]
    assert res.labels.tolist() == [1, 0, 1, 0, 2]
    assert res.objective == 0.0
    np.testing.assert_array_equal(res.reconstruct(), w)
    # equal values always share a cluster
    res = optimal_kmeans_1d([0.0, 0.0, 0.0, 1.0], 2)
    assert res.labels.tolist() == [0, 0, 0, 1]


def test_optimal_zero_weight_points_cost_nothing():
    w = np.array([0.0, 0.2, 5.0, 10.0, 10.4])
    h = np.array([1.0, 1.0, 0.0, 1.0, 1.0])
    res = optimal_kmeans_1d(w, 2, h=h)
    assert res.objective == pytest.approx(2 * 0.1**2 + 2 * 0.2**2)
    res3 = optimal_kmeans_1d(w, 3, h=h)  # the massless point can take a cluster of its own
    assert res3.objective == pytest.approx(2 * 0.1**2)
    h0 = np.zeros(5)
    res0 = optimal_kmeans_1d(w, 2, h=h0)
    assert res0.objective == 0.0 and np.bincount(res0.labels).min() >= 1


@pytest.mark.parametrize("weighted", [False, True])
def test_optimal_batch_equals_rowwise(weighted, monkeypatch):
    """optimal_kmeans_1d_batch row t is optimal_kmeans_1d(W[t]) bit for bit: ties, zero
    Hessian entries, rows with fewer distinct values than clusters, K = 1 and K = n; the
    same without numba (or with another segment kernel)."""
    rng = np.random.default_rng(50)
    T, n = 40, 30
    W = rng.standard_normal((T, n))
    W[1] = 2.0  # one distinct value
    W[2] = np.round(W[2])  # few distinct values
    W[3:10] = np.round(W[3:10], 1)  # ties
    H = None
    if weighted:
        H = rng.exponential(size=W.shape) * (rng.random(W.shape) > 0.2)
        H[11] = 0.0  # no Hessian mass at all
    for K in (1, 2, 5, 17, n):
        b = optimal_kmeans_1d_batch(W, K, h=H)
        assert b.batched and b.centers.shape == (T, K) and b.labels.shape == (T, n)
        assert np.all(b.stop_reason == "exact") and np.all(b.converged)
        for t in range(T):
            r = optimal_kmeans_1d(W[t], K, h=None if H is None else H[t])
            np.testing.assert_array_equal(b.centers[t], r.centers)
            np.testing.assert_array_equal(b.labels[t], r.labels)
            assert b.objective[t] == r.objective
        with monkeypatch.context() as m:
            m.setattr(kmeans, "_USE_NUMBA", False)
            c = optimal_kmeans_1d_batch(W, K, h=H)
        with monkeypatch.context() as m:
            m.setattr(kmeans1d, "_SEGMENT_KERNEL", kmeans1d._segments_divide_and_conquer)
            d = optimal_kmeans_1d_batch(W, K, h=H)
        np.testing.assert_array_equal(c.labels, b.labels)
        np.testing.assert_array_equal(c.centers, b.centers)
        np.testing.assert_array_equal(c.objective, b.objective)
        # another kernel may pick another of several optimal segmentations (ties)
        np.testing.assert_allclose(d.objective, b.objective, rtol=1e-11, atol=1e-13)


def test_optimal_batch_never_worse_than_lloyd_batch():
    rng = np.random.default_rng(51)
    W = rng.standard_t(3, size=(200, 50))
    H = rng.exponential(size=W.shape)
    for K in (2, 4, 9):
        opt = optimal_kmeans_1d_batch(W, K, h=H)
        lloyd = drhw_kmeans_batch(W, H, K)
        assert np.all(opt.objective <= lloyd.objective * (1 + 1e-12))
        np.testing.assert_allclose(opt.objective, hw_distortion(W, opt.reconstruct(), H, axis=1),
                                   rtol=1e-12)


def test_optimal_segment_kernel_contract():
    x = np.array([0.0, 1.0, 2.0, 10.0, 11.0])
    b = kmeans1d._SEGMENT_KERNEL(x, np.ones(5), 2)
    assert b.tolist() == [0, 3, 5]


# ------------------------------------------------------------------------ ValueErrors
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_clusters": 0}, "n_clusters"),
        ({"n_clusters": 7}, "n_clusters"),
        ({"n_clusters": 2.0}, "n_clusters"),
        ({"h": [1, 1, 1, -1, 1, 1]}, "entry 3 is -1"),
        ({"h": [1, 1, 1]}, "shape"),
        ({"h": [1, 1, 1, np.nan, 1, 1]}, "finite"),
        ({"block": 4}, "n=6.*m=4"),
        ({"block": 0}, "block"),
        ({"beta": -0.1}, "beta"),
        ({"beta": np.inf}, "beta"),
        ({"init": "random"}, "init"),
        ({"init": [0.0, 1.0, 2.0]}, "init"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"init": "kmeans++", "rng": "seed"}, "rng"),
    ],
)
def test_drhw_kmeans_value_errors(kwargs, match):
    args = {"w": np.arange(6.0), "n_clusters": 2}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        drhw_kmeans(**args)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: drhw_kmeans_batch(np.zeros((3, 5)), None, 2, block=2), "divisible by block"),
        (lambda: drhw_kmeans_batch(np.zeros((3, 6)), None, 4, block=2), "n_clusters"),
        (lambda: drhw_kmeans_batch(np.zeros((3, 6)), None, 2, block=0), "block"),
        (lambda: drhw_kmeans_batch(np.zeros((3, 6)), None, 2, block=2, init=np.zeros(2)),
         "init"),
        (lambda: drhw_kmeans_batch(np.zeros((3, 6)), None, 2, block=2, init=np.zeros((2, 2, 2))),
         "init"),
        (lambda: drhw_kmeans_batch(np.zeros((3, 6)), None, 2, block=2, beta=1.0,
                                   diameter="linear"), "scalar quantization"),
        (lambda: optimal_kmeans_1d_batch(np.zeros(4), 2), "ndim"),
        (lambda: optimal_kmeans_1d_batch(np.zeros((0, 4)), 2), "at least one"),
        (lambda: optimal_kmeans_1d_batch(np.zeros((2, 4)), 5), "n_clusters"),
        (lambda: optimal_kmeans_1d_batch(np.zeros((2, 4)), 0), "n_clusters"),
        (lambda: optimal_kmeans_1d_batch(np.zeros((2, 4)), 2.5), "n_clusters"),
        (lambda: optimal_kmeans_1d_batch(np.zeros((2, 4)), 2, h=np.ones(4)), "shape"),
        (lambda: optimal_kmeans_1d_batch(np.zeros((2, 4)), 2, h=-np.ones((2, 4))),
         r"h must be >= 0.*entry \(0, 0\)"),
        (lambda: optimal_kmeans_1d_batch([[0.0, np.nan]], 1), "finite"),
    ],
)
def test_batch_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_value_errors_other_inputs():
    with pytest.raises(ValueError, match="finite"):
        drhw_kmeans([0.0, np.nan, 1.0], None, 2)
    with pytest.raises(ValueError, match="ndim"):
        drhw_kmeans(np.zeros((2, 3)), None, 2)
    with pytest.raises(ValueError, match="n_clusters"):
        drhw_kmeans(np.arange(6.0), None, 4, block=2)  # only 3 blocks
    with pytest.raises(ValueError, match="init"):
        drhw_kmeans(np.arange(6.0), None, 2, block=2, init=[0.0, 1.0])
    with pytest.raises(ValueError, match="ndim"):
        drhw_kmeans_batch(np.arange(6.0), None, 2)
    with pytest.raises(ValueError, match="n_clusters"):
        drhw_kmeans_batch(np.zeros((3, 4)), None, 5)
    with pytest.raises(ValueError, match="shape"):
        drhw_kmeans_batch(np.zeros((3, 4)), np.ones((3, 5)), 2)
    with pytest.raises(ValueError, match=r"H must be >= 0.*entry \(1, 2\) is -1"):
        H = np.ones((3, 4))
        H[1, 2] = -1.0
        drhw_kmeans_batch(np.zeros((3, 4)), H, 2)
    with pytest.raises(ValueError, match="init"):
        drhw_kmeans_batch(np.zeros((3, 4)), None, 2, init=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="beta"):
        drhw_kmeans_batch(np.zeros((3, 4)), None, 2, beta=-1.0)
    with pytest.raises(ValueError, match="n_clusters"):
        optimal_kmeans_1d([1.0, 2.0], 3)
    with pytest.raises(ValueError, match="n_clusters"):
        optimal_kmeans_1d([1.0, 2.0], 0)
    with pytest.raises(ValueError, match="h must be >= 0"):
        optimal_kmeans_1d([1.0, 2.0], 1, h=[1.0, -2.0])
    with pytest.raises(ValueError, match="finite"):
        optimal_kmeans_1d([1.0, np.inf], 1)
    with pytest.raises(ValueError, match="shape"):
        optimal_kmeans_1d([1.0, 2.0], 1, h=[1.0])
    with pytest.raises(ValueError, match="shape"):
        hw_distortion([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="h must be >= 0"):
        hw_distortion([1.0, 2.0], [1.0, 2.0], h=[-1.0, 0.0])
    with pytest.raises(ValueError, match="finite"):
        centers_diameter([0.0, np.nan])
    with pytest.raises(ValueError, match="centers"):
        centers_diameter(np.zeros((0,)))


# ------------------------------------------------- the authors' recipe: quantile start,
# linear diameter penalty (weighted_k_means_cpu of github.com/wgao9/weight-quant)
def reference_linear_diameter(w, h, K, beta, n_iter):
    """Plain-loop reading of the authors' update: nearest centre, weighted means, then the
    end centres moved inward by beta / (4 * cluster mass) without passing a neighbour."""
    c = np.quantile(w, (2 * np.arange(K) + 1) / (2 * K))
    for _ in range(n_iter):
        mid = 0.5 * (c[:-1] + c[1:])
        lab = np.searchsorted(mid, w, side="left")  # a weight on a midpoint: lower centre
        a = np.array([h[lab == k].sum() for k in range(K)])
        b = np.array([(h * w)[lab == k].sum() for k in range(K)])
        new = np.where(a > 0, b / np.where(a > 0, a, 1), c)
        new[0] = min(new[0] + beta / (4 * a[0]), new[1])
        new[-1] = max(new[-1] - beta / (4 * a[-1]), new[-2])
        c = new
    return c


def test_quantile_init_is_the_authors_start():
    w = np.random.default_rng(0).standard_t(3, size=1001)
    for K in (1, 2, 5, 16):
        res = drhw_kmeans(w, n_clusters=K, init="quantile", max_iter=1)
        mid = np.quantile(w, [(2 * k + 1) / (2 * K) for k in range(K)])
        assert res.history[0] == pytest.approx(weighted_sse(
            w, np.ones_like(w), np.argmin(np.abs(w[:, None] - mid[None]), axis=1), mid))


@pytest.mark.parametrize("K", [3, 4, 7])
def test_linear_diameter_matches_reference_loop(K):
    rng = np.random.default_rng(K)
    w = rng.normal(size=3000) * 0.05
    h = rng.gamma(0.5, size=w.size)
    h /= h.mean()  # the authors normalise the importances of a layer to mean 1
    beta = 50.0
    res = drhw_kmeans(w, h, K, beta=beta, init="quantile", max_iter=30, tol=0.0,
                      diameter="linear")
    ref = reference_linear_diameter(w, h, K, beta, res.n_iter)
    np.testing.assert_allclose(res.centers, ref, rtol=0, atol=1e-12)
    # the penalty is beta/2 times the diameter, and the run never increases it
    span = res.centers.max() - res.centers.min()
    assert res.objective == pytest.approx(
        weighted_sse(w, h, res.labels, res.centers) + 0.5 * beta * span, rel=1e-12)
    assert np.all(np.diff(res.history) <= 1e-12 * res.history[:-1])


def test_linear_diameter_two_clusters_meet_at_pooled_mean():
    w = np.array([-1.0, -0.9, 0.9, 1.0])
    res = drhw_kmeans(w, n_clusters=2, beta=100.0, diameter="linear", max_iter=1)
    assert res.centers.tolist() == [0.0, 0.0]
    small = drhw_kmeans(w, n_clusters=2, beta=0.4, diameter="linear", max_iter=1)
    np.testing.assert_allclose(small.centers, [-0.9, 0.9], atol=1e-15)


def test_linear_diameter_batch_equals_rowwise():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(4, 200))
    H = rng.uniform(0.1, 2.0, size=W.shape)
    b = drhw_kmeans_batch(W, H, 5, beta=3.0, init="quantile", diameter="linear")
    for t in range(4):
        one = drhw_kmeans(W[t], H[t], 5, beta=3.0, init="quantile", diameter="linear")
        np.testing.assert_array_equal(b.centers[t], one.centers)
        np.testing.assert_array_equal(b.labels[t], one.labels)
        assert b.diameter == one.diameter == "linear"


@pytest.mark.parametrize("kwargs, match", [
    (dict(diameter="square"), "diameter must be one of"),
    (dict(diameter=2), "diameter must be one of"),
    (dict(diameter="linear", block=2), "scalar quantization"),
    (dict(init="quantiles"), "init must be one of"),
])
def test_diameter_and_init_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        drhw_kmeans(np.arange(8.0), n_clusters=2, beta=1.0, **kwargs)
