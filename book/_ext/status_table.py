"""Sphinx directives that build the book's status pages from the notebooks themselves.

``status-table``: the book's results at a glance, read from the notebooks.

For every notebook listed in ``_toc.yml`` (in order) the table shows the chapter, the results
of the papers it states (the titles of its ``prf`` directives: theorems, lemmas,
propositions, corollaries, remarks, algorithms) and the figures it reproduces (section titles
naming a figure), and the status of its checks read from the *stored outputs*: the number of
verified check tables and their rows, and whether any cell stored an error. Nothing in the
table is typed by hand, and nothing is parsed back from printed text: a verified
:class:`infocompress.checks.CheckTable` and every :func:`infocompress.claims.claim_line`
publish their content as data (hidden glue outputs, :mod:`infocompress.records`), and
these directives read that data.

``claims-table``: every claim of the papers that a chapter tests (the claim records of its
stored outputs), with the statement and the computed verdict.

``check-audit``: every verified Monte-Carlo check with its tolerance and false-alarm
probability. ``seed-audit``: the outcome of re-executing every chapter under five further
seeds (``tests/test_seed_audit.py``), read from the JSON file that test writes, with each
run marked *stale* when the chapter's code has changed since. ``perturbation-audit``: which
rows detect a 10% error of their theory value, read from the JSON file that
``tests/test_perturbation_audit.py`` writes.
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
    from infocompress import records

    outputs = [out for cell in nb["cells"] for out in cell.get("outputs", [])]
    errors = sum(out.get("output_type") == "error" for out in outputs)
    tables = records.read_records(outputs, records.CHECK_TABLE)
    n_tables, n_checks = len(tables), sum(len(tb["rows"]) for tb in tables)
    claims = [{"label": c["label"], "statement": c["statement"], "verdict": c["verdict"]}
              for c in records.read_records(outputs, records.CLAIM)]
    return {"title": title.group(1).strip() if title else path.stem, "results": results,
            "figures": figures, "tables": n_tables, "checks": n_checks, "errors": errors,
            "claims": claims}


def _short_verdict(verdict: str) -> str:
    """'reproduced', 'not reproduced' or 'not significant', with the first z if any."""
    head = verdict.split(" (")[0]
    z = re.search(r"z = (-?[\d.]+|-?inf)", verdict)
    return f"{head} (z = {z.group(1)})" if z else head


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
            verdicts = "; ".join(f"{c['label']} {_short_verdict(c['verdict'])}"
                                 for c in st["claims"]) or "—"
            rows.append((caption, doc, stated, status, verdicts))
        # the directive is used from MyST pages, so it emits MyST markup
        lines = ["```{list-table}", ":header-rows: 1", ":widths: 14 24 28 14 20", "",
                 "* - Part", "  - Chapter", "  - Results and figures stated",
                 "  - Checks (stored outputs)", "  - Claims of the papers tested (verdict)"]
        for caption, doc, stated, status, verdicts in rows:
            lines += [f"* - {caption}", f"  - {{doc}}`/{doc}`", f"  - {_escape(stated)}",
                      f"  - {status}", f"  - {_escape(verdicts)}"]
        lines.append("```")
        container = nodes.container(classes=["status-table"])
        self.state.nested_parse(StringList(lines), self.content_offset, container)
        return [container]


class ClaimsTable(Directive):
    """Every claim of the papers that a chapter tests, with its statement and verdict, read
    from the ``claim ...`` lines of the stored outputs (``infocompress.claims.claim_line``)."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        root = pathlib.Path(env.srcdir)
        lines = ["```{list-table}", ":header-rows: 1", ":widths: 22 8 40 30", "",
                 "* - Chapter", "  - Claim", "  - Statement", "  - Verdict (5 SE)"]
        count = 0
        for _caption, doc in _toc_entries(root):
            path = root / f"{doc}.ipynb"
            if not path.is_file():
                continue
            env.note_dependency(str(path))
            for c in notebook_status(path)["claims"]:
                count += 1
                lines += [f"* - {{doc}}`/{doc}`", f"  - {_escape(c['label'])}",
                          f"  - {_escape(c['statement'])}", f"  - {_escape(c['verdict'])}"]
        lines.append("```")
        container = nodes.container(classes=["claims-table"])
        if count:
            self.state.nested_parse(StringList(lines), self.content_offset, container)
        return [container]


def _number(x):
    """A float of a record (non-finite values are stored as strings)."""
    return float(x)


def verified_checks(path: pathlib.Path):
    """Yield every verified check table of a notebook's stored outputs.

    Each table is the record a verified :class:`infocompress.checks.CheckTable` published
    (:meth:`~infocompress.checks.CheckTable.record`): a dict with the title and the rows,
    each row with its name, relation, theory, estimate, SE, z, tolerance, outcome, SE kind,
    number of draws, same-sample note and whether it was declared.
    """
    from infocompress import records

    nb = json.loads(path.read_text())
    outputs = [out for cell in nb["cells"] for out in cell.get("outputs", [])]
    for table in records.read_records(outputs, records.CHECK_TABLE):
        rows = [dict(row, **{k: _number(row[k]) for k in ("theory", "estimate", "se", "z",
                                                         "tol")})
                for row in table["rows"]]
        yield {"title": table["title"], "rows": rows}


def row_false_alarm(row: dict) -> float:
    """False-alarm probability of a parsed row, from its relation, tolerance and SE kind
    (:func:`infocompress.checks.false_alarm_of`; rows of the original layout count as
    ``"mc"`` with an unstated number of draws, i.e. Gaussian)."""
    from infocompress.checks import false_alarm_of

    return false_alarm_of(row["kind"], row["tol"], se_kind=row["se_kind"],
                          n_draws=row["n_draws"])


SE_KIND_TEXT = {"mc": "Monte-Carlo", "paired": "paired", "max_of": "worst of",
                "exact": "exact", "numerical": "numerical"}


def se_kind_text(row: dict) -> str:
    """How the SE was obtained, in words, for the audit table."""
    if not row["declared"]:
        return "not declared (Gaussian)"
    text = SE_KIND_TEXT.get(row["se_kind"], row["se_kind"])
    if row["n_draws"] is not None:
        text += f" ({row['n_draws']:,} {'checks' if row['se_kind'] == 'max_of' else 'draws'})"
    return text


class CheckAudit(Directive):
    """List every verified check with its tolerance, SE kind and false-alarm probability,
    then the rows whose theory value comes from their own sample."""

    has_content = False

    def run(self):
        env = self.state.document.settings.env
        root = pathlib.Path(env.srcdir)
        lines = ["```{list-table}", ":header-rows: 1", ":widths: 20 40 8 8 12 12", "",
                 "* - Chapter", "  - Check", "  - Kind", "  - Tolerance [SE]",
                 "  - SE kind", "  - False-alarm probability"]
        total = 0.0
        count = 0
        by_kind = {}
        flagged = []
        for _caption, doc in _toc_entries(root):
            path = root / f"{doc}.ipynb"
            if not path.is_file():
                continue
            env.note_dependency(str(path))
            for table in verified_checks(path):
                for row in table["rows"]:
                    prob = row_false_alarm(row)
                    total += prob
                    count += 1
                    key = row["se_kind"] if row["declared"] else "not declared"
                    n, s = by_kind.get(key, (0, 0.0))
                    by_kind[key] = (n + 1, s + prob)
                    kind = {"close": "two-sided", "upper": "upper", "lower": "lower"}[
                        row["kind"]]
                    name = _literal(row["name"])
                    if row["same_sample"]:
                        flagged.append((doc, row))
                        name += " (theory from the same sample)"
                    lines += [f"* - {{doc}}`/{doc}`", f"  - {name}", f"  - {kind}",
                              f"  - {row['tol']:g}", f"  - {se_kind_text(row)}",
                              f"  - {prob:.2e}"]
        kinds = "; ".join(f"{k}: {n} rows, {s:.2e}" for k, (n, s) in
                          sorted(by_kind.items(), key=lambda kv: -kv[1][1]))
        summary = [
            f"{count} checks in all. If every theory were exactly true and every standard "
            f"error what its SE kind says, the expected number of false alarms in one run of "
            f"the book would be **{total:.2e}** (the sum of the last column, which also "
            f"bounds the probability that any check fails by chance).",
            "",
            f"By SE kind (rows, summed false-alarm probability): {kinds}.",
            "",
        ]
        container = nodes.container(classes=["check-audit"])
        lines.append("```")
        if not count:  # no stored chapter has published a verified table
            lines = ["No stored chapter output holds a published check table (execute the "
                     "notebooks to fill this table)."]
        if flagged:
            lines += ["", "Rows whose theory value is computed from the sample they are compared "
                      "with, as declared by the chapters:", ""]
            lines += [f"* {{doc}}`/{doc}`, {_literal(r['name'])}: {_literal(r['same_sample'])}"
                      for doc, r in flagged]
        else:
            lines += ["", "No chapter declares a row whose theory value is computed from the "
                      "sample it is compared with."]
        self.state.nested_parse(StringList(summary + lines), self.content_offset, container)
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
                    row.append("  - not run")
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


CATEGORIES = {
    "detects": "detects the error",
    "exact": "deterministic row, allowance wider than the error",
    "slack": "bound with more slack than the error",
    "weak": "too weak: standard error too large",
    "n/a": "not applicable: theory value 0",
}


def perturbation_category(row: dict, eps: float = 0.1):
    """Classify one row of the perturbation audit; returns (category, threshold).

    A relative error ``eps`` of the theory value is *detected* by a two-sided row when the
    row fails both with the theory multiplied by ``1 + eps`` and by ``1 - eps``, and by a
    one-sided row when it fails for the error that tightens the bound (a bound made looser
    can never fail). A row that does not detect it is deterministic (SE kind ``exact`` or
    ``numerical``: its allowance is wider than the error), a bound whose estimate lies more
    than ``eps`` inside it (slack no check could remove), or too weak (its standard error
    hides the error). Rows with theory value 0 are not applicable: a relative error of 0 is
    0. ``threshold`` is the smallest relative error the row detects (None: none).
    """
    th, est = row["theory"], row["estimate"]
    if th == 0:
        return "n/a", None
    up, down = row["threshold_up"], row["threshold_down"]
    fail_up = not row["perturbed"][f"{eps:+g}"]
    fail_down = not row["perturbed"][f"{-eps:+g}"]
    if row["kind"] == "close":
        detects = fail_up and fail_down
        need = None if up is None or down is None else max(up, down)
    else:
        tighten_up = (row["kind"] == "lower") == (th > 0)
        detects = fail_up if tighten_up else fail_down
        need = up if tighten_up else down
    if detects:
        return "detects", need
    if row["se_kind"] in ("exact", "numerical"):
        return "exact", need
    if row["kind"] != "close":
        inside = (th - est if row["kind"] == "upper" else est - th) / abs(th)
        if inside > eps:
            return "slack", need
    return "weak", need


class PerturbationAudit(Directive):
    """Power of the checks: which rows detect a relative error of the theory values.

    Reads the JSON file written by ``tests/test_perturbation_audit.py`` (one execution of
    every chapter with ``INFOCOMPRESS_PERTURB_THEORY``); one row per chapter with the count
    of each category of :func:`perturbation_category`, then the rows that are too weak.
    """

    has_content = False
    option_spec = {"results": str}

    def run(self):
        env = self.state.document.settings.env
        root = pathlib.Path(env.srcdir)
        path = root / self.options.get("results", "benchmarks/results/perturbation_audit.json")
        env.note_dependency(str(path))
        container = nodes.container(classes=["perturbation-audit"])
        if not path.is_file():
            text = [f"The perturbation audit has not been run on this copy (no `{path.name}`)."]
            self.state.nested_parse(StringList(text), self.content_offset, container)
            return [container]
        data = json.loads(path.read_text())
        eps = min(abs(e) for e in data["perturbations"])
        runs = {r["notebook"]: r for r in data["runs"]}
        order = ["detects", "exact", "slack", "weak", "n/a"]
        lines = ["```{list-table}", ":header-rows: 1", "", "* - Chapter", "  - Rows"]
        lines += [f"  - {CATEGORIES[c].split(':')[0].capitalize()}" for c in order]
        lines += ["  - Detecting (of rows with theory ≠ 0)", "  - Run"]
        totals = dict.fromkeys(order, 0)
        listed = {c: [] for c in ("weak", "exact", "slack")}
        n_stale = n_missing = 0
        for _caption, doc in _toc_entries(root):
            nb_path = root / f"{doc}.ipynb"
            if not nb_path.is_file() or nb_path.name.startswith("appendix_"):
                continue
            env.note_dependency(str(nb_path))
            run = runs.get(nb_path.name)
            if run is None:
                n_missing += 1
                lines += [f"* - {{doc}}`/{doc}`", "  - —", *["  - —"] * len(order),
                          "  - —", "  - not run"]
                continue
            counts = dict.fromkeys(order, 0)
            for table in run["tables"]:
                for row in table["rows"]:
                    cat, need = perturbation_category(row, eps)
                    counts[cat] += 1
                    if cat in listed:
                        listed[cat].append((doc, table["title"], row, need))
            for c in order:
                totals[c] += counts[c]
            applicable = sum(counts.values()) - counts["n/a"]
            frac = f"{counts['detects'] / applicable:.0%}" if applicable else "—"
            status = "pass" if run["passed"] else "FAIL"
            if run.get("code_digest") != code_digest(json.loads(nb_path.read_text())):
                status += ", stale"
                n_stale += 1
            lines += [f"* - {{doc}}`/{doc}`", f"  - {sum(counts.values())}",
                      *[f"  - {counts[c]}" for c in order], f"  - {frac}",
                      f"  - {status} ({run['seconds']:.0f} s)"]
        applicable = sum(totals.values()) - totals["n/a"]
        frac = f"{totals['detects'] / applicable:.0%}" if applicable else "—"
        lines += ["* - **all chapters**", f"  - {sum(totals.values())}",
                  *[f"  - {totals[c]}" for c in order], f"  - **{frac}**", "  - "]
        lines.append("```")
        summary = (f"Relative error of every theory value: ±{eps:g} "
                   f"(recorded {data.get('updated', 'at an unknown date')}, commit "
                   f"`{str(data.get('commit') or 'unknown')[:10]}`). Of the "
                   f"{sum(totals.values())} verified rows, {totals['n/a']} have theory value "
                   f"0; of the other {applicable}, **{totals['detects']} ({frac}) detect the "
                   f"error**, {totals['exact']} are deterministic rows whose allowance is wider, "
                   f"{totals['slack']} are bounds that hold with more slack, and "
                   f"**{totals['weak']} are too weak**. {n_stale} chapter runs are marked "
                   f"*stale* (the chapter's code changed since); {n_missing} chapters were "
                   f"not run.")
        out = [summary, ""] + lines
        titles = {"weak": "Rows too weak to detect the error",
                  "exact": "Deterministic rows with a wider allowance",
                  "slack": "Bounds with more slack than the error"}
        for cat in ("weak", "exact", "slack"):
            if not listed[cat]:
                continue
            out += ["", f"```{{admonition}} {titles[cat]} ({len(listed[cat])})",
                    ":class: dropdown", ""]
            for doc, title, row, need in listed[cat]:
                where = f"smallest detected error {need:.0%}" if need is not None \
                    else "no error of the theory value is detected"
                out.append(f"* {{doc}}`/{doc}`, {_literal(title)}: {_literal(row['name'])} "
                           f"({where})")
            out.append("```")
        self.state.nested_parse(StringList(out), self.content_offset, container)
        return [container]


def _literal(text: str) -> str:
    """Check names and table titles are plain text: escape what MyST would read as markup."""
    text = " ".join(str(text).split())
    text = re.sub(r"([\\`*_\[\]<>{}$|])", r"\\\1", text)
    # a leading list or heading marker would start a block inside a table cell
    text = re.sub(r"^(\d+)([.)])", r"\1\\\2", text)
    return re.sub(r"^([-+#])", r"\\\1", text)


def _escape(text: str) -> str:
    """Titles are the authors' own MyST (math included): only table-breaking newlines go."""
    return " ".join(text.split())


def setup(app):
    app.add_directive("status-table", StatusTable)
    app.add_directive("claims-table", ClaimsTable)
    app.add_directive("check-audit", CheckAudit)
    app.add_directive("seed-audit", SeedAudit)
    app.add_directive("perturbation-audit", PerturbationAudit)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
