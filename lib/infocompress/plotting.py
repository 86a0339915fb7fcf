"""One plotting style for the whole book, applied locally (no import-time rcParams).

Use :func:`figure` instead of :func:`matplotlib.pyplot.subplots` and :func:`band` to draw
a Monte-Carlo mean with a shaded band of +/- ``k`` standard errors.
"""

from __future__ import annotations

import contextlib

import numpy as np

from ._validation import ArrayLike, HasAttrs, Integer, Real, validate_params

__all__ = ["STYLE", "band", "figure", "style"]

#: rcParams applied inside :func:`style` and :func:`figure`.
STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
}


@contextlib.contextmanager
def style():
    """Context manager applying :data:`STYLE` to figures created inside it."""
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        yield


@validate_params(nrows=Integer(low=1), ncols=Integer(low=1), width=Real(low=0, low_open=True),
                 height=Real(low=0, low_open=True))
def figure(nrows: int = 1, ncols: int = 1, *, width: float = 4.2, height: float = 3.2,
           squeeze: bool = True, **kwargs):
    """Create a figure with the book's style.

    Parameters
    ----------
    nrows, ncols : int
        Panel grid.
    width, height : float
        Size of one panel in inches.
    squeeze : bool
        As in :func:`matplotlib.pyplot.subplots`.
    **kwargs
        Passed to :func:`matplotlib.pyplot.subplots`.

    Returns
    -------
    fig, axes
    """
    import matplotlib.pyplot as plt

    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows),
                                 squeeze=squeeze, layout="constrained", **kwargs)
    for ax in np.atleast_1d(axes).ravel():
        ax.grid(True, alpha=STYLE["grid.alpha"])
        ax.spines[["top", "right"]].set_visible(False)
    return fig, axes


@validate_params(ax=HasAttrs("plot", "fill_between", description="a matplotlib Axes"),
                 x=ArrayLike(ndim=1), mean=ArrayLike(ndim=1), se=ArrayLike(ndim=1, low=0),
                 k=Real(low=0))
def band(ax, x, mean, se, *, k: float = 2.0, label=None, color=None, marker="o", **kwargs):
    """Plot ``mean`` against ``x`` with a shaded band ``mean +/- k * se``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    x, mean, se : array-like of shape (n,)
    k : float, default 2.0
        Half-width of the band in standard errors (stated in the legend).
    label : str, optional
    color : color, optional
    marker : str, default "o"
    **kwargs
        Passed to :meth:`~matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.lines.Line2D
    """
    x, mean, se = (np.asarray(a, dtype=float) for a in (x, mean, se))
    if not (x.shape == mean.shape == se.shape):
        raise ValueError(f"x, mean and se must share a shape, got {x.shape}, {mean.shape}, "
                         f"{se.shape}")
    (line,) = ax.plot(x, mean, marker=marker, ms=3, label=label, color=color, **kwargs)
    ax.fill_between(x, mean - k * se, mean + k * se, color=line.get_color(), alpha=0.2,
                    linewidth=0)
    return line
