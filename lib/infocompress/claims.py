"""Verdicts on the papers' claims, computed from check tables, never typed by hand.

A chapter states a claim of a paper as one or more rows of a
:class:`~infocompress.checks.CheckTable` (each row fails when the data contradict the claim
by more than its tolerance, 5 SE) and, where the claim asserts an effect, an average effect
with its z-score. :func:`verdict` turns these into the sentence the chapter prints and glues
into its prose, so that the text always says what the numbers say.
"""

from __future__ import annotations

import math

from ._validation import HasAttrs, Instance, Integer, OneOf, Real, validate_params

__all__ = ["CLAIM_LINE", "change_phrase", "claim_line", "verdict"]

#: Pattern of the lines printed by :func:`claim_line` (for readers and scripts; the book's
#: status table reads the record :func:`claim_line` publishes, not this text).
CLAIM_LINE = r"^claim (?P<label>\S+) \[(?P<statement>[^\]]+)\]: (?P<verdict>.+)$"


@validate_params(table=HasAttrs("rows", description="a CheckTable"),
                 effects=Instance(list, tuple, description="a list of dicts with a 'z' entry"),
                 sign=OneOf(-1, 1))
def verdict(table, effects=(), *, sign=-1, threshold=5.0):
    """One line: "reproduced" or "not reproduced", with the z-scores behind it.

    A claim is *reproduced* when no row of ``table`` fails and every effect in ``effects``
    has ``sign * z > threshold`` (significant in the claimed direction).

    Parameters
    ----------
    table : infocompress.checks.CheckTable
        The claim's rows (already added).
    effects : sequence of dict, default ()
        Each with a ``"z"`` entry (e.g. from :func:`infocompress.sweeps.change`).
    sign : {-1, +1}, default -1
        Direction the claim predicts for the effects (-1: a decrease).
    threshold : float, default 5.0

    Returns
    -------
    str

    Examples
    --------
    >>> from infocompress.checks import CheckTable
    >>> t = CheckTable("claim")
    >>> _ = t.upper("change <= 0", 0.0, -0.3, 0.05)
    >>> verdict(t, [{"z": -6.0}])
    'reproduced (z = -6.0)'
    >>> verdict(t, [{"z": -2.0}])
    'not significant (z = -2.0; no row contradicted at 5 SE)'
    """
    if sign not in (-1, 1):
        raise ValueError(f"sign must be -1 or +1, got {sign!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
    zs = []
    for e in effects:
        if not isinstance(e, dict) or "z" not in e:
            raise ValueError(f"every effect must be a dict with a 'z' entry, got {e!r}")
        Real(allow_inf=True).check(e["z"], f"effects[{len(zs)}]['z']")
        zs.append(float(e["z"]))
    zt = ", ".join(f"z = {z:.1f}" for z in zs)
    failed = [r.name for r in table.rows if not r.passed]
    if failed:
        return (f"not reproduced (contradicted at {threshold:g} SE: {'; '.join(failed)}"
                + (f"; {zt}" if zt else "") + ")")
    if all(sign * z > threshold for z in zs):
        return "reproduced" + (f" ({zt})" if zt else "")
    return f"not significant ({zt}; no row contradicted at {threshold:g} SE)"


@validate_params(label=Instance(str, description="a string"), statement=Instance(str,
                 description="a string"), verdict_text=Instance(str, description="a string"))
def claim_line(label, statement, verdict_text):
    """The line a chapter prints for one claim: ``claim <label> [<statement>]: <verdict>``.

    In a Jupyter kernel the claim is also published as data (a hidden output,
    :mod:`infocompress.records`), which the book's status and claims tables read.

    Parameters
    ----------
    label : str
        Short label without spaces, e.g. ``"(C1)"``.
    statement : str
        The claim in a few words (no square brackets).
    verdict_text : str
        Usually the output of :func:`verdict`.

    Returns
    -------
    str

    Examples
    --------
    >>> claim_line("(C1)", "lower test loss", "reproduced (z = -8.2)")
    'claim (C1) [lower test loss]: reproduced (z = -8.2)'
    """
    label, statement, verdict_text = str(label), str(statement), str(verdict_text)
    if not label or any(ch.isspace() for ch in label):
        raise ValueError(f"label must be non-empty without spaces, got {label!r}")
    if "[" in statement or "]" in statement or "\n" in statement:
        raise ValueError(f"statement must not hold brackets or newlines, got {statement!r}")
    if "\n" in verdict_text:
        raise ValueError("verdict_text must be one line")
    from . import records

    records.publish(records.CLAIM, {"label": label, "statement": statement,
                                    "verdict": verdict_text})
    return f"claim {label} [{statement}]: {verdict_text}"


@validate_params(digits=Integer(low=0))
def change_phrase(effect, *, up="rises", down="falls", unit="nats", threshold=5.0,
                  digits=3):
    """Words for a measured change, chosen from its z-score: for prose that must hold for any seed.

    A chapter whose text says "the loss rises by 0.05 nats (z = 7.1)" is right only for the
    run it was written from; glued from this function, the sentence follows the numbers:
    the direction is named only when the change is significant at ``threshold`` SE.

    Parameters
    ----------
    effect : dict
        With ``"mean"`` and ``"z"`` (e.g. from :func:`infocompress.sweeps.change`).
    up, down : str, default "rises", "falls"
        Verbs for a significant increase and decrease.
    unit : str, default "nats"
    threshold : float, default 5.0
    digits : int, default 3
        Decimals of the mean.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        If ``effect`` lacks a finite ``"mean"`` or ``"z"``, or ``threshold`` is not positive.

    Examples
    --------
    >>> change_phrase({"mean": 0.0512, "z": 7.14})
    'rises by 0.051 nats (z = 7.1)'
    >>> change_phrase({"mean": -0.004, "z": -2.0})
    'changes by -0.004 nats, not significantly (z = -2.0)'
    """
    if not isinstance(effect, dict) or "mean" not in effect or "z" not in effect:
        raise ValueError(f"effect must be a dict with 'mean' and 'z', got {effect!r}")
    mean, z = float(effect["mean"]), float(effect["z"])
    if not (math.isfinite(mean) and math.isfinite(z)):
        raise ValueError(f"effect must have a finite mean and z, got {effect!r}")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive number, got {threshold!r}")
    digits = int(digits)
    if abs(z) > threshold:
        verb = up if z > 0 else down
        return f"{verb} by {abs(mean):.{digits}f} {unit} (z = {z:.1f})"
    return f"changes by {mean:+.{digits}f} {unit}, not significantly (z = {z:.1f})"

