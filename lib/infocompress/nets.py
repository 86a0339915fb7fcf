"""Small neural networks for the compression experiments of Bu et al. (2021), Section 7.

The paper trains 50 copies of a three-layer fully connected network on random 10% subsets
of MNIST (and of a 5-conv + 3-linear network on 20% subsets of CIFAR-10), quantizes every
layer with the same number of clusters K and compares empirical risk, population risk and
generalization error against the compression ratio of its eq. (39). This module holds the
pieces needed to repeat that on data that fit a laptop (by default scikit-learn's 8x8
digits, see :mod:`infocompress.data`):

* :func:`make_mlp`, :func:`make_convnet` -- the two architectures, initialised from an
  ``rng`` without touching torch's global random state;
* :func:`train`, :func:`train_ensemble` -- mini-batch Adam on the mean cross-entropy;
  the ensemble trainer fits many models at once with :func:`torch.func.vmap`;
* :func:`evaluate`, :func:`evaluate_ensemble` -- mean cross-entropy (nats) and accuracy;
* :func:`hessian_diagonal` -- the diagonal of the Hessian of the training loss, the
  weights of Hessian-weighted k-means;
* :func:`quantize_model` -- quantize every Linear/Conv weight tensor with (DRHW) k-means
  from :mod:`infocompress.quantize` and report the compression ratio of eq. (39) computed
  by :mod:`infocompress.coding`;
* :func:`ensemble_hessians`, :func:`compression_sweep`, :func:`complement_subsets` --
  the experiment of Section 7 over a whole ensemble: risks of every model before and
  after compression, for a list of cluster numbers.

Everything runs on the CPU by default (``device="cpu"``); importing this module imports
torch. These networks are tiny, so torch's intra-op threads mostly add overhead: with a
busy CPU ``torch.set_num_threads(1)`` is often several times faster (the book's
notebooks set it; the library never changes it).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import math
import numbers
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, jacrev, vmap

from ._checks import as_generator, check_int
from .progress import progress_bar

__all__ = [
    "HESSIAN_METHODS",
    "INITS",
    "OPTIMIZERS",
    "PORTABLE_NUMERICS",
    "QUANTIZE_METHODS",
    "predict_logits",
    "complement_subsets",
    "continue_training",
    "compression_sweep",
    "ensemble_hessians",
    "evaluate",
    "select_beta",
    "evaluate_ensemble",
    "hessian_diagonal",
    "make_convnet",
    "make_mlp",
    "quantizable_parameters",
    "quantize_model",
    "torch_generator",
    "train",
    "train_ensemble",
]

#: Accepted values of ``method`` in :func:`hessian_diagonal`.
HESSIAN_METHODS = ("gauss_newton", "exact", "fisher", "gauss_newton_squared")
#: The numbers this module computes do not depend on the CPU's vector extensions when
#: (1) torch's own kernels are capped at AVX2 (environment variable
#: ``ATEN_CPU_CAPABILITY=avx2``), (2) MKL runs its AVX2 code path on every processor
#: (``MKL_CBWR=AVX2``), both read when torch is imported (the Makefile sets them), and (3)
#: oneDNN, whose convolution kernels are chosen per processor, is not used: every
#: training, evaluation and curvature function here runs with ``torch.backends.mkldnn``
#: switched off. Training is chaotic, so without (1)-(3) networks trained on an AVX-512
#: machine differ after a few epochs from those trained on an AVX2 machine.
PORTABLE_NUMERICS = ("ATEN_CPU_CAPABILITY=avx2", "MKL_CBWR=AVX2", "mkldnn disabled")

#: Accepted values of ``method`` in :func:`quantize_model`.
QUANTIZE_METHODS = ("kmeans", "hw", "drhw", "optimal")



# --------------------------------------------------------------------------------------
# randomness and input helpers
# --------------------------------------------------------------------------------------
def torch_generator(rng=None) -> torch.Generator:
    """Derive a CPU :class:`torch.Generator` from ``rng`` (None, int seed or numpy Generator).

    One 63-bit integer is drawn from the numpy generator and used as the torch seed, so the
    numpy generator advances and torch's global random state is never touched.

    Parameters
    ----------
    rng : None, int or numpy.random.Generator

    Returns
    -------
    torch.Generator

    Examples
    --------
    >>> a = torch.rand(2, generator=torch_generator(0))
    >>> b = torch.rand(2, generator=torch_generator(0))
    >>> bool(torch.equal(a, b))
    True
    """
    seed = int(as_generator(rng).integers(2**63 - 1))
    return torch.Generator().manual_seed(seed)


def _portable(func):
    """Run ``func`` with oneDNN (mkldnn) switched off, so that convolutions go through
    ATen's own kernels; see :data:`PORTABLE_NUMERICS`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        old = torch.backends.mkldnn.enabled
        torch.backends.mkldnn.enabled = False
        try:
            return func(*args, **kwargs)
        finally:
            torch.backends.mkldnn.enabled = old

    return wrapper


def _check_device(device):
    try:
        return torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(f"device must name a torch device such as 'cpu', got {device!r}") \
            from None


def _as_x(x, name="x"):
    if isinstance(x, torch.Tensor):
        t = x.detach()
        if not torch.is_floating_point(t):
            t = t.float()
    else:
        arr = np.asarray(x)
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"{name} must be a numeric array, got dtype {arr.dtype}")
        dtype = np.float64 if arr.dtype == np.float64 else np.float32
        t = torch.from_numpy(np.ascontiguousarray(arr, dtype=dtype))
    if t.ndim < 2:
        raise ValueError(f"{name} must have shape (n_samples, ...), got shape {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one sample, got shape {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError(f"{name} must be finite (found NaN or inf)")
    return t


def _as_y(y, n, name="y"):
    if isinstance(y, torch.Tensor):
        t = y.detach()
    else:
        arr = np.asarray(y)
        if not (np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool):
            if arr.size and np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)):
                arr = arr.astype(np.int64)
            else:
                raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
        t = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.int64))
    if t.is_floating_point():
        raise ValueError(f"{name} must hold integer class labels, got dtype {t.dtype}")
    t = t.long()
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"{name} must have shape ({n},) to match x, got {tuple(t.shape)}")
    if t.numel() and int(t.min()) < 0:
        raise ValueError(f"{name} must hold labels >= 0, got {int(t.min())}")
    return t


def _check_labels_vs_logits(y, n_out, name="y"):
    if y.numel() and int(y.max()) >= n_out:
        raise ValueError(f"{name} holds label {int(y.max())} but the model has {n_out} outputs")


def _model_dtype(model):
    for p in model.parameters():
        return p.dtype
    return torch.float32


# --------------------------------------------------------------------------------------
# architectures
# --------------------------------------------------------------------------------------
def _check_in_shape(in_shape, conv):
    try:
        shape = tuple(int(s) for s in in_shape)
    except TypeError:
        raise ValueError(f"in_shape must be a tuple of ints, got {in_shape!r}") from None
    if conv and len(shape) not in (2, 3):
        raise ValueError(f"in_shape must be (H, W) or (C, H, W), got {in_shape!r}")
    if len(shape) == 0 or any(s < 1 for s in shape):
        raise ValueError(f"in_shape must hold positive sizes, got {in_shape!r}")
    return shape


def _check_sizes(sizes, name, *, allow_empty=False):
    if isinstance(sizes, numbers.Integral):
        sizes = (sizes,)
    if isinstance(sizes, (str, bytes)):
        raise ValueError(f"{name} must be a tuple of positive ints, got the string {sizes!r}")
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(f"{name} must be a tuple of positive ints, got {sizes!r}") from None
    if not sizes and not allow_empty:
        raise ValueError(f"{name} must hold at least one layer size, got {sizes!r}")
    return tuple(check_int(s, f"{name} entry", low=1) for s in sizes)


#: Accepted values of ``init`` in :func:`make_mlp` and :func:`make_convnet`.
INITS = ("torch", "xavier_normal")


def _init_layer(layer, gen, init="torch"):
    """Initialise a Linear/Conv layer from ``gen``: PyTorch's default, or Xavier-normal
    weights (Glorot and Bengio 2010) with PyTorch's default biases."""
    if init == "xavier_normal":
        nn.init.xavier_normal_(layer.weight, generator=gen)
    else:
        nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=gen)
    if layer.bias is not None:
        fan_in = layer.weight[0].numel()
        bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        nn.init.uniform_(layer.bias, -bound, bound, generator=gen)


def _materialise(model, rng, init="torch"):
    gen = torch_generator(rng)
    model = model.to_empty(device="cpu")
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            _init_layer(module, gen, init)
    return model


def _check_dropout(dropout):
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    p = float(dropout)
    if not (0.0 <= p < 1.0):
        raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
    return p


def _check_init_name(init):
    if not isinstance(init, str) or init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    return init


def _hidden_block(a, b, dropout):
    layers = [nn.Linear(a, b, device="meta"), nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    return layers


def make_mlp(hidden=(64, 32), *, in_shape=(8, 8), n_classes=10, dropout=0.0, init="torch",
             rng=None) -> nn.Module:
    """Fully connected ReLU network: the "three-layer" MNIST model of Bu et al. (2021).

    The input is flattened and passed through ``len(hidden)`` hidden layers
    ``Linear -> ReLU`` (``-> Dropout`` if ``dropout > 0``) and an output ``Linear`` layer
    that returns logits. With two hidden layers the network has three Linear layers, as in
    the paper's MNIST experiment, whose code (github.com/wgao9/weight-quant,
    ``mnist/model.py``) uses ``hidden=(256, 256)``, ``dropout=0.2`` and Xavier-normal
    initial weights on 28x28 inputs (269,322 parameters). The defaults (64, 32) suit the
    8x8 digits (6,570 parameters).

    Parameters
    ----------
    hidden : tuple of int, default (64, 32)
        Widths of the hidden layers.
    in_shape : tuple of int, default (8, 8)
        Shape of one input sample (flattened inside the network); (28, 28) for MNIST.
    n_classes : int, default 10
        Number of outputs (logits).
    dropout : float, default 0.0
        Dropout probability after every hidden layer, in [0, 1); active in training mode
        only (:func:`train` switches it on, :func:`evaluate` off).
    init : {"torch", "xavier_normal"}, default "torch"
        Initial weights: PyTorch's default uniform initialisation, or Xavier-normal
        weights :math:`\\mathcal N(0, 2/(\\text{fan\\_in} + \\text{fan\\_out}))` as in the
        authors' code; biases follow PyTorch's default in both cases.
    rng : None, int or numpy.random.Generator, optional
        Source of the initial weights (drawn from a generator derived from ``rng``;
        torch's global random state is not used).

    Returns
    -------
    torch.nn.Sequential
        ``Flatten, Linear, ReLU, [Dropout,] ..., Linear``, float32 on the CPU. Its forward
        pass maps an input of shape (n, \\*in_shape) to logits of shape (n, n_classes).

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``dropout`` is not in [0, 1) or ``init`` is
        unknown.

    References
    ----------
    Bu, Gao, Zou and Veeravalli (2021), *Population risk improvement with model
    compression*, Entropy 23(10):1255, Section 7; Glorot and Bengio (2010),
    *Understanding the difficulty of training deep feedforward neural networks*.

    Examples
    --------
    >>> net = make_mlp((16, 8), rng=0)
    >>> net(torch.zeros(5, 8, 8)).shape
    torch.Size([5, 10])
    >>> sum(p.numel() for p in net.parameters())
    1266
    >>> authors = make_mlp((256, 256), in_shape=(28, 28), dropout=0.2, init="xavier_normal")
    >>> sum(p.numel() for p in authors.parameters())
    269322
    """
    hidden = _check_sizes(hidden, "hidden", allow_empty=True)
    in_shape = _check_in_shape(in_shape, conv=False)
    n_classes = check_int(n_classes, "n_classes", low=2)
    dropout = _check_dropout(dropout)
    init = _check_init_name(init)
    sizes = (int(np.prod(in_shape)),) + hidden
    layers = [nn.Flatten(start_dim=1)]
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += _hidden_block(a, b, dropout)
    layers.append(nn.Linear(sizes[-1], n_classes, device="meta"))
    return _materialise(nn.Sequential(*layers), rng, init)


class _ToImage(nn.Module):
    """Reshape a batch to (n, C, H, W) so that (n, H, W) grey images are accepted."""

    def __init__(self, chw):
        super().__init__()
        self.chw = tuple(chw)

    def forward(self, x):
        return x.reshape(x.shape[0], *self.chw)

    def extra_repr(self):
        return f"chw={self.chw}"


def make_convnet(*, in_shape=(8, 8), channels=(8, 16, 32), hidden=(32,), n_classes=10,
                 kernel_size=3, dropout=0.0, init="torch", rng=None) -> nn.Module:
    """Small convolutional ReLU network: the analogue of the paper's CIFAR-10 model.

    Bu et al. (2021) compress a network of five convolutional and three linear layers on
    CIFAR-10. This builder makes networks of that kind: ``len(channels)`` square
    convolutions of size ``kernel_size`` (zero padding ``kernel_size // 2``, so the image
    keeps its size), each followed by ReLU and a 2x2 max-pool (the pool is skipped once the
    image is 1 pixel wide), then ``len(hidden)`` hidden ``Linear -> ReLU [-> Dropout]``
    layers and a linear output layer. The defaults give 3 convolutional + 2 linear layers
    with 7,274 parameters for 8x8 inputs (8x8 -> 4x4 -> 2x2 -> 1x1 pixels). For 28x28
    MNIST, ``channels=(6, 16), hidden=(120, 84), kernel_size=5`` is a LeNet-5-like network
    (LeCun et al. 1998) of 107,786 parameters.

    Parameters
    ----------
    in_shape : tuple of int, default (8, 8)
        Shape of one input: (H, W) for grey images, or (C, H, W). Inputs of shape
        (n, H, W) or (n, C, H, W) are accepted. For CIFAR-10 use ``(3, 32, 32)`` and
        transpose the loaded (n, 32, 32, 3) images to (n, 3, 32, 32).
    channels : tuple of int, default (8, 16, 32)
        Output channels of the convolutions.
    hidden : tuple of int, default (32,)
        Widths of the hidden linear layers (may be empty).
    n_classes : int, default 10
    kernel_size : int, default 3
        Odd side length of the convolution kernels.
    dropout : float, default 0.0
        Dropout probability after every hidden linear layer, in [0, 1).
    init : {"torch", "xavier_normal"}, default "torch"
        Initial weights of every Linear and Conv layer (see :func:`make_mlp`).
    rng : None, int or numpy.random.Generator, optional
        Source of the initial weights (see :func:`make_mlp`).

    Returns
    -------
    torch.nn.Sequential
        Maps inputs of shape (n, \\*in_shape) to logits of shape (n, n_classes).

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``in_shape`` is not 2-D or 3-D,
        ``kernel_size`` is not a positive odd integer, ``dropout`` is not in [0, 1) or
        ``init`` is unknown.

    References
    ----------
    Bu et al. (2021), Section 7; the CIFAR-10 model there has 5 convolutional and 3 linear
    layers. LeCun, Bottou, Bengio and Haffner (1998), *Gradient-based learning applied to
    document recognition*.

    Examples
    --------
    >>> net = make_convnet(channels=(4, 8), hidden=(16,), rng=0)
    >>> net(torch.zeros(3, 8, 8)).shape
    torch.Size([3, 10])
    >>> lenet = make_convnet(in_shape=(28, 28), channels=(6, 16), hidden=(120, 84),
    ...                      kernel_size=5, dropout=0.2, init="xavier_normal", rng=0)
    >>> sum(p.numel() for p in lenet.parameters())
    107786
    """
    in_shape = _check_in_shape(in_shape, conv=True)
    channels = _check_sizes(channels, "channels")
    hidden = _check_sizes(hidden, "hidden", allow_empty=True)
    n_classes = check_int(n_classes, "n_classes", low=2)
    kernel_size = check_int(kernel_size, "kernel_size", low=1)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (the padding keeps the image size), "
                         f"got {kernel_size}")
    dropout = _check_dropout(dropout)
    init = _check_init_name(init)
    c, h, w = (1, *in_shape) if len(in_shape) == 2 else in_shape
    layers = [_ToImage((c, h, w))]
    for out in channels:
        layers += [nn.Conv2d(c, out, kernel_size=kernel_size, padding=kernel_size // 2,
                             device="meta"), nn.ReLU()]
        c = out
        if min(h, w) >= 2:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
    layers.append(nn.Flatten(start_dim=1))
    sizes = (c * h * w,) + hidden
    for a, b in zip(sizes[:-1], sizes[1:], strict=True):
        layers += _hidden_block(a, b, dropout)
    layers.append(nn.Linear(sizes[-1], n_classes, device="meta"))
    return _materialise(nn.Sequential(*layers), rng, init)


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


def _n_outputs(model, xt):
    was_training = model.training
    model.eval()
    try:
        return int(model(xt[:1]).shape[-1])
    finally:
        model.train(was_training)


def _cast_finite(t, dtype, name="x"):
    """Cast to the model's dtype and check that nothing overflowed to inf."""
    out = t.to(dtype)
    if not torch.isfinite(out).all():
        raise ValueError(f"{name} has values that are not finite in {dtype} "
                         f"(largest magnitude {float(t.abs().max()):.3g})")
    return out


class _OneThread:
    """Context manager: torch runs on one intra-op thread inside, as in a worker process,
    so that a model trained here is bit-for-bit the model a worker would return."""

    def __enter__(self):
        self.old = torch.get_num_threads()
        torch.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        torch.set_num_threads(self.old)
        return False


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
        architecture (e.g. ``functools.partial(make_mlp, (64, 32))`` or :func:`make_mlp`).
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
        import joblib

        tasks = (joblib.delayed(_train_member)(models[m], x_np[subsets[m]], y_np[subsets[m]],
                                               settings, seeds[m]) for m in range(n_models))
        runner = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
        results = list(progress_bar(runner(tasks), desc=desc, total=n_models,
                                    progress=progress))
        for mdl, (state, _, _) in zip(models, results, strict=True):
            mdl.load_state_dict(state)
    out = (models, subsets.astype(np.int64))
    if return_info:
        info = {"loss": np.stack([r[1] for r in results]),
                "seconds": np.array([r[2] for r in results])}
        return (*out, info)
    return out


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
    >>> base = [make_mlp((8,), rng=s) for s in range(2)]
    >>> more = continue_training(base, x, y, [np.arange(15), np.arange(15, 30)], epochs=2,
    ...                          batch_size=5, lr=1e-2, rng=1, progress=False)
    >>> len(more), more[0] is base[0]
    (2, False)
    """
    import joblib

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
    tasks = (joblib.delayed(_train_member)(copies[m], x_np[sub[m]], y_np[sub[m]], settings,
                                           seeds[m]) for m in range(len(models)))
    runner = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
    results = list(progress_bar(runner(tasks), desc=f"training {len(models)} models further",
                                total=len(models), progress=progress))
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
# evaluation
# --------------------------------------------------------------------------------------
def evaluate(model, x, y, *, device="cpu", batch_size=4096):
    """Mean cross-entropy (nats) and accuracy of ``model`` on ``(x, y)``.

    Parameters
    ----------
    model : torch.nn.Module
        Network returning logits.
    x : array-like or torch.Tensor of shape (n, ...)
    y : array-like or torch.Tensor of shape (n,)
    device : str or torch.device, default "cpu"
    batch_size : int, default 4096
        Samples per forward pass (memory only; the result does not depend on it beyond
        floating-point rounding).

    Returns
    -------
    dict
        ``{"loss": float, "accuracy": float}`` with
        :math:`\\text{loss} = \\frac1n \\sum_i -\\log p_w(y_i \\mid x_i)` in nats.

    Examples
    --------
    >>> net = make_mlp((8,), rng=0)
    >>> with torch.no_grad():
    ...     _ = net[-1].weight.zero_(), net[-1].bias.zero_()
    >>> r = evaluate(net, np.zeros((4, 8, 8)), [0, 1, 2, 3])
    >>> round(r["loss"], 6) == round(math.log(10), 6)
    True
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    batch_size = check_int(batch_size, "batch_size", low=1)
    dev = _check_device(device)
    xt = _as_x(x)
    yt = _as_y(y, xt.shape[0])
    return _evaluate(model, xt, yt, dev, batch_size)


@_portable
def _evaluate(model, xt, yt, dev, batch_size):
    model = model.to(dev)
    dtype = _model_dtype(model)
    total, correct = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for s in range(0, xt.shape[0], batch_size):
                xb = xt[s:s + batch_size].to(dev, dtype)
                yb = yt[s:s + batch_size].to(dev)
                logits = model(xb)
                _check_labels_vs_logits(yb, logits.shape[-1])
                total += float(F.cross_entropy(logits, yb, reduction="sum").double())
                correct += int((logits.argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    n = xt.shape[0]
    return {"loss": total / n, "accuracy": correct / n}


@_portable
def predict_logits(model, x, *, device="cpu", batch_size=4096):
    """Logits of ``model`` on ``x`` in evaluation mode (dropout off), as a numpy array.

    Parameters
    ----------
    model : torch.nn.Module
    x : array-like or torch.Tensor of shape (n, ...)
    device : str or torch.device, default "cpu"
    batch_size : int, default 4096

    Returns
    -------
    ndarray of shape (n, n_outputs), float64

    Examples
    --------
    >>> predict_logits(make_mlp((4,), rng=0), np.zeros((3, 8, 8))).shape
    (3, 10)
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    batch_size = check_int(batch_size, "batch_size", low=1)
    dev = _check_device(device)
    xt = _cast_finite(_as_x(x), _model_dtype(model))
    model = model.to(dev)
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for s in range(0, xt.shape[0], batch_size):
                out.append(model(xt[s:s + batch_size].to(dev)).double().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out).numpy()


def evaluate_ensemble(models, x, y, *, subsets=None, device="cpu"):
    """Evaluate several models; optionally model ``m`` only on ``x[subsets[m]]``.

    Parameters
    ----------
    models : sequence of torch.nn.Module
    x : array-like or torch.Tensor of shape (n, ...)
    y : array-like or torch.Tensor of shape (n,)
    subsets : array-like of shape (n_models, k), optional
        Row ``m`` indexes the samples on which model ``m`` is evaluated (e.g. its own
        training subset, to measure its empirical risk). Default: all samples.
    device : str or torch.device, default "cpu"

    Returns
    -------
    dict
        ``{"loss": ndarray (n_models,), "accuracy": ndarray (n_models,)}``.

    Examples
    --------
    >>> nets = [make_mlp((8,), rng=s) for s in range(3)]
    >>> r = evaluate_ensemble(nets, np.zeros((5, 8, 8)), np.zeros(5, dtype=int))
    >>> r["loss"].shape
    (3,)
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model")
    dev = _check_device(device)
    xt = _as_x(x)
    yt = _as_y(y, xt.shape[0])
    if subsets is not None:
        subsets = np.asarray(subsets)
        if subsets.ndim != 2 or subsets.shape[0] != len(models):
            raise ValueError(
                f"subsets must have shape ({len(models)}, k), got {subsets.shape}"
            )
        if not np.issubdtype(subsets.dtype, np.integer) or subsets.size == 0 or \
                subsets.min() < 0 or subsets.max() >= xt.shape[0]:
            raise ValueError(f"subsets must hold indices in 0..{xt.shape[0] - 1}")
    loss = np.empty(len(models))
    acc = np.empty(len(models))
    for m, mdl in enumerate(models):
        if subsets is None:
            r = _evaluate(mdl, xt, yt, dev, 4096)
        else:
            rows = torch.from_numpy(subsets[m].astype(np.int64))
            r = _evaluate(mdl, xt[rows], yt[rows], dev, 4096)
        loss[m], acc[m] = r["loss"], r["accuracy"]
    return {"loss": loss, "accuracy": acc}


# --------------------------------------------------------------------------------------
# Hessian diagonal
# --------------------------------------------------------------------------------------
@_portable
def hessian_diagonal(model, x, y, *, method="gauss_newton", batch_size=None, device="cpu"):
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
        sit in Linear/Conv2d layers (those of :func:`make_mlp` and :func:`make_convnet`)
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
        minimum; :func:`quantize_model` clips negative weights to 0.
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
    batch_size : int, optional
        Samples (or, for ``"exact"``, coordinates) per vectorised chunk; by default 1024
        samples for the closed form, else chosen to keep about 2**23 numbers in memory per
        chunk.
    device : str or torch.device, default "cpu"

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
    >>> net = make_mlp((4,), rng=0).double()
    >>> x = np.random.default_rng(1).normal(size=(6, 8, 8)); y = [0, 1, 2, 3, 4, 5]
    >>> gn = hessian_diagonal(net, x, y)
    >>> ex = hessian_diagonal(net, x, y, method="exact")
    >>> all(torch.allclose(gn[k], ex[k], atol=1e-10) for k in gn)
    True
    """
    from . import curvature

    if method not in HESSIAN_METHODS:
        raise ValueError(f"method must be one of {HESSIAN_METHODS}, got {method!r}")
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
    closed = curvature.supports_closed_form(model)
    if method == "gauss_newton_squared" and not closed:
        raise ValueError("method='gauss_newton_squared' needs a network whose parameters all "
                         "belong to Linear/Conv2d layers")
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            n_out = int(model(xt[:1]).shape[-1])
        _check_labels_vs_logits(yt, n_out)
        if method in ("gauss_newton", "gauss_newton_squared") and closed:
            loss = "cross_entropy" if method == "gauss_newton" else "squared_cross_entropy"
            out = curvature.gauss_newton_diagonal(model, xt, yt, loss=loss,
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
    dtypes = dict((k, v.dtype) for k, v in model.named_parameters())
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


# --------------------------------------------------------------------------------------
# quantization of a whole network
# --------------------------------------------------------------------------------------
def quantizable_parameters(model):
    """Names of the weight tensors that :func:`quantize_model` compresses by default.

    These are the ``weight`` parameters of every :class:`~torch.nn.Linear` and
    :class:`~torch.nn.Conv2d` (or Conv1d/Conv3d) module, in registration order. Biases are
    not included.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    list of str

    Examples
    --------
    >>> quantizable_parameters(make_mlp((16, 8)))
    ['1.weight', '3.weight', '5.weight']
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    names = []
    for mod_name, mod in model.named_modules():
        if isinstance(mod, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            names.append(f"{mod_name}.weight" if mod_name else "weight")
    return names


def quantize_model(model, n_clusters, *, method="kmeans", beta=0.0, block=1, hessian=None,
                   layers=None, rng=None, beta_scale="absolute", max_iter=100, init="linear",
                   diameter="squared"):
    """Quantize every Linear/Conv weight tensor of a network with K shared values.

    Following Bu et al. (2021, Section 7), each selected weight tensor (layer) is
    clustered separately with the **same** number of clusters ``K = n_clusters``; every
    weight (or, with ``block=m``, every group of ``m`` consecutive weights of the flattened
    tensor) is replaced by its cluster centre. Methods:

    ``"kmeans"``
        Plain k-means, :func:`infocompress.quantize.drhw_kmeans` with ``h=None``
        (a non-zero ``beta`` adds the diameter penalty to plain k-means).
    ``"hw"``
        Hessian-weighted k-means, eq. (30): ``h`` = diagonal Hessian, ``beta = 0``.
    ``"drhw"``
        Diameter-regularized Hessian-weighted k-means, eq. (34)/(35), Algorithm 1.
    ``"optimal"``
        Exact (Hessian-weighted if ``hessian`` is given, else plain) 1-D k-means by dynamic
        programming, :func:`infocompress.quantize.optimal_kmeans_1d` (``block=1``, no beta).

    Biases (and any parameter not selected) are kept in 32-bit floats and left unchanged.
    The compression ratio of eq. (39),

    .. math::
        \\text{ratio} = \\frac{\\sum_{\\text{layers}} \\big(\\sum_{k=1}^K |C^{(k)}|\\, b_k
        + K m b\\big)}{d\\, b},

    with Huffman code lengths :math:`b_k` per layer and ``b = 32`` bits, is computed by
    :func:`infocompress.coding.compression_ratio` over the quantized tensors only (``d``
    is their total number of weights, biases excluded, as in the paper which counts the
    parameters "that need to be compressed"). ``info["compression_ratio_all"]`` also
    counts the uncompressed 32-bit biases in numerator and denominator.

    Parameters
    ----------
    model : torch.nn.Module
        Trained network (not modified).
    n_clusters : int
        Number of clusters K per layer, >= 1 and at most the number of weights (blocks) in
        the smallest selected layer.
    method : {"kmeans", "hw", "drhw", "optimal"}, default "kmeans"
    beta : float, default 0.0
        Diameter regulariser, >= 0 (``"kmeans"`` and ``"drhw"`` only).
    block : int, default 1
        Block length m of vector quantization; each selected tensor's size must be a
        multiple of m.
    hessian : dict of str to tensor or array, optional
        Diagonal Hessian per parameter name, e.g. from :func:`hessian_diagonal`; required
        by ``"hw"`` and ``"drhw"``. Negative entries (possible with ``method="exact"``)
        are clipped to 0 before clustering.
    layers : sequence of str, optional
        Parameter names to quantize; default :func:`quantizable_parameters`.
    rng : None, int or numpy.random.Generator, optional
        Passed to the clustering (initialisation).
    beta_scale : {"absolute", "hessian"}, default "absolute"
        ``"hessian"`` multiplies ``beta`` for each layer by that layer's total Hessian mass
        :math:`\\sum_j h_j` (its number of weights for ``"kmeans"``), so that one relative
        ``beta`` means the same pull on the extreme centres in every layer and model.
    max_iter : int, default 100
        Passed to :func:`~infocompress.quantize.drhw_kmeans`.
    init : {"linear", "quantile", "kmeans++"}, default "linear"
        Initial centres, passed to :func:`~infocompress.quantize.drhw_kmeans`. Bu et al.'s
        code uses ``"quantile"`` with ``max_iter=30``.
    diameter : {"squared", "linear"}, default "squared"
        Diameter penalty of DRHW k-means: eq. (34) (``"squared"``) or the linear penalty of
        the authors' code (``"linear"``, scalar only), see
        :func:`~infocompress.quantize.drhw_kmeans`.

    Returns
    -------
    compressed : torch.nn.Module
        A deep copy of ``model`` with the quantized weights.
    info : dict
        ``"labels"`` and ``"centers"`` (dicts per layer name; labels of shape
        (numel / m,), centers of shape (K,) or (K, m)), ``"objective"`` (per layer),
        ``"beta"`` (the absolute beta used per layer), ``"diameter"`` (per layer, the largest
        Euclidean distance between two centres), ``"compression_ratio"`` (eq. 39 over
        the quantized weights), ``"compression_ratio_all"`` (with 32-bit biases),
        ``"compression_ratio_entropy"`` (eq. 39 with each label charged the entropy of its
        layer's label distribution instead of its Huffman length, the count of Bu et al.'s
        code; at most the Huffman ratio), ``"n_weights"`` (number of quantized weights) and
        ``"n_other"`` (parameters kept).

    Raises
    ------
    ValueError
        For an unknown method or layer, a missing Hessian, ``beta < 0``, ``beta != 0`` with
        ``"hw"``/``"optimal"``, ``block > 1`` with ``"optimal"``, or a bad ``n_clusters``.

    References
    ----------
    Bu et al. (2021), Section 6 (eq. 30, 34, 35, Algorithm 1) and Section 7 (eq. 39).

    Examples
    --------
    >>> net = make_mlp((16, 8), rng=0)
    >>> small, info = quantize_model(net, 4, rng=0)
    >>> all(torch.unique(dict(small.named_parameters())[k]).numel() <= 4
    ...     for k in info["labels"])
    True
    >>> 0 < info["compression_ratio"] < 1
    True
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if method not in QUANTIZE_METHODS:
        raise ValueError(f"method must be one of {QUANTIZE_METHODS}, got {method!r}")
    if beta_scale not in ("absolute", "hessian"):
        raise ValueError(f"beta_scale must be 'absolute' or 'hessian', got {beta_scale!r}")
    k = check_int(n_clusters, "n_clusters", low=1)
    m = check_int(block, "block", low=1)
    max_iter = check_int(max_iter, "max_iter", low=1)
    try:
        beta = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f"beta must be a number >= 0, got {beta!r}") from None
    if not (math.isfinite(beta) and beta >= 0):
        raise ValueError(f"beta must be finite and >= 0, got {beta}")
    if method in ("hw", "optimal") and beta != 0:
        raise ValueError(f"method={method!r} has no diameter term; got beta={beta} (use 'drhw')")
    if method == "optimal" and m != 1:
        raise ValueError(f"method='optimal' is scalar (block=1), got block={m}")
    if not isinstance(init, str) or init not in ("linear", "quantile", "kmeans++"):
        raise ValueError(f"init must be 'linear', 'quantile' or 'kmeans++', got {init!r}")
    if not isinstance(diameter, str) or diameter not in ("squared", "linear"):
        raise ValueError(f"diameter must be 'squared' or 'linear', got {diameter!r}")
    if diameter == "linear" and m != 1:
        raise ValueError(f"diameter='linear' is scalar (block=1), got block={m}")
    named = dict(model.named_parameters())
    names = quantizable_parameters(model) if layers is None else list(layers)
    if not names:
        raise ValueError("no layer to quantize (layers is empty or the model has none)")
    for name in names:
        if name not in named:
            raise ValueError(f"layers names unknown parameter {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"layers lists a parameter twice: {names}")
    if method in ("hw", "drhw") and hessian is None:
        raise ValueError(f"method={method!r} needs hessian= (see hessian_diagonal)")
    weights, hdiag = {}, {}
    for name in names:
        w = named[name].detach().cpu().double().numpy().ravel()
        if w.size % m:
            raise ValueError(f"layer {name!r} has {w.size} weights, not a multiple of block={m}")
        if k > w.size // m:
            raise ValueError(
                f"n_clusters={k} exceeds the {w.size // m} weight blocks of layer {name!r}"
            )
        weights[name] = w
        if hessian is not None and method != "kmeans":
            if name not in hessian:
                raise ValueError(f"hessian has no entry for layer {name!r}")
            h = hessian[name]
            h = h.detach().cpu().double().numpy() if isinstance(h, torch.Tensor) \
                else np.asarray(h, dtype=float)
            if h.size != w.size:
                raise ValueError(
                    f"hessian[{name!r}] has {h.size} entries, the layer has {w.size}"
                )
            if not np.all(np.isfinite(h)):
                raise ValueError(f"hessian[{name!r}] must be finite")
            hdiag[name] = np.clip(h.ravel(), 0.0, None)
    return _quantize_model(model, names, weights, hdiag, k, method, beta, m, rng,
                           beta_scale, max_iter, init, diameter)


def _quantize_model(model, names, weights, hdiag, k, method, beta, m, rng, beta_scale,
                    max_iter, init="linear", penalty="squared"):
    from . import coding, quantize

    gen = as_generator(rng)
    compressed = copy.deepcopy(model)
    named_c = dict(compressed.named_parameters())
    labels, centers, objective, betas, diameter = {}, {}, {}, {}, {}
    for name in names:
        w = weights[name]
        h = hdiag.get(name)
        if method == "optimal":
            res = quantize.optimal_kmeans_1d(w, k, h=h)
            b_used = 0.0
        else:
            mass = float(h.sum()) if h is not None else float(w.size)
            b_used = beta * mass if beta_scale == "hessian" else beta
            res = quantize.drhw_kmeans(w, h, k, beta=b_used, block=m, max_iter=max_iter,
                                       rng=gen, init=init, diameter=penalty)
        w_hat = np.asarray(res.reconstruct(), dtype=float).reshape(named_c[name].shape)
        with torch.no_grad():
            named_c[name].copy_(torch.as_tensor(w_hat, dtype=named_c[name].dtype))
        labels[name] = np.asarray(res.labels)
        centers[name] = np.asarray(res.centers)
        objective[name] = float(res.objective)
        betas[name] = b_used
        diameter[name] = math.sqrt(quantize.centers_diameter(centers[name]))
    n_weights = int(sum(weights[n].size for n in names))
    n_other = int(sum(p.numel() for nm, p in model.named_parameters() if nm not in names))
    ratio = float(coding.compression_ratio([labels[n] for n in names], k, bits=32, block=m))
    ratio_all = (ratio * n_weights + n_other) / (n_weights + n_other)
    entropy_bits = sum(labels[n].size * coding.entropy_bits(np.bincount(labels[n],
                                                                         minlength=k))
                       + 32 * k * m for n in names)
    ratio_entropy = float(entropy_bits / (32 * n_weights))
    info = {"labels": labels, "centers": centers, "objective": objective, "beta": betas,
            "diameter": diameter,
            "compression_ratio": ratio, "compression_ratio_all": ratio_all,
            "compression_ratio_entropy": ratio_entropy,
            "n_weights": n_weights, "n_other": n_other, "method": method, "n_clusters": k,
            "block": m}
    return compressed, info


# --------------------------------------------------------------------------------------
# ensemble experiments (Bu et al. 2021, Section 7)
# --------------------------------------------------------------------------------------
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


#: The warning loky emits when it replaced a worker process (its guard against memory
#: growth restarts a worker whose memory grew by a few hundred MB) while jobs were queued.
_LOKY_RESTART = "A worker stopped while some jobs were given to the executor"


@contextlib.contextmanager
def _tolerate_worker_restarts():
    """Hide loky's warning about a replaced worker process.

    The replacement worker runs the queued jobs, so the results are complete and do not
    depend on it; the warning would only appear on stderr of a cold run (and not of a warm
    one), so executing a chapter twice would print different things. Any other warning is
    shown as usual.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_LOKY_RESTART, category=UserWarning)
        yield


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
        :func:`train_ensemble`); default: every model uses all of ``x``.
    method : str, default "gauss_newton"
        One of :data:`HESSIAN_METHODS` (see :func:`hessian_diagonal`).
    device : str or torch.device, default "cpu"
    normalize : bool, default False
        Divide the diagonal of every quantizable weight tensor
        (:func:`quantizable_parameters`) by its mean, as Bu et al.'s code does with its
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
        import joblib

        tasks = (joblib.delayed(_hessian_member)(models[m], x_np[rows(m)], y_np[rows(m)],
                                                 method, "cpu") for m in range(len(models)))
        runner = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
        with _tolerate_worker_restarts():
            out = list(progress_bar(runner(tasks), desc="Hessian diagonals",
                                    total=len(models), progress=progress))
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


def compression_sweep(models, n_clusters, data, *, method="kmeans", beta=0.0, block=1,
                      hessians=None, beta_scale="absolute", init="linear", max_iter=100,
                      diameter="squared", per_sample=(), rng=None, device="cpu", n_jobs=None,
                      progress=None):
    """Quantize every model of an ensemble for several K and measure its risks.

    For each ``K`` in ``n_clusters`` and each model, :func:`quantize_model` compresses
    all Linear/Conv weight tensors with ``K`` clusters and the compressed model is
    evaluated (mean cross-entropy in nats and accuracy) on every entry of ``data``. The
    uncompressed models are evaluated too. This is the measurement behind Figures 1 and
    3-6 of Bu et al. (2021): with ``data = {"train": (x, y, subsets), "test": (x_test,
    y_test)}`` the ``"train"`` loss is each model's empirical risk :math:`L_S` on its own
    training subset, the ``"test"`` loss estimates its population risk :math:`L_\\mu`, and
    their difference is the generalization error.

    The models are processed in parallel worker processes through :class:`joblib.Parallel`
    (``n_jobs``), one model per task, each on one torch thread; the results do not depend
    on ``n_jobs`` (the clustering draws its randomness, used only by
    ``init="kmeans++"``, from per-model seeds drawn from ``rng`` in advance).

    Parameters
    ----------
    models : sequence of torch.nn.Module
    n_clusters : int or sequence of int
        Cluster numbers K to try (the same K for every layer).
    data : dict
        Name -> ``(x, y)`` (every model on all samples) or ``(x, y, subsets)`` (model
        ``m`` on ``x[subsets[m]]``).
    method, beta, block, beta_scale, init, max_iter, diameter
        As in :func:`quantize_model`.
    hessians : sequence of dict, optional
        One Hessian diagonal per model (:func:`ensemble_hessians`); needed by ``"hw"`` and
        ``"drhw"``.
    per_sample : sequence of str, default ()
        Names of entries of ``data`` (of the ``(x, y)`` kind) whose per-sample losses are
        returned as well, e.g. ``("test",)``: the test-set part of a standard error (see
        :func:`infocompress.stats.crossed_se`).
    rng : None, int or numpy.random.Generator, optional
    device : str or torch.device, default "cpu"
    n_jobs : int or None, default None
        Worker processes (joblib convention; None = joblib's current default).
    progress : bool or None, optional
        Progress bar over models.

    Returns
    -------
    dict
        ``"n_clusters"``: ndarray (n_K,); ``"compression_ratio"``: ndarray (n_K, n_models)
        (eq. 39 with Huffman codes, quantized weights only); ``"compression_ratio_entropy"``:
        the same with entropy-coded labels (the count of Bu et al.'s code); ``"loss"``,
        ``"accuracy"``: dicts name -> ndarray (n_K, n_models); ``"diameter"``: dict layer
        -> ndarray (n_K, n_models), the largest distance between two centres of the layer;
        ``"original"``: ``{"loss": {name: (n_models,)}, "accuracy": {...}}`` for the
        uncompressed models; with ``per_sample``, ``"per_sample"``: dict name -> ndarray
        (n_K, n_models, n_samples) and ``"original"["per_sample"]``: dict name -> ndarray
        (n_models, n_samples) of cross-entropies.

    References
    ----------
    Bu et al. (2021), Section 7, eq. (39), Figures 1 and 3-6.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(30, 8, 8)); y = np.arange(30) % 10
    >>> models = [make_mlp((8,), rng=s) for s in range(2)]
    >>> res = compression_sweep(models, [2, 4], {"all": (x, y)}, per_sample=["all"],
    ...                         progress=False)
    >>> res["loss"]["all"].shape, res["compression_ratio"].shape
    ((2, 2), (2, 2))
    >>> res["per_sample"]["all"].shape
    (2, 2, 30)
    >>> bool(np.allclose(res["per_sample"]["all"].mean(axis=2), res["loss"]["all"]))
    True
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model")
    ks = [n_clusters] if isinstance(n_clusters, numbers.Integral) else list(n_clusters)
    if isinstance(n_clusters, str) or not ks:
        raise ValueError(f"n_clusters must be an int or a non-empty sequence of ints, "
                         f"got {n_clusters!r}")
    ks = [check_int(k, "n_clusters entry", low=1) for k in ks]
    if not isinstance(data, dict) or not data:
        raise ValueError("data must be a non-empty dict name -> (x, y[, subsets])")
    if hessians is not None and len(hessians) != len(models):
        raise ValueError(f"hessians has {len(hessians)} entries for {len(models)} models")
    if isinstance(per_sample, str):
        raise ValueError(f"per_sample must be a sequence of names, got the string "
                         f"{per_sample!r}")
    per_sample = tuple(per_sample)
    sets = {}
    for name, item in data.items():
        if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
            raise ValueError(f"data[{name!r}] must be (x, y) or (x, y, subsets)")
        xt = _as_x(item[0], f"data[{name!r}] x")
        yt = _as_y(item[1], xt.shape[0], f"data[{name!r}] y")
        sub = None
        if len(item) == 3 and item[2] is not None:
            sub = np.asarray(item[2])
            if sub.ndim != 2 or sub.shape[0] != len(models) or \
                    not np.issubdtype(sub.dtype, np.integer) or sub.min() < 0 or \
                    sub.max() >= xt.shape[0]:
                raise ValueError(f"data[{name!r}] subsets must be ({len(models)}, k) "
                                 f"indices into x")
        sets[name] = (_cast_finite(xt, _model_dtype(models[0]), f"data[{name!r}] x").numpy(),
                      yt.numpy(), sub)
    for name in per_sample:
        if name not in sets:
            raise ValueError(f"per_sample names {name!r}, which is not a key of data")
        if sets[name][2] is not None:
            raise ValueError(f"per_sample needs data[{name!r}] of the (x, y) kind (the same "
                             "samples for every model)")
    dev = _check_device(device)
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs")
    # validate the settings once, on the first model, before any work is farmed out
    quantize_model(models[0], min(ks), method=method, beta=beta, block=block,
                   hessian=None if hessians is None else hessians[0], beta_scale=beta_scale,
                   max_iter=1, init=init, diameter=diameter, rng=0)
    seeds = [int(s) for s in as_generator(rng).integers(2**62, size=len(models))]
    settings = dict(method=method, beta=beta, block=block, beta_scale=beta_scale,
                    max_iter=max_iter, init=init, diameter=diameter)
    args = [(models[m], m, None if hessians is None else hessians[m], seeds[m])
            for m in range(len(models))]
    if dev.type == "cpu":
        import joblib

        tasks = (joblib.delayed(_sweep_member)(mdl, m, h, seed, ks, sets, settings,
                                               per_sample, "cpu")
                 for mdl, m, h, seed in args)
        runner = joblib.Parallel(n_jobs=n_jobs, return_as="generator")
        results = list(progress_bar(runner(tasks), desc=f"{method} K={ks}",
                                    total=len(models), progress=progress))
    else:
        results = [_sweep_member(mdl, m, h, seed, ks, sets, settings, per_sample, dev)
                   for mdl, m, h, seed in progress_bar(args, desc=f"{method} K={ks}",
                                                        progress=progress)]
    out = {"n_clusters": np.asarray(ks),
           "compression_ratio": np.stack([r["ratio"] for r in results], axis=1),
           "compression_ratio_entropy": np.stack([r["ratio_entropy"] for r in results],
                                                 axis=1),
           "loss": {nm: np.stack([r["loss"][nm] for r in results], axis=1) for nm in sets},
           "accuracy": {nm: np.stack([r["acc"][nm] for r in results], axis=1)
                        for nm in sets},
           "diameter": {layer: np.stack([r["diameter"][layer] for r in results], axis=1)
                        for layer in results[0]["diameter"]},
           "original": {"loss": {nm: np.array([r["orig_loss"][nm] for r in results])
                                 for nm in sets},
                        "accuracy": {nm: np.array([r["orig_acc"][nm] for r in results])
                                     for nm in sets}}}
    if per_sample:
        out["per_sample"] = {nm: np.stack([r["per_sample"][nm] for r in results], axis=1)
                             for nm in per_sample}
        out["original"]["per_sample"] = {nm: np.stack([r["orig_per_sample"][nm]
                                                       for r in results])
                                         for nm in per_sample}
    return out


@_portable
def _per_sample_losses(model, xt, yt, dev, batch_size=4096):
    """Cross-entropy of every sample (float64 numpy), model in evaluation mode."""
    model = model.to(dev)
    was_training = model.training
    model.eval()
    out = []
    try:
        with torch.no_grad():
            for s in range(0, xt.shape[0], batch_size):
                logits = model(xt[s:s + batch_size].to(dev))
                _check_labels_vs_logits(yt[s:s + batch_size], logits.shape[-1])
                out.append(F.cross_entropy(logits, yt[s:s + batch_size].to(dev),
                                           reduction="none").double().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out).numpy()


def _sweep_member(model, m, hessian, seed, ks, sets, settings, per_sample, device):
    """Worker task of :func:`compression_sweep`: one model, every K, every data set."""
    dev = torch.device(device)
    with _OneThread():
        tensors = {}
        for name, (x, y, sub) in sets.items():
            rows = slice(None) if sub is None else sub[m]
            tensors[name] = (torch.from_numpy(np.array(x[rows], copy=True)),
                             torch.from_numpy(np.array(y[rows], copy=True)))

        def measure(mdl):
            res, samples = {}, {}
            for name, (xt, yt) in tensors.items():
                if name in per_sample:
                    losses = _per_sample_losses(mdl, xt, yt, dev)
                    samples[name] = losses
                    acc = _evaluate(mdl, xt, yt, dev, 4096)["accuracy"]
                    res[name] = {"loss": float(losses.mean()), "accuracy": acc}
                else:
                    res[name] = _evaluate(mdl, xt, yt, dev, 4096)
            return res, samples

        gen = np.random.default_rng(seed)
        orig, orig_samples = measure(model)
        out = {"orig_loss": {k: v["loss"] for k, v in orig.items()},
               "orig_acc": {k: v["accuracy"] for k, v in orig.items()},
               "orig_per_sample": orig_samples,
               "loss": {k: np.empty(len(ks)) for k in tensors},
               "acc": {k: np.empty(len(ks)) for k in tensors},
               "per_sample": {k: np.empty((len(ks), tensors[k][0].shape[0]))
                              for k in per_sample},
               "ratio": np.empty(len(ks)), "ratio_entropy": np.empty(len(ks)),
               "diameter": {}}
        for i, k in enumerate(ks):
            small, info = quantize_model(model, k, hessian=hessian, rng=gen, **settings)
            out["ratio"][i] = info["compression_ratio"]
            out["ratio_entropy"][i] = info["compression_ratio_entropy"]
            for layer, dval in info["diameter"].items():
                out["diameter"].setdefault(layer, np.empty(len(ks)))[i] = dval
            res, samples = measure(small)
            for name, r in res.items():
                out["loss"][name][i], out["acc"][name][i] = r["loss"], r["accuracy"]
            for name, v in samples.items():
                out["per_sample"][name][i] = v
    return out


def select_beta(models, hessians, x, y, val_subsets, n_clusters, betas, *, block=1,
                beta_scale="hessian", init="linear", max_iter=100, diameter="squared",
                rng=None, device="cpu", n_jobs=None, progress=None):
    """Choose the diameter weight ``beta`` of DRHW k-means by validation.

    Bu et al. (2021, Section 7) suggest choosing ``beta`` by cross-validation. Here every
    model is compressed with DRHW k-means (``n_clusters`` clusters, each ``beta`` of the
    grid) and evaluated on its own **validation** samples ``x[val_subsets[m]]``, which must
    be training-pool data the model was not trained on (e.g. :func:`complement_subsets` of
    its training subset); the test set is never used. The chosen value minimises the
    validation cross-entropy averaged over the models (one ``beta`` for the ensemble).

    Parameters
    ----------
    models : sequence of torch.nn.Module
    hessians : sequence of dict
        Hessian diagonals of the models' training losses (:func:`ensemble_hessians`).
    x, y : array-like
        Pool that ``val_subsets`` indexes.
    val_subsets : array-like of shape (n_models, k)
        Validation indices of each model.
    n_clusters : int
        K used for the selection.
    betas : sequence of float
        Candidate values, >= 0 (relative to each layer's Hessian mass when
        ``beta_scale="hessian"``, see :func:`quantize_model`).
    block : int, default 1
    beta_scale : {"hessian", "absolute"}, default "hessian"
    init, max_iter, diameter
        As in :func:`quantize_model`.
    rng, device, n_jobs, progress
        As in :func:`compression_sweep`.

    Returns
    -------
    dict
        ``"beta"`` (the chosen value), ``"index"`` (its position in ``betas``),
        ``"betas"`` (ndarray), ``"val_loss"`` (ndarray (n_betas, n_models)) and
        ``"mean"`` (ndarray (n_betas,), the mean validation loss per candidate).

    References
    ----------
    Bu et al. (2021), Section 6.2 (eq. 33-34) and Section 7.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(30, 8, 8)); y = np.arange(30) % 10
    >>> models = [make_mlp((8,), rng=s) for s in range(2)]
    >>> hs = ensemble_hessians(models, x, y, progress=False)
    >>> sel = select_beta(models, hs, x, y, [np.arange(30)] * 2, 3, [0.0, 0.01],
    ...                   progress=False)
    >>> sel["val_loss"].shape, sel["beta"] in (0.0, 0.01)
    ((2, 2), True)
    """
    betas = np.asarray(betas, dtype=float)
    if betas.ndim != 1 or betas.size == 0 or not np.all(np.isfinite(betas)) or \
            np.any(betas < 0):
        raise ValueError(f"betas must be a non-empty 1-D sequence of finite values >= 0, "
                         f"got {betas}")
    k = check_int(n_clusters, "n_clusters", low=1)
    gen = as_generator(rng)
    val = np.empty((betas.size, len(models)))
    for i in progress_bar(range(betas.size), desc="beta by validation", progress=progress):
        res = compression_sweep(models, [k], {"val": (x, y, val_subsets)}, method="drhw",
                                beta=float(betas[i]), block=block, hessians=hessians,
                                beta_scale=beta_scale, init=init, max_iter=max_iter,
                                diameter=diameter, rng=gen, device=device, n_jobs=n_jobs,
                                progress=False)
        val[i] = res["loss"]["val"][0]
    mean = val.mean(axis=1)
    best = int(np.argmin(mean))
    return {"beta": float(betas[best]), "index": best, "betas": betas, "val_loss": val,
            "mean": mean}
