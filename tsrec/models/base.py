"""The one interface every recommender implements: score all items for a batch of queries.

A query is what a live system knows when asked for a recommendation: who the user is, the
items and times of their history so far, and the time of the request (``now``). Scores are
``[B, n_items + 1]`` with column 0 (padding) ignored; the evaluator masks seen items.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from tsrec.data import require_columns


@dataclass
class QueryBatch:
    """Users, their histories (items and Unix times, oldest first) and the request time."""

    users: np.ndarray
    items: list[np.ndarray]
    times: list[np.ndarray]
    now: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def __getitem__(self, sl: slice) -> "QueryBatch":
        return QueryBatch(self.users[sl], self.items[sl], self.times[sl], self.now[sl])

    def padded(self, max_len: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """Last ``max_len`` items and times, left-padded with 0: shapes [B, max_len] (int64)."""
        B = len(self.users)
        items = np.zeros((B, max_len), dtype=np.int64)
        times = np.zeros((B, max_len), dtype=np.int64)
        for i, (it, tm) in enumerate(zip(self.items, self.times)):
            n = min(len(it), max_len)
            if n:
                items[i, -n:] = it[-n:]
                times[i, -n:] = tm[-n:]
        return torch.from_numpy(items).to(device), torch.from_numpy(times).to(device)


def queries_from_frames(history: pd.DataFrame, targets: pd.DataFrame) -> QueryBatch:
    """Build one query per row of ``targets`` (user, timestamp) from the users' events in ``history``.

    History is ordered by time with ties in row order; the target's timestamp becomes ``now``.
    """
    require_columns(history, ("user", "item", "timestamp"), what="history")
    require_columns(targets, ("user", "timestamp"), what="targets")
    h = history.sort_values(["user", "timestamp"], kind="stable")
    users = h["user"].to_numpy()
    bounds = np.searchsorted(users, targets["user"].to_numpy(), side="left"), \
        np.searchsorted(users, targets["user"].to_numpy(), side="right")
    it, tm = h["item"].to_numpy(), h["timestamp"].to_numpy()
    items = [it[a:b] for a, b in zip(*bounds)]
    times = [tm[a:b] for a, b in zip(*bounds)]
    return QueryBatch(targets["user"].to_numpy(), items, times, targets["timestamp"].to_numpy())


class Recommender:
    """Base class: ``fit`` on training interactions, ``score`` a QueryBatch against all items."""

    name = "recommender"
    n_items: int = 0

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "Recommender":
        raise NotImplementedError

    def score(self, batch: QueryBatch) -> torch.Tensor:
        raise NotImplementedError

    def recommend(self, batch: QueryBatch, k: int = 10, exclude_seen: bool = True) -> np.ndarray:
        """Top-k item ids per query (seen items excluded), equal scores ordered by item id."""
        from tsrec.metrics import topk_items

        scores = self.score(batch)
        mask = seen_mask(batch, scores.shape[1]) if exclude_seen else None
        return topk_items(scores, mask, k).cpu().numpy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def seen_mask(batch: QueryBatch, n_cols: int) -> torch.Tensor:
    """Bool [B, n_cols]: True where the item is in the query's history (to be excluded from ranking)."""
    mask = torch.zeros((len(batch), n_cols), dtype=torch.bool)
    rows = np.repeat(np.arange(len(batch)), [len(x) for x in batch.items])
    if len(rows):
        cols = np.concatenate(batch.items)
        mask[torch.from_numpy(rows), torch.from_numpy(cols.astype(np.int64))] = True
    mask[:, 0] = True
    return mask
