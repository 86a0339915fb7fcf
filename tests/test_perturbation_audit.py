"""Power audit: does each check detect a 10% error of its theory value?

A check that cannot fail proves nothing. The seed audit (``test_seed_audit.py``) shows that
the checks do not fail when the theory is right; this audit asks the converse: had a theory
value been wrong by 10%, which rows would have noticed? For every chapter (``appendix_*``
notebooks aside) the test executes the stored notebook once, in a scratch copy of
``notebooks/``, with

* ``INFOCOMPRESS_PERTURB_THEORY=+0.1,-0.1``: every check table that passes ``verify()``
  also works out, row by row, whether the row would have failed with its theory value (or
  bound) multiplied by 1.1 and by 0.9 (``CheckTable.verify``); the table's own outcome does
  not change, so every chapter runs to its end and both errors come from one execution;
* ``INFOCOMPRESS_PERTURB_JSON``: the file, one JSON line per verified table, into which
  those outcomes go.

The rows of every chapter are stored, with the chapter's code digest and the git commit,
in ``_build/perturbation_audit.json`` (override with ``INFOCOMPRESS_PERTURB_AUDIT_JSON``;
``make perturbation-audit`` writes ``benchmarks/results/perturbation_audit.json``, which
the book's audit appendix summarises, classifying each row with
``status_table.perturbation_category``).

Rows whose theory value is 0 cannot be perturbed relatively and are reported as not
applicable: they state a sign or an equality with 0, and their power is the margin of
their z-score, which the check table prints.

It costs one execution of the whole book (about 10 minutes on two cores), so it is marked
``slow``; run it with::

    .venv/bin/python -m pytest -p no:cacheprovider -m slow tests/test_perturbation_audit.py

(one chapter: add ``-k rd_one_page``).
"""

import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from status_table import code_digest, perturbation_category  # noqa: E402
from test_seed_audit import (  # noqa: E402  (one notebook runner for both audits)
    NOTEBOOK_TIMEOUT,
    _error_summary,
    audited_notebooks,
    current_commit,
    execute,
    scratch_copy,
)

from infocompress.checks import PERTURB_ENV, PERTURB_JSON_ENV  # noqa: E402

SUMMARY_ENV = "INFOCOMPRESS_PERTURB_AUDIT_JSON"
DEFAULT_SUMMARY = ROOT / "_build" / "perturbation_audit.json"
PERTURBATIONS = (0.1, -0.1)


def summary_path() -> Path:
    return Path(os.environ.get(SUMMARY_ENV) or DEFAULT_SUMMARY)


def record(entry: dict) -> None:
    """Add or replace the entry of one notebook in the summary JSON."""
    path = summary_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        data = {}
    runs = {r["notebook"]: r for r in data.get("runs", [])}
    commit = current_commit()
    runs[entry["notebook"]] = dict(entry, commit=commit)
    data = {
        "description": "Every chapter executed once with each theory value perturbed "
                       "(tests/test_perturbation_audit.py); per verified row, whether it "
                       "would have failed",
        "perturbations": list(PERTURBATIONS),
        "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": commit,
        "runs": sorted(runs.values(), key=lambda r: r["notebook"]),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def read_tables(path: Path) -> list[dict]:
    """The JSON lines written by the verified tables of one execution."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


CASES = [pytest.param(nb, id=nb.stem, marks=pytest.mark.slow) for nb in audited_notebooks()]


@pytest.mark.parametrize("notebook", CASES)
def test_perturbed_theory_is_detected(notebook, tmp_path, monkeypatch):
    nb = nbformat.read(notebook, as_version=4)
    workdir = scratch_copy(tmp_path)
    rows_file = tmp_path / "rows.jsonl"
    monkeypatch.setenv("INFOCOMPRESS_QUIET", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv(PERTURB_ENV, ",".join(f"{e:+g}" for e in PERTURBATIONS))
    monkeypatch.setenv(PERTURB_JSON_ENV, str(rows_file))
    start = time.monotonic()
    error = None
    try:
        execute(nb, workdir, NOTEBOOK_TIMEOUT)
    except Exception as exc:  # the run's failure is recorded, then reported
        error = f"{type(exc).__name__}: {_error_summary(exc)}"
    tables = read_tables(rows_file)
    record({"notebook": notebook.name, "code_digest": code_digest(nb),
            "passed": error is None, "seconds": round(time.monotonic() - start, 1),
            "error": error, "tables": tables})
    if error is not None:
        pytest.fail(f"{notebook.name} failed under the perturbation audit:\n{error}",
                    pytrace=False)
    # the stored outputs verify as many tables as this run recorded
    stored = sum("verified:" in line for cell in nb.cells for out in cell.get("outputs", [])
                 for line in "".join(out.get("text", "")).splitlines())
    assert len(tables) == stored, (len(tables), stored)


def _row(kind, theory, estimate, se, se_kind="mc", n_se=5.0):
    from infocompress.checks import CheckTable

    t = CheckTable("t")
    getattr(t, kind)("r", theory, estimate, se, n_se=n_se, se_kind=se_kind)
    r = t.rows[0]
    up, down = r.detection_thresholds()
    return dict(r.to_dict(), threshold_up=up, threshold_down=down,
                perturbed={f"{e:+g}": r.passes_with(r.theory * (1 + e)) for e in PERTURBATIONS})


def test_categories_of_the_power_table():
    """Fast (default run): the classification the appendix uses, on rows built by hand."""
    assert perturbation_category(_row("close", 1.0, 1.0, 0.001)) == ("detects", 0.005)
    cat, need = perturbation_category(_row("close", 1.0, 1.0, 0.1))
    assert cat == "weak" and need == pytest.approx(0.5)
    assert perturbation_category(_row("close", 0.0, 0.0, 0.1)) == ("n/a", None)
    # an upper bound 50% above the estimate: slack, detected only beyond 50%
    cat, need = perturbation_category(_row("upper", 2.0, 1.0, 0.01))
    assert cat == "slack" and need == pytest.approx(0.525)
    # a tight upper bound with a small SE detects a 10% tightening (bound * 0.9)
    assert perturbation_category(_row("upper", 1.0, 0.99, 0.001))[0] == "detects"
    # ... and with a negative bound the tightening is bound * 1.1
    assert perturbation_category(_row("upper", -1.0, -1.01, 0.001))[0] == "detects"
    assert perturbation_category(_row("lower", -1.0, -0.99, 0.001))[0] == "detects"
    # a rounding allowance (exact row) is not a theory value a 10% error could move past
    assert perturbation_category(_row("upper", 1e-12, 1e-16, 0.0, "exact"))[0] == "exact"
    assert perturbation_category(_row("close", 80.0, 80.0, 0.0, "exact")) == ("detects", 0.0)
