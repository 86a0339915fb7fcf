"""Structured outputs of the chapters: the data behind their check tables and claims.

A chapter prints its check tables and claim lines for the reader; the book's status pages
(``book/_ext/status_table.py``) need the same content as data. When a table is verified
(:meth:`infocompress.checks.CheckTable.verify`) or a claim line is made
(:func:`infocompress.claims.claim_line`) inside a Jupyter kernel, the library therefore also
*publishes* it: one hidden output in the format of myst-nb's ``glue(name, value,
display=False)``, whose JSON payload holds the table's rows or the claim.
The book reads those payloads from the stored outputs (:func:`read_records`); nothing is
parsed back from printed text. Outside a kernel (scripts, tests) nothing is published.

Floats are stored with 6 significant digits (the printed tables show 4), so that a record
is as reproducible as the text beside it; infinities and NaN are stored as the strings
``"inf"``, ``"-inf"`` and ``"nan"`` (JSON has no such numbers).

Examples
--------
>>> data, meta = bundle("infocompress-claim-1", {"label": "(C1)", "z": -6.123456789})
>>> data["application/papermill.record/application/vnd.infocompress.record+json"]["z"]
-6.12346
>>> meta["scrapbook"]["name"]
'infocompress-claim-1'
>>> outputs = [{"output_type": "display_data", "data": data, "metadata": meta}]
>>> [r["label"] for r in read_records(outputs, "infocompress-claim")]
['(C1)']
"""

from __future__ import annotations

import itertools
import math

from ._validation import Instance, OneOf, validate_params

__all__ = ["CHECK_TABLE", "CLAIM", "GLUE_PREFIX", "bundle", "json_safe", "publish",
           "read_records"]

#: Prefix of the mime types of a hidden glue output (myst-nb's ``glue(..., display=False)``):
#: myst-nb does not render them, and ``{glue:}`` roles can still refer to them by name.
GLUE_PREFIX = "application/papermill.record/"
# a JSON payload: nbformat admits structured data only under application/...json types
_JSON = GLUE_PREFIX + "application/vnd.infocompress.record+json"
_TEXT = GLUE_PREFIX + "text/plain"
#: Name prefix of the record of a verified check table.
CHECK_TABLE = "infocompress-check-table"
#: Name prefix of the record of a claim.
CLAIM = "infocompress-claim"

_counter = itertools.count(1)


def json_safe(value):
    """``value`` with every float rounded to 6 significant digits and non-finite floats as
    strings; dicts, lists and tuples are converted recursively, other values kept.

    Examples
    --------
    >>> json_safe({"a": [1.23456789, float("inf")], "b": None, "c": 3})
    {'a': [1.23457, 'inf'], 'b': None, 'c': 3}
    """
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    try:  # numpy scalars
        return json_safe(value.item())
    except AttributeError:
        raise ValueError(f"cannot publish a {type(value).__name__}: {value!r}") from None


def bundle(name: str, record: dict) -> tuple[dict, dict]:
    """The mime bundle and metadata of a hidden glue output holding ``record``.

    Parameters
    ----------
    name : str
        Glue name (unique within a notebook).
    record : dict
        JSON-compatible content (converted by :func:`json_safe`).

    Returns
    -------
    data, metadata : dict
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    if not isinstance(record, dict):
        raise ValueError(f"record must be a dict, got {type(record).__name__}")
    safe = json_safe(record)
    data = {_JSON: safe, _TEXT: f"<{name}>"}
    return data, {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


@validate_params(prefix=OneOf("infocompress-check-table", "infocompress-claim"),
                 record=Instance(dict, description="a dict"))
def publish(prefix: str, record: dict) -> str | None:
    """Publish ``record`` as a hidden glue output when running in a Jupyter kernel.

    Parameters
    ----------
    prefix : str
        :data:`CHECK_TABLE` or :data:`CLAIM`; a running number is appended to make the
        glue name unique.
    record : dict

    Returns
    -------
    str or None
        The glue name, or None outside a kernel (nothing is published).
    """
    if not _in_kernel():
        return None
    from IPython.display import display

    name = f"{prefix}-{next(_counter)}"
    data, metadata = bundle(name, record)
    display(data, raw=True, metadata=metadata)
    return name


@validate_params(outputs=Instance(list, tuple, description="a list of notebook outputs"))
@validate_params(prefix=OneOf("infocompress-check-table", "infocompress-claim"))
def read_records(outputs, prefix: str) -> list[dict]:
    """The records published under ``prefix`` in a list of stored cell outputs.

    Parameters
    ----------
    outputs : iterable of dict
        Outputs of notebook cells (nbformat dicts), in order.
    prefix : str
        :data:`CHECK_TABLE` or :data:`CLAIM`.

    Returns
    -------
    list of dict
    """
    found = []
    for out in outputs:
        name = (out.get("metadata") or {}).get("scrapbook", {}).get("name", "")
        data = out.get("data") or {}
        if name.startswith(prefix + "-") and _JSON in data:
            found.append(data[_JSON])
    return found
