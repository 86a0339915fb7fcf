r"""Temperature scaling: is a network's test cross-entropy high because it is over-confident?

A classifier with logits :math:`z(x)` can be re-calibrated after training by one scalar, the
temperature :math:`T > 0`: :math:`p_T(y \mid x) = \operatorname{softmax}(z(x)/T)_y`
(Guo et al. 2017). :math:`T > 1` makes every prediction less confident without changing
which class wins, so the error rate is unchanged and only the cross-entropy moves. The
cross-entropy of held-out data is a convex function of :math:`1/T` (a log-sum-exp of
functions linear in :math:`1/T` minus a linear one), so :func:`fit_temperature` finds its
unique minimiser by a bounded one-dimensional search.

If a compressed network has a lower test cross-entropy than the original only because it
is less confident, the original **after** temperature scaling should do at least as well;
:mod:`infocompress` uses this in the practice part to test that explanation of Bu et al.'s
Figure 1.

References
----------
.. [1] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On calibration of modern neural
   networks", ICML 2017.
"""

from __future__ import annotations

import numpy as np

from ._validation import (
    DataPair,
    Options,
    Real,
    Reals,
    TorchModule,
    as_finite_array,
    validate_params,
)

__all__ = ["cross_entropy", "fit_temperature", "temperature_study"]


def _check(logits, y):
    z = as_finite_array(logits, "logits", ndim=2)
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.shape[0] != z.shape[0]:
        raise ValueError(f"y must have shape ({z.shape[0]},) to match logits, got "
                         f"{labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"y must hold integer class labels, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= z.shape[1]):
        raise ValueError(f"y must hold labels in 0..{z.shape[1] - 1}")
    if z.shape[0] == 0:
        raise ValueError("logits must hold at least one sample")
    return z, labels.astype(np.int64)


def _ce(z, y, inv_t):
    s = z * inv_t
    m = s.max(axis=1, keepdims=True)
    lse = (m[:, 0] + np.log(np.exp(s - m).sum(axis=1)))
    return lse - s[np.arange(len(y)), y]


@validate_params(temperature=Real(low=0, low_open=True))
def cross_entropy(logits, y, *, temperature=1.0, per_sample=False):
    r"""Cross-entropy (nats) of ``softmax(logits / temperature)`` at the labels ``y``.

    Parameters
    ----------
    logits : array-like of shape (n, C)
    y : array-like of int of shape (n,)
    temperature : float, default 1.0
        :math:`T > 0`.
    per_sample : bool, default False
        Return the n per-sample losses instead of their mean.

    Returns
    -------
    float or ndarray of shape (n,)

    Raises
    ------
    ValueError
        For non-finite logits, labels out of range or a temperature that is not > 0.

    Examples
    --------
    >>> round(cross_entropy([[0.0, 0.0]], [1]), 6) == round(float(np.log(2)), 6)
    True
    """
    z, labels = _check(logits, y)
    t = float(temperature)
    if not (np.isfinite(t) and t > 0):
        raise ValueError(f"temperature must be finite and > 0, got {temperature!r}")
    out = _ce(z, labels, 1.0 / t)
    return out if per_sample else float(out.mean())


@validate_params(bounds=Reals(low=0, low_open=True))
def fit_temperature(logits, y, *, bounds=(1e-2, 1e2)):
    r"""The temperature that minimises the cross-entropy of ``(logits, y)``.

    .. math:: \hat T = \arg\min_{T} \frac1n \sum_i -\log \operatorname{softmax}(z_i / T)_{y_i}

    found by bounded Brent search on :math:`\log T` (the objective is unimodal in
    :math:`\log T` because it is convex in :math:`1/T`).

    Parameters
    ----------
    logits : array-like of shape (n, C)
        Held-out logits (never the data the temperature is evaluated on).
    y : array-like of int of shape (n,)
    bounds : tuple of float, default (0.01, 100)
        Search interval for T; a minimiser on its edge is returned as the edge.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        For bad logits or labels, or bounds that are not ``0 < low < high``.

    Examples
    --------
    Logits three times too large are brought back by T close to 3:

    >>> rng = np.random.default_rng(0)
    >>> z = rng.normal(size=(4000, 5))
    >>> p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    >>> y = np.array([rng.choice(5, p=row) for row in p])
    >>> round(fit_temperature(3 * z, y), 1)
    3.0
    """
    from scipy.optimize import minimize_scalar

    z, labels = _check(logits, y)
    lo, hi = (float(b) for b in bounds)
    if not (0 < lo < hi and np.isfinite(hi)):
        raise ValueError(f"bounds must satisfy 0 < low < high < inf, got {bounds!r}")
    res = minimize_scalar(lambda u: _ce(z, labels, np.exp(-u)).mean(),
                          bounds=(np.log(lo), np.log(hi)), method="bounded",
                          options={"xatol": 1e-6})
    return float(np.exp(res.x))


@validate_params(model=TorchModule(), held_out=DataPair(), test=DataPair(),
                 train=Options(None, DataPair()))
def temperature_study(model, held_out, test, train=None):
    """Fit a temperature on held-out data and evaluate a network with and without it.

    Runs on one torch thread, so it can be spread over networks with joblib.

    Parameters
    ----------
    model : torch.nn.Module
        A network returning logits.
    held_out : tuple (x, y)
        Images the temperature is fitted on (never the test set).
    test : tuple (x, y)
        Images the network is evaluated on.
    train : tuple (x, y), optional
        The network's training images, for its training error rate.

    Returns
    -------
    dict
        ``"T"`` (the fitted temperature), ``"test_loss"`` and ``"test_loss_T"`` (per-sample
        test cross-entropies at temperature 1 and :math:`\\hat T`), ``"test_error"``
        (per-sample 0/1 errors; a temperature does not change them) and, with ``train``,
        ``"train_error"`` (the training error rate).

    Examples
    --------
    >>> from infocompress.models import make_mlp
    >>> rng = np.random.default_rng(0)
    >>> x, y = rng.normal(size=(40, 8, 8)).astype(np.float32), rng.integers(0, 10, 40)
    >>> r = temperature_study(make_mlp((8,), rng=0), (x[:20], y[:20]), (x[20:], y[20:]))
    >>> sorted(r), r["test_loss"].shape
    (['T', 'test_error', 'test_loss', 'test_loss_T'], (20,))
    """
    import torch

    from .models import predict_logits

    for name, pair in (("held_out", held_out), ("test", test), ("train", train)):
        if pair is not None and (not isinstance(pair, (tuple, list)) or len(pair) != 2):
            raise ValueError(f"{name} must be a pair (x, y), got {type(pair).__name__}")
    # joblib hands large arrays to workers as read-only memory maps: work on copies
    held_out, test = [(np.array(p[0]), np.array(p[1])) for p in (held_out, test)]
    train = None if train is None else (np.array(train[0]), np.array(train[1]))
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t_hat = fit_temperature(predict_logits(model, held_out[0]), held_out[1])
        z = predict_logits(model, test[0])
        out = {"T": t_hat,
               "test_loss": cross_entropy(z, test[1], per_sample=True),
               "test_loss_T": cross_entropy(z, test[1], temperature=t_hat, per_sample=True),
               "test_error": (z.argmax(axis=1) != np.asarray(test[1])).astype(float)}
        if train is not None:
            zt = predict_logits(model, train[0])
            out["train_error"] = float((zt.argmax(axis=1) != np.asarray(train[1])).mean())
    finally:
        torch.set_num_threads(old)
    return out
