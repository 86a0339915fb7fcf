"""Property-based tests (hypothesis) of the stable modules of infocompress.

Each test states an invariant that must hold for *every* input of a family (random shapes,
weights, Hessians, slopes, covariances) and lets hypothesis search for a counterexample:
descent of k-means, exact optimality of the 1-D dynamic program, the Kraft equality of
Huffman codes, symmetries of the KSG estimators, orderings of the linear-regression bounds,
the dual certificate of Blahut-Arimoto, Lemma 2 on closed forms, ... The last part feeds
malformed inputs (NaN/inf anywhere, negative Hessians or distortions, bad shapes, bad
integers) and requires a ``ValueError`` whose message names the offending argument.

Only true statements are asserted. Where a tempting statement is false (a diameter
regularizer that does not always shrink the k-means diameter, a compression ratio that is
not monotone in the label entropy, KSG that is not invariant under rescaling of one
variable) a test pins down a concrete counterexample and the weaker statement that holds is
tested instead.

Exactness: a floating-point identity is asserted exactly only when it is exact in IEEE
arithmetic (scaling by powers of two, permutations of distinct values, reflections, swaps);
otherwise the tolerance is a small multiple of the rounding error of the computation.

The runs are reproducible (``derandomize=True``, no example database) and kept short
(``max_examples`` per test) so that the file runs in well under a minute. Under the seed
audit (``INFOCOMPRESS_TEST_SEED_OFFSET`` set, see conftest.py) derandomization is switched off
and the examples come from ``--hypothesis-seed``, so each audit run draws new examples.
"""

import itertools
import math
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.special import digamma

from infocompress import channels, checks, coding, learners, linreg, mi, ratedistortion
from infocompress.quantize import (
    centers_diameter,
    drhw_kmeans,
    drhw_kmeans_batch,
    hw_distortion,
    optimal_kmeans_1d,
)

# One settings object for the whole file: reproducible, no database written to the
# repository, no per-example deadline (the machine is shared).
AUDIT_RUN = os.environ.get("INFOCOMPRESS_TEST_SEED_OFFSET", "").strip() not in ("", "0")
PROPS = settings(
    derandomize=not AUDIT_RUN,
    database=None,
    deadline=None,
    max_examples=40,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
FEW = settings(PROPS, max_examples=15)

# ---------------------------------------------------------------------------- strategies
# Real weights of moderate size; subnormals are excluded because their squares lose all
# relative precision, which is not what these tests are about.
reals = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False)
# Hessian entries: exact zeros (pruned directions) or moderate positive values.
hess = st.one_of(st.just(0.0), st.floats(1e-6, 10.0))
# Dyadic grids: sums, scalings by powers of two and shifts by grid values stay exact.
grid = st.integers(-4096, 4096).map(lambda i: i / 64.0)
grid_h = st.integers(0, 64).map(lambda i: i / 16.0)
seeds = st.integers(0, 2**32 - 1)
betas = st.sampled_from([0.0, 1e-3, 0.1, 1.0, 10.0])


@st.composite
def kmeans_problem(draw, *, max_blocks=10, block=1, elements=reals, h_elements=hess,
                   hessian=True, unique=False, min_k=1, max_k=None):
    """(w, h, K) with w of shape (n_blocks * block,), h None or >= 0, 1 <= K <= n_blocks."""
    nb = draw(st.integers(max(1, min_k), max_blocks))
    w = draw(hnp.arrays(np.float64, nb * block, elements=elements, unique=unique))
    h = None
    if hessian and draw(st.booleans()):
        h = draw(hnp.arrays(np.float64, nb * block, elements=h_elements))
    K = draw(st.integers(min_k, nb if max_k is None else min(nb, max_k)))
    return w, h, K


def _h(h, w):
    return np.ones_like(w) if h is None else h


def _scale(w):
    return max(1.0, float(np.max(np.abs(w)))) if np.size(w) else 1.0


def _linear_init(w, K):
    lo, hi = float(np.min(w)), float(np.max(w))
    t = np.arange(K) / (K - 1) if K > 1 else np.array([0.5])
    return lo + (hi - lo) * t


def _assert_nonincreasing(hist, w, h):
    """Non-increasing up to rounding: relative 1e-10 of the start, plus the cost of a
    rounding-level misassignment at a midpoint (about eps * sum(h) * scale^2)."""
    hist = np.asarray(hist)
    assert np.all(np.isfinite(hist))
    tol = 1e-10 * abs(float(hist[0])) + 1e-15 * float(np.sum(_h(h, w))) * _scale(w) ** 2
    assert np.all(np.diff(hist) <= tol), hist


def _weighted_means(w, h, labels, K):
    A = np.bincount(labels, weights=h, minlength=K)
    B = np.bincount(labels, weights=h * w, minlength=K)
    return A, np.where(A > 0, B / np.where(A > 0, A, 1.0), np.nan)


# ========================================================================================
# quantize
# ========================================================================================
@PROPS
@given(kmeans_problem(), st.sampled_from(["linear", "kmeans++", "array"]), seeds)
def test_kmeans_objective_never_increases_for_beta_zero(problem, init, seed):
    """beta = 0, scalar: each assignment and each update can only lower eq. (30)."""
    w, h, K = problem
    if init == "array":
        init = np.random.default_rng(seed).uniform(-1e3, 1e3, K)
    res = drhw_kmeans(w, h, K, init=init, rng=seed, tol=0.0)
    _assert_nonincreasing(res.history, w, h)


@PROPS
@given(kmeans_problem(block=2, hessian=False), st.sampled_from(["linear", "kmeans++"]), seeds)
def test_vector_kmeans_objective_never_increases_without_hessian(problem, init, seed):
    """beta = 0, blocks, h = None: Euclidean assignment is then the weighted one."""
    w, _, K = problem
    res = drhw_kmeans(w, None, K, block=2, init=init, rng=seed, tol=0.0)
    _assert_nonincreasing(res.history, w, None)


@PROPS
@given(kmeans_problem(min_k=2, max_k=2), st.sampled_from([1e-3, 0.1, 1.0, 10.0]),
       st.sampled_from(["linear", "kmeans++"]), seeds)
def test_drhw_objective_never_increases_for_two_clusters(problem, beta, init, seed):
    """K = 2: the farthest pair is the only pair, so the joint update (37) is an exact
    block-coordinate step of F and F cannot increase, whatever beta."""
    w, h, K = problem
    res = drhw_kmeans(w, h, K, beta=beta, init=init, rng=seed, tol=0.0)
    _assert_nonincreasing(res.history, w, h)


def test_drhw_objective_can_increase_for_three_clusters_and_for_weighted_blocks():
    """The docstring's two caveats are real: beta > 0 with K = 3, and blocks with unequal
    Hessian entries (Euclidean assignment of eq. (36) is not the weighted one)."""
    res = drhw_kmeans([-2.0, -4.0, 3.0], None, 3, beta=1.0, init=[0.0, -2.0, 0.0], tol=0.0)
    assert np.any(np.diff(res.history) > 0.5), res.history
    res = drhw_kmeans([0.0, -1.0, -3.0, 1.0, 0.0, -2.0], [2.0, 0.0, 1.0, 1.0, 1.0, 2.0], 2,
                      block=2, tol=0.0)
    assert np.any(np.diff(res.history) > 0.5), res.history


@PROPS
@given(st.integers(1, 3), st.data())
def test_kmeans_result_is_consistent(block, data):
    """Shapes, label range, at most K (K*m) distinct reconstructed values, reported
    objective = eq. (34)/(35) recomputed, history/n_iter/converged agree, and centres stay
    in the per-coordinate range of the weights (linear and k-means++ starts)."""
    w, h, K = data.draw(kmeans_problem(block=block, max_blocks=8))
    beta = data.draw(betas)
    init = data.draw(st.sampled_from(["linear", "kmeans++"]))
    res = drhw_kmeans(w, h, K, beta=beta, block=block, init=init, rng=data.draw(seeds))
    nb = w.size // block
    assert res.labels.shape == (nb,) and res.labels.dtype.kind == "i"
    assert res.labels.min() >= 0 and res.labels.max() < K
    assert res.centers.shape == ((K,) if block == 1 else (K, block))
    assert res.n_clusters == K and res.block == block and res.beta == beta
    rec = res.reconstruct()
    assert rec.shape == w.shape
    assert np.unique(rec).size <= K * block
    expected = hw_distortion(w, rec, h) + beta * centers_diameter(res.centers)
    assert math.isclose(res.objective, expected, rel_tol=1e-9, abs_tol=1e-12 * _scale(w) ** 2)
    assert res.history.shape == (res.n_iter + 1,)
    assert res.history[-1] == res.objective
    assert res.converged == (res.stop_reason != "max_iter")
    assert res.stop_reason in ("fixed_point", "tol", "max_iter")
    X, C = w.reshape(nb, block), res.centers.reshape(K, block)
    slack = 1e-12 * _scale(w)
    assert np.all(C >= X.min(axis=0) - slack) and np.all(C <= X.max(axis=0) + slack)


@PROPS
@given(kmeans_problem(), betas, st.sampled_from(["linear", "kmeans++"]), seeds)
def test_centres_are_the_update_of_the_final_labels(problem, beta, init, seed):
    """Output = update step (37)/(38) applied to the output labels: with beta = 0 every
    centre with Hessian mass is its cluster's weighted mean; with beta > 0 at most two
    centres (the regularized pair) differ from their means and the diameter of the centres
    is at most that of the means (the pair is pulled together, eq. (37))."""
    w, h, K = problem
    hh = _h(h, w)
    res = drhw_kmeans(w, h, K, beta=beta, init=init, rng=seed)
    A, means = _weighted_means(w, hh, res.labels, K)
    mass = A > 0
    tol = 1e-9 * _scale(w)
    off = ~np.isclose(res.centers, means, rtol=0.0, atol=tol) & mass
    if beta == 0.0:
        assert not np.any(off)
        return
    assert np.count_nonzero(off) <= 2
    if np.all(mass):
        assert centers_diameter(res.centers) <= centers_diameter(means) * (1 + 1e-9) + tol
    if np.count_nonzero(off) == 2:  # the pair solves the linear system of eq. (37) jointly
        k1, k2 = np.flatnonzero(off)
        c1, c2 = res.centers[k1], res.centers[k2]
        B = np.bincount(res.labels, weights=hh * w, minlength=K)
        r1 = (A[k1] + beta) * c1 - beta * c2 - B[k1]
        r2 = -beta * c1 + (A[k2] + beta) * c2 - B[k2]
        size = 1e-9 * (float(np.sum(hh)) + beta) * _scale(w)
        assert abs(r1) <= size and abs(r2) <= size, (r1, r2)


def test_drhw_diameter_can_exceed_plain_kmeans_diameter():
    """Counterexample: from the same (linear) start DRHW can end with a *larger* centre
    diameter than HW k-means, because beta = 0 stops in a worse local optimum. Found by
    random search; here HW k-means gives centres (-3, 1), objective 6, while DRHW with
    beta = 0.01 reaches a better partition (objective 2.85) with a wider spread."""
    w, h = [-4.0, -1.0, 1.0, 5.0], [2.0, 1.0, 2.0, 0.0]
    hw = drhw_kmeans(w, h, 2)
    dr = drhw_kmeans(w, h, 2, beta=0.01)
    assert np.allclose(hw.centers, [-3.0, 1.0]) and hw.objective == pytest.approx(6.0)
    assert centers_diameter(dr.centers) > centers_diameter(hw.centers) + 2.0
    assert dr.objective < hw.objective
    w = [-3.0, -3.0, 5.0, 3.0, 9.0]  # the same without Hessian weights
    assert (centers_diameter(drhw_kmeans(w, None, 2, beta=0.01).centers)
            > centers_diameter(drhw_kmeans(w, None, 2).centers) + 5.0)


def _brute_drhw_two_clusters(w, h, beta):
    """Global minimum of eq. (34) for K = 2 over all 2^n partitions (joint centre solve)."""
    n = w.size
    L = np.array(list(itertools.product((0, 1), repeat=n)), dtype=float)
    a1, a2 = (1 - L) @ h, L @ h
    b1, b2 = (1 - L) @ (h * w), L @ (h * w)
    det = a1 * a2 + beta * (a1 + a2)
    ok = det > 0
    safe = np.where(ok, det, 1.0)
    c1 = np.where(ok, ((a2 + beta) * b1 + beta * b2) / safe, 0.0)
    c2 = np.where(ok, (beta * b1 + (a1 + beta) * b2) / safe, 0.0)
    C = np.where(L == 0, c1[:, None], c2[:, None])
    F = np.sum(h * (w - C) ** 2, axis=1) + beta * (c1 - c2) ** 2
    i = int(np.argmin(F))
    return F[i], (c1[i] - c2[i]) ** 2


@PROPS
@given(kmeans_problem(max_blocks=8, min_k=2, max_k=2, elements=grid), st.sampled_from(
    [1e-3, 0.1, 1.0, 10.0]))
def test_global_regularization_shrinks_diameter(problem, beta):
    """The true version of "DRHW shrinks the diameter": for the *global* minimisers,
    diam(argmin F_beta) <= diam(argmin F_0) (regularization-path argument). F_0's global
    minimiser comes from optimal_kmeans_1d, F_beta's from enumerating partitions; and the
    objective reported by drhw_kmeans is never below the global minimum."""
    w, h, K = problem
    hh = _h(h, w)
    f_beta, diam_beta = _brute_drhw_two_clusters(w, hh, beta)
    opt = optimal_kmeans_1d(w, 2, h=h)
    tol = 1e-9 * _scale(w) ** 2
    assert diam_beta <= centers_diameter(opt.centers) + tol
    assert drhw_kmeans(w, h, 2, beta=beta).objective >= f_beta - tol


@PROPS
@given(st.integers(1, 4), st.integers(1, 9), st.data())
def test_batch_equals_rowwise_bit_for_bit(T, n, data):
    W = data.draw(hnp.arrays(np.float64, (T, n), elements=reals))
    H = data.draw(st.none() | hnp.arrays(np.float64, (T, n), elements=hess))
    K = data.draw(st.integers(1, n))
    beta = data.draw(betas)
    kind = data.draw(st.sampled_from(["linear", "shared", "per_row"]))
    if kind == "linear":
        init, inits = "linear", ["linear"] * T
    elif kind == "shared":
        init = data.draw(hnp.arrays(np.float64, K, elements=reals))
        inits = [init] * T
    else:
        init = data.draw(hnp.arrays(np.float64, (T, K), elements=reals))
        inits = list(init)
    max_iter = data.draw(st.sampled_from([1, 3, 100]))
    batch = drhw_kmeans_batch(W, H, K, beta=beta, init=init, max_iter=max_iter)
    assert batch.batched and batch.reconstruct().shape == (T, n)
    for t in range(T):
        row = drhw_kmeans(W[t], None if H is None else H[t], K, beta=beta, init=inits[t],
                          max_iter=max_iter)
        k = row.n_iter
        assert np.array_equal(batch.centers[t], row.centers)
        assert np.array_equal(batch.labels[t], row.labels)
        assert batch.objective[t] == row.objective
        assert batch.n_iter[t] == k and batch.stop_reason[t] == row.stop_reason
        assert bool(batch.converged[t]) == row.converged
        assert np.array_equal(batch.history[t, : k + 1], row.history)
        assert np.all(np.isnan(batch.history[t, k + 1:]))


@PROPS
@given(kmeans_problem(), st.sampled_from(["linear", "kmeans++"]), seeds)
def test_exact_1d_kmeans_is_never_worse_than_lloyd(problem, init, seed):
    w, h, K = problem
    opt = optimal_kmeans_1d(w, K, h=h)
    lloyd = drhw_kmeans(w, h, K, init=init, rng=seed)
    ref = float(np.sum(_h(h, w) * (w - w.mean()) ** 2))
    assert opt.objective <= lloyd.objective + 1e-10 * ref + 1e-300


def _brute_kmeans_1d(w, h, K):
    """Minimum of eq. (30) over all K^n labellings (no contiguity assumed)."""
    L = np.array(list(itertools.product(range(K), repeat=w.size)))
    onehot = (L[:, :, None] == np.arange(K)).astype(float)  # (K^n, n, K)
    A = np.einsum("lnk,n->lk", onehot, h)
    B = np.einsum("lnk,n->lk", onehot, h * w)
    sse = np.sum(h * w * w) - np.sum(np.where(A > 0, B * B / np.where(A > 0, A, 1.0), 0.0),
                                     axis=1)
    return float(sse.min())


@PROPS
@given(kmeans_problem(max_blocks=7, max_k=3, elements=st.one_of(grid, reals)))
def test_exact_1d_kmeans_matches_brute_force_and_is_monotone(problem):
    w, h, K = problem
    hh = _h(h, w)
    opt = optimal_kmeans_1d(w, K, h=h)
    brute = _brute_kmeans_1d(w, hh, K)
    ref = float(np.sum(hh * w * w)) + float(np.sum(hh)) * _scale(w) ** 2
    assert opt.objective == pytest.approx(max(brute, 0.0), rel=1e-9, abs=1e-12 * ref)
    assert opt.objective == pytest.approx(hw_distortion(w, opt.reconstruct(), h),
                                          rel=1e-12, abs=1e-300)
    assert np.all(np.diff(opt.centers) >= 0)
    order = np.argsort(w, kind="stable")
    assert np.all(np.diff(opt.labels[order]) >= 0)  # clusters are intervals
    assert opt.stop_reason == "exact" and opt.converged and opt.n_iter == 0
    if np.unique(w).size <= K:
        assert opt.objective == 0.0


@PROPS
@given(kmeans_problem(unique=True), betas, seeds, st.data())
def test_permuting_distinct_weights_permutes_labels(problem, beta, seed, data):
    """Distinct weights sort the same way in any order, so the runs are bit-identical."""
    w, h, K = problem
    perm = np.random.default_rng(seed).permutation(w.size)
    init = data.draw(st.sampled_from(["linear", "array"]))
    if init == "array":
        init = data.draw(hnp.arrays(np.float64, K, elements=reals))
    hp = None if h is None else h[perm]
    a = drhw_kmeans(w, h, K, beta=beta, init=init)
    b = drhw_kmeans(w[perm], hp, K, beta=beta, init=init)
    assert np.array_equal(a.centers, b.centers) and a.objective == b.objective
    assert np.array_equal(a.labels[perm], b.labels)
    o1, o2 = optimal_kmeans_1d(w, K, h=h), optimal_kmeans_1d(w[perm], K, h=hp)
    assert np.array_equal(o1.labels[perm], o2.labels)  # same segmentation of the same values
    assert np.allclose(o1.centers, o2.centers, rtol=1e-12, atol=1e-300)  # summation order
    assert o1.objective == pytest.approx(o2.objective, rel=1e-12, abs=1e-300)


@PROPS
@given(st.integers(1, 2), st.integers(-4, 4), betas, st.data())
def test_scaling_weights_by_power_of_two_scales_everything(block, j, beta, data):
    """w -> 2^j w is exact in floating point: centres scale by 2^j, objective and history
    by 4^j, labels are unchanged (scalar and vector quantization, any beta)."""
    w, h, K = data.draw(kmeans_problem(block=block, elements=grid, h_elements=grid_h))
    c = 2.0**j
    a = drhw_kmeans(w, h, K, beta=beta, block=block)
    b = drhw_kmeans(c * w, h, K, beta=beta, block=block)
    assert np.array_equal(b.centers, c * a.centers)
    assert np.array_equal(b.labels, a.labels)
    assert np.array_equal(b.history, c * c * a.history)
    if block == 1:
        o1, o2 = optimal_kmeans_1d(w, K, h=h), optimal_kmeans_1d(c * w, K, h=h)
        assert np.array_equal(o2.centers, c * o1.centers)
        assert o2.objective == c * c * o1.objective


@PROPS
@given(kmeans_problem(elements=grid, h_elements=grid_h), st.integers(-6, 6))
def test_scaling_hessian_by_power_of_two_keeps_centres(problem, j):
    w, h, K = problem
    assume(h is not None)
    a = drhw_kmeans(w, h, K)
    b = drhw_kmeans(w, 2.0**j * h, K)
    assert np.array_equal(a.centers, b.centers) and np.array_equal(a.labels, b.labels)
    assert b.objective == 2.0**j * a.objective


def _generic_position(w, K, res, rel=1e-7):
    """True when no weight is near a nearest-centre boundary on the trajectory (so that a
    rounding-level perturbation of the data cannot change any assignment)."""
    scale = _scale(w)
    for t in range(res.n_iter):
        C = _linear_init(w, K) if t == 0 else drhw_kmeans(w, None, K, max_iter=t,
                                                             tol=0.0).centers
        cs = np.sort(C)
        if K > 1 and np.min(np.diff(cs)) <= rel * scale:
            return False
        mids = 0.5 * (cs[1:] + cs[:-1])
        if mids.size and np.min(np.abs(w[:, None] - mids[None, :])) <= rel * scale:
            return False
    return True


@PROPS
@given(kmeans_problem(hessian=False), reals, st.floats(0.01, 100.0))
def test_affine_equivariance_in_generic_position(problem, a, c):
    """w -> c w + a (c > 0): centres -> c centres + a, objective x c^2, same labels, as
    long as no weight sits on an assignment boundary (checked along the trajectory)."""
    w, _, K = problem
    res = drhw_kmeans(w, None, K, tol=0.0)
    assume(_generic_position(w, K, res))
    v = c * w + a
    out = drhw_kmeans(v, None, K, tol=0.0)
    scale = _scale(v)
    assert np.array_equal(out.labels, res.labels)
    assert np.allclose(out.centers, c * res.centers + a, rtol=1e-9, atol=1e-9 * scale)
    assert out.objective == pytest.approx(c * c * res.objective, rel=1e-6,
                                          abs=1e-9 * scale**2 * w.size)


@PROPS
@given(kmeans_problem(), reals, st.floats(0.01, 100.0))
def test_exact_1d_objective_is_affine_equivariant(problem, a, c):
    """The global optimum is a continuous function of the data: no generic-position
    assumption is needed for its value."""
    w, h, K = problem
    o1 = optimal_kmeans_1d(w, K, h=h).objective
    o2 = optimal_kmeans_1d(c * w + a, K, h=h).objective
    hh = _h(h, w)
    tol = 1e-9 * float(np.sum(hh)) * (c * _scale(w) + abs(a)) ** 2
    assert o2 == pytest.approx(c * c * o1, abs=tol)


@PROPS
@given(seeds, st.integers(1, 8))
def test_kmeanspp_is_reproducible_from_the_seed(seed, n):
    w = np.random.default_rng(seed).standard_normal(3 * n)
    K = 1 + seed % (3 * n)
    a = drhw_kmeans(w, None, K, init="kmeans++", rng=seed)
    b = drhw_kmeans(w, None, K, init="kmeans++", rng=np.random.default_rng(seed))
    assert np.array_equal(a.centers, b.centers) and np.array_equal(a.labels, b.labels)


@PROPS
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 3)), elements=reals),
       reals, seeds)
def test_centers_diameter_is_a_translation_invariant_max(C, a, seed):
    brute = max(float(np.sum((p - q) ** 2)) for p in C for q in C)
    assert centers_diameter(C) == pytest.approx(brute, rel=1e-12, abs=0.0)
    perm = np.random.default_rng(seed).permutation(C.shape[0])
    assert centers_diameter(C[perm]) == centers_diameter(C)
    assert centers_diameter(C + a) == pytest.approx(brute, rel=1e-9, abs=1e-9 * (1 + abs(a)) ** 2)
    assert centers_diameter(C[:, 0]) == pytest.approx(np.ptp(C[:, 0]) ** 2, rel=1e-12)


@PROPS
@given(st.integers(1, 10), st.data())
def test_hw_distortion_is_a_weighted_sum_of_squares(n, data):
    w = data.draw(hnp.arrays(np.float64, n, elements=reals))
    w_hat = data.draw(hnp.arrays(np.float64, n, elements=reals))
    h = data.draw(hnp.arrays(np.float64, n, elements=hess))
    d = hw_distortion(w, w_hat, h)
    assert d >= 0.0 and d == pytest.approx(float(np.sum(h * (w - w_hat) ** 2)), rel=1e-12)
    assert hw_distortion(w, w, h) == 0.0
    assert hw_distortion(w, w_hat) == pytest.approx(float(np.sum((w - w_hat) ** 2)), rel=1e-12)
    M = np.stack([w, w_hat])
    assert np.allclose(hw_distortion(M, M[::-1], axis=1), hw_distortion(w, w_hat), rtol=1e-12)


# ========================================================================================
# coding
# ========================================================================================
counts_st = hnp.arrays(np.int64, st.integers(1, 12), elements=st.integers(0, 1000))


@PROPS
@given(counts_st)
def test_huffman_kraft_equality_and_entropy_sandwich(counts):
    lengths = coding.huffman_code_lengths(counts)
    used = counts > 0
    assert lengths.shape == counts.shape and np.all(lengths[~used] == 0)
    assert np.all(lengths[used] >= 1)
    if used.sum() >= 2:
        assert math.fsum(2.0 ** -lengths[used].astype(float)) == 1.0
        H = coding.entropy_bits(counts)
        avg = float(np.sum(counts * lengths)) / counts.sum()
        assert H - 1e-12 <= avg < H + 1.0
        assert np.max(lengths) <= used.sum() - 1
    elif used.sum() == 1:
        assert lengths[used][0] == 1


@PROPS
@given(hnp.arrays(np.int64, st.integers(2, 5), elements=st.integers(1, 200)))
def test_huffman_total_cost_is_optimal_among_all_prefix_codes(counts):
    """Brute force over every length vector satisfying Kraft's inequality (which is exactly
    the set of prefix-code length vectors)."""
    K = counts.size
    best = min(
        int(np.dot(counts, ls))
        for ls in itertools.product(range(1, K), repeat=K)
        if sum(2.0**-x for x in ls) <= 1.0
    )
    assert int(np.dot(counts, coding.huffman_code_lengths(counts))) == best


@PROPS
@given(counts_st)
def test_huffman_code_is_prefix_free_with_the_stated_lengths(counts):
    codes = coding.huffman_code(counts)
    lengths = coding.huffman_code_lengths(counts)
    assert [len(c) for c in codes] == lengths.tolist()
    words = [c for c in codes if c]
    assert len(set(words)) == len(words)
    for a, b in itertools.permutations(words, 2):
        assert not b.startswith(a)
    assert all(set(c) <= {"0", "1"} for c in words)


@PROPS
@given(counts_st)
def test_entropy_bits_matches_plugin_entropy(counts):
    assume(counts.sum() > 0)
    labels = np.repeat(np.arange(counts.size), counts)
    H = coding.entropy_bits(counts)
    assert H == pytest.approx(mi.discrete_entropy(labels, base=2), rel=1e-12, abs=1e-15)
    assert 0.0 <= H <= math.log2(max(1, np.count_nonzero(counts))) + 1e-12
    assert coding.entropy_bits(3 * counts) == pytest.approx(H, rel=1e-12, abs=1e-15)


@st.composite
def layers_st(draw):
    K = draw(st.integers(1, 8))
    n_layers = draw(st.integers(1, 3))
    layers = [draw(hnp.arrays(np.int64, st.integers(1, 60), elements=st.integers(0, K - 1)))
              for _ in range(n_layers)]
    return layers, K


@PROPS
@given(layers_st(), st.sampled_from([8, 16, 32]), st.integers(1, 3), seeds)
def test_compression_ratio_formula_bounds_and_invariances(layers, bits, block, seed):
    layers, K = layers
    ratio = coding.compression_ratio(layers, K, bits=bits, block=block)
    payload, n_labels = 0, 0
    for lab in layers:
        c = np.bincount(lab, minlength=K)
        payload += int(np.dot(c, coding.huffman_code_lengths(c)))
        n_labels += lab.size
        # per-label Huffman cost lies between the entropy and entropy + 1 (>= 1 bit)
        H = coding.entropy_bits(c)
        cost = np.dot(c, coding.huffman_code_lengths(c)) / lab.size
        assert max(H, 1.0) - 1e-12 <= cost < H + 1.0 + 1e-12
    book = len(layers) * K * block * bits
    assert ratio == pytest.approx((payload + book) / (n_labels * block * bits), rel=1e-14)
    assert ratio > 0.0
    assert ratio <= ((K - 1 if K > 1 else 1) * n_labels + book) / (n_labels * block * bits)
    rng = np.random.default_rng(seed)
    relabel = rng.permutation(K)  # a bijection of cluster indices
    shuffled = [relabel[rng.permutation(lab)] for lab in layers]
    assert coding.compression_ratio(shuffled, K, bits=bits, block=block) == pytest.approx(
        ratio, rel=1e-14)
    assert coding.compression_ratio(layers, [K] * len(layers), bits=bits, block=block) == ratio


def test_compression_ratio_is_not_monotone_in_label_entropy():
    """Counterexample to "monotone in the label entropy": Huffman lengths are integers, so
    counts (45, 45, 10) have lower entropy but a longer code than (50, 25, 25)."""
    a = np.repeat([0, 1, 2], [45, 45, 10])
    b = np.repeat([0, 1, 2], [50, 25, 25])
    assert mi.discrete_entropy(a) < mi.discrete_entropy(b)
    assert coding.compression_ratio(a, 3) > coding.compression_ratio(b, 3)


# ========================================================================================
# mi
# ========================================================================================
@st.composite
def paired_sample(draw, max_n=60):
    n = draw(st.integers(5, max_n))
    dx, dy = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(seeds))
    x = rng.standard_normal((n, dx))
    y = draw(st.floats(0.0, 2.0)) * x[:, :1] + rng.standard_normal((n, dy))
    k = draw(st.integers(1, min(6, n - 1)))
    return x, y, k


@PROPS
@given(paired_sample(), seeds, st.integers(-3, 3))
def test_ksg_symmetries_that_are_exact(sample, seed, j):
    """KSG-1 uses max-norm distances: swapping x and y, reflecting a variable, permuting
    coordinates and scaling both variables by the same power of two change no distance
    comparison, so the estimate is bit-identical; a joint permutation of the samples only
    reorders the final mean."""
    x, y, k = sample
    rng = np.random.default_rng(seed)
    base = mi.ksg(x, y, k=k)
    assert np.isfinite(base)
    assert mi.ksg(y, x, k=k) == base
    assert mi.ksg(-x, y, k=k) == base
    assert mi.ksg(x[:, rng.permutation(x.shape[1])], y, k=k) == base
    assert mi.ksg(2.0**j * x, 2.0**j * y, k=k) == base
    perm = rng.permutation(x.shape[0])
    assert mi.ksg(x[perm], y[perm], k=k) == pytest.approx(base, rel=1e-12, abs=1e-12)
    m = mi.mixed_ksg(x, y, k=k)  # per-sample terms a - b - c: only equal up to rounding
    assert mi.mixed_ksg(y, x, k=k) == pytest.approx(m, rel=1e-12, abs=1e-12)
    assert mi.mixed_ksg(x[perm], y[perm], k=k) == pytest.approx(m, rel=1e-12, abs=1e-12)


def _brute_neighbours(x, y, k, strict):
    """Definitions of KSG / GKOV by brute force: max-norm distances between all pairs."""
    dx = np.max(np.abs(x[:, None, :] - x[None, :, :]), axis=2)
    dy = np.max(np.abs(y[:, None, :] - y[None, :, :]), axis=2)
    dz = np.maximum(dx, dy)
    for a in (dx, dy, dz):
        np.fill_diagonal(a, np.inf)  # other samples only
    rho = np.sort(dz, axis=1)[:, k - 1]
    r = rho[:, None]
    on_atom = rho == 0

    def count(d):
        inside = (d < r) if strict else (d <= r)
        return np.where(on_atom, np.sum(d == 0, axis=1), np.sum(inside, axis=1))

    return rho, count(dx), count(dy), np.where(on_atom, np.sum(dz == 0, axis=1), 0)


@PROPS
@given(paired_sample(max_n=40))
def test_ksg_matches_its_definition_by_brute_force(sample):
    x, y, k = sample
    n = x.shape[0]
    rho, nx, ny, _ = _brute_neighbours(x, y, k, strict=True)
    assert np.all(rho > 0)  # continuous data
    value = digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1))
    assert mi.ksg(x, y, k=k) == pytest.approx(value, rel=1e-12, abs=1e-12)


@st.composite
def mixed_sample(draw):
    """Discrete, continuous or mixed samples with many exact repeats."""
    n = draw(st.integers(3, 40))
    rng = np.random.default_rng(draw(seeds))
    atoms = draw(st.integers(1, 4))
    share = draw(st.floats(0.0, 1.0))

    def column(size):
        discrete = rng.integers(0, atoms, size).astype(float)
        return np.where(rng.random(size) < share, discrete, rng.standard_normal(size))

    x = column(n)[:, None]
    y = np.stack([column(n) for _ in range(draw(st.integers(1, 2)))], axis=1)
    if draw(st.booleans()):
        y[:, 0] = x[:, 0]  # Y = X on part of the data: ties in the joint space
    return x, y, draw(st.integers(1, n - 1))


@PROPS
@given(mixed_sample(), st.sampled_from(["digamma", "paper"]))
def test_mixed_ksg_matches_its_definition_by_brute_force(sample, variant):
    """Algorithm 1 of Gao et al. (2017) (both variants of the docstring), from the
    definitions, on data with atoms: exercises the de-duplicated neighbour search."""
    x, y, k = sample
    n = x.shape[0]
    paper = variant == "paper"
    rho, nx, ny, nz0 = _brute_neighbours(x, y, k, strict=not paper)
    atom = rho == 0
    if paper:
        xi = (digamma(np.where(atom, nz0, k)) + np.log(n) - np.log(nx + 1.0)
              - np.log(ny + 1.0))
    else:
        xi = (np.where(atom, digamma(nz0 + 1.0), digamma(k)) + np.log(n)
              - digamma(nx + 1.0) - digamma(ny + 1.0))
    assert mi.mixed_ksg(x, y, k=k, variant=variant) == pytest.approx(float(np.mean(xi)),
                                                                     rel=1e-12, abs=1e-12)


def test_ksg_on_exact_duplicates_warns_and_uses_empty_strict_counts():
    x = np.repeat([0.0, 1.0, 2.0], 5)
    with pytest.warns(UserWarning, match="duplicates"):
        value = mi.ksg(x, x, k=3)
    n = x.size
    assert value == pytest.approx(digamma(3) + digamma(n) - 2 * digamma(1))


@PROPS
@given(paired_sample())
def test_mixed_ksg_reduces_to_ksg_on_continuous_data(sample):
    """Without repeated samples the digamma variant is KSG-1 with psi(n) -> log n."""
    x, y, k = sample
    n = x.shape[0]
    diff = mi.mixed_ksg(x, y, k=k) - mi.ksg(x, y, k=k)
    assert diff == pytest.approx(np.log(n) - digamma(n), abs=1e-12)


def test_ksg_is_not_invariant_under_rescaling_one_variable():
    """The mutual information is, the max-norm estimator is not (documented): on a fixed
    sample, scaling x by 10 changes the estimate by far more than rounding."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(200)
    y = 0.6 * x + 0.8 * rng.standard_normal(200)
    assert abs(mi.ksg(10.0 * x, y, k=3) - mi.ksg(x, y, k=3)) > 1e-6


@PROPS
@given(hnp.arrays(np.int64, st.integers(1, 80), elements=st.integers(0, 9)), seeds)
def test_discrete_entropy_range_and_invariances(labels, seed):
    H = mi.discrete_entropy(labels)
    S = np.unique(labels).size
    assert -1e-15 <= H <= math.log(S) + 1e-12
    assert mi.discrete_entropy(labels, base=2) == pytest.approx(H / math.log(2), rel=1e-12,
                                                                abs=1e-15)
    rng = np.random.default_rng(seed)
    relabel = rng.permutation(10) + 100
    assert mi.discrete_entropy(relabel[labels]) == pytest.approx(H, rel=1e-12, abs=1e-15)
    assert mi.discrete_entropy(labels[rng.permutation(labels.size)]) == pytest.approx(
        H, rel=1e-12, abs=1e-15)
    assert mi.label_entropy(labels, 10) == pytest.approx(H, rel=1e-12, abs=1e-15)
    pairs = np.stack([labels, labels], axis=1)  # rows as symbols: same partition
    assert mi.discrete_entropy(pairs) == pytest.approx(H, rel=1e-12, abs=1e-15)


@PROPS
@given(hnp.arrays(np.int64, st.tuples(st.integers(1, 4), st.integers(1, 30)),
                  elements=st.integers(0, 5)))
def test_label_entropy_is_rowwise_discrete_entropy(labels):
    out = mi.label_entropy(labels, 6, base=2)
    assert out.shape == labels.shape[:1]
    for t in range(labels.shape[0]):
        assert out[t] == pytest.approx(mi.discrete_entropy(labels[t], base=2), rel=1e-12,
                                       abs=1e-15)


@st.composite
def spd(draw, min_dim=2, max_dim=6):
    dim = draw(st.integers(min_dim, max_dim))
    rng = np.random.default_rng(draw(seeds))
    A = rng.standard_normal((dim, dim))
    cov = A @ A.T + draw(st.floats(0.05, 2.0)) * np.eye(dim)
    cov = 0.5 * (cov + cov.T)
    return cov, draw(st.integers(1, dim - 1))


@PROPS
@given(spd(), seeds)
def test_gaussian_mi_properties(case, seed):
    cov, dx = case
    dim = cov.shape[0]
    v = mi.gaussian_mi(cov, dx)
    assert v >= 0.0
    # swapping the roles of X and Y
    perm = np.r_[dx:dim, 0:dx]
    assert mi.gaussian_mi(cov[np.ix_(perm, perm)], dim - dx) == pytest.approx(v, rel=1e-8,
                                                                              abs=1e-10)
    # invertible maps of X alone and of Y alone (positive diagonal scalings)
    s = np.exp(np.random.default_rng(seed).uniform(-2, 2, dim))
    assert mi.gaussian_mi(s[:, None] * cov * s[None, :], dx) == pytest.approx(v, rel=1e-7,
                                                                              abs=1e-9)
    # block-diagonal covariance: independent blocks
    blk = cov.copy()
    blk[:dx, dx:] = 0.0
    blk[dx:, :dx] = 0.0
    assert mi.gaussian_mi(blk, dx) <= 1e-10
    # chain rule: dropping coordinates of Y cannot increase I(X; Y)
    if dim - dx >= 2:
        sub = cov[: dim - 1, : dim - 1]
        assert mi.gaussian_mi(sub, dx) <= v + 1e-9 * (1 + v)


@PROPS
@given(st.floats(-0.999, 0.999), st.floats(0.01, 100.0), st.floats(0.01, 100.0))
def test_gaussian_mi_bivariate_closed_form(r, sx, sy):
    cov = [[sx * sx, r * sx * sy], [r * sx * sy, sy * sy]]
    assert mi.gaussian_mi(cov, 1) == pytest.approx(-0.5 * math.log1p(-r * r), rel=1e-8,
                                                   abs=1e-12)


# ========================================================================================
# linreg and channels
# ========================================================================================
@st.composite
def dn(draw, max_d=8):
    d = draw(st.integers(1, max_d))
    n = draw(st.integers(d + 2, d + 60))
    return d, n


noise_vars = st.floats(0.01, 10.0)


@PROPS
@given(dn(), noise_vars)
def test_rate_distortion_bounds_are_ordered_and_inverse(dn_, v):
    d, n = dn_
    d_max = d * v / (n - d - 1)
    D = d_max * np.geomspace(1e-3, 2.0, 25)
    up = linreg.rate_distortion_upper(D, d, n, v)
    assert np.all(up >= 0.0) and np.all(np.diff(up) <= 0.0)
    assert np.all(up[D >= d_max] == 0.0)
    assert np.array_equal(linreg.rate_distortion_lower(D, d, n, v, kl=0.0), up)
    assert np.allclose(linreg.rate_distortion_lower(D, d, n, v, kl=0.3), up - 0.3)
    inside = D < d_max
    assert np.allclose(linreg.distortion_rate_upper(up[inside], d, n, v), D[inside],
                       rtol=1e-10)
    R = np.linspace(0.0, 5.0 * d, 11)
    Dr = linreg.distortion_rate_upper(R, d, n, v)
    assert np.all(np.diff(Dr) < 0) and Dr[0] == pytest.approx(d_max, rel=1e-14)
    assert np.allclose(linreg.rate_distortion_upper(Dr, d, n, v), R, rtol=1e-9, atol=1e-9)
    assert linreg.rate_distortion_upper(0.0, d, n, v) == math.inf


@PROPS
@given(dn(), noise_vars)
def test_gen_error_erm_positive_decreasing_in_n_increasing_in_d(dn_, v):
    d, n = dn_
    g = linreg.gen_error_erm(d, n, v)
    assert g > 0.0
    assert linreg.gen_error_erm(d, n + 1, v) < g
    if n > d + 2:
        assert linreg.gen_error_erm(d + 1, n, v) > g
    assert linreg.gen_error_erm(d, n, 2 * v) == pytest.approx(2 * g, rel=1e-14)
    assert linreg.expected_empirical_risk_erm(d, n, v) == pytest.approx(v * (n - d) / n)


@PROPS
@given(dn(), noise_vars, st.floats(0.0, 50.0), st.floats(0.0, 10.0), st.floats(0.1, 10.0))
def test_generalization_and_population_bounds(dn_, v, R, c, s):
    d, n = dn_
    g = linreg.gen_error_bound(R, n, c_w_star=c, sigma_x_norm=s, noise_var=v)
    assert g == pytest.approx(2 * (c * s + v) * math.sqrt(R / n), rel=1e-12, abs=1e-300)
    assert linreg.gen_error_bound(R + 1.0, n, c_w_star=c, sigma_x_norm=s, noise_var=v) > g
    assert linreg.gen_error_bound(R, n + 1, c_w_star=c, sigma_x_norm=s, noise_var=v) <= g
    b = linreg.population_risk_bound(R, d, n, c_w_star=c, sigma_x_norm=s, noise_var=v)
    assert b == pytest.approx(g + linreg.distortion_rate_upper(R, d, n, v), rel=1e-12)


@st.composite
def regression(draw, noiseless=False):
    d = draw(st.integers(1, 6))
    n = draw(st.integers(d + 2, d + 30))
    trials = draw(st.integers(1, 3))
    rng = np.random.default_rng(draw(seeds))
    w_star = rng.standard_normal(d) * draw(st.floats(0.1, 10.0))
    sig = draw(st.sampled_from(["none", "scalar", "diag", "full"]))
    sigma_x = {"none": None, "scalar": float(rng.uniform(0.2, 3.0)),
               "diag": rng.uniform(0.2, 3.0, d),
               "full": (lambda A: A @ A.T + 0.2 * np.eye(d))(rng.standard_normal((d, d)))}[sig]
    v = draw(noise_vars)
    X, Y = linreg.sample_datasets(w_star, n, trials=trials, sigma_x=sigma_x, noise_var=v,
                                  rng=rng)
    if noiseless:
        Y = np.einsum("tdn,d->tn", X, w_star)
    return w_star, sigma_x, v, X, Y, rng


@PROPS
@given(regression())
def test_erm_optimality_pythagoras(case):
    """L_S(w) - L_S(W) = (w - W)^T (XX^T/n) (w - W) >= 0 for every w: the distortion of
    eq. (13) is a quadratic form because the gradient vanishes at the ERM."""
    w_star, sigma_x, v, X, Y, rng = case
    W = linreg.erm(X, Y)
    assert W.shape == (X.shape[0], X.shape[1])
    w = W + rng.standard_normal(W.shape) * rng.uniform(0.01, 3.0)
    gap = linreg.empirical_risk(w, X, Y) - linreg.empirical_risk(W, X, Y)
    n = X.shape[-1]
    quad = np.einsum("td,tdn,ten,te->t", w - W, X, X, w - W) / n
    scale = np.mean(Y**2, axis=1) + quad
    assert np.all(gap >= -1e-10 * scale)
    assert np.allclose(gap, quad, rtol=1e-7, atol=1e-10 * scale.max())


@PROPS
@given(regression(noiseless=True))
def test_erm_is_exact_on_noiseless_data(case):
    w_star, _, _, X, Y, _ = case
    W = linreg.erm(X, Y)
    cond = np.linalg.cond(X @ np.swapaxes(X, -1, -2))
    err = np.linalg.norm(W - w_star, axis=1)
    assert np.all(err <= 1e-12 * cond * (1 + np.linalg.norm(w_star)))
    assert np.all(linreg.empirical_risk(W, X, Y) <= 1e-20 * cond**2 * (1 + np.sum(w_star**2)))


@PROPS
@given(regression())
def test_population_risk_at_least_noise_and_sampling_is_reproducible(case):
    w_star, sigma_x, v, X, Y, rng = case
    w = w_star + rng.standard_normal((4, w_star.size))
    r = linreg.population_risk(w, w_star, sigma_x=sigma_x, noise_var=v)
    assert r.shape == (4,) and np.all(r >= v)
    assert linreg.population_risk(w_star, w_star, sigma_x=sigma_x, noise_var=v) == v
    seed = int(rng.integers(2**32))
    a = linreg.sample_datasets(w_star, 5, trials=2, sigma_x=sigma_x, noise_var=v, rng=seed)
    b = linreg.sample_datasets(w_star, 5, trials=2, sigma_x=sigma_x, noise_var=v,
                               rng=np.random.default_rng(seed))
    assert all(np.array_equal(p, q) for p, q in zip(a, b, strict=True))
    assert a[0].shape == (2, w_star.size, 5) and a[1].shape == (2, 5)


@PROPS
@given(hnp.arrays(np.float64, st.integers(1, 6), elements=reals),
       hnp.arrays(np.float64, st.integers(1, 5), elements=reals))
def test_reconstruction_radius_is_coordinatewise_max(w_star, levels):
    r = linreg.reconstruction_radius(w_star, levels)
    brute = sum(max((c - x) ** 2 for c in levels) for x in w_star)
    assert r == pytest.approx(brute, rel=1e-12)
    assert linreg.reconstruction_radius(w_star, np.r_[levels, levels[::-1]]) == r


@PROPS
@given(st.integers(1, 5), st.floats(0.01, 100.0), seeds)
def test_covariance_matrix_forms(d, s, seed):
    assert np.array_equal(linreg.covariance_matrix(None, d), np.eye(d))
    assert np.array_equal(linreg.covariance_matrix(s, d), s * np.eye(d))
    v = np.random.default_rng(seed).uniform(0.1, 3.0, d)
    assert np.array_equal(linreg.covariance_matrix(v, d), np.diag(v))
    A = np.random.default_rng(seed).standard_normal((d, d))
    full = A @ A.T + 0.1 * np.eye(d)
    full = 0.5 * (full + full.T)
    assert np.array_equal(linreg.covariance_matrix(full, d), full)


@PROPS
@given(dn(max_d=5), noise_vars, seeds)
def test_oracle_channel_alpha_and_information(dn_, v, seed):
    d, n = dn_
    rng = np.random.default_rng(seed)
    w_star = rng.standard_normal(d)
    d_top = d * v / n  # largest admissible distortion (alpha = 1)
    Ds = d_top * np.linspace(0.02, 0.98, 12)
    mis = []
    for D in Ds:
        ch = channels.OracleChannel(w_star, n, D, noise_var=v)
        assert 0.0 <= ch.alpha <= 1.0
        g = ch.gaussian_mi()
        assert 0.0 <= g <= linreg.rate_distortion_upper(D, d, n, v) + 1e-12
        mis.append(g)
    assert np.all(np.diff(mis) < 0)
    W = rng.standard_normal((3, d))
    assert np.array_equal(channels.OracleChannel(w_star, n, 0.0, noise_var=v).sample(W, rng=1),
                          W)
    assert channels.OracleChannel(w_star, n, 0.0, noise_var=v).gaussian_mi() == math.inf
    out = channels.OracleChannel(w_star, n, Ds[5], noise_var=v).sample(W, rng=1)
    assert out.shape == W.shape and np.all(np.isfinite(out))


def test_oracle_channel_at_the_largest_admissible_distortion():
    d, n, v = 1, 11, 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ch = channels.OracleChannel(np.zeros(d), n, d * v / n, noise_var=v)
        assert ch.alpha <= 1.0
        assert ch.gaussian_mi() >= 0.0
        assert np.all(np.isfinite(ch.sample(np.ones((2, d)), rng=0)))


# ========================================================================================
# ratedistortion
# ========================================================================================
@st.composite
def discrete_source(draw):
    n, m = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(seeds))
    p = rng.dirichlet(np.ones(n))
    dist = np.round(rng.uniform(0, 3, (n, m)), draw(st.integers(0, 3)))
    b = np.sort(np.unique(draw(st.lists(st.floats(0.1, 20.0), min_size=1, max_size=4))))
    return p, dist, b


@FEW
@given(discrete_source())
def test_blahut_arimoto_certificate_and_monotonicity(src):
    p, dist, b = src
    res = ratedistortion.blahut_arimoto(p, dist, b)
    H = float(-np.sum(p * np.log(p)))
    assert np.all(res.rate_lower <= res.rate + 1e-9)
    assert np.all(res.rate >= -1e-12) and np.all(res.rate <= H + 1e-9)
    assert np.allclose(res.output_probs.sum(axis=1), 1.0) and np.all(res.output_probs >= 0)
    assert np.all(res.distortion >= dist.min(axis=1) @ p - 1e-12)
    if res.converged:
        assert np.all(res.rate - res.rate_lower <= 1e-9 + 1e-12)
        assert np.all(np.diff(res.distortion) <= 1e-6)
        assert np.all(np.diff(res.rate) >= -1e-6)


@FEW
@given(st.floats(0.05, 0.5), st.floats(0.2, 8.0))
def test_blahut_arimoto_binary_hamming_closed_form(q, beta):
    """Bernoulli(q) source, Hamming distortion: R(D) = h(q) - h(D) for D <= q."""
    res = ratedistortion.blahut_arimoto([q, 1 - q], [[0.0, 1.0], [1.0, 0.0]], beta)
    D = float(res.distortion[0])

    def h(t):
        return 0.0 if t <= 0 else -t * math.log(t) - (1 - t) * math.log(1 - t)

    if D < q - 1e-6:
        gap = float(res.rate[0] - res.rate_lower[0])
        assert res.rate_lower[0] - 1e-9 <= h(q) - h(D) <= res.rate[0] + 1e-9
        assert abs(res.rate[0] - (h(q) - h(D))) <= gap + 1e-9


@PROPS
@given(st.floats(1e-3, 1e3), st.floats(1e-3, 1e3), st.floats(0.0, 20.0))
def test_gaussian_rate_distortion_inverse_and_scale(D, var, R):
    r = ratedistortion.gaussian_rate_distortion(D, var)
    assert r >= 0.0 and (r == 0.0) == (D >= var)
    if D < var:
        assert ratedistortion.gaussian_distortion_rate(r, var) == pytest.approx(D, rel=1e-12)
    assert ratedistortion.gaussian_rate_distortion(
        ratedistortion.gaussian_distortion_rate(R, var), var) == pytest.approx(R, rel=1e-10,
                                                                             abs=1e-12)
    assert ratedistortion.gaussian_rate_distortion(4.0 * D, 4.0 * var) == pytest.approx(
        r, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("tol", [-1, float("nan"), float("inf"), "0.1", True])
def test_lloyd_max_rejects_a_bad_tolerance(tol):
    # a negative tolerance used to run all 100,000 iterations without a word
    with pytest.raises(ValueError, match="tol must be"):
        ratedistortion.gaussian_lloyd_max(2, tol=tol)


@FEW
@given(st.integers(1, 7), st.floats(0.01, 100.0))
def test_lloyd_max_symmetric_sorted_and_above_shannon_bound(K, var):
    levels, dist = ratedistortion.gaussian_lloyd_max(K, variance=var)
    assert levels.shape == (K,) and np.all(np.diff(levels) > 0)
    assert np.allclose(levels, -levels[::-1], atol=1e-9 * math.sqrt(var))
    # a K-level quantizer has rate <= ln K, so D >= D(ln K) = var / K^2
    assert var / K**2 <= dist * (1 + 1e-9) and dist <= var * (1 + 1e-12)
    if K > 1:
        assert dist < ratedistortion.gaussian_lloyd_max(K - 1, variance=var)[1]
    unit_levels, unit_dist = ratedistortion.gaussian_lloyd_max(K)
    assert np.allclose(levels, math.sqrt(var) * unit_levels, rtol=1e-9, atol=1e-12)
    assert dist == pytest.approx(var * unit_dist, rel=1e-9)


@FEW
@given(st.integers(1, 7), st.floats(0.01, 100.0))
def test_gaussian_quantizer_cells_reproduce_lloyd_max(K, var):
    levels, dist = ratedistortion.gaussian_lloyd_max(K, variance=var)
    perm = np.arange(K)[::-1]
    p, d = ratedistortion.gaussian_quantizer_cells(levels[perm], variance=var)
    assert p.sum() == pytest.approx(1.0, rel=1e-12) and np.all(p >= 0)
    assert d == pytest.approx(dist, rel=1e-9)
    assert np.allclose(p, p[::-1], atol=1e-12)           # symmetric levels, symmetric cells


def test_gaussian_quantizer_cells_against_sampling():
    rng = np.random.default_rng(8)
    x = 2.0 * rng.standard_normal(400_000)
    lev = np.array([0.3, -1.0, 2.5, 1.0])
    idx = np.argmin(np.abs(x[:, None] - lev), axis=1)
    p, d = ratedistortion.gaussian_quantizer_cells(lev, variance=4.0)
    freq = np.bincount(idx, minlength=4) / x.size
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / x.size))
    err = (x - lev[idx]) ** 2
    assert abs(err.mean() - d) <= 5 * err.std(ddof=1) / np.sqrt(x.size)
    with pytest.raises(ValueError, match="levels"):
        ratedistortion.gaussian_quantizer_cells([])


@PROPS
@given(st.floats(-5, 5), st.floats(0.1, 5), st.integers(2, 200), st.floats(0.1, 3.0))
def test_discretize_density_is_a_distribution_on_the_grid(lo, width, n, s):
    grid_, p = ratedistortion.discretize_density(lambda t: -0.5 * (t / s) ** 2, lo, lo + width,
                                                 n)
    assert grid_.shape == p.shape == (n,)
    assert grid_[0] == lo and grid_[-1] == pytest.approx(lo + width)
    assert np.all(p >= 0) and p.sum() == pytest.approx(1.0, rel=1e-12)


# ========================================================================================
# checks
# ========================================================================================
@PROPS
@given(reals, reals, st.floats(0.0, 1e3), st.floats(0.1, 10.0))
def test_check_table_decisions(theory, estimate, se, n_se):
    t = checks.CheckTable("p", n_se=n_se)
    assert t.close("c", theory, estimate, se) == (abs(estimate - theory) <= n_se * se)
    assert t.upper("u", theory, estimate, se) == (estimate <= theory + n_se * se)
    assert t.lower("l", theory, estimate, se) == (estimate >= theory - n_se * se)
    # a lower check is an upper check of the negated quantities
    assert t.lower("l2", theory, estimate, se) == t.upper("u2", -theory, -estimate, se)
    assert t.all_passed == all(r.passed for r in t.rows)
    if se > 0:
        assert t.rows[0].z == pytest.approx((estimate - theory) / se)
    if t.all_passed:
        assert t.verify() is t and "verified" in t.to_text()
    else:
        with pytest.raises(AssertionError):
            t.verify()
    # a NaN estimate is refused (it would otherwise be a silently failing row)
    with pytest.raises(ValueError, match="estimate"):
        t.close("nan", theory, float("nan"), se)
    with pytest.raises(ValueError, match="estimate"):
        t.upper("nan", theory, float("nan"), se)


@PROPS
@given(st.floats(0.01, 30.0), st.floats(0.01, 30.0))
def test_false_alarm_probability_monotone(a, b):
    pa, pb = checks.false_alarm_probability(a), checks.false_alarm_probability(b)
    assert 0.0 <= pa <= 1.0
    assert (pa >= pb) if a <= b else (pa <= pb)
    assert pa == pytest.approx(2 * checks.false_alarm_probability(a, two_sided=False))


def test_empty_check_table_fails():
    t = checks.CheckTable("empty")
    assert not t.all_passed
    with pytest.raises(AssertionError):
        t.verify()


# ========================================================================================
# learners
# ========================================================================================
@st.composite
def learner_setup(draw):
    L = learners.NoisyMeanLearner(draw(st.floats(-3, 3)), draw(st.floats(0.1, 10.0)),
                                  draw(st.integers(1, 50)),
                                  draw(st.sampled_from([0.0, 1e-3, 0.1, 1.0, 5.0])))
    loss = learners.ProbitLinearLoss(draw(st.floats(0.1, 10.0)))
    comp = draw(st.sampled_from(["none", "noise", "quant"]))
    if comp == "noise":
        comp = learners.GaussianNoiseCompressor(draw(st.floats(1e-3, 10.0)))
    elif comp == "quant":
        comp = learners.UniformQuantizer(draw(st.floats(0.05, 3.0)), draw(st.integers(1, 7)),
                                         center=draw(st.floats(-2, 2)))
    else:
        comp = None
    return L, loss, comp


@PROPS
@given(learner_setup())
def test_lemma2_and_data_processing_on_closed_forms(setup):
    """|gen| <= sqrt(2 sigma^2 I(S; W_hat) / n) (Lemma 2 / Theorem 1), and the chain
    S -> W -> W_hat obeys I(S; W_hat) <= min(I(S; W), I(W; W_hat)); all closed forms."""
    L, loss, comp = setup
    gen = L.gen_error(loss, comp)
    info = max(L.mi_sw(comp), 0.0)  # see test_mi_sw_with_quantizer_is_nonnegative
    bound = learners.sub_gaussian_gen_bound(info, L.n, loss.sigma(L.data_var))
    assert abs(gen) <= bound + 1e-12
    if comp is not None:
        assert L.mi_sw(comp) <= min(L.mi_w_what(comp), L.mi_sw()) + 1e-9


def test_mi_sw_with_quantizer_is_nonnegative():
    L = learners.NoisyMeanLearner(-3.0, 1.0, 10, 0.1)
    q = learners.UniformQuantizer(0.5, 3, center=1.0)
    assert L.mi_sw(q) >= 0.0
    learners.sub_gaussian_gen_bound(L.mi_sw(q), 10, 1.0)  # raises ValueError today


@PROPS
@given(st.floats(0.01, 5.0), st.integers(1, 9), st.floats(-3, 3),
       hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-20, 20)))
def test_uniform_quantizer_nearest_level(step, K, center, w):
    q = learners.UniformQuantizer(step, K, center=center)
    out = q.compress(w)
    assert out.shape == w.shape and np.all(np.isin(out, q.levels))
    dist = np.abs(w[:, None] - q.levels[None, :])
    assert np.all(np.abs(w - out) <= dist.min(axis=1) + 1e-12 * (1 + np.abs(w)))
    assert np.array_equal(q.compress(out), out)
    idx = q.index(w)
    assert np.all((idx >= 0) & (idx < K))
    H = q.entropy_gaussian(center, step)
    assert -1e-15 <= H <= math.log(K) + 1e-12
    from scipy import stats
    p = q.cell_probabilities(lambda e: stats.norm.cdf(e))
    assert p.sum() == pytest.approx(1.0, abs=1e-12) and np.all(p >= 0)
    assert q.reconstruction_radius(np.array([center])) == pytest.approx(
        ((K - 1) / 2 * step) ** 2, rel=1e-9, abs=1e-12)


@PROPS
@given(st.floats(-1e-2, 0.0) | st.floats(-10.0, -1e-4), st.floats(0.1, 10.0),
       st.floats(1e-4, 0.999))
def test_chi2_cgf_bound_holds_for_every_negative_lambda(lam, s2, x):
    assert learners.chi2_loss_cgf(lam, s2) >= 0.0
    # the bound is tight to relative order |lam| as lam -> 0, so it can only hold up to the
    # rounding of the two formulas (lam = -1e-140 broke an exact comparison under the audit)
    eps = np.finfo(float).eps
    assert learners.chi2_loss_cgf(lam, s2) <= learners.chi2_loss_cgf_bound(lam, s2) * (1 + 8 * eps)
    lam_pos = x / (2 * s2)  # 0 < 2 s2 lam < 1: the bound fails there (docstring)
    assert learners.chi2_loss_cgf(lam_pos, s2) > learners.chi2_loss_cgf_bound(lam_pos, s2)
    assert learners.chi2_loss_cgf(1.0 / s2, s2) == math.inf  # beyond 1 / (2 sigma^2)
    assert learners.chi2_loss_cgf(0.0, s2) == 0.0


@PROPS
@given(seeds, st.floats(-2.0, 2.0))
def test_empirical_cgf_basic_identities(seed, lam):
    x = np.random.default_rng(seed).standard_normal(50)
    est, se = learners.empirical_cgf(x, 0.0)
    assert est == 0.0 and se == 0.0
    e1, s1 = learners.empirical_cgf(x, lam, mean=0.0)
    e2, s2 = learners.empirical_cgf(x, np.array([lam, 0.0]), mean=0.0)
    assert e2[0] == pytest.approx(e1) and s2[0] == pytest.approx(s1) and s1 >= 0
    # Jensen: ln mean exp(lam (x - xbar)) >= lam * mean(x - xbar) = 0
    assert learners.empirical_cgf(x, lam)[0] >= -1e-12


@PROPS
@given(regression(), st.floats(1e-3, 10.0))
def test_ridge_shrinks_and_solves_its_normal_equations(case, lam):
    _, _, _, X, Y, _ = case
    n, d = X.shape[-1], X.shape[-2]
    assert np.allclose(learners.ridge(X, Y, 0.0), linreg.erm(X, Y), rtol=1e-8, atol=1e-10)
    W = learners.ridge(X, Y, lam)
    resid = np.einsum("tdn,tn->td", X, Y - np.einsum("tdn,td->tn", X, W)) - n * lam * W
    assert np.allclose(resid, 0.0, atol=1e-8 * (1 + np.abs(np.einsum("tdn,tn->td", X, Y)).max()))
    W2 = learners.ridge(X, Y, 2 * lam)
    assert np.all(np.linalg.norm(W2, axis=1) <= np.linalg.norm(W, axis=1) * (1 + 1e-12))
    assert W.shape == (X.shape[0], d)


@PROPS
@given(dn(max_d=20), noise_vars)
def test_erm_closed_forms(dn_, v):
    d, n = dn_
    dist = learners.erm_excess_risk_distribution(d, n, v)
    assert dist.mean() == pytest.approx(v * d / (n - d - 1), rel=1e-10)
    kl = learners.erm_weight_kl(d, n)
    assert kl >= 0.0 and learners.erm_weight_kl(d, n + 1) <= kl
    g0 = learners.oracle_gen_error(d, n, 0.0, v)
    assert g0 == pytest.approx(linreg.gen_error_erm(d, n, v), rel=1e-12)
    top = d * v / n
    Ds = np.linspace(0.0, top, 9)
    g = learners.oracle_gen_error(d, n, Ds, v)
    assert np.all(np.diff(g) < 0) and g[-1] == pytest.approx(0.0, abs=1e-12)
    assert np.all(learners.oracle_population_risk(d, n, Ds, v) >= v)
    assert np.all(learners.oracle_sigma_distortion(d, n, Ds, v) >= Ds * (1 - 1e-12))
    w_star = np.zeros(d)
    w = np.random.default_rng(d * n).standard_normal((5, d))
    assert np.all(learners.erm_weight_logpdf(w, w_star, n, noise_var=v)
                  <= learners.erm_weight_logpdf(w_star, w_star, n, noise_var=v))


@pytest.mark.filterwarnings("ignore:overflow encountered in divide:RuntimeWarning")
@PROPS
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 4)), elements=reals),
       st.floats(1e-3, 1e3))
def test_project_to_ball(w, r):
    """(The overflow warning for a row at the centre is the bug pinned down below.)"""
    c = np.zeros(w.shape[1])
    p = learners.project_to_ball(w, c, r)
    norms = np.linalg.norm(p, axis=1)
    assert np.all(norms <= r * (1 + 1e-12))
    assert np.allclose(learners.project_to_ball(p, c, r), p, rtol=1e-12, atol=1e-12 * r)
    inside = np.linalg.norm(w, axis=1) <= r
    assert np.array_equal(p[inside], w[inside])
    # direction is kept
    assert np.all(np.einsum("ij,ij->i", p, w) >= -1e-12 * r * np.linalg.norm(w, axis=1))


def test_project_to_ball_row_at_the_centre_gives_no_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.array_equal(learners.project_to_ball([[0.0, 0.0]], [0.0, 0.0], 5.0),
                              [[0.0, 0.0]])


@PROPS
@given(st.floats(0.0, 100.0), st.integers(1, 1000), st.floats(0.01, 10.0),
       st.floats(0.01, 10.0))
def test_simple_learner_closed_forms(info, n, s, eta2):
    b = learners.sub_gaussian_gen_bound(info, n, s)
    assert b == pytest.approx(math.sqrt(2 * s * s * info / n), rel=1e-12, abs=1e-300)
    assert learners.sub_gaussian_gen_bound(info + 1.0, n, s) > b
    comp = learners.GaussianNoiseCompressor(eta2)
    v = 1.0 + info
    assert comp.mutual_information(v) >= 0.0
    assert learners.GaussianNoiseCompressor(2 * eta2).mutual_information(v) < \
        comp.mutual_information(v)
    loss = learners.ProbitLinearLoss(s)
    w = np.linspace(-5, 5, 11)
    assert np.all(np.abs(loss.g(w)) <= 1.0) and np.allclose(loss.g(-w), -loss.g(w))
    S = np.random.default_rng(n).standard_normal((11, 7))
    assert np.allclose(loss.empirical_risk(w, S), loss(w[:, None], S).mean(axis=1))
    assert np.array_equal(loss.population_risk(w, 0.5), -loss.g(w) * 0.5)
    assert loss.sigma(s * s) == pytest.approx(s)
    W = S[:, :3]
    assert np.array_equal(comp.compress(W, rng=n), comp.compress(W, rng=np.random.default_rng(n)))
    assert comp.compress(W, rng=n).shape == W.shape
    learner = learners.NoisyMeanLearner(0.3, s * s, n, eta2)
    S1, W1 = learner.sample(4, rng=n)
    assert S1.shape == (4, n) and W1.shape == (4,)
    assert all(np.array_equal(a, b) for a, b in zip((S1, W1), learner.sample(4, rng=n),
                                                    strict=True))
    assert learner.weight_var == pytest.approx(s * s / n + eta2)


# ========================================================================================
# malformed input -> ValueError naming the argument
# ========================================================================================
def _ok_kmeans():
    return np.array([0.0, 1.0, 2.0, 3.0])


BAD_CALLS = [
    # quantize
    ("drhw_kmeans w 2-D", lambda: drhw_kmeans(np.ones((2, 2))), "w"),
    ("drhw_kmeans h negative", lambda: drhw_kmeans(_ok_kmeans(), [1, -1, 1, 1]), "h"),
    ("drhw_kmeans h shape", lambda: drhw_kmeans(_ok_kmeans(), [1, 1, 1]), "h"),
    ("drhw_kmeans K=0", lambda: drhw_kmeans(_ok_kmeans(), n_clusters=0), "n_clusters"),
    ("drhw_kmeans K>n", lambda: drhw_kmeans(_ok_kmeans(), n_clusters=5), "n_clusters"),
    ("drhw_kmeans K float", lambda: drhw_kmeans(_ok_kmeans(), n_clusters=2.0), "n_clusters"),
    ("drhw_kmeans K>n/m", lambda: drhw_kmeans(_ok_kmeans(), n_clusters=3, block=2),
     "n_clusters"),
    ("drhw_kmeans block", lambda: drhw_kmeans(_ok_kmeans(), block=3), "block"),
    ("drhw_kmeans block=0", lambda: drhw_kmeans(_ok_kmeans(), block=0), "block"),
    ("drhw_kmeans beta<0", lambda: drhw_kmeans(_ok_kmeans(), beta=-0.1), "beta"),
    ("drhw_kmeans beta nan", lambda: drhw_kmeans(_ok_kmeans(), beta=float("nan")), "beta"),
    ("drhw_kmeans beta inf", lambda: drhw_kmeans(_ok_kmeans(), beta=float("inf")), "beta"),
    ("drhw_kmeans tol<0", lambda: drhw_kmeans(_ok_kmeans(), tol=-1.0), "tol"),
    ("drhw_kmeans max_iter", lambda: drhw_kmeans(_ok_kmeans(), max_iter=0), "max_iter"),
    ("drhw_kmeans init name", lambda: drhw_kmeans(_ok_kmeans(), init="random"), "init"),
    ("drhw_kmeans init shape", lambda: drhw_kmeans(_ok_kmeans(), init=[0.0, 1.0, 2.0]),
     "init"),
    ("drhw_kmeans init nan", lambda: drhw_kmeans(_ok_kmeans(), init=[0.0, np.nan]), "init"),
    ("drhw_kmeans rng", lambda: drhw_kmeans(_ok_kmeans(), init="kmeans++", rng=-1), "rng"),
    ("drhw_kmeans_batch W 1-D", lambda: drhw_kmeans_batch(_ok_kmeans()), "W"),
    ("drhw_kmeans_batch H shape", lambda: drhw_kmeans_batch(np.ones((2, 3)), np.ones((3, 2))),
     "H"),
    ("drhw_kmeans_batch H<0", lambda: drhw_kmeans_batch(np.ones((2, 3)), -np.ones((2, 3))), "H"),
    ("drhw_kmeans_batch K", lambda: drhw_kmeans_batch(np.ones((2, 3)), n_clusters=4),
     "n_clusters"),
    ("drhw_kmeans_batch init", lambda: drhw_kmeans_batch(np.ones((2, 3)), init=np.ones((3, 2))),
     "init"),
    ("optimal_kmeans_1d K=0", lambda: optimal_kmeans_1d(_ok_kmeans(), 0), "n_clusters"),
    ("optimal_kmeans_1d K>n", lambda: optimal_kmeans_1d(_ok_kmeans(), 5), "n_clusters"),
    ("optimal_kmeans_1d h<0", lambda: optimal_kmeans_1d(_ok_kmeans(), 2, h=[1, 1, -1e-9, 1]),
     "h"),
    ("optimal_kmeans_1d w 2-D", lambda: optimal_kmeans_1d(np.ones((2, 2)), 1), "w"),
    ("optimal_kmeans_1d empty", lambda: optimal_kmeans_1d([], 1), "w"),
    ("hw_distortion shape", lambda: hw_distortion([1.0, 2.0], [1.0]), "w_hat"),
    ("hw_distortion h<0", lambda: hw_distortion([1.0, 2.0], [1.0, 2.0], h=[1, -1]), "h"),
    ("centers_diameter 3-D", lambda: centers_diameter(np.ones((1, 1, 1))), "centers"),
    ("centers_diameter empty", lambda: centers_diameter([]), "centers"),
    # coding
    ("huffman counts<0", lambda: coding.huffman_code_lengths([1, -1]), "counts"),
    ("huffman counts 2-D", lambda: coding.huffman_code_lengths([[1, 2]]), "counts"),
    ("huffman_code counts<0", lambda: coding.huffman_code([3, -2]), "counts"),
    ("entropy_bits zero", lambda: coding.entropy_bits([0, 0]), "counts"),
    ("compression_ratio label>=K", lambda: coding.compression_ratio([0, 2], 2),
     "labels_per_layer"),
    ("compression_ratio label<0", lambda: coding.compression_ratio([0, -1], 2),
     "labels_per_layer"),
    ("compression_ratio empty", lambda: coding.compression_ratio([], 2), "labels_per_layer"),
    ("compression_ratio empty layer", lambda: coding.compression_ratio([[0], []], 2),
     "labels_per_layer"),
    ("compression_ratio float labels", lambda: coding.compression_ratio([0.5, 1.0], 2),
     "labels_per_layer"),
    ("compression_ratio K=0", lambda: coding.compression_ratio([0, 0], 0), "n_clusters"),
    ("compression_ratio K list", lambda: coding.compression_ratio([[0], [0]], [2]),
     "n_clusters"),
    ("compression_ratio bits", lambda: coding.compression_ratio([0, 1], 2, bits=0), "bits"),
    ("compression_ratio block", lambda: coding.compression_ratio([0, 1], 2, block=0), "block"),
    # mi
    ("ksg k>=n", lambda: mi.ksg([0.0, 1.0, 2.0], [0.0, 1.0, 3.0], k=3), "k"),
    ("ksg k=0", lambda: mi.ksg([0.0, 1.0, 2.0], [0.0, 1.0, 3.0], k=0), "k"),
    ("ksg k bool", lambda: mi.ksg([0.0, 1.0, 2.0], [0.0, 1.0, 3.0], k=True), "k"),
    ("ksg lengths", lambda: mi.ksg([0.0, 1.0, 2.0], [0.0, 1.0]), "x"),
    ("ksg jitter<0", lambda: mi.ksg([0.0, 1.0, 2.0], [0.0, 1.0, 3.0], k=1, jitter=-1.0),
     "jitter"),
    ("ksg x 3-D", lambda: mi.ksg(np.ones((3, 1, 1)), np.ones(3), k=1), "x"),
    ("mixed_ksg k>=n", lambda: mi.mixed_ksg([0, 1], [0, 1], k=2), "k"),
    ("mixed_ksg variant", lambda: mi.mixed_ksg([0, 1, 2], [0, 1, 2], k=1, variant="x"),
     "variant"),
    ("gaussian_mi not PD", lambda: mi.gaussian_mi([[1.0, 2.0], [2.0, 1.0]], 1), "cov"),
    ("gaussian_mi asym", lambda: mi.gaussian_mi([[1.0, 0.5], [0.0, 1.0]], 1), "cov"),
    ("gaussian_mi square", lambda: mi.gaussian_mi(np.ones((2, 3)), 1), "cov"),
    ("gaussian_mi 1x1", lambda: mi.gaussian_mi([[1.0]], 1), "cov"),
    ("gaussian_mi dim_x=0", lambda: mi.gaussian_mi(np.eye(3), 0), "dim_x"),
    ("gaussian_mi dim_x=dim", lambda: mi.gaussian_mi(np.eye(3), 3), "dim_x"),
    ("discrete_entropy empty", lambda: mi.discrete_entropy([]), "labels"),
    ("discrete_entropy 3-D", lambda: mi.discrete_entropy(np.ones((2, 2, 2))), "labels"),
    ("discrete_entropy base=1", lambda: mi.discrete_entropy([0, 1], base=1), "base"),
    ("discrete_entropy base<0", lambda: mi.discrete_entropy([0, 1], base=-2), "base"),
    ("label_entropy out of range", lambda: mi.label_entropy([0, 3], 3), "labels"),
    ("label_entropy fractional", lambda: mi.label_entropy([0.5, 1.0], 3), "labels"),
    ("label_entropy K=0", lambda: mi.label_entropy([0], 0), "n_clusters"),
    ("label_entropy scalar", lambda: mi.label_entropy(1, 3), "labels"),
    # linreg
    ("gen_error_erm n<=d+1", lambda: linreg.gen_error_erm(3, 4), "n"),
    ("gen_error_erm d=0", lambda: linreg.gen_error_erm(0, 4), "d"),
    ("gen_error_erm noise<0", lambda: linreg.gen_error_erm(1, 4, -1.0), "noise_var"),
    ("rate_distortion_upper D<0", lambda: linreg.rate_distortion_upper(-1e-3, 2, 5), "D"),
    ("rate_distortion_upper n", lambda: linreg.rate_distortion_upper(0.1, 2, 3), "n"),
    ("rate_distortion_lower kl<0", lambda: linreg.rate_distortion_lower(0.1, 2, 5, kl=-1),
     "kl"),
    ("distortion_rate_upper R<0", lambda: linreg.distortion_rate_upper(-1.0, 2, 5), "R"),
    ("distortion_rate_upper noise", lambda: linreg.distortion_rate_upper(1.0, 2, 5, 0.0),
     "noise_var"),
    ("gen_error_bound mi<0", lambda: linreg.gen_error_bound(-1.0, 5, c_w_star=1.0), "mi"),
    ("gen_error_bound c<0", lambda: linreg.gen_error_bound(1.0, 5, c_w_star=-1.0), "c_w_star"),
    ("gen_error_bound norm", lambda: linreg.gen_error_bound(1.0, 5, c_w_star=1.0,
                                                            sigma_x_norm=0.0), "sigma_x_norm"),
    pytest.param("population_risk_bound R<0",
                 lambda: linreg.population_risk_bound(-1.0, 2, 5, c_w_star=1.0), "R"),
    pytest.param("population_risk_bound R nan",
                 lambda: linreg.population_risk_bound(np.nan, 2, 5, c_w_star=1.0), "R"),
    ("erm n<d", lambda: linreg.erm(np.ones((3, 2)), np.ones(2)), "n"),
    ("erm shapes", lambda: linreg.erm(np.ones((2, 5)), np.ones(4)), "Y"),
    ("erm trials", lambda: linreg.erm(np.ones((4, 1, 3)), np.ones((5, 3))), "X"),
    pytest.param("erm rank-deficient X", lambda: linreg.erm(np.ones((2, 3)), np.ones(3)), "X"),
    ("empirical_risk w", lambda: linreg.empirical_risk([1.0, 2.0], np.ones((1, 3)), np.ones(3)),
     "w"),
    ("population_risk w", lambda: linreg.population_risk([1.0], [0.0, 0.0]), "w"),
    ("population_risk noise", lambda: linreg.population_risk([1.0], [0.0], noise_var=-1.0),
     "noise_var"),
    ("population_risk sigma_x", lambda: linreg.population_risk([1.0], [0.0], sigma_x=-1.0),
     "sigma_x"),
    ("sample_datasets n", lambda: linreg.sample_datasets([1.0], 0), "n"),
    ("sample_datasets trials", lambda: linreg.sample_datasets([1.0], 3, trials=0), "trials"),
    ("sample_datasets w_star", lambda: linreg.sample_datasets([], 3), "w_star"),
    ("sample_datasets sigma_x shape", lambda: linreg.sample_datasets([1.0, 2.0], 3,
                                                                     sigma_x=[1.0]), "sigma_x"),
    ("covariance_matrix asym", lambda: linreg.covariance_matrix([[1, 0.5], [0, 1]], 2),
     "sigma_x"),
    ("covariance_matrix not PD", lambda: linreg.covariance_matrix([[1, 2], [2, 1]], 2),
     "sigma_x"),
    ("expected_empirical_risk n<d", lambda: linreg.expected_empirical_risk_erm(3, 2), "n"),
    ("reconstruction_radius empty", lambda: linreg.reconstruction_radius([1.0], []), "levels"),
    # channels
    ("OracleChannel D too big", lambda: channels.OracleChannel(np.zeros(2), 5, 0.5), "D"),
    ("OracleChannel D<0", lambda: channels.OracleChannel(np.zeros(2), 5, -0.1), "D"),
    ("OracleChannel n<=d+1", lambda: channels.OracleChannel(np.zeros(2), 3, 0.1), "n"),
    ("OracleChannel noise", lambda: channels.OracleChannel(np.zeros(2), 5, 0.1, noise_var=0),
     "noise_var"),
    ("OracleChannel.sample W", lambda: channels.OracleChannel(np.zeros(2), 5, 0.1).sample(
        np.ones((3, 3))), "W"),
    # ratedistortion
    ("blahut_arimoto probs sum", lambda: ratedistortion.blahut_arimoto([0.5, 0.6], np.eye(2),
                                                                       1.0), "probs"),
    ("blahut_arimoto probs<0", lambda: ratedistortion.blahut_arimoto([1.5, -0.5], np.eye(2),
                                                                     1.0), "probs"),
    ("blahut_arimoto dist<0", lambda: ratedistortion.blahut_arimoto([0.5, 0.5], -np.eye(2),
                                                                    1.0), "distortion"),
    ("blahut_arimoto dist shape", lambda: ratedistortion.blahut_arimoto([0.5, 0.5], np.eye(3),
                                                                        1.0), "distortion"),
    ("blahut_arimoto beta<=0", lambda: ratedistortion.blahut_arimoto([0.5, 0.5], np.eye(2),
                                                                     0.0), "beta"),
    ("blahut_arimoto beta 2-D", lambda: ratedistortion.blahut_arimoto(
        [0.5, 0.5], np.eye(2), np.ones((2, 2))), "beta"),
    ("blahut_arimoto init", lambda: ratedistortion.blahut_arimoto([0.5, 0.5], np.eye(2), 1.0,
                                                                  init=[1.0, 0.0]), "init"),
    ("blahut_arimoto init shape", lambda: ratedistortion.blahut_arimoto(
        [0.5, 0.5], np.eye(2), 1.0, init=[1.0]), "init"),
    ("blahut_arimoto tol", lambda: ratedistortion.blahut_arimoto([0.5, 0.5], np.eye(2), 1.0,
                                                                 tol=0.0), "tol"),
    ("blahut_arimoto max_iter", lambda: ratedistortion.blahut_arimoto(
        [0.5, 0.5], np.eye(2), 1.0, max_iter=0), "max_iter"),
    ("gaussian_rate_distortion D<0", lambda: ratedistortion.gaussian_rate_distortion(-1.0),
     "D"),
    ("gaussian_rate_distortion var", lambda: ratedistortion.gaussian_rate_distortion(1.0, 0.0),
     "variance"),
    ("gaussian_distortion_rate R<0", lambda: ratedistortion.gaussian_distortion_rate(-1.0),
     "R"),
    ("discretize_density lo>=hi", lambda: ratedistortion.discretize_density(
        lambda t: -t * t, 1.0, 1.0, 5), "lo"),
    ("discretize_density n_points", lambda: ratedistortion.discretize_density(
        lambda t: -t * t, 0.0, 1.0, 1), "n_points"),
    ("discretize_density logpdf nan", lambda: ratedistortion.discretize_density(
        lambda t: np.where(t > 0, 0.0, np.nan), -1.0, 1.0, 5), "logpdf"),
    ("gaussian_lloyd_max K=0", lambda: ratedistortion.gaussian_lloyd_max(0), "n_levels"),
    ("gaussian_lloyd_max var", lambda: ratedistortion.gaussian_lloyd_max(2, variance=-1.0),
     "variance"),
    # checks
    ("false_alarm n_se", lambda: checks.false_alarm_probability(0.0), "n_se"),
    ("CheckTable se<0", lambda: checks.CheckTable("t").close("a", 0.0, 0.0, -1.0), "se"),
    ("CheckTable se nan", lambda: checks.CheckTable("t").upper("a", 0.0, 0.0, float("nan")),
     "se"),
    ("CheckTable se inf", lambda: checks.CheckTable("t").lower("a", 0.0, 0.0, float("inf")),
     "se"),
    ("CheckTable n_se", lambda: checks.CheckTable("t").close("a", 0.0, 0.0, 1.0, n_se=-1.0),
     "n_se"),
    pytest.param("CheckTable(n_se<=0)", lambda: checks.CheckTable("t", n_se=-1.0), "n_se"),
    # learners
    ("sub_gaussian mi<0", lambda: learners.sub_gaussian_gen_bound(-1e-3, 3, 1.0), "mi"),
    ("sub_gaussian mi nan", lambda: learners.sub_gaussian_gen_bound(float("nan"), 3, 1.0), "mi"),
    ("sub_gaussian n", lambda: learners.sub_gaussian_gen_bound(1.0, 0, 1.0), "n"),
    ("sub_gaussian sigma", lambda: learners.sub_gaussian_gen_bound(1.0, 3, 0.0), "sigma"),
    ("ProbitLinearLoss scale", lambda: learners.ProbitLinearLoss(0.0), "scale"),
    ("ProbitLinearLoss.empirical_risk", lambda: learners.ProbitLinearLoss().empirical_risk(
        np.ones(3), np.ones((2, 4))), "w"),
    ("GaussianNoiseCompressor", lambda: learners.GaussianNoiseCompressor(-1.0), "noise_var"),
    ("UniformQuantizer step", lambda: learners.UniformQuantizer(0.0, 3), "step"),
    ("UniformQuantizer K", lambda: learners.UniformQuantizer(1.0, 0), "n_levels"),
    ("NoisyMeanLearner data_var", lambda: learners.NoisyMeanLearner(0.0, 0.0, 3), "data_var"),
    ("NoisyMeanLearner n", lambda: learners.NoisyMeanLearner(0.0, 1.0, 0), "n"),
    ("NoisyMeanLearner noise", lambda: learners.NoisyMeanLearner(0.0, 1.0, 3, -1.0),
     "noise_var"),
    ("NoisyMeanLearner compressor", lambda: learners.NoisyMeanLearner(0.0, 1.0, 3).mi_sw(
        "q"), "compressor"),
    ("NoisyMeanLearner grid", lambda: learners.NoisyMeanLearner(0.0, 1.0, 3).mi_sw(
        learners.UniformQuantizer(1.0, 2), grid=2), "grid"),
    ("chi2_loss_cgf sigma2", lambda: learners.chi2_loss_cgf(0.1, 0.0), "sigma2"),
    ("empirical_cgf samples", lambda: learners.empirical_cgf([1.0], 0.1), "samples"),
    ("ridge lam<0", lambda: learners.ridge(np.ones((1, 3)), np.ones(3), -1.0), "lam"),
    ("ridge shapes", lambda: learners.ridge(np.ones((1, 3)), np.ones(2), 1.0), "Y"),
    ("erm_excess_risk n<d", lambda: learners.erm_excess_risk_distribution(3, 2), "n"),
    ("erm_weight_kl n<=d+1", lambda: learners.erm_weight_kl(3, 4), "n"),
    ("erm_weight_logpdf w", lambda: learners.erm_weight_logpdf(np.ones(3), np.zeros(2), 5),
     "w"),
    ("oracle_gen_error D", lambda: learners.oracle_gen_error(2, 5, 0.5), "D"),
    ("oracle_population_risk D<0", lambda: learners.oracle_population_risk(2, 5, -0.1), "D"),
    ("project_to_ball radius", lambda: learners.project_to_ball([1.0], [0.0], 0.0), "radius"),
    ("project_to_ball shape", lambda: learners.project_to_ball([1.0, 2.0], [0.0], 1.0),
     "center"),
]


def _names_argument(message: str, name: str) -> bool:
    """``name`` appears in ``message`` as a word (not inside another identifier)."""
    return re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", message) is not None


def _bad_call_params():
    out = []
    for c in BAD_CALLS:
        if hasattr(c, "marks"):  # a pytest.param carrying a mark
            out.append(pytest.param(*c.values[1:], marks=c.marks, id=c.values[0]))
        else:
            out.append(pytest.param(c[1], c[2], id=c[0]))
    return out


@pytest.mark.parametrize("call,name", _bad_call_params())
def test_malformed_input_raises_value_error_naming_the_argument(call, name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning instead of the error is a failure too
        with pytest.raises(ValueError) as exc:
            call()
    assert _names_argument(str(exc.value), name), str(exc.value)


# Valid inputs of every public function taking arrays; a NaN or an infinity injected into
# any entry of any listed argument must give a ValueError that names that argument.
def _regress(rng):
    X = rng.standard_normal((2, 2, 6))
    return {"X": X, "Y": rng.standard_normal((2, 6))}


NONFINITE_CASES = {
    "drhw_kmeans": (lambda r: {"w": r.standard_normal(6), "h": r.uniform(0, 1, 6)},
                    lambda a: drhw_kmeans(a["w"], a["h"], 2)),
    "drhw_kmeans_batch": (lambda r: {"W": r.standard_normal((2, 5)), "H": r.uniform(0, 1, (2, 5))},
                          lambda a: drhw_kmeans_batch(a["W"], a["H"], 2)),
    "optimal_kmeans_1d": (lambda r: {"w": r.standard_normal(6), "h": r.uniform(0, 1, 6)},
                          lambda a: optimal_kmeans_1d(a["w"], 2, h=a["h"])),
    "hw_distortion": (lambda r: {"w": r.standard_normal(4), "w_hat": r.standard_normal(4),
                                 "h": r.uniform(0, 1, 4)},
                      lambda a: hw_distortion(a["w"], a["w_hat"], a["h"])),
    "centers_diameter": (lambda r: {"centers": r.standard_normal((3, 2))},
                         lambda a: centers_diameter(a["centers"])),
    "huffman_code_lengths": (lambda r: {"counts": r.integers(0, 9, 5).astype(float)},
                             lambda a: coding.huffman_code_lengths(a["counts"])),
    "huffman_code": (lambda r: {"counts": r.integers(0, 9, 5).astype(float)},
                     lambda a: coding.huffman_code(a["counts"])),
    "entropy_bits": (lambda r: {"counts": r.integers(1, 9, 5).astype(float)},
                     lambda a: coding.entropy_bits(a["counts"])),
    "compression_ratio": (lambda r: {"labels": r.integers(0, 3, 8).astype(float)},
                          lambda a: coding.compression_ratio(a["labels"], 3)),
    "ksg": (lambda r: {"x": r.standard_normal((20, 2)), "y": r.standard_normal(20)},
            lambda a: mi.ksg(a["x"], a["y"], k=2)),
    "mixed_ksg": (lambda r: {"x": r.standard_normal(20), "y": r.standard_normal((20, 2))},
                  lambda a: mi.mixed_ksg(a["x"], a["y"], k=2)),
    "gaussian_mi": (lambda r: {"cov": np.eye(3) + 0.1}, lambda a: mi.gaussian_mi(a["cov"], 1)),
    "discrete_entropy": (lambda r: {"labels": r.standard_normal(6)},
                         lambda a: mi.discrete_entropy(a["labels"])),
    "label_entropy": (lambda r: {"labels": r.integers(0, 3, (2, 5)).astype(float)},
                      lambda a: mi.label_entropy(a["labels"], 3)),
    "erm": (_regress, lambda a: linreg.erm(a["X"], a["Y"])),
    "empirical_risk": (lambda r: {**_regress(r), "w": r.standard_normal(2)},
                       lambda a: linreg.empirical_risk(a["w"], a["X"], a["Y"])),
    "population_risk": (lambda r: {"w": r.standard_normal((3, 2)), "w_star": r.standard_normal(2),
                                   "sigma_x": r.uniform(0.5, 1, 2)},
                        lambda a: linreg.population_risk(a["w"], a["w_star"],
                                                         sigma_x=a["sigma_x"])),
    "sample_datasets": (lambda r: {"w_star": r.standard_normal(3), "sigma_x": r.uniform(0.5, 1, 3),
                                   "noise_var": np.array(1.0)},
                        lambda a: linreg.sample_datasets(a["w_star"], 4, sigma_x=a["sigma_x"],
                                                         noise_var=a["noise_var"])),
    "rate_distortion_upper": (lambda r: {"D": r.uniform(0.1, 1, 3), "noise_var": np.array(1.0)},
                              lambda a: linreg.rate_distortion_upper(a["D"], 2, 6,
                                                                     a["noise_var"])),
    "rate_distortion_lower": (lambda r: {"D": r.uniform(0.1, 1, 3), "kl": np.array(0.1)},
                              lambda a: linreg.rate_distortion_lower(a["D"], 2, 6,
                                                                     kl=a["kl"])),
    "distortion_rate_upper": (lambda r: {"R": r.uniform(0, 3, 3)},
                              lambda a: linreg.distortion_rate_upper(a["R"], 2, 6)),
    "gen_error_bound": (lambda r: {"mi": r.uniform(0, 3, 3), "c_w_star": np.array(1.0),
                                   "sigma_x_norm": np.array(1.0)},
                        lambda a: linreg.gen_error_bound(a["mi"], 6, c_w_star=a["c_w_star"],
                                                         sigma_x_norm=a["sigma_x_norm"])),
    "reconstruction_radius": (lambda r: {"w_star": r.standard_normal(3),
                                         "levels": r.standard_normal(4)},
                              lambda a: linreg.reconstruction_radius(a["w_star"], a["levels"])),
    "covariance_matrix": (lambda r: {"sigma_x": np.eye(2) * 2.0},
                          lambda a: linreg.covariance_matrix(a["sigma_x"], 2)),
    "OracleChannel": (lambda r: {"w_star": r.standard_normal(2), "D": np.array(0.1)},
                      lambda a: channels.OracleChannel(a["w_star"], 6, a["D"])),
    "OracleChannel.sample": (lambda r: {"W": r.standard_normal((3, 2))},
                             lambda a: channels.OracleChannel(np.zeros(2), 6, 0.1).sample(
                                 a["W"], rng=0)),
    "blahut_arimoto": (lambda r: {"probs": np.array([0.25, 0.75]),
                                  "distortion": r.uniform(0, 1, (2, 3)),
                                  "beta": r.uniform(0.5, 2, 2)},
                       lambda a: ratedistortion.blahut_arimoto(a["probs"], a["distortion"],
                                                               a["beta"], max_iter=5)),
    "gaussian_rate_distortion": (lambda r: {"D": r.uniform(0.1, 1, 3),
                                            "variance": np.array(1.0)},
                                 lambda a: ratedistortion.gaussian_rate_distortion(
                                     a["D"], a["variance"])),
    "gaussian_distortion_rate": (lambda r: {"R": r.uniform(0, 1, 3)},
                                 lambda a: ratedistortion.gaussian_distortion_rate(a["R"])),
    "ridge": (lambda r: {**_regress(r), "lam": np.array(0.5)},
              lambda a: learners.ridge(a["X"], a["Y"], a["lam"])),
    "project_to_ball": (lambda r: {"w": r.standard_normal((2, 3)), "center": np.zeros(3),
                                   "radius": np.array(1.0)},
                        lambda a: learners.project_to_ball(a["w"], a["center"], a["radius"])),
    "chi2_loss_cgf": (lambda r: {"lam": r.uniform(-1, 0, 3), "sigma2": np.array(1.0)},
                      lambda a: learners.chi2_loss_cgf(a["lam"], a["sigma2"])),
    "empirical_cgf": (lambda r: {"samples": r.standard_normal(8), "lam": r.uniform(-1, 1, 2)},
                      lambda a: learners.empirical_cgf(a["samples"], a["lam"])),
    "erm_weight_logpdf": (lambda r: {"w": r.standard_normal((2, 2)), "w_star": np.zeros(2)},
                          lambda a: learners.erm_weight_logpdf(a["w"], a["w_star"], 6)),
    "oracle_gen_error": (lambda r: {"D": r.uniform(0, 0.3, 3)},
                         lambda a: learners.oracle_gen_error(2, 6, a["D"])),
}


def _nonfinite_params():
    out = []
    for case in sorted(NONFINITE_CASES):
        for name in sorted(NONFINITE_CASES[case][0](np.random.default_rng(0))):
            out.append(pytest.param(case, name, id=f"{case}-{name}"))
    return out


@pytest.mark.parametrize("case,name", _nonfinite_params())
@settings(PROPS, max_examples=6)
@given(seed=seeds, bad=st.sampled_from([np.nan, np.inf, -np.inf]), data=st.data())
def test_nonfinite_anywhere_raises_value_error_naming_the_argument(case, name, seed, bad, data):
    make, call = NONFINITE_CASES[case]
    args = make(np.random.default_rng(seed))
    call(args)  # the valid input is accepted
    arr = np.array(args[name], dtype=float)
    flat = arr.reshape(-1)
    flat[data.draw(st.integers(0, flat.size - 1))] = bad
    args[name] = arr
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError) as exc:
            call(args)
    expected = "labels_per_layer" if case == "compression_ratio" else name
    assert _names_argument(str(exc.value), expected), (case, name, str(exc.value))


@PROPS
@given(st.integers(-5, 12), st.integers(1, 8))
def test_n_clusters_outside_range_is_rejected_everywhere(K, n):
    w = np.arange(float(n))
    if 1 <= K <= n:
        drhw_kmeans(w, None, K)
        optimal_kmeans_1d(w, K)
        drhw_kmeans_batch(w[None], None, K)
        return
    for call in (lambda: drhw_kmeans(w, None, K), lambda: optimal_kmeans_1d(w, K),
                 lambda: drhw_kmeans_batch(w[None], None, K)):
        with pytest.raises(ValueError, match="n_clusters"):
            call()


@PROPS
@given(st.integers(1, 10), st.integers(1, 15))
def test_n_le_d_plus_1_is_rejected_by_every_formula(d, n):
    calls = [
        lambda: linreg.gen_error_erm(d, n),
        lambda: linreg.rate_distortion_upper(0.5, d, n),
        lambda: linreg.rate_distortion_lower(0.5, d, n),
        lambda: linreg.distortion_rate_upper(0.5, d, n),
        lambda: linreg.population_risk_bound(0.5, d, n, c_w_star=1.0),
        lambda: learners.erm_weight_kl(d, n),
        lambda: learners.oracle_gen_error(d, n, 0.0),
        lambda: channels.OracleChannel(np.zeros(d), n, 0.0),
    ]
    for call in calls:
        if n > d + 1:
            call()
        else:
            with pytest.raises(ValueError, match=r"\bn\b"):
                call()


@PROPS
@given(st.integers(2, 12), st.integers(-2, 14))
def test_ksg_neighbour_order_range(n, k):
    x = np.arange(float(n))
    y = x**2
    for f in (mi.ksg, mi.mixed_ksg):
        if 1 <= k < n:
            assert np.isfinite(f(x, y, k=k))
        else:
            with pytest.raises(ValueError, match=r"\bk\b"):
                f(x, y, k=k)
