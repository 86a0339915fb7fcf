"""Shared test helpers."""

import numpy as np


def mean_se(x, axis=0):
    """Monte-Carlo mean and its standard error along ``axis``."""
    x = np.asarray(x, dtype=float)
    m = x.shape[axis]
    return x.mean(axis=axis), x.std(axis=axis, ddof=1) / np.sqrt(m)
