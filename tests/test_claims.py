"""Verdicts and computed phrases of infocompress.claims."""

import re

import pytest

from infocompress import claims
from infocompress.checks import CheckTable


def test_verdict_reproduced_contradicted_and_not_significant():
    t = CheckTable("c")
    t.upper("change <= 0", 0.0, -0.3, 0.05)
    assert claims.verdict(t, [{"z": -6.0}]) == "reproduced (z = -6.0)"
    assert claims.verdict(t, [{"z": 6.0}], sign=+1).startswith("reproduced")
    assert claims.verdict(t, [{"z": -4.9}]).startswith("not significant")
    t.upper("another <= 0", 0.0, 1.0, 0.1)
    assert claims.verdict(t, [{"z": -6.0}]).startswith("not reproduced (contradicted")
    line = claims.claim_line("(C1)", "a claim", "reproduced (z = -6.0)")
    assert re.match(claims.CLAIM_LINE, line).group("label") == "(C1)"


@pytest.mark.parametrize(("mean", "z", "start"), [
    (0.05, 7.1, "rises by 0.050 nats"), (-0.05, -7.1, "falls by 0.050 nats"),
    (0.05, 4.9, "changes by +0.050 nats, not significantly"),
    (-0.05, -5.0, "changes by -0.050 nats, not significantly"),
])
def test_change_phrase_names_a_direction_only_beyond_the_threshold(mean, z, start):
    assert claims.change_phrase({"mean": mean, "z": z}).startswith(start)


def test_change_phrase_custom_words():
    phrase = claims.change_phrase({"mean": -0.2, "z": -9}, down="improves", unit="points",
                                  digits=1)
    assert phrase == "improves by 0.2 points (z = -9.0)"


@pytest.mark.parametrize("bad", [{"mean": 1.0}, {"z": 1.0}, [0.1, 2.0],
                                 {"mean": float("nan"), "z": 1.0}])
def test_change_phrase_rejects_a_bad_effect(bad):
    with pytest.raises(ValueError, match="effect"):
        claims.change_phrase(bad)


def test_change_phrase_rejects_a_bad_threshold():
    with pytest.raises(ValueError, match="threshold"):
        claims.change_phrase({"mean": 1.0, "z": 1.0}, threshold=0)
