"""Time-windowed co-visitation: two items are related when one user rated them close together in time.

Item-kNN counts two items as related whenever one user ever rated both, years apart or seconds apart. Users act
in bursts (a session of ratings, a shopping trip), and what a burst holds together is more telling than a whole
history. ``CoVisitation`` therefore counts a pair only when the two events are at most ``window`` events apart in
the user's time-ordered log *and* at most ``max_gap`` seconds apart, weighting a pair by 1 / distance (the
sequential rules of Ludewig & Jannach 2018; YouTube's co-visitation counts within a time span, Davidson et al.
2010). Rows are normalised to sum to one, so a score is a mixture of "what came next / before" distributions;
the query's history items are weighted by 0.5 ** ((now - t) / half_life), so the last few items dominate.

    C[i, j] = sum over users, over event pairs (p, q) with 0 < |q - p| <= window and |t_q - t_p| <= max_gap,
              of w(q - p) / |q - p|,   w = 1 forward (q after p), ``backward`` for q before p
    S = diag(1 / C 1) C,   score(u, j) = sum over history items h of 0.5 ** ((now - t_h) / half_life) S[h, j]
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from tsrec.models.base import Recommender, check_fitted, check_interactions
from tsrec.models.knn import history_matrix
from tsrec.queries import QueryBatch

__all__ = ["CoVisitation", "covisitation_counts"]


def covisitation_counts(train: pd.DataFrame, n_items: int, window: int, max_gap: float, backward: float
                        ) -> sp.csr_matrix:
    """[n_items + 1, n_items + 1] CSR of distance-weighted counts C[i, j] of j following (or preceding) i."""
    df = train.sort_values(["user", "timestamp"], kind="stable")  # ties keep the file's row order
    u = df["user"].to_numpy(np.int64)
    i = df["item"].to_numpy(np.int64)
    t = df["timestamp"].to_numpy(np.float64)
    rows, cols, vals = [], [], []
    for d in range(1, min(window, max(len(u) - 1, 0)) + 1):
        near = (u[d:] == u[:-d]) & (t[d:] - t[:-d] <= max_gap)
        first, then = i[:-d][near], i[d:][near]
        rows += [first, then]
        cols += [then, first]
        vals += [np.full(len(first), 1.0 / d), np.full(len(first), backward / d)]
    if not rows:
        return sp.csr_matrix((n_items + 1, n_items + 1))
    C = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                      shape=(n_items + 1, n_items + 1))
    C.sum_duplicates()
    C.setdiag(0.0)  # an item is not its own neighbour (a re-rated item)
    C.eliminate_zeros()
    return C


class CoVisitation(Recommender):
    """Items rated close together in time by the same user recommend each other; the last items count most."""

    name = "CoVisitation"

    def __init__(self, window: int = 20, max_gap: float = 3600.0, backward: float = 1.0, half_life: float = 10.0
                 ) -> None:
        if not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"window must be a positive number of events, got {window!r}")
        if not max_gap > 0:
            raise ValueError(f"max_gap must be a positive number of seconds, got {max_gap!r}")
        if not backward >= 0:
            raise ValueError(f"backward must be a weight >= 0, got {backward!r}")
        if not half_life > 0:
            raise ValueError(f"half_life must be a positive number of seconds, got {half_life!r}")
        self.window, self.max_gap = int(window), float(max_gap)
        self.backward, self.half_life = float(backward), float(half_life)
        self.transitions: sp.csr_matrix | None = None

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "CoVisitation":
        check_interactions(train, n_users, n_items)
        self.n_items = int(n_items)
        C = covisitation_counts(train, self.n_items, self.window, self.max_gap, self.backward)
        totals = np.asarray(C.sum(axis=1)).ravel()
        self.transitions = (sp.diags(np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)) @ C
                            ).tocsr()
        return self

    def score(self, batch: QueryBatch) -> torch.Tensor:
        check_fitted(self, "transitions")
        H = sp.csr_matrix(history_matrix(batch, self.n_items + 1, self.half_life))
        scores = torch.from_numpy((H @ self.transitions).toarray()).float()
        scores[:, 0] = float("-inf")
        return scores

    def __repr__(self) -> str:
        return (f"CoVisitation(window={self.window}, max_gap={self.max_gap:g}, backward={self.backward:g}, "
                f"half_life={self.half_life:g})")
