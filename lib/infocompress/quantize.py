"""Weight quantization by k-means (forwarding module).

Two modules hold the clustering code of Section 6 of Bu et al. (2021):

* :mod:`infocompress.kmeans` -- Lloyd's algorithm for plain, Hessian-weighted (HW) and
  diameter-regularized Hessian-weighted (DRHW) k-means, eqs. (30), (34), (35) and
  Algorithm 1, for one weight vector (``drhw_kmeans``) or many
  (``drhw_kmeans_batch``), scalar or vector;
* :mod:`infocompress.kmeans1d` -- the exact global optimum of weighted scalar k-means by
  dynamic programming (``optimal_kmeans_1d``, ``optimal_kmeans_1d_batch``).

This module re-exports their public names, so that ``from infocompress import quantize``
and ``quantize.drhw_kmeans(...)`` keep working for at least one release.
"""

from __future__ import annotations

from .kmeans import (
    DIAMETER_PENALTIES,
    KMeansResult,
    centers_diameter,
    drhw_kmeans,
    drhw_kmeans_batch,
    hw_distortion,
)
from .kmeans1d import optimal_kmeans_1d, optimal_kmeans_1d_batch

__all__ = [
    "DIAMETER_PENALTIES",
    "KMeansResult",
    "centers_diameter",
    "drhw_kmeans",
    "drhw_kmeans_batch",
    "hw_distortion",
    "optimal_kmeans_1d",
    "optimal_kmeans_1d_batch",
]
