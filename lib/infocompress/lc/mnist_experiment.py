"""The experiment of the chapter "The LC algorithm on the MNIST networks", as data.

The chapter (``notebooks/lc_neural_net.ipynb``) compares LC, direct compression (DC) and DC
followed by retraining on the first :data:`N_NETWORKS` networks of the practice part's MLP
ensemble (``infocompress.ensembles.AUTHORS_MLP``). Its power pilot
(``benchmarks/lc_power_pilot.py``) runs the same experiment on other networks of the ensemble
to decide, before the chapter runs, which claims it has the power to settle. Both import the
compressions, the LC settings and the claims from this module, so the pilot cannot drift from
the chapter.

Examples
--------
>>> from infocompress.ensembles import AUTHORS_MLP
>>> net = AUTHORS_MLP.make_model(rng=0)
>>> list(tasks(net))
['K = 2', 'K = 4', 'prune 2%', 'rank 5']
>>> n_weights(net), tasks(net)["prune 2%"][WEIGHTS].kappa
(268800, 5376)
>>> sorted(lc_settings())[:3], float(lc_settings()["lr"])
(['batch_size', 'epochs_per_mu', 'lr'], 0.01)
"""

from __future__ import annotations

import numpy as np

from ..ensembles import AUTHORS_MLP
from .algorithm import mu_schedule
from .compression import AdaptiveQuantization, LowRank, Pruning

__all__ = ["CLAIMS", "N_NETWORKS", "PRUNE_FRACTION", "WEIGHTS", "lc_settings", "n_weights",
           "tasks"]

#: The compressed parameters of the 784-256-256-10 MLP (its biases stay free).
WEIGHTS = ("1.weight", "4.weight", "7.weight")

#: Fraction of the weights that pruning keeps (one budget for the whole network).
PRUNE_FRACTION = 0.02

#: Networks of the chapter (the first ones of the ensemble), fixed by the power pilot.
N_NETWORKS = 6

#: The chapter's claims: name -> (method a, method b, quantity, claimed sign of a - b), with
#: the methods of ``infocompress.lc.METHODS`` or ``"reference"`` (the uncompressed
#: network) and the quantities of :func:`infocompress.lc.pooled_change`.
CLAIMS = {
    "L1": ("LC", "DC", "train", -1),
    "L2": ("LC", "DC + retraining", "train", -1),
    "L3": ("LC", "DC", "error", -1),
    "L4": ("DC", "reference", "gen", -1),
    "L5": ("LC", "DC", "gen", +1),
    "L6": ("DC + retraining", "DC", "gen", +1),
    "L7": ("LC", "DC + retraining", "error", -1),
}


def n_weights(model) -> int:
    """Number of compressed weights of ``model`` (the entries of :data:`WEIGHTS`)."""
    return sum(int(np.prod(model.get_parameter(k).shape)) for k in WEIGHTS)


def tasks(model) -> dict:
    """The four compressions of the chapter, for networks shaped like ``model``.

    Parameters
    ----------
    model : torch.nn.Module
        A network of ``infocompress.ensembles.AUTHORS_MLP`` (only its weight shapes are
        read).

    Returns
    -------
    dict
        ``{"K = 2", "K = 4": one codebook of 2 or 4 values per weight matrix;
        "prune 2%": one budget of round(PRUNE_FRACTION * n_weights) nonzero weights over all
        matrices; "rank 5": rank at most 5 per matrix}``, in the form
        :func:`infocompress.lc.compare_methods` takes.
    """
    return {
        "K = 2": {k: AdaptiveQuantization(2) for k in WEIGHTS},
        "K = 4": {k: AdaptiveQuantization(4) for k in WEIGHTS},
        "prune 2%": {WEIGHTS: Pruning(round(PRUNE_FRACTION * n_weights(model)))},
        "rank 5": {k: LowRank(5) for k in WEIGHTS},
    }


def lc_settings() -> dict:
    """Keyword arguments of :func:`infocompress.lc.compare_methods_cached` for the chapter.

    Six values of mu from 1e-2 growing by the factor 10**0.8, one epoch of SGD per L step
    with the recipe the networks were trained with (step, momentum, weight decay and batch
    size of ``infocompress.ensembles.AUTHORS_MLP``); retraining gets the same number of
    epochs with Adam at step 1e-3. A new dict on every call.
    """
    r = AUTHORS_MLP
    return dict(mus=mu_schedule(1e-2, 10**0.8, 6), lr=r.lr, momentum=r.momentum,
                weight_decay=r.weight_decay, batch_size=r.batch_size, epochs_per_mu=1,
                retrain_optimizer="adam", retrain_lr=1e-3)
