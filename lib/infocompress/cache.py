"""On-disk cache for expensive, deterministic results (trained ensembles, Hessians).

The practice chapters share networks: the ensemble of MNIST networks that one chapter
trains is the ensemble the next chapter compresses. :func:`cached` stores such a result
under a key that names everything it depends on (the recipe, the data, the seed and the
source code of the library modules that compute it), so that

* a **hit** returns exactly what the computation would return (the computation is
  deterministic given the key);
* a **miss** computes, then writes the file **atomically**: into a temporary file in the
  same folder, flushed to disk, then renamed over the final name (:func:`os.replace`), so a
  run killed while writing leaves no partial entry;
* every file carries the SHA-256 digest of its payload, checked on load: a corrupt or
  truncated file is reported with a warning and recomputed, never returned;
* a process that asks for an entry another process is computing waits for it (an
  exclusive :func:`fcntl.flock` on a lock file beside the entry) instead of computing it
  a second time.

Files live in the folder named by the environment variable ``INFOCOMPRESS_CACHE``, else
``$XDG_CACHE_HOME/infocompress``, else ``~/.cache/infocompress``. Delete the folder to
start cold; set ``INFOCOMPRESS_CACHE=off`` to compute every time. Payloads are dicts of
tensors, numpy arrays (stored as tensors) and plain Python values, saved with
:func:`torch.save` and read back with ``torch.load(weights_only=True)``, which refuses
anything but tensors and plain containers (no arbitrary code on load).
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from ._validation import IsCallable, Options, PathLike, validate_params

__all__ = ["CACHE_ENV_VAR", "LOG_ENV_VAR", "cache_dir", "cached", "key_digest", "source_digest"]

#: Environment variable naming the cache folder (``off`` disables the cache).
CACHE_ENV_VAR = "INFOCOMPRESS_CACHE"

_MAGIC = b"infocompress-cache 1\n"


def cache_dir() -> Path | None:
    """The cache folder (created on first write), or None if caching is off.

    Returns
    -------
    pathlib.Path or None

    Examples
    --------
    >>> import os
    >>> old = os.environ.get("INFOCOMPRESS_CACHE")
    >>> os.environ["INFOCOMPRESS_CACHE"] = "off"
    >>> cache_dir() is None
    True
    >>> os.environ["INFOCOMPRESS_CACHE"] = "/tmp/ic-cache"
    >>> str(cache_dir())
    '/tmp/ic-cache'
    >>> _ = os.environ.pop("INFOCOMPRESS_CACHE") if old is None else \\
    ...     os.environ.update(INFOCOMPRESS_CACHE=old)
    """
    env = os.environ.get(CACHE_ENV_VAR)
    if env is not None and env.strip().lower() in ("off", "0", "none", "false"):
        return None
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "infocompress"


def _canonical(obj):
    """JSON-able canonical form of a key (tuples as lists, numpy scalars as numbers)."""
    if isinstance(obj, dict):
        return {str(k): _canonical(obj[k]) for k in sorted(obj, key=str)}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"ndarray_sha256": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest(),
                "shape": list(obj.shape), "dtype": str(obj.dtype)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    raise ValueError(f"key must hold numbers, strings, lists, dicts and arrays only; got a "
                     f"{type(obj).__name__}")


def key_digest(key) -> str:
    """SHA-256 (hex) of the canonical JSON form of ``key``.

    Parameters
    ----------
    key : dict, list, str, number or ndarray (nested)

    Returns
    -------
    str

    Examples
    --------
    >>> key_digest({"b": 1, "a": (1, 2)}) == key_digest({"a": [1, 2], "b": 1})
    True
    """
    text = json.dumps(_canonical(key), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def source_digest(*objects) -> str:
    """SHA-256 of the source code a result depends on.

    Parameters
    ----------
    *objects : module, function or class
        A module contributes its whole source file; a function or class only its own
        source (:func:`inspect.getsource`), so that editing an unrelated function of the
        same module does not invalidate a cache entry.

    Returns
    -------
    str

    Examples
    --------
    >>> import infocompress.cache as c
    >>> len(source_digest(c)), source_digest(c.key_digest) != source_digest(c.cached)
    (64, True)
    """
    import inspect
    import types

    for obj in objects:
        if not (isinstance(obj, types.ModuleType) or inspect.isclass(obj) or callable(obj)):
            raise ValueError(f"objects must be modules, functions or classes, got "
                             f"{type(obj).__name__} {obj!r:.40}")
    h = hashlib.sha256()
    for obj in objects:
        if isinstance(obj, types.ModuleType):
            h.update(Path(obj.__file__).read_bytes())
        else:
            h.update(f"{getattr(obj, '__module__', '')}.{getattr(obj, '__qualname__', '')}"
                     .encode())
            h.update(inspect.getsource(obj).encode())
    return h.hexdigest()


def _to_storable(obj, where="value"):
    import torch

    if isinstance(obj, np.ndarray):
        if obj.dtype == object:
            raise ValueError(f"{where}: object arrays cannot be cached")
        return {"__ndarray__": torch.from_numpy(np.ascontiguousarray(obj))}
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise ValueError(f"{where}: dict keys must be strings")
        return {k: _to_storable(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_storable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (torch.Tensor, str, int, float, bool)) or obj is None:
        return obj
    raise ValueError(f"{where}: cannot cache a {type(obj).__name__} (tensors, arrays, "
                     "numbers, strings, lists and dicts only)")


def _from_storable(obj):
    if isinstance(obj, dict):
        if set(obj) == {"__ndarray__"}:
            return obj["__ndarray__"].numpy()
        return {k: _from_storable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_from_storable(v) for v in obj]
    return obj


def _write_atomic(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(payload).hexdigest().encode()
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + digest + b"\n" + payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_checked(path: Path):
    """The payload bytes of a cache file, or None (with a warning) if it is damaged."""
    raw = path.read_bytes()
    head = len(_MAGIC) + 65
    if not raw.startswith(_MAGIC) or len(raw) < head or raw[head - 1:head] != b"\n":
        warnings.warn(f"cache file {path.name} has no valid header; recomputing",
                      RuntimeWarning, stacklevel=3)
        return None
    digest, payload = raw[len(_MAGIC):head - 1], raw[head:]
    if hashlib.sha256(payload).hexdigest().encode() != digest:
        warnings.warn(f"cache file {path.name} does not match its digest (corrupt or "
                      "truncated); recomputing", RuntimeWarning, stacklevel=3)
        return None
    return payload


@validate_params(compute=IsCallable(), directory=Options(None, PathLike()))
def cached(name, key, compute, *, directory=None):
    """Return ``compute()``, from the cache if an intact entry for ``key`` exists.

    Parameters
    ----------
    name : str
        Readable prefix of the file name (e.g. ``"mnist-mlp-ensemble"``).
    key : dict
        Everything the result depends on (recipe, data digest, seed, source digest ...);
        see :func:`key_digest`.
    compute : callable
        ``compute() -> dict`` of tensors, numpy arrays and plain values; must be
        deterministic given ``key``.
    directory : str or pathlib.Path, optional
        Cache folder; default :func:`cache_dir` (None there means no caching).

    Returns
    -------
    value : dict
        The computed or loaded result.
    hit : bool
        True if it came from the cache.

    Raises
    ------
    ValueError
        If ``name`` is not a plain file-name prefix or ``compute`` does not return a dict.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> calls = []
    >>> def work():
    ...     calls.append(1)
    ...     return {"x": np.arange(3.0)}
    >>> a, hit_a = cached("demo", {"n": 3}, work, directory=folder)
    >>> b, hit_b = cached("demo", {"n": 3}, work, directory=folder)
    >>> hit_a, hit_b, len(calls), b["x"].tolist()
    (False, True, 1, [0.0, 1.0, 2.0])
    """
    import torch

    if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
        raise ValueError(f"name must be a plain file-name prefix, got {name!r}")
    folder = cache_dir() if directory is None else Path(directory)
    if folder is None:
        return _checked_result(compute()), False
    path = folder / f"{name}-{key_digest(key)[:32]}.pt"
    folder.mkdir(parents=True, exist_ok=True)
    # one computation per key at a time: a second process asking for the same entry waits
    # for the first one's file instead of computing it again
    t0 = time.perf_counter()
    _NESTED.append(0.0)          # time spent in cached() calls made by compute()
    outcome = None               # None: compute() raised, nothing to log
    try:
        with open(path.with_suffix(".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if path.exists():
                    payload = _read_checked(path)
                    if payload is not None:
                        value = torch.load(io.BytesIO(payload), weights_only=True)
                        outcome = True
                        return _from_storable(value), True
                value = _checked_result(compute())
                buf = io.BytesIO()
                torch.save(_to_storable(value), buf)
                _write_atomic(path, buf.getvalue())
                outcome = False
                return value, False
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    finally:
        _log_call(name, outcome, t0)


#: Environment variable naming a file to which :func:`cached` appends one JSON line per call:
#: ``name``, ``hit``, ``seconds`` (wall time of the call, including any wait for another
#: process's lock) and ``self_seconds`` (the same without the time of the cached calls made
#: by ``compute``, e.g. the Hessians a sweep needs). Unset (the default), nothing is written.
#: ``python -m benchmarks.book_timing --cold`` sets it to break a cold execution of the book
#: down by kind of cache entry.
LOG_ENV_VAR = "INFOCOMPRESS_CACHE_LOG"
_NESTED: list = []


def _log_call(name, hit, t0):
    seconds = time.perf_counter() - t0
    inner = _NESTED.pop() if _NESTED else 0.0
    if _NESTED:
        _NESTED[-1] += seconds
    target = os.environ.get(LOG_ENV_VAR)
    if not target or hit is None:
        return
    line = json.dumps({"name": name, "hit": bool(hit), "seconds": round(seconds, 3),
                       "self_seconds": round(seconds - inner, 3)})
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _checked_result(value):
    if not isinstance(value, dict):
        raise ValueError(f"compute() must return a dict, got {type(value).__name__}")
    return value
