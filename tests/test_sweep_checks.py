"""Tests of infocompress.sweep_checks: rows against sweeps.change, ranges, validation."""

import numpy as np
import pytest

from infocompress import sweep_checks, sweeps
from infocompress.checks import CheckTable


def _sweep(seed, ks=(2, 4, 8), n_models=6, n_test=40, shift=0.0):
    """A synthetic sweep result with per-sample test losses (layout of compression_sweep)."""
    rng = np.random.default_rng(seed)
    n_k = len(ks)
    train = rng.gamma(2.0, 0.05, size=(n_k, n_models)) + shift
    per = rng.gamma(2.0, 0.2, size=(n_k, n_models, n_test)) + shift
    orig_per = rng.gamma(2.0, 0.2, size=(n_models, n_test))
    return {"n_clusters": np.asarray(ks),
            "compression_ratio": np.linspace(0.03, 0.12, n_k)[:, None]
            * np.ones((1, n_models)),
            "loss": {"train": train, "test": per.mean(axis=2)},
            "accuracy": {"test": np.full((n_k, n_models), 0.9)},
            "per_sample": {"test": per},
            "original": {"loss": {"train": rng.gamma(2.0, 0.01, size=n_models),
                                  "test": orig_per.mean(axis=1)},
                         "accuracy": {"test": np.full(n_models, 0.9)},
                         "per_sample": {"test": orig_per}}}


@pytest.mark.parametrize("quantity", ["train", "test", "gen"])
def test_rows_equal_sweeps_change(quantity):
    a, b = _sweep(0), _sweep(1)
    for ref in (None, b):
        t = CheckTable("t")
        avg = sweep_checks.change_rows(t, a, ref, [0, 2], quantity, "<=", label="X")
        assert [r.name for r in t.rows][:2] == [
            f"X K=2: {sweep_checks.SYMBOLS[quantity]} <= 0",
            f"X K=8: {sweep_checks.SYMBOLS[quantity]} <= 0"]
        for row, i in zip(t.rows[:2], [0, 2], strict=True):
            c = sweeps.change((a, i), (ref, i) if ref is not None else (a, None), quantity)
            assert row.estimate == pytest.approx(c["mean"])
            assert row.se == pytest.approx(c["se"])
            assert row.kind == "upper"
        # the average row: per network (and test image) mean over the two K, then paired
        pa = sweeps.combine(a, [[0, 2]])
        pr = (sweeps.combine(ref, [[0, 2]]), 0) if ref is not None else (pa, None)
        c = sweeps.change((pa, 0), pr, quantity)
        assert avg["mean"] == pytest.approx(c["mean"]) == pytest.approx(t.rows[-1].estimate)
        assert avg["se"] == pytest.approx(t.rows[-1].se)


def test_average_of_train_change_is_mean_of_rows():
    a = _sweep(3)
    t = CheckTable("t")
    avg = sweep_checks.change_rows(t, a, None, [0, 1, 2], "train", ">=")
    assert avg["mean"] == pytest.approx(np.mean([r.estimate for r in t.rows[:3]]))
    assert all(r.kind == "lower" for r in t.rows)


def test_relation_decides_pass_and_fail():
    a = _sweep(4, shift=5.0)  # compressed losses far above the originals
    up, low = CheckTable("up"), CheckTable("low")
    sweep_checks.change_rows(up, a, None, [0, 1], "train", "<=")
    sweep_checks.change_rows(low, a, None, [0, 1], "train", ">=")
    assert not any(r.passed for r in up.rows)
    assert low.all_passed
    none = sweep_checks.change_rows(CheckTable("n"), a, None, [0], "train", "<=",
                                    average=False)
    assert none is None


def test_claim_range_intersection():
    a, b = _sweep(0), _sweep(1)
    b["compression_ratio"] = b["compression_ratio"] + 0.04   # 7%, 11.5%, 16%
    assert sweep_checks.claim_range(a, 6.0, 20.0) == [1, 2]  # 7.5%, 12%
    assert sweep_checks.claim_range([a, b], 6.0, 13.0) == [1]
    assert sweep_checks.claim_range([a, b], 50.0, 60.0) == []


def test_validation():
    a = _sweep(0)
    other = _sweep(1, ks=(2, 4, 16))
    t = CheckTable("t")
    with pytest.raises(ValueError, match="relation"):
        sweep_checks.change_rows(t, a, None, [0], "train", "<")
    with pytest.raises(ValueError, match="quantity"):
        sweep_checks.change_rows(t, a, None, [0], "loss", "<=")
    with pytest.raises(ValueError, match="indices"):
        sweep_checks.change_rows(t, a, None, [], "train", "<=")
    with pytest.raises(ValueError, match="indices"):
        sweep_checks.change_rows(t, a, None, [3], "train", "<=")
    with pytest.raises(ValueError, match="reference"):
        sweep_checks.change_rows(t, a, other, [0], "train", "<=")
    with pytest.raises(ValueError, match="bound"):
        sweep_checks.change_rows(t, a, None, [0], "train", "<=", bound=float("nan"))
    with pytest.raises(ValueError, match="res"):
        sweep_checks.change_rows(t, {"a": 1}, None, [0], "train", "<=")
    with pytest.raises(ValueError, match="low"):
        sweep_checks.claim_range(a, 20.0, 6.0)
    with pytest.raises(ValueError, match="grid"):
        sweep_checks.claim_range([a, other], 6.0, 20.0)
    with pytest.raises(ValueError, match="at least one"):
        sweep_checks.claim_range([], 6.0, 20.0)
    assert not t.rows
