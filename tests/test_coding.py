"""Tests of infocompress.coding: Huffman lengths and the compression ratio of eq. (39)."""

import heapq
import itertools

import numpy as np
import pytest

from infocompress.coding import (
    compression_ratio,
    entropy_bits,
    huffman_code,
    huffman_code_lengths,
)
from infocompress.quantize import drhw_kmeans


def huffman_total_cost(counts):
    """Sum of the weights of all merged nodes = sum_k n_k l_k of any Huffman code."""
    heap = [float(c) for c in counts if c > 0]
    heapq.heapify(heap)
    total = 0.0
    while len(heap) > 1:
        s = heapq.heappop(heap) + heapq.heappop(heap)
        total += s
        heapq.heappush(heap, s)
    return total


def best_prefix_code_cost(counts):
    """Brute force: min sum n_k l_k over integer lengths with sum 2^-l_k <= 1 (Kraft)."""
    K = len(counts)
    c = np.asarray(counts, dtype=float)
    grid = np.array(list(itertools.product(range(1, K), repeat=K)))  # lengths 1..K-1
    ok = np.sum(2.0**-grid, axis=1) <= 1 + 1e-12
    return float(np.min(grid[ok] @ c))


# ------------------------------------------------------------------------ Huffman
def test_known_small_cases():
    assert huffman_code_lengths([1, 1, 2, 4]).tolist() == [3, 3, 2, 1]
    assert huffman_code_lengths([4, 2, 1, 1]).tolist() == [1, 2, 3, 3]
    assert huffman_code_lengths([1, 1, 1, 1]).tolist() == [2, 2, 2, 2]
    # three equal counts: symbols 0 and 1 are merged first (lowest indices)
    assert huffman_code_lengths([1, 1, 1]).tolist() == [2, 2, 1]
    assert huffman_code_lengths([3, 3]).tolist() == [1, 1]


def test_zero_counts_and_single_symbol_convention():
    assert huffman_code_lengths([0, 7, 0]).tolist() == [0, 1, 0]
    assert huffman_code_lengths([0, 0]).tolist() == [0, 0]
    assert huffman_code_lengths([0, 1, 0, 1]).tolist() == [0, 1, 0, 1]
    assert huffman_code_lengths([]).tolist() == []


@pytest.mark.parametrize("seed", range(30))
def test_kraft_equality_entropy_bounds_and_cost(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(2, 40))
    counts = rng.integers(0, 1000, size=K) * (rng.random(K) > 0.2)
    counts[:2] += 1  # at least two used symbols
    ell = huffman_code_lengths(counts)
    used = counts > 0
    assert np.all(ell[~used] == 0) and np.all(ell[used] >= 1)
    assert np.sum(2.0 ** -ell[used]) == pytest.approx(1.0, abs=1e-12)
    p = counts / counts.sum()
    avg = float(p @ ell)
    H = entropy_bits(counts)
    assert H - 1e-12 <= avg < H + 1
    assert float(counts @ ell) == pytest.approx(huffman_total_cost(counts))


@pytest.mark.parametrize("seed", range(15))
def test_optimal_against_brute_force(seed):
    rng = np.random.default_rng(100 + seed)
    K = int(rng.integers(2, 7))
    counts = rng.integers(1, 50, size=K)
    ell = huffman_code_lengths(counts)
    assert float(counts @ ell) == pytest.approx(best_prefix_code_cost(counts))


def test_float_counts_accepted():
    assert huffman_code_lengths([0.1, 0.1, 0.2, 0.6]).tolist() == [3, 3, 2, 1]


def test_huffman_code_is_prefix_free():
    rng = np.random.default_rng(3)
    counts = rng.integers(0, 100, size=25)
    codes = huffman_code(counts)
    ell = huffman_code_lengths(counts)
    assert [len(c) for c in codes] == ell.tolist()
    used = [c for c in codes if c]
    assert len(set(used)) == len(used)
    for a, b in itertools.permutations(used, 2):
        assert not b.startswith(a)
    assert huffman_code([0, 5]) == ["", "0"]


def test_entropy_bits_closed_forms():
    assert entropy_bits([1, 1, 1, 1]) == pytest.approx(2.0)
    assert entropy_bits([1, 1, 2, 4]) == pytest.approx(1.75)
    assert entropy_bits([0, 3, 0]) == 0.0
    p = 0.3
    assert entropy_bits([p, 1 - p]) == pytest.approx(-p * np.log2(p) - (1 - p) * np.log2(1 - p))


# -------------------------------------------------------------- compression ratio
def test_compression_ratio_hand_computed():
    # layer A: counts (3, 2, 1) -> lengths (1, 2, 2) -> 3 + 4 + 2 = 9 bits; codebook 3*32
    # layer B: counts (0, 4)    -> lengths (0, 1)    -> 4 bits;           codebook 2*32
    A = np.array([0, 0, 0, 1, 1, 2])
    B = np.array([1, 1, 1, 1])
    assert huffman_code_lengths(np.bincount(A)).tolist() == [1, 2, 2]
    assert compression_ratio([A, B], [3, 2]) == pytest.approx((9 + 96 + 4 + 64) / (10 * 32))
    # a single codebook size for all layers: layer B pays for 3 centres
    assert compression_ratio([A, B], 3) == pytest.approx((9 + 96 + 4 + 96) / (10 * 32))
    # block m = 2: each label stands for 2 weights and each centre for 2 numbers
    assert compression_ratio([A, B], [3, 2], block=2) == pytest.approx(
        (9 + 2 * 96 + 4 + 2 * 64) / (20 * 32)
    )
    # 8-bit originals
    assert compression_ratio(A, 3, bits=8) == pytest.approx((9 + 3 * 8) / (6 * 8))


def test_compression_ratio_layer_forms():
    lab = [0, 1, 1, 2, 2, 2, 2]
    r = compression_ratio(lab, 3)
    assert compression_ratio(np.array(lab), 3) == r
    assert compression_ratio([np.array(lab)], [3]) == r
    assert compression_ratio(np.array(lab).reshape(7, 1), 3) == r
    assert compression_ratio(np.array(lab, dtype=float), 3) == r


def test_compression_ratio_of_quantized_layer():
    # eq. (39) for a real quantization equals the per-label Huffman cost plus codebook
    w = np.random.default_rng(4).standard_normal(1000)
    res = drhw_kmeans(w, None, 8)
    counts = np.bincount(res.labels, minlength=8)
    ell = huffman_code_lengths(counts)
    expect = (counts @ ell + 8 * 32) / (1000 * 32)
    assert compression_ratio(res.labels, 8) == pytest.approx(expect)
    # at most log2(K) + 1 bits per label, so at least 32/(3 + 1)-fold compression
    assert compression_ratio(res.labels, 8) < (4 + 8 * 32 / 1000) / 32


# ------------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("counts", "match"),
    [
        ([1, -1, 2], "entry 1 is -1"),
        ([1, np.nan], "finite"),
        ([[1, 2]], "ndim"),
    ],
)
def test_counts_value_errors(counts, match):
    with pytest.raises(ValueError, match=match):
        huffman_code_lengths(counts)
    with pytest.raises(ValueError, match=match):
        entropy_bits(counts)
    with pytest.raises(ValueError, match=match):
        huffman_code(counts)


def test_entropy_needs_positive_total():
    with pytest.raises(ValueError, match="positive total"):
        entropy_bits([0, 0])


@pytest.mark.parametrize(
    ("labels", "k", "kw", "match"),
    [
        ([0, 1, 3], 3, {}, r"labels_per_layer\[0\].*got 3"),
        ([0, -1], 3, {}, "got -1"),
        ([0.5, 1.0], 3, {}, "integers"),
        ([np.array([0, 1]), np.array([], dtype=int)], 2, {}, "layer 1 .*empty"),
        ([], 2, {}, "at least one layer"),
        ([np.array([0, 1]), np.array([1])], [2, 2, 2], {}, "3 entries"),
        ([0, 1], 0, {}, "n_clusters"),
        ([0, 1], [2.5], {}, r"n_clusters\[0\]"),
        ([0, 1], 2, {"bits": 0}, "bits"),
        ([0, 1], 2, {"block": 0}, "block"),
        (np.array([True, False]), 2, {}, "integers"),
        (5, 2, {}, "labels_per_layer"),
    ],
)
def test_compression_ratio_value_errors(labels, k, kw, match):
    with pytest.raises(ValueError, match=match):
        compression_ratio(labels, k, **kw)
