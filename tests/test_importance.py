"""Tests of importance-weighted pruning and quantization (Gao et al. 2019, Tables 1-2)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from infocompress import ensembles, nets, sweeps
from infocompress.importance import (
    Importance,
    compare_objectives,
    compression_objective,
    ensemble_comparison,
    fisher_inner_products,
    importance_diagonal,
    mean_gradient,
    orthogonality,
    prune,
    pruning_masks,
    quantize,
)


def _tiny(act=nn.ReLU, seed=0):
    gen = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(3, 4), act(), nn.Linear(4, 3)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))
    x = torch.randn(12, 3, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 3, (12,), generator=gen)
    return net, x, y


def _per_sample_grads(net, fn):
    """fn() -> scalar; returns dict name -> flat gradient (reference by plain autograd)."""
    params = dict(net.named_parameters())
    gs = torch.autograd.grad(fn(), list(params.values()))
    return {k: g.reshape(-1) for k, g in zip(params, gs, strict=True)}


def _reference_fisher(net, x):
    """Slide formula E_X[sum_c (dp_c/dw_i)^2 / p_c] with explicit loops over samples."""
    acc = {k: torch.zeros(p.numel(), dtype=torch.float64) for k, p in net.named_parameters()}
    for s in range(x.shape[0]):
        p = torch.softmax(net(x[s:s + 1]), dim=-1)[0]
        for c in range(p.numel()):
            g = _per_sample_grads(net, lambda s=s, c=c: torch.softmax(net(x[s:s + 1]), -1)[0, c])
            for k in acc:
                acc[k] += g[k] ** 2 / p[c].detach()
    return {k: v / x.shape[0] for k, v in acc.items()}


def _reference_hessian(net, x, y):
    """Exact Hessian diagonal of the mean cross-entropy by torch.autograd.functional."""
    names = [k for k, _ in net.named_parameters()]
    params = dict(net.named_parameters())
    out = {}
    for k in names:
        def loss_of(t, k=k):
            p = {**{n: v.detach() for n, v in params.items()}, k: t}
            return F.cross_entropy(torch.func.functional_call(net, p, (x,)), y)

        H = torch.autograd.functional.hessian(loss_of, params[k].detach())
        n = params[k].numel()
        out[k] = torch.diagonal(H.reshape(n, n))
    return out


def test_fisher_matches_explicit_loops():
    net, x, _ = _tiny()
    imp = importance_diagonal(net, x, kind="fisher")
    ref = _reference_fisher(net, x)
    for k in ref:
        torch.testing.assert_close(imp.h[k].reshape(-1), ref[k], rtol=1e-9, atol=1e-12)


def test_fisher_is_curvature_of_kl():
    """E_X KL(f_w || f_{w + eps e_i}) = eps^2/2 h_i + O(eps^3)."""
    net, x, _ = _tiny(seed=2)
    imp = importance_diagonal(net, x, kind="fisher")
    logp = torch.log_softmax(net(x), -1).detach()
    w = net[2].weight
    eps = 1e-4
    for idx in [(0, 0), (1, 2), (2, 3)]:
        with torch.no_grad():
            w[idx] += eps
            logq = torch.log_softmax(net(x), -1)
            w[idx] -= eps
        kl = (logp.exp() * (logp - logq)).sum(-1).mean()
        h = imp.h["2.weight"][idx]
        assert abs(float(kl) - 0.5 * eps**2 * float(h)) <= 1e-3 * 0.5 * eps**2 * float(h) + 1e-14


def test_gradient_matches_explicit_loops():
    net, x, y = _tiny()
    imp = importance_diagonal(net, x, y, kind="gradient")
    acc = {k: 0.0 for k, _ in net.named_parameters()}
    for s in range(x.shape[0]):
        g = _per_sample_grads(net, lambda s=s: F.cross_entropy(net(x[s:s + 1]), y[s:s + 1]))
        for k in acc:
            acc[k] = acc[k] + g[k] ** 2
    for k in acc:
        torch.testing.assert_close(imp.h[k].reshape(-1), acc[k] / x.shape[0])


def test_hessian_relu_equals_exact_and_fisher():
    """Piecewise-linear net: Gauss-Newton diagonal = exact Hessian diagonal = Fisher."""
    net, x, y = _tiny()
    hes = importance_diagonal(net, x, y, kind="hessian")
    ref = _reference_hessian(net, x, y)
    fis = importance_diagonal(net, x, kind="fisher")
    for k in ref:
        torch.testing.assert_close(hes.h[k].reshape(-1), ref[k], rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(fis.h[k], hes.h[k], rtol=1e-9, atol=1e-12)


def test_hessian_smooth_net_exact_method():
    """tanh net: the exact method matches autograd; Gauss-Newton does not (power check)."""
    net, x, y = _tiny(act=nn.Tanh, seed=1)
    ex = importance_diagonal(net, x, y, kind="hessian", hessian_method="exact")
    gn = importance_diagonal(net, x, y, kind="hessian")
    ref = _reference_hessian(net, x, y)
    gap = 0.0
    for k in ref:
        torch.testing.assert_close(ex.h[k].reshape(-1), ref[k], rtol=1e-8, atol=1e-10)
        gap = max(gap, float((gn.h[k].reshape(-1) - ref[k]).abs().max()))
    assert gap > 1e-3


def test_grad_hessian_gradient_is_mean_gradient():
    net, x, y = _tiny()
    imp = importance_diagonal(net, x, y, kind="grad_hessian")
    g = _per_sample_grads(net, lambda: F.cross_entropy(net(x), y))
    for k in g:
        torch.testing.assert_close(imp.g[k].reshape(-1), g[k])
    hes = importance_diagonal(net, x, y, kind="hessian")
    for k in g:
        torch.testing.assert_close(imp.h[k], hes.h[k])
    mg = mean_gradient(net, x, y, batch_size=5)
    for k in g:
        torch.testing.assert_close(mg[k].reshape(-1), g[k])


def test_batching_does_not_change_result():
    net, x, y = _tiny()
    a = importance_diagonal(net, x, kind="fisher")
    b = importance_diagonal(net, x, kind="fisher", batch_size=5)
    for k in a.h:
        torch.testing.assert_close(a.h[k], b.h[k])


def _layer_net(seed=0):
    gen = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Linear(6, 7), nn.ReLU(), nn.Linear(7, 5))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    return net


@pytest.mark.parametrize("ratio", [0.0, 0.13, 0.5, 0.77, 1.0])
def test_prune_keeps_right_count(ratio):
    net = _layer_net()
    imp = importance_diagonal(net, torch.zeros(1, 6), kind="baseline")
    small = prune(net, ratio, imp)
    for name in nets.quantizable_parameters(net):
        w = dict(small.named_parameters())[name]
        n = w.numel()
        assert int((w == 0).sum()) == int(np.floor(ratio * n + 0.5))
    # biases untouched, original not modified
    torch.testing.assert_close(small[0].bias, net[0].bias)
    assert int((net[0].weight == 0).sum()) == 0


def test_prune_minimises_objective_among_masks():
    """The selected mask beats random masks removing as many weights (separable objective)."""
    rng = np.random.default_rng(0)
    net = _layer_net(1)
    names = nets.quantizable_parameters(net)
    h = {k: torch.as_tensor(rng.exponential(size=p.shape)) for k, p in net.named_parameters()}
    g = {k: torch.as_tensor(rng.normal(size=p.shape)) for k, p in net.named_parameters()}
    for imp in (Importance("fisher", h), Importance("grad_hessian", h, g)):
        best = compression_objective(net, prune(net, 0.4, imp), imp)
        for _ in range(50):
            rand = prune(net, 0.4, {k: torch.as_tensor(rng.random(p.shape))
                                    for k, p in net.named_parameters()})
            assert compression_objective(net, rand, imp) >= best - 1e-9
        masks = pruning_masks(net, 0.4, imp)
        assert set(masks) == set(names)


def test_prune_grad_hessian_uses_linear_term():
    """With the linear term, a weight whose removal decreases the loss goes first."""
    net = nn.Sequential(nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, 0.5]]))
    h = {"0.weight": torch.tensor([[1.0, 1.0]])}
    g = {"0.weight": torch.tensor([[1.0, 0.0]])}  # removing w0 changes L by -1 + 0.5 < 0
    quad = pruning_masks(net, 0.5, Importance("hessian", h))
    lin = pruning_masks(net, 0.5, Importance("grad_hessian", h, g))
    assert quad["0.weight"].tolist() == [[True, False]]
    assert lin["0.weight"].tolist() == [[False, True]]


@pytest.mark.parametrize("K", [1, 2, 5])
@pytest.mark.parametrize("method", ["optimal", "kmeans"])
def test_quantize_at_most_K_values(K, method):
    net = _layer_net()
    imp = importance_diagonal(net, torch.randn(8, 6, generator=torch.Generator().manual_seed(0)),
                              kind="fisher")
    q = quantize(net, K, imp, method=method, rng=0)
    for name in nets.quantizable_parameters(net):
        assert torch.unique(dict(q.named_parameters())[name]).numel() <= K
    torch.testing.assert_close(q[2].bias, net[2].bias)


def test_quantize_weighted_beats_unweighted_on_its_objective():
    rng = np.random.default_rng(3)
    net = _layer_net(2)
    h = {k: torch.as_tensor(rng.exponential(size=p.shape) ** 3)
         for k, p in net.named_parameters()}
    imp = Importance("fisher", h)
    base = importance_diagonal(net, torch.zeros(1, 6), kind="baseline")
    qw = quantize(net, 3, imp)
    qb = quantize(net, 3, base)
    assert compression_objective(net, qw, imp) < compression_objective(net, qb, imp)
    assert compression_objective(net, qb, base) <= compression_objective(net, qw, base)


def test_quantize_grad_hessian_completes_the_square():
    """Objective = 1/2 sum h (w_hat - t)^2 - sum g^2/(2h) with t = w - g/h; the shifted
    k-means beats k-means on w itself for the second-order objective."""
    rng = np.random.default_rng(4)
    net = _layer_net(3)
    h = {k: torch.as_tensor(rng.uniform(0.5, 2.0, size=p.shape))
         for k, p in net.named_parameters()}
    g = {k: torch.as_tensor(rng.normal(scale=0.5, size=p.shape))
         for k, p in net.named_parameters()}
    imp = Importance("grad_hessian", h, g)
    q = quantize(net, 3, imp)
    value = compression_objective(net, q, imp)
    named_q = dict(q.named_parameters())
    ref = 0.0
    for name in nets.quantizable_parameters(net):
        w = dict(net.named_parameters())[name].detach().double().numpy().ravel()
        hh, gg = h[name].numpy().ravel(), g[name].numpy().ravel()
        wh = named_q[name].detach().double().numpy().ravel()
        ref += 0.5 * np.sum(hh * (wh - (w - gg / hh)) ** 2) - np.sum(gg**2 / (2 * hh))
    assert np.isclose(value, ref, rtol=1e-5)
    q_noshift = quantize(net, 3, Importance("hessian", h))
    assert value < compression_objective(net, q_noshift, imp)


def test_value_errors():
    net, x, y = _tiny()
    with pytest.raises(ValueError, match="kind"):
        importance_diagonal(net, x, kind="nope")
    with pytest.raises(ValueError, match="y is required"):
        importance_diagonal(net, x, kind="gradient")
    with pytest.raises(ValueError, match="y must have shape"):
        importance_diagonal(net, x, y[:3], kind="hessian")
    with pytest.raises(ValueError, match="integer"):
        importance_diagonal(net, x, np.full(12, 0.5), kind="hessian")
    # integral floats are labels, as everywhere in the library (infocompress.models)
    a = importance_diagonal(net, x, np.zeros(12), kind="hessian")
    b = importance_diagonal(net, x, np.zeros(12, dtype=int), kind="hessian")
    assert all(torch.equal(a.h[k], b.h[k]) for k in a.h)
    with pytest.raises(ValueError, match="finite"):
        importance_diagonal(net, torch.full((2, 3), float("nan")), kind="fisher")
    with pytest.raises(ValueError, match="hessian_method"):
        importance_diagonal(net, x, y, kind="hessian", hessian_method="bfgs")
    with pytest.raises(ValueError, match="model"):
        importance_diagonal("net", x, kind="fisher")
    with pytest.raises(ValueError, match="batch_size"):
        importance_diagonal(net, x, kind="fisher", batch_size=0)
    imp = importance_diagonal(net, x, kind="baseline")
    for bad in (-0.1, 1.5, float("nan"), "half"):
        with pytest.raises(ValueError, match="ratio"):
            prune(net, bad, imp)
    with pytest.raises(ValueError, match="n_clusters"):
        quantize(net, 0, imp)
    with pytest.raises(ValueError, match="n_clusters"):
        quantize(net, 13, imp)  # the smallest layer has 12 weights
    with pytest.raises(ValueError, match="method"):
        quantize(net, 2, imp, method="lloyd")
    with pytest.raises(ValueError, match="layers"):
        prune(net, 0.5, imp, layers=["5.weight"])
    with pytest.raises(ValueError, match="no entry"):
        prune(net, 0.5, {"0.weight": imp.h["0.weight"]})
    with pytest.raises(ValueError, match="entries"):
        prune(net, 0.5, {**imp.h, "2.weight": torch.ones(3)})
    with pytest.raises(ValueError, match="importance must be"):
        prune(net, 0.5, [1.0])
    with pytest.raises(ValueError, match="y must have shape"):
        mean_gradient(net, x, y[:2])
    with pytest.raises(ValueError, match="compressed does not match"):
        compression_objective(net, nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 3)), imp)


# --------------------------------------------------------------------------------------
# closed form against the per-sample path
# --------------------------------------------------------------------------------------
def _tiny_conv(seed=0):
    net = nets.make_convnet(in_shape=(6, 6), channels=(2, 3), hidden=(5,), kernel_size=3,
                            rng=seed).double()
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(9, 6, 6, generator=gen, dtype=torch.float64)
    y = torch.randint(0, 10, (9,), generator=gen)
    return net, x, y


@pytest.mark.parametrize("make", [_tiny, _tiny_conv])
@pytest.mark.parametrize("kind", ["fisher", "gradient"])
def test_closed_form_matches_per_sample(make, kind):
    net, x, y = make()
    yy = None if kind == "fisher" else y
    fast = importance_diagonal(net, x, yy, kind=kind, algorithm="closed_form")
    auto = importance_diagonal(net, x, yy, kind=kind)
    slow = importance_diagonal(net, x, yy, kind=kind, algorithm="per_sample")
    for k in slow.h:
        torch.testing.assert_close(fast.h[k], slow.h[k], rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(auto.h[k], fast.h[k])


def test_closed_form_needs_linear_and_conv_layers():
    net = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 3)).double()
    x = torch.randn(5, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="closed_form"):
        importance_diagonal(net, x, kind="fisher", algorithm="closed_form")
    imp = importance_diagonal(net, x, kind="fisher")  # auto: falls back to per sample
    ref = importance_diagonal(net, x, kind="fisher", algorithm="per_sample")
    for k in ref.h:
        torch.testing.assert_close(imp.h[k], ref.h[k])
    with pytest.raises(ValueError, match="algorithm"):
        importance_diagonal(net, x, kind="fisher", algorithm="fast")


# --------------------------------------------------------------------------------------
# the orthogonality rule
# --------------------------------------------------------------------------------------
def test_orthogonality_exact_cases_and_formula():
    rng = np.random.default_rng(5)
    net = _layer_net(4)
    h = {k: torch.as_tensor(rng.exponential(size=p.shape)) for k, p in net.named_parameters()}
    imp = Importance("fisher", h)
    base = {k: torch.ones(p.shape) for k, p in net.named_parameters()}
    for small in (prune(net, 0.6, imp), prune(net, 0.3, base)):   # pruning: any mask
        assert orthogonality(net, small, imp)["orthogonality"] == 0.0
    q = quantize(net, 3, imp, method="kmeans", init="quantile", max_iter=3)
    r = orthogonality(net, q, imp)
    assert abs(r["orthogonality"]) <= 1e-6 * r["distortion"]        # weighted means
    qb = quantize(net, 3, base, method="kmeans", init="quantile", max_iter=30)
    rb = orthogonality(net, qb, imp)
    assert abs(rb["orthogonality"]) > 1e-3 * rb["distortion"]        # other metric
    o = e = 0.0
    for name in nets.quantizable_parameters(net):
        w = dict(net.named_parameters())[name].detach().double()
        wh = dict(qb.named_parameters())[name].detach().double()
        o += float((h[name] * wh * (w - wh)).sum())
        e += float((h[name] * (w - wh) ** 2).sum())
    assert np.isclose(rb["orthogonality"], o) and np.isclose(rb["distortion"], e)


def test_fisher_inner_products_match_explicit_matrix():
    net, x, _ = _tiny(seed=3)
    small = quantize(net, 2, importance_diagonal(net, x, kind="baseline"))
    names = nets.quantizable_parameters(net)
    params = dict(net.named_parameters())
    w = torch.cat([params[k].detach().reshape(-1) for k in names])
    wh = torch.cat([dict(small.named_parameters())[k].detach().reshape(-1) for k in names])
    fisher = torch.zeros(w.numel(), w.numel(), dtype=torch.float64)
    for s in range(x.shape[0]):
        logits = net(x[s:s + 1])[0]
        p = torch.softmax(logits, -1).detach()
        rows = []
        for c in range(logits.numel()):
            gs = torch.autograd.grad(logits[c], [params[k] for k in names], retain_graph=True)
            rows.append(torch.cat([g.reshape(-1) for g in gs]))
        J = torch.stack(rows)
        fisher += J.T @ (torch.diag(p) - torch.outer(p, p)) @ J
    fisher /= x.shape[0]
    r = fisher_inner_products(net, small, x, batch_size=5)
    assert np.isclose(r["orthogonality"], float(wh @ fisher @ (w - wh)), rtol=1e-9)
    assert np.isclose(r["distortion"], float((w - wh) @ fisher @ (w - wh)), rtol=1e-9)
    # its diagonal is the Fisher diagonal of importance_diagonal
    fis = importance_diagonal(net, x, kind="fisher")
    diag = torch.cat([fis.h[k].reshape(-1) for k in names])
    torch.testing.assert_close(torch.diagonal(fisher), diag)


def test_fisher_distortion_is_twice_kl_for_small_changes():
    net, x, _ = _tiny(seed=4)
    small = copy_with_noise(net, 1e-4)
    r = fisher_inner_products(net, small, x)
    logp = torch.log_softmax(net(x), -1).detach()
    logq = torch.log_softmax(small(x), -1).detach()
    kl = float((logp.exp() * (logp - logq)).sum(-1).mean())
    assert abs(kl - 0.5 * r["distortion"]) <= 1e-3 * kl


def copy_with_noise(net, scale):
    import copy

    out = copy.deepcopy(net)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name in nets.quantizable_parameters(out):
            p = dict(out.named_parameters())[name]
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return out


# --------------------------------------------------------------------------------------
# comparing objectives on an ensemble
# --------------------------------------------------------------------------------------
def _tiny_ensemble(n_models=3):
    rng = np.random.default_rng(7)
    models = [nets.make_mlp((6,), in_shape=(4,), rng=s) for s in range(n_models)]
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = rng.integers(0, 10, size=40)
    subsets = np.stack([rng.permutation(30)[:20] for _ in range(n_models)])
    return models, {"train": (x[:30], y[:30], subsets), "test": (x[30:], y[30:])}


def test_compare_objectives_matches_direct_computation():
    models, data = _tiny_ensemble()
    kinds = ["baseline", "fisher", "gradient", "grad_hessian"]
    res = compare_objectives(models, data, kinds=kinds, prune_ratios=[0.3, 0.7],
                             n_clusters=[2, 3], fisher_kinds=["fisher"], progress=False)
    x_pool, y_pool, subsets = data["train"]
    x_te, y_te = data["test"]
    for m, model in enumerate(models):
        x, y = x_pool[subsets[m]], y_pool[subsets[m]]
        fis = importance_diagonal(model, x, kind="fisher")
        g = mean_gradient(model, x, y)
        imps = {"baseline": importance_diagonal(model, x, kind="baseline"), "fisher": fis,
                "gradient": importance_diagonal(model, x, y, kind="gradient"),
                "grad_hessian": Importance("grad_hessian", fis.h, g)}
        for kind in kinds:
            for typ, pts in (("prune", [0.3, 0.7]), ("quantize", [2, 3])):
                r = res[kind][typ]
                assert r["n_clusters"].tolist() == pts
                for i, pt in enumerate(pts):
                    small = (prune(model, pt, imps[kind]) if typ == "prune" else
                             quantize(model, pt, imps[kind], method="kmeans",
                                      init="quantile", max_iter=30))
                    ev_te = nets.evaluate(small, x_te, y_te)
                    ev_tr = nets.evaluate(small, x, y)
                    assert np.isclose(r["loss"]["test"][i, m], ev_te["loss"], rtol=1e-5)
                    assert np.isclose(r["loss"]["train"][i, m], ev_tr["loss"], rtol=1e-5)
                    assert np.isclose(r["accuracy"]["test"][i, m], ev_te["accuracy"])
                    assert np.isclose(r["per_sample"]["test"][i, m].mean(),
                                      r["loss"]["test"][i, m])
                    o = orthogonality(model, small, fis)
                    assert np.isclose(r["orthogonality"][i, m], o["orthogonality"],
                                      rtol=1e-6, atol=1e-12)
                    t = compression_objective(model, small, Importance("grad_hessian",
                                                                       fis.h, g))
                    assert np.isclose(r["taylor"][i, m], t, rtol=1e-5, atol=1e-12)
                    if kind == "fisher":
                        f = fisher_inner_products(model, small, x)
                        assert np.isclose(r["fisher_distortion"][i, m], f["distortion"],
                                          rtol=1e-4)
                        assert "kl" in r["per_sample"]
                    else:
                        assert "fisher_distortion" not in r
        assert np.isclose(res["fisher"]["prune"]["original"]["loss"]["test"][m],
                          nets.evaluate(model, x_te, y_te)["loss"], rtol=1e-5)
    # the layout is the one sweeps reads: a paired comparison of two objectives
    c = sweeps.change((res["fisher"]["prune"], 1), (res["baseline"]["prune"], 1), "test")
    assert np.isfinite(c["mean"]) and c["se"] >= 0
    # given diagonals are used as the Fisher diagonal
    hess = [{k: 2 * v for k, v in importance_diagonal(
        mdl, x_pool[subsets[m]], kind="fisher").h.items()} for m, mdl in enumerate(models)]
    res2 = compare_objectives(models, data, kinds=["fisher"], hessians=hess,
                              prune_ratios=[0.3], progress=False)
    np.testing.assert_allclose(res2["fisher"]["prune"]["distortion"],
                               2 * res["fisher"]["prune"]["distortion"][:1], rtol=1e-6)


def test_compare_objectives_value_errors():
    models, data = _tiny_ensemble(2)
    with pytest.raises(ValueError, match="kinds"):
        compare_objectives(models, data, kinds=["magnitude"], prune_ratios=[0.5])
    with pytest.raises(ValueError, match="fisher_kinds"):
        compare_objectives(models, data, kinds=["baseline"], fisher_kinds=["fisher"],
                           prune_ratios=[0.5])
    with pytest.raises(ValueError, match="at least one"):
        compare_objectives(models, data)
    with pytest.raises(ValueError, match="ratio"):
        compare_objectives(models, data, prune_ratios=[1.5])
    with pytest.raises(ValueError, match="n_clusters"):
        compare_objectives(models, data, n_clusters=[0])
    with pytest.raises(ValueError, match="hessians"):
        compare_objectives(models, data, hessians=[{}], prune_ratios=[0.5])
    with pytest.raises(ValueError, match="subsets"):
        compare_objectives(models[:1], data, prune_ratios=[0.5])
    with pytest.raises(ValueError, match="models"):
        compare_objectives([], data, prune_ratios=[0.5])
    bad = [nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3)) for _ in range(2)]
    with pytest.raises(ValueError, match="Linear/Conv2d"):
        compare_objectives(bad, data, prune_ratios=[0.5])


def test_ensemble_comparison_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("INFOCOMPRESS_CACHE", str(tmp_path))
    ens = ensembles.load_ensemble(ensembles.DIGITS_MLP, dataset="digits", n_models=2,
                                  pool_fraction=0.3, subset_size=50, rng=0, n_jobs=1,
                                  progress=False)
    kw = dict(kinds=["baseline", "fisher"], prune_ratios=[0.5], n_clusters=[2], n_jobs=1,
              progress=False)
    a = ensemble_comparison(ens, **kw)
    n_files = len(list(tmp_path.glob("*importance*.pt")))
    b = ensemble_comparison(ens, **kw)
    c = ensemble_comparison(ens, reuse_hessians=False, n_models=1, **kw)
    assert n_files == 1
    np.testing.assert_array_equal(a["fisher"]["prune"]["per_sample"]["test"],
                                  b["fisher"]["prune"]["per_sample"]["test"])
    np.testing.assert_allclose(c["fisher"]["quantize"]["loss"]["test"],
                               a["fisher"]["quantize"]["loss"]["test"][:, :1], rtol=1e-4)
    with pytest.raises(ValueError, match="n_models"):
        ensemble_comparison(ens, n_models=3, **kw)
