"""PyTorch pieces of the LC algorithm: an SGD L step with the clipped learning rate, and
retraining of a compressed net with its compression structure fixed.

Importing this module imports torch; :mod:`infocompress.lc` loads it lazily.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call

from .._validation import (
    ArrayLike,
    as_finite_array,
    as_generator,
    check_int,
    check_real,
    describe,
    validate_params,
)
from ..models import _check_model, torch_generator
from ..progress import progress_bar
from .algorithm import _Groups
from .compression import BinarizedTheta, LowRankTheta, PrunedTheta, QuantizedTheta

__all__ = [
    "TorchLStep",
    "clipped_lr",
    "model_weights",
    "set_model_weights",
    "torch_l_step",
    "torch_retrain",
]


# --------------------------------------------------------------------------------------
# weights <-> numpy
# --------------------------------------------------------------------------------------
def model_weights(model) -> dict:
    """Copy of every named parameter of ``model`` as a float64 numpy array.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    dict
        ``{name: ndarray}`` in :meth:`~torch.nn.Module.named_parameters` order, the
        container that :func:`infocompress.lc.lc_algorithm` receives as ``w_ref``.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(3, 2)
    >>> {k: v.shape for k, v in model_weights(net).items()}
    {'weight': (2, 3), 'bias': (2,)}
    """
    _check_model(model)
    return {k: p.detach().cpu().double().numpy().copy() for k, p in model.named_parameters()}


def set_model_weights(model, w) -> None:
    """Copy the arrays of ``w`` (``{name: array}``) into the parameters of ``model``.

    Parameters
    ----------
    model : torch.nn.Module
    w : dict
        Arrays for some or all parameter names; shapes must match.

    Examples
    --------
    >>> import numpy as np, torch
    >>> net = torch.nn.Linear(2, 1)
    >>> set_model_weights(net, {"bias": np.array([3.0])})
    >>> net.bias.detach().item()
    3.0
    """
    _check_model(model)
    params = dict(model.named_parameters())
    if not isinstance(w, dict):
        raise ValueError(f"w must be a dict of arrays keyed by parameter name, got {type(w)}")
    with torch.no_grad():
        for k, v in w.items():
            if k not in params:
                raise ValueError(f"w has key {k!r}, which is not a parameter of the model")
            arr = as_finite_array(v, f"w[{k!r}]")
            if tuple(arr.shape) != tuple(params[k].shape):
                raise ValueError(f"w[{k!r}] has shape {arr.shape}, expected "
                                 f"{tuple(params[k].shape)}")
            params[k].copy_(torch.as_tensor(arr, dtype=params[k].dtype))


def _check_data(data):
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"data must be a pair (x, y), got {describe(data)}")
    x, y = data
    xt = torch.as_tensor(as_finite_array(x, "data x"), dtype=torch.float32)
    yt = torch.as_tensor(as_finite_array(y, "data y", dtype=None))
    if xt.ndim == 0 or yt.ndim == 0 or xt.shape[0] != yt.shape[0] or xt.shape[0] < 1:
        raise ValueError(f"data: x and y must have the same (non-zero) length, got shapes "
                         f"{tuple(xt.shape)} and {tuple(yt.shape)}")
    return xt, yt


def _schedule(lr_schedule):
    if callable(lr_schedule):
        return lr_schedule
    if isinstance(lr_schedule, numbers.Real) and not isinstance(lr_schedule, bool):
        lr = float(lr_schedule)
        if not (np.isfinite(lr) and lr > 0):
            raise ValueError(f"lr_schedule must be > 0, got {lr}")
        return lambda t: lr
    raise ValueError(f"lr_schedule must be a positive number or a callable t -> lr, got "
                     f"{lr_schedule!r}")


# --------------------------------------------------------------------------------------
# clipped learning rate
# --------------------------------------------------------------------------------------
def _check_training(model, loss_fn, data, epochs, batch_size, lr_schedule, momentum,
                    weight_decay=0.0):
    """Validated arguments shared by :func:`torch_l_step` and :func:`torch_retrain`."""
    _check_model(model)
    weight_decay = check_real(weight_decay, "weight_decay", nonnegative=True)
    if loss_fn is None:
        loss_fn = F.cross_entropy
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable or None, got {loss_fn!r}")
    momentum = check_real(momentum, "momentum", nonnegative=True)
    if momentum >= 1:
        raise ValueError(f"momentum must be < 1, got {momentum}")
    return (loss_fn, _check_data(data), check_int(epochs, "epochs", low=1),
            check_int(batch_size, "batch_size", low=1), _schedule(lr_schedule), momentum,
            weight_decay)


class _Training:
    """Context of one training run: ``model.train()`` (dropout on) and torch's global
    generator (dropout masks) seeded from ``seed`` inside :func:`torch.random.fork_rng`, so
    the run is reproducible in any process and leaves the global state as it was; oneDNN
    is switched off as in :func:`infocompress.training.train` (portable numerics)."""

    def __init__(self, model, seed):
        self.model, self.seed = model, int(seed)

    def __enter__(self):
        self.was_training = self.model.training
        self.mkldnn = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = False
        self.fork = torch.random.fork_rng(devices=[])
        self.fork.__enter__()
        torch.manual_seed(self.seed)
        self.model.train()
        return self

    def __exit__(self, *exc):
        self.model.train(self.was_training)
        self.fork.__exit__(*exc)
        torch.backends.mkldnn.enabled = self.mkldnn
        return False


@validate_params(t=ArrayLike(low=0))
def clipped_lr(lr_schedule, mu, t):
    """Learning rate of eq. (17): the schedule clipped at the optimal step ``1/mu``.

    .. math::

        \\eta'_t = \\min\\big(\\eta_t, \\tfrac{1}{\\mu}\\big).

    By Theorem 5.2 a fixed step :math:`\\eta` on the penalty term
    :math:`\\frac\\mu2\\|w - t\\|^2` converges iff :math:`0 < \\eta < 2/\\mu` and reaches
    the minimiser in one step at :math:`1/\\mu`; by Theorem 5.3 clipping a Robbins-Monro
    schedule leaves it Robbins-Monro.

    Parameters
    ----------
    lr_schedule : float or callable ``t -> float``
        Unclipped schedule :math:`\\eta_t` (> 0).
    mu : float
        Penalty parameter (> 0; ``mu = 0`` means no clipping).
    t : int or array-like of int
        Step index (or indices) within the L step.

    Returns
    -------
    float or ndarray

    References
    ----------
    Carreira-Perpiñán (2017), eq. (17), Theorems 5.2 and 5.3.

    Examples
    --------
    >>> clipped_lr(lambda t: 1.0 / (1 + t), 4.0, [0, 1, 2, 3, 4])
    array([0.25, 0.25, 0.25, 0.25, 0.2 ])
    """
    sched = _schedule(lr_schedule)
    mu = check_real(mu, "mu", nonnegative=True)
    tt = np.asarray(t)
    vals = np.asarray(np.vectorize(lambda s: float(sched(int(s))))(tt), dtype=float) \
        if tt.ndim else np.asarray(float(sched(int(tt))))
    if np.any(~np.isfinite(vals)) or np.any(vals <= 0):
        raise ValueError("lr_schedule must return finite values > 0")
    if mu > 0:
        vals = np.minimum(vals, 1.0 / mu)
    return float(vals) if vals.ndim == 0 else vals


# --------------------------------------------------------------------------------------
# L step by SGD
# --------------------------------------------------------------------------------------
class TorchLStep:
    """Callable L step ``l_step(w, target, mu) -> w_new`` training a torch model by SGD.

    Created by :func:`torch_l_step`; see there. After each call, ``last_lrs`` holds the
    learning rates used and ``last_losses`` the per-epoch mean task loss (before the
    penalty term).
    """

    def __init__(self, model, loss_fn, data, *, epochs, batch_size, lr_schedule, clip,
                 momentum, rng, weight_decay=0.0):
        loss_fn, data, epochs, batch_size, lr_schedule, momentum, weight_decay = \
            _check_training(model, loss_fn, data, epochs, batch_size, lr_schedule, momentum,
                            weight_decay)
        if not isinstance(clip, (bool, np.bool_)):
            raise ValueError(f"clip must be True or False, got {clip!r}")
        self.model = model
        self.loss_fn = loss_fn
        self.x, self.y = data
        self.epochs = epochs
        self.batch_size = batch_size
        self.schedule = lr_schedule
        self.clip = bool(clip)
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.rng = as_generator(rng)
        self.last_lrs = np.zeros(0)
        self.last_losses = np.zeros(0)

    def __call__(self, w, target, mu):
        set_model_weights(self.model, w)
        params = dict(self.model.named_parameters())
        tgt = {}
        if target is not None:
            for k, v in target.items():
                if v is not None:
                    tgt[k] = torch.as_tensor(np.asarray(v), dtype=params[k].dtype)
        mu = float(mu)
        bufs = {k: torch.zeros_like(p) for k, p in params.items()}
        gen = torch_generator(self.rng)
        dropout_seed = int(self.rng.integers(2**62))
        n = self.x.shape[0]
        lrs, losses = [], []
        t = 0
        wd = self.weight_decay
        with _Training(self.model, dropout_seed):
            for _ in range(self.epochs):
                perm = torch.randperm(n, generator=gen)
                total = 0.0
                for s in range(0, n, self.batch_size):
                    idx = perm[s:s + self.batch_size]
                    lr = float(self.schedule(t))
                    if not (np.isfinite(lr) and lr > 0):
                        raise ValueError(f"lr_schedule({t}) must be finite and > 0, got {lr}")
                    if self.clip and mu > 0:
                        lr = min(lr, 1.0 / mu)
                    self.model.zero_grad(set_to_none=True)
                    loss = self.loss_fn(self.model(self.x[idx]), self.y[idx])
                    loss.backward()
                    with torch.no_grad():
                        for k, p in params.items():
                            g = p.grad if p.grad is not None else torch.zeros_like(p)
                            if k in tgt and mu > 0:
                                g = g.add(p - tgt[k], alpha=mu)
                            if wd:
                                g = g.add(p, alpha=wd)
                            if self.momentum:
                                bufs[k].mul_(self.momentum).add_(g)
                                g = bufs[k]
                            p.sub_(g, alpha=lr)
                    total += loss.item() * idx.numel()
                    lrs.append(lr)
                    t += 1
                losses.append(total / n)
        self.last_lrs = np.asarray(lrs)
        self.last_losses = np.asarray(losses)
        out = model_weights(self.model)
        for k, v in out.items():
            if not np.all(np.isfinite(v)):
                raise ValueError(f"the L step diverged (non-finite {k!r} at mu={mu:g}); "
                                 "lower the learning rate or use clip=True")
        return out


def torch_l_step(model, loss_fn, data, *, epochs, batch_size, lr_schedule, clip=True,
                 momentum=0.0, weight_decay=0.0, rng=None):
    """L step for a torch model: SGD on ``loss + mu/2 ||w - target||^2`` (clipped rate).

    Each call loads ``w`` into ``model`` and runs ``epochs`` passes of mini-batch SGD on

    .. math::

        L(w) + \\frac{\\mu}{2}\\|w - t\\|^2,\\qquad
        w \\leftarrow w - \\eta'_s\\big(\\nabla \\hat L_{\\text{batch}}(w) + \\mu (w - t)\\big),
        \\qquad \\eta'_s = \\min(\\eta_s, 1/\\mu)\\ \\text{if clip},

    where ``s`` counts the SGD steps of this L step (the schedule restarts at every L step)
    and ``t`` is the target of the compressed groups (groups with target ``None`` get no
    penalty). With ``momentum > 0`` the heavy-ball update is used (Theorem 5.2 then no
    longer gives the exact stability limit: on the quadratic term a heavy-ball step with
    momentum :math:`\\beta` is stable for :math:`0 < \\eta\\mu < 2(1 + \\beta)`), and with
    ``weight_decay`` the term ``weight_decay * w`` is added to every parameter's gradient,
    as in :class:`torch.optim.SGD`. The model is in training mode during the L step
    (dropout on), with dropout masks drawn from ``rng`` (reproducible in any process).

    Parameters
    ----------
    model : torch.nn.Module
        Model whose named parameters are the groups of ``w`` (see :func:`model_weights`).
        It is used as a work space: its parameters are overwritten at every call.
    loss_fn : callable ``loss_fn(output, y) -> scalar tensor`` or None
        Mean task loss on a mini-batch; ``None`` means cross-entropy on logits.
    data : pair (x, y)
        Training inputs (converted to float32) and targets.
    epochs : int
        Passes over the data per L step, >= 1.
    batch_size : int
        Mini-batch size, >= 1.
    lr_schedule : float or callable ``s -> float``
        Learning-rate schedule :math:`\\eta_s` (> 0) before clipping.
    clip : bool, default True
        Clip the rate at ``1/mu`` (eq. (17) of the paper).
    momentum : float, default 0.0
        Heavy-ball momentum in ``[0, 1)``.
    weight_decay : float, default 0.0
        L2 coefficient added to every parameter's gradient (>= 0).
    rng : None, int or numpy.random.Generator
        Source of the mini-batch orders and dropout masks (drawn anew at every call).

    Returns
    -------
    TorchLStep
        A callable ``l_step(w, target, mu) -> w_new`` for
        :func:`~infocompress.lc.lc_algorithm`, with ``w``, ``target`` and ``w_new`` dicts
        ``{name: ndarray}``.

    References
    ----------
    Carreira-Perpiñán (2017), eqs. (13)-(17), Theorems 5.2 and 5.3.

    Examples
    --------
    >>> import numpy as np, torch
    >>> net = torch.nn.Linear(2, 1, bias=False)
    >>> x = np.eye(2, dtype=np.float32); y = np.zeros((2, 1), dtype=np.float32)
    >>> step = torch_l_step(net, torch.nn.functional.mse_loss, (x, y), epochs=50,
    ...                     batch_size=2, lr_schedule=1.0, rng=0)
    >>> w = step({"weight": np.zeros((1, 2))}, {"weight": np.ones((1, 2))}, 4.0)
    >>> np.round(w["weight"], 3).tolist()   # minimiser of mean(w^2)/2 + 2||w - 1||^2
    [[0.8, 0.8]]
    >>> float(step.last_lrs.max())          # clipped at 1/mu
    0.25
    """
    return TorchLStep(model, loss_fn, data, epochs=epochs, batch_size=batch_size,
                      lr_schedule=lr_schedule, clip=bool(clip), momentum=momentum,
                      weight_decay=weight_decay, rng=rng)


# --------------------------------------------------------------------------------------
# retraining with the compression structure fixed
# --------------------------------------------------------------------------------------
def _theta_params(theta):
    """Trainable tensors of a theta (its continuous part)."""
    if isinstance(theta, QuantizedTheta):
        return {"codebook": torch.tensor(theta.codebook, dtype=torch.float32)}
    if isinstance(theta, BinarizedTheta):
        return {"scale": torch.tensor(float(theta.scale), dtype=torch.float32)}
    if isinstance(theta, PrunedTheta):
        return {"values": torch.tensor(theta.values, dtype=torch.float32)}
    if isinstance(theta, LowRankTheta):
        return {"U": torch.tensor(theta.U, dtype=torch.float32),
                "V": torch.tensor(theta.V, dtype=torch.float32)}
    raise ValueError(f"cannot retrain parameters of type {type(theta).__name__}")


def _theta_decoder(theta):
    """Torch version of Delta(theta) as a function of the continuous part ``tp``.

    The discrete part is converted to tensors once: a quantized array is decoded as
    ``onehot @ codebook`` (its gradient ``onehot.T @ g`` sums the gradients of the weights
    of each codeword, like an indexed gather, but as one matrix-vector product).
    """
    if isinstance(theta, QuantizedTheta):
        k = np.asarray(theta.codebook).size
        onehot = F.one_hot(torch.as_tensor(np.asarray(theta.assignments).ravel(),
                                           dtype=torch.long), k).to(torch.float32)
        shape = np.asarray(theta.assignments).shape
        return lambda tp: (onehot @ tp["codebook"]).reshape(shape)
    if isinstance(theta, BinarizedTheta):
        signs = torch.as_tensor(theta.signs, dtype=torch.float32)
        return lambda tp: tp["scale"] * signs
    if isinstance(theta, PrunedTheta):
        size = int(np.prod(theta.shape))
        idx = torch.as_tensor(theta.indices, dtype=torch.long)
        shape = theta.shape

        def pruned(tp):
            out = torch.zeros(size, dtype=torch.float32)
            return out.index_put((idx,), tp["values"]).reshape(shape)

        return pruned
    return lambda tp: (tp["U"] @ tp["V"].T).reshape(theta.shape)


def _theta_update(theta, tp):
    d = {k: v.detach().double().numpy().copy() for k, v in tp.items()}
    if isinstance(theta, QuantizedTheta):
        return QuantizedTheta(codebook=d["codebook"], assignments=theta.assignments)
    if isinstance(theta, BinarizedTheta):
        return BinarizedTheta(scale=float(d["scale"]), signs=theta.signs)
    if isinstance(theta, PrunedTheta):
        return PrunedTheta(indices=theta.indices, values=d["values"], shape=theta.shape)
    return LowRankTheta(U=d["U"], V=d["V"], shape=theta.shape)


def torch_retrain(model, loss_fn, data, compression, theta, *, epochs, batch_size,
                  lr_schedule, optimizer="adam", momentum=0.0, weight_decay=0.0, rng=None,
                  progress=None):
    """Retrain a compressed net with its compression structure fixed ("DC + retraining").

    The compressed groups are parameterised by the continuous part of their ``theta``
    (codebook values with the assignments fixed; the binarization scale with the signs
    fixed; the surviving weights of a pruned group with the support fixed; the factors
    ``U, V`` of a low-rank matrix), the other parameters of ``model`` are free, and all are
    trained on the task loss through :math:`\\Delta` (chain rule) by Adam (default; its
    per-parameter scaling copes with the very different gradient scales of, e.g., a codebook
    value shared by thousands of weights and a single bias) or by SGD with momentum. The
    model is in training mode while it is retrained (dropout on, masks drawn from ``rng``).
    The result is feasible by construction.

    Parameters
    ----------
    model : torch.nn.Module
        Model; its current parameters give the free groups' starting values. On return its
        parameters hold the retrained compressed model.
    loss_fn : callable or None
        Mean task loss ``loss_fn(output, y)``; ``None`` means cross-entropy.
    data : pair (x, y)
    compression : dict or CompressionTask
        As given to :func:`~infocompress.lc.lc_algorithm` with ``w_ref = model_weights(model)``.
    theta : dict
        Parameters per compression entry, e.g. ``LCResult.theta_dc``.
    epochs, batch_size : int
    lr_schedule : float or callable ``s -> float``
        Learning rate at step ``s`` (no clipping: there is no penalty term).
    optimizer : {"adam", "sgd"}, default "adam"
        Adam (PyTorch defaults for the other constants) or SGD with ``momentum``.
    momentum : float, default 0.0
        Heavy-ball momentum of SGD (ignored by Adam).
    weight_decay : float, default 0.0
        L2 coefficient of the optimizer on the trainable tensors (the free parameters and
        the continuous part of every theta), >= 0.
    rng : None, int or numpy.random.Generator
    progress : bool or None, optional
        Progress bar over epochs (see :func:`infocompress.progress.progress_enabled`; it
        appears only after 2 s).

    Returns
    -------
    theta_new : dict
        Retrained parameters (same keys as ``theta``).
    w_new : dict
        Full model weights ``{name: ndarray}`` (compressed groups equal
        :math:`\\Delta(\\Theta_{new})`).

    References
    ----------
    Carreira-Perpiñán (2017), section 6.2.2 (retraining after direct compression).

    Examples
    --------
    >>> import numpy as np, torch
    >>> from infocompress.lc import Pruning, lc_algorithm
    >>> net = torch.nn.Linear(3, 1, bias=False)
    >>> x = np.eye(3, dtype=np.float32); y = np.array([[1.0], [0.5], [0.1]], np.float32)
    >>> task = {"weight": Pruning(1)}
    >>> theta = {"weight": Pruning(1).compress(np.array([[2.0, 0.0, 0.0]]))}
    >>> th, w = torch_retrain(net, torch.nn.functional.mse_loss, (x, y), task, theta,
    ...                       epochs=200, batch_size=3, lr_schedule=1.0, optimizer="sgd",
    ...                       rng=0)
    >>> np.round(w["weight"], 3).tolist()
    [[1.0, 0.0, 0.0]]
    """
    loss_fn, (x, y), epochs, batch_size, sched, momentum, wd = _check_training(
        model, loss_fn, data, epochs, batch_size, lr_schedule, momentum, weight_decay)
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    rng = as_generator(rng)
    w0 = model_weights(model)
    groups = _Groups(w0, compression)
    if not isinstance(theta, dict):
        raise ValueError(f"theta must be a dict keyed like the compression entries, got "
                         f"{type(theta).__name__}")
    entry_keys = [keys if len(keys) > 1 else keys[0] for keys, _ in groups.entries]
    for ek in entry_keys:
        if ek not in theta:
            raise ValueError(f"theta has no entry for {ek!r}")
    compressed = set(k for keys, _ in groups.entries for k in keys)
    named = dict(model.named_parameters())
    free = {k: p.detach().clone().requires_grad_(True) for k, p in named.items()
            if k not in compressed}
    tps = {ek: {k: v.requires_grad_(True) for k, v in _theta_params(theta[ek]).items()}
           for ek in entry_keys}
    decoders = {ek: _theta_decoder(theta[ek]) for ek in entry_keys}
    trainable = list(free.values()) + [v for tp in tps.values() for v in tp.values()]
    if optimizer == "adam":
        opt = torch.optim.Adam(trainable, lr=float(sched(0)), weight_decay=wd)
    else:
        opt = torch.optim.SGD(trainable, lr=float(sched(0)), momentum=momentum,
                              weight_decay=wd)

    def full_params():
        out = dict(free)
        for (keys, _), ek in zip(groups.entries, entry_keys, strict=True):
            flat = decoders[ek](tps[ek])
            if len(keys) == 1:
                out[keys[0]] = flat.reshape(groups.shapes[keys[0]])
            else:
                start = 0
                for k in keys:
                    size = int(np.prod(groups.shapes[k]))
                    out[k] = flat[start:start + size].reshape(groups.shapes[k])
                    start += size
        return out

    gen = torch_generator(rng)
    dropout_seed = int(rng.integers(2**62))
    n = x.shape[0]
    t = 0
    with _Training(model, dropout_seed):
        for _ in progress_bar(range(epochs), desc="retraining", progress=progress):
            perm = torch.randperm(n, generator=gen)
            for s in range(0, n, batch_size):
                idx = perm[s:s + batch_size]
                lr = float(sched(t))
                if not (np.isfinite(lr) and lr > 0):
                    raise ValueError(f"lr_schedule({t}) must be finite and > 0, got {lr}")
                for group in opt.param_groups:
                    group["lr"] = lr
                opt.zero_grad(set_to_none=True)
                out = functional_call(model, full_params(), (x[idx],))
                loss = loss_fn(out, y[idx])
                loss.backward()
                opt.step()
                t += 1
    with torch.no_grad():
        final = {k: v.detach() for k, v in full_params().items()}
    w_new = {k: final[k].double().numpy().copy() for k in named}
    set_model_weights(model, w_new)
    theta_new = {ek: _theta_update(theta[ek], tps[ek]) for ek in entry_keys}
    return theta_new, w_new
