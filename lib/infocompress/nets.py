"""The networks of Bu et al. (2021), Section 7, in one namespace (forwarding module).

The practice part's code lives in four modules named for what they hold; this module
re-exports their public names so that ``from infocompress import nets`` and
``nets.train_ensemble(...)`` keep working:

* :mod:`infocompress.models`: ``make_mlp``, ``make_convnet``, ``torch_generator``,
  ``evaluate``, ``evaluate_ensemble``, ``predict_logits``, ``quantizable_parameters``,
  ``INITS``, ``PORTABLE_NUMERICS``;
* :mod:`infocompress.training`: ``train``, ``train_ensemble``, ``continue_training``,
  ``complement_subsets``, ``OPTIMIZERS``;
* :mod:`infocompress.curvature`: ``hessian_diagonal``, ``ensemble_hessians`` (and
  ``gauss_newton_diagonal``), ``HESSIAN_METHODS``;
* :mod:`infocompress.compression`: ``quantize_model``, ``compression_sweep``,
  ``select_beta``, ``QUANTIZE_METHODS``;
* :mod:`infocompress.ensembles`: trained ensembles shared through the cache.

New code may import from those modules directly; this one forwards for at least one
release. Importing it imports torch.
"""

from __future__ import annotations

from .compression import QUANTIZE_METHODS, compression_sweep, quantize_model, select_beta
from .curvature import HESSIAN_METHODS, ensemble_hessians, hessian_diagonal
from .models import (
    INITS,
    PORTABLE_NUMERICS,
    evaluate,
    evaluate_ensemble,
    make_convnet,
    make_mlp,
    predict_logits,
    quantizable_parameters,
    torch_generator,
)
from .training import (
    OPTIMIZERS,
    complement_subsets,
    continue_training,
    train,
    train_ensemble,
)

__all__ = [
    "HESSIAN_METHODS",
    "INITS",
    "OPTIMIZERS",
    "PORTABLE_NUMERICS",
    "QUANTIZE_METHODS",
    "complement_subsets",
    "compression_sweep",
    "continue_training",
    "ensemble_hessians",
    "evaluate",
    "evaluate_ensemble",
    "hessian_diagonal",
    "make_convnet",
    "make_mlp",
    "predict_logits",
    "quantizable_parameters",
    "quantize_model",
    "select_beta",
    "torch_generator",
    "train",
    "train_ensemble",
]
