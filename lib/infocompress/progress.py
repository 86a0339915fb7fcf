"""Progress bars for long loops, quiet in CI and in book builds.

Every loop of the library that can take more than a few seconds (training an ensemble,
Hessian diagonals, compression sweeps, the Figure-2 Monte-Carlo, LC penalty schedules)
goes through :func:`progress_bar`, and the chapters use it for their own long loops. A
bar appears only once its loop has run for ``delay`` seconds, so quick calls print
nothing. Set the environment variable ``INFOCOMPRESS_QUIET=1`` (the Makefile does, for
``make book`` and ``make test``) or ``CI=1`` to silence every bar; pass ``progress=True``
or ``progress=False`` to a function to override the environment.

The bars are plain-text :mod:`tqdm` bars on standard error; they work in a terminal and in
Jupyter without ipywidgets.
"""

from __future__ import annotations

import os

from ._validation import Integer, Options, Real, validate_params

__all__ = ["progress_bar", "progress_enabled"]

_QUIET_VARIABLES = ("INFOCOMPRESS_QUIET", "CI")
_FALSE_VALUES = ("", "0", "false", "False", "no")


def progress_enabled(progress=None) -> bool:
    """Decide whether a loop shows a progress bar.

    Parameters
    ----------
    progress : bool or None, optional
        ``True`` or ``False`` decides; ``None`` shows bars unless the environment variable
        ``INFOCOMPRESS_QUIET`` or ``CI`` is set to a value other than ``""``, ``"0"``,
        ``"false"`` or ``"no"``.

    Returns
    -------
    bool

    Examples
    --------
    >>> progress_enabled(False), progress_enabled(True)
    (False, True)
    """
    if progress is not None:
        return bool(progress)
    return all(os.environ.get(var, "") in _FALSE_VALUES for var in _QUIET_VARIABLES)


@validate_params(total=Options(None, Integer(low=0)), delay=Real(low=0))
def progress_bar(iterable=None, *, total=None, desc=None, progress=None, delay=2.0,
                 **kwargs):
    """Wrap an iterable in a text progress bar, or return it unchanged when quiet.

    Parameters
    ----------
    iterable : iterable, optional
        The loop to wrap. Without it, ``range(total)`` is iterated.
    total : int, optional
        Number of items (needed for a percentage when ``iterable`` has no length).
    desc : str, optional
        Label shown left of the bar.
    progress : bool or None, optional
        See :func:`progress_enabled`.
    delay : float, default 2.0
        Seconds before the bar first appears; loops that finish sooner print nothing.
    **kwargs
        Passed on to :class:`tqdm.tqdm` (e.g. ``leave=False``).

    Returns
    -------
    iterable
        A :class:`tqdm.tqdm` object, or ``iterable`` itself (``range(total)`` if
        ``iterable`` is None) when bars are off.

    Examples
    --------
    >>> sum(progress_bar(range(4), desc="squares", progress=False))
    6
    >>> list(progress_bar(total=3, progress=False))
    [0, 1, 2]
    """
    if iterable is None:
        if total is None:
            raise ValueError("progress_bar needs an iterable or total, got neither")
        iterable = range(int(total))
    if not progress_enabled(progress):
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, mininterval=1.0, delay=delay, **kwargs)
