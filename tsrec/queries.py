"""What a model is asked: a batch of queries, each a user's history so far and the time of the request.

A query is what a live system knows when asked for a recommendation: who the user is, the items and
times of their history (oldest first) and the request time ``now``. Every recommender scores a
``QueryBatch``; ``seen_mask`` marks the items a query must not be recommended, and ``left_pad`` is the
one way a history becomes a fixed-width window (the last events, zeros in front).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from tsrec.data import require_columns

__all__ = ["QueryBatch", "left_pad", "queries_from_frames", "event_queries", "seen_mask"]


def left_pad(seqs: Sequence[Sequence[int] | np.ndarray], length: int | None = None) -> np.ndarray:
    """[B, length] int64: the last ``length`` values of each sequence right-aligned, zeros in front.

    ``length=None`` uses the longest sequence. 0 is padding everywhere in the package (item 0, token 0).
    """
    width = max((len(s) for s in seqs), default=0) if length is None else int(length)
    out = np.zeros((len(seqs), width), dtype=np.int64)
    for row, s in enumerate(seqs):
        n = min(len(s), width)
        if n:
            out[row, width - n:] = np.asarray(s)[len(s) - n:]
    return out


@dataclass
class QueryBatch:
    """Users [B], their histories (items and Unix times, oldest first) and the request times ``now`` [B]."""

    users: np.ndarray
    items: list[np.ndarray]
    times: list[np.ndarray]
    now: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def __getitem__(self, rows: slice | np.ndarray | Sequence[int]) -> QueryBatch:
        """The queries at ``rows``: a slice, or integer positions in any order."""
        if isinstance(rows, slice):
            return QueryBatch(self.users[rows], self.items[rows], self.times[rows], self.now[rows])
        rows = np.asarray(rows, dtype=np.int64)
        return QueryBatch(np.asarray(self.users)[rows], [self.items[i] for i in rows],
                          [self.times[i] for i in rows], np.asarray(self.now)[rows])

    def padded(self, max_len: int, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """Last ``max_len`` items and times, left-padded with 0: two int64 tensors [B, max_len]."""
        items = torch.from_numpy(left_pad(self.items, max_len)).to(device)
        return items, torch.from_numpy(left_pad(self.times, max_len)).to(device)


def queries_from_frames(history: pd.DataFrame, targets: pd.DataFrame, strictly_before: bool = False) -> QueryBatch:
    """One query per row of ``targets`` (user, timestamp) from the users' events in ``history``.

    History is ordered by time with ties in row order; the target's timestamp becomes ``now``. With
    ``strictly_before``, each history stops before that time (a basket's query does not hold the basket).
    """
    require_columns(history, ("user", "item", "timestamp"), what="history")
    require_columns(targets, ("user", "timestamp"), what="targets")
    h = history.sort_values(["user", "timestamp"], kind="stable")
    users = h["user"].to_numpy()
    wanted = targets["user"].to_numpy()
    lo, hi = np.searchsorted(users, wanted, side="left"), np.searchsorted(users, wanted, side="right")
    it, tm = h["item"].to_numpy(), h["timestamp"].to_numpy()
    if strictly_before:
        now = targets["timestamp"].to_numpy()
        hi = lo + np.array([np.searchsorted(tm[a:b], t, side="left") for a, b, t in zip(lo, hi, now)], dtype=np.int64)
    return QueryBatch(wanted, [it[a:b] for a, b in zip(lo, hi)], [tm[a:b] for a, b in zip(lo, hi)],
                      targets["timestamp"].to_numpy())


def event_queries(events: pd.DataFrame, is_query: np.ndarray | None = None) -> tuple[QueryBatch, np.ndarray]:
    """One query per event (or per event where ``is_query``) that has an earlier event of the same user:
    that user's earlier events (time order, ties in row order) at the event's time; and the events' items.

    ``is_query`` is aligned with the rows of ``events``. Histories are views of one array, so a query per
    event costs no copy.
    """
    require_columns(events, ("user", "item", "timestamp"), what="events")
    flag = np.ones(len(events), bool) if is_query is None else np.asarray(is_query, dtype=bool)
    if flag.shape != (len(events),):
        raise ValueError(f"is_query must have one flag per event ({len(events)}), got shape {flag.shape}")
    ordered = events.assign(_query=flag).sort_values(["user", "timestamp"], kind="stable")
    users, items, times = (ordered[c].to_numpy() for c in ("user", "item", "timestamp"))
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    first = np.repeat(starts, np.diff(np.r_[starts, len(users)]))
    idx = np.flatnonzero(ordered["_query"].to_numpy() & (np.arange(len(users)) > first))
    batch = QueryBatch(users[idx], [items[first[i]:i] for i in idx], [times[first[i]:i] for i in idx], times[idx])
    return batch, items[idx]


def seen_mask(batch: QueryBatch, n_cols: int) -> torch.Tensor:
    """Bool [B, n_cols]: True where the item is in the query's history (excluded from ranking), and column 0."""
    mask = torch.zeros((len(batch), n_cols), dtype=torch.bool)
    rows = np.repeat(np.arange(len(batch)), [len(x) for x in batch.items])
    if len(rows):
        cols = np.concatenate(batch.items)
        mask[torch.from_numpy(rows), torch.from_numpy(cols.astype(np.int64))] = True
    mask[:, 0] = True
    return mask
