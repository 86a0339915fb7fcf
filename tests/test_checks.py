"""Tests of the check tables every chapter relies on."""

import math

import numpy as np
import pytest

from infocompress.checks import CheckTable, false_alarm_probability


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
