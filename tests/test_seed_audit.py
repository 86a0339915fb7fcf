"""Statistical audit: every chapter re-executed under five other seeds must still pass.

Each chapter draws all its randomness from the one generator created in its first code
cell, ``rng = np.random.default_rng(<seed>)``, and checks its claims at 5 standard errors.
A claim that holds only for the stored seed (a tolerance tuned until green, a lucky draw)
fails here. With about 14 checks per chapter the chance that an honest 5-SE check fails
under a new seed is of order 1e-5 per chapter, so a failure is worth reading.

For every notebook in ``notebooks/`` (``appendix_*`` notebooks, which only display stored
results, are skipped) and every alternative ``i = 1..5`` the test

1. reads the notebook with nbformat and replaces the integer in the first code cell's
   ``np.random.default_rng(<int>)`` by ``audit_seed(original, i)``; a notebook whose first
   code cell does not hold exactly one such call fails loudly, naming the notebook;
2. copies ``notebooks/`` and ``benchmarks/results/`` (which chapters read, e.g. the LC
   power pilot) to a temporary directory (so that nothing a chapter writes lands in the
   repository), writes the modified notebook there and executes it with nbclient,
   working directory = that copy of ``notebooks/`` (relative paths between notebooks keep
   working), ``INFOCOMPRESS_QUIET=1``, ``MPLBACKEND=Agg``, at most 1800 s per notebook;
3. passes when no cell raised, and records the outcome in ``_build/seed_audit.json``
   (override the path with the environment variable ``INFOCOMPRESS_SEED_AUDIT_JSON``;
   ``make seed-audit`` writes ``benchmarks/results/seed_audit.json``, which the book's
   audit appendix shows), one entry per (notebook, alternative), with the digest of the
   chapter's code and the git commit, so that the book can mark runs of older code stale.

The same file re-runs the unit and property tests (``tests/``, doctests excluded) five
times with ``INFOCOMPRESS_TEST_SEED_OFFSET=1..5``, which mixes the offset into every integer
numpy seed (tests/conftest.py), and records those runs under the name ``tests``.

The audit costs about five executions of the whole book, so it is marked ``slow`` and
deselected by default. Run it with::

    .venv/bin/python -m pytest -p no:cacheprovider -m slow tests/test_seed_audit.py

(one notebook: add ``-k "rd_one_page and alt1"``). The fast test at the end checks, in
the default run, that every chapter follows the one-generator pattern the audit relies on.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
from status_table import SUITE, code_digest, suite_digest  # noqa: E402  (stale-run marks)

NOTEBOOKS = ROOT / "notebooks"
SUMMARY_ENV = "INFOCOMPRESS_SEED_AUDIT_JSON"
DEFAULT_SUMMARY = ROOT / "_build" / "seed_audit.json"
N_ALTERNATIVES = 5
NOTEBOOK_TIMEOUT = 1800  # seconds per notebook, all cells together
SEED_CALL = re.compile(r"np\.random\.default_rng\(\s*(\d[\d_]*)\s*\)")
LITERAL_GENERATOR = re.compile(r"default_rng\(\s*\d[\d_]*\s*\)")


def audited_notebooks() -> list[Path]:
    """Every chapter notebook except the appendix ones that only read stored results."""
    return sorted(p for p in NOTEBOOKS.glob("*.ipynb") if not p.name.startswith("appendix_"))


def audit_seed(original: int, alternative: int) -> int:
    """Seed of alternative ``alternative`` (1..5) for a chapter whose seed is ``original``.

    Mixing the original seed in gives every chapter its own five seeds (never the stored
    one), reproducibly: ``SeedSequence((original, alternative))``'s first 32-bit word.
    """
    seed = int(np.random.SeedSequence((original, alternative)).generate_state(1)[0])
    return seed if seed != original else seed + 1


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def find_seed(nb, name: str) -> int:
    """The integer of ``np.random.default_rng(<int>)`` in the first code cell; a clear
    failure naming the notebook if there is not exactly one."""
    code = _code_cells(nb)
    if not code:
        pytest.fail(f"{name}: no code cell, so no seed to audit")
    found = SEED_CALL.findall(code[0].source)
    if len(found) != 1:
        pytest.fail(
            f"{name}: the first code cell must create the chapter's one generator as "
            f"'rng = np.random.default_rng(<int>)' exactly once; found {len(found)} such calls"
        )
    return int(found[0].replace("_", ""))


def reseed(nb, name: str, seed: int) -> int:
    """Replace the seed of the first code cell in place; return the original seed."""
    original = find_seed(nb, name)
    cell = _code_cells(nb)[0]
    cell.source = SEED_CALL.sub(f"np.random.default_rng({seed})", cell.source, count=1)
    return original


def current_commit() -> str | None:
    """Provenance: the HEAD commit, with ``-dirty`` for local changes (results files aside)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)benchmarks/results"],
                               cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return head + ("-dirty" if dirty.strip() else "")


def summary_path() -> Path:
    return Path(os.environ.get(SUMMARY_ENV) or DEFAULT_SUMMARY)


def record(entry: dict) -> None:
    """Add or replace the entry of one (notebook, alternative) in the summary JSON."""
    path = summary_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        data = {}
    runs = {(r["notebook"], r["alternative"]): r for r in data.get("runs", [])}
    for r in runs.values():  # files of an earlier harness kept the commit once per file
        r.setdefault("commit", data.get("commit"))
    runs[(entry["notebook"], entry["alternative"])] = dict(entry, commit=current_commit())
    data = {
        "description": "Chapters re-executed with alternative seeds (tests/test_seed_audit.py)",
        "n_alternatives": N_ALTERNATIVES,
        "updated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "runs": sorted(runs.values(), key=lambda r: (r["notebook"], r["alternative"])),
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    os.replace(tmp, path)


def execute(nb, workdir: Path, timeout: float) -> None:
    """Run every code cell of ``nb`` in a fresh kernel (cwd ``workdir``) within ``timeout``
    seconds in total; raises nbclient's CellExecutionError on the first failing cell and
    TimeoutError when the budget runs out."""
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    deadline = time.monotonic() + timeout
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"notebook exceeded {timeout} s before cell {index}")
            client.timeout = int(max(1, remaining))
            client.execute_cell(cell, index)


def scratch_copy(tmp_path: Path) -> Path:
    """Copy ``notebooks/`` and the stored results the chapters read (``benchmarks/results``,
    e.g. the LC power pilot) under ``tmp_path``, keeping their relative layout; returns the
    copy of ``notebooks/``, the working directory of the executions."""
    workdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, workdir,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    shutil.copytree(ROOT / "benchmarks" / "results", tmp_path / "benchmarks" / "results")
    return workdir


def _error_summary(exc: BaseException) -> str:
    text = str(exc).strip() or "".join(traceback.format_exception_only(type(exc), exc)).strip()
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)  # the kernel's traceback is coloured
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[-25:])  # the end holds the exception and the check table


CASES = [
    pytest.param(nb, i, id=f"{nb.stem}-alt{i}", marks=pytest.mark.slow)
    for nb in audited_notebooks()
    for i in range(1, N_ALTERNATIVES + 1)
]


@pytest.mark.parametrize("notebook,alternative", CASES)
def test_notebook_passes_under_another_seed(notebook, alternative, tmp_path, monkeypatch):
    nb = nbformat.read(notebook, as_version=4)
    digest = code_digest(nb)
    original = find_seed(nb, notebook.name)
    seed = audit_seed(original, alternative)
    reseed(nb, notebook.name, seed)
    workdir = scratch_copy(tmp_path)
    nbformat.write(nb, workdir / notebook.name)
    monkeypatch.setenv("INFOCOMPRESS_QUIET", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    entry = {"notebook": notebook.name, "alternative": alternative, "seed": seed,
             "original_seed": original, "code_digest": digest}
    start = time.monotonic()
    error = None
    try:
        execute(nb, workdir, NOTEBOOK_TIMEOUT)
    except Exception as exc:  # any failure of the run is the outcome we record
        error = f"{type(exc).__name__}: {_error_summary(exc)}"
    entry.update(passed=error is None, seconds=round(time.monotonic() - start, 1), error=error)
    record(entry)
    if error is not None:
        pytest.fail(f"{notebook.name} with seed {seed} (alternative {alternative}, stored seed "
                    f"{original}) failed:\n{error}", pytrace=False)


@pytest.mark.slow
@pytest.mark.parametrize("offset", range(1, N_ALTERNATIVES + 1), ids=lambda k: f"offset{k}")
def test_unit_suite_passes_under_another_seed(offset):
    """The unit and property tests again, every integer numpy seed mixed with ``offset``
    (see tests/conftest.py) and hypothesis drawing new examples from seed ``offset``.
    Doctests are left out: they print exact numbers for their seeds."""
    env = dict(os.environ, INFOCOMPRESS_TEST_SEED_OFFSET=str(offset), INFOCOMPRESS_QUIET="1",
               MPLBACKEND="Agg")
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--tb=line",
         f"--hypothesis-seed={offset}", "tests", "--ignore=tests/render"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=NOTEBOOK_TIMEOUT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    error = None if proc.returncode == 0 else "\n".join(
        [ln for ln in lines if ln.startswith(("FAILED", "ERROR", "/", "E "))][-20:] + lines[-1:])
    record({"notebook": SUITE, "alternative": offset, "seed": offset, "original_seed": 0,
            "code_digest": suite_digest(ROOT), "passed": error is None,
            "seconds": round(time.monotonic() - start, 1), "error": error})
    if error is not None:
        pytest.fail(f"unit tests with seed offset {offset} failed:\n{error}", pytrace=False)


def test_every_chapter_has_one_literal_seed_in_its_first_code_cell():
    """Fast structural check (default run): the pattern the audit needs is there, and no
    later cell creates a generator from a literal seed (the audit could not vary it)."""
    assert audited_notebooks(), "no notebooks found"
    problems = []
    for path in audited_notebooks():
        nb = nbformat.read(path, as_version=4)
        code = _code_cells(nb)
        if not code or len(SEED_CALL.findall(code[0].source)) != 1:
            problems.append(f"{path.name}: first code cell lacks exactly one "
                            "'np.random.default_rng(<int>)'")
        for k, cell in enumerate(code[1:], start=2):
            if LITERAL_GENERATOR.search(cell.source):
                problems.append(f"{path.name}: code cell {k} creates a generator from a "
                                "literal seed; derive it from the chapter's rng instead")
    assert not problems, "\n".join(problems)


def test_audit_seeds_and_reseeding():
    """The harness itself: five distinct reproducible seeds, the stored one never reused,
    and only the first code cell's seed replaced."""
    seeds = [audit_seed(20211012, i) for i in range(1, N_ALTERNATIVES + 1)]
    assert len(set(seeds)) == N_ALTERNATIVES and 20211012 not in seeds
    assert seeds == [audit_seed(20211012, i) for i in range(1, N_ALTERNATIVES + 1)]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("np.random.default_rng(1)"),
        nbformat.v4.new_code_cell("import numpy as np\nrng = np.random.default_rng(2019_0612)"),
        nbformat.v4.new_code_cell("x = rng.random()"),
    ])
    assert reseed(nb, "t.ipynb", 77) == 20190612
    assert nb.cells[1].source.endswith("rng = np.random.default_rng(77)")
    assert nb.cells[0].source == "np.random.default_rng(1)"
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("rng = None")])
    with pytest.raises(pytest.fail.Exception, match="bad.ipynb"):
        find_seed(bad, "bad.ipynb")


def test_code_digest_sees_code_only():
    """The book marks an audit run stale by this digest: outputs and prose must not change
    it, any edit of code must."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_code_cell("rng = np.random.default_rng(3)\nx = rng.random()"),
    ])
    before = code_digest(nb)
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text="0.1\n")]
    nb.cells[0].source = "# Another title"
    assert code_digest(nb) == before
    nb.cells[1].source += "\ny = 2 * x"
    assert code_digest(nb) != before
