"""Power pilot for the checks of the chapter "LC on a neural network".

The chapter compares LC, direct compression (DC) and DC + retraining on digit MLPs over a few
seeds, and asserts a comparison only when it is significant at 5 standard errors. With few
seeds the standard error is itself noisy, so a comparison whose expected z is near 5 passes
for some seeds and fails for others (the statistical audit found exactly that). This script
measures, on 30 seeds independent of the chapter's and of the audit's, every comparison the
chapter prints: its mean and standard deviation over seeds and, for ``n_seeds`` seeds, the
expected z and the probability that |z| > 5 (by resampling the 30 seeds). The chapter asserts
only the comparisons whose probability is at least 0.995 at its number of seeds.

The experiment itself (``run_seed``) is taken from the chapter: the script executes the
notebook's first two code cells, up to the seed loop, so pilot and chapter cannot drift
apart. Losses are compared on the log scale (log-ratio of cross-entropies), generalization
gaps as differences.

Usage, from the repository root (about 12 minutes on one core)::

    python -m benchmarks.lc_power_pilot [--seeds 30] [--n-seeds 10]

Writes ``benchmarks/results/lc_power_pilot.json``.
"""

from __future__ import annotations

import argparse
import os

import nbformat
import numpy as np

from benchmarks._common import ROOT, log, machine_info, write_json

NOTEBOOK = ROOT / "notebooks" / "lc_neural_net.ipynb"
PILOT_SEED = 987_654_321  # not the chapter's seed, not derived from it


def chapter_namespace() -> dict:
    """Run the chapter's setup cells (imports, constants, ``run_seed``) and return them."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    setup = code[1].split("seed_rngs = rng.spawn")[0]
    ns: dict = {}
    exec(compile(code[0] + "\n\n" + setup, str(NOTEBOOK), "exec"), ns)  # noqa: S102
    return ns


def comparisons(results: list[dict]) -> dict[str, np.ndarray]:
    """Per-seed values of every comparison the chapter prints, keyed by a readable name."""
    comps = [c for c in results[0] if c != "reference"]

    def loss(c, m, key):
        if c == "reference":
            return np.array([r["reference"][key] for r in results])
        return np.array([r[c][m][key] for r in results])

    def gap(c, m):
        return loss(c, m, "test") - loss(c, m, "train")

    out = {}
    for c in comps:
        for m1, m2 in (("LC", "DC"), ("LC", "DC + retraining"), ("LC", "reference"),
                       ("DC + retraining", "reference")):
            c2 = "reference" if m2 == "reference" else c
            for key in ("train", "test"):
                out[f"{c} | {key} | log({m1} / {m2})"] = (np.log(loss(c, m1, key))
                                                         - np.log(loss(c2, m2, key)))
            out[f"{c} | gap | {m1} - {m2}"] = gap(c, m1) - gap(c2, m2)
    return out


def power(d: np.ndarray, n_seeds: int, rng, draws: int = 20_000) -> float:
    """P(|z| > 5) for the mean of ``n_seeds`` values resampled from ``d``."""
    x = d[rng.integers(0, d.size, (draws, n_seeds))]
    z = x.mean(1) / (x.std(1, ddof=1) / np.sqrt(n_seeds))
    return float(np.mean(np.abs(z) > 5))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30, help="pilot seeds")
    parser.add_argument("--n-seeds", type=int, default=10, help="seeds of the chapter")
    args = parser.parse_args(argv)
    os.environ.setdefault("INFOCOMPRESS_QUIET", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    ns = chapter_namespace()
    results = []
    for i, seed_rng in enumerate(np.random.default_rng(PILOT_SEED).spawn(args.seeds)):
        results.append(ns["run_seed"](seed_rng)[0])
        log(f"lc pilot: seed {i + 1} of {args.seeds}")
    rng = np.random.default_rng(PILOT_SEED + 1)
    rows = {}
    for name, d in comparisons(results).items():
        m, s = float(d.mean()), float(d.std(ddof=1))
        rows[name] = {"mean": m, "sd": s,
                      "expected_z": m / s * np.sqrt(args.n_seeds) if s > 0 else float("nan"),
                      "p_abs_z_gt_5": power(d, args.n_seeds, rng)}
    write_json("lc_power_pilot", {
        "description": __doc__.splitlines()[0], "pilot_seeds": args.seeds,
        "chapter_seeds": args.n_seeds, "pilot_seed": PILOT_SEED, "machine": machine_info(),
        "comparisons": rows})


if __name__ == "__main__":
    main()
