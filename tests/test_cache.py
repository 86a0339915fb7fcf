"""Tests of infocompress.cache: hits return what a miss computes, writes are atomic, damaged
files are recomputed (never returned), and the shared ensembles built on it."""

import json
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
import torch

from infocompress import cache, ensembles


def _work(counter, value=1.5):
    def compute():
        counter.append(1)
        return {"w": torch.arange(4.0) * value, "a": np.eye(2), "n": 3, "name": "x",
                "nested": [{"t": torch.ones(2)}]}
    return compute


def _same(a, b):
    assert set(a) == set(b)
    assert torch.equal(a["w"], b["w"])
    np.testing.assert_array_equal(a["a"], b["a"])
    assert (a["n"], a["name"]) == (b["n"], b["name"])
    assert torch.equal(a["nested"][0]["t"], b["nested"][0]["t"])


def test_hit_equals_miss_and_key_matters(tmp_path):
    calls = []
    a, hit_a = cache.cached("t", {"k": 1}, _work(calls), directory=tmp_path)
    b, hit_b = cache.cached("t", {"k": 1}, _work(calls), directory=tmp_path)
    c, hit_c = cache.cached("t", {"k": 2}, _work(calls, 2.0), directory=tmp_path)
    assert (hit_a, hit_b, hit_c) == (False, True, False)
    assert len(calls) == 2
    _same(a, b)
    assert isinstance(b["a"], np.ndarray)
    assert not torch.equal(a["w"], c["w"])
    assert len(list(tmp_path.glob("t-*.pt"))) == 2


def test_call_log_only_when_asked(tmp_path, monkeypatch):
    calls = []
    monkeypatch.delenv(cache.LOG_ENV_VAR, raising=False)
    cache.cached("quiet", {"k": 0}, _work(calls), directory=tmp_path / "c")
    assert list(tmp_path.glob("*.jsonl")) == []
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv(cache.LOG_ENV_VAR, str(log))

    def slow():
        time.sleep(0.2)
        return _work(calls)()

    cache.cached("slow", {"k": 1}, slow, directory=tmp_path / "c")
    cache.cached("slow", {"k": 1}, slow, directory=tmp_path / "c")

    def outer():
        cache.cached("inner", {"k": 2}, slow, directory=tmp_path / "c")
        return _work(calls)()

    cache.cached("outer", {"k": 3}, outer, directory=tmp_path / "c")
    lines = [json.loads(s) for s in log.read_text().splitlines()]
    assert [(r["name"], r["hit"]) for r in lines] == [
        ("slow", False), ("slow", True), ("inner", False), ("outer", False)]
    assert lines[0]["seconds"] >= 0.2 > lines[1]["seconds"]
    # the outer entry's own time excludes the inner computation
    assert lines[3]["seconds"] >= 0.2 > lines[3]["self_seconds"]
    assert lines[2]["self_seconds"] == lines[2]["seconds"]


@pytest.mark.parametrize("damage", ["flip", "truncate", "header", "empty"])
def test_damaged_file_is_recomputed_not_returned(tmp_path, damage):
    calls = []
    good, _ = cache.cached("t", {"k": 1}, _work(calls), directory=tmp_path)
    (path,) = tmp_path.glob("t-*.pt")
    raw = bytearray(path.read_bytes())
    if damage == "flip":
        raw[-10] ^= 0xFF
    elif damage == "truncate":
        raw = raw[: len(raw) // 2]
    elif damage == "header":
        raw[:5] = b"XXXXX"
    else:
        raw = bytearray()
    path.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="recomputing"):
        again, hit = cache.cached("t", {"k": 1}, _work(calls), directory=tmp_path)
    assert not hit and len(calls) == 2
    _same(good, again)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rewritten file is intact
        third, hit3 = cache.cached("t", {"k": 1}, _work(calls), directory=tmp_path)
    assert hit3 and len(calls) == 2


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    calls = []

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache.os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        cache.cached("t", {"k": 1}, _work(calls), directory=tmp_path)
    assert [p.suffix for p in tmp_path.iterdir()] == [".lock"]  # no entry, no temporary file
    monkeypatch.undo()
    _, hit = cache.cached("t", {"k": 1}, _work(calls), directory=tmp_path)
    assert not hit and len(calls) == 2


def test_process_killed_while_writing(tmp_path):
    """SIGKILL in the middle of a write (no clean-up runs): the next call recomputes."""
    script = textwrap.dedent(f"""
        import os, sys, time, torch
        from infocompress import cache
        real_fsync = os.fsync
        def slow_fsync(fd):
            print("writing", flush=True)
            time.sleep(60)
        cache.os.fsync = slow_fsync
        cache.cached("t", {{"k": 1}}, lambda: {{"w": torch.arange(4.0)}},
                     directory={str(tmp_path)!r})
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not list(tmp_path.glob("t-*.pt"))  # only the temporary file may be left
    calls = []
    value, hit = cache.cached("t", {"k": 1}, _work(calls), directory=tmp_path)
    assert not hit and len(calls) == 1 and torch.equal(value["w"], torch.arange(4.0) * 1.5)


def test_cache_off_and_bad_inputs(tmp_path, monkeypatch):
    monkeypatch.setenv("INFOCOMPRESS_CACHE", "off")
    calls = []
    cache.cached("t", {"k": 1}, _work(calls))
    cache.cached("t", {"k": 1}, _work(calls))
    assert len(calls) == 2
    with pytest.raises(ValueError, match="plain file-name prefix"):
        cache.cached("../x", {}, _work(calls), directory=tmp_path)
    with pytest.raises(ValueError, match="must return a dict"):
        cache.cached("t", {}, lambda: [1], directory=tmp_path)
    with pytest.raises(ValueError, match="cannot cache a object"):
        cache.cached("t", {"k": 9}, lambda: {"x": object()}, directory=tmp_path)
    with pytest.raises(ValueError, match="key must hold numbers"):
        cache.key_digest({"f": print})


def test_key_digest_canonical():
    a = cache.key_digest({"x": (1, 2.0), "arr": np.arange(3), "s": "a"})
    b = cache.key_digest({"s": "a", "arr": np.arange(3), "x": [1, 2.0]})
    c = cache.key_digest({"s": "a", "arr": np.arange(4), "x": [1, 2.0]})
    assert a == b != c


# ------------------------------------------------------------- shared ensembles
SMALL = dict(dataset="digits", n_models=3, pool_fraction=0.3, subset_size=60, n_jobs=1,
             progress=False)


def _params(ens):
    return [p.detach().clone() for m in ens.models for p in m.parameters()]


def test_ensemble_hit_is_identical_to_retraining(tmp_path, monkeypatch):
    monkeypatch.setenv("INFOCOMPRESS_CACHE", str(tmp_path))
    a = ensembles.load_ensemble(ensembles.DIGITS_MLP, rng=np.random.default_rng(3), **SMALL)
    b = ensembles.load_ensemble(ensembles.DIGITS_MLP, rng=np.random.default_rng(3), **SMALL)
    assert (a.from_cache, b.from_cache) == (False, True)
    assert all(torch.equal(p, q) for p, q in zip(_params(a), _params(b), strict=True))
    np.testing.assert_array_equal(a.subsets, b.subsets)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    # a corrupt file: warning, retraining, the same numbers again
    (path,) = tmp_path.glob("digits-mlp-digits-3-*.pt")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.warns(RuntimeWarning, match="digest"):
        c = ensembles.load_ensemble(ensembles.DIGITS_MLP, rng=np.random.default_rng(3),
                                    **SMALL)
    assert not c.from_cache
    assert all(torch.equal(p, q) for p, q in zip(_params(a), _params(c), strict=True))
    # cache off: trained again, same numbers; another seed: other networks
    monkeypatch.setenv("INFOCOMPRESS_CACHE", "off")
    d = ensembles.load_ensemble(ensembles.DIGITS_MLP, rng=np.random.default_rng(3), **SMALL)
    assert all(torch.equal(p, q) for p, q in zip(_params(a), _params(d), strict=True))
    e = ensembles.load_ensemble(ensembles.DIGITS_MLP, rng=np.random.default_rng(4), **SMALL)
    assert not all(torch.equal(p, q) for p, q in zip(_params(a), _params(e), strict=True))


def test_ensemble_hessians_cached_and_normalised(tmp_path, monkeypatch):
    monkeypatch.setenv("INFOCOMPRESS_CACHE", str(tmp_path))
    ens = ensembles.load_ensemble(ensembles.DIGITS_MLP, rng=5, **SMALL)
    t0 = time.perf_counter()
    h1 = ens.hessians(n_jobs=1, progress=False)
    h2 = ens.hessians(n_jobs=1, progress=False)
    assert time.perf_counter() - t0 < 60
    assert len(h1) == 3
    for a, b in zip(h1, h2, strict=True):
        for k in a:
            assert torch.equal(a[k], b[k])
    for name in ("1.weight", "3.weight", "5.weight"):
        assert float(h1[0][name].double().mean()) == pytest.approx(1.0, rel=1e-6)
    raw = ens.hessians(normalize=False, n_jobs=1, progress=False)
    from infocompress import nets
    ref = nets.hessian_diagonal(ens.models[1], ens.x_pool[ens.subsets[1]],
                                ens.y_pool[ens.subsets[1]])
    for k in ref:
        torch.testing.assert_close(raw[1][k], ref[k])
    data = ens.data()
    assert set(data) == {"train", "val", "test"}
    assert data["val"][2].shape == (3, len(ens.y_pool) - 60)


def test_load_ensemble_bad_inputs():
    with pytest.raises(ValueError, match="recipe must be"):
        ensembles.load_ensemble("mlp", rng=0)
    with pytest.raises(ValueError, match="dataset must be one of"):
        ensembles.load_ensemble(ensembles.DIGITS_MLP, dataset="cifar", rng=0)
    with pytest.raises(ValueError, match="exceeds the"):
        ensembles.load_ensemble(ensembles.DIGITS_MLP, dataset="digits", pool_fraction=0.1,
                                subset_size=500, rng=0)
    with pytest.raises(ValueError, match="architecture must be"):
        ensembles.Recipe("x", "rnn", ())


def test_concurrent_processes_compute_once(tmp_path):
    """Two processes asking for one entry at once: one computes, the other waits for it."""
    script = textwrap.dedent(f"""
        import sys, time, torch
        from infocompress import cache
        def work():
            open({str(tmp_path / "computed")!r} + sys.argv[1], "w").close()
            time.sleep(3)
            return {{"w": torch.arange(3.0)}}
        value, hit = cache.cached("t", {{"k": 1}}, work, directory={str(tmp_path)!r})
        print(hit, value["w"].tolist())
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(i)], stdout=subprocess.PIPE,
                              text=True) for i in range(2)]
    outs = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert outs == ["False [0.0, 1.0, 2.0]", "True [0.0, 1.0, 2.0]"]
    assert len(list(tmp_path.glob("computed*"))) == 1
