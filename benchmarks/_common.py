"""Shared helpers of the benchmarks: machine description, interleaved timing, JSON output.

Timings are taken on a machine that may be shared, so every case records both wall-clock
and CPU time (``time.process_time``, which adds up all threads of the process), the load
average before and after, and several repetitions (best and median). Peers are measured
interleaved -- repetition r runs every method once, in a rotated order -- so that a
change of load affects all methods alike and their ratios stay meaningful.
"""

from __future__ import annotations

import datetime as _dt
import gc
import importlib.metadata
import json
import os
import platform
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"

PACKAGES = (
    "numpy",
    "scipy",
    "scikit-learn",
    "numba",
    "llvmlite",
    "kmeans1d",
    "ckwrap",
    "ennemi",
    "psutil",
    "nbclient",
    "threadpoolctl",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _mem_total_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def versions() -> dict:
    """Installed versions of the packages that matter to the benchmarks (None if absent)."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def threads() -> list:
    """Thread pools seen by threadpoolctl (BLAS, OpenMP): library, API and thread count."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [
        {k: d.get(k) for k in ("user_api", "internal_api", "num_threads")}
        for d in threadpool_info()
    ]


def machine_info() -> dict:
    """Cores, CPU model, memory, OS, versions, commit and date of this run."""
    status = _git("status", "--porcelain", "lib")
    return {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": _cpu_model(),
        "logical_cores": os.cpu_count(),
        "memory_gib": _mem_total_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "versions": versions(),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "lib_modified_since_commit": None if status is None else bool(status),
        "thread_pools": threads(),
        "load_average": list(os.getloadavg()),
    }


def summarize(values: list[float]) -> dict:
    return {
        "best": min(values),
        "median": statistics.median(values),
        "all": values,
    }


def measure(methods: dict, repeat: int) -> tuple[dict, dict]:
    """Time each callable of ``methods`` ``repeat`` times, interleaved.

    Returns ``(timings, results)``: ``timings[name]`` holds ``wall`` and ``cpu``
    summaries in seconds (best, median, all) and ``results[name]`` the value returned by
    the last call.
    """
    names = list(methods)
    walls = {name: [] for name in names}
    cpus = {name: [] for name in names}
    results = {}
    load_before = list(os.getloadavg())
    for r in range(repeat):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            gc.collect()
            gc.disable()
            try:
                c0 = time.process_time()
                w0 = time.perf_counter()
                out = methods[name]()
                w1 = time.perf_counter()
                c1 = time.process_time()
            finally:
                gc.enable()
            walls[name].append(w1 - w0)
            cpus[name].append(c1 - c0)
            results[name] = out
    timings = {
        name: {"wall_s": summarize(walls[name]), "cpu_s": summarize(cpus[name])} for name in names
    }
    timings["_load_average"] = {"before": load_before, "after": list(os.getloadavg())}
    return timings, results


def ratio(timings: dict, num: str, den: str, clock: str = "cpu_s", stat: str = "median") -> float:
    """Time of ``num`` divided by time of ``den`` (e.g. ours / peer)."""
    return timings[num][clock][stat] / timings[den][clock][stat]


def ratios_over_peers(timings: dict, methods, ours: str = "infocompress") -> dict:
    """``{"ratio_cpu_ours_over": {peer: ...}, "ratio_wall_ours_over": {peer: ...}}``."""
    peers = [name for name in methods if name != ours]
    return {f"ratio_{clock[:-2]}_ours_over": {name: ratio(timings, ours, name, clock)
                                              for name in peers}
            for clock in ("cpu_s", "wall_s")}


def write_json(name: str, payload: dict) -> Path:
    """Write ``payload`` to ``results/<name>.json`` (atomically) and return the path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)
