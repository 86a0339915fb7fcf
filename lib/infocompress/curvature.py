r"""Exact Gauss-Newton diagonals of a network's training loss, in closed form per layer.

For a network :math:`f_w` with logits :math:`z_i = f_w(x_i)` and a per-sample loss
:math:`\phi(z_i, y_i)`, the generalised Gauss-Newton matrix of
:math:`\frac1n\sum_i \phi(f_w(x_i), y_i)` is

.. math::

    G = \frac1n \sum_{i=1}^n J_i^\top \Lambda_i J_i, \qquad
    J_i = \frac{\partial z_i}{\partial w}, \quad
    \Lambda_i = \frac{\partial^2 \phi}{\partial z^2}(z_i, y_i) \succeq 0 .

Write :math:`\Lambda_i = S_i S_i^\top` with a few columns :math:`s_{ir}`. For the weight
:math:`W_{jk}` of a linear layer with input :math:`a_i` and output :math:`u_i = W a_i + b`,
:math:`\partial z_i/\partial W_{jk} = (\partial z_i/\partial u_{ij})\, a_{ik}`, so

.. math::

    G_{W_{jk}, W_{jk}} = \frac1n \sum_i \sum_r \delta_{irj}^2\, a_{ik}^2, \qquad
    \delta_{ir} = \Bigl(\frac{\partial z_i}{\partial u_i}\Bigr)^{\!\top} s_{ir},

where :math:`\delta_{ir}` is an ordinary back-propagation of the vector :math:`s_{ir}` from
the logits to the layer's output. A convolution shares its kernel over positions, so its
per-sample gradient :math:`\delta_{ir} \star a_i` is formed (with
:func:`torch.nn.functional.unfold`) before squaring. Each batch therefore costs one
forward pass, one backward pass to the layer outputs for all columns of :math:`S` at once
(10 for ten classes), and a matrix product per layer: a fraction of a second for a
270k-parameter MLP on 2,000 images, where per-sample Jacobians (the former
implementation of :func:`infocompress.curvature.hessian_diagonal`) took minutes. This is the
approach of BackPACK's ``DiagGGNExact`` (Dangel, Kunstner and Hennig 2020); it is written
here because it also serves the squared loss of Bu et al.'s code, which BackPACK does not
offer, and needs about sixty lines.

Three choices of :math:`\Lambda` are available:

``"cross_entropy"``
    :math:`\phi = -\log \operatorname{softmax}(z)_y`, :math:`\Lambda = \operatorname{diag}(p)
    - p p^\top` with the factor :math:`s_c = \sqrt{p_c}\,(e_c - p)`. For ReLU/max-pool
    networks without normalisation the logits are piecewise linear in each single weight,
    so this diagonal *is* the exact Hessian diagonal of the mean cross-entropy (almost
    everywhere).
``"squared_cross_entropy"``
    :math:`\phi = \ell^2` with :math:`\ell` the cross-entropy, :math:`\Lambda = 2 g g^\top
    + 2 \ell (\operatorname{diag}(p) - p p^\top)` with :math:`g = p - e_y`: the importance
    that Bu et al.'s code computes (``retrain.py``, ``get_hessian_importance``: the
    Hessian diagonal of ``CrossEntropy(output) ** 2`` taken through the logits, one sample
    at a time), before it normalises each layer to mean 1.
``"empirical_fisher"``
    :math:`\Lambda = g g^\top` with :math:`g = p - e_y` the gradient of the cross-entropy in
    the logits: the diagonal is then :math:`\frac1n\sum_i (\partial \ell_i/\partial w)^2`,
    the mean squared per-sample gradient (the "empirical Fisher"), in one backward pass.

For the softmax cross-entropy, ``"cross_entropy"`` is also the diagonal of the Fisher
information :math:`\frac1n\sum_i \sum_c p_{ic} (\partial_w \log p_{ic})^2`, for any network.

References
----------
.. [1] F. Dangel, F. Kunstner, P. Hennig, "BackPACK: packing more into backprop",
   ICLR 2020.
.. [2] N. N. Schraudolph, "Fast curvature matrix-vector products for second-order
   gradient descent", Neural Computation 14(7), 2002.
.. [3] Y. Bu, W. Gao, S. Zou, V. V. Veeravalli, "Population risk improvement with model
   compression", Entropy 23(10):1255, 2021, Section 6.1; code at
   github.com/wgao9/weight-quant.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

from ._parallel import run_tasks
from ._validation import (
    ArrayLike,
    Integer,
    Models,
    Options,
    TorchModule,
    check_int,
    validate_params,
)
from .models import (
    _as_x,
    _as_y,
    _cast_finite,
    _check_device,
    _check_labels_vs_logits,
    _model_dtype,
    _OneThread,
    _portable,
    quantizable_parameters,
)
from .progress import progress_bar

__all__ = [
    "CURVATURE_ALGORITHMS",
    "CURVATURE_LOSSES",
    "HESSIAN_METHODS",
    "ensemble_hessians",
    "gauss_newton_diagonal",
    "hessian_diagonal",
    "supports_closed_form",
]

#: Accepted values of ``algorithm`` in :func:`hessian_diagonal`.
CURVATURE_ALGORITHMS = ("auto", "closed_form", "per_sample")
#: Per-sample losses whose Gauss-Newton diagonal :func:`gauss_newton_diagonal` computes.
CURVATURE_LOSSES = ("cross_entropy", "squared_cross_entropy", "empirical_fisher")

_LAYERS = (nn.Linear, nn.Conv2d)


@validate_params(model=TorchModule())
def supports_closed_form(model) -> bool:
    """True if every parameter of ``model`` is the weight or bias of a Linear or an
    ungrouped Conv2d layer, each used once per forward pass (checked at run time).

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    bool

    Examples
    --------
    >>> supports_closed_form(nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 2)))
    True
    >>> supports_closed_form(nn.Sequential(nn.Linear(3, 2), nn.LayerNorm(2)))
    False
    """
    covered = set()
    for mod in model.modules():
        if isinstance(mod, _LAYERS):
            if isinstance(mod, nn.Conv2d) and (mod.groups != 1 or mod.padding_mode != "zeros"):
                return False
            covered.update(id(p) for p in mod.parameters(recurse=False))
    return all(id(p) in covered for p in model.parameters())


def _loss_factor(logits, y, loss):
    """Columns of S with S S^T the Hessian of the per-sample loss in the logits.

    Returns a tensor of shape (R, B, C): R columns for each of the B samples.
    """
    p = torch.softmax(logits.detach().double(), dim=1)
    b, c = p.shape
    eye = torch.eye(c, dtype=p.dtype, device=p.device)
    # s_c = sqrt(p_c) (e_c - p): sum_c s_c s_c^T = diag(p) - p p^T
    cols = torch.sqrt(p).T[:, :, None] * (eye[:, None, :] - p[None, :, :])
    if loss == "empirical_fisher":
        cols = (p - eye[y])[None]
    elif loss == "squared_cross_entropy":
        ell = F.cross_entropy(logits.detach().double(), y, reduction="none")
        g = p - eye[y]
        cols = torch.cat([(2.0**0.5) * g[None], torch.sqrt(2.0 * ell)[None, :, None] * cols])
    return cols.to(logits.dtype)


@validate_params(model=TorchModule(), x=ArrayLike(nonempty=True), y=ArrayLike(ndim=1),
                 batch_size=Integer(low=1))
def gauss_newton_diagonal(model, x, y, *, loss="cross_entropy", batch_size=1024):
    r"""Diagonal of the Gauss-Newton matrix of the mean per-sample loss, for every parameter.

    .. math::

        \operatorname{diag} G = \operatorname{diag}\Bigl(\frac1n \sum_i J_i^\top
        \Lambda_i J_i\Bigr)

    computed exactly, layer by layer, as described in the module docstring. The model is
    evaluated in evaluation mode (dropout off) and left in the mode it had.

    Parameters
    ----------
    model : torch.nn.Module
        Network returning logits whose parameters all belong to Linear or Conv2d layers
        (:func:`supports_closed_form`), each applied once per forward pass; not modified.
    x : torch.Tensor of shape (n, ...)
        Inputs, already of the model's dtype and device.
    y : torch.Tensor of shape (n,)
        Integer labels (int64) on the same device.
    loss : str, default "cross_entropy"
        One of :data:`CURVATURE_LOSSES`: which :math:`\Lambda` (see the module docstring).
    batch_size : int, default 1024
        Samples per forward pass (memory only).

    Returns
    -------
    dict of str to torch.Tensor
        Parameter name -> non-negative tensor of the parameter's shape (float64, on the
        model's device).

    Raises
    ------
    ValueError
        If ``loss`` is unknown, a parameter is not covered by a Linear/Conv2d layer, or a
        layer is used more than once per forward pass.

    Examples
    --------
    A single linear layer: the closed form against the explicit sum over samples.

    >>> torch.manual_seed(0) and None
    >>> lin = nn.Linear(3, 4).double()
    >>> x, y = torch.randn(5, 3, dtype=torch.float64), torch.tensor([0, 1, 2, 3, 0])
    >>> g = gauss_newton_diagonal(lin, x, y)
    >>> p = torch.softmax(lin(x), 1)
    >>> lam = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]
    >>> ref = torch.einsum("bjj,bk->jk", lam, x**2) / 5   # J = e_j a^T for W_jk
    >>> bool(torch.allclose(g["weight"], ref))
    True
    """
    if loss not in CURVATURE_LOSSES:
        raise ValueError(f"loss must be one of {CURVATURE_LOSSES}, got {loss!r}")
    if len(y) != len(x):
        raise ValueError(f"y must hold one label per sample of x, got {len(y)} labels for "
                         f"{len(x)} samples")
    if not supports_closed_form(model):
        raise ValueError("every parameter must belong to a Linear or an ungrouped Conv2d "
                         "layer for the closed-form Gauss-Newton diagonal")
    layers = [(name, mod) for name, mod in model.named_modules() if isinstance(mod, _LAYERS)]
    records = {}

    def hook(mod, inputs, output):
        if mod in records:
            raise ValueError(f"layer {type(mod).__name__} is applied more than once per "
                             "forward pass; the closed form needs each layer once")
        records[mod] = (inputs[0].detach(), output)

    handles = [mod.register_forward_hook(hook) for _, mod in layers]
    onednn = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False  # portable numerics, see models.PORTABLE_NUMERICS
    acc = {}
    for name, mod in layers:
        for pname, p in mod.named_parameters(recurse=False):
            acc[f"{name}.{pname}" if name else pname] = torch.zeros(
                p.shape, dtype=torch.float64, device=p.device)
    was_training = model.training
    model.eval()
    n = x.shape[0]
    try:
        with torch.enable_grad():
            for start in range(0, n, batch_size):
                records.clear()
                xb, yb = x[start:start + batch_size], y[start:start + batch_size]
                logits = model(xb)
                live = [(name, mod) for name, mod in layers if mod in records]
                outs = [records[mod][1] for _, mod in live]
                factor = _loss_factor(logits, yb, loss)
                # all columns at once: one vectorised backward pass per batch
                deltas = torch.autograd.grad(logits, outs, grad_outputs=factor,
                                             is_grads_batched=True)
                for (name, mod), delta in zip(live, deltas, strict=True):
                    _accumulate(acc, name, mod, records[mod][0], delta.detach())
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
        torch.backends.mkldnn.enabled = onednn
    return {k: v / n for k, v in acc.items()}


def _accumulate(acc, name, mod, a, delta):
    """Add the contributions of all columns (delta has shape (R, B, ...)) to the diagonal
    of one layer's weight and bias. Products run in the model's dtype and are summed
    in float64."""
    prefix = f"{name}." if name else ""
    if isinstance(mod, nn.Linear):
        if a.ndim != 2:
            raise ValueError("the closed form handles Linear layers on (n, features) inputs")
        d2 = delta.square().sum(0)                                       # (B, out)
        acc[prefix + "weight"] += (d2.T @ a.square()).double()
        if mod.bias is not None:
            acc[prefix + "bias"] += d2.double().sum(0)
        return
    cols = F.unfold(a, mod.kernel_size, dilation=mod.dilation, padding=mod.padding,
                    stride=mod.stride)                                   # (B, Cin*k*k, P)
    r, b, c_out = delta.shape[:3]
    # one batched product per sample: (R * Cout, P) @ (P, Cin*k*k)
    d = delta.reshape(r, b, c_out, -1).transpose(0, 1).reshape(b, r * c_out, -1)
    per_sample = torch.bmm(d, cols.transpose(1, 2))                     # (B, R*Cout, K)
    acc[prefix + "weight"] += per_sample.reshape(b, r, c_out, -1).square().sum((0, 1)) \
        .double().reshape(mod.weight.shape)
    if mod.bias is not None:
        acc[prefix + "bias"] += d.sum(2).reshape(b, r, c_out).square().sum((0, 1)).double()


#: Accepted values of ``method`` in :func:`hessian_diagonal`.
HESSIAN_METHODS = ("gauss_newton", "exact", "fisher", "gauss_newton_squared")


# --------------------------------------------------------------------------------------
# Hessian diagonal
# --------------------------------------------------------------------------------------
@_portable
def hessian_diagonal(model, x, y, *, method="gauss_newton", algorithm="auto",
                     batch_size=None, device="cpu", dtype=None):
    """Diagonal of the Hessian of the training loss with respect to every parameter.

    The training loss is the mean cross-entropy :math:`L_S(w) = \\frac1n\\sum_i
    \\ell(f_w(x_i), y_i)` over the given data (no weight decay), with the network in
    evaluation mode (dropout off; the mode is restored afterwards). Its Hessian is the
    Gauss-Newton term plus a curvature term of the network,

    .. math::
        \\nabla^2 L_S(w) = \\frac1n \\sum_i J_i^\\top H_i J_i
          + \\frac1n \\sum_i \\sum_c (p_{ic} - [y_i = c])\\, \\nabla^2 f_{w,c}(x_i),

    with :math:`J_i = \\partial f_w(x_i)/\\partial w` the Jacobian of the logits,
    :math:`p_i = \\operatorname{softmax}(f_w(x_i))` and
    :math:`H_i = \\operatorname{diag}(p_i) - p_i p_i^\\top`. Methods:

    ``"gauss_newton"`` (default)
        Diagonal of the first term, computed exactly. For networks whose parameters all
        sit in Linear/Conv2d layers (those of :func:`~infocompress.models.make_mlp` and
        :func:`~infocompress.models.make_convnet`)
        it uses the per-layer closed form of
        :func:`infocompress.curvature.gauss_newton_diagonal` (seconds for 270k parameters
        and 2,000 samples); otherwise per-sample Jacobians (``torch.func.vmap(jacrev)``),
        :math:`\\frac1n\\sum_i [\\sum_c p_{ic} J_{icj}^2 - (\\sum_c p_{ic} J_{icj})^2] \\ge 0`.
        For networks that are piecewise linear in each single parameter -- ReLU and
        max-pool layers, no normalisation -- the logits are linear in any one coordinate
        :math:`w_j` between kinks, so :math:`\\partial^2 f/\\partial w_j^2 = 0` and this **is**
        the exact Hessian diagonal (off-diagonal entries differ). For smooth activations
        (tanh, ...) it is the usual positive semi-definite approximation.
    ``"exact"``
        The exact diagonal from one Hessian-vector product per coordinate (reverse-over-
        reverse, vectorised over coordinates). Costs about ``d`` gradient evaluations on
        the full data: use it for small networks. Entries can be negative away from a
        minimum; :func:`~infocompress.compression.quantize_model` clips negative weights to 0.
    ``"fisher"``
        The empirical Fisher :math:`\\frac1n\\sum_i (\\partial\\ell_i/\\partial w_j)^2`, an
        approximation that vanishes when the training data are fitted perfectly.
    ``"gauss_newton_squared"``
        The Gauss-Newton diagonal of the mean *squared* per-sample loss
        :math:`\\frac1n\\sum_i \\ell_i^2`, the weight importance of Bu et al.'s code
        (``retrain.py``; see :mod:`infocompress.curvature`); Linear/Conv2d networks only.
        It weights each sample by about its loss, so well-fitted samples count little.

    Parameters
    ----------
    model : torch.nn.Module
        Network returning logits (not modified).
    x : array-like or torch.Tensor of shape (n, ...)
        Data defining the loss (the model's training set).
    y : array-like or torch.Tensor of shape (n,)
    method : str, default "gauss_newton"
        One of ``"gauss_newton"``, ``"exact"``, ``"fisher"``, ``"gauss_newton_squared"``.
    algorithm : {"auto", "closed_form", "per_sample"}, default "auto"
        How ``"gauss_newton"`` and ``"fisher"`` are computed. ``"auto"``: the per-layer
        closed form for ``"gauss_newton"`` (and ``"gauss_newton_squared"``) when the network
        allows it, per-sample gradients for ``"fisher"``; ``"closed_form"``: the closed form
        for all three (``"fisher"`` with the ``"empirical_fisher"`` loss of
        :func:`gauss_newton_diagonal`), a ValueError for a network it does not cover or
        for ``"exact"``; ``"per_sample"``: per-sample Jacobians or gradients (any network;
        not for ``"gauss_newton_squared"``). The methods agree up to rounding.
    batch_size : int, optional
        Samples (or, for ``"exact"``, coordinates) per vectorised chunk; by default 1024
        samples for the closed form, else chosen to keep about 2**23 numbers in memory per
        chunk.
    device : str or torch.device, default "cpu"
    dtype : torch.dtype, optional
        dtype of the returned tensors; by default each parameter's own (the sums are
        accumulated in float64 either way; ``torch.float64`` keeps them).

    Returns
    -------
    dict of str to torch.Tensor
        Parameter name -> tensor of the parameter's shape and dtype (on the CPU).

    Raises
    ------
    ValueError
        For an unknown method or bad data.

    References
    ----------
    Bu et al. (2021), Section 6.1, eq. (29)-(30) (Hessian-weighted k-means uses this
    diagonal); Choi, El-Khamy and Lee (2017), *Towards the limit of network quantization*;
    LeCun, Denker and Solla (1990), *Optimal brain damage*; Dangel, Kunstner and Hennig
    (2020), *BackPACK*.

    Examples
    --------
    >>> from infocompress.models import make_mlp
    >>> net = make_mlp((4,), rng=0).double()
    >>> x = np.random.default_rng(1).normal(size=(6, 8, 8)); y = [0, 1, 2, 3, 4, 5]
    >>> gn = hessian_diagonal(net, x, y)
    >>> ex = hessian_diagonal(net, x, y, method="exact")
    >>> all(torch.allclose(gn[k], ex[k], atol=1e-10) for k in gn)
    True
    """
    if method not in HESSIAN_METHODS:
        raise ValueError(f"method must be one of {HESSIAN_METHODS}, got {method!r}")
    if algorithm not in CURVATURE_ALGORITHMS:
        raise ValueError(f"algorithm must be one of {CURVATURE_ALGORITHMS}, got {algorithm!r}")
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"dtype must be a floating torch.dtype or None, got {dtype!r}")
    out_dtype = dtype
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if batch_size is not None:
        batch_size = check_int(batch_size, "batch_size", low=1)
    dev = _check_device(device)
    xt = _as_x(x)
    yt = _as_y(y, xt.shape[0])
    model = model.to(dev)
    dtype = _model_dtype(model)
    xt, yt = _cast_finite(xt, dtype).to(dev), yt.to(dev)
    closed = supports_closed_form(model)
    if method == "gauss_newton_squared" and (not closed or algorithm == "per_sample"):
        raise ValueError("method='gauss_newton_squared' needs the closed form: a network "
                         "whose parameters all belong to Linear/Conv2d layers, and "
                         f"algorithm 'auto' or 'closed_form' (got {algorithm!r})")
    if algorithm == "closed_form" and (not closed or method == "exact"):
        raise ValueError("algorithm='closed_form' needs method 'gauss_newton', 'fisher' or "
                         "'gauss_newton_squared' and a network whose parameters all belong to "
                         f"Linear/Conv2d layers (got method={method!r})")
    loss = {"gauss_newton": "cross_entropy", "gauss_newton_squared": "squared_cross_entropy",
            "fisher": "empirical_fisher"}.get(method)
    use_closed = (algorithm == "closed_form"
                  or (algorithm == "auto" and closed and method != "fisher" and loss))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            n_out = int(model(xt[:1]).shape[-1])
        _check_labels_vs_logits(yt, n_out)
        if use_closed:
            out = gauss_newton_diagonal(model, xt, yt, loss=loss,
                                        batch_size=batch_size or 1024)
        else:
            params = {k: v.detach() for k, v in model.named_parameters()}
            buffers = {k: v.detach() for k, v in model.named_buffers()}
            if method == "exact":
                out = _hess_diag_exact(model, params, buffers, xt, yt, batch_size)
            else:
                out = _hess_diag_per_sample(model, params, buffers, xt, yt, method, n_out,
                                            batch_size)
    finally:
        model.train(was_training)
    dtypes = {k: v.dtype if out_dtype is None else out_dtype
              for k, v in model.named_parameters()}
    return {k: v.to("cpu", dtypes[k]) for k, v in out.items()}


def _hess_diag_per_sample(model, params, buffers, x, y, method, n_out, batch_size):
    d = sum(p.numel() for p in params.values())
    if batch_size is None:
        batch_size = max(1, 2**23 // max(1, d * (n_out if method == "gauss_newton" else 1)))
    acc = {k: torch.zeros(p.numel(), dtype=torch.float64, device=p.device)
           for k, p in params.items()}

    def logits_one(p, x1):
        return functional_call(model, (p, buffers), (x1.unsqueeze(0),)).squeeze(0)

    def loss_one(p, x1, y1):
        return F.cross_entropy(logits_one(p, x1).unsqueeze(0), y1.unsqueeze(0))

    jac = vmap(jacrev(logits_one), in_dims=(None, 0))
    per_grad = vmap(grad(loss_one), in_dims=(None, 0, 0))
    n = x.shape[0]
    for s in range(0, n, batch_size):
        xb, yb = x[s:s + batch_size], y[s:s + batch_size]
        b = xb.shape[0]
        if method == "gauss_newton":
            with torch.no_grad():
                prob = torch.softmax(functional_call(model, (params, buffers), (xb,)), dim=1)
            jb = jac(params, xb)
            for k in params:
                # sum_c p_c (J_c - Jbar)^2 with Jbar = sum_c p_c J_c: a variance, >= 0
                jk = jb[k].reshape(b, n_out, -1)
                jk = jk - torch.einsum("bc,bcd->bd", prob, jk).unsqueeze(1)
                acc[k] += torch.einsum("bc,bcd->d", prob, jk.square_()).double()
        else:
            gb = per_grad(params, xb, yb)
            for k in params:
                acc[k] += gb[k].reshape(b, -1).square().sum(0).double()
    return {k: (acc[k] / n).reshape(params[k].shape) for k in params}


def _hess_diag_exact(model, params, buffers, x, y, batch_size):
    def loss(p):
        return F.cross_entropy(functional_call(model, (p, buffers), (x,)), y)

    g = grad(loss)
    if batch_size is None:
        batch_size = max(1, 2**23 // max(1, x.numel() * 8))
    out = {}
    for name, p in params.items():
        numel = p.numel()

        def entry(e_row, name=name, p=p):
            # reverse-over-reverse Hessian-vector product restricted to one tensor
            def directional(q):
                return (g({**params, name: q})[name].reshape(-1) * e_row).sum()

            return (grad(directional)(p).reshape(-1) * e_row).sum()

        eye = torch.eye(numel, dtype=p.dtype, device=p.device)
        vals = [vmap(entry)(eye[s:s + batch_size]) for s in range(0, numel, batch_size)]
        out[name] = torch.cat(vals).double().reshape(p.shape)
    return out


@validate_params(n_jobs=Options(None, Integer()), models=Models())
def ensemble_hessians(models, x, y, subsets=None, *, method="gauss_newton", device="cpu",
                      normalize=False, n_jobs=None, progress=None):
    """Hessian diagonal of each model's own training loss (:func:`hessian_diagonal`).

    Parameters
    ----------
    models : sequence of torch.nn.Module
    x : array-like of shape (n, ...)
    y : array-like of shape (n,)
    subsets : array-like of shape (n_models, k), optional
        Row ``m`` holds the indices of model ``m``'s training samples (as returned by
        :func:`~infocompress.training.train_ensemble`); default: every model uses all of ``x``.
    method : str, default "gauss_newton"
        One of :data:`HESSIAN_METHODS` (see :func:`hessian_diagonal`).
    device : str or torch.device, default "cpu"
    normalize : bool, default False
        Divide the diagonal of every quantizable weight tensor
        (:func:`~infocompress.models.quantizable_parameters`) by its mean, as Bu et al.'s code does
        with its
        importances (``retrain.py``), so that Hessian-weighted k-means sees weights of mean
        1 in every layer and a ``beta`` means the same in every layer and model. Other
        parameters are left as computed.
    n_jobs : int or None, default None
        Worker processes (joblib convention); results do not depend on it.
    progress : bool or None, optional
        Progress bar over models.

    Returns
    -------
    list of dict
        One ``{parameter name: tensor}`` per model.

    Examples
    --------
    >>> from infocompress.models import make_mlp
    >>> nets_ = [make_mlp((4,), rng=s) for s in range(2)]
    >>> x = np.random.default_rng(0).normal(size=(6, 8, 8)); y = np.arange(6)
    >>> hs = ensemble_hessians(nets_, x, y, [[0, 1, 2], [3, 4, 5]], progress=False)
    >>> len(hs), sorted(hs[0])[:2]
    (2, ['1.bias', '1.weight'])
    >>> hn = ensemble_hessians(nets_, x, y, normalize=True, progress=False)
    >>> round(float(hn[0]["1.weight"].mean()), 6)
    1.0
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model")
    if method not in HESSIAN_METHODS:
        raise ValueError(f"method must be one of {HESSIAN_METHODS}, got {method!r}")
    xt = _as_x(x)
    yt = _as_y(y, xt.shape[0])
    x_np = _cast_finite(xt, _model_dtype(models[0])).numpy()
    y_np = yt.numpy()
    if subsets is not None:
        subsets = np.asarray(subsets)
        if subsets.ndim != 2 or subsets.shape[0] != len(models):
            raise ValueError(f"subsets must have shape ({len(models)}, k), got {subsets.shape}")
        if not np.issubdtype(subsets.dtype, np.integer) or subsets.min() < 0 or \
                subsets.max() >= len(y_np):
            raise ValueError(f"subsets must hold indices in 0..{len(y_np) - 1}")
    dev = _check_device(device)
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs")

    def rows(m):
        return slice(None) if subsets is None else subsets[m]

    if dev.type == "cpu":
        out = run_tasks(_hessian_member,
                        ((models[m], x_np[rows(m)], y_np[rows(m)], method, "cpu")
                         for m in range(len(models))),
                        total=len(models), n_jobs=n_jobs, desc="Hessian diagonals",
                        progress=progress)
    else:
        out = [_hessian_member(models[m], x_np[rows(m)], y_np[rows(m)], method, dev)
               for m in progress_bar(range(len(models)), desc="Hessian diagonals",
                                     progress=progress)]
    if normalize:
        names = quantizable_parameters(models[0])
        for h in out:
            for name in names:
                mean = float(h[name].double().mean())
                if not mean > 0:
                    raise ValueError(f"cannot normalise the Hessian of {name!r}: its mean is "
                                     f"{mean}")
                h[name] = h[name] / mean
    return out


def _hessian_member(model, x, y, method, device):
    """Worker task of :func:`ensemble_hessians` (one torch thread)."""
    with _OneThread():
        return hessian_diagonal(model, np.array(x, copy=True), np.array(y, copy=True),
                                method=method, device=device)
