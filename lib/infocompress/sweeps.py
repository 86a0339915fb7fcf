r"""Reading compression sweeps: risk changes with honest standard errors, summary tables.

:func:`infocompress.compression.compression_sweep` measures, for every model of an ensemble and
every number of clusters K, the empirical risk :math:`L_S` (each model on its own training
images), the test cross-entropy that estimates the population risk :math:`L_\mu`, and,
with ``per_sample=("test",)``, the cross-entropy of every test image. This module turns
such results into the paired comparisons of the practice chapters:

* a change of :math:`L_S` is averaged over models; its SE is the SE of a mean over models
  (:func:`infocompress.stats.paired`);
* a change of :math:`L_\mu` or of the generalization error
  :math:`\operatorname{gen} = L_\mu - L_S` involves the test set, shared by every model, so
  its SE combines the variation over models and over test images
  (:func:`infocompress.stats.crossed_se`).

A *side* names one configuration: ``(result, i)`` is the i-th K of a sweep, and
``(result, None)`` the uncompressed models of that sweep.
"""

from __future__ import annotations

import numpy as np

from . import stats
from ._validation import Instance, Integer, OneOf, describe, validate_params

__all__ = ["QUANTITIES", "change", "combine", "model_values", "summary_frame"]

#: Quantities :func:`change` compares.
QUANTITIES = ("train", "test", "gen", "accuracy", "error")


def _side(side, name="side"):
    if not (isinstance(side, tuple) and len(side) == 2 and isinstance(side[0], dict)):
        raise ValueError(f"{name} must be a pair (sweep result, index of K or None), got "
                         f"{describe(side)}")
    res, i = side
    if i is not None:
        Integer(low=0).check(i, f"the K index of {name}")
        if int(i) >= len(res["n_clusters"]):
            raise ValueError(f"the K index of {name}, {i}, is out of range for a sweep over "
                             f"{len(res['n_clusters'])} values")
    return res, i


def model_values(side, quantity):
    """Per-model values of one quantity for one side, shape (n_models,).

    Parameters
    ----------
    side : tuple (result, i or None)
    quantity : {"train", "test", "gen", "accuracy", "error"}
        Empirical risk, test cross-entropy, their difference, test accuracy, test error
        rate (1 - accuracy).

    Returns
    -------
    ndarray of shape (n_models,)
    """
    res, i = _side(side)
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    src = res["original"] if i is None else {"loss": {k: v[i] for k, v in res["loss"].items()},
                                             "accuracy": {k: v[i] for k, v in
                                                          res["accuracy"].items()}}
    if quantity == "train":
        return np.asarray(src["loss"]["train"], dtype=float)
    if quantity == "test":
        return np.asarray(src["loss"]["test"], dtype=float)
    if quantity == "gen":
        return np.asarray(src["loss"]["test"] - src["loss"]["train"], dtype=float)
    acc = np.asarray(src["accuracy"]["test"], dtype=float)
    return acc if quantity == "accuracy" else 1.0 - acc


def _per_sample(side):
    res, i = side
    try:
        return res["original"]["per_sample"]["test"] if i is None else \
            res["per_sample"]["test"][i]
    except KeyError:
        raise ValueError("the sweep has no per-sample test losses; run compression_sweep "
                         "with per_sample=('test',)") from None


@validate_params(quantity=OneOf(*QUANTITIES))
def change(a, b, quantity):
    r"""Mean over models of quantity(a) - quantity(b), with its standard error.

    ``"train"``, ``"accuracy"`` and ``"error"`` use the SE over models of the paired
    differences. ``"test"`` and ``"gen"`` use the crossed SE over models and test images
    (:func:`infocompress.stats.crossed_se`) from the per-sample test losses: for
    ``"gen"`` the table is :math:`\ell_{mi}(a) - \ell_{mi}(b) - (L_{S,m}(a) - L_{S,m}(b))`.
    Both sides must come from sweeps of the same models and test set.

    Parameters
    ----------
    a, b : tuple (result, i or None)
    quantity : {"train", "test", "gen", "accuracy", "error"}

    Returns
    -------
    dict
        ``"mean"``, ``"se"``, ``"z"`` (mean / se, or 0 when both are 0) and, for the
        crossed quantities, ``"se_models"`` and ``"se_samples"``.

    Examples
    --------
    >>> res = {"n_clusters": np.array([4]),
    ...        "loss": {"train": np.array([[0.2, 0.3, 0.1]]),
    ...                 "test": np.array([[0.5, 0.6, 0.4]])},
    ...        "accuracy": {"test": np.array([[0.9, 0.9, 0.8]])},
    ...        "original": {"loss": {"train": np.array([0.0, 0.1, 0.0]),
    ...                              "test": np.array([0.6, 0.7, 0.5])},
    ...                     "accuracy": {"test": np.array([0.9, 0.8, 0.8])}}}
    >>> round(change((res, 0), (res, None), "train")["mean"], 6)
    0.166667
    """
    if quantity not in QUANTITIES:
        raise ValueError(f"quantity must be one of {QUANTITIES}, got {quantity!r}")
    a, b = _side(a, "a"), _side(b, "b")
    if quantity in ("train", "accuracy", "error"):
        mean, se = stats.paired(model_values(a, quantity), model_values(b, quantity))
        return {"mean": mean, "se": se, "z": _z(mean, se)}
    pa, pb = _per_sample(a), _per_sample(b)
    if pa.shape != pb.shape:
        raise ValueError(f"the two sides have per-sample tables of shapes {pa.shape} and "
                         f"{pb.shape}; compare sweeps of the same models and test set")
    d = pa - pb
    if quantity == "gen":
        d = d - (model_values(a, "train") - model_values(b, "train"))[:, None]
    out = stats.crossed_se(d)
    out["z"] = _z(out["mean"], out["se"])
    return out


@validate_params(res=Instance(dict, description="a sweep result (dict)"))
def combine(res, groups):
    """A sweep result whose i-th "K" is the average of the sweep over ``groups[i]``.

    Averaging per network (and per test image) over several K before comparing turns a
    family of comparisons into one: its SE comes from the same formula, one averaged value
    per network and test image.

    Parameters
    ----------
    res : dict
        A :func:`~infocompress.compression.compression_sweep` result (with per-sample test losses
        if test-set quantities will be compared).
    groups : sequence of sequences of int
        Indices into ``res["n_clusters"]``.

    Returns
    -------
    dict
        Same layout as ``res`` with ``len(groups)`` entries along the K axis (its
        ``"n_clusters"`` holds the group numbers 0, 1, ...) and the same ``"original"``.

    Examples
    --------
    >>> res = {"n_clusters": np.array([2, 4]), "loss": {"train": np.array([[1.0], [3.0]])},
    ...        "accuracy": {}, "original": {"loss": {"train": np.array([0.0])}}}
    >>> combine(res, [[0, 1]])["loss"]["train"].tolist()
    [[2.0]]
    """
    if isinstance(groups, (str, bytes)) or not len(groups):
        raise ValueError(f"groups must be a non-empty sequence of index lists, got {groups!r}")
    n_k = len(res["n_clusters"])
    idx = []
    for g in groups:
        if isinstance(g, (str, bytes)) or not hasattr(g, "__iter__") or not list(g) or not all(
                Integer(low=0, high=n_k - 1).ok(i) for i in g):
            raise ValueError(f"groups: every group must be a non-empty list of K indices in "
                             f"0..{n_k - 1}, got {describe(g)}")
        g = [int(i) for i in g]
        idx.append(g)

    def avg(arr):
        return np.stack([np.asarray(arr)[g].mean(axis=0) for g in idx])

    out = {"n_clusters": np.arange(len(idx)),
           "loss": {k: avg(v) for k, v in res["loss"].items()},
           "accuracy": {k: avg(v) for k, v in res["accuracy"].items()},
           "original": res["original"]}
    if "per_sample" in res:
        out["per_sample"] = {k: avg(v) for k, v in res["per_sample"].items()}
    if "compression_ratio" in res:
        out["compression_ratio"] = avg(res["compression_ratio"])
    return out


def _z(mean, se):
    if se > 0:
        return float(mean / se)
    return 0.0 if mean == 0 else float(np.sign(mean) * np.inf)


@validate_params(res=Instance(dict, description="a sweep result (dict)"))
def summary_frame(res, *, reference=None):
    """One row per K: ratio, mean risks and their changes against a reference, with SEs.

    Parameters
    ----------
    res : dict
        A :func:`~infocompress.compression.compression_sweep` result with per-sample test losses.
    reference : tuple (result, i or None), optional
        What the changes are measured against; default the uncompressed models of ``res``.

    Returns
    -------
    pandas.DataFrame
        Index K; columns ``ratio %``, ``L_S``, ``L_mu``, ``gen``, ``test err %`` (means over
        models), and ``dL_S``, ``dL_mu``, ``dgen`` with their ``SE`` columns (changes against
        the reference).
    """
    import pandas as pd

    ref = (res, None) if reference is None else _side(reference, "reference")
    rows = []
    for i, k in enumerate(res["n_clusters"]):
        side = (res, i)
        row = {"K": int(k), "ratio %": 100 * float(np.mean(res["compression_ratio"][i])),
               "L_S": model_values(side, "train").mean(),
               "L_mu": model_values(side, "test").mean(),
               "gen": model_values(side, "gen").mean(),
               "test err %": 100 * model_values(side, "error").mean()}
        for q, name in (("train", "dL_S"), ("test", "dL_mu"), ("gen", "dgen")):
            c = change(side, ref, q)
            row[name] = c["mean"]
            row[f"SE({name})"] = c["se"]
        rows.append(row)
    return pd.DataFrame(rows).set_index("K")
