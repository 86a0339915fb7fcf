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
    the training loss, from :func:`infocompress.curvature.hessian_diagonal`.
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
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from . import curvature, models
from ._parallel import run_tasks
from ._validation import (
    HasAttrs,
    Instance,
    Integer,
    Models,
    OneOf,
    Options,
    Reals,
    Sizes,
    TorchModule,
    as_generator,
    check_int,
    validate_params,
)

__all__ = [
    "ALGORITHMS",
    "KINDS",
    "Importance",
    "RECORDS",
    "compare_objectives",
    "compression_objective",
    "ensemble_comparison",
    "fisher_inner_products",
    "importance_diagonal",
    "mean_gradient",
    "orthogonality",
    "prune",
    "pruning_masks",
    "quantize",
]

#: Objectives of Tables 1 and 2 of Gao et al. (2019) accepted by :func:`importance_diagonal`.
KINDS = ("baseline", "fisher", "gradient", "hessian", "grad_hessian")
#: How :func:`importance_diagonal` computes ``"fisher"`` and ``"gradient"``.
ALGORITHMS = ("auto", "closed_form", "per_sample")
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

    def __post_init__(self):
        OneOf(*KINDS).check(self.kind, "kind")
        Instance(dict, description="a dict parameter name -> tensor").check(self.h, "h")
        Options(None, Instance(dict, description="a dict parameter name -> tensor")).check(
            self.g, "g")


# --------------------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------------------
def _as_x(x):
    # validated like nets' inputs; numpy input is used in float64 here
    t = models._as_x(x)
    return t if isinstance(x, torch.Tensor) else t.double()


_check_device = models._check_device
_check_model = models._check_model
_as_y = models._as_y


# --------------------------------------------------------------------------------------
# importance diagonals
# --------------------------------------------------------------------------------------
def importance_diagonal(model, x, y=None, *, kind="fisher", hessian_method="gauss_newton",
                        algorithm="auto", batch_size=None, device="cpu",
                        progress=None) -> Importance:
    r"""Diagonal weight importance of a classifier for the objectives of Tables 1 and 2.

    See the module docstring for the five objectives. All expectations are averages over
    the given samples. For networks whose parameters all sit in Linear/Conv2d layers
    (:func:`infocompress.curvature.supports_closed_form`) the diagonals of ``"fisher"``
    and ``"gradient"`` come from the per-layer closed form of
    :func:`infocompress.curvature.gauss_newton_diagonal` (one forward and one batched
    backward pass per chunk of samples: seconds for 270k parameters and 2,000 samples);
    otherwise, or with ``algorithm="per_sample"``, they are batched over per-sample
    Jacobians or gradients with :mod:`torch.func` (``vmap``), never a Python loop over
    samples, which costs about ``n_classes`` times the memory and minutes for such networks.

    ``"fisher"``
        :math:`h_i = \frac1n \sum_{s} \sum_c p_{sc}\,(\partial_i \ln p_{sc})^2` with
        :math:`p_s = \mathrm{softmax}(f_w(x_s))`. Closed form: the Gauss-Newton diagonal of
        the softmax cross-entropy (``loss="cross_entropy"``), whose logit curvature
        :math:`\mathrm{diag}(p) - pp^\top` does not involve the labels; per sample: the
        Jacobians of the log-probabilities (``vmap(jacrev)``).
    ``"gradient"``
        :math:`h_i = \frac1n\sum_s (\partial_i \ell_s)^2`, :math:`\ell_s` the cross-entropy
        of sample :math:`s`. Closed form: ``loss="empirical_fisher"``; per sample:
        :func:`infocompress.curvature.hessian_diagonal` with ``method="fisher"``.
    ``"hessian"``
        Diagonal of the Hessian of :math:`\frac1n\sum_s \ell_s`
        (:func:`infocompress.curvature.hessian_diagonal`). ``hessian_method="gauss_newton"``
        is exact for networks piecewise linear in each weight (ReLU, max-pool, linear and
        convolution layers, as :func:`infocompress.models.make_mlp` and
        :func:`~infocompress.models.make_convnet` build); ``"exact"`` uses one
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
    algorithm : {"auto", "closed_form", "per_sample"}, default "auto"
        How ``"fisher"`` and ``"gradient"`` are computed: ``"auto"`` takes the closed form
        whenever the network supports it, ``"closed_form"`` requires it (ValueError
        otherwise), ``"per_sample"`` forces the per-sample path (the reference of the
        tests). Both give the same numbers up to rounding.
    batch_size : int, optional
        Samples per vectorised chunk; by default 1024 for the closed form and about 2**23
        numbers per chunk for the per-sample path.
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
        For an unknown ``kind``, ``hessian_method`` or ``algorithm``, missing or bad
        labels, bad data, or ``algorithm="closed_form"`` for a network without it.

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
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
    _check_model(model)
    closed = curvature.supports_closed_form(model)
    if algorithm == "closed_form" and not closed and kind in ("fisher", "gradient"):
        raise ValueError("algorithm='closed_form' needs a network whose parameters all "
                         "belong to Linear or ungrouped Conv2d layers")
    use_closed = closed and algorithm != "per_sample"
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", low=1)
    dev = _check_device(device)
    xt = _as_x(x)
    yt = None
    if kind in _SUPERVISED:
        if y is None:
            raise ValueError(f"kind={kind!r} uses the training labels: y is required")
        yt = _as_y(y, xt.shape[0])
    return _importance(model, xt, yt, kind, hessian_method, batch_size, dev, progress,
                       use_closed)


def _importance(model, xt, yt, kind, hessian_method, batch_size, dev, progress,
                use_closed=False):

    was_training = model.training
    model.eval()
    try:
        dtype = next(model.parameters()).dtype
        xt = xt.to(dev, dtype)
        params = {k: v.detach() for k, v in model.named_parameters()}
        if kind == "baseline":
            h = {k: torch.ones(v.shape, dtype=torch.float64) for k, v in params.items()}
            return Importance(kind, h)
        if kind in ("fisher", "gradient"):
            # the Fisher of the softmax (its logit curvature diag(p) - pp^T needs no label)
            # or the empirical Fisher of the labels, in float64
            y = torch.zeros(xt.shape[0], dtype=torch.int64) if yt is None else yt
            h = curvature.hessian_diagonal(
                model, xt, y, method="gauss_newton" if kind == "fisher" else "fisher",
                algorithm="closed_form" if use_closed else "per_sample",
                batch_size=batch_size, device=dev, dtype=torch.float64)
            return Importance(kind, h)
        h = curvature.hessian_diagonal(model, xt, yt, method=hessian_method,
                                       batch_size=batch_size, device=dev)
        h = {k: v.double() for k, v in h.items()}
        if kind != "grad_hessian":
            return Importance(kind, h)
        g = _mean_gradient(model, xt, yt.to(dev), batch_size)
        return Importance(kind, h, g)
    finally:
        model.train(was_training)


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
        Parameter names to prune; default :func:`infocompress.models.quantizable_parameters`.

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
    names = models._check_layers(model, layers)
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


def quantize(model, n_clusters, importance, *, method="optimal", layers=None, rng=None,
             init="linear", max_iter=100):
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
        :func:`infocompress.kmeans1d.optimal_kmeans_1d`; ``"kmeans"``: Lloyd iterations,
        :func:`infocompress.kmeans.drhw_kmeans` with ``beta=0``.
    layers : sequence of str, optional
        Parameter names; default :func:`infocompress.models.quantizable_parameters`.
    rng : None, int or numpy.random.Generator
        For ``"kmeans"`` initialisation (``"linear"`` and ``"quantile"`` are
        deterministic).
    init : {"linear", "quantile", "kmeans++"}, default "linear"
        Initial centres of ``"kmeans"`` (see :func:`infocompress.kmeans.drhw_kmeans`;
        ``"quantile"`` with ``max_iter=30`` is the k-means of Bu et al.'s code).
    max_iter : int, default 100
        Lloyd iterations of ``"kmeans"``. Every iteration ends with the centres at the
        weighted means of their clusters, so the result is orthogonal in the metric of
        ``h`` (:func:`orthogonality`) after any number of iterations.

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
    from .compression import _quantize_weights

    _check_model(model)
    if method not in ("optimal", "kmeans"):
        raise ValueError(f"method must be 'optimal' or 'kmeans', got {method!r}")
    names = models._check_layers(model, layers)
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
        res = _quantize_weights(target, h, K, "optimal" if method == "optimal" else "hw",
                                rng=gen, init=init, max_iter=max_iter)
        w_hat = np.asarray(res.reconstruct(), dtype=float).reshape(tuple(named[name].shape))
        with torch.no_grad():
            named[name].copy_(torch.as_tensor(w_hat, dtype=named[name].dtype))
    return out


@validate_params(model=TorchModule(), compressed=TorchModule())
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
    names = models._check_layers(model, layers)
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


# --------------------------------------------------------------------------------------
# the orthogonality rule
# --------------------------------------------------------------------------------------
@validate_params(model=TorchModule(), compressed=TorchModule())
def orthogonality(model, compressed, importance, *, layers=None) -> dict:
    r"""Orthogonality and distortion of a compressed network in a diagonal metric.

    .. math::

        o = \sum_i h_i\, \hat w_i (w_i - \hat w_i), \qquad
        e = \sum_i h_i (w_i - \hat w_i)^2 ,

    summed over the selected weight tensors (negative ``h`` clipped to 0). The first golden
    rule of Gao et al. (2019) asks for :math:`o = 0` with :math:`h` the diagonal of the
    weight importance :math:`I_w`. Two cases hold exactly, for any ``h``: pruning
    (each term has :math:`\hat w_i = 0` or :math:`\hat w_i = w_i`), and k-means weighted by
    the same ``h`` whose centres are the weighted means of their clusters (each cluster
    contributes :math:`c_k \sum_{i \in C_k} h_i (w_i - c_k) = 0`).

    Parameters
    ----------
    model, compressed : torch.nn.Module
        Original and compressed networks of the same architecture.
    importance : Importance or dict of str to tensor
        Only ``h`` is used.
    layers : sequence of str, optional
        Default :func:`infocompress.models.quantizable_parameters`.

    Returns
    -------
    dict
        ``"orthogonality"`` (:math:`o`) and ``"distortion"`` (:math:`e`), floats.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(4, 5))
    >>> imp = importance_diagonal(net, torch.zeros(1, 4), kind="baseline")
    >>> orthogonality(net, prune(net, 0.5, imp), imp)["orthogonality"]
    0.0
    """
    _check_model(model)
    _check_model(compressed)
    names = models._check_layers(model, layers)
    h = importance.h if isinstance(importance, Importance) else importance
    data = _check_importance(h, model, names)
    named_c = dict(compressed.named_parameters())
    o = e = 0.0
    for name in names:
        w, hk, _ = data[name]
        if name not in named_c or named_c[name].numel() != w.size:
            raise ValueError(f"compressed does not match model at parameter {name!r}")
        wh = named_c[name].detach().double().cpu().numpy().ravel()
        hk = np.clip(hk, 0.0, None)
        o += float(np.sum(hk * wh * (w - wh)))
        e += float(np.sum(hk * (w - wh) ** 2))
    return {"orthogonality": o, "distortion": e}


def _weight_tangents(model, compressed, names):
    """Tangents (w_hat, w - w_hat) on the selected tensors, zero elsewhere."""
    named_c = dict(compressed.named_parameters())
    t_hat, t_err = {}, {}
    for k, p in model.named_parameters():
        if k in names:
            if k not in named_c or named_c[k].shape != p.shape:
                raise ValueError(f"compressed does not match model at parameter {k!r}")
            q = named_c[k].detach().to(p.device, p.dtype)
            t_hat[k], t_err[k] = q, p.detach() - q
        else:
            t_hat[k] = t_err[k] = torch.zeros_like(p)
    return t_hat, t_err


@validate_params(model=TorchModule(), compressed=TorchModule())
def fisher_inner_products(model, compressed, x, *, layers=None, batch_size=1024,
                          device="cpu") -> dict:
    r"""Orthogonality and distortion of a compressed network in the full Fisher metric.

    With :math:`J_s` the Jacobian of the logits of sample :math:`s` with respect to the
    selected weight tensors (other parameters held fixed), :math:`p_s` the predicted
    probabilities and :math:`\Lambda_s = \mathrm{diag}(p_s) - p_s p_s^\top`, the weight
    importance of a classifier (Gao et al. 2019) restricted to these tensors is
    :math:`I_w = \frac1n \sum_s J_s^\top \Lambda_s J_s` (the Fisher information of the
    model's predictions; off-diagonal terms included). This function returns

    .. math::

        o = \hat w^\top I_w (w - \hat w), \qquad e = (w - \hat w)^\top I_w (w - \hat w),

    from two Jacobian-vector products per batch (:func:`torch.func.jvp`), without forming
    :math:`I_w`. :math:`e/2` is the second-order term of the mean KL divergence
    :math:`\frac1n\sum_s D_{KL}(f_w(x_s) \,\|\, f_{\hat w}(x_s))`.

    Parameters
    ----------
    model, compressed : torch.nn.Module
        Original and compressed networks of the same architecture (``model`` is evaluated
        in eval mode and not modified).
    x : array-like or torch.Tensor of shape (n, ...)
        Inputs that define :math:`I_w` (e.g. the network's training images).
    layers : sequence of str, optional
        Compressed tensors; default :func:`infocompress.models.quantizable_parameters`.
    batch_size : int, default 1024
    device : str or torch.device, default "cpu"

    Returns
    -------
    dict
        ``"orthogonality"`` (:math:`o`) and ``"distortion"`` (:math:`e`), floats.

    Examples
    --------
    >>> gen = torch.Generator().manual_seed(0)
    >>> net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3)).double()
    >>> x = torch.randn(10, 3, generator=gen, dtype=torch.float64)
    >>> small = prune(net, 0.5, importance_diagonal(net, x, kind="baseline"))
    >>> r = fisher_inner_products(net, small, x)
    >>> r["distortion"] > 0
    True
    """
    _check_model(model)
    _check_model(compressed)
    names = models._check_layers(model, layers)
    batch_size = check_int(batch_size, "batch_size", low=1)
    dev = _check_device(device)
    xt = _as_x(x)
    was_training = model.training
    model.eval()
    try:
        return _fisher_inner(model.to(dev), compressed, xt, names, batch_size, dev)
    finally:
        model.train(was_training)


@models._portable
def _fisher_inner(model, compressed, xt, names, batch_size, dev, base=None):
    """``base``: optional (logits, J w) of the original network on ``xt`` (float64), from
    :func:`_logits_and_jw`, to save one Jacobian-vector product per batch."""
    from torch.func import jvp

    dtype = next(model.parameters()).dtype
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    t_hat, t_err = _weight_tangents(model, compressed, names)

    def logits(p, xb):
        return functional_call(model, (p, buffers), (xb,))

    o = e = 0.0
    n = xt.shape[0]
    with torch.no_grad():
        for s in range(0, n, batch_size):
            xb = xt[s:s + batch_size].to(dev, dtype)
            if base is None:
                z, u = jvp(lambda p, xb=xb: logits(p, xb), (params,), (t_hat,))
                _, v = jvp(lambda p, xb=xb: logits(p, xb), (params,), (t_err,))
            else:  # J w_hat = J w - J (w - w_hat): one product per batch
                z, jw = base[0][s:s + batch_size], base[1][s:s + batch_size]
                _, v = jvp(lambda p, xb=xb: logits(p, xb), (params,), (t_err,))
                u = jw - v.double()
            prob = torch.softmax(z.double(), dim=-1)
            u, v = u.double(), v.double()
            pu, pv = (prob * u).sum(-1), (prob * v).sum(-1)
            o += float(((prob * u * v).sum(-1) - pu * pv).sum())
            e += float(((prob * v * v).sum(-1) - pv * pv).sum())
    return {"orthogonality": o / n, "distortion": e / n}


@models._portable
def _logits_and_jw(model, xt, names, batch_size, dev):
    """Logits and J w (the Jacobian of the logits applied to the selected weights)."""
    from torch.func import jvp

    dtype = next(model.parameters()).dtype
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v.detach() for k, v in model.named_buffers()}
    tangent = {k: (v if k in names else torch.zeros_like(v)) for k, v in params.items()}
    zs, us = [], []
    with torch.no_grad():
        for s in range(0, xt.shape[0], batch_size):
            xb = xt[s:s + batch_size].to(dev, dtype)
            z, u = jvp(lambda p, xb=xb: functional_call(model, (p, buffers), (xb,)),
                       (params,), (tangent,))
            zs.append(z.double())
            us.append(u.double())
    return torch.cat(zs), torch.cat(us)


# --------------------------------------------------------------------------------------
# comparing objectives on an ensemble
# --------------------------------------------------------------------------------------
#: What :func:`compare_objectives` records for every configuration, besides the losses.
RECORDS = ("orthogonality", "distortion", "taylor", "fisher_orthogonality",
           "fisher_distortion")


@validate_params(n_jobs=Options(None, Integer()), models=Models(),
                 prune_ratios=Reals(low=0, high=1, high_open=True))
def compare_objectives(models, data, *, kinds=("baseline", "fisher", "gradient",
                                                "grad_hessian"),
                       hessians=None, prune_ratios=(), n_clusters=(), fisher_kinds=(),
                       fisher_samples=None, init="quantile", max_iter=30, n_jobs=None,
                       progress=None) -> dict:
    r"""Prune and quantize every model of an ensemble with each objective; evaluate.

    For every model, every objective of ``kinds``, every prune ratio (:func:`prune`: the
    same ratio in every layer) and every number of clusters (:func:`quantize` with
    ``method="kmeans"``: the same :math:`K` in every layer), the compressed network's
    cross-entropy is measured on the model's own training images and on every test image,
    as in :func:`infocompress.compression.compression_sweep`. For each objective and compression
    type the result has the layout of a :func:`~infocompress.compression.compression_sweep`
    result, so that :func:`infocompress.sweeps.change` and
    :func:`~infocompress.sweeps.combine` compare objectives with paired, crossed standard
    errors; its ``"n_clusters"`` entry holds the sweep points (prune ratios or numbers of
    clusters).

    The importances are computed in the worker from the model's own training images
    (:func:`importance_diagonal`): ``"fisher"`` is ``hessians[m]`` when given (the
    Gauss-Newton diagonal of the cross-entropy, which is the Fisher diagonal of any
    softmax network), ``"grad_hessian"`` pairs that diagonal with
    :func:`mean_gradient`.

    Besides the losses, every configuration records (arrays of shape (points, models)):

    ``"orthogonality"``, ``"distortion"``
        :func:`orthogonality` in the metric of the Fisher diagonal.
    ``"taylor"``
        The change of the training loss predicted by its second-order model,
        :func:`compression_objective` with ``Importance("grad_hessian", h, g)``
        (:math:`h` the Gauss-Newton diagonal, exact Hessian diagonal of ReLU networks).
    ``"fisher_orthogonality"``, ``"fisher_distortion"`` (objectives in ``fisher_kinds``)
        :func:`fisher_inner_products`, the full Fisher metric, on the model's training
        images; and ``per_sample["kl"]``, the KL divergence
        :math:`D_{KL}(f_w(x) \,\|\, f_{\hat w}(x))` of every test image.

    Parameters
    ----------
    models : sequence of torch.nn.Module
        Classifiers whose parameters all sit in Linear/Conv2d layers
        (:func:`infocompress.curvature.supports_closed_form`).
    data : dict
        ``{"train": (x_pool, y_pool, subsets), "test": (x_test, y_test)}``, as
        :meth:`infocompress.ensembles.Ensemble.data` with ``val=False`` returns.
    kinds : sequence of str, default ("baseline", "fisher", "gradient", "grad_hessian")
        Objectives, from :data:`KINDS`.
    hessians : sequence of dict, optional
        One Gauss-Newton diagonal per model, e.g.
        ``ens.hessians("gauss_newton", normalize=False)``; computed if absent.
    prune_ratios : sequence of float, default ()
        Fractions removed per layer, in [0, 1].
    n_clusters : sequence of int, default ()
        Numbers of shared values per layer.
    fisher_kinds : sequence of str, default ()
        Objectives (of ``kinds``) with the full-Fisher records.
    fisher_samples : int, optional
        Use the first ``fisher_samples`` training images of each model (the training
        subsets are in random order) for the full Fisher metric; default all.
    init, max_iter
        Of the k-means (default: quantile start, 30 iterations, as in Bu et al.'s code).
    n_jobs : int or None, default None
        Worker processes (joblib convention; one model per task). Results do not depend
        on it.
    progress : bool or None, optional

    Returns
    -------
    dict
        ``result[kind]["prune"]`` and ``result[kind]["quantize"]``, each a dict with
        ``"n_clusters"`` (the sweep points), ``"loss"`` and ``"accuracy"`` (``"train"`` and
        ``"test"`` arrays of shape (points, models)), ``"per_sample"`` (``"test"``, and
        ``"kl"`` for ``fisher_kinds``, of shape (points, models, test images)),
        ``"original"`` (the uncompressed models) and the records above.

    Raises
    ------
    ValueError
        For an unknown objective, mismatching lengths, no sweep point, bad ratios or
        numbers of clusters.

    Examples
    --------
    >>> gen = torch.Generator().manual_seed(0)
    >>> nets_ = [nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 3)) for _ in range(2)]
    >>> x = torch.randn(20, 3, generator=gen).numpy(); y = np.arange(20) % 3
    >>> data = {"train": (x, y, np.array([range(10)] * 2)), "test": (x[10:], y[10:])}
    >>> res = compare_objectives(nets_, data, kinds=["baseline", "fisher"],
    ...                          prune_ratios=[0.5], n_clusters=[2], progress=False)
    >>> res["fisher"]["quantize"]["per_sample"]["test"].shape
    (1, 2, 10)
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model")
    kinds = list(kinds)
    if not kinds or any(k not in KINDS for k in kinds) or len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must list distinct objectives from {KINDS}, got {kinds}")
    fisher_kinds = list(fisher_kinds)
    for kind in fisher_kinds:
        if kind not in kinds:
            raise ValueError(f"fisher_kinds names {kind!r}, which is not in kinds")
    if hessians is not None and len(hessians) != len(models):
        raise ValueError(f"hessians must hold one diagonal per model ({len(models)}), got "
                         f"{len(hessians)}")
    for m in models:
        _check_model(m)
        if not curvature.supports_closed_form(m):
            raise ValueError("every model's parameters must sit in Linear/Conv2d layers")
    ratios = [_check_ratio(r) for r in prune_ratios]
    ks = [check_int(k, "n_clusters", low=1) for k in n_clusters]
    if not ratios and not ks:
        raise ValueError("give at least one prune ratio or number of clusters")
    if fisher_samples is not None:
        fisher_samples = check_int(fisher_samples, "fisher_samples", low=1)
    max_iter = check_int(max_iter, "max_iter", low=1)
    if not isinstance(data, dict) or "train" not in data or "test" not in data:
        raise ValueError("data must be a dict with 'train' and 'test' entries")
    x_pool, y_pool, subsets = data["train"]
    subsets = np.asarray(subsets)
    if subsets.ndim != 2 or subsets.shape[0] != len(models):
        raise ValueError(f"the training subsets must have shape ({len(models)}, k), got "
                         f"{subsets.shape}")
    x_pool, y_pool = np.asarray(x_pool), np.asarray(y_pool)
    x_test, y_test = (np.asarray(a) for a in data["test"])
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs")
    settings = dict(kinds=kinds, ratios=ratios, ks=ks, fisher_kinds=fisher_kinds,
                    fisher_samples=fisher_samples, init=init, max_iter=max_iter)
    members = run_tasks(_compare_member,
                        ((models[m], x_pool[subsets[m]], y_pool[subsets[m]], x_test, y_test,
                          None if hessians is None else hessians[m], settings)
                         for m in range(len(models))),
                        total=len(models), n_jobs=n_jobs, desc="compressing",
                        progress=progress)
    original = {"loss": {q: np.array([r["orig"]["loss"][q] for r in members])
                         for q in ("train", "test")},
                "accuracy": {q: np.array([r["orig"]["acc"][q] for r in members])
                             for q in ("train", "test")},
                "per_sample": {"test": np.stack([r["orig"]["per_sample"] for r in members])}}
    out = {}
    for kind in kinds:
        out[kind] = {}
        for typ, points in (("prune", ratios), ("quantize", ks)):
            if not points:
                continue
            recs = [r[kind][typ] for r in members]
            res = {"n_clusters": np.asarray(points),
                   "loss": {q: np.stack([r["loss"][q] for r in recs], axis=1)
                            for q in ("train", "test")},
                   "accuracy": {q: np.stack([r["acc"][q] for r in recs], axis=1)
                                for q in ("train", "test")},
                   "per_sample": {q: np.stack([r["per_sample"][q] for r in recs], axis=1)
                                  for q in recs[0]["per_sample"]},
                   "original": original}
            for extra in RECORDS:
                if extra in recs[0]:
                    res[extra] = np.stack([r[extra] for r in recs], axis=1)
            out[kind][typ] = res
    return out


def _compare_member(model, x_tr, y_tr, x_te, y_te, hessian, settings):
    """Worker task of :func:`compare_objectives`: one model, every objective and point."""
    with models._OneThread():
        return _compare_member_work(model, x_tr, y_tr, x_te, y_te, hessian, settings)


def _member_importances(model, xtr, ytr, hessian, kinds):
    """The importances of one model on its training images (float32 inputs)."""
    if hessian is None:
        fis = importance_diagonal(model, xtr, kind="fisher", algorithm="closed_form")
    else:
        fis = Importance("fisher", {k: v.double() for k, v in hessian.items()})
    g = mean_gradient(model, xtr, ytr, batch_size=256)
    imps = {}
    for kind in kinds:
        if kind == "fisher":
            imps[kind] = fis
        elif kind == "grad_hessian":
            imps[kind] = Importance(kind, fis.h, g)
        elif kind == "gradient":
            imps[kind] = importance_diagonal(model, xtr, ytr, kind="gradient",
                                             algorithm="closed_form", batch_size=256)
        else:
            imps[kind] = importance_diagonal(model, xtr, ytr, kind=kind)
    return imps, fis, Importance("grad_hessian", fis.h, g)


@models._portable
def _compare_member_work(model, x_tr, y_tr, x_te, y_te, hessian, settings):
    dev = torch.device("cpu")
    model.eval()
    xtr = torch.from_numpy(np.array(x_tr, copy=True))
    ytr = torch.from_numpy(np.array(y_tr, dtype=np.int64, copy=True))
    xte = torch.from_numpy(np.array(x_te, copy=True))
    yte = torch.from_numpy(np.array(y_te, dtype=np.int64, copy=True))
    imps, metric, taylor = _member_importances(model, xtr, ytr, hessian, settings["kinds"])
    x_f = xtr if settings["fisher_samples"] is None else xtr[:settings["fisher_samples"]]
    x_all, y_all, n_tr = torch.cat([xtr, xte]), torch.cat([ytr, yte]), len(ytr)
    dtype = next(model.parameters()).dtype
    names = models.quantizable_parameters(model)

    def forward(net):
        # small batches: ATen's convolution is much faster on them than on thousands
        with torch.no_grad():
            return torch.cat([net(x_all[s:s + 256].to(dev, dtype))
                              for s in range(0, len(y_all), 256)])

    logits0 = forward(model)
    logp0 = torch.log_softmax(logits0[n_tr:].double(), dim=-1)

    def measure(logits):
        models._check_labels_vs_logits(y_all, logits.shape[-1])
        loss = F.cross_entropy(logits, y_all, reduction="none").double().numpy()
        hit = (logits.argmax(dim=1) == y_all).numpy()
        return ({"train": float(loss[:n_tr].mean()), "test": float(loss[n_tr:].mean())},
                {"train": float(hit[:n_tr].mean()), "test": float(hit[n_tr:].mean())},
                loss[n_tr:])

    loss0, acc0, te0 = measure(logits0)
    out = {"orig": {"loss": loss0, "acc": acc0, "per_sample": te0}}
    base = None
    if settings["fisher_kinds"]:
        base = _logits_and_jw(model, x_f, names, 256, dev)
    for kind, imp in imps.items():
        out[kind] = {}
        full = kind in settings["fisher_kinds"]
        for typ, points in (("prune", settings["ratios"]), ("quantize", settings["ks"])):
            if not points:
                continue
            n_p = len(points)
            rec = {"loss": {q: np.empty(n_p) for q in ("train", "test")},
                   "acc": {q: np.empty(n_p) for q in ("train", "test")},
                   "per_sample": {"test": np.empty((n_p, len(y_te)))},
                   **{r: np.empty(n_p) for r in RECORDS[:3]}}
            if full:
                rec["per_sample"]["kl"] = np.empty((n_p, len(y_te)))
                rec.update({r: np.empty(n_p) for r in RECORDS[3:]})
            if typ == "prune":  # one sort per layer for all ratios (as pruning_masks)
                data = _check_importance(imp, model, names)
                orders = {nm: np.argsort(_prune_scores(*data[nm]), kind="stable")
                          for nm in names}
            for i, pt in enumerate(points):
                if typ == "prune":
                    small = _prune_with_orders(model, pt, orders)
                else:
                    small = quantize(model, pt, imp, method="kmeans", init=settings["init"],
                                     max_iter=settings["max_iter"], rng=0)
                logits = forward(small)
                loss, acc, te = measure(logits)
                for q in ("train", "test"):
                    rec["loss"][q][i], rec["acc"][q][i] = loss[q], acc[q]
                rec["per_sample"]["test"][i] = te
                r = orthogonality(model, small, metric)
                rec["orthogonality"][i], rec["distortion"][i] = (r["orthogonality"],
                                                                 r["distortion"])
                rec["taylor"][i] = compression_objective(model, small, taylor)
                if full:
                    r = _fisher_inner(model, small, x_f, names, 256, dev, base=base)
                    rec["fisher_orthogonality"][i] = r["orthogonality"]
                    rec["fisher_distortion"][i] = r["distortion"]
                    logq = torch.log_softmax(logits[n_tr:].double(), dim=-1)
                    rec["per_sample"]["kl"][i] = (logp0.exp() * (logp0 - logq)).sum(-1).numpy()
            out[kind][typ] = rec
    return out


@validate_params(n_jobs=Options(None, Integer()), ens=HasAttrs("models", "n_models",
                 description="an infocompress.ensembles.Ensemble"), prune_ratios=Reals(low=0,
                 high=1, high_open=True), n_clusters=Sizes(low=1))
def ensemble_comparison(ens, *, n_models=None, kinds=("baseline", "fisher", "gradient",
                                                       "grad_hessian"),
                        prune_ratios=(), n_clusters=(), fisher_kinds=(), fisher_samples=None,
                        init="quantile", max_iter=30, reuse_hessians=True, n_jobs=-1,
                        progress=None) -> dict:
    """:func:`compare_objectives` on the first ``n_models`` networks of an ensemble, cached.

    With ``reuse_hessians`` the Fisher (= Gauss-Newton) diagonals are the ensemble's cached
    ``ens.hessians("gauss_newton", normalize=False)`` (each network on its own training
    images, all networks of the ensemble); otherwise the workers compute the same
    diagonals for the networks used only. The data are ``ens.data(val=False)``. The result
    is deterministic, so it is stored in the on-disk cache (:mod:`infocompress.cache`)
    under the ensemble's key, the settings and the source code involved; a second call
    returns it from there.

    Parameters
    ----------
    ens : infocompress.ensembles.Ensemble
    n_models : int, optional
        Use the first ``n_models`` networks (default all).
    kinds, prune_ratios, n_clusters, fisher_kinds, fisher_samples, init, max_iter
        As in :func:`compare_objectives`.
    reuse_hessians : bool, default True
        Take the diagonals from :meth:`~infocompress.ensembles.Ensemble.hessians` (cached
        on disk; worth it when another chapter uses them too).
    n_jobs : int or None, default -1
    progress : bool or None, optional

    Returns
    -------
    dict
        As :func:`compare_objectives`.

    Raises
    ------
    ValueError
        For a bad ``n_models`` or any argument :func:`compare_objectives` rejects.

    Examples
    --------
    >>> from infocompress import ensembles
    >>> ens = ensembles.load_ensemble(ensembles.DIGITS_MLP, dataset="digits", n_models=2,
    ...                               pool_fraction=0.3, subset_size=50, rng=0, n_jobs=1,
    ...                               progress=False)
    >>> res = ensemble_comparison(ens, kinds=["baseline", "fisher"], prune_ratios=[0.5],
    ...                           n_clusters=[2], n_jobs=1, progress=False)
    >>> res["fisher"]["prune"]["loss"]["test"].shape  # (sweep points, networks)
    (1, 2)
    """
    from . import cache, compression, kmeans, kmeans1d

    n = ens.n_models if n_models is None else check_int(n_models, "n_models", low=1,
                                                         high=ens.n_models)
    settings = dict(kinds=list(kinds), prune_ratios=[float(r) for r in prune_ratios],
                    n_clusters=[int(k) for k in n_clusters], fisher_kinds=list(fisher_kinds),
                    fisher_samples=fisher_samples, init=init, max_iter=int(max_iter))
    key = {"what": "importance comparison", "ensemble": cache.key_digest(ens.key),
           "n_models": n, "reuse_hessians": bool(reuse_hessians), **settings,
           "source": cache.source_digest(
               sys.modules[__name__], curvature, kmeans, kmeans1d, compression._quantize_weights,
               models.quantizable_parameters,
               models._portable, models._OneThread, models._check_labels_vs_logits)}

    def compute():
        hess = None
        if reuse_hessians:
            hess = ens.hessians("gauss_newton", normalize=False, n_jobs=n_jobs,
                                progress=progress)[:n]
        x_pool, y_pool, subsets = ens.data(val=False)["train"]
        data = {"train": (x_pool, y_pool, subsets[:n]), "test": (ens.x_test, ens.y_test)}
        return compare_objectives(ens.models[:n], data, hessians=hess, n_jobs=n_jobs,
                                  progress=progress, **settings)

    name = f"{ens.recipe.name}-{ens.dataset}-importance"
    return cache.cached(name, key, compute)[0]


def _prune_with_orders(model, ratio, orders):
    """:func:`prune` with the per-layer orders of the scores already computed."""
    out = copy.deepcopy(model)
    named = dict(out.named_parameters())
    with torch.no_grad():
        for name, order in orders.items():
            k = int(math.floor(ratio * order.size + 0.5))
            keep = np.ones(order.size, dtype=bool)
            keep[order[:k]] = False
            p = named[name]
            p.mul_(torch.from_numpy(keep.reshape(tuple(p.shape))).to(p.device, p.dtype))
    return out
