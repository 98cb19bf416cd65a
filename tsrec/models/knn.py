"""Item-based k-nearest-neighbours (Sarwar et al. 2001; Deshpande & Karypis 2004), optionally time-decayed.

Similarity comes from the binary user-item matrix (scipy sparse), computed in row blocks so that
memory stays at ``block x n_items``; each item keeps its ``k_neighbors`` most similar items. A user's
score for item i is the sum of similarities between i and the items of the history; with
``time_decay_half_life`` each history item is weighted by 0.5 ** ((now - t) / half_life), so what the
user did recently counts more (the time-decayed item-kNN of Ding & Li 2005).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from tsrec.models.base import Recommender, check_fitted, check_interactions
from tsrec.queries import QueryBatch

__all__ = ["ItemKNN", "interaction_matrix", "history_matrix"]

SIMILARITIES = ("cosine", "jaccard", "asymmetric")


def interaction_matrix(train: pd.DataFrame, n_users: int, n_items: int) -> sp.csr_matrix:
    """Binary [n_users + 1, n_items + 1] CSR matrix: 1 where the user interacted with the item (repeats count once)."""
    u = train["user"].to_numpy(dtype=np.int64)
    i = train["item"].to_numpy(dtype=np.int64)
    X = sp.csr_matrix((np.ones(len(u), dtype=np.float64), (u, i)), shape=(n_users + 1, n_items + 1))
    X.sum_duplicates()
    X.data[:] = 1.0
    return X


def history_matrix(batch: QueryBatch, n_cols: int, half_life: float | None = None) -> np.ndarray:
    """Dense [B, n_cols] weight of each history item: 1, or 0.5 ** ((now - t) / half_life) of its latest event.

    Events after ``now`` (should a caller pass them) get weight 0: a query sees only its past.
    """
    B = len(batch)
    H = np.zeros((B, n_cols), dtype=np.float64)
    lens = np.array([len(x) for x in batch.items], dtype=np.int64)
    if lens.sum() == 0:
        return H
    rows = np.repeat(np.arange(B), lens)
    cols = np.concatenate(batch.items).astype(np.int64)
    if cols.min() < 0 or cols.max() >= n_cols:
        raise ValueError(f"history holds item ids outside 0..{n_cols - 1}; encode them with the training IdMap")
    t = np.concatenate(batch.times).astype(np.float64)
    now = np.repeat(np.asarray(batch.now, dtype=np.float64), lens)
    if half_life is None:
        w = (t <= now).astype(np.float64)
    else:
        # no overflow for future events
        w = np.where(t <= now, 0.5 ** (np.maximum(now - t, 0.0) / float(half_life)), 0.0)
    np.maximum.at(H, (rows, cols), w)
    H[:, 0] = 0.0
    return H


class ItemKNN(Recommender):
    """Item-item collaborative filtering: score(u, i) = sum over history items j of sim(j, i) (top-k per item).

    ``similarity``: "cosine" co / (sqrt(n_i n_j) + shrink), "jaccard" co / (n_i + n_j - co + shrink),
    "asymmetric" co / (n_i^alpha n_j^(1-alpha) + shrink). ``shrink`` damps similarities from few co-occurrences.
    """

    name = "ItemKNN"

    def __init__(self, k_neighbors: int = 100, shrink: float = 10.0, similarity: str = "cosine",
                 time_decay_half_life: float | None = None, alpha: float = 0.5, block_size: int | None = None) -> None:
        if similarity not in SIMILARITIES:
            raise ValueError(f"similarity must be one of {SIMILARITIES}, got {similarity!r}")
        if not isinstance(k_neighbors, (int, np.integer)) or k_neighbors < 1:
            raise ValueError(f"k_neighbors must be a positive int, got {k_neighbors!r}")
        if shrink < 0:
            raise ValueError(f"shrink must be >= 0, got {shrink!r}")
        if time_decay_half_life is not None and not time_decay_half_life > 0:
            raise ValueError(f"time_decay_half_life must be positive or None, got {time_decay_half_life!r}")
        self.k_neighbors = int(k_neighbors)
        self.shrink = float(shrink)
        self.similarity = similarity
        self.time_decay_half_life = time_decay_half_life
        self.alpha = float(alpha)
        self.block_size = block_size
        self.sim: sp.csr_matrix | None = None

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "ItemKNN":
        check_interactions(train, n_users, n_items)
        self.n_items = int(n_items)
        X = interaction_matrix(train, n_users, n_items)
        self.sim = self.similarity_matrix(X)
        return self

    def similarity_matrix(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """[n_items + 1, n_items + 1] CSR: row j holds the k most similar items to j (no self-similarity)."""
        n = X.shape[1]
        Xc = X.tocsc()
        XT = Xc.T.tocsr()
        norms = np.asarray(X.sum(axis=0)).ravel()                  # users per item
        k = min(self.k_neighbors, n - 1)
        block = self.block_size or max(1, int(2e7 // max(n, 1)))
        rows, cols, vals = [], [], []
        for start in range(0, n, block):
            stop = min(n, start + block)
            co = (XT[start:stop] @ Xc).toarray()                     # [blk, n] co-occurrence counts
            ni, nj = norms[start:stop, None], norms[None, :]
            if self.similarity == "cosine":
                den = np.sqrt(ni * nj) + self.shrink
            elif self.similarity == "jaccard":
                den = ni + nj - co + self.shrink
            else:
                den = ni ** self.alpha * nj ** (1.0 - self.alpha) + self.shrink
            s = np.divide(co, den, out=np.zeros_like(co), where=den > 0)
            s[np.arange(stop - start), np.arange(start, stop)] = 0.0  # an item is not its own neighbour
            s[:, 0] = 0.0
            if k < n:
                top = np.argpartition(-s, k - 1, axis=1)[:, :k]
            else:
                top = np.broadcast_to(np.arange(n), s.shape)
            v = np.take_along_axis(s, top, axis=1)
            keep = v > 0
            rows.append(np.repeat(np.arange(start, stop), keep.sum(1)))
            cols.append(top[keep])
            vals.append(v[keep])
        S = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
        S.sort_indices()
        return S

    def score(self, batch: QueryBatch) -> torch.Tensor:
        check_fitted(self, "sim")
        H = sp.csr_matrix(history_matrix(batch, self.n_items + 1, self.time_decay_half_life))  # histories are short
        scores = torch.from_numpy((H @ self.sim).toarray()).float()
        scores[:, 0] = float("-inf")
        return scores

    def __repr__(self) -> str:
        hl = f", time_decay_half_life={self.time_decay_half_life:g}" if self.time_decay_half_life else ""
        return f"ItemKNN(k_neighbors={self.k_neighbors}, shrink={self.shrink:g}, similarity={self.similarity!r}{hl})"
