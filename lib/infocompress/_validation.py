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


def describe(value) -> str:
    """A short description of ``value`` for an error message: the value itself for
    scalars and short strings, the shape and dtype for arrays and tensors."""
    if isinstance(value, (str, bytes)):
        text = repr(value)
        return "the string " + (text if len(text) <= 40 else text[:37] + "...")
    if isinstance(value, (tuple, list)):
        if len(value) > 4:
            return f"a {type(value).__name__} of {len(value)} items"
        inner = ", ".join(describe(v) for v in value)
        return f"({inner}{',' if len(value) == 1 else ''})" if isinstance(value, tuple) \
            else f"[{inner}]"
    shape = getattr(value, "shape", None)
    if shape is not None and len(shape) > 0:
        return f"an array of shape {tuple(shape)} and dtype {getattr(value, 'dtype', '?')}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_finite_array(x, name: str, *, ndim=None, dtype=float) -> np.ndarray:
    """Convert ``x`` to an array, checking finiteness and (optionally) dimension.

    Strings, and anything numpy cannot turn into numbers of ``dtype``, raise a ValueError
    that names ``name`` (numpy's own message would not).
    """
    if isinstance(x, (str, bytes)):
        raise ValueError(f"{name} must be a number or an array of numbers, got "
                         f"{describe(x)}")
    try:
        arr = np.asarray(x, dtype=dtype)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ValueError(f"{name} must be a number or an array of numbers, got "
                         f"{describe(x)} ({exc})") from None
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            if allowed == (0,):
                raise ValueError(f"{name} must be a single number, got {describe(arr)}")
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
    if isinstance(x, np.ndarray) and x.ndim == 0 and np.issubdtype(x.dtype, np.integer):
        x = x.item()
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {describe(x)}")
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


# --------------------------------------------------------------------------------------
# declared constraints (in the spirit of scikit-learn's validate_params)
# --------------------------------------------------------------------------------------
class Constraint:
    """A condition on one argument; :meth:`check` raises the library's one message format:
    ``"<argument> must be <description>, got <value>"``."""

    description = "valid"

    def ok(self, value) -> bool:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def check(self, value, name: str) -> None:
        """Raise ``ValueError`` naming ``name`` unless ``value`` satisfies the constraint."""
        if not self.ok(value):
            raise ValueError(f"{name} must be {self.description}, got {describe(value)}")


def _is_number(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, np.ndarray):
        return value.ndim == 0 and np.issubdtype(value.dtype, np.number)
    return isinstance(value, numbers.Real)


def _bounds_text(low, high, low_open=False, high_open=False) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>' if low_open else '>='} {low}")
    if high is not None:
        parts.append(f"{'<' if high_open else '<='} {high}")
    return " and ".join(parts)


class Integer(Constraint):
    """An integer (not a bool; a 0-d integer array counts) within optional bounds."""

    def __init__(self, low=None, high=None):
        self.low, self.high = low, high
        bounds = _bounds_text(low, high)
        self.description = "an integer" + (f" {bounds}" if bounds else "")

    def ok(self, value) -> bool:
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            return False
        return ((self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))


class Real(Constraint):
    """A finite real number (not a string, a bool or an array with more than one entry)
    within optional bounds; ``low_open`` / ``high_open`` make a bound strict and
    ``allow_inf`` admits +-inf (never NaN)."""

    def __init__(self, low=None, high=None, *, low_open=False, high_open=False,
                 allow_inf=False):
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        self.allow_inf = allow_inf
        bounds = _bounds_text(low, high, low_open, high_open)
        kind = "a real number (not NaN)" if allow_inf else "a finite real number"
        self.description = kind + (f" {bounds}" if bounds else "")

    def ok(self, value) -> bool:
        if not _is_number(value):
            return False
        v = float(value)
        if np.isnan(v) or (not self.allow_inf and not np.isfinite(v)):
            return False
        if self.low is not None and (v <= self.low if self.low_open else v < self.low):
            return False
        if self.high is not None and (v >= self.high if self.high_open else v > self.high):
            return False
        return True


class OneOf(Constraint):
    """One of a fixed set of values (strings such as method names, or numbers)."""

    def __init__(self, *options):
        self.options = options
        self.description = "one of " + ", ".join(repr(o) for o in options)

    def ok(self, value) -> bool:
        if not isinstance(value, (str, type(None), bool, numbers.Number)):
            return False
        return any(type(value) is type(o) or (
            isinstance(value, numbers.Number) and isinstance(o, numbers.Number)
            and not isinstance(value, bool) and not isinstance(o, bool))
            for o in self.options if value == o)


class HasAttrs(Constraint):
    """An object with the given attributes (duck typing for the library's result types)."""

    def __init__(self, *attrs, description):
        self.attrs = attrs
        self.description = description

    def ok(self, value) -> bool:
        return value is not None and all(hasattr(value, a) for a in self.attrs)


class Reals(Constraint):
    """A non-empty sequence (or 1-D array) of finite reals within optional bounds; a
    string is not a sequence of numbers."""

    def __init__(self, low=None, high=None, *, low_open=False, high_open=False):
        self.item = Real(low, high, low_open=low_open, high_open=high_open)
        bounds = _bounds_text(low, high, low_open, high_open)
        self.description = "a non-empty sequence of finite real numbers" + (
            f" {bounds}" if bounds else "")

    def ok(self, value) -> bool:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            return False
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError, OverflowError):
            return False
        if arr.ndim != 1 or arr.size == 0:
            return False
        return all(self.item.ok(float(v)) for v in arr)


class Sizes(Constraint):
    """A sequence of integers within bounds (layer widths, channel counts): a string, even
    of digits, is not a sequence of sizes."""

    def __init__(self, low=1, *, allow_empty=False):
        self.item = Integer(low=low)
        self.allow_empty = allow_empty
        self.description = (f"a sequence of integers >= {low}"
                            + ("" if allow_empty else " (at least one)"))

    def ok(self, value) -> bool:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            return False
        items = list(value)
        return (bool(items) or self.allow_empty) and all(self.item.ok(v) for v in items)


class ArrayLike(Constraint):
    """Numbers convertible to a float array (not a string), all finite, with an optional
    number of dimensions; ``nonempty`` requires at least one entry (one row for ndim >= 1)
    and ``low`` a lower bound on every entry."""

    def __init__(self, ndim=None, *, nonempty=False, low=None):
        self.ndim = (ndim,) if isinstance(ndim, int) else ndim
        self.nonempty, self.low = nonempty, low
        self.description = ("a " + ("non-empty " if nonempty else "") + "finite numeric array"
                            + ("" if ndim is None else f" with ndim in {self.ndim}")
                            + ("" if low is None else f", entries >= {low}"))

    def ok(self, value) -> bool:
        if isinstance(value, (str, bytes)):
            return False
        try:
            arr = np.asarray(value, dtype=float)
        except (TypeError, ValueError, OverflowError, RuntimeError):
            return False
        if self.ndim is not None and arr.ndim not in self.ndim:
            return False
        if self.nonempty and (arr.size == 0 or (arr.ndim and arr.shape[0] == 0)):
            return False
        if not np.all(np.isfinite(arr)):
            return False
        return self.low is None or arr.size == 0 or bool(arr.min() >= self.low)


class Instance(Constraint):
    """An instance of the given type(s)."""

    def __init__(self, *types, description=None):
        self.types = types
        self.description = description or "an instance of " + " or ".join(
            t.__name__ for t in types)

    def ok(self, value) -> bool:
        return isinstance(value, self.types)


class Options(Constraint):
    """Any of several constraints (e.g. ``None`` or an integer)."""

    def __init__(self, *constraints):
        self.constraints = [NONE if c is None else c for c in constraints]
        self.description = " or ".join(c.description for c in self.constraints)

    def ok(self, value) -> bool:
        return any(c.ok(value) for c in self.constraints)


class TorchModule(Constraint):
    """A ``torch.nn.Module`` (torch is imported only when a value is checked)."""

    description = "a torch.nn.Module"

    def ok(self, value) -> bool:
        from torch import nn

        return isinstance(value, nn.Module)


class Models(Constraint):
    """A non-empty sequence of ``torch.nn.Module`` (an ensemble's networks)."""

    description = "a non-empty sequence of torch.nn.Module"

    def ok(self, value) -> bool:
        from torch import nn

        if isinstance(value, (str, bytes, nn.Module)) or not hasattr(value, "__iter__"):
            return False
        items = list(value)
        return bool(items) and all(isinstance(m, nn.Module) for m in items)


class DataPair(Constraint):
    """A pair ``(x, y)`` of numeric arrays (or tensors) with the same, non-zero number of
    rows and finite ``x``."""

    description = "a pair (x, y) of numeric arrays with the same non-zero number of rows"

    def ok(self, value) -> bool:
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            return False
        x, y = value
        if isinstance(x, (str, bytes)) or isinstance(y, (str, bytes)):
            return False
        try:
            xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        except (TypeError, ValueError, RuntimeError):
            return False
        return (xa.ndim >= 1 and ya.ndim >= 1 and xa.shape[0] == ya.shape[0] > 0
                and bool(np.all(np.isfinite(xa))))


class IsCallable(Constraint):
    """A callable."""

    description = "callable"

    def ok(self, value) -> bool:
        return callable(value)


class PathLike(Constraint):
    """A path: a string or an ``os.PathLike``."""

    description = "a path (str or os.PathLike)"

    def ok(self, value) -> bool:
        import os

        return isinstance(value, (str, os.PathLike))


class _NoneConstraint(Constraint):
    description = "None"

    def ok(self, value) -> bool:
        return value is None


NONE = _NoneConstraint()
#: ``rng`` arguments: None, a non-negative int seed, a SeedSequence or a numpy Generator.
RNG = Options(None, Integer(low=0),
              Instance(np.random.Generator, np.random.SeedSequence,
                       description="a numpy Generator"))


def validate_params(**constraints):
    """Decorator: check the named arguments of every call against declared constraints.

    Each keyword maps a parameter name of the decorated function to a :class:`Constraint`;
    an argument that breaks its constraint raises ``ValueError`` in one format that names
    the argument and shows the value (``"n_clusters must be an integer >= 1, got
    'abc'"``), before the function runs. Defaults are not checked. The constraints are
    kept on the function as ``__constraints__`` (the test of bad inputs reads them).

    Examples
    --------
    >>> @validate_params(k=Integer(low=1), scale=Real(low=0, low_open=True))
    ... def f(k, *, scale=1.0):
    ...     return k * scale
    >>> f(3, scale=0.5)
    1.5
    >>> f("3")
    Traceback (most recent call last):
        ...
    ValueError: k must be an integer >= 1, got the string '3'
    >>> f(2, scale=np.nan)
    Traceback (most recent call last):
        ...
    ValueError: scale must be a finite real number > 0, got nan
    """
    import functools
    import inspect

    def decorate(func):
        sig = inspect.signature(func)
        unknown = set(constraints) - set(sig.parameters)
        if unknown:
            raise TypeError(f"{func.__qualname__} has no parameter(s) {sorted(unknown)}")

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            for name, constraint in constraints.items():
                if name in bound.arguments:
                    constraint.check(bound.arguments[name], name)
            return func(*args, **kwargs)

        wrapper.__constraints__ = dict(constraints)
        return wrapper

    return decorate
