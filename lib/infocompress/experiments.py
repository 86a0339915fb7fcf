"""The Figure 2 pipeline under its former name (forwarding module).

The batched Monte-Carlo pipeline of Figure 2 of Bu et al. (2021) lives in
:mod:`infocompress.figure2`, and ``paired_difference`` in :mod:`infocompress.stats`;
this module re-exports them so that ``from infocompress.experiments import ...`` keeps
working for at least one release.
"""

from __future__ import annotations

from .figure2 import (
    METHODS,
    Curve,
    Figure2Result,
    default_oracle_distortions,
    figure2_experiment,
    group_average_matrix,
    oracle_theory,
    projection_theory,
)
from .stats import paired_difference

__all__ = [
    "METHODS",
    "Curve",
    "Figure2Result",
    "default_oracle_distortions",
    "figure2_experiment",
    "group_average_matrix",
    "oracle_theory",
    "paired_difference",
    "projection_theory",
]
