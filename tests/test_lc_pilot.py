"""The chapter "The LC algorithm on the MNIST networks" asserts only claims with power.

The chapter asserts a claim's pooled effect as significant at 5 SE only when the power pilot
(``benchmarks/lc_power_pilot.py``, results committed in
``benchmarks/results/lc_power_pilot.json``) gives it an expected z of at least 10 in the
claimed direction with the chapter's number of networks, and the pilot must have been run for
the chapter's claims, settings' number of networks and on networks disjoint from the chapter's.
"""

import ast
import json
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PILOT = ROOT / "benchmarks" / "results" / "lc_power_pilot.json"
CHAPTER = ROOT / "notebooks" / "lc_neural_net.ipynb"


def chapter_constants():
    """``CLAIMS`` and ``N_NETWORKS`` as written in the chapter's code (parsed, not run)."""
    nb = nbformat.read(CHAPTER, as_version=4)
    found = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                name = getattr(node.targets[0], "id", None)
                if name in ("CLAIMS", "N_NETWORKS"):
                    found[name] = ast.literal_eval(node.value)
    return found["CLAIMS"], found["N_NETWORKS"]


def test_pilot_matches_chapter():
    claims, n = chapter_constants()
    pilot = json.loads(PILOT.read_text())
    assert pilot["chapter_networks"] == n, "pilot run for another number of networks"
    assert not set(pilot["pilot_networks"]) & set(range(n)), "pilot uses chapter networks"
    assert set(pilot["claims"]) == set(claims)
    for name, (a, b, q, sign) in claims.items():
        row = pilot["claims"][name]
        assert (row["a"], row["b"], row["quantity"], row["sign"]) == (a, b, q, sign), name


def test_some_claims_have_power_in_the_pilot():
    claims, _ = chapter_constants()
    pilot = json.loads(PILOT.read_text())
    decided = [c for c, r in pilot["claims"].items()
               if abs(r["expected_z"]) >= 10]
    # some claims must be decided by the pilot's rule, or the chapter has no power at all
    assert len(decided) >= 2, pilot["claims"]
