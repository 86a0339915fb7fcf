"""Tests of infocompress.nets: architectures, training, evaluation, Hessian diagonal and
whole-network quantization (all on tiny CPU problems)."""

import functools
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from infocompress import nets


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny networks: intra-op threads only add overhead (and stall on a busy machine)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _toy(n=40, seed=0, shape=(8, 8), n_classes=10):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, *shape)).astype(np.float32)
    y = rng.integers(0, n_classes, size=n)
    return x, y


def _params(model):
    return [p.detach().clone() for p in model.parameters()]


# ----------------------------------------------------------------------------------------
# architectures
# ----------------------------------------------------------------------------------------


def test_mlp_shapes_and_size():
    net = nets.make_mlp((16, 8), rng=0)
    assert net(torch.zeros(3, 8, 8)).shape == (3, 10)
    assert net(torch.zeros(3, 64)).shape == (3, 10)
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == 3  # the paper's "three-layer" fully connected net
    n = sum(p.numel() for p in net.parameters())
    assert n == (64 * 16 + 16) + (16 * 8 + 8) + (8 * 10 + 10)
    big = nets.make_mlp((5,), in_shape=(28, 28), n_classes=3, rng=0)
    assert big(torch.zeros(2, 28, 28)).shape == (2, 3)


def test_convnet_shapes():
    net = nets.make_convnet(rng=0)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert (len(convs), len(linears)) == (3, 2)
    assert net(torch.zeros(4, 8, 8)).shape == (4, 10)
    assert net(torch.zeros(4, 1, 8, 8)).shape == (4, 10)
    rgb = nets.make_convnet(in_shape=(3, 32, 32), channels=(4, 4, 8, 8, 8), hidden=(16, 8),
                            rng=0)
    assert rgb(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert len([m for m in rgb.modules() if isinstance(m, nn.Conv2d)]) == 5


def test_init_deterministic_and_global_state_untouched():
    state = torch.random.get_rng_state()
    a = _params(nets.make_mlp(rng=7))
    b = _params(nets.make_mlp(rng=np.random.default_rng(7)))
    c = _params(nets.make_mlp(rng=8))
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a, b, strict=True))
    assert not all(torch.equal(p, q) for p, q in zip(a, c, strict=True))
    # PyTorch's default init: |bias| <= 1/sqrt(fan_in), |weight| <= 1/sqrt(fan_in)
    net = nets.make_mlp((16, 8), rng=1)
    assert float(net[1].bias.detach().abs().max()) <= 1 / math.sqrt(64)
    assert float(net[1].weight.detach().abs().max()) <= 1 / math.sqrt(64)


@pytest.mark.parametrize(
    "kwargs",
    [dict(hidden=(0,)), dict(hidden=(4, -1)), dict(hidden=(2.5,)), dict(n_classes=1),
     dict(in_shape=(0, 8)), dict(in_shape="ab"), dict(rng=-1)],
)
def test_mlp_bad_args(kwargs):
    with pytest.raises(ValueError):
        nets.make_mlp(**kwargs)


def test_layer_sizes_given_as_a_string_name_the_whole_string():
    # a string is not split into characters ("got '1'" named the wrong thing)
    with pytest.raises(ValueError, match="hidden must be a tuple of positive ints, got the "
                                         "string '16'"):
        nets.make_mlp(hidden="16")
    with pytest.raises(ValueError, match="channels .* string"):
        nets.make_convnet(channels="68")


@pytest.mark.parametrize(
    "kwargs",
    [dict(channels=()), dict(channels=(4, 0)), dict(in_shape=(8,)),
     dict(in_shape=(1, 1, 8, 8)), dict(hidden=(-3,)), dict(n_classes=0)],
)
def test_convnet_bad_args(kwargs):
    with pytest.raises(ValueError):
        nets.make_convnet(**kwargs)


# ----------------------------------------------------------------------------------------
# training and evaluation
# ----------------------------------------------------------------------------------------


def test_train_reduces_loss_and_is_deterministic():
    x, y = _toy()
    net = nets.make_mlp((16,), rng=1)
    before = nets.evaluate(net, x, y)["loss"]
    hist = nets.train(net, x, y, epochs=40, batch_size=8, lr=1e-2, rng=2)
    after = nets.evaluate(net, x, y)["loss"]
    assert hist["loss"].shape == (40,)
    assert after < 0.2 * before
    net2 = nets.make_mlp((16,), rng=1)
    nets.train(net2, x, y, epochs=40, batch_size=8, lr=1e-2, rng=2)
    assert all(torch.equal(p, q) for p, q in zip(_params(net), _params(net2), strict=True))
    net3 = nets.make_mlp((16,), rng=1)
    nets.train(net3, x, y, epochs=40, batch_size=8, lr=1e-2, rng=3)
    assert not all(torch.equal(p, q) for p, q in
                   zip(_params(net), _params(net3), strict=True))


def _reference_fit(model, x, y, order_rows, *, lr, weight_decay, batch_size,
                   optimizer="adam", momentum=0.0, dropout_seed=None):
    """torch.optim on the given per-epoch sample orders (reference implementation)."""
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum,
                              weight_decay=weight_decay)
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)
    model.train()
    with torch.random.fork_rng():
        if dropout_seed is not None:
            torch.manual_seed(dropout_seed)
        for order in order_rows:
            for s in range(0, len(order), batch_size):
                rows = order[s:s + batch_size]
                opt.zero_grad()
                F.cross_entropy(model(xt[rows]), yt[rows]).backward()
                opt.step()
    return model


def _orders(seed, n, epochs):
    """The per-epoch sample orders that train() draws from its seed."""
    gen = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=gen) for _ in range(epochs)]


@pytest.mark.parametrize("optimizer, momentum", [("adam", 0.0), ("sgd", 0.9), ("sgd", 0.0)])
def test_train_matches_torch_optim(optimizer, momentum):
    """train() is torch.optim (Adam or SGD) on its own batch order, dropout included."""
    x, y = _toy(n=21)
    epochs, bs, lr, wd = 3, 5, 3e-3, 1e-2
    net = nets.make_mlp((8,), dropout=0.3, rng=4)
    ref = nets.make_mlp((8,), dropout=0.3, rng=4)
    nets.train(net, x, y, epochs=epochs, batch_size=bs, lr=lr, weight_decay=wd,
               optimizer=optimizer, momentum=momentum, rng=9)
    seed = int(np.random.default_rng(9).integers(2**62))  # train() draws its seed so
    _reference_fit(ref, x, y, _orders(seed, len(y), epochs), lr=lr, weight_decay=wd,
                   batch_size=bs, optimizer=optimizer, momentum=momentum,
                   dropout_seed=seed + 1)
    for p, q in zip(_params(net), _params(ref), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_dropout_is_active_in_training_only():
    x, y = _toy(n=16)
    net = nets.make_mlp((32,), dropout=0.5, rng=0)
    nets.train(net, x, y, epochs=1, batch_size=16, lr=1e-3, rng=0)
    assert net.training  # train() restores the mode the model had
    net.eval()
    xt = torch.as_tensor(x)
    with torch.no_grad():
        assert torch.equal(net(xt), net(xt))
    # without dropout, the same seed gives a different trajectory
    a = nets.make_mlp((32,), dropout=0.5, rng=0)
    b = nets.make_mlp((32,), dropout=0.0, rng=0)
    for m in (a, b):
        nets.train(m, x, y, epochs=2, batch_size=4, lr=1e-2, rng=1)
    assert not torch.equal(a[1].weight, b[1].weight)


def test_train_ensemble_equals_independent_training():
    """Each model follows exactly its own trajectory on its own subset."""
    x, y = _toy(n=30)
    epochs, bs, lr = 2, 4, 5e-3
    models, subsets = nets.train_ensemble(nets.make_mlp, 3, x, y, subset_size=10,
                                          epochs=epochs, batch_size=bs, lr=lr, rng=11,
                                          progress=False)
    assert subsets.shape == (3, 10) and subsets.dtype == np.int64
    assert all(len(set(row)) == 10 for row in subsets.tolist())
    assert len({tuple(sorted(r)) for r in subsets.tolist()}) == 3
    # replay the random streams of train_ensemble
    g = np.random.default_rng(11)
    seeds = [int(g.integers(2**63 - 1)) for _ in range(3)]
    subs = np.stack([g.choice(30, size=10, replace=False) for _ in range(3)])
    np.testing.assert_array_equal(subs, subsets)
    train_seeds = g.integers(2**62, size=3)
    for m in range(3):
        ref = nets.make_mlp(rng=seeds[m])
        orders = [torch.as_tensor(subs[m])[o] for o in _orders(int(train_seeds[m]), 10, epochs)]
        _reference_fit(ref, x, y, orders, lr=lr, weight_decay=0.0, batch_size=bs)
        for p, q in zip(_params(models[m]), _params(ref), strict=True):
            torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_train_ensemble_same_models_in_workers_and_in_process():
    """n_jobs=1 (this process) and n_jobs=2 (two worker processes) give identical bits."""
    x, y = _toy(n=40, shape=(28, 28))
    mk = functools.partial(nets.make_mlp, (32, 16), in_shape=(28, 28), dropout=0.2,
                           init="xavier_normal")
    kw = dict(subset_size=20, epochs=2, batch_size=5, lr=0.01, optimizer="sgd",
              momentum=0.9, weight_decay=1e-4, rng=5, progress=False, return_info=True)
    a, sa, ia = nets.train_ensemble(mk, 3, x, y, n_jobs=1, **kw)
    b, sb, ib = nets.train_ensemble(mk, 3, x, y, n_jobs=2, **kw)
    np.testing.assert_array_equal(sa, sb)
    np.testing.assert_array_equal(ia["loss"], ib["loss"])
    assert ia["loss"].shape == (3, 2) and ia["seconds"].shape == (3,)
    for ma, mb in zip(a, b, strict=True):
        assert all(torch.equal(p, q) for p, q in zip(_params(ma), _params(mb), strict=True))


def test_train_ensemble_fraction_and_determinism():
    x, y = _toy(n=20)
    kw = dict(subset_fraction=0.5, epochs=2, batch_size=5, lr=1e-2, progress=False)
    a, sa = nets.train_ensemble(nets.make_mlp, 2, x, y, rng=1, **kw)
    b, sb = nets.train_ensemble(nets.make_mlp, 2, x, y, rng=1, **kw)
    assert sa.shape == (2, 10)
    np.testing.assert_array_equal(sa, sb)
    for ma, mb in zip(a, b, strict=True):
        assert all(torch.equal(p, q) for p, q in zip(_params(ma), _params(mb), strict=True))


def test_convnet_trains():
    x, y = _toy(n=24, seed=3)
    net = nets.make_convnet(channels=(4, 8), hidden=(16,), rng=0)
    before = nets.evaluate(net, x, y)["loss"]
    nets.train(net, x, y, epochs=30, batch_size=8, lr=1e-2, rng=0)
    assert nets.evaluate(net, x, y)["loss"] < 0.5 * before


def test_evaluate_against_closed_forms():
    net = nets.make_mlp((8,), rng=0)
    with torch.no_grad():
        net[-1].weight.zero_()
        net[-1].bias.copy_(torch.log(torch.arange(1.0, 11.0)))  # p_c proportional to c+1
    y = np.array([0, 9, 4, 4])
    r = nets.evaluate(net, np.zeros((4, 8, 8)), y)
    expected = np.mean(np.log(55.0) - np.log(y + 1.0))
    assert r["loss"] == pytest.approx(expected, rel=1e-6)
    assert r["accuracy"] == pytest.approx(0.25)  # argmax is class 9
    x, yy = _toy(n=10)
    with torch.no_grad():
        logits = net(torch.as_tensor(x))
    assert nets.evaluate(net, x, yy, batch_size=3)["loss"] == pytest.approx(
        float(F.cross_entropy(logits, torch.as_tensor(yy))), rel=1e-5)
    ens = nets.evaluate_ensemble([net, net], x, yy, subsets=[[0, 1, 2], [3, 4, 5]])
    for m, rows in enumerate([[0, 1, 2], [3, 4, 5]]):
        assert ens["loss"][m] == pytest.approx(nets.evaluate(net, x[rows], yy[rows])["loss"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(epochs=0), "epochs"), (dict(batch_size=0), "batch_size"),
        (dict(lr=0.0), "lr"), (dict(lr=float("nan")), "lr"),
        (dict(weight_decay=-1.0), "weight_decay"), (dict(device="nodevice"), "device"),
    ],
)
def test_train_bad_settings(kwargs, match):
    x, y = _toy(n=8)
    args = dict(epochs=1, batch_size=4, lr=1e-2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        nets.train(nets.make_mlp((4,), rng=0), x, y, **args)


@pytest.mark.parametrize("which", ["nan", "len", "label_big", "label_neg", "float_labels",
                                   "not_model", "scalar_x"])
def test_bad_data(which):
    x, y = _toy(n=8)
    model = nets.make_mlp((4,), rng=0)
    if which == "nan":
        x[2, 3, 4] = np.nan
    elif which == "len":
        y = y[:-1]
    elif which == "label_big":
        y[0] = 10
    elif which == "label_neg":
        y[0] = -1
    elif which == "float_labels":
        y = y + 0.5
    elif which == "not_model":
        model = "mlp"
    elif which == "scalar_x":
        x = np.float32(1.0)
    for fn in (lambda: nets.train(model, x, y, epochs=1, batch_size=4, lr=1e-2),
               lambda: nets.evaluate(model, x, y),
               lambda: nets.hessian_diagonal(model, x, y)):
        with pytest.raises(ValueError):
            fn()


@pytest.mark.parametrize(
    "kwargs, match",
    [(dict(), "exactly one"), (dict(subset_fraction=0.5, subset_size=3), "exactly one"),
     (dict(subset_fraction=0.0), "subset_fraction"), (dict(subset_fraction=1.5), "subset"),
     (dict(subset_size=0), "subset_size"), (dict(subset_size=9), "subset_size")],
)
def test_train_ensemble_bad_subsets(kwargs, match):
    x, y = _toy(n=8)
    with pytest.raises(ValueError, match=match):
        nets.train_ensemble(nets.make_mlp, 2, x, y, epochs=1, batch_size=4, lr=1e-2,
                            progress=False, **kwargs)


def test_train_ensemble_bad_models():
    x, y = _toy(n=8)
    sizes = iter([(4,), (5,)])
    with pytest.raises(ValueError, match="one architecture"):
        nets.train_ensemble(lambda rng: nets.make_mlp(next(sizes), rng=rng), 2, x, y,
                            subset_size=4, epochs=1, batch_size=4, lr=1e-2, progress=False)
    with pytest.raises(ValueError, match="n_models"):
        nets.train_ensemble(nets.make_mlp, 0, x, y, subset_size=4, epochs=1, batch_size=4,
                            lr=1e-2)
    with pytest.raises(ValueError, match="callable"):
        nets.train_ensemble("mlp", 2, x, y, subset_size=4, epochs=1, batch_size=4, lr=1e-2)


# ----------------------------------------------------------------------------------------
# Hessian diagonal
# ----------------------------------------------------------------------------------------


def _loss_of(model, x, y):
    names = [k for k, _ in model.named_parameters()]
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)

    def f(*ps):
        out = torch.func.functional_call(model, dict(zip(names, ps, strict=True)), (xt,))
        return F.cross_entropy(out, yt)

    return f, tuple(p.detach() for p in model.parameters()), names


def _autograd_hessian_diag(model, x, y):
    f, ps, names = _loss_of(model, x, y)
    H = torch.autograd.functional.hessian(f, ps)
    return {k: torch.diagonal(H[i][i].reshape(p.numel(), p.numel())).reshape(p.shape)
            for i, (k, p) in enumerate(zip(names, ps, strict=True))}


def _explicit_gauss_newton_diag(model, x, y):
    """(1/n) sum_i diag(J_i^T (diag p_i - p_i p_i^T) J_i) with explicit Jacobians."""
    names = [k for k, _ in model.named_parameters()]
    ps = tuple(p.detach() for p in model.parameters())
    out = {k: torch.zeros_like(p) for k, p in zip(names, ps, strict=True)}
    for xi in torch.as_tensor(x):
        def g(*qs, xi=xi):
            return torch.func.functional_call(model, dict(zip(names, qs, strict=True)),
                                              (xi[None],))[0]
        J = torch.autograd.functional.jacobian(g, ps)
        p = torch.softmax(g(*ps), 0)
        Hout = torch.diag(p) - torch.outer(p, p)
        for k, Jk in zip(names, J, strict=True):
            Jm = Jk.reshape(len(p), -1)
            out[k] += torch.diagonal(Jm.T @ Hout @ Jm).reshape(out[k].shape)
    return {k: v / len(x) for k, v in out.items()}


def test_hessian_relu_mlp_gauss_newton_is_exact():
    x, y = _toy(n=7, seed=1, shape=(3, 2), n_classes=4)
    x = x.astype(np.float64)
    net = nets.make_mlp((5, 4), in_shape=(3, 2), n_classes=4, rng=0).double()
    ref = _autograd_hessian_diag(net, x, y)
    for method in ("gauss_newton", "exact"):
        got = nets.hessian_diagonal(net, x, y, method=method)
        for k in ref:
            torch.testing.assert_close(got[k], ref[k], rtol=1e-9, atol=1e-12)
    gn = nets.hessian_diagonal(net, x, y, batch_size=2)  # chunking changes nothing
    for k in ref:
        torch.testing.assert_close(gn[k], ref[k], rtol=1e-9, atol=1e-12)
        assert bool((gn[k] >= 0).all())


def test_hessian_convnet_gauss_newton_is_exact():
    x, y = _toy(n=5, seed=2, shape=(4, 4), n_classes=3)
    x = x.astype(np.float64)
    net = nets.make_convnet(in_shape=(4, 4), channels=(2, 3), hidden=(4,), n_classes=3,
                            rng=1).double()
    ref = _autograd_hessian_diag(net, x, y)
    got = nets.hessian_diagonal(net, x, y)
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], rtol=1e-8, atol=1e-12)


def test_hessian_smooth_net_gauss_newton_vs_exact():
    """With tanh the curvature term is non-zero: GN matches J^T H J, exact matches autograd,
    and the two differ."""
    x, y = _toy(n=6, seed=3, shape=(3,), n_classes=3)
    x = x.astype(np.float64)
    torch_gen = torch.Generator().manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=torch_gen, dtype=torch.float64))
    gn = nets.hessian_diagonal(net, x, y)
    ex = nets.hessian_diagonal(net, x, y, method="exact")
    ref_gn = _explicit_gauss_newton_diag(net, x, y)
    ref_ex = _autograd_hessian_diag(net, x, y)
    for k in gn:
        torch.testing.assert_close(gn[k], ref_gn[k], rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(ex[k], ref_ex[k], rtol=1e-9, atol=1e-12)
        assert bool((gn[k] >= 0).all())
    assert float((gn["0.weight"] - ex["0.weight"]).abs().max()) > 1e-3


def test_hessian_fisher_is_mean_squared_gradient():
    x, y = _toy(n=6, seed=4, shape=(2, 2), n_classes=3)
    x = x.astype(np.float64)
    net = nets.make_mlp((3,), in_shape=(2, 2), n_classes=3, rng=2).double()
    got = nets.hessian_diagonal(net, x, y, method="fisher")
    _, ps, names = _loss_of(net, x[:1], y[:1])
    ref = {k: torch.zeros_like(p) for k, p in zip(names, ps, strict=True)}
    for i in range(len(y)):
        f, _, _ = _loss_of(net, x[i:i + 1], y[i:i + 1])
        qs = [p.clone().requires_grad_() for p in ps]
        gs = torch.autograd.grad(f(*qs), qs)
        for k, g in zip(names, gs, strict=True):
            ref[k] += g**2 / len(y)
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], rtol=1e-9, atol=1e-14)


def test_hessian_shapes_dtype_and_bad_method():
    x, y = _toy(n=6)
    net = nets.make_mlp((4,), rng=0)
    h = nets.hessian_diagonal(net, x, y)
    assert set(h) == {k for k, _ in net.named_parameters()}
    for k, p in net.named_parameters():
        assert h[k].shape == p.shape and h[k].dtype == p.dtype
    with pytest.raises(ValueError, match="method"):
        nets.hessian_diagonal(net, x, y, method="hutchinson")
    with pytest.raises(ValueError, match="batch_size"):
        nets.hessian_diagonal(net, x, y, batch_size=0)


# ----------------------------------------------------------------------------------------
# quantize_model
# ----------------------------------------------------------------------------------------


def _hand_model():
    """Linear(4, 2) -> ReLU -> Linear(2, 2) with weights of known cluster structure."""
    net = nn.Sequential(nn.Linear(4, 2), nn.ReLU(), nn.Linear(2, 2))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[0.0, 0.0, 0.0, 0.0], [1.0, 1.0, 5.0, 5.0]]))
        net[2].weight.copy_(torch.tensor([[0.0, 1.0], [5.0, 5.0]]))
        net[0].bias.copy_(torch.tensor([0.25, -0.5]))
        net[2].bias.copy_(torch.tensor([0.125, 2.0]))
    return net


def test_quantize_model_compression_ratio_by_hand():
    net = _hand_model()
    small, info = nets.quantize_model(net, 3, method="optimal")  # exact clusters
    # layer 0: counts (4, 2, 2) -> Huffman lengths (1, 2, 2) -> 12 bits + 3 x 32 codebook
    # layer 2: counts (1, 1, 2) -> lengths (2, 2, 1) -> 6 bits + 3 x 32 codebook
    assert info["compression_ratio"] == pytest.approx((12 + 96 + 6 + 96) / (12 * 32))
    assert info["compression_ratio_all"] == pytest.approx(
        (12 + 96 + 6 + 96 + 4 * 32) / (16 * 32))
    assert info["n_weights"] == 12 and info["n_other"] == 4
    # the clusters are exact, so the compressed weights equal the originals
    for p, q in zip(net.parameters(), small.parameters(), strict=True):
        torch.testing.assert_close(p, q)


@pytest.mark.parametrize("method", ["kmeans", "hw", "drhw", "optimal"])
def test_quantize_model_at_most_k_values(method):
    x, y = _toy(n=20)
    net = nets.make_mlp((16, 8), rng=0)
    orig = _params(net)
    h = nets.hessian_diagonal(net, x, y)
    beta = 0.01 if method == "drhw" else 0.0
    small, info = nets.quantize_model(net, 4, method=method, hessian=h, beta=beta,
                                      beta_scale="hessian")
    named = dict(small.named_parameters())
    assert set(info["labels"]) == {"1.weight", "3.weight", "5.weight"}
    for name in info["labels"]:
        assert torch.unique(named[name]).numel() <= 4
        assert info["centers"][name].shape == (4,)
        np.testing.assert_allclose(named[name].detach().numpy().ravel(),
                                   info["centers"][name][info["labels"][name]], rtol=1e-6)
    for name in ("1.bias", "3.bias", "5.bias"):  # biases are kept
        assert torch.equal(named[name], dict(net.named_parameters())[name])
    assert all(torch.equal(p, q) for p, q in zip(orig, _params(net), strict=True))
    assert 0 < info["compression_ratio"] < 1
    if method == "drhw":
        for name in info["labels"]:
            assert info["beta"][name] == pytest.approx(0.01 * float(h[name].sum()), rel=1e-6)


def test_quantize_model_vector_and_layers():
    net = nets.make_mlp((16, 8), rng=0)
    small, info = nets.quantize_model(net, 3, block=2, layers=["3.weight"])
    w = dict(small.named_parameters())["3.weight"].detach().numpy().reshape(-1, 2)
    assert len(np.unique(w, axis=0)) <= 3
    assert torch.equal(small[1].weight, net[1].weight)  # not selected: unchanged
    assert info["centers"]["3.weight"].shape == (3, 2)
    assert info["labels"]["3.weight"].shape == (64,)


def test_quantize_model_beta_shrinks_diameter_and_clips_negative_hessian():
    x, y = _toy(n=20)
    net = nets.make_mlp((16, 8), rng=0)
    h = nets.hessian_diagonal(net, x, y)
    _, hw = nets.quantize_model(net, 5, method="hw", hessian=h)
    _, dr = nets.quantize_model(net, 5, method="drhw", hessian=h, beta=1.0,
                                beta_scale="hessian")
    for name in hw["centers"]:
        assert np.ptp(dr["centers"][name]) < np.ptp(hw["centers"][name])
    # negative entries behave like zeros
    h_neg = {k: v.clone() for k, v in h.items()}
    h_zero = {k: v.clone() for k, v in h.items()}
    h_neg["1.weight"][0, :5] = -1.0
    h_zero["1.weight"][0, :5] = 0.0
    _, a = nets.quantize_model(net, 5, method="hw", hessian=h_neg)
    _, b = nets.quantize_model(net, 5, method="hw", hessian=h_zero)
    np.testing.assert_array_equal(a["centers"]["1.weight"], b["centers"]["1.weight"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(method="pruning"), "method"),
        (dict(method="hw"), "hessian"),
        (dict(method="drhw", beta=1.0), "hessian"),
        (dict(beta=-1.0), "beta"),
        (dict(beta=float("inf")), "beta"),
        (dict(method="hw", beta=1.0, hessian={}), "beta"),
        (dict(method="optimal", block=2), "block"),
        (dict(n_clusters=0), "n_clusters"),
        (dict(n_clusters=21, layers=["1.weight"]), "n_clusters"),
        (dict(n_clusters=2.5), "n_clusters"),
        (dict(block=3), "multiple"),
        (dict(layers=["9.weight"]), "unknown"),
        (dict(layers=[]), "no layer"),
        (dict(layers=["1.weight", "1.weight"]), "twice"),
        (dict(beta_scale="relative"), "beta_scale"),
        (dict(method="hw", hessian={"1.weight": np.ones(3)}), "entries"),
        (dict(method="hw", hessian={"3.weight": np.ones(16 * 4)}), "no entry"),
    ],
)
def test_quantize_model_bad_args(kwargs, match):
    net = nets.make_mlp((4, 16), in_shape=(5,), rng=0)  # weight sizes 20, 64, 160
    args = dict(kwargs)
    k = args.pop("n_clusters", 3)
    with pytest.raises(ValueError, match=match):
        nets.quantize_model(net, k, **args)


# ----------------------------------------------------------------------------------------
# ensemble experiment helpers
# ----------------------------------------------------------------------------------------


def test_complement_subsets():
    sub = np.array([[4, 0, 2], [1, 3, 5]])
    comp = nets.complement_subsets(sub, 6)
    np.testing.assert_array_equal(comp, [[1, 3, 5], [0, 2, 4]])
    for bad, match in (([[0, 0]], "repeat"), ([[0, 6]], "indices"), ([[0, 1, 2]], "leave"),
                       ([0, 1], "subsets")):
        with pytest.raises(ValueError, match=match):
            nets.complement_subsets(bad, 3 if match == "leave" else 6)


def test_compression_sweep_matches_quantize_model():
    x, y = _toy(n=30, seed=5)
    models = [nets.make_mlp((8, 8), rng=s) for s in range(3)]
    subsets = np.array([[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
    hs = nets.ensemble_hessians(models, x, y, subsets, progress=False)
    for m in range(3):  # ensemble_hessians = hessian_diagonal on each model's own subset
        ref = nets.hessian_diagonal(models[m], x[subsets[m]], y[subsets[m]])
        assert all(torch.equal(hs[m][k], ref[k]) for k in ref)
    data = {"own": (x, y, subsets), "all": (x, y)}
    res = nets.compression_sweep(models, [2, 5], data, method="hw", hessians=hs,
                                 progress=False)
    assert res["loss"]["own"].shape == (2, 3) and res["compression_ratio"].shape == (2, 3)
    for i, k in enumerate([2, 5]):
        for m in range(3):
            small, info = nets.quantize_model(models[m], k, method="hw", hessian=hs[m])
            own = nets.evaluate(small, x[subsets[m]], y[subsets[m]])
            assert res["loss"]["own"][i, m] == pytest.approx(own["loss"], rel=1e-6)
            assert res["loss"]["all"][i, m] == pytest.approx(nets.evaluate(small, x, y)["loss"],
                                                             rel=1e-6)
            assert res["compression_ratio"][i, m] == pytest.approx(info["compression_ratio"])
            for layer, c in info["centers"].items():
                assert res["diameter"][layer][i, m] == pytest.approx(np.ptp(c))
    for m in range(3):
        assert res["original"]["loss"]["all"][m] == pytest.approx(
            nets.evaluate(models[m], x, y)["loss"], rel=1e-6)
    with pytest.raises(ValueError, match="hessians"):
        nets.compression_sweep(models, [2], data, method="hw", hessians=hs[:2])
    with pytest.raises(ValueError, match="data"):
        nets.compression_sweep(models, [2], {"bad": (x,)})
    with pytest.raises(ValueError, match="subsets"):
        nets.compression_sweep(models, [2], {"bad": (x, y, subsets[:2])})


def test_select_beta_picks_minimum_of_validation():
    x, y = _toy(n=30, seed=6)
    models = [nets.make_mlp((8,), rng=s) for s in range(2)]
    nets.train(models[0], x[:15], y[:15], epochs=20, batch_size=5, lr=1e-2, rng=0)
    nets.train(models[1], x[:15], y[:15], epochs=20, batch_size=5, lr=1e-2, rng=1)
    hs = nets.ensemble_hessians(models, x[:15], y[:15], progress=False)
    val = np.tile(np.arange(15, 30), (2, 1))
    betas = [0.0, 1e-2, 10.0]
    sel = nets.select_beta(models, hs, x, y, val, 4, betas, progress=False)
    manual = []
    for b in betas:
        r = nets.compression_sweep(models, [4], {"v": (x, y, val)}, method="drhw", beta=b,
                                   beta_scale="hessian", hessians=hs, progress=False)
        manual.append(r["loss"]["v"][0])
    np.testing.assert_allclose(sel["val_loss"], manual)
    assert sel["beta"] == betas[int(np.argmin(np.mean(manual, axis=1)))]
    with pytest.raises(ValueError, match="betas"):
        nets.select_beta(models, hs, x, y, val, 4, [-1.0])


# ----------------------------------------------------------------------------------------
# portable numerics (nets.PORTABLE_NUMERICS)
# ----------------------------------------------------------------------------------------
_TRAIN_AND_HASH = """
import hashlib, numpy as np, torch
from infocompress import nets
torch.set_num_threads(1)
rng = np.random.default_rng(0)
x = rng.normal(size=(60, 12, 12)).astype(np.float32)
y = rng.integers(0, 10, size=60)
h = hashlib.sha256()
for net in (nets.make_mlp((32,), in_shape=(12, 12), dropout=0.2, rng=1),
            nets.make_convnet(in_shape=(12, 12), channels=(4, 8), hidden=(16,),
                              kernel_size=5, rng=2)):
    nets.train(net, x, y, epochs=3, batch_size=6, lr=0.05, optimizer="sgd",
               momentum=0.9, weight_decay=1e-4, rng=3)
    for p in net.parameters():
        h.update(p.detach().numpy().tobytes())
print(h.hexdigest())
"""


def _hash_in_subprocess(**env):
    import os
    import subprocess
    import sys

    full = {k: v for k, v in os.environ.items()
            if k not in ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", _TRAIN_AND_HASH], env=full, check=True,
                         capture_output=True, text=True, timeout=300)
    return out.stdout.strip()


def test_training_does_not_depend_on_the_cpus_vector_extensions():
    """With the Makefile's settings, a CPU limited to AVX2 (MKL told to use no more than
    AVX2) trains the very same networks as this one."""
    portable = dict(ATEN_CPU_CAPABILITY="avx2", MKL_CBWR="AVX2")
    a = _hash_in_subprocess(**portable)
    b = _hash_in_subprocess(**portable, MKL_ENABLE_INSTRUCTIONS="AVX2")
    assert a == b
    if torch.backends.cpu.get_cpu_capability() == "AVX512":
        # and the settings matter: torch's AVX-512 kernels give other networks
        assert _hash_in_subprocess() != a


def test_evaluations_in_row_chunks_equal_one_forward_pass():
    # models._forward splits an evaluation into chunks of _FORWARD_ROWS rows (faster for
    # convolutions); every layer treats rows independently, so the logits, losses and
    # accuracies are those of a single forward pass over all rows
    import torch.nn.functional as F

    from infocompress import models

    gen = np.random.default_rng(3)
    n = 2 * models._FORWARD_ROWS + 37
    for net, shape in ((models.make_convnet(in_shape=(28, 28), channels=(6, 16),
                                            hidden=(120, 84), kernel_size=5, rng=0), (28, 28)),
                       (models.make_mlp((32,), rng=0), (8, 8))):
        x = gen.normal(size=(n, *shape)).astype(np.float32)
        y = gen.integers(0, 10, size=n)
        net.eval()
        with torch.no_grad():  # one pass, with the library's kernels (models._portable)
            whole = models._portable(net)(torch.from_numpy(x))
        assert torch.equal(torch.from_numpy(models.predict_logits(net, x)).float(), whole)
        losses, acc = models._per_sample_losses(net, torch.from_numpy(x), torch.from_numpy(y),
                                                torch.device("cpu"), with_accuracy=True)
        ref = F.cross_entropy(whole, torch.from_numpy(y), reduction="none").double().numpy()
        assert np.array_equal(losses, ref)
        assert acc == float((whole.argmax(1).numpy() == y).mean())
        r = models.evaluate(net, x, y)
        total = float(F.cross_entropy(whole, torch.from_numpy(y), reduction="sum").double())
        assert r["loss"] == total / n and r["accuracy"] == acc
