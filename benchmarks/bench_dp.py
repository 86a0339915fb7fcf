"""Benchmark 2: exact 1-D k-means, ``optimal_kmeans_1d`` against ``kmeans1d`` and ``ckwrap``.

All three solve the same problem exactly (unweighted 1-D k-means, globally optimal
clusters are intervals of the sorted data) by dynamic programming:

* ``infocompress``: :func:`infocompress.quantize.optimal_kmeans_1d`, whose default segment
  kernel is a numba-compiled SMAWK layer, O(K n) after one sort; times are taken after the
  one-off compilation, which is measured separately (see ``compile``);
* ``infocompress_numpy``: the same function with the pure-numpy divide-and-conquer kernel
  (O(K n log n)), the fallback when numba is absent (run up to n = 10^5 and at
  n = 10^6, K = 16 only, as it is slow);
* ``kmeans1d``: ``kmeans1d.cluster`` (C++ SMAWK), public API, which converts its input to a
  ctypes array element by element and returns Python lists;
* ``kmeans1d_core``: the same C++ routine called through ctypes on numpy buffers, i.e.
  without that conversion (the fairest view of its compiled speed);
* ``ckwrap``: ``ckwrap.ckmeans(x, K, method="linear")`` (Ckmeans.1d.dp 4.3.5, C++,
  SMAWK-based "linear" method), which also computes BIC and other statistics.

Every method's clustering is scored by one function (two-pass within-cluster sum of
squares from its labels), and the relative difference to ours is recorded.

Weighted (Hessian) case, ``cases_weighted``: the same sizes with weights h ~ Exp(1),
``optimal_kmeans_1d(w, K, h=h)`` against ``ckwrap.ckmeans(w, K, weights=h)`` (kmeans1d has
no weights); scored by the weighted within-cluster sum of squares.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from benchmarks._common import ROOT, log, machine_info, measure, ratios_over_peers, write_json

_COMPILE_SNIPPET = r"""
import json, time
t0 = time.perf_counter(); c0 = time.process_time()
import numba  # noqa: F401
t1 = time.perf_counter(); c1 = time.process_time()
import numpy as np
from infocompress.quantize import optimal_kmeans_1d
t2 = time.perf_counter(); c2 = time.process_time()
optimal_kmeans_1d(np.arange(10.0), 3)
t3 = time.perf_counter(); c3 = time.process_time()
optimal_kmeans_1d(np.arange(10.0), 3)
t4 = time.perf_counter(); c4 = time.process_time()
print(json.dumps({"import_numba_wall_s": t1 - t0, "import_numba_cpu_s": c1 - c0,
                  "first_call_wall_s": t3 - t2, "first_call_cpu_s": c3 - c2,
                  "second_call_wall_s": t4 - t3}))
"""


def compile_times() -> dict:
    """First-call cost of the numba kernel in fresh processes: without a cache (JIT
    compilation) and with the on-disk cache the first process wrote."""
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
        for label in ("no_cache", "cached"):
            proc = subprocess.run([sys.executable, "-c", _COMPILE_SNIPPET], env=env, cwd=ROOT,
                                  capture_output=True, text=True, check=True, timeout=600)
            out[label] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def _kmeans1d_core():
    """Direct ctypes handle on kmeans1d's C++ ``cluster`` function."""
    import kmeans1d
    import kmeans1d._core as core

    dll = ctypes.cdll.LoadLibrary(core.__file__)
    fn = dll.cluster
    fn.restype = None
    fn.argtypes = [
        ctypes.POINTER(ctypes.c_double),
        ctypes.c_ulong,
        ctypes.c_ulong,
        ctypes.POINTER(ctypes.c_ulong),
        ctypes.POINTER(ctypes.c_double),
    ]

    def run(w, K):
        w = np.ascontiguousarray(w, dtype=np.float64)
        labels = np.empty(w.size, dtype=np.uint64)
        centers = np.empty(K, dtype=np.float64)
        fn(w.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), w.size, K,
           labels.ctypes.data_as(ctypes.POINTER(ctypes.c_ulong)),
           centers.ctypes.data_as(ctypes.POINTER(ctypes.c_double)))
        return labels.astype(np.int64), centers

    assert ctypes.sizeof(ctypes.c_ulong) == 8, "kmeans1d core call assumes 64-bit unsigned long"
    return run, kmeans1d


def sse(w, labels, K, h=None) -> float:
    """(Weighted) within-cluster sum of squares of a labelling, two-pass (means first)."""
    labels = np.asarray(labels, dtype=np.int64)
    h = np.ones_like(w) if h is None else h
    mass = np.bincount(labels, weights=h, minlength=K)
    mean = np.bincount(labels, weights=h * w, minlength=K) / np.where(mass > 0, mass, 1.0)
    return float(np.sum(h * (w - mean[labels]) ** 2))


def run(*, ns=(10**3, 10**4, 10**5, 10**6), Ks=(4, 16, 64), repeat=5, repeat_large=3,
        seed=20240612, quick=False) -> dict:
    import ckwrap

    from infocompress import kmeans1d
    from infocompress.quantize import optimal_kmeans_1d

    if quick:
        ns, Ks, repeat, repeat_large = (10**3, 10**4), (4, 16), 2, 1
    log("dp: numba compile time in fresh processes")
    comp = compile_times()
    kmeans1d._compiled_kernel()  # compile (or load) once in this process, outside timings
    optimal_kmeans_1d(np.arange(10.0), 3)
    core, kmeans1d = _kmeans1d_core()
    rng = np.random.default_rng(seed)
    cases = []
    for n in ns:
        w = rng.standard_normal(n)
        assert np.unique(w).size == n  # no ties: every solver sees n distinct values
        for K in Ks:
            methods = {
                "infocompress": lambda w=w, K=K: optimal_kmeans_1d(w, K).labels,
                "kmeans1d": lambda w=w, K=K: kmeans1d.cluster(w, K).clusters,
                "kmeans1d_core": lambda w=w, K=K: core(w, K)[0],
                "ckwrap": lambda w=w, K=K: ckwrap.ckmeans(w, K, method="linear").labels,
            }
            if n <= 10**5 or K == 16:

                def numpy_kernel(w=w, K=K):
                    saved = kmeans1d._SEGMENT_KERNEL
                    kmeans1d._SEGMENT_KERNEL = kmeans1d._segments_divide_and_conquer
                    try:
                        return optimal_kmeans_1d(w, K).labels
                    finally:
                        kmeans1d._SEGMENT_KERNEL = saved

                methods["infocompress_numpy"] = numpy_kernel
            rep = repeat if n < 10**6 else repeat_large
            log(f"dp: n={n}, K={K}, repeat={rep}")
            timings, res = measure(methods, rep)
            obj = {name: sse(w, lab, K) for name, lab in res.items()}
            ref = obj["infocompress"]
            case = {
                "n": n,
                "K": K,
                "timings": timings,
                "objective": obj,
                "rel_diff_objective_vs_ours": {
                    name: abs(v - ref) / ref for name, v in obj.items() if name != "infocompress"
                },
                **ratios_over_peers(timings, methods),
            }
            cases.append(case)
            log("  cpu ratio ours/peer: " + ", ".join(
                f"{k}={v:.3f}" for k, v in case["ratio_cpu_ours_over"].items()))
    cases_weighted = []
    for n in ns:
        w = rng.standard_normal(n)
        h = rng.exponential(size=n)
        for K in Ks:
            methods = {
                "infocompress": lambda w=w, h=h, K=K: optimal_kmeans_1d(w, K, h=h).labels,
                "ckwrap": lambda w=w, h=h, K=K: ckwrap.ckmeans(w, K, weights=h,
                                                               method="linear").labels,
            }
            rep = repeat if n < 10**6 else repeat_large
            log(f"dp weighted: n={n}, K={K}, repeat={rep}")
            timings, res = measure(methods, rep)
            obj = {name: sse(w, lab, K, h) for name, lab in res.items()}
            case = {
                "n": n,
                "K": K,
                "timings": timings,
                "objective": obj,
                "rel_diff_objective_vs_ours": {"ckwrap": abs(obj["ckwrap"] - obj["infocompress"])
                                               / obj["infocompress"]},
                **ratios_over_peers(timings, methods),
            }
            cases_weighted.append(case)
            log(f"  cpu ratio ours/ckwrap = {case['ratio_cpu_ours_over']['ckwrap']:.3f}, "
                f"rel. objective diff = {case['rel_diff_objective_vs_ours']['ckwrap']:.1e}")
    payload = {
        "benchmark": "kmeans1d_exact",
        "description": "optimal_kmeans_1d (numba SMAWK kernel; numpy fallback) vs kmeans1d "
                       "and ckwrap, same data; unweighted (cases) and weighted "
                       "(cases_weighted, vs ckwrap with weights)",
        "data": f"w ~ N(0, 1) (distinct values), h ~ Exp(1) in cases_weighted, seed {seed}",
        "compile": comp,
        "machine": machine_info(),
        "cases": cases,
        "cases_weighted": cases_weighted,
    }
    write_json("kmeans1d_exact", payload)
    return payload


if __name__ == "__main__":  # python -m benchmarks.<this module> [--quick]
    import sys as _sys

    from benchmarks import _common

    if "--quick" in _sys.argv[1:]:
        import tempfile as _tempfile
        from pathlib import Path as _Path

        _common.RESULTS = _Path(_tempfile.gettempdir()) / "infocompress-bench-quick"
    run(quick="--quick" in _sys.argv[1:])
