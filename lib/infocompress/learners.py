"""Learners, compressors and closed forms of the theory chapters (forwarding module).

The pieces that used to live here now live with the mathematical object they belong to;
this module re-exports them so that ``from infocompress import learners`` keeps working
for at least one release:

* :mod:`infocompress.channels`: ``GaussianNoiseCompressor``, ``UniformQuantizer``,
  ``NoisyMeanLearner``, ``oracle_gen_error``, ``oracle_population_risk``,
  ``oracle_sigma_distortion``;
* :mod:`infocompress.generalization`: ``sub_gaussian_gen_bound``, ``ProbitLinearLoss``,
  ``chi2_loss_cgf``, ``chi2_loss_cgf_bound``, ``empirical_cgf``;
* :mod:`infocompress.linreg`: ``ridge``, ``erm_excess_risk_distribution``,
  ``erm_weight_kl``, ``erm_weight_logpdf``, ``project_to_ball``.
"""

from __future__ import annotations

from .channels import (
    GaussianNoiseCompressor,
    NoisyMeanLearner,
    UniformQuantizer,
    oracle_gen_error,
    oracle_population_risk,
    oracle_sigma_distortion,
)
from .generalization import (
    ProbitLinearLoss,
    chi2_loss_cgf,
    chi2_loss_cgf_bound,
    empirical_cgf,
    sub_gaussian_gen_bound,
)
from .linreg import (
    erm_excess_risk_distribution,
    erm_weight_kl,
    erm_weight_logpdf,
    project_to_ball,
    ridge,
)

__all__ = [
    "GaussianNoiseCompressor",
    "NoisyMeanLearner",
    "ProbitLinearLoss",
    "UniformQuantizer",
    "chi2_loss_cgf",
    "chi2_loss_cgf_bound",
    "empirical_cgf",
    "erm_excess_risk_distribution",
    "erm_weight_kl",
    "erm_weight_logpdf",
    "oracle_gen_error",
    "oracle_population_risk",
    "oracle_sigma_distortion",
    "project_to_ball",
    "ridge",
    "sub_gaussian_gen_bound",
]
