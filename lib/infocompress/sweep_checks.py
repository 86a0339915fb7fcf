r"""Check-table rows from compression sweeps: one row per K and one for their average.

The practice chapters state a claim of a paper about a range of numbers of clusters K (for
instance "the compressed network has a smaller population risk than the original one for
compression ratios of 6% to 20%") and test it on paired differences over an ensemble. Two
steps recur and live here:

* :func:`claim_range`: the K of a sweep (or of several sweeps of the same grid) whose mean
  compression ratio lies in a given range, fixed from the paper's wording before any risk
  is looked at;
* :func:`change_rows`: for a quantity (``"train"``, ``"test"``, ``"gen"``, ...), one row of
  a :class:`~infocompress.checks.CheckTable` per K (the claimed sign must not be
  contradicted by more than the table's tolerance, 5 SE) and one row for the change
  averaged over those K per network and test image
  (:func:`infocompress.sweeps.combine`), the single test on which a chapter asserts
  significance.

The changes and their standard errors come from :func:`infocompress.sweeps.change`: SE over
networks for the empirical risk, crossed SE over networks and test images for quantities
that involve the test set.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import sweeps
from ._validation import HasAttrs, Instance, Sizes, validate_params

__all__ = ["RELATIONS", "SYMBOLS", "change_rows", "claim_range"]

#: Relations :func:`change_rows` can state: the change is at most / at least the bound.
RELATIONS = ("<=", ">=")

#: How :func:`change_rows` names each quantity's change in its rows.
SYMBOLS = {"train": "dL_S", "test": "dL_mu", "gen": "dgen", "accuracy": "dacc",
           "error": "derr"}


def _check_sweep(res, name):
    if not (isinstance(res, dict) and "n_clusters" in res and "loss" in res):
        raise ValueError(f"{name} must be a compression_sweep result (a dict with "
                         f"'n_clusters' and 'loss'), got {type(res).__name__}")
    return np.asarray(res["n_clusters"])


@validate_params(results=Instance(dict, list, tuple, description="sweep results"))
def claim_range(results, low, high):
    """Indices of the K whose mean compression ratio (in %) lies in ``[low, high]``.

    With several sweeps over the same grid of K, a K is kept only if its mean ratio is in
    the range for *every* sweep (each quantizer gives its own ratio at a given K).

    Parameters
    ----------
    results : dict or sequence of dict
        :func:`infocompress.compression.compression_sweep` results over the same ``n_clusters``.
    low, high : float
        Bounds of the range in percent, ``0 <= low <= high``.

    Returns
    -------
    list of int
        Indices into ``n_clusters``, in increasing order (possibly empty).

    Raises
    ------
    ValueError
        If the bounds are not ordered or not finite, a result is not a sweep, or the sweeps
        have different grids.

    Examples
    --------
    >>> res = {"n_clusters": np.array([2, 4, 8]), "loss": {},
    ...        "compression_ratio": np.array([[0.03, 0.04], [0.06, 0.07], [0.09, 0.10]])}
    >>> claim_range(res, 6.0, 20.0)
    [1, 2]
    """
    if isinstance(results, dict):
        results = [results]
    results = list(results)
    if not results:
        raise ValueError("results must hold at least one sweep result")
    try:
        low, high = float(low), float(high)
    except (TypeError, ValueError):
        raise ValueError(f"low and high must be numbers, got {low!r} and {high!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and 0.0 <= low <= high):
        raise ValueError(f"need finite 0 <= low <= high, got low={low}, high={high}")
    grid = _check_sweep(results[0], "results[0]")
    keep = np.ones(grid.size, dtype=bool)
    for j, res in enumerate(results):
        ks = _check_sweep(res, f"results[{j}]")
        if not np.array_equal(ks, grid):
            raise ValueError(f"results[{j}] has n_clusters {ks.tolist()}, results[0] has "
                             f"{grid.tolist()}; compare sweeps of one grid")
        ratio = 100.0 * np.asarray(res["compression_ratio"], dtype=float).mean(axis=1)
        keep &= (ratio >= low) & (ratio <= high)
    return [int(i) for i in np.flatnonzero(keep)]


@validate_params(table=HasAttrs("rows", "close", description="a CheckTable"),
                 indices=Sizes(low=0, allow_empty=True))
def change_rows(table, res, reference, indices, quantity, relation, *, bound=0.0,
                average=True, label=""):
    r"""Add rows "change of ``quantity`` from ``reference`` to ``res`` ``relation`` ``bound``".

    For each index ``i`` in ``indices`` the change is
    :func:`infocompress.sweeps.change` ``((res, i), (reference, i), quantity)``, or, with
    ``reference=None``, the change from the uncompressed networks of ``res``. A row with
    ``relation="<="`` passes unless the change exceeds ``bound`` by more than the table's
    tolerance (``table.n_se`` standard errors); ``">="`` is the mirror image. With
    ``average=True`` a last row tests the change averaged over the K in ``indices`` (one
    average per network and test image, :func:`infocompress.sweeps.combine`).

    Parameters
    ----------
    table : infocompress.checks.CheckTable
        Table the rows are added to.
    res : dict
        A :func:`~infocompress.compression.compression_sweep` result (with per-sample test
        losses for ``"test"`` and ``"gen"``).
    reference : dict or None
        A sweep of the same networks, K grid and test set, or None for the uncompressed
        networks of ``res``.
    indices : sequence of int
        Indices into ``res["n_clusters"]``, non-empty.
    quantity : {"train", "test", "gen", "accuracy", "error"}
    relation : {"<=", ">="}
    bound : float, default 0.0
    average : bool, default True
    label : str, default ""
        Prefix of the row names (keep names short: tables print 44 characters). Rows are
        named ``"<label> K=<K>: <symbol> <relation> <bound>"`` and
        ``"<label> mean over these K: ..."``, with the symbols of :data:`SYMBOLS`.

    Returns
    -------
    dict or None
        The average change (``"mean"``, ``"se"``, ``"z"``, ... as returned by
        :func:`~infocompress.sweeps.change`), or None if ``average`` is False.

    Raises
    ------
    ValueError
        For an unknown relation or quantity, empty or out-of-range indices, or a reference
        over another grid.

    Examples
    --------
    >>> from infocompress.checks import CheckTable
    >>> res = {"n_clusters": np.array([2, 4]),
    ...        "loss": {"train": np.array([[0.5, 0.7, 0.6], [0.2, 0.3, 0.1]])},
    ...        "accuracy": {"test": np.ones((2, 3))},
    ...        "original": {"loss": {"train": np.array([0.1, 0.1, 0.0])},
    ...                     "accuracy": {"test": np.ones(3)}}}
    >>> t = CheckTable("compression raises L_S")
    >>> avg = change_rows(t, res, None, [0, 1], "train", ">=")
    >>> [r.name for r in t.rows]
    ['K=2: dL_S >= 0', 'K=4: dL_S >= 0', 'mean over these K: dL_S >= 0']
    >>> round(avg["mean"], 4), t.all_passed
    (0.3333, True)
    """
    if relation not in RELATIONS:
        raise ValueError(f"relation must be one of {RELATIONS}, got {relation!r}")
    if quantity not in sweeps.QUANTITIES:
        raise ValueError(f"quantity must be one of {sweeps.QUANTITIES}, got {quantity!r}")
    if not (isinstance(bound, numbers.Real) and np.isfinite(bound)):
        raise ValueError(f"bound must be a finite number, got {bound!r}")
    ks = _check_sweep(res, "res")
    if reference is not None:
        ks_ref = _check_sweep(reference, "reference")
        if not np.array_equal(ks, ks_ref):
            raise ValueError(f"reference has n_clusters {ks_ref.tolist()}, res has "
                             f"{ks.tolist()}; compare sweeps of one grid")
    if isinstance(indices, (str, bytes)):
        raise ValueError(f"indices must be a sequence of ints, got {indices!r}")
    idx = [int(i) for i in indices]
    if not idx or min(idx) < 0 or max(idx) >= ks.size:
        raise ValueError(f"indices must be a non-empty list of indices in 0..{ks.size - 1}, "
                         f"got {idx}")
    add = table.upper if relation == "<=" else table.lower
    prefix = f"{label} " if label else ""
    what = f"{SYMBOLS[quantity]} {relation} {bound:g}"
    for i in idx:
        c = sweeps.change((res, i), (reference if reference is not None else res,
                                     i if reference is not None else None), quantity)
        add(f"{prefix}K={int(ks[i])}: {what}", bound, c["mean"], c["se"])
    if not average:
        return None
    pooled = sweeps.combine(res, [idx])
    ref = (sweeps.combine(reference, [idx]), 0) if reference is not None else (pooled, None)
    c = sweeps.change((pooled, 0), ref, quantity)
    add(f"{prefix}mean over these K: {what}", bound, c["mean"], c["se"])
    return c
