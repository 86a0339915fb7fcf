r"""Entropy coding of cluster labels and the compression ratio of Bu et al. (2021).

After quantization each weight (or block of weights) is stored as the index of its
cluster. Those indices are entropy coded with a binary Huffman code, and the K cluster
centres are stored once per layer as a lookup table of full-precision numbers. The
fraction of the original storage that remains is eq. (39) of the paper,
:func:`compression_ratio`.

References
----------
.. [1] Y. Bu, W. Gao, S. Zou, V. V. Veeravalli, "Population risk improvement with model
   compression: an information-theoretic approach", Entropy 23(10):1255, 2021, eq. (39).
.. [2] D. A. Huffman, "A method for the construction of minimum-redundancy codes",
   Proc. IRE 40(9):1098-1101, 1952.
.. [3] T. M. Cover, J. A. Thomas, *Elements of Information Theory*, 2nd ed., Wiley,
   2006, Section 5.6 (optimality of Huffman codes) and Theorem 5.4.1.
"""

from __future__ import annotations

import heapq
import numbers

import numpy as np

from infocompress._validation import as_finite_array, check_int

__all__ = ["compression_ratio", "entropy_bits", "huffman_code", "huffman_code_lengths"]


def _check_counts(counts) -> np.ndarray:
    c = as_finite_array(counts, "counts", ndim=1)
    neg = np.flatnonzero(c < 0)
    if neg.size:
        raise ValueError(f"counts must be >= 0; entry {neg[0]} is {c[neg[0]]}")
    return c


def _huffman_lengths(c: np.ndarray) -> np.ndarray:
    """Huffman code lengths for non-negative counts c (validated)."""
    K = c.size
    lengths = np.zeros(K, dtype=np.int64)
    used = np.flatnonzero(c > 0)
    if used.size == 0:
        return lengths
    if used.size == 1:
        lengths[used] = 1
        return lengths
    # Heap entries (count, tie, node): ties broken by symbol index, then by creation
    # order of internal nodes (which get tie values K, K + 1, ...).
    heap = [(float(c[s]), int(s), int(s)) for s in used]
    heapq.heapify(heap)
    parent = {}
    next_node = K
    while len(heap) > 1:
        c1, _, n1 = heapq.heappop(heap)
        c2, _, n2 = heapq.heappop(heap)
        parent[n1] = parent[n2] = next_node
        heapq.heappush(heap, (c1 + c2, next_node, next_node))
        next_node += 1
    root = next_node - 1
    depth = {root: 0}
    for node in range(root - 1, K - 1, -1):  # internal nodes, parents before children
        depth[node] = depth[parent[node]] + 1
    for s in used:
        lengths[s] = depth[parent[int(s)]] + 1
    return lengths


def huffman_code_lengths(counts) -> np.ndarray:
    r"""Codeword lengths (bits) of an optimal binary Huffman code for the given counts.

    Symbols with count 0 are not coded and get length 0. Conventions that matter for
    eq. (39):

    * a single symbol with a positive count gets length 1 (one bit per occurrence; a
      code needs at least one bit to mark an occurrence), so the average length is
      then 1 although the entropy is 0;
    * ties between equal counts are broken deterministically (lower symbol index first,
      then older internal node first), so the result never depends on dictionary or
      heap order. Different tie-breaks can give different lengths with the same total
      cost :math:`\sum_k n_k \ell_k`.

    With at least two used symbols the lengths satisfy the Kraft equality
    :math:`\sum_k 2^{-\ell_k} = 1` and the average length
    :math:`\bar\ell = \sum_k p_k \ell_k` (with :math:`p_k = n_k / \sum n`) obeys
    :math:`H(p) \le \bar\ell < H(p) + 1` in bits.

    Parameters
    ----------
    counts : array-like of shape (K,)
        Non-negative counts (or frequencies) of the K symbols.

    Returns
    -------
    ndarray of int of shape (K,)
        Code length of each symbol; 0 for unused symbols.

    Raises
    ------
    ValueError
        If ``counts`` is not 1-D, contains NaN/inf or a negative entry.

    References
    ----------
    Huffman (1952); Cover & Thomas (2006), Section 5.6; used for eq. (39) of Bu et al.
    (2021).

    Examples
    --------
    >>> huffman_code_lengths([1, 1, 2, 4]).tolist()
    [3, 3, 2, 1]
    >>> huffman_code_lengths([0, 5, 0]).tolist()
    [0, 1, 0]
    """
    return _huffman_lengths(_check_counts(counts))


def huffman_code(counts) -> list[str]:
    r"""Canonical Huffman codewords for the given counts.

    The lengths are those of :func:`huffman_code_lengths`; codewords are assigned in the
    canonical way (symbols sorted by length, then index; each codeword is the previous
    one plus one, shifted left when the length grows), which gives a prefix-free code.

    Parameters
    ----------
    counts : array-like of shape (K,)
        Non-negative counts.

    Returns
    -------
    list of str
        Codeword of each symbol as a string of '0'/'1'; ``''`` for unused symbols.

    References
    ----------
    Huffman (1952); Cover & Thomas (2006), Section 5.6.

    Examples
    --------
    >>> huffman_code([1, 1, 2, 4])
    ['110', '111', '10', '0']
    """
    lengths = huffman_code_lengths(counts)
    codes = [""] * lengths.size
    order = sorted(np.flatnonzero(lengths).tolist(), key=lambda s: (lengths[s], s))
    code, prev = 0, 0
    for s in order:
        ell = int(lengths[s])
        code <<= ell - prev
        codes[s] = format(code, f"0{ell}b")
        code += 1
        prev = ell
    return codes


def entropy_bits(counts) -> float:
    r"""Shannon entropy, in bits, of the empirical distribution given by counts.

    .. math::

        H = -\sum_{k:\, n_k > 0} p_k \log_2 p_k, \qquad p_k = n_k / \textstyle\sum_i n_i .

    It is the lower bound on the average Huffman codeword length.

    Parameters
    ----------
    counts : array-like of shape (K,)
        Non-negative counts with a positive total.

    Returns
    -------
    float
        Entropy in bits.

    Raises
    ------
    ValueError
        On negative, NaN/inf or all-zero counts.

    References
    ----------
    Cover & Thomas (2006), Theorem 5.4.1.

    Examples
    --------
    >>> entropy_bits([1, 1, 2, 4])
    1.75
    """
    c = _check_counts(counts)
    tot = c.sum()
    if not tot > 0:
        raise ValueError(f"counts must have a positive total, got {tot}")
    p = c[c > 0] / tot
    return float(-np.sum(p * np.log2(p)) + 0.0)


def _as_layers(labels_per_layer) -> list[np.ndarray]:
    if isinstance(labels_per_layer, np.ndarray):
        layers = [labels_per_layer]
    else:
        try:
            items = list(labels_per_layer)
        except TypeError:
            raise ValueError(
                "labels_per_layer must be an integer array or a sequence of them, got "
                f"{labels_per_layer!r}"
            ) from None
        if len(items) == 0:
            raise ValueError("labels_per_layer must hold at least one layer, got none")
        layers = [items] if all(np.ndim(x) == 0 for x in items) else items
    out = []
    for i, lab in enumerate(layers):
        a = np.asarray(lab)
        if a.size == 0:
            raise ValueError(f"layer {i} of labels_per_layer is empty")
        if a.dtype.kind not in "iu":
            if a.dtype.kind == "b" or not (
                a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a))
            ):
                raise ValueError(f"labels_per_layer[{i}] must hold integers, got dtype {a.dtype}")
            a = a.astype(np.int64)
        out.append(a.reshape(-1))
    return out


def compression_ratio(labels_per_layer, n_clusters, *, bits=32, block=1) -> float:
    r"""Compression ratio of eq. (39) of Bu et al. (2021) with per-layer Huffman codes.

    Each layer :math:`\ell` has :math:`d_\ell` weights, quantized to :math:`K_\ell`
    centres (vectors of length ``m = block``) that are stored in a lookup table of
    :math:`K_\ell m b` bits; the label of every weight (block) is coded with a Huffman
    code built on that layer's label counts :math:`|C_\ell^{(k)}|`, giving lengths
    :math:`b_{\ell k}` (:func:`huffman_code_lengths`). The ratio of compressed to
    original storage is

    .. math::

        \text{ratio} = \frac{\sum_\ell \bigl(\sum_{k=1}^{K_\ell}
            |C_\ell^{(k)}|\, b_{\ell k} + K_\ell\, m\, b\bigr)}{\sum_\ell d_\ell\, b},
        \qquad d_\ell = m \cdot (\text{number of labels of layer } \ell),

    which for one layer and ``m = 1`` is exactly eq. (39),
    :math:`(\sum_k |C^{(k)}| b_k + K b) / (d b)`. Smaller means more compression (it is
    the reciprocal of the "x-fold compression" quoted by Han et al. 2016). The codebook
    is charged for all :math:`K_\ell` centres, used or not; the Huffman code table itself
    is not charged, as in the paper.

    Parameters
    ----------
    labels_per_layer : array-like of int, or sequence of them
        Cluster labels of each layer, values in ``[0, K_l)``. A numpy array, or a flat
        sequence of integers, is one layer; otherwise each element is a layer (any
        shape, flattened).
    n_clusters : int or sequence of int
        Codebook size :math:`K_\ell` of every layer (one int for all layers), >= 1.
    bits : int, default 32
        Bits b per stored full-precision number.
    block : int, default 1
        Block length m of vector quantization: one label stands for m weights.

    Returns
    -------
    float
        The compression ratio.

    Raises
    ------
    ValueError
        On an empty layer, non-integer labels, a label outside ``[0, K_l)``, a
        ``n_clusters`` sequence of the wrong length or with an entry < 1, or
        ``bits < 1`` or ``block < 1``.

    References
    ----------
    Bu et al. (2021), eq. (39); Huffman (1952).

    Examples
    --------
    One layer of 8 weights, K = 2 with counts (6, 2): Huffman lengths (1, 1), so the
    labels cost 8 bits and the codebook 2 x 32 bits:

    >>> compression_ratio([0, 0, 0, 0, 0, 0, 1, 1], 2)
    0.28125
    >>> (8 + 2 * 32) / (8 * 32)
    0.28125
    """
    layers = _as_layers(labels_per_layer)
    L = len(layers)
    if isinstance(n_clusters, numbers.Integral) and not isinstance(n_clusters, bool):
        ks = [check_int(n_clusters, "n_clusters", low=1)] * L
    else:
        try:
            ks = list(n_clusters)
        except TypeError:
            raise ValueError(
                f"n_clusters must be an int or a sequence of ints, got {n_clusters!r}"
            ) from None
        if len(ks) != L:
            raise ValueError(
                f"n_clusters has {len(ks)} entries but labels_per_layer has {L} layers"
            )
        ks = [check_int(k, f"n_clusters[{i}]", low=1) for i, k in enumerate(ks)]
    b = check_int(bits, "bits", low=1)
    m = check_int(block, "block", low=1)
    payload = 0
    codebook = 0
    d = 0
    for i, (lab, K) in enumerate(zip(layers, ks, strict=True)):
        lo, hi = int(lab.min()), int(lab.max())
        if lo < 0 or hi >= K:
            bad = lo if lo < 0 else hi
            raise ValueError(
                f"labels_per_layer[{i}] must lie in [0, {K}) for n_clusters={K}, got {bad}"
            )
        counts = np.bincount(lab, minlength=K)
        payload += int(np.sum(counts * _huffman_lengths(counts.astype(float))))
        codebook += K * m * b
        d += lab.size * m
    return (payload + codebook) / (d * b)
