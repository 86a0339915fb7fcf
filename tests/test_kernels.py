"""Tests of the speed kernels: exact 1-D segmentation (numpy, SMAWK in Python and
compiled), the sorted-run engine of scalar k-means, and exact marginal counts of KSG.

Every kernel is compared with a brute-force definition on random inputs with ties, zero
weights and boundary cases; the compiled kernel is tested only when numba is installed.
"""

import itertools

import numpy as np
import pytest

from infocompress import mi, quantize

KERNELS = {
    "numpy": quantize._segments_divide_and_conquer,
    "smawk_python": quantize._segments_smawk,
    "default": quantize._segments_default,
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
    compiled = quantize._compiled_kernel()
    assert compiled is not None
    rng = np.random.default_rng(11)
    for _ in range(20):
        x, wts = random_instance(rng, int(rng.integers(2, 150)))
        for K in (1, 2, max(1, x.size // 3), x.size):
            np.testing.assert_array_equal(compiled(x, wts, K), quantize._segments_smawk(x, wts, K))


def test_optimal_kmeans_1d_uses_default_kernel_with_ties_and_zero_h():
    assert quantize._SEGMENT_KERNEL is quantize._segments_default
    rng = np.random.default_rng(5)
    for _ in range(20):
        w = np.round(rng.standard_normal(200), 1)  # many ties
        h = rng.exponential(size=200)
        h[rng.random(200) < 0.2] = 0.0
        K = int(rng.integers(2, 12))
        res = quantize.optimal_kmeans_1d(w, K, h=h)
        x, inv = np.unique(w, return_inverse=True)
        wts = np.bincount(inv.ravel(), weights=h)
        ref = segment_cost(x, wts, quantize._segments_divide_and_conquer(x, wts, K))
        assert res.objective == pytest.approx(ref, rel=1e-11, abs=1e-12)


# ------------------------------------------------------- sorted-run k-means engine
def test_searchsorted_rows_equals_numpy_rowwise():
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 7, 8, 50, 129):
        S = np.sort(np.round(rng.standard_normal((25, n)), 1), axis=1)  # ties
        q = np.concatenate([rng.standard_normal((25, 4)), S[:, :2], S[:, -1:] + 1], axis=1)
        got = quantize._searchsorted_rows(S, q)
        want = np.stack([np.searchsorted(S[t], q[t], side="right") for t in range(25)])
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(quantize._searchsorted_rows(S[:1], q[:1]), want[:1])


def test_sorted_runs_give_nearest_centre_labels_and_sums():
    rng = np.random.default_rng(4)
    T, n, K = 30, 40, 6
    W = np.round(rng.standard_normal((T, n)), 1)
    H = rng.exponential(size=(T, n))
    C = np.round(rng.standard_normal((T, K)), 1)
    C[0] = 0.3  # all centres equal
    C[1, :2] = C[1, 2]  # some equal centres
    order, Ws, Hs, flat_h, flat_hw = quantize._sorted_rows(W, H)
    corder, bnd = quantize._assign_sorted(Ws, C)
    L = quantize._labels_from_runs(order, corder, bnd)
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
    A = quantize._run_sums(flat_h, rows, n, corder, bnd)
    B = quantize._run_sums(flat_hw, rows, n, corder, bnd)
    ones = quantize._run_sums(None, rows, n, corder, bnd)
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
