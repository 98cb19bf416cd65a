"""Beyond accuracy: catalogue coverage (Ge et al. 2010), novelty (Zhou et al. 2010), intra-list diversity
(Ziegler et al. 2005) with pluggable item distances (Jaccard over features, cosine over embeddings)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from tsrec.metrics.inputs import as_topk, check_k, float_1d

Distance = Callable[[np.ndarray, np.ndarray], np.ndarray]


def catalog_coverage(topk: Any, n_items: int) -> float:
    """Share of the catalogue that appears in at least one top-k list (Ge et al. 2010); id 0 is ignored."""
    n_items = check_k(n_items, "n_items")
    a = as_topk(topk, n_items)
    ids = np.unique(a)
    return float((ids > 0).sum() / n_items)


def novelty(topk: Any, item_counts: Any, n_users: int) -> float:
    """Mean self-information -log2(count_i / n_users) of recommended items (Zhou et al. 2010): rare = novel.

    ``item_counts`` is indexed by item id (entry 0 = padding, unused); an item with count 0 gets
    p = 1/n_users (as if seen once) so that its information stays finite. Id 0 slots are skipped.
    """
    n_users = check_k(n_users, "n_users")
    c = float_1d(item_counts, "item_counts")
    if (c < 0).any() or (c > n_users).any():
        raise ValueError(f"item_counts must lie in 0..n_users ({n_users}); got min {c.min()}, max {c.max()}")
    a = as_topk(topk, c.size - 1)
    ids = a[a > 0]
    if ids.size == 0:
        raise ValueError("topk holds no item (all slots are 0)")
    p = np.maximum(c[ids], 1.0) / n_users
    return float(np.mean(-np.log2(p)))


def intra_list_diversity(topk: Any, distance: Distance) -> float:
    """Mean pairwise distance inside each list, averaged over lists (Ziegler et al. 2005).

    ``distance(a, b)`` returns element-wise distances of two item-id arrays; pairs with id 0 are
    skipped and lists with fewer than two items do not count.
    """
    a = as_topk(topk)
    b, kk = a.shape
    if kk < 2:
        raise ValueError(f"intra-list diversity needs lists of at least 2 items, got K = {kk}")
    i, j = np.triu_indices(kk, 1)
    left, right = a[:, i], a[:, j]
    ok = (left > 0) & (right > 0)
    d = np.zeros(left.shape, dtype=np.float64)
    d[ok] = np.asarray(distance(left[ok], right[ok]), dtype=np.float64).reshape(-1)
    n_pairs = ok.sum(1)
    keep = n_pairs > 0
    if not keep.any():
        raise ValueError("no list holds two or more items")
    return float(np.mean(d[keep].sum(1) / n_pairs[keep]))


def _check_ids(a: np.ndarray, b: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Item-id arrays of equal shape inside 0..n_rows-1."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if a.shape != b.shape:
        raise ValueError(f"distance arguments differ in shape: {a.shape} vs {b.shape}")
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_rows):
        raise ValueError(f"item ids must lie in 0..{n_rows - 1}")
    return a, b


def jaccard_distance(item_sets: Any) -> Distance:
    """Distance factory 1 - |A∩B|/|A∪B| over item features (e.g. genre sets), indexed by item id.

    ``item_sets`` is a sequence of sets (entry 0 = padding) or a bool/0-1 matrix, dense or scipy
    sparse, with one row per id. Two items with no feature at all have distance 0 (as in scipy).
    """
    import scipy.sparse as sp

    if sp.issparse(item_sets):
        mat = sp.csr_matrix(item_sets, dtype=np.float64)
        mat.data = (mat.data != 0).astype(np.float64)
    elif isinstance(item_sets, np.ndarray) or isinstance(item_sets, torch.Tensor):
        dense = np.asarray(item_sets.cpu() if isinstance(item_sets, torch.Tensor) else item_sets)
        if dense.ndim != 2:
            raise ValueError(f"a feature matrix must be 2-D [n_items+1, n_features], got shape {dense.shape}")
        mat = sp.csr_matrix(dense != 0, dtype=np.float64)
    else:
        sets = [set() if s is None else set(s) for s in item_sets]
        vocab = {f: n for n, f in enumerate(sorted({f for s in sets for f in s}, key=repr))}
        rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
        cols = np.fromiter((vocab[f] for s in sets for f in s), dtype=np.int64, count=rows.size)
        mat = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(len(sets), max(len(vocab), 1)))
    if mat.shape[0] == 0:
        raise ValueError("item_sets is empty")
    sizes = np.asarray(mat.sum(1)).ravel()
    n_rows = mat.shape[0]

    def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise Jaccard distance between items a[i] and b[i]."""
        a, b = _check_ids(a, b, n_rows)
        shape = a.shape
        a, b = a.ravel(), b.ravel()
        inter = np.asarray(mat[a].multiply(mat[b]).sum(1)).ravel()
        union = sizes[a] + sizes[b] - inter
        sim = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
        return (1.0 - sim).reshape(shape)

    return distance


def cosine_distance(embeddings: Any) -> Distance:
    """Distance factory 1 - cos(e_a, e_b) over item embeddings ``[n_items+1, d]`` (e.g. text embeddings).

    A zero vector has cosine similarity 0 with everything (distance 1).
    """
    e = embeddings.detach().cpu().numpy() if isinstance(embeddings, torch.Tensor) else np.asarray(embeddings)
    if e.ndim != 2 or e.shape[0] == 0 or e.shape[1] == 0:
        raise ValueError(f"embeddings must be a non-empty 2-D array [n_items+1, d], got shape {e.shape}")
    e = e.astype(np.float64)
    if not np.isfinite(e).all():
        raise ValueError("embeddings contain NaN or inf")
    norm = np.linalg.norm(e, axis=1, keepdims=True)
    unit = np.divide(e, norm, out=np.zeros_like(e), where=norm > 0)

    def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise cosine distance between items a[i] and b[i], clipped to [0, 2]."""
        a, b = _check_ids(a, b, unit.shape[0])
        return np.clip(1.0 - np.einsum("...d,...d->...", unit[a], unit[b]), 0.0, 2.0)

    return distance
