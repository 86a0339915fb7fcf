"""Benchmark 1: scalar Lloyd k-means, ``drhw_kmeans`` against scikit-learn ``KMeans``.

Both start from the same centres (our linear initialisation, passed to scikit-learn as
its ``init`` array with ``n_init=1``), use Lloyd's algorithm in float64 and run under the
same stopping rule:

* ``fixed_100``: ``max_iter=100`` and ``tol=0`` on both sides, i.e. exactly 100
  (assignment, update) iterations unless the labels stop changing before;
* ``to_convergence``: ``tol=0`` and a large ``max_iter``, so both stop at the first
  iteration whose assignment leaves the labels unchanged (scikit-learn's "strict
  convergence"; our ``stop_reason == "fixed_point"``);
* ``weighted_100``: as ``fixed_100`` with Hessian weights ``h`` (our HW k-means) against
  scikit-learn's ``sample_weight``.

What differs. scikit-learn's ``tol > 0`` is a bound on the squared shift of the centres
relative to the data variance, ours a bound on the relative change of the objective; with
``tol=0`` both reduce to "stop when nothing changes". After its last update scikit-learn
runs one more assignment step and reports the inertia of the final centres with those
labels; ``drhw_kmeans`` returns the labels of its last assignment (made with the previous
centres, as Algorithm 1 does) and the objective at (new centres, those labels). The
comparison therefore also evaluates our final centres with a fresh nearest-centre
assignment (outside the timing) -- the quantity scikit-learn calls inertia -- and the
largest difference between the two sets of centres. scikit-learn moves empty clusters to
far points, we keep their centre (no cluster empties in these runs; the count is
recorded). scikit-learn runs its loop on OpenMP threads (both cores here; CPU time adds
them up, including the time idle threads spin on a loaded machine), so it is timed twice:
with its default threads (``sklearn``) and limited to one thread (``sklearn_1thread``),
which is the like-for-like comparison with our single-threaded code.
"""

from __future__ import annotations

import numpy as np

from benchmarks._common import log, machine_info, measure, ratio, write_json


def _final_inertia(w, h, centers):
    """Objective of the centres with a fresh nearest-centre assignment."""
    c = np.sort(np.asarray(centers, dtype=float))
    mid = 0.5 * (c[1:] + c[:-1])
    lab = np.searchsorted(mid, w, side="left")
    return float(np.sum(h * (w - c[lab]) ** 2))


def run(*, n=10**6, K=16, repeat=3, seed=20240611, quick=False) -> dict:
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    from infocompress.quantize import _linear_init, drhw_kmeans

    if quick:
        n, repeat = 10**5, 2
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n)
    h = rng.exponential(size=n)
    c0 = _linear_init(w[None, :, None], K)[0, :, 0]
    configs = {
        "fixed_100": {"max_iter": 100, "weighted": False},
        "to_convergence": {"max_iter": 5000, "weighted": False},
        "weighted_100": {"max_iter": 100, "weighted": True},
    }
    cases = {}
    for cname, cfg in configs.items():
        max_iter, weighted = cfg["max_iter"], cfg["weighted"]
        hh = h if weighted else None
        sw = h if weighted else None
        log(f"kmeans {cname}: n={n}, K={K}, repeat={repeat}")

        def ours(hh=hh, max_iter=max_iter):
            return drhw_kmeans(w, hh, K, init=c0, max_iter=max_iter, tol=0.0)

        def sk(sw=sw, max_iter=max_iter):
            km = KMeans(n_clusters=K, init=c0[:, None], n_init=1, max_iter=max_iter, tol=0.0,
                        algorithm="lloyd", random_state=0)
            return km.fit(w[:, None], sample_weight=sw)

        def sk1(sk=sk):
            with threadpool_limits(limits=1, user_api="openmp"):
                return sk()

        timings, res = measure({"infocompress": ours, "sklearn": sk, "sklearn_1thread": sk1},
                               repeat)
        r, km = res["infocompress"], res["sklearn"]
        hv = h if weighted else np.ones(n)
        ours_final = _final_inertia(w, hv, r.centers)
        sk_c = np.sort(km.cluster_centers_[:, 0])
        cases[cname] = {
            "n": n,
            "K": K,
            "max_iter": max_iter,
            "tol": 0.0,
            "weighted": weighted,
            "timings": timings,
            "ratio_cpu_ours_over_sklearn": ratio(timings, "infocompress", "sklearn"),
            "ratio_wall_ours_over_sklearn": ratio(timings, "infocompress", "sklearn", "wall_s"),
            "ratio_cpu_ours_over_sklearn_1thread":
                ratio(timings, "infocompress", "sklearn_1thread"),
            "ratio_wall_ours_over_sklearn_1thread":
                ratio(timings, "infocompress", "sklearn_1thread", "wall_s"),
            "n_iter": {"infocompress": int(r.n_iter), "sklearn": int(km.n_iter_)},
            "stop_reason_ours": r.stop_reason,
            "objective_ours_returned": float(r.objective),
            "objective_ours_final_assignment": ours_final,
            "inertia_sklearn": float(km.inertia_),
            "rel_diff_objective": abs(ours_final - km.inertia_) / km.inertia_,
            "max_abs_diff_centers": float(np.max(np.abs(np.sort(r.centers) - sk_c))),
            "empty_clusters_ours": int(K - np.unique(r.labels).size),
        }
        log(f"  cpu ratio ours/sklearn = {cases[cname]['ratio_cpu_ours_over_sklearn']:.3f}, "
            f"rel. objective diff = {cases[cname]['rel_diff_objective']:.2e}")
    payload = {
        "benchmark": "kmeans_scalar",
        "description": "drhw_kmeans (h=None or h, beta=0, block=1) vs sklearn.cluster.KMeans "
                       "(lloyd, same init array, n_init=1, tol=0)",
        "data": f"w ~ N(0, 1), n = {n}; weights h ~ Exp(1) in weighted_100; seed {seed}",
        "machine": machine_info(),
        "cases": cases,
    }
    write_json("kmeans_scalar", payload)
    return payload
