"""Model compression as constrained optimization: the learning-compression (LC) algorithm.

Carreira-Perpiñán (2017) writes compression of a trained model :math:`w_{ref}` as

.. math::

    \\min_{w, \\Theta} L(w) \\quad\\text{s.t.}\\quad w = \\Delta(\\Theta),

and solves it by a penalty method (quadratic penalty or augmented Lagrangian) with
alternating optimization: an L step (train ``w`` with a quadratic pull towards the compressed
model) and a C step (orthogonal projection of ``w`` on the feasible set, e.g. k-means, the
SVD or magnitude thresholding). This package provides

* compression types (:class:`AdaptiveQuantization`, :class:`FixedCodebook`,
  :class:`Binarization`, :class:`Pruning`, :class:`LowRank`, and :class:`CompressionTask`
  for several parameter groups);
* the loop :func:`lc_algorithm` (and :func:`iterated_direct_compression`) around a
  user-supplied L step ``l_step(w, target, mu) -> w_new``;
* exact least-squares versions (:func:`lc_least_squares`, :func:`idc_least_squares`,
  :func:`least_squares_optimum`), vectorised over a batch of problems;
* the experiment of the chapter "The LC algorithm on a neural network": DC, DC +
  retraining and LC on trained networks (:func:`compare_methods`,
  :func:`compare_methods_ensemble`, :func:`change`);
* a PyTorch L step by SGD with the clipped learning rate of Theorem 5.2
  (:func:`~infocompress.lc.torch_step.torch_l_step`), and retraining of a compressed net
  with its structure fixed (:func:`~infocompress.lc.torch_step.torch_retrain`). Torch is
  imported only when these are called.
"""

from .algorithm import (
    LCResult,
    check_mus,
    iterated_direct_compression,
    lc_algorithm,
    mu_schedule,
)
from .compression import (
    AdaptiveQuantization,
    Binarization,
    BinarizedTheta,
    Compression,
    CompressionTask,
    FixedCodebook,
    LowRank,
    LowRankTheta,
    PrunedTheta,
    Pruning,
    QuantizedTheta,
)
from .experiment import (
    METHODS,
    change,
    compare_methods,
    compare_methods_cached,
    compare_methods_ensemble,
    is_feasible,
    pooled_change,
    side,
)
from .least_squares import (
    LSResult,
    idc_least_squares,
    lc_least_squares,
    least_squares_gd_l_step,
    least_squares_l_step,
    least_squares_loss,
    least_squares_optimum,
    random_least_squares,
)

__all__ = [
    "random_least_squares",
    "METHODS",
    "AdaptiveQuantization",
    "Binarization",
    "BinarizedTheta",
    "Compression",
    "CompressionTask",
    "FixedCodebook",
    "LCResult",
    "LSResult",
    "LowRank",
    "LowRankTheta",
    "Pruning",
    "PrunedTheta",
    "QuantizedTheta",
    "TorchLStep",
    "change",
    "check_mus",
    "clipped_lr",
    "compare_methods",
    "compare_methods_cached",
    "compare_methods_ensemble",
    "idc_least_squares",
    "is_feasible",
    "iterated_direct_compression",
    "lc_algorithm",
    "lc_least_squares",
    "least_squares_gd_l_step",
    "least_squares_l_step",
    "least_squares_loss",
    "least_squares_optimum",
    "model_weights",
    "mu_schedule",
    "pooled_change",
    "set_model_weights",
    "side",
    "torch_l_step",
    "torch_retrain",
]


def __getattr__(name):
    # torch-dependent helpers are loaded lazily so that importing infocompress.lc never
    # imports torch
    if name in ("TorchLStep", "clipped_lr", "model_weights", "set_model_weights",
                "torch_l_step", "torch_retrain"):
        from . import torch_step

        return getattr(torch_step, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
