"""Tests of infocompress.curvature: the closed-form Gauss-Newton diagonal against
per-sample Jacobians (nets' reference implementation) and against brute force."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, jacrev, vmap

from infocompress import curvature, nets


def _data(n, shape, seed=0, n_classes=10):
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.normal(size=(n, *shape))).double()
    y = torch.from_numpy(rng.integers(0, n_classes, size=n))
    return x, y


def _brute_force(model, x, y, loss):
    """(1/n) sum_i diag(J_i^T Lambda_i J_i) from full per-sample Jacobians of the logits
    and the Hessian of the per-sample loss in the logits (torch.func.hessian)."""
    model.eval()
    params = {k: v.detach() for k, v in model.named_parameters()}

    def logits_one(p, x1):
        return functional_call(model, p, (x1[None],))[0]

    def phi(z, y1):
        ell = F.cross_entropy(z[None], y1[None])
        return ell**2 if loss == "squared_cross_entropy" else ell

    jac = vmap(jacrev(logits_one), in_dims=(None, 0))(params, x)
    if loss == "empirical_fisher":  # Lambda = g g^T with g the loss gradient in the logits
        g = torch.stack([torch.func.grad(phi)(logits_one(params, x[i]), y[i])
                         for i in range(len(y))])
        lam = g[:, :, None] * g[:, None, :]
    else:
        lam = torch.stack([torch.func.hessian(phi)(logits_one(params, x[i]), y[i])
                           for i in range(len(y))])
    out = {}
    for k, jk in jac.items():
        jf = jk.reshape(len(y), jk.shape[1], -1)                     # (n, C, d)
        out[k] = torch.einsum("ncd,nce,ned->d", jf, lam, jf).reshape(params[k].shape) / len(y)
    return out


@pytest.mark.parametrize("loss", curvature.CURVATURE_LOSSES)
@pytest.mark.parametrize("arch", ["mlp", "conv"])
def test_closed_form_equals_brute_force(loss, arch):
    if arch == "mlp":
        model = nets.make_mlp((7, 5), in_shape=(4, 4), dropout=0.3, rng=1).double()
        x, y = _data(9, (4, 4))
    else:
        model = nets.make_convnet(in_shape=(8, 8), channels=(3, 4), hidden=(6,),
                                  kernel_size=3, dropout=0.2, rng=2).double()
        x, y = _data(7, (8, 8), seed=1)
    got = curvature.gauss_newton_diagonal(model, x, y, loss=loss, batch_size=4)
    assert model.training  # mode restored
    ref = _brute_force(model, x, y, loss)
    assert set(got) == set(ref)
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], rtol=1e-9, atol=1e-12)


def test_empirical_fisher_is_mean_squared_gradient():
    """The "empirical_fisher" diagonal equals the mean of squared per-sample gradients."""
    model = nets.make_convnet(in_shape=(6, 6), channels=(2,), hidden=(4,), rng=5).double()
    x, y = _data(8, (6, 6), seed=2)
    got = curvature.gauss_newton_diagonal(model, x, y, loss="empirical_fisher")
    ref = {k: torch.zeros_like(v, dtype=torch.float64) for k, v in got.items()}
    for i in range(len(y)):
        model.zero_grad()
        F.cross_entropy(model.eval()(x[i:i + 1]), y[i:i + 1]).backward()
        for k, p in model.named_parameters():
            ref[k] += p.grad.double() ** 2 / len(y)
    for k in ref:
        torch.testing.assert_close(got[k], ref[k], rtol=1e-9, atol=1e-14)


def test_closed_form_equals_per_sample_path_of_nets():
    """nets.hessian_diagonal: closed form (default for these nets) = per-sample Jacobians."""
    model = nets.make_convnet(in_shape=(6, 6), channels=(2,), hidden=(5,), kernel_size=5,
                              rng=3).double()
    x, y = _data(11, (6, 6), seed=4)
    fast = nets.hessian_diagonal(model, x, y)
    params = {k: v.detach() for k, v in model.named_parameters()}
    slow = curvature._hess_diag_per_sample(model.eval(), params, {}, x, y, "gauss_newton", 10, 3)
    for k in fast:
        torch.testing.assert_close(fast[k], slow[k].to(fast[k].dtype), rtol=1e-9, atol=1e-12)


def test_hand_computed_diagonals_at_uniform_softmax():
    """A zero linear layer (uniform softmax): both diagonals against the formulas
    Lambda = diag(p) - p p^T and 2 g g^T + 2 ell Lambda, summed by hand."""
    lin = nn.Linear(4, 3).double()
    x, y = _data(6, (4,), n_classes=3)
    with torch.no_grad():
        lin.weight.zero_()
        lin.bias.copy_(torch.tensor([0.0, 0.0, 0.0]))
    ce = curvature.gauss_newton_diagonal(lin, x, y)
    sq = curvature.gauss_newton_diagonal(lin, x, y, loss="squared_cross_entropy")
    # uniform softmax: ell = log 3, g = p - e_y; compare with the closed form per sample
    p = torch.full((3,), 1 / 3, dtype=torch.float64)
    lam_ce = torch.diag(p) - torch.outer(p, p)
    ell = np.log(3.0)
    ref = torch.zeros(3, 4, dtype=torch.float64)
    for i in range(6):
        g = p - F.one_hot(y[i], 3).double()
        lam = 2 * torch.outer(g, g) + 2 * ell * lam_ce
        ref += torch.diagonal(lam)[:, None] * x[i][None, :] ** 2
    torch.testing.assert_close(sq["weight"], ref / 6)
    sq_inputs = (x**2).sum(0)
    torch.testing.assert_close(ce["weight"], torch.diagonal(lam_ce)[:, None] * sq_inputs / 6)


def test_errors():
    x, y = _data(3, (4,), n_classes=2)
    with pytest.raises(ValueError, match="loss must be one of"):
        curvature.gauss_newton_diagonal(nn.Linear(4, 2).double(), x, y, loss="mse")
    with pytest.raises(ValueError, match="Linear or an ungrouped Conv2d"):
        curvature.gauss_newton_diagonal(nn.Sequential(nn.Linear(4, 2), nn.LayerNorm(2))
                                        .double(), x, y)
    shared = nn.Linear(4, 4).double()
    twice = nn.Sequential(shared, nn.ReLU(), shared)
    with pytest.raises(ValueError, match="more than once"):
        curvature.gauss_newton_diagonal(twice, x, torch.tensor([0, 1, 3]))
    with pytest.raises(ValueError, match="Linear/Conv2d"):
        nets.hessian_diagonal(nn.Sequential(nn.Linear(4, 2), nn.LayerNorm(2)), x.numpy(),
                              y.numpy(), method="gauss_newton_squared")


@pytest.mark.parametrize("method", ["gauss_newton", "fisher"])
def test_hessian_diagonal_algorithms_agree(method):
    """The closed form and per-sample gradients give one diagonal, in the requested dtype."""
    model = nets.make_mlp((6,), rng=3).double()
    x, y = _data(25, (8, 8), seed=4)
    closed = curvature.hessian_diagonal(model, x, y, method=method, algorithm="closed_form")
    per = curvature.hessian_diagonal(model, x, y, method=method, algorithm="per_sample")
    auto = curvature.hessian_diagonal(model, x, y, method=method)
    for k in closed:
        torch.testing.assert_close(closed[k], per[k], rtol=1e-9, atol=1e-12)
        torch.testing.assert_close(auto[k], closed[k], rtol=1e-9, atol=1e-12)
    f32 = curvature.hessian_diagonal(model.float(), x.float(), y, method=method,
                                     dtype=torch.float64)
    assert all(v.dtype == torch.float64 for v in f32.values())


def test_hessian_diagonal_rejects_impossible_algorithms():
    x, y = _data(5, (3,), seed=1, n_classes=3)
    odd = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 3)).double()
    with pytest.raises(ValueError, match="algorithm='closed_form'"):
        curvature.hessian_diagonal(odd, x, y, algorithm="closed_form")
    lin = nn.Sequential(nn.Linear(3, 3)).double()
    with pytest.raises(ValueError, match="algorithm='closed_form'"):
        curvature.hessian_diagonal(lin, x, y, method="exact", algorithm="closed_form")
    with pytest.raises(ValueError, match="gauss_newton_squared"):
        curvature.hessian_diagonal(lin, x, y, method="gauss_newton_squared",
                                   algorithm="per_sample")
    with pytest.raises(ValueError, match="algorithm must be one of"):
        curvature.hessian_diagonal(lin, x, y, algorithm="fast")
    with pytest.raises(ValueError, match="dtype"):
        curvature.hessian_diagonal(lin, x, y, dtype="float64")
