"""Training of the practice part's networks: one model, or an ensemble on random subsets.

* :func:`train` -- mini-batch training of one model on the mean cross-entropy with
  ``torch.optim.Adam`` (the default) or ``torch.optim.SGD`` with momentum (the authors'
  recipe), optional weight decay and a reproducible shuffling ``rng``;
* :func:`train_ensemble` -- many models, each on its own random subset of the pool, one
  model per job through joblib (so that a Dask or Ray backend is one
  ``joblib.parallel_config`` away);
* :func:`continue_training` -- more epochs for every model of an ensemble (the
  "retraining" of a compressed network, or an undertrained reference);
* :func:`complement_subsets` -- the images of the pool a model did *not* train on.

Every function runs on the CPU by default (``device="cpu"``; ``"cuda"`` works too).
These networks are tiny, so torch's intra-op threads mostly add overhead; the workers
run with one thread each.
"""

from __future__ import annotations

import copy
import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._parallel import run_tasks
from ._validation import (
    ArrayLike,
    Integer,
    Models,
    Options,
    as_generator,
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
    _n_outputs,
    _OneThread,
    _portable,
)
from .progress import progress_bar

__all__ = [
    "OPTIMIZERS",
    "complement_subsets",
    "continue_training",
    "train",
    "train_ensemble",
]

# --------------------------------------------------------------------------------------
# training (mini-batch SGD or Adam from torch.optim; one model per loop, models in
# parallel worker processes through joblib)
# --------------------------------------------------------------------------------------
#: Accepted values of ``optimizer`` in :func:`train` and :func:`train_ensemble`.
OPTIMIZERS = ("adam", "sgd")


def _check_train_args(epochs, batch_size, lr, weight_decay, optimizer="adam", momentum=0.0):
    epochs = check_int(epochs, "epochs", low=1)
    batch_size = check_int(batch_size, "batch_size", low=1)
    lr = _check_nonneg_real(lr, "lr", positive=True)
    weight_decay = _check_nonneg_real(weight_decay, "weight_decay")
    if not isinstance(optimizer, str) or optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {optimizer!r}")
    momentum = _check_nonneg_real(momentum, "momentum")
    if momentum >= 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if optimizer == "adam" and momentum:
        raise ValueError("momentum applies to optimizer='sgd' (Adam has its own moments), "
                         f"got momentum={momentum} with optimizer='adam'")
    return dict(epochs=epochs, batch_size=batch_size, lr=lr, weight_decay=weight_decay,
                optimizer=optimizer, momentum=momentum)


def _check_nonneg_real(value, name, *, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v) or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be finite and {'> 0' if positive else '>= 0'}, "
                         f"got {value!r}")
    return v


def _make_optimizer(params, settings, device):
    kind = settings["optimizer"]
    # fused kernels: one pass over every parameter per step (measured 2x faster than
    # the default foreach implementation for SGD on a 270k-parameter MLP on 1 core)
    fused = device.type in ("cpu", "cuda")
    if kind == "sgd":
        return torch.optim.SGD(params, lr=settings["lr"], momentum=settings["momentum"],
                               weight_decay=settings["weight_decay"], fused=fused)
    return torch.optim.Adam(params, lr=settings["lr"], weight_decay=settings["weight_decay"],
                            fused=fused)


@_portable
def _fit(model, x, y, settings, seed, *, progress=False, desc="training"):
    """Mini-batch training of one model in place on all of (x, y); deterministic in seed.

    The mini-batch order comes from a torch generator seeded with ``seed``; dropout masks
    come from torch's global generator, seeded with ``seed + 1`` inside
    :func:`torch.random.fork_rng`, which restores the global state afterwards.
    Returns the per-epoch mean training loss (float64 tensor of shape (epochs,)).
    """
    dev = x.device
    epochs, bs = settings["epochs"], settings["batch_size"]
    n = x.shape[0]
    gen = torch.Generator().manual_seed(seed)
    opt = _make_optimizer(list(model.parameters()), settings, dev)
    history = torch.zeros(epochs, dtype=torch.float64)
    was_training = model.training
    devices = [dev] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed + 1)
        model.train()
        try:
            for epoch in progress_bar(range(epochs), desc=desc, progress=progress):
                order = torch.randperm(n, generator=gen).to(dev)
                total = torch.zeros((), dtype=torch.float64, device=dev)
                for start in range(0, n, bs):
                    rows = order[start:start + bs]
                    loss = F.cross_entropy(model(x[rows]), y[rows])
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    total += loss.detach().double() * rows.shape[0]
                history[epoch] = total.cpu() / n
        finally:
            model.train(was_training)
    return history


def train(model, x, y, *, epochs, batch_size, lr, weight_decay=0.0, optimizer="adam",
          momentum=0.0, rng=None, device="cpu", progress=False):
    """Train ``model`` in place by mini-batch Adam or SGD on the mean cross-entropy.

    Each epoch visits the ``n`` samples once in a random order (drawn from ``rng``) in
    mini-batches of ``batch_size`` (the last one may be smaller). The update is
    :class:`torch.optim.Adam` (default constants beta1 = 0.9, beta2 = 0.999, eps = 1e-8) or
    :class:`torch.optim.SGD` with heavy-ball ``momentum``; ``weight_decay`` adds the L2
    gradient ``weight_decay * w`` to every parameter's gradient (biases included), as these
    optimizers do. The model is in training mode during the updates (dropout active) and
    goes back to its previous mode afterwards. Training is deterministic given ``rng``
    (the mini-batch order and the dropout masks are drawn from it; torch's global random
    state is saved and restored). The loss minimised is the empirical risk

    .. math:: L_S(w) = \\frac{1}{n} \\sum_{i=1}^{n} -\\log \\operatorname{softmax}(f_w(x_i))_{y_i}.

    Parameters
    ----------
    model : torch.nn.Module
        Network mapping inputs to logits; its parameters are updated in place.
    x : array-like or torch.Tensor of shape (n, ...)
        Inputs (cast to the model's dtype).
    y : array-like or torch.Tensor of shape (n,)
        Integer labels in ``0 .. n_outputs - 1``.
    epochs : int
        Number of passes over the data, >= 1.
    batch_size : int
        Mini-batch size, >= 1.
    lr : float
        Step size, > 0.
    weight_decay : float, default 0.0
        L2 penalty coefficient, >= 0.
    optimizer : {"adam", "sgd"}, default "adam"
        The update rule (Bu et al.'s code uses ``"sgd"`` with ``lr=0.01, momentum=0.9,
        weight_decay=1e-4`` and ``batch_size=10``).
    momentum : float, default 0.0
        Heavy-ball momentum of SGD, in [0, 1) (must be 0 with Adam).
    rng : None, int or numpy.random.Generator, optional
        Source of the mini-batch order and of the dropout masks.
    device : str or torch.device, default "cpu"
    progress : bool or None, default False
        Show a progress bar over epochs (None: unless ``INFOCOMPRESS_QUIET``/``CI`` is set).

    Returns
    -------
    dict
        ``{"loss": ndarray of shape (epochs,)}``, the training cross-entropy (nats) of each
        epoch: the size-weighted mean of the mini-batch losses, each measured (in training
        mode) just before its update.

    Raises
    ------
    ValueError
        For non-finite inputs, mismatched lengths, labels out of range or bad settings.

    See Also
    --------
    train_ensemble : many models, each on its own random subset, in parallel processes.

    References
    ----------
    Kingma and Ba (2015), *Adam: a method for stochastic optimization*, ICLR; Polyak
    (1964), heavy-ball momentum.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(40, 8, 8)), rng.integers(0, 10, 40)
    >>> from infocompress.models import make_mlp
    >>> net = make_mlp((16,), rng=1)
    >>> hist = train(net, x, y, epochs=30, batch_size=8, lr=1e-2, rng=2)
    >>> bool(hist["loss"][-1] < 0.5 * hist["loss"][0])
    True
    >>> sgd = train(make_mlp((16,), rng=1), x, y, epochs=30, batch_size=8, lr=0.05,
    ...             optimizer="sgd", momentum=0.9, rng=2)
    >>> bool(sgd["loss"][-1] < 0.5 * sgd["loss"][0])
    True
    """
    settings = _check_train_args(epochs, batch_size, lr, weight_decay, optimizer, momentum)
    dev = _check_device(device)
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    xt = _as_x(x)
    yt = _as_y(y, xt.shape[0])
    seed = int(as_generator(rng).integers(2**62))
    model.to(dev)
    xt = _cast_finite(xt, _model_dtype(model)).to(dev)
    yt = yt.to(dev)
    with torch.no_grad():
        _check_labels_vs_logits(yt, _n_outputs(model, xt))
    hist = _fit(model, xt, yt, settings, seed, progress=progress)
    return {"loss": hist.numpy()}


def _train_member(model, x, y, settings, seed):
    """Worker task of :func:`train_ensemble`: train one model on one thread.

    Returns the trained state dict (on the CPU), the epoch losses and the seconds taken.
    """
    import time

    with _OneThread():
        # joblib may hand over read-only memory maps: copy (a few MB) into torch
        xt = torch.from_numpy(np.array(x, copy=True))
        yt = torch.from_numpy(np.array(y, copy=True))
        t0 = time.perf_counter()
        hist = _fit(model, xt.to(_model_dtype(model)), yt, settings, seed)
        seconds = time.perf_counter() - t0
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return state, hist.numpy(), seconds


@validate_params(n_jobs=Options(None, Integer()))
def train_ensemble(make_model, n_models, x, y, *, subset_fraction=None, subset_size=None,
                   epochs, batch_size, lr, weight_decay=0.0, optimizer="adam", momentum=0.0,
                   rng=None, device="cpu", n_jobs=None, progress=None, return_info=False):
    """Train ``n_models`` networks, each from its own initialisation on its own random subset.

    This is the protocol of Bu et al. (2021, Section 7): independent models with different
    initialisations, each trained on a different random subset of the training data (10% of
    MNIST, 20% of CIFAR-10 there), so that averages over models estimate expectations over
    the training set and the algorithm's randomness. Model ``m`` is built by
    ``make_model(rng=seed_m)`` with a seed drawn from ``rng`` and trained by :func:`train`
    (same update rules) on the ``subset_size`` samples ``x[subsets[m]]`` drawn without
    replacement.

    *How the models are run.* Each model is trained by a plain loop on one intra-op thread,
    and the models are spread over worker processes with :class:`joblib.Parallel`
    (``n_jobs`` of them). On a CPU this beats vectorising the models with
    :func:`torch.func.vmap` for mini-batches of this size (measured in
    ``benchmarks/bench_training.py``), and it lets joblib's backend choose where the work
    runs: a Dask or Ray cluster is one ``joblib.parallel_config(backend=...)`` away. Every
    model is trained on one thread whatever the backend (also with ``n_jobs=1``, in this
    process), so the result does not depend on ``n_jobs`` or on the backend: the same
    ``rng`` gives bit-for-bit the same models. With a CUDA ``device`` the models are
    trained one after another in this process.

    Parameters
    ----------
    make_model : callable
        ``make_model(rng=...) -> torch.nn.Module``; every call must return the same
        architecture (e.g. ``functools.partial(make_mlp, (64, 32))`` or
        :func:`~infocompress.models.make_mlp`).
    n_models : int
        Number of models, >= 1.
    x : array-like or torch.Tensor of shape (n, ...)
        Training pool.
    y : array-like or torch.Tensor of shape (n,)
        Labels of the pool.
    subset_fraction : float, optional
        Fraction of the pool given to each model, in (0, 1]. Exactly one of
        ``subset_fraction`` and ``subset_size`` must be given.
    subset_size : int, optional
        Number of pool samples given to each model, ``1 <= subset_size <= n``.
    epochs, batch_size, lr, weight_decay, optimizer, momentum
        As in :func:`train`.
    rng : None, int or numpy.random.Generator, optional
        Source of the initialisations, subsets, mini-batch orders and dropout masks.
    device : str or torch.device, default "cpu"
    n_jobs : int or None, default None
        Worker processes (joblib convention: -1 = all cores; None = joblib's current
        default, i.e. 1 unless set by :func:`joblib.parallel_config`).
    progress : bool or None, optional
        Progress bar over models; None shows it unless ``INFOCOMPRESS_QUIET`` or ``CI``
        is set.
    return_info : bool, default False
        Also return a dict with ``"loss"`` (ndarray (n_models, epochs), the per-epoch
        training losses) and ``"seconds"`` (ndarray (n_models,), training time of each
        model in its worker).

    Returns
    -------
    models : list of torch.nn.Module
        The trained networks (on ``device``), in training mode as built.
    subsets : ndarray of shape (n_models, subset_size), int64
        Indices into ``x`` of each model's training samples.
    info : dict
        Only if ``return_info``.

    Raises
    ------
    ValueError
        For bad sizes or settings, or if ``make_model`` returns different architectures.

    References
    ----------
    Bu et al. (2021), Section 7.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(50, 8, 8)), rng.integers(0, 10, 50)
    >>> from infocompress.models import make_mlp
    >>> models, subsets = train_ensemble(make_mlp, 3, x, y, subset_size=20, epochs=2,
    ...                                  batch_size=10, lr=1e-2, rng=1, progress=False)
    >>> len(models), subsets.shape
    (3, (3, 20))
    """
    n_models = check_int(n_models, "n_models", low=1)
    settings = _check_train_args(epochs, batch_size, lr, weight_decay, optimizer, momentum)
    if not callable(make_model):
        raise ValueError(f"make_model must be callable, got {make_model!r}")
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs")
        if n_jobs == 0:
            raise ValueError("n_jobs must be a non-zero integer or None, got 0")
    dev = _check_device(device)
    xt = _as_x(x)
    n = xt.shape[0]
    yt = _as_y(y, n)
    size = _subset_size(subset_fraction, subset_size, n)
    gen_np = as_generator(rng)
    models = [make_model(rng=int(gen_np.integers(2**63 - 1))) for _ in range(n_models)]
    for mdl in models:
        if not isinstance(mdl, nn.Module):
            raise ValueError(f"make_model must return a torch.nn.Module, got "
                             f"{type(mdl).__name__}")
    shapes = [tuple((k, tuple(p.shape)) for k, p in mdl.named_parameters()) for mdl in models]
    if any(s != shapes[0] for s in shapes):
        raise ValueError("make_model must return models of one architecture")
    subsets = np.stack([gen_np.choice(n, size=size, replace=False) for _ in range(n_models)])
    seeds = [int(s) for s in gen_np.integers(2**62, size=n_models)]
    dtype = _model_dtype(models[0])
    xt = _cast_finite(xt, dtype)
    with torch.no_grad():
        _check_labels_vs_logits(yt, _n_outputs(models[0], xt))
    x_np, y_np = xt.numpy(), yt.numpy()
    desc = f"training {n_models} models"
    if dev.type != "cpu":
        results = []
        for m in progress_bar(range(n_models), desc=desc, progress=progress):
            xs = torch.from_numpy(x_np[subsets[m]]).to(dev)
            ys = torch.from_numpy(y_np[subsets[m]]).to(dev)
            models[m].to(dev)
            hist = _fit(models[m], xs, ys, settings, seeds[m])
            results.append((None, hist.numpy(), float("nan")))
    else:
        results = run_tasks(_train_member,
                            ((models[m], x_np[subsets[m]], y_np[subsets[m]], settings, seeds[m])
                             for m in range(n_models)),
                            total=n_models, n_jobs=n_jobs, desc=desc, progress=progress)
        for mdl, (state, _, _) in zip(models, results, strict=True):
            mdl.load_state_dict(state)
    out = (models, subsets.astype(np.int64))
    if return_info:
        info = {"loss": np.stack([r[1] for r in results]),
                "seconds": np.array([r[2] for r in results])}
        return (*out, info)
    return out


@validate_params(n_jobs=Options(None, Integer()), models=Models())
def continue_training(models, x, y, subsets, *, epochs, batch_size, lr, weight_decay=0.0,
                      optimizer="adam", momentum=0.0, rng=None, n_jobs=None, progress=None):
    """Train copies of trained models further, each on its own subset, in parallel.

    Model ``m`` is deep-copied and trained by :func:`train` (a fresh optimizer, so SGD
    momentum or Adam moments start at zero) on ``x[subsets[m]]``, in worker processes as
    in :func:`train_ensemble` (one thread each; the result does not depend on
    ``n_jobs``). The originals are not modified. Use it to ask whether a reference network
    was trained well enough (Carreira-Perpiñán 2017, Section 7), or to retrain a
    compressed network without constraints.

    Parameters
    ----------
    models : sequence of torch.nn.Module
    x : array-like of shape (n, ...)
    y : array-like of shape (n,)
    subsets : array-like of int of shape (n_models, k)
        Row ``m`` indexes model ``m``'s training samples.
    epochs, batch_size, lr, weight_decay, optimizer, momentum
        As in :func:`train`.
    rng : None, int or numpy.random.Generator, optional
        Source of the per-model seeds (batch orders and dropout masks).
    n_jobs : int or None, default None
    progress : bool or None, optional

    Returns
    -------
    list of torch.nn.Module
        The further-trained copies, each in the mode (training or evaluation) of its
        original.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(30, 8, 8)), rng.integers(0, 10, 30)
    >>> from infocompress.models import make_mlp
    >>> base = [make_mlp((8,), rng=s) for s in range(2)]
    >>> more = continue_training(base, x, y, [np.arange(15), np.arange(15, 30)], epochs=2,
    ...                          batch_size=5, lr=1e-2, rng=1, progress=False)
    >>> len(more), more[0] is base[0]
    (2, False)
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model")
    settings = _check_train_args(epochs, batch_size, lr, weight_decay, optimizer, momentum)
    xt = _as_x(x)
    yt = _as_y(y, xt.shape[0])
    sub = np.asarray(subsets)
    if sub.ndim != 2 or sub.shape[0] != len(models) or \
            not np.issubdtype(sub.dtype, np.integer) or sub.min() < 0 or \
            sub.max() >= xt.shape[0]:
        raise ValueError(f"subsets must be ({len(models)}, k) indices into x, got shape "
                         f"{sub.shape}")
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs")
    x_np = _cast_finite(xt, _model_dtype(models[0])).numpy()
    y_np = yt.numpy()
    seeds = [int(s) for s in as_generator(rng).integers(2**62, size=len(models))]
    copies = [copy.deepcopy(m).cpu() for m in models]
    results = run_tasks(_train_member,
                        ((copies[m], x_np[sub[m]], y_np[sub[m]], settings, seeds[m])
                         for m in range(len(models))),
                        total=len(models), n_jobs=n_jobs,
                        desc=f"training {len(models)} models further", progress=progress)
    for mdl, orig, (state, _, _) in zip(copies, models, results, strict=True):
        mdl.load_state_dict(state)
        mdl.train(orig.training)
    return copies


def _subset_size(fraction, size, n):
    if (fraction is None) == (size is None):
        raise ValueError("give exactly one of subset_fraction and subset_size")
    if size is not None:
        return check_int(size, "subset_size", low=1, high=n)
    try:
        f = float(fraction)
    except (TypeError, ValueError):
        raise ValueError(f"subset_fraction must be a number in (0, 1], got {fraction!r}") \
            from None
    if not (math.isfinite(f) and 0 < f <= 1):
        raise ValueError(f"subset_fraction must be in (0, 1], got {fraction!r}")
    size = int(round(f * n))
    if size < 1:
        raise ValueError(f"subset_fraction={fraction} of {n} samples selects no sample")
    return size


# --------------------------------------------------------------------------------------
# ensemble experiments (Bu et al. 2021, Section 7)
# --------------------------------------------------------------------------------------
@validate_params(subsets=ArrayLike(ndim=2, nonempty=True))
def complement_subsets(subsets, n):
    """For each row of ``subsets``, the sorted indices of ``range(n)`` it does not contain.

    Used to evaluate each model on the part of the training pool it never saw
    (held-out *training* data, e.g. for choosing ``beta`` by validation).

    Parameters
    ----------
    subsets : array-like of int, shape (n_models, k)
        Distinct indices per row, in ``0 .. n - 1``.
    n : int
        Size of the pool, ``n > k``.

    Returns
    -------
    ndarray of shape (n_models, n - k), int64

    Examples
    --------
    >>> complement_subsets([[0, 3], [1, 2]], 4).tolist()
    [[1, 2], [0, 3]]
    """
    sub = np.asarray(subsets)
    n = check_int(n, "n", low=1)
    if sub.ndim != 2 or not np.issubdtype(sub.dtype, np.integer):
        raise ValueError(f"subsets must be a 2-D integer array, got shape {sub.shape}")
    if sub.size and (sub.min() < 0 or sub.max() >= n):
        raise ValueError(f"subsets must hold indices in 0..{n - 1}")
    if sub.shape[1] >= n:
        raise ValueError(f"subsets rows of length {sub.shape[1]} leave nothing of n={n}")
    mask = np.ones((sub.shape[0], n), dtype=bool)
    np.put_along_axis(mask, sub.astype(np.int64), False, axis=1)
    counts = mask.sum(axis=1)
    if np.any(counts != n - sub.shape[1]):
        raise ValueError("subsets rows must not repeat an index")
    return np.nonzero(mask)[1].reshape(sub.shape[0], -1).astype(np.int64)
