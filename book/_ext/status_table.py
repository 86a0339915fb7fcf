"""Sphinx directives that build the book's status pages from the notebooks themselves.

``status-table``: the book's results at a glance, read from the notebooks.

For every notebook listed in ``_toc.yml`` (in order) the table shows the chapter, the results
of the papers it states (the titles of its ``prf`` directives: theorems, lemmas,
propositions, corollaries, remarks, algorithms) and the figures it reproduces (section titles
naming a figure), and the status of its checks read from the *stored outputs*: the number of
check tables that printed ``verified: N of N checks pass``, and whether any cell stored an
error. Nothing in the table is typed by hand.

``check-audit``: every verified Monte-Carlo check with its tolerance and false-alarm
probability. ``seed-audit``: the outcome of re-executing every chapter under five further
seeds (``tests/test_seed_audit.py``), read from the JSON file that test writes, with each
run marked *stale* when the chapter's code has changed since.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import re

import yaml
from docutils import nodes
from docutils.parsers.rst import Directive
from docutils.statemachine import StringList

PRF = re.compile(
    r"^[`:]{3,}\s*\{prf:(theorem|lemma|proposition|corollary|remark|algorithm|definition)\}\s*(.*)$",
    re.M,
)
FIG = re.compile(r"^#+ [^\n]*?(Figures? [0-9]+[a-c]?(?:(?:, ?| and |–|-)[0-9]+[a-c]?)*)", re.M)
TITLE = re.compile(r"^#\s+(.+)$", re.M)
VERIFIED = re.compile(r"^verified: (\d+) of (\d+) checks pass$", re.M)


def _toc_entries(root: pathlib.Path):
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    for part in toc.get("parts", []):
        caption = part.get("caption", "")
        stack = list(part.get("chapters", []))
        while stack:
            entry = stack.pop(0)
            yield caption, entry["file"]
            stack[0:0] = entry.get("sections", [])


def notebook_status(path: pathlib.Path) -> dict:
    """Summarise one notebook: title, stated results, figures, verified checks, errors."""
    nb = json.loads(path.read_text())
    md = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    title = TITLE.search(md)
    results = [f"{kind.capitalize()}: {name.strip()}" if name.strip() else kind.capitalize()
               for kind, name in PRF.findall(md)]
    figures = sorted({m.strip().rstrip(",") for m in FIG.findall(md)})
    n_tables = n_checks = 0
    errors = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                errors += 1
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            for passed, _total in VERIFIED.findall(text):
                n_tables += 1
                n_checks += int(passed)
    return {"title": title.group(1).strip() if title else path.stem, "results": results,
            "figures": figures, "tables": n_tables, "checks": n_checks, "errors": errors}


class StatusTable(Directive):
    """Render the at-a-glance table of chapters, results and check status."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        root = pathlib.Path(env.srcdir)
        rows = []
        for caption, doc in _toc_entries(root):
            path = root / f"{doc}.ipynb"
            if not path.is_file():
                continue
            env.note_dependency(str(path))
            st = notebook_status(path)
            stated = "; ".join(st["results"] + st["figures"]) or "—"
            if st["errors"]:
                status = f"stored error in {st['errors']} cell(s)"
            elif st["tables"]:
                status = f"pass: {st['checks']} checks in {st['tables']} table(s)"
            else:
                status = "no check tables"
            rows.append((caption, doc, stated, status))
        # the directive is used from MyST pages, so it emits MyST markup
        lines = ["```{list-table}", ":header-rows: 1", ":widths: 18 30 37 15", "",
                 "* - Part", "  - Chapter", "  - Results and figures stated",
                 "  - Checks (stored outputs)"]
        for caption, doc, stated, status in rows:
            lines += [f"* - {caption}", f"  - {{doc}}`/{doc}`", f"  - {_escape(stated)}",
                      f"  - {status}"]
        lines.append("```")
        container = nodes.container(classes=["status-table"])
        self.state.nested_parse(StringList(lines), self.content_offset, container)
        return [container]


ROW = re.compile(r"^(?P<name>.{44}) +(?P<theory>\S+) +(?P<rel>[≈≤≥]) +(?P<est>\S+) +(?P<se>\S+) +"
                 r"(?P<z>\S+) +(?P<tol>\S+) +(?P<res>pass|FAIL)$")


def verified_checks(path: pathlib.Path):
    """Yield (table title, check name, relation, z, tolerance) of every verified check table."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            text = "".join(text) if isinstance(text, list) else text
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if not VERIFIED.match(line):
                    continue
                j = i - 1
                rows = []
                while j >= 0 and (m := ROW.match(lines[j])):
                    rows.append(m)
                    j -= 1
                title = lines[j - 2] if j >= 2 and set(lines[j]) == {"-"} else ""
                for m in reversed(rows):
                    yield title, m["name"].strip(), m["rel"], m["z"], float(m["tol"])


class CheckAudit(Directive):
    """List every verified Monte-Carlo check with its tolerance and false-alarm probability."""

    has_content = False

    def run(self):
        from math import erfc, sqrt

        env = self.state.document.settings.env
        root = pathlib.Path(env.srcdir)
        lines = ["```{list-table}", ":header-rows: 1", ":widths: 22 48 6 8 16", "",
                 "* - Chapter", "  - Check", "  - Kind", "  - Tolerance [SE]",
                 "  - False-alarm probability"]
        total = 0.0
        count = 0
        for _caption, doc in _toc_entries(root):
            path = root / f"{doc}.ipynb"
            if not path.is_file():
                continue
            env.note_dependency(str(path))
            for _title, name, rel, _z, tol in verified_checks(path):
                one_sided = 0.5 * erfc(tol / sqrt(2.0))
                prob = 2 * one_sided if rel == "≈" else one_sided
                total += prob
                count += 1
                kind = {"≈": "two-sided", "≤": "upper", "≥": "lower"}[rel]
                lines += [f"* - {{doc}}`/{doc}`", f"  - {_escape(name)}", f"  - {kind}",
                          f"  - {tol:g}", f"  - {prob:.2e}"]
        summary = (f"{count} checks in all. If every estimate were exactly Gaussian and every "
                   f"theory exactly true, the expected number of false alarms in one run of the "
                   f"book would be {total:.2e} (the sum of the column, which also bounds the "
                   f"probability that any check fails by chance).")
        container = nodes.container(classes=["check-audit"])
        lines.append("```")
        self.state.nested_parse(StringList([summary, ""] + lines), self.content_offset,
                                container)
        return [container]


def code_digest(nb: dict) -> str:
    """SHA-256 (first 16 hex digits) of a notebook's code: its code cells' sources, in order.

    Outputs, metadata and markdown do not enter, so re-executing a notebook or editing its
    prose keeps the digest; any change of code changes it.
    """
    code = "\n\x00\n".join("".join(c["source"]) for c in nb["cells"]
                             if c["cell_type"] == "code")
    return hashlib.sha256(code.encode()).hexdigest()[:16]


def suite_digest(root: pathlib.Path) -> str:
    """SHA-256 (first 16 hex digits) of the unit-test suite: every ``tests/*.py``, by name."""
    h = hashlib.sha256()
    for path in sorted((root / "tests").glob("*.py")):
        h.update(path.name.encode() + b"\x00" + path.read_bytes() + b"\x00")
    return h.hexdigest()[:16]


SUITE = "tests"  # the audit's name for the unit-test suite run under a seed offset


class SeedAudit(Directive):
    """Table of the seed audit: one row per chapter, one column per alternative seed."""

    has_content = False
    option_spec = {"results": str}

    def run(self):
        env = self.state.document.settings.env
        root = pathlib.Path(env.srcdir)
        path = root / self.options.get("results", "benchmarks/results/seed_audit.json")
        env.note_dependency(str(path))
        container = nodes.container(classes=["seed-audit"])
        if not path.is_file():
            text = [f"The seed audit has not been run on this copy (no `{path.name}`)."]
            self.state.nested_parse(StringList(text), self.content_offset, container)
            return [container]
        data = json.loads(path.read_text())
        n_alt = int(data["n_alternatives"])
        runs = {(r["notebook"], r["alternative"]): r for r in data["runs"]}
        header = ["* - Chapter", "  - Stored seed"] + [f"  - Seed {i}" for i in
                                                       range(1, n_alt + 1)]
        lines = ["```{list-table}", ":header-rows: 1", "", *header]
        counts = {"pass": 0, "FAIL": 0, "missing": 0, "stale": 0}
        failures = []
        def cells(key, digest, where, seed_label):
            """One table cell per alternative of ``key``; counts and failures updated."""
            row = []
            for i in range(1, n_alt + 1):
                r = runs.get((key, i))
                if r is None:
                    counts["missing"] += 1
                    row.append("not run")
                    continue
                outcome = "pass" if r["passed"] else "FAIL"
                counts[outcome] += 1
                cell = f"{outcome}, {seed_label}{r['seed']} ({r['seconds']:.0f} s)"
                if r.get("code_digest") != digest:
                    counts["stale"] += 1
                    cell += ", stale"
                if not r["passed"]:
                    failures.append((where, r))
                row.append(f"  - {cell}")
            return row

        for _caption, doc in _toc_entries(root):
            nb_path = root / f"{doc}.ipynb"
            if not nb_path.is_file() or nb_path.name.startswith("appendix_"):
                continue
            env.note_dependency(str(nb_path))
            digest = code_digest(json.loads(nb_path.read_text()))
            originals = {str(r["original_seed"]) for (name, _), r in runs.items()
                         if name == nb_path.name}
            lines += [f"* - {{doc}}`/{doc}`", f"  - {', '.join(sorted(originals)) or '—'}",
                      *cells(nb_path.name, digest, f"{{doc}}`/{doc}`", "")]
        if any(name == SUITE for name, _ in runs):
            lines += ["* - unit and property tests (`tests/`, doctests excluded)", "  - offset 0",
                      *cells(SUITE, suite_digest(root), "the unit-test suite", "offset ")]
        lines.append("```")
        total = counts["pass"] + counts["FAIL"]
        commits = sorted({str(r.get("commit") or data.get("commit") or "unknown")[:10]
                          for r in data["runs"]})
        summary = (f"{total} runs recorded (last {data.get('updated', 'unknown date')}; "
                   f"commit{'s' if len(commits) > 1 else ''} "
                   f"{', '.join(f'`{c}`' for c in commits)}): **{counts['pass']} passed, "
                   f"{counts['FAIL']} failed**; {counts['missing']} (chapter, seed) pairs not "
                   f"run; {counts['stale']} runs marked *stale* (the chapter's code changed "
                   f"after the run).")
        out = [summary, ""] + lines
        for where, r in failures:
            out += ["", f"Failure in {where} with seed {r['seed']}:", "",
                    "```text", *(r.get("error") or "").splitlines(), "```"]
        self.state.nested_parse(StringList(out), self.content_offset, container)
        return [container]


def _escape(text: str) -> str:
    """Titles are the authors' own MyST (math included): only table-breaking newlines go."""
    return " ".join(text.split())


def setup(app):
    app.add_directive("status-table", StatusTable)
    app.add_directive("check-audit", CheckAudit)
    app.add_directive("seed-audit", SeedAudit)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
