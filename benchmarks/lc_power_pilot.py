"""Power pilot for the checks of the chapter "The LC algorithm on the MNIST networks".

The chapter compares LC, direct compression (DC) and DC + retraining on a few networks of the
practice part's MLP ensemble (each network costs about a minute of both cores), and asserts a
claim's pooled effect (the average over its four compressions) as significant at 5 SE only
when the pilot predicts it with room to spare. This script runs the same experiment on the
*last* ``--pilot-networks`` networks of the ensemble (disjoint from the chapter's, which uses
the first ones) with its own seed, and records for every claim its pooled effect, SE and z
there, and the expected z with the chapter's number of networks,
``z_pilot * sqrt(n_chapter / n_pilot)`` (the z of a mean grows like the square root of the
number of networks). The chapter asserts significance for the claims with an expected z of at
least 10 in the claimed direction (``tests/test_lc_pilot.py``).

The experiment (compressions, settings, claims, number of networks) comes from the library
module the chapter imports it from, :mod:`infocompress.lc.mnist_experiment`, so pilot and
chapter cannot drift apart; the ensemble is the chapter's (the MLP ensemble loaded with the
seed of the chapter's first cell). The per-network results are cached like the chapter's.

Usage, from the repository root (464 s on two cores shared with other jobs, from a cold cache;
seconds when the per-network results are cached)::

    python -m benchmarks.lc_power_pilot [--pilot-networks 4] [--chapter-networks 6]

Writes ``benchmarks/results/lc_power_pilot.json``.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from benchmarks._common import log, machine_info, write_json

PILOT_SEED = 987_654_321  # not the chapter's seed, not derived from it
#: The seed of the chapter's generator (its first cell), from which it loads the ensemble.
CHAPTER_SEED = 20210813


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pilot-networks", type=int, default=4)
    parser.add_argument("--chapter-networks", type=int, default=None,
                        help="default: the chapter's N_NETWORKS")
    args = parser.parse_args(argv)
    os.environ.setdefault("INFOCOMPRESS_QUIET", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    from infocompress import ensembles, lc
    from infocompress.lc import mnist_experiment as experiment

    ens = ensembles.load_ensemble(ensembles.AUTHORS_MLP,
                                  rng=np.random.default_rng(CHAPTER_SEED))
    n_chapter = args.chapter_networks or experiment.N_NETWORKS
    networks = list(range(ens.n_models - args.pilot_networks, ens.n_models))
    assert not set(networks) & set(range(n_chapter)), "pilot and chapter networks overlap"
    t0 = time.perf_counter()
    res = lc.compare_methods_cached(ens, networks, experiment.tasks(ens.models[0]),
                                    rng=PILOT_SEED, n_jobs=-1, **experiment.lc_settings())
    log(f"lc pilot: {len(networks)} networks in {time.perf_counter() - t0:.0f} s")
    rows = {}
    for name, (a, b, q, sign) in experiment.CLAIMS.items():
        e = lc.pooled_change(res, a, b, q)
        rows[name] = {"a": a, "b": b, "quantity": q, "sign": sign, "mean": e["mean"],
                      "se": e["se"], "z": e["z"],
                      "expected_z": e["z"] * np.sqrt(n_chapter / len(networks))}
    write_json("lc_power_pilot", {
        "description": __doc__.splitlines()[0], "pilot_networks": networks,
        "chapter_networks": n_chapter, "pilot_seed": PILOT_SEED,
        "seconds_this_run": time.perf_counter() - t0,  # small when the results were cached
        "machine": machine_info(), "claims": rows})


if __name__ == "__main__":
    main()
