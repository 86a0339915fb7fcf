"""Benchmark 3: batched Monte-Carlo k-means (the workload of Figure 2).

``drhw_kmeans_batch`` quantizes T = 10,000 weight vectors of length d = 50 for every
K = 1..16 in one call per K. The peer is what one would write without it: a Python loop
of scikit-learn ``KMeans`` fits, one per trial and K, from the same initial centres (our
linear initialisation as the ``init`` array, ``n_init=1``, Lloyd, ``tol=0`` on both sides,
``max_iter=100``). The loop is timed on the first ``subset`` trials (500 by default) and
extrapolated linearly to 10,000 (fits are independent and of equal size, so the cost is
linear in the number of trials); ours is timed both on the same subset and on all
10,000 trials. The loop runs scikit-learn with one OpenMP thread (``threadpoolctl``):
threads cannot help a fit of 50 points, and on a loaded machine idle OpenMP threads spin
and inflate the CPU time (we saw the loop's CPU time vary threefold with two threads).

Per trial, the objectives are compared: at a fixed point our returned objective is the
inertia of our final centres, which scikit-learn reports; the share of trials agreeing to
1e-9 is recorded. Disagreements come from empty clusters: when an
assignment step leaves a cluster empty, scikit-learn moves its centre to a far point while
we keep it (Algorithm 1), and the trajectories part. The trials in which some assignment
step of our run left a cluster empty are counted (by replaying the batch with
``max_iter = 1, 2, ...``), so that every disagreement can be checked against them.
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


def run(*, trials=10_000, d=50, Ks=tuple(range(1, 17)), subset=500, repeat=3, seed=20240613,
        quick=False) -> dict:
    import warnings

    from sklearn.cluster import KMeans
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    from infocompress.quantize import _linear_init, drhw_kmeans_batch

    if quick:
        trials, subset, Ks, repeat = 1000, 50, (1, 4, 16), 1
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((trials, d))
    inits = {K: _linear_init(W[:, :, None], K)[:, :, 0] for K in Ks}

    def ours_all():
        return {K: drhw_kmeans_batch(W, None, K, init=inits[K], tol=0.0) for K in Ks}

    def ours_subset():
        return {K: drhw_kmeans_batch(W[:subset], None, K, init=inits[K][:subset], tol=0.0)
                for K in Ks}

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

    log(f"batch: ours on {trials} trials x K in {Ks[0]}..{Ks[-1]}, repeat={repeat}")
    t_all, r_all = measure({"infocompress_all": ours_all}, repeat)
    log(f"batch: ours vs sklearn loop on {subset} trials (twice)")
    t_sub, r_sub = measure({"infocompress_subset": ours_subset, "sklearn_loop_subset":
                            sklearn_subset}, 2)
    t_sub_ours, _ = measure({"infocompress_subset": ours_subset}, repeat)
    ours_res, sk_res = r_all["infocompress_all"], r_sub["sklearn_loop_subset"]
    agree, explained, per_k = 0, 0, {}
    for K in Ks:
        ob = np.asarray(ours_res[K].objective)[:subset]
        sk = sk_res[K][0]
        rel = np.abs(ob - sk) / np.maximum(np.abs(sk), 1e-300)
        ok = (rel <= 1e-9) | ((ob == 0) & (sk == 0))
        ever = _ever_empty(W[:subset], inits[K][:subset], K,
                           np.asarray(ours_res[K].n_iter)[:subset], drhw_kmeans_batch)
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
    scale = trials / subset
    sk_cpu = t_sub["sklearn_loop_subset"]["cpu_s"]["median"]
    sk_wall = t_sub["sklearn_loop_subset"]["wall_s"]["median"]
    payload = {
        "benchmark": "kmeans_batch",
        "description": "drhw_kmeans_batch on (trials, d) weights for K = 1..16 vs a Python loop "
                       "of sklearn KMeans fits (same init, lloyd, tol=0, max_iter=100)",
        "data": f"W ~ N(0, 1) of shape ({trials}, {d}), seed {seed}",
        "trials": trials,
        "d": d,
        "Ks": list(Ks),
        "subset": subset,
        "timings_all": t_all,
        "timings_subset_interleaved": t_sub,
        "timings_subset_ours_repeated": t_sub_ours,
        "sklearn_extrapolated_cpu_s": sk_cpu * scale,
        "sklearn_extrapolated_wall_s": sk_wall * scale,
        "speedup_cpu_vs_extrapolated_sklearn":
            sk_cpu * scale / t_all["infocompress_all"]["cpu_s"]["median"],
        "speedup_wall_vs_extrapolated_sklearn":
            sk_wall * scale / t_all["infocompress_all"]["wall_s"]["median"],
        "speedup_cpu_same_subset":
            sk_cpu / t_sub_ours["infocompress_subset"]["cpu_s"]["median"],
        "objective_agreement": {
            "trials_compared": subset * len(Ks),
            "agree_1e-9": agree,
            "disagree_with_empty_cluster_ours": explained,
            "per_K": per_k,
        },
        "machine": machine_info(),
    }
    write_json("kmeans_batch", payload)
    log(f"  speed-up (cpu, extrapolated) = {payload['speedup_cpu_vs_extrapolated_sklearn']:.0f}x; "
        f"agree {agree}/{subset * len(Ks)}")
    return payload
