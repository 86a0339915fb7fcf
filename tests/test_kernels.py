"""Tests of the speed kernels: exact 1-D segmentation (numpy, SMAWK in Python and
compiled), the sorted-run engine of scalar k-means, and exact marginal counts of KSG.

Every kernel is compared with a brute-force definition on random inputs with ties, zero
weights and boundary cases; the compiled kernel is tested only when numba is installed.
"""

import itertools

import numpy as np
import pytest

from infocompress import kmeans, kmeans1d, mi, quantize
from infocompress.quantize import drhw_kmeans

KERNELS = {
    "numpy": kmeans1d._segments_divide_and_conquer,
    "smawk_python": kmeans1d._segments_smawk,
    "default": kmeans1d._segments_default,
}


def segment_cost(x, wts, b):
    """Weighted within-segment sum of squares of the segmentation b, computed directly."""
    total = 0.0
    for a, e in zip(b[:-1], b[1:], strict=True):
        xs, ws = x[a:e], wts[a:e]
        if ws.sum() > 0:
            c = (ws @ xs) / ws.sum()
            total += ws @ (xs - c) ** 2
    return total


def brute_segments(x, wts, K):
    """Minimum of segment_cost over all segmentations into K non-empty runs."""
    n = x.size
    return min(
        segment_cost(x, wts, (0, *cuts, n)) for cuts in itertools.combinations(range(1, n), K - 1)
    )


def random_instance(rng, n):
    """Sorted distinct values (with clusters and gaps) and weights with zeros."""
    x = np.unique(np.round(rng.standard_t(2, size=n) * 10, 1))
    wts = rng.exponential(size=x.size)
    kind = rng.integers(4)
    if kind == 1:
        wts[rng.random(x.size) < 0.4] = 0.0  # massless points
    elif kind == 2:
        wts[:] = 1.0
    elif kind == 3:
        wts = np.round(wts * 3)  # integer weights, some zero
    return x, wts


def check_contract(b, n, K):
    assert b.dtype == np.int64 and b.shape == (K + 1,)
    assert b[0] == 0 and b[K] == n and np.all(np.diff(b) > 0)


# ------------------------------------------------------------------ segment kernels
@pytest.mark.parametrize("name", list(KERNELS))
def test_segment_kernels_match_brute_force(name):
    kernel = KERNELS[name]
    rng = np.random.default_rng(2024)
    for _ in range(80):
        x, wts = random_instance(rng, int(rng.integers(1, 10)))
        n = x.size
        for K in range(1, n + 1):
            b = kernel(x, wts, K)
            check_contract(b, n, K)
            best = brute_segments(x, wts, K)
            scale = max(float(wts @ (x - x.mean()) ** 2), 1e-300)
            assert segment_cost(x, wts, b) <= best + 1e-12 * scale


def test_segment_kernels_agree_on_larger_inputs():
    rng = np.random.default_rng(7)
    for trial in range(15):
        x, wts = random_instance(rng, int(rng.integers(30, 120)))
        n = x.size
        for K in sorted({2, 3, int(rng.integers(2, n)), n - 1}):
            costs = {name: segment_cost(x, wts, kern(x, wts, K)) for name, kern in KERNELS.items()}
            ref = costs["numpy"]
            for name, c in costs.items():
                assert c == pytest.approx(ref, rel=1e-11, abs=1e-12), (trial, K, name, costs)


def test_all_weights_zero_and_single_segment():
    x = np.array([0.0, 1.0, 2.0, 5.0])
    for kernel in KERNELS.values():
        b = kernel(x, np.zeros(4), 2)
        check_contract(b, 4, 2)
        assert kernel(x, np.ones(4), 1).tolist() == [0, 4]
        assert kernel(x, np.ones(4), 4).tolist() == [0, 1, 2, 3, 4]
        assert kernel(x, np.ones(4), 2).tolist() == [0, 3, 4]


def test_compiled_kernel_equals_python_smawk():
    pytest.importorskip("numba")
    compiled = kmeans1d._compiled_kernel()
    assert compiled is not None
    rng = np.random.default_rng(11)
    for _ in range(20):
        x, wts = random_instance(rng, int(rng.integers(2, 150)))
        for K in (1, 2, max(1, x.size // 3), x.size):
            np.testing.assert_array_equal(compiled(x, wts, K), kmeans1d._segments_smawk(x, wts, K))


def test_optimal_kmeans_1d_uses_default_kernel_with_ties_and_zero_h():
    assert kmeans1d._SEGMENT_KERNEL is kmeans1d._segments_default
    rng = np.random.default_rng(5)
    for _ in range(20):
        w = np.round(rng.standard_normal(200), 1)  # many ties
        h = rng.exponential(size=200)
        h[rng.random(200) < 0.2] = 0.0
        K = int(rng.integers(2, 12))
        res = quantize.optimal_kmeans_1d(w, K, h=h)
        x, inv = np.unique(w, return_inverse=True)
        wts = np.bincount(inv.ravel(), weights=h)
        ref = segment_cost(x, wts, kmeans1d._segments_divide_and_conquer(x, wts, K))
        assert res.objective == pytest.approx(ref, rel=1e-11, abs=1e-12)


# ------------------------------------------------------- sorted-run k-means engine
def test_searchsorted_rows_equals_numpy_rowwise():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 7, 8, 50, 129):
        S = np.sort(np.round(rng.standard_normal((25, n)), 1), axis=1)  # ties
        q = np.concatenate([rng.standard_normal((25, 4)), S[:, :2], S[:, -1:] + 1], axis=1)
        got = kmeans._searchsorted_rows(S, q)
        want = np.stack([np.searchsorted(S[t], q[t], side="right") for t in range(25)])
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(kmeans._searchsorted_rows(S[:1], q[:1]), want[:1])


def test_sorted_runs_give_nearest_centre_labels_and_sums():
    rng = np.random.default_rng(4)
    T, n, K = 30, 40, 6
    W = np.round(rng.standard_normal((T, n)), 1)
    H = rng.exponential(size=(T, n))
    C = np.round(rng.standard_normal((T, K)), 1)
    C[0] = 0.3  # all centres equal
    C[1, :2] = C[1, 2]  # some equal centres
    order, Ws, Hs, flat_h, flat_hw = kmeans._sorted_rows(W, H)
    corder, bnd = kmeans._assign_sorted(Ws, C)
    L = kmeans._labels_from_runs(order, corder, bnd)
    for t in range(T):
        # eq. (36) by the definition of the module: sort the centres (stable); a weight
        # goes past every midpoint strictly below it
        o = np.argsort(C[t], kind="stable")
        cs = C[t][o]
        mids = 0.5 * (cs[:-1] + cs[1:])
        want = o[(W[t][:, None] > mids[None, :]).sum(axis=1)]
        np.testing.assert_array_equal(L[t], want)
        d = np.abs(W[t][:, None] - C[t][None, :])
        assert np.all(d[np.arange(n), L[t]] <= d.min(axis=1) + 1e-15)
    rows = np.arange(T)
    A = kmeans._run_sums(flat_h, rows, n, corder, bnd)
    B = kmeans._run_sums(flat_hw, rows, n, corder, bnd)
    ones = kmeans._run_sums(None, rows, n, corder, bnd)
    for t in range(T):
        np.testing.assert_allclose(A[t], np.bincount(L[t], weights=H[t], minlength=K), rtol=1e-13)
        np.testing.assert_allclose(
            B[t], np.bincount(L[t], weights=H[t] * W[t], minlength=K), rtol=1e-12, atol=1e-13
        )
        np.testing.assert_array_equal(ones[t], np.bincount(L[t], minlength=K))


# --------------------------------------------------------- KSG exact marginal counts
def test_count_sorted_equals_brute_force_with_ties_on_the_radius():
    rng = np.random.default_rng(6)
    for _ in range(50):
        v = np.sort(np.round(rng.standard_normal(int(rng.integers(1, 300))), 1))
        centres = np.concatenate([v[:: max(1, v.size // 20)], rng.standard_normal(10)])
        radius = np.abs(np.round(rng.standard_normal(centres.size) * 0.3, 1))
        radius[::3] = np.abs(v[0] - centres[::3])  # radius exactly at a distance
        for r in (radius, mi._radius(radius, True)):
            want = (np.abs(v[None, :] - centres[:, None]) <= r[:, None]).sum(axis=1)
            np.testing.assert_array_equal(mi._count_sorted(v, centres, r), want)


def test_unique_rows_matches_numpy_unique():
    rng = np.random.default_rng(8)
    for d in (1, 2, 3):
        for a in (
            rng.standard_normal((100, d)),
            rng.integers(0, 3, size=(100, d)).astype(float),
            np.vstack([rng.standard_normal((5, d))] * 4),
        ):
            u, inv, cnt = mi._unique_rows(a)
            np.testing.assert_array_equal(u[inv], a)
            assert cnt.sum() == a.shape[0] and np.all(np.bincount(inv) == cnt)
            assert u.shape[0] == np.unique(a, axis=0).shape[0]


# ----------------------------------------- compiled engines: prefix sums, vector, exact
def numpy_engine(monkeypatch):
    """Run the k-means functions on the numpy engines (as without numba)."""
    monkeypatch.setattr(kmeans, "_USE_NUMBA", False)


def direct_objective(w, h, res):
    """Eq. (34) (or the linear penalty) of a scalar result, by one O(n) pass."""
    hh = np.ones_like(w) if h is None else h
    err = float(np.sum(hh * (w - res.centers[res.labels]) ** 2))
    spread = float(res.centers.max() - res.centers.min())
    if res.beta > 0:
        err += 0.5 * res.beta * spread if res.diameter == "linear" else res.beta * spread**2
    return err


def adversarial_scalar_cases():
    """(name, w, h, K, init): large offsets, ties, empty and massless clusters, tight and
    far-apart clusters, a long vector."""
    rng = np.random.default_rng(31)
    cases = []
    w = 1e6 + rng.standard_normal(3000)
    cases += [("offset 1e6", w, None, 7, "linear"),
              ("offset 1e6, weighted", w, rng.exponential(size=w.size), 16, "quantile")]
    w = -3e8 + np.round(rng.standard_normal(2000), 1)  # offset and ties
    cases.append(("offset -3e8 with ties", w, rng.exponential(size=w.size), 5, "linear"))
    w = np.round(rng.standard_normal(2000), 1)
    cases.append(("ties", w, None, 12, "linear"))
    w = rng.standard_normal(500)
    cases.append(("clusters that empty", w, None, 6,
                  np.array([-100.0, -50.0, -0.5, 0.0, 0.5, 100.0])))
    h = rng.exponential(size=w.size)
    h[w > 0] = 0.0  # the upper half has no Hessian mass
    cases.append(("massless clusters", w, h, 4, "linear"))
    g = rng.integers(3, size=3000)
    w = np.array([-1e3, 0.0, 1e3])[g] + 1e-4 * rng.standard_normal(g.size)
    cases.append(("tight clusters far apart", w, rng.exponential(size=w.size), 3, "quantile"))
    w = rng.standard_t(3, size=200_000)
    cases.append(("n = 2e5, heavy tails", w, rng.exponential(size=w.size), 64, "quantile"))
    return cases


@pytest.mark.parametrize("case", adversarial_scalar_cases(), ids=lambda c: c[0])
@pytest.mark.parametrize(("beta", "diameter"), [(0.0, "squared"), (2.0, "squared"),
                                                 (2.0, "linear")])
def test_prefix_engine_objective_equals_direct_evaluation(case, beta, diameter):
    """The objective of every iteration, computed from prefix sums, equals a direct O(n)
    evaluation at the same centres and labels to 1e-12 relative."""
    _, w, h, K, init = case
    kw = dict(beta=beta * w.size / 100, diameter=diameter, init=init, tol=0.0)
    full = drhw_kmeans(w, h, K, max_iter=30, **kw)
    for t in sorted({min(t, full.n_iter) for t in (1, 2, 5)} | {full.n_iter}):
        res = drhw_kmeans(w, h, K, max_iter=t, **kw)
        assert res.objective == full.history[t]
        direct = direct_objective(w, h, res)
        assert res.objective == pytest.approx(direct, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("case", adversarial_scalar_cases(), ids=lambda c: c[0])
def test_prefix_engine_initial_objective_is_exact(case):
    _, w, h, K, init = case
    res = drhw_kmeans(w, h, K, init=init, max_iter=1)
    c0 = kmeans._initial_centres(init, w[None, :, None], None, K, None)[0, :, 0] \
        if isinstance(init, str) else init
    o = np.argsort(c0, kind="stable")
    mids = 0.5 * (c0[o][:-1] + c0[o][1:])
    lab0 = o[np.searchsorted(mids, w, side="left")]
    hh = np.ones_like(w) if h is None else h
    direct = float(np.sum(hh * (w - c0[lab0]) ** 2))
    assert res.history[0] == pytest.approx(direct, rel=1e-12, abs=1e-300)


def random_scalar_problem(rng):
    n = int(rng.integers(2, 300))
    kind = rng.integers(3)
    w = rng.standard_t(3, size=n) * 10.0 ** rng.integers(-3, 4)
    if kind == 1:
        w = np.round(w, 1)
    elif kind == 2:
        w = w + 10.0 ** rng.integers(3, 9)
    h = None
    if rng.random() < 0.6:
        h = rng.exponential(size=n) * (rng.random(n) > 0.1)
    K = int(rng.integers(1, min(n, 20) + 1))
    return w, h, K


def engine_slack(w, h, beta, centers):
    """Rounding-level difference of F between the engines. Their centres may differ by a
    rounding d = 2 eps max|w| (they solve eq. (37) in other coordinates); at a weighted mean
    or at the solution of eq. (37) that moves F only to second order, (mass + beta) d^2,
    but the diameter penalty of the new farthest pair moves to first order, by about
    beta * (1 + 2 * spread) * d for either penalty. Both matter only when w is far from 0."""
    d = 2 * np.finfo(float).eps * np.max(np.abs(w))
    mass = w.size if h is None else float(np.sum(h))
    spread = float(np.ptp(centers))
    return 4 * (beta * (1 + 2 * spread) * d + (mass + 2 * beta) * d * d)


@pytest.mark.parametrize("seed", range(12))
def test_prefix_engine_step_matches_numpy_engine(seed, monkeypatch):
    """One iteration from the same centres: the same assignment (labels, exactly), centres
    to 1e-12 and objectives to rounding, as the numpy engine (the engine used before, and
    without numba), on data with ties, offsets and Hessian weights."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(100 + seed)
    for _ in range(10):
        w, h, K = random_scalar_problem(rng)
        beta = float(rng.choice([0.0, 0.0, 0.3, 5.0]))
        init = rng.choice(w, size=K) + rng.standard_normal(K) * np.std(w) * 0.1
        kw = dict(beta=beta, diameter=str(rng.choice(["squared", "linear"])), init=init,
                  max_iter=1)
        a = drhw_kmeans(w, h, K, **kw)
        with monkeypatch.context() as m:
            numpy_engine(m)
            b = drhw_kmeans(w, h, K, **kw)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_allclose(a.centers, b.centers, rtol=1e-12,
                                   atol=1e-12 * np.max(np.abs(w)))
        np.testing.assert_allclose(a.history, b.history, rtol=1e-12,
                                   atol=engine_slack(w, h, beta, a.centers) + 1e-300)


@pytest.mark.parametrize("seed", range(6))
def test_prefix_engine_run_matches_numpy_engine(seed, monkeypatch):
    """Whole runs of (HW) k-means on continuous data (no weight within a rounding of a
    midpoint, so the trajectories cannot part): identical labels and iteration counts,
    centres to 1e-12. With beta > 0 a rounding can change which pair is the farthest when
    two centres nearly tie, so whole runs are compared for beta = 0 only; the step test
    above covers the update (37) and the linear penalty."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(200 + seed)
    for _ in range(10):
        n = int(rng.integers(2, 300))
        w = rng.standard_t(3, size=n) * 10.0 ** rng.integers(-3, 4)
        h = rng.exponential(size=n) if rng.random() < 0.6 else None
        K = int(rng.integers(1, min(n, 20) + 1))
        beta = 0.0
        kw = dict(init=str(rng.choice(["linear", "quantile"])), max_iter=60)
        a = drhw_kmeans(w, h, K, **kw)
        with monkeypatch.context() as m:
            numpy_engine(m)
            b = drhw_kmeans(w, h, K, **kw)
        np.testing.assert_allclose(a.centers, b.centers, rtol=1e-12,
                                   atol=1e-12 * np.max(np.abs(w)))
        np.testing.assert_array_equal(a.labels, b.labels)
        # at convergence one engine may find the centres unchanged ("fixed_point") where
        # the other's moved by a rounding ("tol")
        assert a.n_iter == b.n_iter and a.converged == b.converged
        np.testing.assert_allclose(a.history, b.history, rtol=1e-12,
                                   atol=engine_slack(w, h, beta, a.centers) + 1e-300)


def test_prefix_engine_large_vector_matches_numpy_engine(monkeypatch):
    pytest.importorskip("numba")
    rng = np.random.default_rng(7)
    w = rng.standard_normal(300_000)
    h = rng.exponential(size=w.size)
    for hh in (None, h):
        a = drhw_kmeans(w, hh, 16, max_iter=100, tol=0.0)
        with monkeypatch.context() as m:
            numpy_engine(m)
            b = drhw_kmeans(w, hh, 16, max_iter=100, tol=0.0)
        np.testing.assert_allclose(a.centers, b.centers, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(a.labels, b.labels)
        assert a.objective == pytest.approx(direct_objective(w, hh, a), rel=1e-12)


def test_prefix_sums_at_any_position_equal_one_pass():
    """The running sums at position b do not depend on the stored stride: continuing from
    the last stored row gives the sums of one sequential pass."""
    rng = np.random.default_rng(8)
    n = 5 * kmeans._PREFIX_STRIDE + 7
    w = np.concatenate([rng.standard_normal(n - 40) + 1e5, rng.standard_normal(40) * 1e-3])
    h = rng.exponential(size=n)
    order = np.argsort(w)
    for weighted in (False, True):
        xs, hs = np.empty(n), np.empty(n)
        BP = np.empty((n // kmeans._PREFIX_STRIDE + 1, 6))
        ref = kmeans._dd_prefix(w, h, order, weighted, xs, hs, BP)
        assert ref == np.median(w)  # n odd
        s = (0.0,) * 6
        out = np.empty(6)
        for b in range(n + 1):
            kmeans._dd_prefix_at(xs, hs, weighted, ref, BP, b, out)
            np.testing.assert_array_equal(out, s)
            if b < n:
                s = kmeans._dd_step(xs[b], ref, hs[b] if weighted else 1.0, weighted, *s)
        # the pairs carry the exact sums: compare with exact rational arithmetic
        from fractions import Fraction
        g = h[order] if weighted else np.ones(n)
        v = [Fraction(float(x)) - Fraction(float(ref)) for x in xs]
        exact = [sum(Fraction(float(a)) for a in g),
                 sum(Fraction(float(a)) * x for a, x in zip(g, v, strict=True)),
                 sum(Fraction(float(a)) * x**2 for a, x in zip(g, v, strict=True))]
        for c, ex in enumerate(exact):
            got = Fraction(float(out[2 * c])) + Fraction(float(out[2 * c + 1]))
            assert abs(float(got - ex)) <= n * np.finfo(float).eps ** 2 * abs(float(ex))


def test_compiled_row_kernels_equal_plain_python():
    """The numba kernels and the same functions run as plain Python agree bit for bit."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(9)
    for trial in range(12):
        T, K = int(rng.integers(1, 4)), int(rng.integers(1, 6))
        m = 1 if trial % 2 == 0 else 2
        n = m * int(rng.integers(K, 30))
        W = np.round(rng.standard_normal((T, n)), 1 + trial % 3)
        H = rng.exponential(size=(T, n)) if trial % 3 else None
        weighted = H is not None
        Hk = H if weighted else W
        beta = float(rng.choice([0.0, 0.5]))
        C0 = rng.standard_normal((T, K)) if m == 1 else rng.standard_normal((T, K, m))
        max_iter = 15
        outs = []
        for kern in (kmeans._jit("_scalar_rows" if m == 1 else "_vector_rows"),
                     kmeans._scalar_rows if m == 1 else kmeans._vector_rows):
            C = np.empty(C0.shape)
            L = np.empty((T, n // m), dtype=np.int64)
            hist = np.full((T, max_iter + 1), np.nan)
            n_iter = np.zeros(T, dtype=np.int64)
            code = np.zeros(T, dtype=np.int64)
            if m == 1:
                kern(W, Hk, weighted, C0, beta, trial % 4 == 2, max_iter, 1e-10, C, L, hist,
                     n_iter, code)
            else:
                kern(W, Hk, weighted, m, C0, beta, max_iter, 1e-10, C, L, hist, n_iter, code)
            outs.append((C, L, hist, n_iter, code))
        for a, b in zip(outs[0], outs[1], strict=True):
            np.testing.assert_array_equal(a, b)
    W = np.round(rng.standard_normal((5, 40)), 1)
    H = rng.exponential(size=W.shape)
    for K in (1, 3, 40):
        res = []
        for kern in (kmeans1d._jit("_optimal_rows"), kmeans1d._optimal_rows):
            L = np.empty(W.shape, dtype=np.int64)
            xc = np.full((5, K), np.nan)
            u = np.empty(5, dtype=np.int64)
            kern(W, H, True, np.argsort(W, axis=1, kind="stable"), K, L, xc, u)
            res.append((L, xc, u))
        for a, b in zip(*res, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("weighted", [False, True])
def test_vector_kernel_matches_numpy_loop(weighted, monkeypatch):
    """Compiled vector Algorithm 1 against the numpy implementation: identical labels,
    centres and objectives to 1e-12 (the objective is summed in another order)."""
    pytest.importorskip("numba")
    rng = np.random.default_rng(12)
    for _ in range(30):
        m = int(rng.integers(2, 4))
        nb = int(rng.integers(2, 60))
        K = int(rng.integers(1, min(nb, 9) + 1))
        w = rng.standard_normal(m * nb) * 3
        h = rng.exponential(size=w.size) if weighted else None
        kw = dict(beta=float(rng.choice([0.0, 0.0, 0.4])), block=m,
                  init=str(rng.choice(["linear", "quantile"])), max_iter=50)
        a = drhw_kmeans(w, h, K, **kw)
        with monkeypatch.context() as mp:
            numpy_engine(mp)
            b = drhw_kmeans(w, h, K, **kw)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_allclose(a.centers, b.centers, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.history, b.history, rtol=1e-12, atol=1e-300)
        assert a.stop_reason == b.stop_reason


def radix_cases(rng, n):
    return {
        "normal": rng.standard_normal(n),
        "ties and signed zeros": np.round(rng.standard_normal(n), 1) * np.where(
            rng.random(n) < 0.5, -1.0, 1.0),
        "offset": 1e9 + rng.standard_normal(n),
        "constant": np.full(n, -2.5),
        "wide range": rng.standard_normal(n) * 10.0 ** rng.integers(-300, 300, n),
        "tiny": rng.standard_normal(n) * 1e-310,  # subnormals
    }


@pytest.mark.parametrize("compiled", [True, False])
def test_radix_argsort_is_the_stable_argsort(compiled):
    """The radix sort of the scalar engine returns numpy's stable argsort (equal values,
    -0.0 and +0.0 included, keep their index order)."""
    if compiled:
        pytest.importorskip("numba")
        kernel = kmeans._jit("_scalar_rows")  # registers and compiles the helpers
        assert kernel is not None
        import numba

        radix = numba.njit(kmeans._radix_argsort)
        n = 50_000
    else:
        radix, n = kmeans._radix_argsort, 600
    rng = np.random.default_rng(13)
    for name, w in radix_cases(rng, n).items():
        order = np.empty(n, dtype=np.int64)
        radix(w, order, np.empty(n, np.uint64), np.empty(n, np.uint64), np.empty(n, np.int64))
        np.testing.assert_array_equal(order, np.argsort(w, kind="stable"), err_msg=name)


@pytest.mark.parametrize("n", [kmeans._RADIX_MIN - 1, kmeans._RADIX_MIN, 3 * 2048 + 5])
def test_scalar_engine_on_both_sides_of_the_radix_threshold(n, monkeypatch):
    pytest.importorskip("numba")
    rng = np.random.default_rng(n)
    w = rng.standard_normal(n)
    h = rng.exponential(size=n)
    for hh in (None, h):
        a = drhw_kmeans(w, hh, 9, max_iter=50)
        with monkeypatch.context() as m:
            numpy_engine(m)
            b = drhw_kmeans(w, hh, 9, max_iter=50)
        np.testing.assert_array_equal(a.labels, b.labels)
        np.testing.assert_allclose(a.centers, b.centers, rtol=1e-12)
        assert a.objective == pytest.approx(direct_objective(w, hh, a), rel=1e-12)
