"""Benchmark 3: batched Monte-Carlo quantizers (the workload of Figure 2).

The Figure 2 chapter quantizes T = 10,000 weight vectors of length d = 50 for every
K = 1..16 with three quantizers, each in one batched call per K:

* ``lloyd``: scalar Lloyd k-means, ``drhw_kmeans_batch(W, None, K)``;
* ``optimal``: the exact 1-D optimum, ``optimal_kmeans_1d_batch(W, K)``;
* ``vector``: k-means on pairs of consecutive weights, ``drhw_kmeans_batch(W, None, K,
  block=2)`` (Algorithm 1 with blocks).

Each is timed on all 10,000 trials and compared with what one would run without it, a
Python loop over trials, timed on the first ``subset`` trials (500 by default), interleaved
with the batched call on the same trials, and extrapolated linearly to 10,000 (the problems
are independent and of equal size):

* ``lloyd``: a loop of scikit-learn ``KMeans`` fits from the same initial centres (our
  linear initialisation as the ``init`` array, ``n_init=1``, Lloyd, ``tol=0`` on both sides,
  ``max_iter=100``), with one OpenMP thread (``threadpoolctl``): threads cannot help a fit
  of 50 points, and on a loaded machine idle OpenMP threads spin and inflate the CPU time.
  The numpy engine of ``drhw_kmeans_batch`` (the one used before, and without numba) is also
  timed on all trials;
* ``optimal``: a loop of ``optimal_kmeans_1d`` (what the Figure 2 pipeline did before);
* ``vector``: a loop of ``drhw_kmeans(w, block=2)`` on the numpy engine (the same).

Agreement. Lloyd, per trial: at a fixed point our returned objective is the inertia of our
final centres, which scikit-learn reports; the share of trials agreeing to 1e-9 is recorded.
Disagreements come from empty clusters: when an assignment step leaves a cluster empty,
scikit-learn moves its centre to a far point while we keep it (Algorithm 1), and the
trajectories part. The trials in which some assignment step of our run left a cluster empty
are counted (by replaying the batch with ``max_iter = 1, 2, ...``), so that every
disagreement can be checked against them. The compiled and numpy engines are compared on all
trials (labels and objectives). The exact optimum of the batch and of the loop must agree
exactly (bit for bit, by construction); the vector quantizer's compiled kernel and the numpy
loop must give the same labels and objectives to rounding.
"""

from __future__ import annotations

import numpy as np

from benchmarks._common import log, machine_info, measure, write_json


def _ever_empty(W, C0, K, n_iter, batch_fn):
    """Trials in which some assignment step of our run left a cluster empty.

    Rows are deterministic, so the labels returned with ``max_iter=t`` are those of
    assignment step t of the full run; steps up to each trial's own ``n_iter`` count.
    """
    ever = np.zeros(W.shape[0], dtype=bool)
    for t in range(1, int(n_iter.max()) + 1):
        lab = batch_fn(W, None, K, init=C0, tol=0.0, max_iter=t).labels
        used = np.zeros((W.shape[0], K), dtype=bool)
        used[np.arange(W.shape[0])[:, None], lab] = True
        ever |= (t <= n_iter) & ~used.all(axis=1)
    return ever


def _rel(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.abs(b), 1e-300)


def _speedups(t_all, t_sub, ours_all, ours_sub, loop, scale):
    """Extrapolated and same-subset speed-ups (CPU and wall) of ours over the loop."""
    out = {}
    for clock in ("cpu_s", "wall_s"):
        lp = t_sub[loop][clock]["median"]
        out[f"loop_extrapolated_{clock}"] = lp * scale
        out[f"speedup_{clock[:-2]}_vs_extrapolated_loop"] = lp * scale / \
            t_all[ours_all][clock]["median"]
        out[f"speedup_{clock[:-2]}_same_subset"] = lp / t_sub[ours_sub][clock]["median"]
    return out


def run(*, trials=10_000, d=50, Ks=tuple(range(1, 17)), subset=500, repeat=3, seed=20240613,
        quick=False) -> dict:
    import warnings

    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from infocompress import kmeans
    from infocompress.quantize import (
        _linear_init,
        drhw_kmeans,
        drhw_kmeans_batch,
        optimal_kmeans_1d,
        optimal_kmeans_1d_batch,
    )

    if quick:
        trials, subset, Ks, repeat = 1000, 50, (1, 4, 16), 1
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((trials, d))
    Ws = W[:subset]
    inits = {K: _linear_init(W[:, :, None], K)[:, :, 0] for K in Ks}
    # compile (or load) the kernels outside the timings
    drhw_kmeans_batch(W[:2], None, 2)
    drhw_kmeans_batch(W[:2], None, 2, block=2)
    optimal_kmeans_1d_batch(W[:2], 2)
    scale = trials / subset

    def numpy_engine(fn):
        def run_numpy():
            kmeans._USE_NUMBA = False
            try:
                return fn()
            finally:
                kmeans._USE_NUMBA = True
        return run_numpy

    # ---------------------------------------------------------------- Lloyd, scalar
    def lloyd_all():
        return {K: drhw_kmeans_batch(W, None, K, init=inits[K], tol=0.0) for K in Ks}

    def lloyd_subset():
        return {K: drhw_kmeans_batch(Ws, None, K, init=inits[K][:subset], tol=0.0) for K in Ks}

    def sklearn_subset():
        out = {}
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            for K in Ks:
                inertia = np.empty(subset)
                n_iter = np.empty(subset, dtype=np.int64)
                for t in range(subset):
                    km = KMeans(n_clusters=K, init=inits[K][t][:, None], n_init=1, max_iter=100,
                                tol=0.0, algorithm="lloyd").fit(W[t][:, None])
                    inertia[t], n_iter[t] = km.inertia_, km.n_iter_
                out[K] = (inertia, n_iter)
        return out

    log(f"batch lloyd: {trials} trials x K in {Ks[0]}..{Ks[-1]}, compiled and numpy engines")
    t_all, r_all = measure({"infocompress_all": lloyd_all,
                            "infocompress_numpy_all": numpy_engine(lloyd_all)}, repeat)
    log(f"batch lloyd: ours vs sklearn loop on {subset} trials")
    t_sub, r_sub = measure({"infocompress_subset": lloyd_subset,
                            "sklearn_loop_subset": sklearn_subset}, 2)
    ours_res, np_res, sk_res = (r_all["infocompress_all"], r_all["infocompress_numpy_all"],
                                r_sub["sklearn_loop_subset"])
    agree, explained, per_k = 0, 0, {}
    engines = {"labels_equal": 0, "max_rel_diff_objective": 0.0}
    for K in Ks:
        ob = np.asarray(ours_res[K].objective)
        engines["labels_equal"] += int(np.sum(np.all(ours_res[K].labels == np_res[K].labels,
                                                     axis=1)))
        engines["max_rel_diff_objective"] = max(engines["max_rel_diff_objective"],
                                                float(_rel(ob, np_res[K].objective).max()))
        ob = ob[:subset]
        sk = sk_res[K][0]
        rel = _rel(ob, sk)
        ok = (rel <= 1e-9) | ((ob == 0) & (sk == 0))
        ever = _ever_empty(Ws, inits[K][:subset], K, np.asarray(ours_res[K].n_iter)[:subset],
                           drhw_kmeans_batch)
        agree += int(ok.sum())
        explained += int(np.sum(~ok & ever))
        per_k[str(K)] = {
            "agree_1e-9": int(ok.sum()),
            "trials_with_empty_cluster_ours": int(ever.sum()),
            "disagree_with_empty_cluster_ours": int(np.sum(~ok & ever)),
            "max_rel_diff_when_no_empty_cluster": float(rel[~ever].max(initial=0.0)),
            "mean_ours_over_sklearn_minus_1_when_disagree":
                float(np.mean(ob[~ok] / sk[~ok] - 1)) if np.any(~ok) else None,
            "mean_n_iter_ours": float(np.mean(ours_res[K].n_iter[:subset])),
            "mean_n_iter_sklearn": float(np.mean(sk_res[K][1])),
        }
    engines["trial_K_pairs"] = trials * len(Ks)
    lloyd = {
        "timings_all": t_all,
        "timings_subset_interleaved": t_sub,
        **_speedups(t_all, t_sub, "infocompress_all", "infocompress_subset",
                    "sklearn_loop_subset", scale),
        "speedup_cpu_vs_numpy_engine": t_all["infocompress_numpy_all"]["cpu_s"]["median"]
        / t_all["infocompress_all"]["cpu_s"]["median"],
        "compiled_vs_numpy_engine": engines,
        "objective_agreement_sklearn": {
            "trials_compared": subset * len(Ks),
            "agree_1e-9": agree,
            "disagree_with_empty_cluster_ours": explained,
            "per_K": per_k,
        },
    }
    log(f"  lloyd: {t_all['infocompress_all']['cpu_s']['median']:.2f} s CPU, speed-up vs "
        f"sklearn loop {lloyd['speedup_cpu_vs_extrapolated_loop']:.0f}x")

    # ---------------------------------------------------------------- exact optimum
    def optimal_all():
        return {K: optimal_kmeans_1d_batch(W, K) for K in Ks}

    def optimal_subset():
        return {K: optimal_kmeans_1d_batch(Ws, K) for K in Ks}

    def optimal_loop():
        return {K: np.array([optimal_kmeans_1d(w, K).objective for w in Ws]) for K in Ks}

    log("batch optimal: all trials, then batch vs loop on the subset")
    to_all, ro_all = measure({"infocompress_all": optimal_all}, repeat)
    to_sub, ro_sub = measure({"infocompress_subset": optimal_subset, "loop_subset": optimal_loop},
                             2)
    same = all(np.array_equal(ro_all["infocompress_all"][K].objective[:subset],
                              ro_sub["loop_subset"][K]) for K in Ks)
    optimal = {
        "timings_all": to_all,
        "timings_subset_interleaved": to_sub,
        **_speedups(to_all, to_sub, "infocompress_all", "infocompress_subset", "loop_subset",
                    scale),
        "objective_equal_to_loop_bit_for_bit": bool(same),
        "never_worse_than_lloyd": bool(all(np.all(
            ro_all["infocompress_all"][K].objective
            <= np.asarray(ours_res[K].objective) * (1 + 1e-12)) for K in Ks)),
    }
    log(f"  optimal: {to_all['infocompress_all']['cpu_s']['median']:.2f} s CPU, speed-up vs "
        f"loop {optimal['speedup_cpu_vs_extrapolated_loop']:.0f}x, identical: {same}")

    # ---------------------------------------------------------------- vector, pairs
    Kv = tuple(K for K in Ks if K <= d // 2)

    def vector_all():
        return {K: drhw_kmeans_batch(W, None, K, block=2) for K in Kv}

    def vector_subset():
        return {K: drhw_kmeans_batch(Ws, None, K, block=2) for K in Kv}

    def vector_loop():
        return {K: [drhw_kmeans(w, None, K, block=2) for w in Ws] for K in Kv}

    log("batch vector (m = 2): all trials, then batch vs numpy loop on the subset")
    tv_all, rv_all = measure({"infocompress_all": vector_all}, repeat)
    tv_sub, rv_sub = measure({"infocompress_subset": vector_subset,
                              "loop_numpy_subset": numpy_engine(vector_loop)}, 2)
    lab_eq, max_rel = 0, 0.0
    for K in Kv:
        b, loop = rv_sub["infocompress_subset"][K], rv_sub["loop_numpy_subset"][K]
        lab_eq += sum(int(np.array_equal(b.labels[t], r.labels)) for t, r in enumerate(loop))
        max_rel = max(max_rel, float(_rel(b.objective, [r.objective for r in loop]).max()))
    vector = {
        "block": 2,
        "Ks": list(Kv),
        "timings_all": tv_all,
        "timings_subset_interleaved": tv_sub,
        **_speedups(tv_all, tv_sub, "infocompress_all", "infocompress_subset",
                    "loop_numpy_subset", scale),
        "labels_equal_to_numpy_loop": lab_eq,
        "trial_K_pairs_compared": subset * len(Kv),
        "max_rel_diff_objective_vs_numpy_loop": max_rel,
    }
    log(f"  vector: {tv_all['infocompress_all']['cpu_s']['median']:.2f} s CPU, speed-up vs "
        f"loop {vector['speedup_cpu_vs_extrapolated_loop']:.0f}x")

    payload = {
        "benchmark": "kmeans_batch",
        "description": "batched quantizers on (trials, d) weights for K = 1..16, as in the "
                       "Figure 2 chapter: drhw_kmeans_batch (scalar Lloyd; block=2) and "
                       "optimal_kmeans_1d_batch, vs Python loops over trials (sklearn KMeans fits, "
                       "optimal_kmeans_1d, drhw_kmeans(block=2) on the numpy engine)",
        "data": f"W ~ N(0, 1) of shape ({trials}, {d}), seed {seed}",
        "trials": trials,
        "d": d,
        "Ks": list(Ks),
        "subset": subset,
        "quantizers": {"lloyd": lloyd, "optimal": optimal, "vector": vector},
        "machine": machine_info(),
    }
    write_json("kmeans_batch", payload)
    return payload


if __name__ == "__main__":  # python -m benchmarks.<this module> [--quick]
    import sys as _sys

    from benchmarks import _common

    if "--quick" in _sys.argv[1:]:
        import tempfile as _tempfile
        from pathlib import Path as _Path

        _common.RESULTS = _Path(_tempfile.gettempdir()) / "infocompress-bench-quick"
    run(quick="--quick" in _sys.argv[1:])
