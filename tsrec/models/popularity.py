"""Popularity baselines: all-time counts, counts in a recent window and time-decayed counts.

The time-aware ones are computed "as of" each query's request time ``now``: only events with
``timestamp <= now`` count (the convention of ``tsrec.windows``), so a model fitted on a log that
extends past a query never peeks into that query's future. Both are vectorised over the batch
with one ``searchsorted`` on the events sorted by (item, timestamp).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from tsrec.models.base import Recommender, check_fitted, check_interactions
from tsrec.queries import QueryBatch

__all__ = ["Popularity", "RecentPopularity", "DecayedPopularity"]


# ----------------------------------------------------------------------------- models
class Popularity(Recommender):
    """Training count of every item, the same for every user: the baseline every model must beat."""

    name = "Pop"

    def __init__(self) -> None:
        self.counts: np.ndarray | None = None

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "Popularity":
        check_interactions(train, n_users, n_items)
        self.n_items = int(n_items)
        self.counts = np.bincount(train["item"].to_numpy(dtype=np.int64), minlength=n_items + 1).astype(np.float64)
        self.counts[0] = 0.0
        return self

    def score(self, batch: QueryBatch) -> torch.Tensor:
        check_fitted(self, "counts")
        s = torch.from_numpy(self.counts).float().expand(len(batch), -1).clone()
        s[:, 0] = float("-inf")
        return s


class _TimedEvents(Recommender):
    """Events sorted by (item, timestamp) with one int64 key per event, for per-query 'as of now' lookups."""

    def _fit_events(self, train: pd.DataFrame, n_users: int, n_items: int) -> tuple[np.ndarray, np.ndarray]:
        check_interactions(train, n_users, n_items)
        self.n_items = int(n_items)
        items = train["item"].to_numpy(dtype=np.int64)
        ts = train["timestamp"].to_numpy(dtype=np.int64)
        order = np.lexsort((ts, items))
        items, ts = items[order], ts[order]
        self._t0 = int(ts.min())
        self._span = int(ts.max() - self._t0) + 2          # offsets 0..span-1, so item * span + offset is sortable
        self._keys = items * self._span + (ts - self._t0)
        self._start = np.searchsorted(items, np.arange(n_items + 1), side="left")  # first event of each item
        return items, ts

    def _n_upto(self, now: np.ndarray) -> np.ndarray:
        """[B, n_items + 1] index one past the last event of each item with timestamp <= now (per query)."""
        off = np.clip(np.asarray(now, dtype=np.int64) - self._t0, -1, self._span - 1)
        ids = np.arange(self.n_items + 1, dtype=np.int64)
        # an offset of -1 (before every event) maps to key item*span - 1, below the item's first key
        return np.searchsorted(self._keys, ids[None, :] * self._span + off[:, None], side="right")


class RecentPopularity(_TimedEvents):
    """Events per item in the window (now - window, now] of each query: "popular lately", no future events.

    A strong baseline under a global time split (benchmarks/anchors.md: popular-in-the-last-7-days beats
    vanilla SASRec on ML-20M). With ``tiebreak`` items with equal window counts (often 0) are ordered by
    their count as of now.
    """

    name = "RecentPop"

    def __init__(self, window_seconds: float, tiebreak: bool = True) -> None:
        if not (isinstance(window_seconds, (int, float, np.integer, np.floating)) and window_seconds > 0):
            raise ValueError(f"window_seconds must be a positive number, got {window_seconds!r}")
        self.window_seconds = float(window_seconds)
        self.tiebreak = bool(tiebreak)
        self._keys: np.ndarray | None = None

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "RecentPopularity":
        self._fit_events(train, n_users, n_items)
        return self

    def counts_at(self, now: np.ndarray) -> np.ndarray:
        """[B, n_items + 1] exact counts of events with now - window < t <= now (column 0 is 0)."""
        check_fitted(self, "_keys")
        now = np.atleast_1d(np.asarray(now, dtype=np.int64))
        lo = np.floor(now - self.window_seconds).astype(np.int64)   # integer times: t > now - w  <=>  t > floor(.)
        return (self._n_upto(now) - self._n_upto(lo)).astype(np.float64)

    def score(self, batch: QueryBatch) -> torch.Tensor:
        """Recent counts; with ``tiebreak`` plus all-time-as-of-now count / (max + 1) (< 1) to order equal counts."""
        c = self.counts_at(batch.now)
        if self.tiebreak:
            total = (self._n_upto(np.asarray(batch.now, dtype=np.int64)) - self._start[None, :]).astype(np.float64)
            c = c + total / (total.max(axis=1, keepdims=True) + 1.0)
        s = torch.from_numpy(c).float()
        s[:, 0] = float("-inf")
        return s

    def __repr__(self) -> str:
        return f"RecentPopularity(window_seconds={self.window_seconds:g})"


class DecayedPopularity(_TimedEvents):
    """Sum over past events of 0.5 ** ((now - t) / half_life) per item, as of each query's ``now``.

    Exact and vectorised: per item, log S_k = log sum_{j <= k} 2 ** ((t_j - t_k) / h) is precomputed
    with a segmented ``logaddexp.accumulate``; a query then needs only its item's last event before now.
    """

    name = "DecayPop"

    def __init__(self, half_life_seconds: float) -> None:
        if not (isinstance(half_life_seconds, (int, float, np.integer, np.floating)) and half_life_seconds > 0):
            raise ValueError(f"half_life_seconds must be a positive number, got {half_life_seconds!r}")
        self.half_life_seconds = float(half_life_seconds)
        self._keys: np.ndarray | None = None

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "DecayedPopularity":
        items, ts = self._fit_events(train, n_users, n_items)
        rate = math.log(2.0) / self.half_life_seconds
        x = (ts - self._t0).astype(np.float64) * rate                # log-weights, increasing within an item
        seg = np.cumsum(np.r_[0, items[1:] != items[:-1]])         # 0, 1, ... per item segment
        # lift each segment far above everything before it, so one running logaddexp acts per segment
        width = float(x.max()) + 60.0
        y = x + seg * width
        self._log_s = np.logaddexp.accumulate(y) - y               # log sum_{j<=k, same item} 2**((t_j - t_k)/h)
        self._ts = ts
        self._rate = rate
        return self

    def scores_at(self, now: np.ndarray) -> np.ndarray:
        """[B, n_items + 1] decayed counts as of each ``now`` (float64; column 0 is 0)."""
        check_fitted(self, "_keys")
        now = np.atleast_1d(np.asarray(now, dtype=np.int64))
        k = self._n_upto(now) - 1                                    # last event with t <= now, per item
        has = k >= self._start[None, :]
        kk = np.where(has, k, 0)
        age = now[:, None].astype(np.float64) - self._ts[kk].astype(np.float64)
        return np.exp(np.where(has, self._log_s[kk] - age * self._rate, -np.inf))  # exp(-inf) = 0: no overflow

    def score(self, batch: QueryBatch) -> torch.Tensor:
        s = torch.from_numpy(self.scores_at(batch.now)).float()
        s[:, 0] = float("-inf")
        return s

    def __repr__(self) -> str:
        return f"DecayedPopularity(half_life_seconds={self.half_life_seconds:g})"
