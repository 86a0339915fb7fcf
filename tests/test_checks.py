"""Tests of the check tables every chapter relies on."""

import json
import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from infocompress import claims, records
from infocompress.checks import (
    PERTURB_ENV,
    PERTURB_JSON_ENV,
    CheckTable,
    false_alarm_of,
    false_alarm_probability,
    n_se_for_max,
    perturbations_from_env,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))
from status_table import notebook_status, row_false_alarm, verified_checks  # noqa: E402


def test_close_upper_lower_outcomes():
    t = CheckTable("t")
    assert t.close("in", 1.0, 1.04, 0.01)
    assert not t.close("out", 1.0, 1.06, 0.01)
    assert t.upper("below bound", 1.0, 1.04, 0.01)
    assert not t.upper("above bound", 1.0, 1.06, 0.01)
    assert t.lower("above bound", 1.0, 0.96, 0.01)
    assert not t.lower("below bound", 1.0, 0.94, 0.01)
    assert not t.all_passed
    with pytest.raises(AssertionError, match="out"):
        t.verify()


def test_verify_marks_table_and_footer():
    t = CheckTable("ok", n_se=3.0)
    t.close("a", 0.0, 0.02, 0.01)
    assert "verified" not in t.to_text()
    assert t.verify() is t and t.verified
    assert t.to_text().splitlines()[-1] == "verified: 1 of 1 checks pass"
    t.close("b", 0.0, 1.0, 0.01)             # added after verify(): fails, and is not verified
    assert not t.verified and "verified" not in t.to_text()


def test_oracle_theory_clamps_alpha_at_the_largest_distortion():
    from infocompress.experiments import oracle_theory
    t = oracle_theory(1 * 0.7 / 35, 1, 35, 0.7)   # n D / (d v) rounds to 1 + 2**-52
    assert t["alpha"] == 1.0 and t["gen"] == 0.0


def test_empty_table_does_not_verify():
    with pytest.raises(AssertionError, match="no checks"):
        CheckTable("empty").verify()


def test_z_score_and_zero_se():
    t = CheckTable("z")
    t.close("exact", 2.0, 2.0, 0.0)
    t.close("off", 2.0, 2.5, 0.0)
    assert t.rows[0].z == 0.0 and t.rows[0].passed
    assert math.isinf(t.rows[1].z) and not t.rows[1].passed


def test_false_alarm_rate_matches_simulation():
    """Under the null, a 2-SE two-sided check fails with probability ~4.55%."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal(400_000)
    p = false_alarm_probability(2.0)
    rate = np.mean(np.abs(z) > 2.0)
    se = math.sqrt(p * (1 - p) / z.size)
    assert abs(rate - p) <= 5 * se
    assert math.isclose(false_alarm_probability(5.0, two_sided=False), 2.866515718791939e-07,
                        rel_tol=1e-9)


@pytest.mark.parametrize("se,n_se", [(-1.0, None), (math.nan, None), (1.0, 0.0), (1.0, -2.0)])
def test_bad_input(se, n_se):
    with pytest.raises(ValueError):
        CheckTable("bad").close("x", 0.0, 0.0, se, n_se=n_se)


def test_false_alarm_bad_input():
    with pytest.raises(ValueError):
        false_alarm_probability(0.0)


# ----------------------------------------------------------------------------------------
# SE kinds, false-alarm probabilities, the printed layout and the perturbation audit
# ----------------------------------------------------------------------------------------


def test_false_alarm_by_se_kind():
    gauss = false_alarm_probability(5.0)
    assert false_alarm_of("close", 5.0) == gauss
    assert false_alarm_of("upper", 5.0) == pytest.approx(gauss / 2)
    assert false_alarm_of("close", 5.0, se_kind="exact") == 0.0
    assert false_alarm_of("lower", 1.0, se_kind="numerical") == 0.0
    assert false_alarm_of("close", 5.0, se_kind="max_of", n_draws=100) == pytest.approx(100 * gauss)
    assert false_alarm_of("close", 1.0, se_kind="max_of", n_draws=100) == 1.0   # capped
    # Student t with n - 1 degrees of freedom: heavier than Gaussian, converging to it
    t10 = false_alarm_of("close", 5.0, se_kind="paired", n_draws=10)
    t50 = false_alarm_of("close", 5.0, se_kind="paired", n_draws=50)
    t1e6 = false_alarm_of("close", 5.0, se_kind="mc", n_draws=10**6)
    assert t10 > t50 > t1e6 > gauss and t1e6 == pytest.approx(gauss, rel=1e-3)
    from scipy import stats
    assert t10 == pytest.approx(2 * stats.t.sf(5.0, df=9), rel=1e-10)


def test_false_alarm_of_students_t_matches_simulation():
    """The t tail used for few draws is the real false-alarm rate of a mean over n draws."""
    rng = np.random.default_rng(5)
    n, reps, k = 5, 400_000, 3.0
    x = rng.standard_normal((reps, n))
    z = x.mean(1) / (x.std(1, ddof=1) / math.sqrt(n))
    rate = np.mean(np.abs(z) > k)
    p = false_alarm_of("close", k, se_kind="mc", n_draws=n)
    assert abs(rate - p) <= 5 * math.sqrt(p * (1 - p) / reps)
    assert p > 5 * false_alarm_probability(k)     # and far above the Gaussian value


def test_n_se_for_max_keeps_the_single_check_rate():
    assert n_se_for_max(1) == pytest.approx(5.0)
    for n in (7, 4000):
        k = n_se_for_max(n)
        assert false_alarm_of("close", k, se_kind="max_of", n_draws=n) == pytest.approx(
            false_alarm_probability(5.0), rel=1e-9)
    assert n_se_for_max(4000, n_se=4.0) < n_se_for_max(4000)
    with pytest.raises(ValueError, match="n_draws"):
        n_se_for_max(0)


@pytest.mark.parametrize("kwargs,match", [
    ({"se_kind": "bootstrap"}, "se_kind"),
    ({"se_kind": "paired"}, "n_draws"),
    ({"se_kind": "max_of"}, "n_draws"),
    ({"n_draws": 1}, "n_draws"),
    ({"n_draws": 2.5}, "n_draws"),
    ({"se_kind": "exact"}, "se must be 0"),
    ({"same_sample": ""}, "same_sample"),
])
def test_bad_declarations(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CheckTable("bad").close("x", 0.0, 0.0, 0.1, **kwargs)


def test_table_defaults_and_legacy_layout():
    legacy = CheckTable("legacy")
    legacy.close("a", 1.0, 1.0, 0.1)
    assert not legacy.declared and "kind" not in legacy.to_text()
    assert legacy.rows[0].se_kind == "mc" and legacy.rows[0].n_draws is None
    t = CheckTable("paired", se_kind="paired", n_draws=50)
    t.upper("a", 1.0, 0.5, 0.1)
    t.close("b", 1.0, 1.0, 0.0, se_kind="exact")     # a row may override the default
    assert [(r.se_kind, r.n_draws) for r in t.rows] == [("paired", 50), ("exact", None)]
    assert t.declared and "SE kind" in t.to_text()
    with pytest.raises(ValueError, match="n_draws"):
        CheckTable("t", se_kind="paired")


def _notebook_with(tmp_path, *records_):
    """A stored notebook whose outputs hold the given (prefix, record) pairs as published."""
    outputs = [{"output_type": "stream", "name": "stdout", "text": "noise\n"}]
    for i, (prefix, rec) in enumerate(records_):
        data, meta = records.bundle(f"{prefix}-{i + 1}", rec)
        outputs.append({"output_type": "display_data", "data": data, "metadata": meta})
    nb = {"cells": [{"cell_type": "markdown", "source": "# T", "metadata": {}},
                    {"cell_type": "code", "source": "", "outputs": outputs, "metadata": {},
                     "execution_count": 1}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    import nbformat

    nbformat.validate(nbformat.from_dict(nb))   # the stored output is a valid notebook output
    path = tmp_path / "chapter.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_published_tables_are_read_back_by_the_book(tmp_path):
    """The audit appendix reads the published records: every row, kind, count and flag."""
    t = CheckTable("mixed")
    t.close("a long name that runs well past the forty-four characters", 1.0, 1.02, 0.01,
            n_draws=10_000)
    t.upper("pair", 0.0, -1.0, 0.1, se_kind="paired", n_draws=12)
    t.lower("det", -1e-9, 0.0, 0.0, se_kind="exact")
    t.close("worst", 2.0, 2.0, 0.1, se_kind="max_of", n_draws=4000, n_se=n_se_for_max(4000))
    t.close("radius", 3.0, 3.1, 0.1, same_sample="the radius is the maximum over these trials")
    t.upper("never far", 0.0, -1.0, 0.0, se_kind="exact")  # z = -inf
    legacy = CheckTable("legacy")
    legacy.close("x ≈ y", -1.0, -1.0, 0.5)
    claim = {"label": "(C1)", "statement": "a claim", "verdict": "reproduced (z = -6.0)"}
    path = _notebook_with(tmp_path, (records.CHECK_TABLE, t.verify().record()),
                          (records.CLAIM, claim),
                          (records.CHECK_TABLE, legacy.verify().record()))
    tables = list(verified_checks(path))
    assert [tb["title"] for tb in tables] == ["mixed", "legacy"]
    rows = tables[0]["rows"]
    assert [r["se_kind"] for r in rows] == ["mc", "paired", "exact", "max_of", "mc", "exact"]
    assert [r["n_draws"] for r in rows] == [10_000, 12, None, 4000, None, None]
    assert rows[4]["same_sample"] == "the radius is the maximum over these trials"
    assert [r["same_sample"] for r in rows[:4]] == [None] * 4
    assert rows[5]["z"] == -math.inf
    for parsed, row in zip(rows, t.rows, strict=True):
        assert row_false_alarm(parsed) == pytest.approx(row.false_alarm, rel=1e-3)
        assert parsed["estimate"] == pytest.approx(row.estimate, rel=1e-5)
    (x,) = tables[1]["rows"]
    assert x["name"] == "x ≈ y" and not x["declared"] and x["tol"] == 5.0
    st = notebook_status(path)
    assert (st["tables"], st["checks"], st["claims"]) == (2, 7, [claim])


def test_tables_are_published_only_inside_a_kernel():
    """Outside Jupyter nothing is displayed; the record itself is plain JSON data."""
    t = CheckTable("t")
    t.close("a", 0.0, 0.0, 1.0)
    assert records.publish(records.CHECK_TABLE, t.record()) is None
    json.dumps(records.json_safe(t.record()), allow_nan=False)


def test_every_stored_table_and_claim_is_published():
    """Each stored chapter publishes as many table and claim records as it prints tables
    and claim lines: the book's status pages, which read only the records, miss none."""
    root = Path(__file__).resolve().parents[1] / "notebooks"
    for path in sorted(root.glob("*.ipynb")):
        nb = json.loads(path.read_text())
        text = "".join("".join(out.get("text", "")) for cell in nb["cells"]
                       for out in cell.get("outputs", []))
        # a footer may carry trailing blanks (print(table, "\n"))
        printed = len(re.findall(r"^verified: \d+ of \d+ checks pass *$", text, re.M))
        claims_printed = len(re.findall(claims.CLAIM_LINE, text, re.M))
        st = notebook_status(path)
        assert (st["tables"], len(st["claims"])) == (printed, claims_printed), path.name


def test_detection_thresholds_match_brute_force():
    rng = np.random.default_rng(11)
    for _ in range(300):
        kind = rng.choice(["close", "upper", "lower"])
        theory = rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 3)
        se = rng.uniform(0, 0.3)
        est = theory + rng.uniform(-5, 5) * se
        t = CheckTable("b")
        if not getattr(t, kind)("r", theory, est, se):
            continue
        r = t.rows[0]
        up, down = r.detection_thresholds()
        for thr, sign in ((up, 1), (down, -1)):
            grid = np.linspace(0, 3, 3001)
            fails = [not r.passes_with(theory * (1 + sign * e)) for e in grid]
            if thr is None:
                assert not any(fails)
            elif thr < 2.9:
                first = grid[np.argmax(fails)] if any(fails) else None
                assert first is not None and abs(first - thr) <= 1e-3 + 1e-9


def test_perturbation_audit_records_verified_tables(tmp_path, monkeypatch):
    path = tmp_path / "rows.jsonl"
    monkeypatch.setenv(PERTURB_ENV, "+0.1,-0.1")
    monkeypatch.setenv(PERTURB_JSON_ENV, str(path))
    assert perturbations_from_env() == (0.1, -0.1)
    t = CheckTable("p")
    t.close("tight", 1.0, 1.0, 0.001)
    t.close("loose", 1.0, 1.0, 0.1)
    t.close("zero", 0.0, 0.0, 0.1)
    t.verify()
    t.verify()                                   # recorded once
    broken = CheckTable("expected to fail")
    broken.close("x", 1.0, 2.0, 0.01)
    assert not broken.all_passed                 # never verified: not recorded
    lines = path.read_text().splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert rec["title"] == "p"
    outcome = {r["name"]: r["perturbed"] for r in rec["rows"]}
    assert outcome["tight"] == {"+0.1": False, "-0.1": False}
    assert outcome["loose"] == {"+0.1": True, "-0.1": True}
    assert outcome["zero"] == {"+0.1": True, "-0.1": True}
    assert all(r.passed for r in t.rows)         # the table's own outcome is unchanged


def test_perturbation_env_errors(monkeypatch):
    monkeypatch.setenv(PERTURB_ENV, "ten percent")
    with pytest.raises(ValueError, match=PERTURB_ENV):
        perturbations_from_env()
    monkeypatch.setenv(PERTURB_ENV, "-1.5")
    with pytest.raises(ValueError, match=PERTURB_ENV):
        perturbations_from_env()
    monkeypatch.setenv(PERTURB_ENV, "0.1")
    monkeypatch.delenv(PERTURB_JSON_ENV, raising=False)
    t = CheckTable("t")
    t.close("a", 1.0, 1.0, 0.1)
    with pytest.warns(UserWarning, match=PERTURB_JSON_ENV):
        t.verify()
