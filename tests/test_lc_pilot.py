"""The chapter "The LC algorithm on the MNIST networks" asserts only claims with power.

The chapter asserts a claim's pooled effect as significant at 5 SE only when the power pilot
(``benchmarks/lc_power_pilot.py``, results committed in
``benchmarks/results/lc_power_pilot.json``) gives it an expected z of at least 10 in the
claimed direction with the chapter's number of networks. Chapter and pilot take the experiment
from one place, :mod:`infocompress.lc.mnist_experiment`; the committed pilot must have been run
for its claims and number of networks, on networks disjoint from the chapter's.
"""

import json
from pathlib import Path

from infocompress.lc import mnist_experiment as experiment

ROOT = Path(__file__).resolve().parents[1]
PILOT = ROOT / "benchmarks" / "results" / "lc_power_pilot.json"


def test_pilot_matches_the_experiment():
    pilot = json.loads(PILOT.read_text())
    n = experiment.N_NETWORKS
    assert pilot["chapter_networks"] == n, "pilot run for another number of networks"
    assert not set(pilot["pilot_networks"]) & set(range(n)), "pilot uses chapter networks"
    assert set(pilot["claims"]) == set(experiment.CLAIMS)
    for name, (a, b, q, sign) in experiment.CLAIMS.items():
        row = pilot["claims"][name]
        assert (row["a"], row["b"], row["quantity"], row["sign"]) == (a, b, q, sign), name


def test_some_claims_have_power_in_the_pilot():
    pilot = json.loads(PILOT.read_text())
    decided = [c for c, r in pilot["claims"].items() if abs(r["expected_z"]) >= 10]
    # some claims must be decided by the pilot's rule, or the chapter has no power at all
    assert len(decided) >= 2, pilot["claims"]


def test_the_chapter_imports_the_experiment_and_the_pilot_reads_no_notebook():
    # the chapter's settings cell takes every definition from the library module
    chapter = json.loads((ROOT / "notebooks" / "lc_neural_net.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in chapter["cells"] if c["cell_type"] == "code")
    for name in ("tasks(", "lc_settings()", "CLAIMS", "N_NETWORKS"):
        assert f"experiment.{name}" in code, name
    pilot = (ROOT / "benchmarks" / "lc_power_pilot.py").read_text()
    assert "nbformat" not in pilot and "exec(" not in pilot


def test_the_compressions_and_settings_are_those_the_chapter_describes():
    from infocompress.ensembles import AUTHORS_MLP
    from infocompress.lc import AdaptiveQuantization, LowRank, Pruning

    net = AUTHORS_MLP.make_model(rng=0)
    t = experiment.tasks(net)
    assert experiment.n_weights(net) == 784 * 256 + 256 * 256 + 256 * 10
    # compressions compare by repr (what the LC cache key holds)
    assert repr(t["prune 2%"][experiment.WEIGHTS]) == repr(Pruning(round(0.02 * 268_800)))
    assert all(repr(t["K = 2"][k]) == repr(AdaptiveQuantization(2)) for k in experiment.WEIGHTS)
    assert all(repr(t["rank 5"][k]) == repr(LowRank(5)) for k in experiment.WEIGHTS)
    s = experiment.lc_settings()
    assert len(s["mus"]) == 6 and s["mus"][0] == 1e-2
    assert abs(s["mus"][-1] - 1e2) < 1e-9
    assert (s["lr"], s["momentum"], s["weight_decay"], s["batch_size"]) == (
        AUTHORS_MLP.lr, AUTHORS_MLP.momentum, AUTHORS_MLP.weight_decay, AUTHORS_MLP.batch_size)
    assert experiment.lc_settings() is not s   # a fresh dict: the chapter may not alter ours
