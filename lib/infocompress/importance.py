r"""Importance-weighted pruning and quantization of a network (Gao et al. 2019, Tables 1-2).

Gao, Liu, Wang and Oh replace the plain squared error :math:`\sum_i (w_i - \hat w_i)^2` of
pruning and k-means quantization by a weighted one, :math:`\sum_i h_i (w_i - \hat w_i)^2`,
where :math:`h_i` is the :math:`i`-th diagonal entry of a *weight-importance matrix*
(off-diagonal entries are dropped). The objectives of their two tables are:

``"baseline"`` (Table 1)
    :math:`h_i = 1`.
``"fisher"`` (Table 1, "proposed"; no labels)
    :math:`h_i = E_X\bigl[\sum_c (\partial f_c(X)/\partial w_i)^2 / f_c(X)\bigr]`, the
    :math:`i`-th diagonal entry of
    :math:`I_w = E_X[(\nabla_w f_w(X))\,\mathrm{diag}(1/f_w(X))\,(\nabla_w f_w(X))^\top]`
    with :math:`f_w(x) = \mathrm{softmax}(\text{logits})` the predicted class
    probabilities. It is the Fisher information of the model's *own* predictive
    distribution: since :math:`\partial f_c = f_c\, \partial \ln f_c`,

    .. math::

        (I_w)_{ii} = E_X\Bigl[\sum_c f_c(X) \Bigl(\frac{\partial \ln f_c(X)}{\partial w_i}
        \Bigr)^2\Bigr] = E_X\, E_{Y \sim f_w(X)}\Bigl[\Bigl(\frac{\partial \ln f_Y(X)}
        {\partial w_i}\Bigr)^2\Bigr],

    and it is the curvature of the classification distortion
    :math:`E_X[D_{KL}(f_w(X) \,\|\, f_{\hat w}(X))] = \frac12 (w - \hat w)^\top I_w
    (w - \hat w) + O(\lVert w - \hat w\rVert^3)`.
``"gradient"`` (Table 2; uses labels)
    :math:`h_i = E[(\partial L_w(X, Y)/\partial w_i)^2]` (empirical Fisher), with
    :math:`L` the cross-entropy on the training pairs.
``"hessian"`` (Table 2, LeCun et al. 1990, "Optimal brain damage"; uses labels)
    :math:`h_i = E[\partial^2 L_w(X, Y)/\partial w_i^2]`, the diagonal of the Hessian of
    the training loss, from :func:`infocompress.nets.hessian_diagonal`.
``"grad_hessian"`` (Table 2; uses labels)
    The second-order Taylor expansion of the training loss,

    .. math::

        L(\hat w) - L(w) \approx \sum_i g_i (\hat w_i - w_i)
        + \frac12 \sum_i H_{ii} (\hat w_i - w_i)^2, \qquad
        g_i = E[\partial L_w / \partial w_i],\ H_{ii} = E[\partial^2 L_w/\partial w_i^2].

    (The slide's text extraction is garbled; we read the linear term with the sign of
    the Taylor expansion, in :math:`\hat w_i - w_i`.)

For softmax cross-entropy the Hessian of the loss with respect to the logits,
:math:`\mathrm{diag}(p) - pp^\top`, does not depend on the label; for networks that are
piecewise linear in every single weight (ReLU, max-pool, linear and convolution layers)
the second derivative of the logits along one coordinate is zero, so the Hessian diagonal
equals the Gauss-Newton diagonal, which is exactly ``"fisher"``. For such networks the
objectives ``"fisher"`` and ``"hessian"`` coincide (the tests check this).

Compression (layer by layer, on the weight tensors of Linear/Conv layers; biases are
kept): :func:`prune` removes, in every layer, the same fraction of weights with the
smallest increase of the objective; :func:`quantize` replaces every layer's weights by
``n_clusters`` shared values found by weighted k-means.

References
----------
.. [1] W. Gao, Y.-H. Liu, C. Wang, S. Oh, "Rate distortion for model compression: from
   theory to practice", ICML 2019 (talk slides, Tables 1 and 2).
.. [2] Y. LeCun, J. S. Denker, S. A. Solla, "Optimal brain damage", NIPS 1989 (1990).
.. [3] Y. Choi, M. El-Khamy, J. Lee, "Towards the limit of network quantization", ICLR
   2017 (Hessian-weighted k-means).
"""

from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, jacrev, vmap

from . import nets
from ._checks import as_generator, check_int
from .progress import progress_bar

__all__ = [
    "KINDS",
    "Importance",
    "compression_objective",
    "importance_diagonal",
    "mean_gradient",
    "prune",
    "pruning_masks",
    "quantize",
]

#: Objectives of Tables 1 and 2 of Gao et al. (2019) accepted by :func:`importance_diagonal`.
KINDS = ("baseline", "fisher", "gradient", "hessian", "grad_hessian")
_SUPERVISED = ("gradient", "hessian", "grad_hessian")


@dataclass
class Importance:
    r"""Diagonal importance weights of one network, per parameter.

    The objective of compressing :math:`w` into :math:`\hat w` is

    .. math::

        \sum_i h_i (w_i - \hat w_i)^2 \quad (g \text{ is None}), \qquad
        \sum_i g_i (\hat w_i - w_i) + \frac12 \sum_i h_i (\hat w_i - w_i)^2
        \quad (\text{kind} = \text{"grad\_hessian"}).

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    h : dict of str to torch.Tensor
        Parameter name -> non-negative (``"hessian"`` of a smooth network may have
        negative entries) tensor of the parameter's shape (float64, CPU).
    g : dict of str to torch.Tensor or None
        Mean gradient of the training loss (``"grad_hessian"`` only).
    """

    kind: str
    h: dict
    g: dict | None = None


# --------------------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------------------
def _check_model(model):
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(True for _ in model.parameters()):
        raise ValueError("model has no parameters")


def _as_x(x):
    # validated like nets' inputs; numpy input is used in float64 here
    t = nets._as_x(x)
    return t if isinstance(x, torch.Tensor) else t.double()


def _as_y(y, n):
    arr = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"y must hold integer class labels, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match x, got {arr.shape}")
    if arr.size and arr.min() < 0:
        raise ValueError(f"y must hold labels >= 0, got {arr.min()}")
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.int64))


_check_device = nets._check_device


# --------------------------------------------------------------------------------------
# importance diagonals
# --------------------------------------------------------------------------------------
def importance_diagonal(model, x, y=None, *, kind="fisher", hessian_method="gauss_newton",
                        batch_size=None, device="cpu", progress=None) -> Importance:
    r"""Diagonal weight importance of a classifier for the objectives of Tables 1 and 2.

    See the module docstring for the five objectives. All expectations are averages over
    the given samples; everything is batched with :mod:`torch.func` (``vmap`` over
    per-sample Jacobians or gradients), never a Python loop over samples.

    ``"fisher"``
        :math:`h_i = \frac1n \sum_{s} \sum_c p_{sc}\,(\partial_i \ln p_{sc})^2` with
        :math:`p_s = \mathrm{softmax}(f_w(x_s))`, from per-sample Jacobians of the
        log-probabilities (``vmap(jacrev)``).
    ``"gradient"``
        :math:`h_i = \frac1n\sum_s (\partial_i \ell_s)^2`, :math:`\ell_s` the cross-entropy
        of sample :math:`s` (via :func:`infocompress.nets.hessian_diagonal` with
        ``method="fisher"``).
    ``"hessian"``
        Diagonal of the Hessian of :math:`\frac1n\sum_s \ell_s`
        (:func:`infocompress.nets.hessian_diagonal`). ``hessian_method="gauss_newton"``
        is exact for networks piecewise linear in each weight (ReLU, max-pool, linear and
        convolution layers, as :func:`infocompress.nets.make_mlp` and
        :func:`~infocompress.nets.make_convnet` build); ``"exact"`` uses one
        Hessian-vector product per coordinate and suits any small network.
    ``"grad_hessian"``
        ``h`` as for ``"hessian"`` and ``g`` the mean gradient
        :math:`\frac1n\sum_s \nabla \ell_s`.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier returning logits of shape (n, C); evaluated in eval mode; not modified.
    x : array-like or torch.Tensor of shape (n, ...)
        Inputs (e.g. the training set).
    y : array-like of int of shape (n,), optional
        Labels; required for ``"gradient"``, ``"hessian"`` and ``"grad_hessian"``.
    kind : {"baseline", "fisher", "gradient", "hessian", "grad_hessian"}, default "fisher"
    hessian_method : {"gauss_newton", "exact"}, default "gauss_newton"
        How the Hessian diagonal is computed (``"hessian"``, ``"grad_hessian"``).
    batch_size : int, optional
        Samples per vectorised chunk; by default about 2**23 numbers per chunk.
    device : str or torch.device, default "cpu"
    progress : bool or None, optional
        Progress bar over chunks (``"fisher"``); None shows it unless
        ``INFOCOMPRESS_QUIET``/``CI`` is set.

    Returns
    -------
    Importance
        ``h`` (and ``g``) per parameter name, float64 tensors on the CPU.

    Raises
    ------
    ValueError
        For an unknown ``kind`` or ``hessian_method``, missing or bad labels, or bad data.

    References
    ----------
    Gao et al. (2019), Tables 1 and 2; LeCun, Denker and Solla (1990).

    Examples
    --------
    >>> gen = torch.Generator().manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    >>> x = torch.randn(20, 3, generator=gen, dtype=torch.float64)
    >>> y = torch.randint(0, 3, (20,), generator=gen)
    >>> fis = importance_diagonal(net, x, kind="fisher")
    >>> hes = importance_diagonal(net, x, y, kind="hessian")
    >>> all(torch.allclose(fis.h[k], hes.h[k]) for k in fis.h)  # ReLU net: equal
    True
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if hessian_method not in ("gauss_newton", "exact"):
        raise ValueError(
            f"hessian_method must be 'gauss_newton' or 'exact', got {hessian_method!r}"
        )
    _check_model(model)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", low=1)
    dev = _check_device(device)
    xt = _as_x(x)
    yt = None
    if kind in _SUPERVISED:
        if y is None:
            raise ValueError(f"kind={kind!r} uses the training labels: y is required")
        yt = _as_y(y, xt.shape[0])
    return _importance(model, xt, yt, kind, hessian_method, batch_size, dev, progress)


def _importance(model, xt, yt, kind, hessian_method, batch_size, dev, progress):

    was_training = model.training
    model.eval()
    try:
        dtype = next(model.parameters()).dtype
        xt = xt.to(dev, dtype)
        params = {k: v.detach() for k, v in model.named_parameters()}
        if kind == "baseline":
            h = {k: torch.ones(v.shape, dtype=torch.float64) for k, v in params.items()}
            return Importance(kind, h)
        if kind == "fisher":
            h = _fisher_diag(model, xt, batch_size, dev, progress)
            return Importance(kind, h)
        method = "fisher" if kind == "gradient" else hessian_method
        h = nets.hessian_diagonal(model, xt, yt, method=method, batch_size=batch_size,
                                  device=dev)
        h = {k: v.double() for k, v in h.items()}
        if kind != "grad_hessian":
            return Importance(kind, h)
        g = _mean_gradient(model, xt, yt.to(dev), batch_size)
        return Importance(kind, h, g)
    finally:
        model.train(was_training)


def _fisher_diag(model, x, batch_size, dev, progress):
    model = model.to(dev)
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    with torch.no_grad():
        n_out = int(model(x[:1]).shape[-1])
    d = sum(p.numel() for p in params.values())
    if batch_size is None:
        batch_size = max(1, 2**23 // max(1, d * n_out))

    def logp_one(p, x1):
        logits = functional_call(model, (p, buffers), (x1.unsqueeze(0),)).squeeze(0)
        return torch.log_softmax(logits, dim=-1)

    jac = vmap(jacrev(logp_one), in_dims=(None, 0))
    acc = {k: torch.zeros(p.numel(), dtype=torch.float64, device=dev)
           for k, p in params.items()}
    n = x.shape[0]
    starts = range(0, n, batch_size)
    for s in progress_bar(starts, desc="fisher diagonal", progress=progress):
        xb = x[s:s + batch_size]
        b = xb.shape[0]
        with torch.no_grad():
            prob = torch.softmax(functional_call(model, (params, buffers), (xb,)), dim=-1)
        prob = prob.double()
        jb = jac(params, xb)
        for k in params:
            jk = jb[k].reshape(b, n_out, -1).double()
            acc[k] += torch.einsum("bc,bcd->d", prob, jk * jk)
    return {k: (acc[k] / n).reshape(params[k].shape).cpu() for k in params}


def mean_gradient(model, x, y, *, batch_size=None, device="cpu") -> dict:
    r"""Mean gradient :math:`g = \frac1n\sum_s \nabla_w \ell(f_w(x_s), y_s)` of the cross-entropy.

    The linear coefficients of the ``"grad_hessian"`` objective; use it with an existing
    Hessian diagonal, ``Importance("grad_hessian", h, mean_gradient(model, x, y))``, to
    avoid recomputing the diagonal.

    Parameters
    ----------
    model : torch.nn.Module
        Classifier returning logits (evaluated in eval mode; not modified).
    x : array-like or torch.Tensor of shape (n, ...)
    y : array-like of int of shape (n,)
    batch_size : int, optional
        Samples per chunk (default: all at once).
    device : str or torch.device, default "cpu"

    Returns
    -------
    dict of str to torch.Tensor
        Parameter name -> float64 tensor of the parameter's shape (CPU).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(2, 2))
    >>> g = mean_gradient(net, torch.zeros(3, 2), [0, 1, 1])
    >>> sorted(g), g["0.weight"].abs().max().item()
    (['0.bias', '0.weight'], 0.0)
    """
    _check_model(model)
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", low=1)
    dev = _check_device(device)
    xt = _as_x(x)
    yt = _as_y(y, xt.shape[0])
    was_training = model.training
    model.eval()
    try:
        model.to(dev)
        xt = xt.to(dev, next(model.parameters()).dtype)
        return _mean_gradient(model, xt, yt.to(dev), batch_size)
    finally:
        model.train(was_training)


def _mean_gradient(model, x, y, batch_size):
    params = dict(model.named_parameters())
    grads = {k: torch.zeros(p.shape, dtype=torch.float64) for k, p in params.items()}
    n = x.shape[0]
    step = n if batch_size is None else batch_size
    for s in range(0, n, step):
        loss = F.cross_entropy(model(x[s:s + step]), y[s:s + step], reduction="sum")
        gs = torch.autograd.grad(loss, list(params.values()))
        for k, gk in zip(params, gs, strict=True):
            grads[k] += gk.detach().double().cpu()
    return {k: v / n for k, v in grads.items()}


# --------------------------------------------------------------------------------------
# compression
# --------------------------------------------------------------------------------------
def _check_importance(importance, model, names):
    if isinstance(importance, Importance):
        h, g = importance.h, importance.g
    elif isinstance(importance, dict):
        h, g = importance, None
    else:
        raise ValueError(
            f"importance must be an Importance or a dict of tensors, got "
            f"{type(importance).__name__}"
        )
    named = dict(model.named_parameters())
    out = {}
    for name in names:
        w = named[name].detach().double().cpu().numpy().ravel()
        if name not in h:
            raise ValueError(f"importance has no entry for parameter {name!r}")
        hk = _to_numpy(h[name], f"importance h[{name!r}]", w.size)
        gk = None if g is None else _to_numpy(g[name], f"importance g[{name!r}]", w.size)
        out[name] = (w, hk, gk)
    return out


def _to_numpy(t, label, size):
    a = t.detach().double().cpu().numpy() if isinstance(t, torch.Tensor) \
        else np.asarray(t, dtype=float)
    a = a.ravel()
    if a.size != size:
        raise ValueError(f"{label} has {a.size} entries, the parameter has {size}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{label} must be finite")
    return a


def _check_layers(model, layers):
    names = nets.quantizable_parameters(model) if layers is None else list(layers)
    named = dict(model.named_parameters())
    if not names:
        raise ValueError("no layer to compress (layers is empty or the model has none)")
    for name in names:
        if name not in named:
            raise ValueError(f"layers names unknown parameter {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"layers lists a parameter twice: {names}")
    return names


def _prune_scores(w, h, g):
    """Increase of the objective when w_i is set to 0."""
    h = np.clip(h, 0.0, None)
    if g is None:
        return h * w * w
    return -g * w + 0.5 * h * w * w


def pruning_masks(model, ratio, importance, *, layers=None) -> dict:
    r"""Keep-masks of importance-weighted pruning with one prune ratio for every layer.

    In every layer with :math:`n` weights, :math:`\lfloor \text{ratio}\cdot n + 1/2
    \rfloor` weights are removed (set to 0): those whose removal increases the objective
    least. Removing weight :math:`i` changes the objective by

    .. math::

        s_i = h_i w_i^2 \quad\text{(quadratic objectives)}, \qquad
        s_i = -g_i w_i + \tfrac12 h_i w_i^2 \quad (\text{"grad\_hessian"}),

    and the objective is separable over weights, so removing the ``k`` smallest
    :math:`s_i` minimises it among all masks removing ``k`` weights of the layer. Negative
    ``h`` entries are clipped to 0; ties are broken by position (stable sort).

    Parameters
    ----------
    model : torch.nn.Module
    ratio : float
        Fraction of weights removed per layer, in [0, 1].
    importance : Importance or dict of str to tensor
        From :func:`importance_diagonal` (a dict is read as ``h`` with ``g = None``).
    layers : sequence of str, optional
        Parameter names to prune; default :func:`infocompress.nets.quantizable_parameters`.

    Returns
    -------
    dict of str to torch.BoolTensor
        ``True`` where a weight is kept, of the parameter's shape.

    Raises
    ------
    ValueError
        If ``ratio`` is outside [0, 1] or not finite, or ``importance`` does not match.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 5))
    >>> imp = importance_diagonal(net, torch.zeros(1, 4), kind="baseline")
    >>> int(pruning_masks(net, 0.25, imp)["0.weight"].sum())
    15
    """
    _check_model(model)
    ratio = _check_ratio(ratio)
    names = _check_layers(model, layers)
    data = _check_importance(importance, model, names)
    named = dict(model.named_parameters())
    masks = {}
    for name in names:
        w, h, g = data[name]
        k = int(math.floor(ratio * w.size + 0.5))
        keep = np.ones(w.size, dtype=bool)
        if k:
            order = np.argsort(_prune_scores(w, h, g), kind="stable")
            keep[order[:k]] = False
        masks[name] = torch.from_numpy(keep.reshape(tuple(named[name].shape)))
    return masks


def _check_ratio(ratio):
    if isinstance(ratio, bool) or not isinstance(ratio, numbers.Real):
        raise ValueError(f"ratio must be a number in [0, 1], got {ratio!r}")
    r = float(ratio)
    if not (math.isfinite(r) and 0.0 <= r <= 1.0):
        raise ValueError(f"ratio must be in [0, 1], got {ratio!r}")
    return r


def prune(model, ratio, importance, *, layers=None) -> nn.Module:
    """Prune every compressible layer with the same ratio (see :func:`pruning_masks`).

    Parameters
    ----------
    model : torch.nn.Module
        Network (not modified).
    ratio : float
        Fraction of weights removed per layer, in [0, 1].
    importance : Importance or dict of str to tensor
    layers : sequence of str, optional

    Returns
    -------
    torch.nn.Module
        A deep copy of ``model`` with the removed weights set to 0.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 5))
    >>> imp = importance_diagonal(net, torch.zeros(1, 4), kind="baseline")
    >>> small = prune(net, 0.5, imp)
    >>> int((small[0].weight == 0).sum())
    10
    """
    masks = pruning_masks(model, ratio, importance, layers=layers)
    out = copy.deepcopy(model)
    named = dict(out.named_parameters())
    with torch.no_grad():
        for name, keep in masks.items():
            named[name].mul_(keep.to(named[name].device, named[name].dtype))
    return out


def quantize(model, n_clusters, importance, *, method="optimal", layers=None, rng=None):
    r"""Quantize every compressible layer to ``n_clusters`` values by weighted k-means.

    For each layer, with weights :math:`w`, importance :math:`h \ge 0` (negative entries
    clipped to 0) and, for ``"grad_hessian"``, mean gradient :math:`g`, the centres
    :math:`c_1, \dots, c_K` and the assignment minimise

    .. math::

        \sum_i h_i (t_i - c_{k(i)})^2, \qquad
        t_i = w_i \text{ (quadratic objectives)}, \quad
        t_i = w_i - g_i / h_i \text{ ("grad\_hessian", } h_i > 0).

    The shift is the completion of the square:
    :math:`g_i(\hat w_i - w_i) + \frac12 h_i(\hat w_i - w_i)^2 = \frac12 h_i(\hat w_i -
    t_i)^2 - g_i^2/(2h_i)`, and the last term does not depend on :math:`\hat w`, so weighted
    k-means on the targets :math:`t_i` minimises the second-order objective exactly. A
    weight with :math:`h_i = 0` costs nothing in the quadratic part; its (linear) term is
    dropped and its target is :math:`w_i` (for piecewise-linear networks :math:`h_i = 0`
    forces :math:`g_i = 0`).

    Parameters
    ----------
    model : torch.nn.Module
        Network (not modified).
    n_clusters : int
        Number of shared values K per layer, ``1 <= K <=`` size of the smallest layer.
    importance : Importance or dict of str to tensor
        From :func:`importance_diagonal`.
    method : {"optimal", "kmeans"}, default "optimal"
        ``"optimal"``: exact weighted 1-D k-means by dynamic programming,
        :func:`infocompress.quantize.optimal_kmeans_1d`; ``"kmeans"``: Lloyd iterations,
        :func:`infocompress.quantize.drhw_kmeans` with ``beta=0``.
    layers : sequence of str, optional
        Parameter names; default :func:`infocompress.nets.quantizable_parameters`.
    rng : None, int or numpy.random.Generator
        For ``"kmeans"`` initialisation (the default ``init="linear"`` is deterministic).

    Returns
    -------
    torch.nn.Module
        A deep copy of ``model`` whose selected weight tensors hold at most ``K``
        distinct values each.

    Raises
    ------
    ValueError
        For a bad ``n_clusters``, unknown ``method`` or mismatching ``importance``.

    References
    ----------
    Gao et al. (2019), Tables 1 and 2; Choi et al. (2017); Wang and Song (2011).

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 5))
    >>> imp = importance_diagonal(net, torch.zeros(1, 4), kind="baseline")
    >>> q = quantize(net, 3, imp)
    >>> torch.unique(q[0].weight).numel() <= 3
    True
    """
    from . import quantize as qz

    _check_model(model)
    if method not in ("optimal", "kmeans"):
        raise ValueError(f"method must be 'optimal' or 'kmeans', got {method!r}")
    names = _check_layers(model, layers)
    data = _check_importance(importance, model, names)
    smallest = min(data[n][0].size for n in names)
    K = check_int(n_clusters, "n_clusters", low=1, high=smallest)
    gen = as_generator(rng)
    out = copy.deepcopy(model)
    named = dict(out.named_parameters())
    for name in names:
        w, h, g = data[name]
        h = np.clip(h, 0.0, None)
        target = w if g is None else np.where(h > 0, w - g / np.where(h > 0, h, 1.0), w)
        if method == "optimal":
            res = qz.optimal_kmeans_1d(target, K, h=h)
        else:
            res = qz.drhw_kmeans(target, h, K, beta=0.0, rng=gen)
        w_hat = np.asarray(res.reconstruct(), dtype=float).reshape(tuple(named[name].shape))
        with torch.no_grad():
            named[name].copy_(torch.as_tensor(w_hat, dtype=named[name].dtype))
    return out


def compression_objective(model, compressed, importance, *, layers=None) -> float:
    r"""Value of the (importance-weighted) compression objective of ``compressed``.

    .. math::

        \sum_i h_i (w_i - \hat w_i)^2 \quad\text{or}\quad
        \sum_i g_i(\hat w_i - w_i) + \tfrac12 \sum_i h_i (\hat w_i - w_i)^2 ,

    summed over the selected layers (negative ``h`` clipped to 0).

    Parameters
    ----------
    model, compressed : torch.nn.Module
        Original and compressed networks of the same architecture.
    importance : Importance or dict of str to tensor
    layers : sequence of str, optional

    Returns
    -------
    float

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 5))
    >>> imp = importance_diagonal(net, torch.zeros(1, 4), kind="baseline")
    >>> compression_objective(net, net, imp)
    0.0
    """
    _check_model(model)
    _check_model(compressed)
    names = _check_layers(model, layers)
    data = _check_importance(importance, model, names)
    named_c = dict(compressed.named_parameters())
    total = 0.0
    for name in names:
        w, h, g = data[name]
        if name not in named_c or named_c[name].numel() != w.size:
            raise ValueError(f"compressed does not match model at parameter {name!r}")
        wh = named_c[name].detach().double().cpu().numpy().ravel()
        h = np.clip(h, 0.0, None)
        if g is None:
            total += float(np.sum(h * (w - wh) ** 2))
        else:
            total += float(np.sum(g * (wh - w)) + 0.5 * np.sum(h * (wh - w) ** 2))
    return total
