"""Compression types for the LC algorithm: C step (projection) and decompression mapping.

Each compression type is a small class with

* ``compress(w, theta0=None) -> theta``: the C step, the orthogonal projection of the
  weights ``w`` on the feasible set :math:`\\mathcal{C} = \\{\\Delta(\\Theta)\\}`, returned in
  its low-dimensional form :math:`\\Theta = \\arg\\min_\\Theta \\|w - \\Delta(\\Theta)\\|^2`;
* ``decompress(theta) -> w``: the decompression mapping :math:`\\Delta`;
* ``project(w) = decompress(compress(w))``;
* ``project_batch(W)``: the same projection applied independently to every row of a
  batch ``W`` of shape ``(B, *shape)`` (vectorised where the projection allows it).

The projections follow section 3 of Carreira-Perpiñán (2017): k-means for a learned
codebook, rounding for a fixed codebook, the sign with scale ``mean |w|`` for binarization,
magnitude thresholding for an :math:`\\ell_0` constraint and the truncated SVD for a rank
constraint.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._validation import ArrayLike, Real, Sizes, as_finite_array, check_int, describe

__all__ = [
    "AdaptiveQuantization",
    "Binarization",
    "BinarizedTheta",
    "Compression",
    "CompressionTask",
    "FixedCodebook",
    "LowRank",
    "LowRankTheta",
    "Pruning",
    "PrunedTheta",
    "QuantizedTheta",
]


# --------------------------------------------------------------------------------------
# low-dimensional parameter containers
# --------------------------------------------------------------------------------------
def _index_array(value, name, high):
    """Check an integer array with entries in [0, high)."""
    if isinstance(value, (str, bytes)):
        raise ValueError(f"{name} must be an integer array, got {describe(value)}")
    arr = np.asarray(value)
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{name} must be an integer array, got {describe(value)}")
    if arr.size and (arr.min() < 0 or arr.max() >= high):
        raise ValueError(f"{name} entries must lie in [0, {high}), got range "
                         f"[{arr.min()}, {arr.max()}]")


@dataclass(frozen=True)
class QuantizedTheta:
    """Parameters of a quantized weight array.

    Attributes
    ----------
    codebook : ndarray of shape (K,)
        Codebook values, sorted increasingly.
    assignments : ndarray of int, same shape as the weights
        Index of the codeword of every weight.
    """

    codebook: np.ndarray
    assignments: np.ndarray

    def __post_init__(self):
        ArrayLike(ndim=1, nonempty=True).check(self.codebook, "codebook")
        _index_array(self.assignments, "assignments", len(self.codebook))


@dataclass(frozen=True)
class BinarizedTheta:
    """Parameters of a binarized weight array ``scale * signs``.

    Attributes
    ----------
    scale : float
        Common magnitude ``a >= 0``.
    signs : ndarray of int8, same shape as the weights
        Entries in ``{-1, +1}``.
    """

    scale: float
    signs: np.ndarray

    def __post_init__(self):
        Real(low=0).check(self.scale, "scale")
        if isinstance(self.signs, (str, bytes)) or not np.issubdtype(
                np.asarray(self.signs).dtype, np.number):
            raise ValueError(f"signs must be an array of -1 and +1, got {describe(self.signs)}")


@dataclass(frozen=True)
class PrunedTheta:
    """Parameters of a pruned weight array: the surviving entries.

    Attributes
    ----------
    indices : ndarray of int of shape (kappa,)
        Flat (C-order) indices of the kept weights, increasing.
    values : ndarray of shape (kappa,)
        Their values.
    shape : tuple of int
        Shape of the weight array.
    """

    indices: np.ndarray
    values: np.ndarray
    shape: tuple

    def __post_init__(self):
        Sizes(low=0, allow_empty=True).check(self.shape, "shape")
        _index_array(self.indices, "indices", int(np.prod(self.shape)))
        ArrayLike(ndim=1).check(self.values, "values")
        if np.size(self.values) != np.size(self.indices):
            raise ValueError(f"values must hold one entry per index, got {np.size(self.values)}"
                             f" values for {np.size(self.indices)} indices")


@dataclass(frozen=True)
class LowRankTheta:
    """Parameters of a low-rank weight matrix ``U @ V.T``.

    Attributes
    ----------
    U : ndarray of shape (m, r)
        Left factor (left singular vectors scaled by the singular values).
    V : ndarray of shape (n, r)
        Right factor (right singular vectors).
    shape : tuple of int
        Shape of the weights as given to ``compress`` (``(m, n)`` or the flat shape that
        was viewed as an ``(m, n)`` matrix).
    """

    U: np.ndarray
    V: np.ndarray
    shape: tuple

    def __post_init__(self):
        ArrayLike(ndim=2).check(self.U, "U")
        ArrayLike(ndim=2).check(self.V, "V")
        Sizes(low=1).check(self.shape, "shape")
        if np.shape(self.U)[1] != np.shape(self.V)[1]:
            raise ValueError(f"U and V must have the same number of columns, got shapes "
                             f"{np.shape(self.U)} and {np.shape(self.V)}")


# --------------------------------------------------------------------------------------
# base class
# --------------------------------------------------------------------------------------
class Compression:
    """Base class of a compression type: a feasible set and its orthogonal projection.

    Subclasses implement :meth:`compress` (the C step) and :meth:`decompress`
    (the mapping :math:`\\Delta`); :meth:`project` and :meth:`project_batch` follow.

    .. math::

        \\Pi(w) = \\Delta\\big(\\arg\\min_\\Theta \\|w - \\Delta(\\Theta)\\|^2\\big).

    References
    ----------
    Carreira-Perpiñán (2017), *Model compression as constrained optimization, with
    application to neural nets. Part I*, section 3.1 (compression as orthogonal projection)
    and eq. (10) (the C step).
    """

    def compress(self, w, theta0=None):  # pragma: no cover - abstract
        """C step: the parameters ``theta`` of the feasible point closest to ``w``."""
        raise NotImplementedError

    def decompress(self, theta):  # pragma: no cover - abstract
        """Decompression mapping: the weights ``Delta(theta)``."""
        raise NotImplementedError

    def project(self, w) -> np.ndarray:
        """Orthogonal projection ``decompress(compress(w))`` of ``w`` on the feasible set.

        Parameters
        ----------
        w : array-like
            Weights.

        Returns
        -------
        ndarray, same shape as ``w``
        """
        return self.decompress(self.compress(w))

    def project_batch(self, W) -> np.ndarray:
        """Project every row ``W[b]`` of a batch independently.

        Parameters
        ----------
        W : array-like of shape (B, ...)
            Batch of weight arrays.

        Returns
        -------
        ndarray of shape (B, *shape)
        """
        W = as_finite_array(W, "W")
        if W.ndim < 2:
            raise ValueError(f"W must have a leading batch axis, got shape {W.shape}")
        return self._project_batch(W, None)[0]

    # worker used by the batched least-squares LC loop: returns (projection, state), where
    # state is passed back on the next call (warm starts); default: loop over rows.
    def _project_batch(self, W, state):
        out = np.empty_like(W)
        thetas = []
        for b in range(W.shape[0]):
            theta = self.compress(W[b], None if state is None else state[b])
            thetas.append(theta)
            out[b] = self.decompress(theta)
        return out, thetas

    def _check_w(self, w, name="w"):
        return as_finite_array(w, name)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._repr_args().items())
        return f"{type(self).__name__}({args})"

    def _repr_args(self) -> dict:
        return {}


# --------------------------------------------------------------------------------------
# quantization
# --------------------------------------------------------------------------------------
def _nearest_codeword(w, codebook):
    """Index of the nearest entry of a sorted codebook (ties to the lower codeword)."""
    if codebook.size == 1:
        return np.zeros(w.shape, dtype=np.intp)
    mid = 0.5 * (codebook[1:] + codebook[:-1])
    return np.searchsorted(mid, w, side="left").astype(np.intp)


class AdaptiveQuantization(Compression):
    """Quantization with a learned codebook of ``n_clusters`` values (k-means C step).

    The feasible set is every array whose entries take at most ``K`` distinct values; the
    projection is 1-D k-means of the entries,

    .. math::

        \\min_{c \\in \\mathbb{R}^K,\\ z} \\sum_i (w_i - c_{z_i})^2 .

    Parameters
    ----------
    n_clusters : int
        Codebook size ``K >= 1``.
    exact : bool, default False
        ``False``: Lloyd's algorithm (:func:`infocompress.kmeans.drhw_kmeans`), warm-started
        from the previous codebook when one is passed to :meth:`compress` (as in the LC
        algorithm); a local optimum. ``True``: the exact 1-D optimum by dynamic programming
        (:func:`infocompress.kmeans1d.optimal_kmeans_1d`).
    max_iter : int, default 100
        Maximum Lloyd iterations (``exact=False``).

    References
    ----------
    Carreira-Perpiñán (2017), section 3.2 ("Quantization") and section 6.1: the C step of
    quantization with a learned codebook is k-means.

    Examples
    --------
    >>> import numpy as np
    >>> q = AdaptiveQuantization(2, exact=True)
    >>> theta = q.compress(np.array([0.0, 0.2, 1.0, 1.2]))
    >>> theta.codebook.round(6).tolist(), theta.assignments.tolist()
    ([0.1, 1.1], [0, 0, 1, 1])
    >>> q.decompress(theta).round(6).tolist()
    [0.1, 0.1, 1.1, 1.1]
    """

    def __init__(self, n_clusters, *, exact=False, max_iter=100):
        self.n_clusters = check_int(n_clusters, "n_clusters", low=1)
        self.exact = bool(exact)
        self.max_iter = check_int(max_iter, "max_iter", low=1)

    def _repr_args(self):
        return {"n_clusters": self.n_clusters, "exact": self.exact}

    def compress(self, w, theta0=None) -> QuantizedTheta:
        """C step: k-means of the entries of ``w``.

        Parameters
        ----------
        w : array-like
            Weights (any shape; the entries are clustered).
        theta0 : QuantizedTheta, optional
            Previous parameters; their codebook initialises Lloyd's algorithm.

        Returns
        -------
        QuantizedTheta
        """
        w = self._check_w(w)
        if self.n_clusters > w.size:
            raise ValueError(
                f"n_clusters must be <= the number of weights {w.size}, got {self.n_clusters}"
            )
        from ..kmeans import drhw_kmeans
        from ..kmeans1d import optimal_kmeans_1d

        flat = w.ravel()
        if self.exact:
            res = optimal_kmeans_1d(flat, self.n_clusters)
        else:
            init = "linear"
            if theta0 is not None:
                init = np.asarray(theta0.codebook, dtype=float)
                if init.shape != (self.n_clusters,):
                    raise ValueError(
                        f"theta0.codebook must have shape ({self.n_clusters},), "
                        f"got {init.shape}"
                    )
            res = drhw_kmeans(flat, None, self.n_clusters, init=init,
                              max_iter=self.max_iter)
        codebook = np.sort(np.asarray(res.centers, dtype=float).ravel())
        # a final assignment step (each weight to its nearest codeword) and centre update;
        # each can only lower the distortion ||w - Delta(theta)||^2 of the k-means result
        labels = _nearest_codeword(flat, codebook).reshape(w.shape)
        # empty clusters keep their value
        sums = np.bincount(labels.ravel(), weights=flat, minlength=codebook.size)
        counts = np.bincount(labels.ravel(), minlength=codebook.size)
        nonempty = counts > 0
        codebook = codebook.copy()
        codebook[nonempty] = sums[nonempty] / counts[nonempty]
        return QuantizedTheta(codebook=codebook, assignments=labels)

    def decompress(self, theta) -> np.ndarray:
        """Weights ``codebook[assignments]``."""
        return np.asarray(theta.codebook, dtype=float)[theta.assignments]


class FixedCodebook(Compression):
    """Quantization on a fixed codebook: the C step rounds every weight to the nearest value.

    .. math::

        \\Pi(w)_i = \\arg\\min_{c \\in \\mathcal{K}} |w_i - c| .

    Parameters
    ----------
    codebook : array-like of shape (K,)
        Distinct finite codeword values (sorted internally).

    References
    ----------
    Carreira-Perpiñán (2017), section 3.2 ("Quantization" with a fixed codebook and
    "Low-precision approximation").

    Examples
    --------
    >>> import numpy as np
    >>> FixedCodebook([-1, 0, 1]).project(np.array([-0.7, 0.2, 3.0])).tolist()
    [-1.0, 0.0, 1.0]
    """

    def __init__(self, codebook):
        cb = as_finite_array(codebook, "codebook", ndim=1)
        if cb.size < 1:
            raise ValueError("codebook must contain at least one value, got an empty array")
        cb = np.sort(cb)
        if np.any(np.diff(cb) == 0):
            raise ValueError(f"codebook values must be distinct, got {cb.tolist()}")
        self.codebook = cb

    def _repr_args(self):
        return {"codebook": self.codebook.tolist()}

    def compress(self, w, theta0=None) -> QuantizedTheta:
        """C step: nearest codeword of every weight (``theta0`` is ignored)."""
        w = self._check_w(w)
        return QuantizedTheta(codebook=self.codebook.copy(),
                              assignments=_nearest_codeword(w, self.codebook))

    def decompress(self, theta) -> np.ndarray:
        """Weights ``codebook[assignments]``."""
        return np.asarray(theta.codebook, dtype=float)[theta.assignments]

    def _project_batch(self, W, state):
        return self.codebook[_nearest_codeword(W, self.codebook)], None


class Binarization(Compression):
    """Binarization with a learned scale: weights in ``{-a, +a}``.

    The feasible set is :math:`\\{a s : a \\ge 0,\\ s \\in \\{-1, +1\\}^P\\}`; its
    projection is :math:`s = \\operatorname{sign}(w)` (``+1`` at zero) and
    :math:`a = \\frac{1}{P}\\sum_i |w_i|`, because for a fixed ``s`` the best scale is
    :math:`s^\\top w / P` and :math:`s^\\top w \\le \\|w\\|_1` with equality at the sign.

    References
    ----------
    Carreira-Perpiñán (2017), section 3.2 ("Low-precision approximation": binarization as
    quantization on a codebook ``{-a, +a}``).

    Examples
    --------
    >>> import numpy as np
    >>> Binarization().project(np.array([0.5, -1.5, 1.0])).tolist()
    [1.0, -1.0, 1.0]
    """

    def compress(self, w, theta0=None) -> BinarizedTheta:
        """C step: signs of ``w`` and scale ``mean |w|`` (``theta0`` is ignored)."""
        w = self._check_w(w)
        if w.size == 0:
            raise ValueError("w must contain at least one weight, got an empty array")
        signs = np.where(w >= 0, 1, -1).astype(np.int8)
        return BinarizedTheta(scale=float(np.mean(np.abs(w))), signs=signs)

    def decompress(self, theta) -> np.ndarray:
        """Weights ``scale * signs``."""
        return theta.scale * theta.signs.astype(float)

    def _project_batch(self, W, state):
        axes = tuple(range(1, W.ndim))
        scale = np.mean(np.abs(W), axis=axes, keepdims=True)
        return scale * np.where(W >= 0, 1.0, -1.0), None


class Pruning(Compression):
    """Pruning by an :math:`\\ell_0` constraint: at most ``kappa`` nonzero weights.

    The feasible set is :math:`\\{w : \\|w\\|_0 \\le \\kappa\\}`; its projection keeps the
    ``kappa`` entries of largest magnitude and zeroes the rest (ties broken by index).

    Parameters
    ----------
    kappa : int
        Number of weights kept, ``0 <= kappa <= w.size`` (checked at compression time).

    References
    ----------
    Carreira-Perpiñán (2017), section 3.2 ("Pruning") and section 6.1 (the C step of
    :math:`\\ell_0` pruning is magnitude thresholding).

    Examples
    --------
    >>> import numpy as np
    >>> Pruning(2).project(np.array([0.1, -3.0, 0.5, 2.0])).tolist()
    [0.0, -3.0, 0.0, 2.0]
    """

    def __init__(self, kappa):
        self.kappa = check_int(kappa, "kappa", low=0)

    def _repr_args(self):
        return {"kappa": self.kappa}

    def _check_kappa(self, size):
        if self.kappa > size:
            raise ValueError(f"kappa must be <= the number of weights {size}, got {self.kappa}")

    def compress(self, w, theta0=None) -> PrunedTheta:
        """C step: indices and values of the ``kappa`` largest magnitudes."""
        w = self._check_w(w)
        self._check_kappa(w.size)
        flat = w.ravel()
        # stable sort on -|w| keeps the lower index among equal magnitudes
        idx = np.sort(np.argsort(-np.abs(flat), kind="stable")[: self.kappa])
        return PrunedTheta(indices=idx, values=flat[idx].copy(), shape=w.shape)

    def decompress(self, theta) -> np.ndarray:
        """Dense weights with ``values`` at ``indices`` and zeros elsewhere."""
        out = np.zeros(math.prod(theta.shape))
        out[theta.indices] = theta.values
        return out.reshape(theta.shape)

    def _project_batch(self, W, state):
        B = W.shape[0]
        flat = W.reshape(B, -1)
        self._check_kappa(flat.shape[1])
        out = np.zeros_like(flat)
        if self.kappa > 0:
            idx = np.argsort(-np.abs(flat), axis=1, kind="stable")[:, : self.kappa]
            rows = np.arange(B)[:, None]
            out[rows, idx] = flat[rows, idx]
        return out.reshape(W.shape), None


class LowRank(Compression):
    """Low-rank compression of a weight matrix: rank at most ``rank`` (truncated SVD C step).

    By the Eckart–Young theorem the closest matrix of rank :math:`\\le r` in Frobenius norm
    keeps the ``r`` leading singular triplets:

    .. math::

        \\Pi(W) = \\sum_{j=1}^r \\sigma_j u_j v_j^\\top = U V^\\top,\\quad
        U = [\\sigma_j u_j]_{j \\le r},\\ V = [v_j]_{j \\le r}.

    Parameters
    ----------
    rank : int
        Target rank ``r >= 1`` (``r <= min(m, n)`` is checked at compression time).
    shape : tuple of two ints, optional
        View a flat weight vector as an ``(m, n)`` matrix (e.g. in a linear regression whose
        coefficient vector is a matrix). Default: ``w`` must already be 2-D.

    References
    ----------
    Carreira-Perpiñán (2017), section 3.2 ("Low-rank compression": the compression mapping
    is the SVD).

    Examples
    --------
    >>> import numpy as np
    >>> W = np.diag([3.0, 2.0, 1.0])
    >>> LowRank(2).project(W).tolist()
    [[3.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.0]]
    """

    def __init__(self, rank, *, shape=None):
        self.rank = check_int(rank, "rank", low=1)
        if shape is not None:
            if len(shape) != 2:
                raise ValueError(f"shape must have two entries (m, n), got {shape!r}")
            shape = (check_int(shape[0], "shape[0]", low=1),
                     check_int(shape[1], "shape[1]", low=1))
            if self.rank > min(shape):
                raise ValueError(f"rank must be <= min(shape) = {min(shape)}, got {self.rank}")
        self.shape = shape

    def _repr_args(self):
        d = {"rank": self.rank}
        if self.shape is not None:
            d["shape"] = self.shape
        return d

    def _as_matrix(self, w, name="w"):
        if self.shape is None:
            if w.ndim != 2:
                raise ValueError(
                    f"{name} must be a 2-D matrix for LowRank (or pass shape=), got shape "
                    f"{w.shape}"
                )
            return w
        if w.size != self.shape[0] * self.shape[1]:
            raise ValueError(
                f"{name} has {w.size} entries, which cannot be viewed with shape {self.shape}"
            )
        return w.reshape(self.shape)

    def compress(self, w, theta0=None) -> LowRankTheta:
        """C step: the ``rank`` leading singular triplets of ``w`` (as a matrix)."""
        w = self._check_w(w)
        M = self._as_matrix(w)
        if self.rank > min(M.shape):
            raise ValueError(f"rank must be <= min(m, n) = {min(M.shape)}, got {self.rank}")
        u, s, vt = np.linalg.svd(M, full_matrices=False)
        r = self.rank
        return LowRankTheta(U=u[:, :r] * s[:r], V=vt[:r].T.copy(), shape=w.shape)

    def decompress(self, theta) -> np.ndarray:
        """Weights ``U @ V.T`` in the original shape."""
        return (theta.U @ theta.V.T).reshape(theta.shape)

    def _project_batch(self, W, state):
        B = W.shape[0]
        if self.shape is None:
            if W.ndim != 3:
                raise ValueError(f"W must have shape (B, m, n) for LowRank, got {W.shape}")
            M = W
        else:
            self._as_matrix(W[0], "W[0]")  # shape check
            M = W.reshape((B,) + self.shape)
        if self.rank > min(M.shape[1:]):
            raise ValueError(f"rank must be <= min(m, n) = {min(M.shape[1:])}, got {self.rank}")
        u, s, vt = np.linalg.svd(M, full_matrices=False)
        r = self.rank
        P = np.einsum("bir,br,brj->bij", u[:, :, :r], s[:, :r], vt[:, :r, :])
        return P.reshape(W.shape), None


# --------------------------------------------------------------------------------------
# several parameter groups
# --------------------------------------------------------------------------------------
class CompressionTask:
    """Which parameter groups are compressed, and how.

    A mapping from a group key (a name such as ``"fc1.weight"`` or an index into a list of
    arrays) to a :class:`Compression`. A key may also be a *tuple* of group keys: those groups
    are then compressed jointly, as one flat vector (e.g. one codebook shared by all layers,
    or one :math:`\\ell_0` budget ``kappa`` for the whole net as in Carreira-Perpiñán 2017,
    section 7). Groups that appear in no key are left uncompressed (free parameters, e.g.
    biases).

    Parameters
    ----------
    mapping : dict
        ``{key or tuple of keys: Compression}``.

    Examples
    --------
    >>> task = CompressionTask({"a": Pruning(1), ("b", "c"): Binarization()})
    >>> [keys for keys, _ in task.entries]
    [('a',), ('b', 'c')]
    >>> task.compressed_keys()
    ['a', 'b', 'c']
    """

    def __init__(self, mapping):
        if isinstance(mapping, CompressionTask):
            mapping = dict(zip([k if len(k) > 1 else k[0] for k, _ in mapping.entries],
                               [c for _, c in mapping.entries], strict=True))
        if not isinstance(mapping, dict) or not mapping:
            raise ValueError(f"mapping must be a non-empty dict of compressions, got {mapping!r}")
        entries = []
        seen = set()
        for key, comp in mapping.items():
            keys = tuple(key) if isinstance(key, tuple) else (key,)
            if not keys:
                raise ValueError("an empty tuple is not a valid group key")
            if not isinstance(comp, Compression):
                raise ValueError(f"mapping[{key!r}] must be a Compression, got {comp!r}")
            for k in keys:
                if k in seen:
                    raise ValueError(f"group {k!r} appears in more than one key of mapping")
                seen.add(k)
            entries.append((keys, comp))
        self.entries = entries

    def compressed_keys(self) -> list:
        """All group keys that are compressed, in order."""
        return [k for keys, _ in self.entries for k in keys]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k if len(k) > 1 else k[0]!r}: {c!r}" for k, c in self.entries)
        return f"CompressionTask({{{inner}}})"
