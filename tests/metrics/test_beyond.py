"""Tests of tsrec.metrics.beyond: coverage, novelty, Jaccard and cosine distances, intra-list diversity."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from tsrec.metrics import catalog_coverage, cosine_distance, intra_list_diversity, jaccard_distance, novelty

# --------------------------------------------------------------------------- beyond accuracy

# Toy catalogue: items 1..6 with genres; item 5 has none; padding row 0.
GENRES = [set(), {"A"}, {"A"}, {"B"}, {"A", "B"}, set(), {"B"}]
TOY_TOPK = np.array([[1, 2, 3], [1, 3, 4], [2, 5, 0]])  # the third list has only 2 items


def test_catalog_coverage_toy():
    # distinct recommended {1,2,3,4,5} over 6 items; the 0 slot is not an item
    assert catalog_coverage(TOY_TOPK, 6) == pytest.approx(5 / 6)
    assert catalog_coverage(TOY_TOPK[:1], 6) == pytest.approx(3 / 6)


def test_novelty_toy():
    counts = np.array([0, 8, 4, 2, 1, 0, 3])  # n_users = 8
    # -log2(p): item1 p=1 -> 0, item2 1/2 -> 1, item3 1/4 -> 2, item4 1/8 -> 3, item5 count 0 -> p=1/8 -> 3
    # entries: [0,1,2] + [0,2,3] + [1,3] = 12 over 8 slots -> 1.5
    assert novelty(TOY_TOPK, counts, 8) == pytest.approx(1.5)


def test_jaccard_and_ild_toy():
    dist = jaccard_distance(GENRES)
    # d(1,2) = 0 (same {A}); d(1,3) = 1; d(1,4) = 1 - 1/2; d(2,5) = 1 ({A} vs {}); d(5,5) = 0 (both empty)
    assert dist(np.array([1, 1, 1, 2, 5]), np.array([2, 3, 4, 5, 5])).tolist() == pytest.approx([0, 1, 0.5, 1, 0])
    # list 1: (0 + 1 + 1)/3; list 2: (1 + 0.5 + 0.5)/3; list 3: one pair (2,5) = 1 -> mean (2/3 + 2/3 + 1)/3
    assert intra_list_diversity(TOY_TOPK, dist) == pytest.approx(7 / 9)
    # the same genres as a dense bool matrix and as a sparse matrix give the same distances
    mat = np.array([[g in s for g in "AB"] for s in GENRES])
    a, b = np.array([1, 1, 3, 4, 2]), np.array([4, 3, 6, 6, 5])
    ref = dist(a, b)
    assert jaccard_distance(mat)(a, b) == pytest.approx(ref)
    assert jaccard_distance(sp.csr_matrix(mat.astype(int)))(a, b) == pytest.approx(ref)


def test_cosine_distance_and_ild():
    emb = np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1]], dtype=float)
    dist = cosine_distance(emb)
    c = 1 - 1 / math.sqrt(2)
    # d(1,2) = 0 (parallel); d(1,3) = 1 (orthogonal); d(1,4) = d(3,4) = 1 - cos 45°
    assert dist(np.array([1, 1, 1, 3]), np.array([2, 3, 4, 4])) == pytest.approx([0, 1, c, c])
    # list [1,3,4]: pairs (1,3), (1,4), (3,4) -> (1 + 2c)/3; list [1,2,0]: (1,2) only -> 0
    assert intra_list_diversity(np.array([[1, 3, 4], [1, 2, 0]]), dist) == pytest.approx(((1 + 2 * c) / 3 + 0) / 2)
