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

The experiment (compressions, settings, claims) is read from the chapter: the script executes
the notebook's first three code cells (imports, the ensemble, the settings), so pilot and
chapter cannot drift apart. The per-network results are cached like the chapter's.

Usage, from the repository root (464 s on two cores shared with other jobs, from a cold cache;
seconds when the per-network results are cached)::

    python -m benchmarks.lc_power_pilot [--pilot-networks 4] [--chapter-networks 6]

Writes ``benchmarks/results/lc_power_pilot.json``.
"""

from __future__ import annotations

import argparse
import os
import time

import nbformat
import numpy as np

from benchmarks._common import ROOT, log, machine_info, write_json

NOTEBOOK = ROOT / "notebooks" / "lc_neural_net.ipynb"
PILOT_SEED = 987_654_321  # not the chapter's seed, not derived from it


def chapter_namespace() -> dict:
    """Run the chapter's setup cells (imports, ensemble, settings) and return their names."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    setup = next(i for i, c in enumerate(code) if "LC_SETTINGS =" in c)
    ns: dict = {}
    cwd = os.getcwd()
    os.chdir(NOTEBOOK.parent)
    try:
        exec(compile("\n\n".join(code[:setup + 1]), str(NOTEBOOK), "exec"), ns)  # noqa: S102
    finally:
        os.chdir(cwd)
    return ns


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pilot-networks", type=int, default=4)
    parser.add_argument("--chapter-networks", type=int, default=None,
                        help="default: the chapter's N_NETWORKS")
    args = parser.parse_args(argv)
    os.environ.setdefault("INFOCOMPRESS_QUIET", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    ns = chapter_namespace()
    lc, ens = ns["lc"], ns["ens"]
    n_chapter = args.chapter_networks or ns["N_NETWORKS"]
    networks = list(range(ens.n_models - args.pilot_networks, ens.n_models))
    assert not set(networks) & set(range(n_chapter)), "pilot and chapter networks overlap"
    t0 = time.perf_counter()
    res = lc.compare_methods_cached(ens, networks, ns["TASKS"], rng=PILOT_SEED, n_jobs=-1,
                                    **ns["LC_SETTINGS"])
    log(f"lc pilot: {len(networks)} networks in {time.perf_counter() - t0:.0f} s")
    rows = {}
    for name, (a, b, q, sign) in ns["CLAIMS"].items():
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
