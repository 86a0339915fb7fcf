"""Whole-book execution time and peak memory, per chapter notebook.

Each notebook of ``notebooks/`` is executed top to bottom by nbclient in a fresh child
process (outputs are not written back), with the environment of ``make nbval``
(``INFOCOMPRESS_QUIET=1``, inline figures; ``--inplace`` writes the executed notebook back,
which is how the stored outputs of the book are refreshed). For each notebook we record

* ``wall_s``: wall-clock time of the execution (kernel start to shutdown);
* ``kernel_cpu_s`` and ``kernel_peak_rss_mib``: CPU time and peak resident memory of the
  kernel process (and anything it started), from ``getrusage(RUSAGE_CHILDREN)`` in the
  child once the kernel has exited -- exact, not sampled;
* ``tree_peak_rss_mib``: the largest sum of resident memory of the child and all its
  descendants, sampled every 0.2 s with psutil (if installed);
* the load average before and after, since the machine may be shared;
* ``cache_calls``: for each kind of cache entry the chapter asked for (an ensemble, its
  Hessians, a sweep, the LC comparisons ...), how many were computed and how many loaded,
  and the seconds of each (``self_seconds`` of a computation excludes the entries it asked
  for itself), from the log of :func:`infocompress.cache.cached`
  (``INFOCOMPRESS_CACHE_LOG``). In a cold run this says where the time of a first
  execution goes.

Usage, from the repository root::

    python -m benchmarks.book_timing                      # every notebook
    python -m benchmarks.book_timing --notebooks rd_one_page.ipynb
    python -m benchmarks.book_timing --out /tmp/book_timing.json
    python -m benchmarks.book_timing --cold               # from an empty cache
    python -m benchmarks.book_timing --cold --inplace --keep-cache ~/.cache/infocompress
                          # refresh the stored outputs from a cold start, keep the cache

By default the chapters use the on-disk cache as it is (a *warm* run when the book has been
executed before: trained ensembles, Hessians and sweeps are loaded, not recomputed); the
result goes to ``benchmarks/results/book_timing.json``. With ``--cold`` every chapter of the
run shares one new, empty cache folder (``INFOCOMPRESS_CACHE``), as in a first execution of
the book on a new machine: the first chapter that needs an ensemble trains it and the later
ones load it. The folder is deleted afterwards and the result goes to
``book_timing_cold.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from benchmarks._common import ROOT, log, machine_info, write_json

NOTEBOOKS = ROOT / "notebooks"

_RUNNER = r"""
import json, os, re, resource, sys, time
import nbformat
from nbclient import NotebookClient

path, timeout, inplace = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
nb = nbformat.read(path, as_version=4)
client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                        resources={"metadata": {"path": os.path.dirname(path)}})
error = None
t0 = time.perf_counter()
try:
    client.execute()
except Exception as exc:  # report, do not crash: the timing run goes on
    first = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip().splitlines()
    error = type(exc).__name__ + (": " + first[-1][:300] if first else "")
wall = time.perf_counter() - t0
if inplace and error is None:
    nbformat.write(nb, path)
ch = resource.getrusage(resource.RUSAGE_CHILDREN)
me = resource.getrusage(resource.RUSAGE_SELF)
print("BOOK_TIMING " + json.dumps({
    "error": error, "wall_s": wall,
    "kernel_cpu_s": ch.ru_utime + ch.ru_stime,
    "kernel_peak_rss_mib": ch.ru_maxrss / 1024,
    "runner_peak_rss_mib": me.ru_maxrss / 1024,
    "n_cells": len(nb.cells),
}))
"""


def _sample_tree_rss(pid: int, stop: threading.Event, out: dict) -> None:
    """Largest summed RSS of process ``pid`` and its descendants, sampled every 0.2 s."""
    try:
        import psutil
    except ImportError:
        out["peak"] = None
        return
    peak = 0
    try:
        root = psutil.Process(pid)
    except psutil.Error:
        out["peak"] = None
        return
    while not stop.is_set():
        total = 0
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            break
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        peak = max(peak, total)
        stop.wait(0.2)
    out["peak"] = peak / 2**20


def _cache_calls(log: Path) -> dict:
    """Cache calls of one execution grouped by entry name (see infocompress.cache)."""
    out: dict = {}
    if not log.exists():
        return out
    for line in log.read_text(encoding="utf-8").splitlines():
        call = json.loads(line)
        agg = out.setdefault(call["name"], {"computed": 0, "computed_self_s": 0.0, "loaded": 0,
                                    "loaded_s": 0.0})
        if call["hit"]:
            agg["loaded"] += 1
            agg["loaded_s"] += call["seconds"]
        else:
            agg["computed"] += 1
            agg["computed_self_s"] += call["self_seconds"]
    return out


def time_notebook(path: Path, timeout: int, inplace: bool = False, cache=None) -> dict:
    env = dict(os.environ, INFOCOMPRESS_QUIET="1", PYDEVD_DISABLE_FILE_VALIDATION="1")
    if cache is not None:
        env["INFOCOMPRESS_CACHE"] = str(cache)
    log_dir = Path(tempfile.mkdtemp(prefix="infocompress-cache-log-"))
    env["INFOCOMPRESS_CACHE_LOG"] = str(log_dir / "calls.jsonl")
    env.pop("MPLBACKEND", None)  # the inline backend, as in the book
    load_before = list(os.getloadavg())
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _RUNNER, str(path), str(timeout),
                             "1" if inplace else "0"],
                            cwd=path.parent, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    stop, sampled = threading.Event(), {}
    sampler = threading.Thread(target=_sample_tree_rss, args=(proc.pid, stop, sampled))
    sampler.start()
    stdout, stderr = proc.communicate()
    stop.set()
    sampler.join()
    total_wall = time.perf_counter() - t0
    record = {"notebook": path.name, "returncode": proc.returncode}
    lines = [ln for ln in stdout.splitlines() if ln.startswith("BOOK_TIMING ")]
    if lines:
        record.update(json.loads(lines[-1][len("BOOK_TIMING "):]))
    else:
        tail = stderr.strip().splitlines()[-1:] if stderr.strip() else []
        record["error"] = "runner failed" + (": " + tail[0][:300] if tail else "")
    record["status"] = "ok" if record.get("error") is None and proc.returncode == 0 else "failed"
    record["process_wall_s"] = total_wall
    record["tree_peak_rss_mib"] = sampled.get("peak")
    record["load_average_before"] = load_before
    record["load_average_after"] = list(os.getloadavg())
    record["cache_calls"] = _cache_calls(log_dir / "calls.jsonl")
    shutil.rmtree(log_dir, ignore_errors=True)
    return record


def _by_kind(records) -> dict:
    """Seconds spent computing each kind of cache entry, summed over the notebooks."""
    total: dict = {}
    for rec in records:
        for name, agg in rec.get("cache_calls", {}).items():
            t = total.setdefault(name, {"computed": 0, "computed_self_s": 0.0})
            t["computed"] += agg["computed"]
            t["computed_self_s"] += agg["computed_self_s"]
    return total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Execution time and peak memory per notebook.")
    parser.add_argument("--notebooks", nargs="*", default=None,
                        help="notebook file names in notebooks/ (default: all)")
    parser.add_argument("--timeout", type=int, default=1200, help="per-cell timeout [s]")
    parser.add_argument("--inplace", action="store_true",
                        help="write the executed notebooks back (refreshes stored outputs)")
    parser.add_argument("--exclude", nargs="*", default=(),
                        help="notebook file names to skip")
    parser.add_argument("--cold", action="store_true",
                        help="start from an empty cache folder shared by the notebooks of the run")
    parser.add_argument("--keep-cache", default=None, metavar="DIR",
                        help="with --cold: use DIR (which must be empty or absent) as the cold "
                             "cache folder and keep it afterwards, warm for later runs")
    parser.add_argument("--out", default=None,
                        help="output JSON file (default: benchmarks/results/book_timing.json, "
                             "book_timing_cold.json with --cold)")
    args = parser.parse_args(argv)
    if args.notebooks:
        paths = [NOTEBOOKS / name for name in args.notebooks]
    else:
        paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    paths = [p for p in paths if p.name not in set(args.exclude)]
    records = []
    if args.keep_cache and not args.cold:
        parser.error("--keep-cache needs --cold")
    cache = None
    if args.cold and args.keep_cache:
        cache = Path(args.keep_cache)
        if cache.exists() and any(cache.iterdir()):
            parser.error(f"--keep-cache {cache} is not empty: a cold run needs an empty folder")
        cache.mkdir(parents=True, exist_ok=True)
    elif args.cold:
        cache = Path(tempfile.mkdtemp(prefix="infocompress-cold-"))
    try:
        for path in paths:
            log(f"book: {path.name}")
            rec = time_notebook(path, args.timeout, args.inplace, cache)
            log(f"  {rec['status']}: {rec.get('wall_s', float('nan')):.1f} s, kernel peak "
                f"{rec.get('kernel_peak_rss_mib', float('nan')):.0f} MiB")
            records.append(rec)
    finally:
        if cache is not None and not args.keep_cache:
            shutil.rmtree(cache, ignore_errors=True)
    payload = {
        "benchmark": "book_timing",
        "description": "execution of each notebook by nbclient in a fresh process "
                       "(INFOCOMPRESS_QUIET=1, inline figures); "
                       + ("outputs written back" if args.inplace else "outputs not written back"),
        "machine": machine_info(),
        "cache": ("cold: one empty cache folder shared by the notebooks of the run"
                  if args.cold else "warm: the on-disk cache as found"),
        "notebooks": records,
        "total_wall_s": sum(r.get("wall_s", 0.0) for r in records),
        "total_kernel_cpu_s": sum(r.get("kernel_cpu_s", 0.0) for r in records),
        "computed_self_s_by_kind": _by_kind(records),
        "all_ok": all(r["status"] == "ok" for r in records),
    }
    if args.out:
        Path(args.out).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    else:
        write_json("book_timing_cold" if args.cold else "book_timing", payload)
    return 0 if payload["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
