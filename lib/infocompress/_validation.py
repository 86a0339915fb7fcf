"""Private input-checking and random-number helpers shared by the public modules.

Every helper raises :class:`ValueError` that names the offending argument and value,
so public functions can validate in one line and hand over to a private worker.
"""

from __future__ import annotations

import numbers

import numpy as np


def as_generator(rng=None) -> np.random.Generator:
    """Turn ``rng`` (None, int seed or Generator) into a :class:`numpy.random.Generator`.

    Parameters
    ----------
    rng : None, int or numpy.random.Generator
        ``None`` gives fresh OS entropy, an int is used as a seed and a Generator
        is returned unchanged. Global numpy state is never touched.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(rng, numbers.Integral) and int(rng) < 0:
            raise ValueError(f"rng seed must be non-negative, got {rng}")
        return np.random.default_rng(rng)
    raise ValueError(f"rng must be None, an int seed or a numpy Generator, got {rng!r}")


def as_finite_array(x, name: str, *, ndim=None, dtype=float) -> np.ndarray:
    """Convert ``x`` to an array, checking finiteness and (optionally) dimension."""
    arr = np.asarray(x, dtype=dtype)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            raise ValueError(
                f"{name} must have ndim in {allowed}, got an array of shape {arr.shape}"
            )
    if arr.size and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))[0]
        raise ValueError(
            f"{name} must be finite; entry {bad} is {arr.ravel()[bad]} (NaN or inf)"
        )
    return arr


def check_nonnegative(x, name: str) -> np.ndarray:
    """Return ``x`` as a float array after checking it is finite and >= 0."""
    arr = as_finite_array(x, name)
    if arr.size and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {arr.min() if arr.ndim else float(arr)}")
    return arr


def check_positive(x, name: str) -> np.ndarray:
    """Return ``x`` as a float array after checking it is finite and > 0."""
    arr = as_finite_array(x, name)
    if arr.size and np.any(arr <= 0):
        raise ValueError(f"{name} must be > 0, got {arr.min() if arr.ndim else float(arr)}")
    return arr


def check_int(x, name: str, *, low=None, high=None) -> int:
    """Check that ``x`` is an integer with ``low <= x <= high`` (bounds optional)."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {x!r}")
    x = int(x)
    if low is not None and x < low:
        raise ValueError(f"{name} must be >= {low}, got {x}")
    if high is not None and x > high:
        raise ValueError(f"{name} must be <= {high}, got {x}")
    return x


def check_n_gt_d_plus_1(d: int, n: int) -> tuple[int, int]:
    """Check the dimension/sample-size pair used by the linear-regression formulas."""
    d = check_int(d, "d", low=1)
    n = check_int(n, "n", low=1)
    if n <= d + 1:
        raise ValueError(f"the formula needs n > d + 1, got n={n} with d={d}")
    return d, n


def check_real(x, name: str, *, positive=False, nonnegative=False) -> float:
    """``x`` as a finite Python float, or a ValueError naming ``name``.

    ``x`` must be a real scalar (a 0-d array is accepted, a sequence or string is not);
    ``positive`` / ``nonnegative`` add the sign condition.
    """
    arr = as_finite_array(x, name, ndim=0)
    if positive:
        check_positive(arr, name)
    if nonnegative:
        check_nonnegative(arr, name)
    return float(arr)
