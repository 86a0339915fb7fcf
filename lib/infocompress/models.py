"""The networks of the practice part: construction, inputs and evaluation.

* :func:`make_mlp`, :func:`make_convnet` -- the two architectures of Bu et al. (2021),
  Section 7 (optionally with dropout and Xavier-normal initial weights, the authors'
  recipe), initialised from an ``rng`` without touching torch's global random state;
* :func:`torch_generator` -- a :class:`torch.Generator` from an int seed or a numpy
  generator (the one conversion used everywhere);
* :func:`evaluate`, :func:`evaluate_ensemble`, :func:`predict_logits` -- mean
  cross-entropy (nats), accuracy and logits of one model or of every model of an ensemble;
* :func:`quantizable_parameters` -- the weight tensors a compression acts on (every
  Linear/Conv weight; biases are kept).

The numbers computed here and in :mod:`~infocompress.training`,
:mod:`~infocompress.curvature` and :mod:`~infocompress.compression` do not depend on the
CPU's vector extensions (:data:`PORTABLE_NUMERICS`). Importing this module imports torch.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ._validation import Models, Sizes, as_generator, check_int, validate_params

__all__ = [
    "INITS",
    "PORTABLE_NUMERICS",
    "evaluate",
    "evaluate_ensemble",
    "make_convnet",
    "make_mlp",
    "predict_logits",
    "quantizable_parameters",
    "torch_generator",
]

#: The numbers this module computes do not depend on the CPU's vector extensions when
#: (1) torch's own kernels are capped at AVX2 (environment variable
#: ``ATEN_CPU_CAPABILITY=avx2``), (2) MKL runs its AVX2 code path on every processor
#: (``MKL_CBWR=AVX2``), both read when torch is imported (the Makefile sets them), and (3)
#: oneDNN, whose convolution kernels are chosen per processor, is not used: every
#: training, evaluation and curvature function here runs with ``torch.backends.mkldnn``
#: switched off. Training is chaotic, so without (1)-(3) networks trained on an AVX-512
#: machine differ after a few epochs from those trained on an AVX2 machine.
PORTABLE_NUMERICS = ("ATEN_CPU_CAPABILITY=avx2", "MKL_CBWR=AVX2", "mkldnn disabled")


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


def _check_model(model):
    """A ValueError unless ``model`` is a torch module with parameters."""
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not any(True for _ in model.parameters()):
        raise ValueError("model has no parameters")


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


@validate_params(in_shape=Sizes(low=1))
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
        only (:func:`~infocompress.training.train` switches it on, :func:`evaluate` off).
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


@validate_params(in_shape=Sizes(low=1))
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


#: Rows per forward pass inside an evaluation. ATen's convolutions run faster on a few hundred
#: images than on thousands (measured on the LeNet of
#: :data:`infocompress.ensembles.AUTHORS_CONVNET` with the library's kernels, see
#: :func:`_portable`: 0.36 s against 0.62 s for 2,000 images on one core), and every layer of
#: these networks treats the rows independently, so the logits are the same bits
#: (``tests/test_nets.py``).
_FORWARD_ROWS = 256


def _forward(model, xb):
    """``model(xb)``, computed :data:`_FORWARD_ROWS` rows at a time."""
    if xb.shape[0] <= _FORWARD_ROWS:
        return model(xb)
    return torch.cat([model(xb[s:s + _FORWARD_ROWS])
                      for s in range(0, xb.shape[0], _FORWARD_ROWS)])


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
                logits = _forward(model, xb)
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
                out.append(_forward(model, xt[s:s + batch_size].to(dev)).double().cpu())
    finally:
        model.train(was_training)
    return torch.cat(out).numpy()


@validate_params(models=Models())
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
# quantization of a whole network
# --------------------------------------------------------------------------------------
def quantizable_parameters(model):
    """Names of the weight tensors that :func:`~infocompress.compression.quantize_model` compresses
    by default.

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


@_portable
def _per_sample_losses(model, xt, yt, dev, batch_size=4096, *, with_accuracy=False):
    """Cross-entropy of every sample (float64 numpy), model in evaluation mode; with
    ``with_accuracy``, also the accuracy (from the same forward pass, equal to
    :func:`_evaluate`'s)."""
    model = model.to(dev)
    was_training = model.training
    model.eval()
    out, correct = [], 0
    try:
        with torch.no_grad():
            for s in range(0, xt.shape[0], batch_size):
                yb = yt[s:s + batch_size].to(dev)
                logits = _forward(model, xt[s:s + batch_size].to(dev))
                _check_labels_vs_logits(yb, logits.shape[-1])
                out.append(F.cross_entropy(logits, yb, reduction="none").double().cpu())
                correct += int((logits.argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    losses = torch.cat(out).numpy()
    return (losses, correct / xt.shape[0]) if with_accuracy else losses


def _check_layers(model, layers):
    """The parameter names a compression acts on: ``layers`` (a sequence of names of
    ``model``'s parameters, each once) or, for None, :func:`quantizable_parameters`."""
    if isinstance(layers, (str, bytes)):
        raise ValueError("layers must be a sequence of parameter names, not the string "
                         f"{layers!r} (write [{layers!r}])")
    names = quantizable_parameters(model) if layers is None else list(layers)
    named = dict(model.named_parameters())
    if not names:
        raise ValueError("no layer to compress (layers is empty or the model has none)")
    for name in names:
        if name not in named:
            raise ValueError(f"layers names unknown parameter {name!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"layers lists a parameter twice: {names}")
    return names
