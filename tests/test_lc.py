"""Tests of infocompress.lc: C steps as orthogonal projections, the LC loop on least squares,
and the torch L step (Carreira-Perpiñán 2017, sections 3-5)."""

import itertools
import math

import numpy as np
import pytest

from infocompress import lc, quantize
from infocompress.lc import (
    AdaptiveQuantization,
    Binarization,
    CompressionTask,
    FixedCodebook,
    LowRank,
    Pruning,
)


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def sq(a):
    return float(np.sum(np.square(a)))


def design(H, n=None):
    """X with X^T X / n = H exactly (n = d)."""
    d = H.shape[0]
    n = d if n is None else n
    R = np.linalg.cholesky(H).T  # R^T R = H
    X = np.zeros((n, d))
    X[:d] = math.sqrt(n) * R
    return X


def random_problems(rng, B, n, d, rho=0.5, noise=0.5):
    L = np.linalg.cholesky(rho * np.ones((d, d)) + (1 - rho) * np.eye(d))
    X = rng.normal(size=(B, n, d)) @ L.T
    w = rng.normal(size=(B, d))
    y = np.einsum("bnd,bd->bn", X, w) + noise * rng.normal(size=(B, n))
    return X, y


# --------------------------------------------------------------------------------------
# C steps are orthogonal projections (brute force on tiny inputs)
# --------------------------------------------------------------------------------------
def test_binarization_is_projection_over_all_sign_patterns():
    rng = np.random.default_rng(0)
    for _ in range(20):
        w = rng.normal(size=6)
        p = Binarization().project(w)
        # brute force: every sign pattern with its optimal scale, plus a grid of scales
        best = min(sq(w) - (np.dot(s, w)) ** 2 / 6
                   for s in itertools.product([-1.0, 1.0], repeat=6))
        assert sq(w - p) == pytest.approx(best, abs=1e-12)
        for s in itertools.product([-1.0, 1.0], repeat=6):
            for a in np.linspace(0, 3, 31):
                assert sq(w - a * np.array(s)) >= sq(w - p) - 1e-12
        # p is feasible: one magnitude, signs +-1
        assert np.allclose(np.abs(p), np.mean(np.abs(w)))


def test_pruning_is_projection_over_all_supports():
    rng = np.random.default_rng(1)
    for kappa in range(0, 6):
        w = rng.normal(size=5)
        p = Pruning(kappa).project(w)
        assert np.count_nonzero(p) <= kappa
        best = min(sq(np.delete(w, list(S))) for S in itertools.combinations(range(5), kappa))
        assert sq(w - p) == pytest.approx(best, abs=1e-14)


def test_pruning_ties_and_shape():
    w = np.array([[1.0, -1.0], [0.5, 1.0]])
    th = Pruning(2).compress(w)
    assert th.indices.tolist() == [0, 1]  # ties broken by index
    assert Pruning(2).decompress(th).shape == (2, 2)


def test_lowrank_eckart_young():
    rng = np.random.default_rng(2)
    W = rng.normal(size=(6, 4))
    s = np.linalg.svd(W, compute_uv=False)
    for r in range(1, 5):
        P = LowRank(r).project(W)
        assert np.linalg.matrix_rank(P, tol=1e-10) <= r
        assert sq(W - P) == pytest.approx(np.sum(s[r:] ** 2), rel=1e-12, abs=1e-12)
        # no random rank-r competitor is closer (including perturbations of P)
        for _ in range(200):
            A, B = rng.normal(size=(6, r)), rng.normal(size=(r, 4))
            assert sq(W - A @ B) >= sq(W - P) - 1e-12
            u, sv, vt = np.linalg.svd(P + 0.05 * rng.normal(size=P.shape))
            Q = (u[:, :r] * sv[:r]) @ vt[:r]
            assert sq(W - Q) >= sq(W - P) - 1e-12


def test_lowrank_flat_vector_with_shape():
    rng = np.random.default_rng(3)
    w = rng.normal(size=12)
    p = LowRank(1, shape=(3, 4)).project(w)
    assert p.shape == (12,)
    assert np.allclose(p.reshape(3, 4), LowRank(1).project(w.reshape(3, 4)))


def test_adaptive_quantization_exact_matches_optimal_kmeans():
    rng = np.random.default_rng(4)
    for K in (1, 2, 3, 5):
        w = rng.normal(size=40)
        th = AdaptiveQuantization(K, exact=True).compress(w)
        ref = quantize.optimal_kmeans_1d(w, K)
        p = AdaptiveQuantization(K, exact=True).decompress(th)
        assert sq(w - p) == pytest.approx(ref.objective, rel=1e-9, abs=1e-12)
        assert len(np.unique(p)) <= K
        # Lloyd (possibly warm-started) can only be worse or equal
        lloyd = AdaptiveQuantization(K).compress(w)
        assert sq(w - AdaptiveQuantization(K).decompress(lloyd)) >= ref.objective - 1e-9
        warm = AdaptiveQuantization(K).compress(w + 0.01, theta0=lloyd)
        assert warm.codebook.shape == (K,)


def test_adaptive_quantization_is_projection_on_tiny_input():
    # brute force over every assignment of 6 scalars to 2 clusters (centres = means)
    rng = np.random.default_rng(5)
    w = rng.normal(size=6)
    best = math.inf
    for lab in itertools.product([0, 1], repeat=6):
        lab = np.array(lab)
        err = sum(sq(w[lab == k] - w[lab == k].mean()) for k in (0, 1) if np.any(lab == k))
        best = min(best, err)
    p = AdaptiveQuantization(2, exact=True).project(w)
    assert sq(w - p) == pytest.approx(best, abs=1e-12)


def test_fixed_codebook_nearest():
    rng = np.random.default_rng(6)
    cb = np.array([-1.0, -0.2, 0.5, 2.0])
    w = rng.normal(size=(5, 3)) * 2
    p = FixedCodebook(cb).project(w)
    brute = cb[np.argmin(np.abs(w[..., None] - cb), axis=-1)]
    assert np.array_equal(p, brute)


@pytest.mark.parametrize("comp,shape", [
    (Binarization(), (7,)), (Pruning(3), (7,)), (FixedCodebook([-1, 0, 1]), (7,)),
    (LowRank(2), (4, 3)), (LowRank(2, shape=(3, 3)), (9,)),
    (AdaptiveQuantization(3, exact=True), (8,)),
])
def test_project_batch_matches_rows(comp, shape):
    rng = np.random.default_rng(7)
    W = rng.normal(size=(5,) + shape)
    P = comp.project_batch(W)
    for b in range(5):
        assert np.allclose(P[b], comp.project(W[b]), atol=1e-12)


# --------------------------------------------------------------------------------------
# the LC loop on least squares
# --------------------------------------------------------------------------------------
def designed_pruning_problem():
    """d = 2, kappa = 1, L(w) = (w - w*)^T H (w - w*): DC keeps w*_1 = 1 unrefitted."""
    H = np.array([[1.0, -0.95], [-0.95, 1.0]])
    w_star = np.array([1.0, 0.9])
    X = design(H)
    y = X @ w_star
    return X, y, H, w_star


def test_designed_problem_dc_suboptimal_lc_optimal():
    X, y, H, w_star = designed_pruning_problem()
    # closed forms: DC = (1, 0) with loss 0.9^2 * H22; optimum on support {1}:
    # w1 = (H w*)_1 / H11, loss = w*^T H w* - (H w*)_1^2 / H11
    loss_dc = 0.9**2 * H[1, 1]
    hw = H @ w_star
    loss_opt = w_star @ H @ w_star - hw[0] ** 2 / H[0, 0]
    assert loss_opt < w_star @ H @ w_star - hw[1] ** 2 / H[1, 1]  # support {1} is optimal
    mus = lc.mu_schedule(1e-3, 1.2, 120)  # up to mu ~ 3e6
    # AL reaches the optimum to rounding; the QP only as O(1/mu) (20 L/C passes per mu
    # approximate the joint minimisation that Theorem 5.1 assumes)
    for aug, rel in ((True, 1e-9), (False, 1e-4)):
        res = lc.lc_least_squares(X, y, Pruning(1), mus, augmented=aug, inner=20)
        assert res.loss_dc == pytest.approx(loss_dc, rel=1e-12)
        assert np.allclose(res.w_dc, [1.0, 0.0])
        assert res.loss <= res.loss_dc
        assert res.loss == pytest.approx(loss_opt, rel=rel)
        w_opt, l_opt = lc.least_squares_optimum(X, y, Pruning(1))
        assert l_opt == pytest.approx(loss_opt, rel=1e-12)
        assert np.allclose(w_opt, [hw[0] / H[0, 0], 0.0])


def test_lc_output_is_feasible():
    rng = np.random.default_rng(8)
    X, y = random_problems(rng, 1, 30, 6)
    X, y = X[0], y[0]
    mus = lc.mu_schedule(1e-2, 1.3, 50)
    for comp in (Binarization(), Pruning(2), FixedCodebook([-1.0, 0.0, 1.0]),
                 AdaptiveQuantization(2), LowRank(1, shape=(2, 3))):
        res = lc.lc_least_squares(X, y, comp, mus)
        assert np.array_equal(comp.project(res.w), res.w) or np.allclose(
            comp.project(res.w), res.w, atol=1e-12)
        assert np.allclose(comp.decompress(res.theta), res.w)
    res = lc.lc_least_squares(X, y, Pruning(2), mus)
    assert np.count_nonzero(res.w) <= 2
    res = lc.lc_least_squares(X, y, Binarization(), mus)
    assert np.allclose(np.abs(res.w), np.abs(res.w[0]))


def test_qp_violation_decreases_along_increasing_mu():
    rng = np.random.default_rng(9)
    X, y = random_problems(rng, 20, 40, 6)
    mus = lc.mu_schedule(1e-1, 1.5, 30)
    res = lc.lc_least_squares(X, y, LowRank(1, shape=(2, 3)), mus, augmented=False, inner=20)
    v = res.path["violation"]
    # from the moment the path has settled (mu >= 10 x curvature) the violation decreases,
    # and mu * violation tends to a constant (Theorem 5.1: the multiplier estimate)
    late = res.path["mu"][:, 0] >= 10 * 2 * np.linalg.eigvalsh(
        np.einsum("bnd,bne->bde", X, X) / 40)[:, -1].max()
    assert late.sum() >= 5
    assert np.all(np.diff(v[late], axis=0) <= 1e-12)
    prod = (res.path["mu"] * v)[late]
    assert np.allclose(prod[-1], prod[-2], rtol=1e-2)


def tangent_gradient_ratio(W, X, y, shape):
    """||P_T grad L(W)|| / ||grad L(W)|| on the rank-1 manifold at W (0 at a KKT point)."""
    n = X.shape[1]
    g = 2 * np.einsum("bnd,bn->bd", X, np.einsum("bnd,bd->bn", X, W) - y) / n
    B = W.shape[0]
    G, Wm = g.reshape((B,) + shape), W.reshape((B,) + shape)
    u, _, vt = np.linalg.svd(Wm)
    PU = u[:, :, :1] @ u[:, :, :1].transpose(0, 2, 1)
    PV = vt[:, :1, :].transpose(0, 2, 1) @ vt[:, :1, :]
    T = PU @ G + G @ PV - PU @ G @ PV
    return np.linalg.norm(T.reshape(B, -1), axis=1) / np.linalg.norm(g, axis=1)


def test_al_and_qp_both_converge():
    rng = np.random.default_rng(10)
    X, y = random_problems(rng, 30, 40, 6)
    mus = lc.mu_schedule(1e-2, 1.1, 190)  # up to mu ~ 1e6
    comp = LowRank(1, shape=(2, 3))
    al = lc.lc_least_squares(X, y, comp, mus, augmented=True, tol=1e-10, inner=10)
    qp = lc.lc_least_squares(X, y, comp, mus, augmented=False, inner=10)
    assert np.all(al.converged)
    assert np.all(al.n_iter < mus.size)  # AL reaches the tolerance before the end
    # QP: violation <= ||grad L(w)|| / mu at the last (exact) L step, so -> 0 like 1/mu
    gnorm = np.linalg.norm(2 * np.einsum("bnd,bn->bd", X, np.einsum(
        "bnd,bd->bn", X, qp.w_unconstrained) - y) / 40, axis=1)
    assert np.all(qp.path["violation"][-1] <= gnorm / mus[-1] * (1 + 1e-6) + 1e-12)
    # both end at (near-)KKT points of the smooth rank constraint (Theorem 5.1): the loss
    # gradient is (nearly) normal to the rank-1 manifold; the QP only approximately, as
    # its iterates move by O(1/mu) per L/C pass at large mu
    assert np.all(tangent_gradient_ratio(al.w, X, y, (2, 3)) < 1e-3)
    assert np.all(tangent_gradient_ratio(qp.w, X, y, (2, 3)) < 1e-1)
    assert np.median(tangent_gradient_ratio(qp.w, X, y, (2, 3))) < 1e-2
    for res in (al, qp):
        assert np.allclose(comp.project_batch(res.w), res.w)


def test_batch_matches_single():
    rng = np.random.default_rng(11)
    X, y = random_problems(rng, 4, 20, 5)
    mus = lc.mu_schedule(1e-3, 1.4, 40)
    for comp in (Binarization(), Pruning(2), LowRank(1, shape=(1, 5))):
        for aug in (True, False):
            batch = lc.lc_least_squares(X, y, comp, mus, augmented=aug)
            for b in range(4):
                one = lc.lc_least_squares(X[b], y[b], comp, mus, augmented=aug)
                assert np.allclose(batch.w[b], one.w, atol=1e-9)
                assert np.allclose(batch.path["violation"][:, b], one.path["violation"],
                                   rtol=1e-6, atol=1e-12)


def test_least_squares_optimum_brute_force():
    rng = np.random.default_rng(12)
    X, y = random_problems(rng, 3, 12, 4)
    for b in range(3):
        w, loss = lc.least_squares_optimum(X[b], y[b], Binarization())
        # the best scale for a sign pattern is the 1-D least-squares fit along s
        brute = math.inf
        for s in itertools.product([-1.0, 1.0], repeat=4):
            v = X[b] @ np.array(s)
            a = v @ y[b] / (v @ v)
            brute = min(brute, lc.least_squares_loss(a * np.array(s), X[b], y[b]))
        assert loss == pytest.approx(brute, rel=1e-10)
        assert np.allclose(Binarization().project(w), w)
        w, loss = lc.least_squares_optimum(X[b], y[b], Pruning(2))
        brute = math.inf
        for S in itertools.combinations(range(4), 2):
            ws = np.zeros(4)
            ws[list(S)] = np.linalg.lstsq(X[b][:, list(S)], y[b], rcond=None)[0]
            brute = min(brute, lc.least_squares_loss(ws, X[b], y[b]))
        assert loss == pytest.approx(brute, rel=1e-10)
        cb = FixedCodebook([-1.0, 1.0, 2.0])
        w, loss = lc.least_squares_optimum(X[b], y[b], cb)
        brute = min(lc.least_squares_loss(np.array(c), X[b], y[b])
                    for c in itertools.product([-1.0, 1.0, 2.0], repeat=4))
        assert loss == pytest.approx(brute, rel=1e-10)
    # batched call agrees with single calls, and nothing beats the optimum
    wb, lb = lc.least_squares_optimum(X, y, Pruning(2))
    res = lc.lc_least_squares(X, y, Pruning(2), lc.mu_schedule(1e-3, 1.3, 60))
    assert np.all(lb <= res.loss + 1e-12) and np.all(lb <= res.loss_dc + 1e-12)


def test_dc_is_optimal_for_isotropic_loss_and_idc_exact_is_dc():
    rng = np.random.default_rng(13)
    d = 6
    Q, _ = np.linalg.qr(rng.normal(size=(20, d)))
    X = Q * math.sqrt(20)  # X^T X / n = I
    y = rng.normal(size=20)
    for comp in (Binarization(), Pruning(2)):
        res = lc.lc_least_squares(X, y, comp, lc.mu_schedule(1e-3, 1.3, 40))
        _, l_opt = lc.least_squares_optimum(X, y, comp)
        assert res.loss_dc == pytest.approx(l_opt, rel=1e-10)
        idc = lc.idc_least_squares(X, y, comp, 5)
        assert np.allclose(idc.w, idc.w_dc)
    Xb, yb = random_problems(rng, 10, 20, 5)
    idc = lc.idc_least_squares(Xb, yb, Pruning(2), 4)
    assert np.allclose(idc.w, idc.w_dc)
    part = lc.idc_least_squares(Xb, yb, Pruning(2), 4, retrain_steps=3)
    assert np.all(np.count_nonzero(part.w, axis=1) <= 2)


def test_dc_is_beginning_of_path():
    # mu -> 0+: the first L step stays within mu ||(2H)^-1|| ||w_ref - Delta_DC|| of w_ref
    rng = np.random.default_rng(14)
    X, y = random_problems(rng, 1, 30, 5)
    X, y = X[0], y[0]
    H2 = 2 * X.T @ X / 30
    for mu0 in (1e-6, 1e-4):
        res = lc.lc_least_squares(X, y, Pruning(2), [mu0], augmented=False)
        dist = np.linalg.norm(res.w_unconstrained - res.w_ref)
        bound = mu0 / np.linalg.eigvalsh(H2)[0] * np.linalg.norm(res.w_ref - res.w_dc)
        assert dist <= bound * (1 + 1e-9)
        assert np.array_equal(res.w != 0, res.w_dc != 0)


def test_lc_algorithm_groups_dict_list_and_joint_keys():
    c = {"a": np.array([[3.0, -0.1], [0.2, 0.5]]), "b": np.array([0.45, -0.4, 0.3]),
         "bias": np.array([1.0])}

    def l_step(w, target, mu):  # loss sum ||w_g - c_g||^2: closed-form L step
        out = {}
        for k in w:
            t = target[k]
            out[k] = c[k].copy() if t is None else (2 * c[k] + mu * t) / (2 + mu)
        return out

    mus = lc.mu_schedule(1e-2, 1.5, 60)
    task = CompressionTask({"a": LowRank(1), "b": Binarization()})
    res = lc.lc_algorithm(l_step, task, c, mus, inner=10)
    assert set(res.w) == {"a", "b", "bias"}
    assert np.allclose(res.w["bias"], c["bias"])  # free group
    # separable isotropic loss: the optimum is the projection of each group
    assert np.allclose(res.w["a"], LowRank(1).project(c["a"]), atol=1e-3)
    assert np.allclose(res.w["b"], Binarization().project(c["b"]), atol=1e-3)
    assert set(res.theta) == {"a", "b"}
    # joint key: one l0 budget over two groups
    res = lc.lc_algorithm(l_step, {("a", "b"): Pruning(2)}, c, mus, augmented=False)
    assert np.count_nonzero(res.w["a"]) + np.count_nonzero(res.w["b"]) == 2
    assert np.allclose(res.w["a"], [[3.0, 0.0], [0.0, 0.5]], atol=1e-3)
    # list container
    lst = [c["a"], c["b"]]

    def l_step_list(w, target, mu):
        return [ci.copy() if t is None else (2 * ci + mu * t) / (2 + mu)
                for ci, t in zip(lst, target, strict=True)]

    res = lc.lc_algorithm(l_step_list, [None, Pruning(1)], lst, mus, augmented=False)
    assert isinstance(res.w, list) and np.array_equal(res.w[0], lst[0])
    assert np.count_nonzero(res.w[1]) == 1


def test_iterated_direct_compression_generic():
    c = np.array([1.0, -2.0, 0.3])
    res = lc.iterated_direct_compression(lambda w0: c.copy(), Pruning(1), c, 3)
    assert np.allclose(res.w, [0.0, -2.0, 0.0])
    assert res.path["violation"].shape == (3,)


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------
def test_value_errors():
    X, y = np.eye(3), np.ones(3)
    good = lc.mu_schedule(0.1, 2, 3)
    with pytest.raises(ValueError, match="mus"):
        lc.lc_least_squares(X, y, Pruning(1), [-1.0, 1.0])
    with pytest.raises(ValueError, match="non-decreasing"):
        lc.lc_least_squares(X, y, Pruning(1), [2.0, 1.0])
    with pytest.raises(ValueError, match="mus"):
        lc.lc_least_squares(X, y, Pruning(1), [])
    with pytest.raises(ValueError, match="mus"):
        lc.lc_least_squares(X, y, Pruning(1), [0.1, np.nan])
    with pytest.raises(ValueError, match="mus"):
        lc.lc_least_squares(X, y, Pruning(1), [0.0, 1.0])
    with pytest.raises(ValueError, match="X"):
        lc.lc_least_squares(np.array([[np.nan, 0, 0]] * 3), y, Pruning(1), good)
    with pytest.raises(ValueError, match="y"):
        lc.lc_least_squares(X, np.ones(4), Pruning(1), good)
    with pytest.raises(ValueError, match="w_ref"):
        lc.lc_least_squares(X, y, Pruning(1), good, w_ref=np.ones(2))
    with pytest.raises(ValueError, match="kappa"):
        lc.lc_least_squares(X, y, Pruning(4), good)
    with pytest.raises(ValueError, match="kappa"):
        Pruning(-1)
    with pytest.raises(ValueError, match="rank"):
        LowRank(0)
    with pytest.raises(ValueError, match="rank"):
        LowRank(3).compress(np.ones((2, 4)))
    with pytest.raises(ValueError, match="rank"):
        LowRank(3, shape=(2, 4))
    with pytest.raises(ValueError, match="shape"):
        LowRank(1, shape=(2, 2)).compress(np.ones(5))
    with pytest.raises(ValueError, match="2-D"):
        LowRank(1).compress(np.ones(5))
    with pytest.raises(ValueError, match="n_clusters"):
        AdaptiveQuantization(5).compress(np.ones(3))
    with pytest.raises(ValueError, match="n_clusters"):
        AdaptiveQuantization(0)
    with pytest.raises(ValueError, match="distinct"):
        FixedCodebook([1.0, 1.0])
    with pytest.raises(ValueError, match="w"):
        Binarization().compress(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="tol"):
        lc.lc_least_squares(X, y, Pruning(1), good, tol=-1.0)
    with pytest.raises(ValueError, match="inner"):
        lc.lc_least_squares(X, y, Pruning(1), good, inner=0)
    with pytest.raises(ValueError, match="compression"):
        lc.lc_least_squares(X, y, "prune", good)
    with pytest.raises(ValueError, match="mu0"):
        lc.mu_schedule(-1.0, 1.1, 3)
    with pytest.raises(ValueError, match="a must"):
        lc.mu_schedule(1.0, 0.9, 3)
    with pytest.raises(ValueError, match="least_squares_optimum"):
        lc.least_squares_optimum(X, y, LowRank(1, shape=(1, 3)))
    with pytest.raises(ValueError, match="enumeration"):
        lc.least_squares_optimum(np.ones((3, 25)), y, Binarization())

    def bad_step(w, target, mu):
        return np.ones(2)

    with pytest.raises(ValueError, match="shape"):
        lc.lc_algorithm(bad_step, Pruning(1), np.ones(3), good)

    def nan_step(w, target, mu):
        return np.full(3, np.nan)

    with pytest.raises(ValueError, match="finite"):
        lc.lc_algorithm(nan_step, Pruning(1), np.ones(3), good)
    with pytest.raises(ValueError, match="not in w_ref"):
        lc.lc_algorithm(bad_step, {"z": Pruning(1)}, {"a": np.ones(3)}, good)
    with pytest.raises(ValueError, match="more than one"):
        CompressionTask({"a": Pruning(1), ("a", "b"): Pruning(1)})
    with pytest.raises(ValueError, match="l_step"):
        lc.lc_algorithm("step", Pruning(1), np.ones(3), good)
    with pytest.raises(ValueError, match="compression"):
        lc.lc_algorithm(bad_step, {"a": Pruning(1)}, np.ones(3), good)


# --------------------------------------------------------------------------------------
# torch L step
# --------------------------------------------------------------------------------------
def test_clipped_lr_theorem_5_3_shape():
    sched = lambda t: 1.0 / (1 + t)  # noqa: E731
    t = np.arange(100)
    clipped = lc.clipped_lr(sched, 10.0, t)
    assert np.allclose(clipped, np.minimum(1.0 / (1 + t), 0.1))
    # the clipped schedule equals the original once 1/(1+t) <= 1/mu, i.e. from t = 9 on
    assert np.all(clipped[9:] == 1.0 / (1 + t[9:]))
    with pytest.raises(ValueError, match="mu"):
        lc.clipped_lr(sched, -1.0, 3)
    with pytest.raises(ValueError, match="lr_schedule"):
        lc.clipped_lr(-0.1, 1.0, 3)


def test_torch_l_step_linear_model_and_clip():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(15)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    w_true = np.array([1.0, -2.0, 0.5])
    y = (X @ w_true)[:, None].astype(np.float32)
    net = torch.nn.Linear(3, 1, bias=False)
    mu = 50.0
    step = lc.torch_l_step(net, torch.nn.functional.mse_loss, (X, y), epochs=60,
                           batch_size=64, lr_schedule=0.05, rng=1)
    target = {"weight": np.zeros((1, 3))}
    w = step({"weight": np.zeros((1, 3))}, target, mu)
    # full-batch GD on mse + mu/2||w||^2 converges to (2 X^T X/n + mu)^-1 2 X^T y / n
    H2 = 2 * X.T.astype(float) @ X / 64
    exact = np.linalg.solve(H2 + mu * np.eye(3), 2 * X.T.astype(float) @ y[:, 0] / 64)
    assert np.allclose(w["weight"][0], exact, atol=1e-4)
    assert step.last_lrs.max() <= 1 / mu + 1e-15
    # unclipped with lr > 2/mu diverges (Theorem 5.2)
    bad = lc.torch_l_step(net, torch.nn.functional.mse_loss, (X, y), epochs=200,
                          batch_size=64, lr_schedule=0.05, clip=False, rng=1)
    with pytest.raises(ValueError, match="diverged"):
        bad({"weight": np.zeros((1, 3))}, target, mu)


def test_lc_with_torch_step_and_retrain_keep_structure():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(16)
    X = rng.normal(size=(64, 4)).astype(np.float32)
    y = (X @ np.array([1.0, -0.5, 0.2, 0.1]))[:, None].astype(np.float32)
    net = torch.nn.Linear(4, 1)
    w_ref = lc.model_weights(net)
    step = lc.torch_l_step(net, torch.nn.functional.mse_loss, (X, y), epochs=5,
                           batch_size=16, lr_schedule=0.05, rng=2)
    task = {"weight": Pruning(2)}
    res = lc.lc_algorithm(step, task, w_ref, lc.mu_schedule(1e-2, 1.5, 25))
    assert np.count_nonzero(res.w["weight"]) <= 2
    assert res.theta["weight"].indices.tolist() == [0, 1]
    th, w = lc.torch_retrain(net, torch.nn.functional.mse_loss, (X, y), task,
                             res.theta_dc, epochs=5, batch_size=16, lr_schedule=0.05, rng=3)
    kept = res.theta_dc["weight"].indices
    assert np.array_equal(np.flatnonzero(w["weight"].ravel()), kept)
    assert np.allclose(w["weight"].ravel()[kept], th["weight"].values)
    # quantization: codebook retrained, assignments fixed
    task = {"weight": AdaptiveQuantization(2)}
    theta = {"weight": AdaptiveQuantization(2).compress(w_ref["weight"])}
    th, w = lc.torch_retrain(net, torch.nn.functional.mse_loss, (X, y),
                             task, theta, epochs=3, batch_size=16, lr_schedule=0.05, rng=4)
    assert len(np.unique(w["weight"])) <= 2
    assert np.array_equal(th["weight"].assignments, theta["weight"].assignments)


def test_torch_value_errors():
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(2, 1)
    data = (np.zeros((4, 2), np.float32), np.zeros((4, 1), np.float32))
    kw = dict(epochs=1, batch_size=2, lr_schedule=0.1)
    with pytest.raises(ValueError, match="epochs"):
        lc.torch_l_step(net, None, data, **{**kw, "epochs": 0})
    with pytest.raises(ValueError, match="momentum"):
        lc.torch_l_step(net, None, data, momentum=1.0, **kw)
    with pytest.raises(ValueError, match="lr_schedule"):
        lc.torch_l_step(net, None, data, **{**kw, "lr_schedule": -1.0})
    with pytest.raises(ValueError, match="same"):
        lc.torch_l_step(net, None, (data[0], data[1][:3]), **kw)
    with pytest.raises(ValueError, match="model"):
        lc.torch_l_step("net", None, data, **kw)
    task = {"weight": Pruning(1)}
    theta = {"weight": Pruning(1).compress(np.ones((1, 2)))}
    with pytest.raises(ValueError, match="optimizer"):
        lc.torch_retrain(net, None, data, task, theta, optimizer="rmsprop", **kw)
    with pytest.raises(ValueError, match="theta"):
        lc.torch_retrain(net, None, data, task, {}, **kw)
    with pytest.raises(ValueError, match="shape"):
        lc.set_model_weights(net, {"weight": np.ones(3)})


def test_compare_methods_cached_hits_and_matches_by_network(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from infocompress.nets import make_mlp

    monkeypatch.setenv("INFOCOMPRESS_CACHE", str(tmp_path))
    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 70)
    ens = SimpleNamespace(models=[make_mlp((8,), rng=s) for s in range(3)],
                          x_pool=x[:50], y_pool=y[:50], x_test=x[50:], y_test=y[50:],
                          subsets=np.arange(60).reshape(3, 20) % 50, key={"demo": 1})
    tasks = {"q2": {"1.weight": lc.AdaptiveQuantization(2)}}
    kw = dict(mus=[1e-2, 1e-1], batch_size=10, n_jobs=1)
    a = lc.compare_methods_cached(ens, [0, 2], tasks, rng=5, **kw)
    assert len(list(tmp_path.glob("lc-compare-*.pt"))) == 2
    b = lc.compare_methods_cached(ens, [2], tasks, rng=5, **kw)   # network 2 alone: same
    np.testing.assert_array_equal(a["loss"]["train"][:, 1], b["loss"]["train"][:, 0])
    assert len(list(tmp_path.glob("lc-compare-*.pt"))) == 2
    e = lc.pooled_change(a, "LC", "DC", "train")
    d = a["loss"]["train"][2] - a["loss"]["train"][0]
    assert e["mean"] == pytest.approx(d.mean())
    for bad in ([], [0, 0], [3]):
        with pytest.raises(ValueError, match="networks"):
            lc.compare_methods_cached(ens, bad, tasks, rng=5, **kw)
    with pytest.raises(ValueError, match="b must be one of"):
        lc.pooled_change(a, "LC", "nope", "train")


def test_random_least_squares_draws_inputs_then_weights_then_noise():
    from infocompress.lc import random_least_squares

    X, y = random_least_squares(4, 30, 3, 0.5, noise=0.0, rng=np.random.default_rng(2))
    gen = np.random.default_rng(2)
    gen.standard_normal((4, 30, 3))
    w = gen.standard_normal((4, 3))
    np.testing.assert_allclose(y, np.einsum("bnd,bd->bn", X, w))
    # the features are equicorrelated with correlation rho
    Xb, _ = random_least_squares(1, 200_000, 3, 0.5, rng=0)
    np.testing.assert_allclose(np.corrcoef(Xb[0].T)[0, 1:], 0.5, atol=0.01)


@pytest.mark.parametrize("kwargs", [dict(rho=1.0), dict(rho=-0.2), dict(rho=[0.1, 0.2]),
                                    dict(noise=-1.0), dict(n_problems=0)])
def test_random_least_squares_rejects_bad_input(kwargs):
    from infocompress.lc import random_least_squares

    args = dict(n_problems=2, n=10, d=3, rho=0.5) | kwargs
    with pytest.raises(ValueError, match="rho|noise|n_problems"):
        random_least_squares(**args)
