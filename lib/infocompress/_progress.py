"""Private progress-bar helper: tqdm bars that stay quiet in CI and book builds."""

from __future__ import annotations

import os


def progress_enabled(progress=None) -> bool:
    """Decide whether to show a progress bar.

    ``progress=None`` shows bars unless the environment variable ``INFOCOMPRESS_QUIET``
    or ``CI`` is set to a non-empty value other than ``0``.
    """
    if progress is not None:
        return bool(progress)
    for var in ("INFOCOMPRESS_QUIET", "CI"):
        if os.environ.get(var, "") not in ("", "0", "false", "False"):
            return False
    return True


def progress_bar(iterable=None, *, total=None, desc=None, progress=None, **kwargs):
    """Wrap ``iterable`` in a :class:`tqdm.tqdm` bar (or return it unchanged if quiet)."""
    if not progress_enabled(progress):
        return iterable if iterable is not None else range(total or 0)
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, mininterval=1.0, **kwargs)
