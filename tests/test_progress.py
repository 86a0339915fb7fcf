"""Progress bars: on by default, silenced by INFOCOMPRESS_QUIET / CI, delayed for quick loops."""

import numpy as np
import pytest

from infocompress.progress import progress_bar, progress_enabled


@pytest.mark.parametrize("var", ["INFOCOMPRESS_QUIET", "CI"])
@pytest.mark.parametrize("value,enabled", [("1", False), ("true", False), ("0", True),
                                           ("", True), ("false", True), ("no", True)])
def test_environment_decides_when_progress_is_none(monkeypatch, var, value, enabled):
    monkeypatch.delenv("INFOCOMPRESS_QUIET", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv(var, value)
    assert progress_enabled(None) is enabled
    assert progress_enabled(True) is True            # an explicit choice beats the environment
    assert progress_enabled(False) is False


def test_quiet_returns_the_iterable_itself(monkeypatch):
    monkeypatch.setenv("INFOCOMPRESS_QUIET", "1")
    items = [3, 1, 2]
    assert progress_bar(items) is items
    assert list(progress_bar(total=2)) == [0, 1]


def test_bar_writes_to_stderr_with_its_label(capsys):
    out = list(progress_bar(range(5), desc="counting", progress=True, delay=0))
    assert out == [0, 1, 2, 3, 4]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "counting" in captured.err and "5/5" in captured.err


def test_quick_loops_print_nothing_before_the_delay(capsys):
    from infocompress.lc import Pruning, lc_least_squares, mu_schedule

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((4, 20, 3)), rng.standard_normal((4, 20))
    lc_least_squares(X, y, Pruning(1), mu_schedule(1e-2, 1.5, 20), progress=True)
    assert capsys.readouterr().err == ""


def test_missing_iterable_and_total_is_an_error():
    with pytest.raises(ValueError, match="iterable or total"):
        progress_bar(progress=True)
