"""Benchmark 4: the KSG estimator, ``ksg`` against scikit-learn and ennemi (1-D x and y).

Methods, all with k = 3 neighbours on the same arrays:

* ``infocompress``: :func:`infocompress.mi.ksg` (no jitter);
* ``sklearn_core``: ``sklearn.feature_selection._mutual_info._compute_mi_cc``, the private
  function behind ``mutual_info_regression`` that implements KSG estimator 1 without the
  public function's preprocessing;
* ``sklearn_public``: ``mutual_info_regression(x[:, None], y, n_neighbors=3,
  random_state=0)``, which first scales x and y to unit variance (no centring) and adds
  Gaussian noise of standard deviation 1e-10 * max(1, mean |value|); it cannot be turned
  off, so we replay exactly that preprocessing (same RandomState draws, x's noise first)
  and give the result to ``ksg`` as well (``infocompress_on_sklearn_input``);
* ``ennemi``: ``ennemi.estimate_mi(y, x, k=3, preprocess=False)`` (no standardising and
  no noise).

When the estimates coincide. sklearn's core and ours compute the same quantities: the
max-norm distance to the k-th nearest other sample, marginal counts with strict
inequality (both count "<= the next float below the distance"), and
psi(n) + psi(k) - mean(psi(n_x + 1) + psi(n_y + 1)); they coincide to rounding on data
without repeated points (duplicates are handled differently) as long as the estimate is
non-negative (scikit-learn clips it at 0). ennemi differs in two ways: its strict count
uses the radius ``eps - 1e-12`` (an absolute margin, not the next float), which changes a
count only if a marginal distance lies within 1e-12 below ``eps``; and it replaces the
digamma function by a truncated asymptotic series whose error is about 1/(240 m^8) at
integer argument m (1.6e-5 at m = 2), so its estimate differs from exact KSG by about
1e-7 nats. Evaluating ennemi's own series on our counts reproduces ennemi's output to
rounding, which shows that the counts are identical; that check is recorded.
"""

from __future__ import annotations

import numpy as np

from benchmarks._common import log, machine_info, measure, ratios_over_peers, write_json


def _sklearn_preprocess(x, y, random_state):
    """The scaling and noise of ``mutual_info_regression`` for one continuous feature."""
    from sklearn.preprocessing import scale

    rs = np.random.RandomState(random_state)
    X = scale(x.reshape(-1, 1).astype(np.float64), with_mean=False)
    X += 1e-10 * np.maximum(1, np.mean(np.abs(X), axis=0)) * rs.standard_normal(size=X.shape)
    yy = scale(y.astype(np.float64), with_mean=False)
    yy += 1e-10 * np.maximum(1, np.mean(np.abs(yy))) * rs.standard_normal(size=yy.shape[0])
    return X[:, 0], yy


def run(*, ns=(10**3, 10**4, 10**5), k=3, repeat=5, seed=20240614, quick=False) -> dict:
    from ennemi import estimate_mi
    from ennemi._entropy_estimators import _psi
    from sklearn.feature_selection import mutual_info_regression
    from sklearn.feature_selection._mutual_info import _compute_mi_cc

    from infocompress import mi

    if quick:
        ns, repeat = (10**3, 10**4), 2
    rng = np.random.default_rng(seed)
    cases = []
    for n in ns:
        x = rng.standard_normal(n)
        y = 0.6 * x + 0.8 * rng.standard_normal(n)
        assert np.unique(x).size == n and np.unique(y).size == n
        xs, ys = _sklearn_preprocess(x, y, 0)
        methods = {
            "infocompress": lambda x=x, y=y: mi.ksg(x, y, k=k),
            "sklearn_core": lambda x=x, y=y: float(_compute_mi_cc(x, y, k)),
            "sklearn_public": lambda x=x, y=y: float(
                mutual_info_regression(x[:, None], y, n_neighbors=k, random_state=0)[0]),
            "ennemi": lambda x=x, y=y: float(np.asarray(
                estimate_mi(y, x, k=k, preprocess=False)).ravel()[0]),
        }
        log(f"ksg: n={n}, repeat={repeat}")
        timings, est = measure(methods, repeat)
        ours_on_sk = mi.ksg(xs, ys, k=k)
        _, nx, ny, _ = mi._neighbour_counts(x[:, None], y[:, None], k, strict=True)
        ennemi_series_on_our_counts = float(_psi(n) + _psi(k) - np.mean(_psi(nx + 1)
                                                                        + _psi(ny + 1)))
        ref = est["infocompress"]
        case = {
            "n": n,
            "k": k,
            "timings": timings,
            "estimates": est,
            "infocompress_on_sklearn_input": ours_on_sk,
            "ennemi_series_on_our_counts": ennemi_series_on_our_counts,
            "abs_diff": {
                "sklearn_core_vs_ours": abs(est["sklearn_core"] - ref),
                "sklearn_public_vs_ours_on_same_input": abs(est["sklearn_public"] - ours_on_sk),
                "ennemi_vs_ours": abs(est["ennemi"] - ref),
                "ennemi_vs_its_series_on_our_counts":
                    abs(est["ennemi"] - ennemi_series_on_our_counts),
            },
            **ratios_over_peers(timings, methods),
        }
        cases.append(case)
        log("  cpu ratio ours/peer: " + ", ".join(
            f"{a}={b:.3f}" for a, b in case["ratio_cpu_ours_over"].items())
            + "; |diff|: " + ", ".join(f"{a}={b:.1e}" for a, b in case["abs_diff"].items()))
    payload = {
        "benchmark": "ksg",
        "description": "infocompress.mi.ksg vs sklearn (core and public) and ennemi, 1-D, k=3",
        "data": f"x ~ N(0, 1), y = 0.6 x + 0.8 N(0, 1) (I = 0.2231 nats), seed {seed}",
        "machine": machine_info(),
        "cases": cases,
    }
    write_json("ksg", payload)
    return payload
