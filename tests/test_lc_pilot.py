"""The chapter "LC on a neural network" asserts only comparisons with the power to hold.

Its cell of checks lists, in ``ASSERTED``, the comparisons it requires to clear 5 SE in a
given direction. Each must have a probability of at least 0.995 of doing so at the chapter's
number of seeds in the power pilot (``benchmarks/lc_power_pilot.py``, results committed in
``benchmarks/results/lc_power_pilot.json``), with the pilot's mean in the same direction.
"""

import ast
import json
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
PILOT = ROOT / "benchmarks" / "results" / "lc_power_pilot.json"
CHAPTER = ROOT / "notebooks" / "lc_neural_net.ipynb"


def chapter_constants():
    """``ASSERTED`` and ``N_SEEDS`` as written in the chapter's code (parsed, not run)."""
    nb = nbformat.read(CHAPTER, as_version=4)
    found = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                name = getattr(node.targets[0], "id", None)
                if name in ("ASSERTED", "N_SEEDS"):
                    found[name] = ast.literal_eval(node.value)
    return found["ASSERTED"], found["N_SEEDS"]


def pilot_name(comp, m1, m2, key):
    if key == "gap":
        return f"{comp} | gap | {m1} - {m2}"
    return f"{comp} | {key} | log({m1} / {m2})"


def test_asserted_comparisons_have_power_in_the_pilot():
    asserted, n_seeds = chapter_constants()
    pilot = json.loads(PILOT.read_text())
    assert pilot["chapter_seeds"] == n_seeds, "pilot run for another number of seeds"
    rows = pilot["comparisons"]
    weak = []
    for (comp, m1, m2, key), sign in asserted.items():
        row = rows[pilot_name(comp, m1, m2, key)]
        if row["p_abs_z_gt_5"] < 0.995 or sign * row["mean"] <= 0:
            weak.append((comp, m1, m2, key, row["p_abs_z_gt_5"], row["mean"]))
    assert not weak, weak
    assert len(asserted) >= 5, "the chapter should assert its main comparisons"
