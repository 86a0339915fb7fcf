r"""Means and standard errors for the book's Monte-Carlo checks.

Every check of the book compares a theory value with a mean and its standard error (SE).
Three designs occur:

* i.i.d. draws (Monte-Carlo trials): :func:`mean_se`;
* paired differences over models, each model measured before and after compression:
  :func:`paired` (models on the first axis); paired differences over Monte-Carlo trials,
  two compressors applied to the same trials: :func:`paired_difference` (trials on the
  last axis);
* a *crossed* design, models x test samples: the population risk of a network is
  estimated on a finite test set shared by all models, so a mean over models has two
  sources of error, the models (training subsets and initialisations) and the test
  samples. :func:`crossed_se` combines both.

For a table ``D[m, i]`` (model ``m``, test sample ``i``) with grand mean :math:`\bar D`, the
additive model :math:`D_{mi} = \mu + a_m + b_i + e_{mi}` gives
:math:`\operatorname{Var}\bar D = \sigma_a^2/M + \sigma_b^2/N + \sigma_e^2/(MN)`.
The variance of the row means estimates :math:`\sigma_a^2 + \sigma_e^2/N` and that of the
column means :math:`\sigma_b^2 + \sigma_e^2/M`, so

.. math::

    \widehat{\operatorname{SE}}^2 = \frac{s^2_{\text{rows}}}{M} + \frac{s^2_{\text{cols}}}{N}

estimates :math:`\operatorname{Var}\bar D` with a small upward bias
:math:`\sigma_e^2/(MN)`: conservative.

References
----------
.. [1] R. A. Fisher, *The Design of Experiments*, 1935 (crossed random effects);
   B. Efron and R. Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 2 (SE of a mean).
"""

from __future__ import annotations

import numpy as np

from ._validation import Integer, Options, as_finite_array, validate_params

__all__ = ["crossed_se", "mean_se", "paired", "paired_difference"]


@validate_params(axis=Options(None, Integer()))
def mean_se(x, axis=0):
    r"""Mean and standard error of the mean of i.i.d. draws along ``axis``.

    .. math:: \bar x, \qquad \mathrm{SE} = s / \sqrt{n}, \quad s^2 = \frac{1}{n-1}
       \sum (x_i - \bar x)^2 .

    Parameters
    ----------
    x : array-like
        Draws; at least 2 along ``axis``.
    axis : int, default 0

    Returns
    -------
    mean, se : float or ndarray
        Floats for 1-D input, else arrays without ``axis``.

    Raises
    ------
    ValueError
        For fewer than 2 draws or non-finite values.

    Examples
    --------
    >>> mean_se([1.0, 2.0, 3.0, 4.0])
    (2.5, 0.6454972243679028)
    """
    arr = as_finite_array(x, "x")
    if axis is not None and not -arr.ndim <= axis < arr.ndim:
        raise ValueError(f"axis must lie in [{-arr.ndim}, {arr.ndim}) for x of shape "
                         f"{arr.shape}, got {axis}")
    if arr.ndim == 0:
        raise ValueError("x must hold at least 2 draws, got a scalar")
    n = arr.shape[axis]
    if n < 2:
        raise ValueError(f"x must hold at least 2 draws along axis {axis}, got {n}")
    mean = arr.mean(axis=axis)
    se = arr.std(axis=axis, ddof=1) / np.sqrt(n)
    if np.ndim(mean) == 0:
        return float(mean), float(se)
    return mean, se


def paired(a, b=None):
    """Mean and SE of the paired differences ``a - b`` over models (axis 0).

    Parameters
    ----------
    a : array-like of shape (n_models, ...)
    b : array-like of the same shape, or None (then ``a`` is already the difference)

    Returns
    -------
    mean, se : float or ndarray

    Raises
    ------
    ValueError
        If the shapes differ or fewer than 2 models are given.

    Examples
    --------
    >>> paired([1.0, 2.0, 4.0], [0.5, 1.5, 3.0])
    (0.6666666666666666, 0.16666666666666666)
    """
    a = as_finite_array(a, "a")
    if b is not None:
        b = as_finite_array(b, "b")
        if a.shape != b.shape:
            raise ValueError(f"a and b must have one shape, got {a.shape} and {b.shape}")
        a = a - b
    return mean_se(a, axis=0)


def paired_difference(a, b):
    r"""Mean and standard error of the per-trial difference ``a - b``.

    Both arrays hold per-trial values along their last axis, computed on the **same**
    trials, so the SE of the difference is the sample standard deviation of ``a - b``
    over :math:`\sqrt{\text{trials}}`; it is usually much smaller than the SEs of ``a``
    and ``b`` separately because the common noise of the training set cancels.

    Parameters
    ----------
    a, b : array-like of shape (..., trials)
        Per-trial values; broadcast against each other.

    Returns
    -------
    mean, se : float or ndarray of shape (...)

    Raises
    ------
    ValueError
        If the trial axes differ, there are fewer than 2 trials or values are not finite.

    Examples
    --------
    >>> m, s = paired_difference([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])
    >>> float(m), float(s)
    (1.0, 0.0)
    """
    a = as_finite_array(a, "a")
    b = as_finite_array(b, "b")
    if a.ndim == 0 or b.ndim == 0 or a.shape[-1] != b.shape[-1]:
        raise ValueError(
            f"a and b must hold the same trials on their last axis, got shapes {a.shape} "
            f"and {b.shape}"
        )
    if a.shape[-1] < 2:
        raise ValueError(f"need at least 2 trials for a standard error, got {a.shape[-1]}")
    return mean_se(a - b, axis=-1)


def crossed_se(d):
    r"""Grand mean of a models x samples table and its SE from both sources of error.

    See the module docstring for the formula.

    Parameters
    ----------
    d : array-like of shape (n_models, n_samples)
        E.g. per-sample test losses of compressed minus original networks, one row per
        model, one column per test sample.

    Returns
    -------
    dict
        ``"mean"`` (grand mean), ``"se"`` (combined SE), ``"se_models"``
        (:math:`s_{\text{rows}}/\sqrt M`, the SE over models alone, what a test set of
        infinite size would leave) and ``"se_samples"`` (:math:`s_{\text{cols}}/\sqrt N`,
        the part due to the finite test set).

    Raises
    ------
    ValueError
        If ``d`` is not 2-D with at least 2 rows and 2 columns, or not finite.

    Examples
    --------
    >>> r = crossed_se([[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]])
    >>> r["mean"], round(r["se_models"], 4), round(r["se_samples"], 4), round(r["se"], 4)
    (2.5, 0.5, 0.5774, 0.7638)
    """
    arr = as_finite_array(d, "d", ndim=2)
    m, n = arr.shape
    if m < 2 or n < 2:
        raise ValueError(f"d needs at least 2 models and 2 samples, got shape {arr.shape}")
    se_models = float(arr.mean(axis=1).std(ddof=1) / np.sqrt(m))
    se_samples = float(arr.mean(axis=0).std(ddof=1) / np.sqrt(n))
    return {"mean": float(arr.mean()), "se": float(np.hypot(se_models, se_samples)),
            "se_models": se_models, "se_samples": se_samples}
