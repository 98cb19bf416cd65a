"""Next-basket models: buy-again with each household-product's repurchase interval, and a repeat/explore mix.

Both follow the contract of ``tsrec.models.base`` (``fit(train, n_users, n_items)``, ``score(batch)``), and read
the household's own purchases from each query's history, so they are up to date at every basket without a refit.

``BuyAgain`` scores a product the household bought before by how often it bought it and how ripe it is now:
``log(1 + n) - beta / 2 * log(elapsed / tau) ** 2``, with ``n`` the household's purchase times of the product,
``elapsed`` the time since the last one and ``tau`` its typical interval (the household's own mean gap, or the
product's median over households when the household bought it once). ``beta = 0`` is the time-blind personal
frequency. Products never bought come after every bought one, in popularity order.

``RepeatExplore`` fills ``k - n_explore`` slots with buy-again's best products and ``n_explore`` slots with an
explore model's best products the household has never bought (e.g. a decayed item-kNN).

``PromotionBoost`` multiplies a basket model's scores by ``exp(weight)`` for the products on display or in the
mailer in the query's week at the household's main store: the week's promotions are set before it starts.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import torch

from tsrec.data import require_columns
from tsrec.models.base import Recommender, check_fitted, check_interactions
from tsrec.queries import QueryBatch, seen_mask
from tsrec.times import DAY, HOUR

__all__ = ["BuyAgain", "PromotionBoost", "RepeatExplore", "main_store", "purchase_stats", "reserve_slots"]


def purchase_stats(rows: np.ndarray, items: np.ndarray, times: np.ndarray) -> pd.DataFrame:
    """Per (row, item): distinct purchase times ``n``, ``first``, ``last`` and mean gap ``gap`` (NaN if n = 1)."""
    f = pd.DataFrame({"row": rows, "item": items, "t": times}).drop_duplicates()
    g = f.groupby(["row", "item"], sort=True)["t"].agg(n="size", first="min", last="max").reset_index()
    g["gap"] = np.where(g["n"] > 1, (g["last"] - g["first"]) / np.maximum(g["n"] - 1, 1), np.nan)
    return g


def reserve_slots(repeat: torch.Tensor, bought: torch.Tensor, explore: torch.Tensor | None, n_explore: int,
                  k: int) -> torch.Tensor:
    """Scores whose top ``k`` are the ``k - n_explore`` best bought products by ``repeat``, then the
    ``n_explore`` best never-bought ones by ``explore``; below them every product in ``repeat``'s order."""
    finite = torch.where(torch.isfinite(repeat), repeat, torch.zeros_like(repeat))
    span = finite.max(dim=1, keepdim=True).values - finite.min(dim=1, keepdim=True).values
    out = (finite - finite.min(dim=1, keepdim=True).values) / (span + 1.0)      # [0, 1): repeat's order
    n_rep = k - n_explore
    slot = torch.arange(k, 0, -1, dtype=out.dtype) / (k + 1)                    # (0, 1), decreasing by position
    if n_rep:
        vals, idx = torch.where(bought, repeat, torch.full_like(repeat, float("-inf"))).topk(
            min(n_rep, repeat.shape[1]), 1)
        ok = torch.isfinite(vals)
        out.scatter_(1, idx, torch.where(ok, 3.0 + slot[:idx.shape[1]].expand_as(vals), out.gather(1, idx)))
    if n_explore and explore is not None:
        ex = torch.where(bought, torch.full_like(explore, float("-inf")), explore)
        ex[:, 0] = float("-inf")
        vals, idx = ex.topk(min(n_explore, ex.shape[1] - 1), 1)
        ok = torch.isfinite(vals)
        out.scatter_(1, idx, torch.where(ok, 2.0 + slot[:idx.shape[1]].expand_as(vals), out.gather(1, idx)))
    out[:, 0] = float("-inf")
    return out


class BuyAgain(Recommender):
    """Repurchase score of the household's own products: frequency times ripeness (time since last / interval)."""

    name = "BuyAgain"

    def __init__(self, beta: float = 1.0, min_interval: float = DAY) -> None:
        if not (isinstance(beta, (int, float, np.integer, np.floating)) and beta >= 0):
            raise ValueError(f"beta must be a number >= 0, got {beta!r}")
        if not min_interval > 0:
            raise ValueError(f"min_interval must be positive, got {min_interval!r}")
        self.beta = float(beta)
        self.min_interval = float(min_interval)
        self.prior: np.ndarray | None = None

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "BuyAgain":
        """Popularity (the order of never-bought products) and each product's median interval over households."""
        check_interactions(train, n_users, n_items)
        self.n_items = int(n_items)
        items = train["item"].to_numpy(dtype=np.int64)
        self.counts = np.bincount(items, minlength=n_items + 1).astype(np.float64)
        self.counts[0] = 0.0
        st = purchase_stats(train["user"].to_numpy(), items, train["timestamp"].to_numpy(dtype=np.int64))
        gaps = st.dropna(subset=["gap"])
        overall = float(gaps["gap"].median()) if len(gaps) else 30.0 * DAY
        prior = np.full(n_items + 1, overall, dtype=np.float64)
        med = gaps.groupby("item")["gap"].median()
        prior[med.index.to_numpy(dtype=np.int64)] = med.to_numpy()
        self.prior = np.maximum(prior, self.min_interval)
        return self

    def state(self, batch: QueryBatch) -> pd.DataFrame:
        """Per (query row, bought product): n, last, the interval tau used, elapsed time and the repurchase score."""
        check_fitted(self, "prior")
        lens = np.array([len(x) for x in batch.items], dtype=np.int64)
        rows = np.repeat(np.arange(len(batch)), lens)
        items = np.concatenate(batch.items).astype(np.int64) if lens.sum() else np.zeros(0, dtype=np.int64)
        times = np.concatenate(batch.times).astype(np.int64) if lens.sum() else np.zeros(0, dtype=np.int64)
        now = np.asarray(batch.now, dtype=np.int64)
        past = times <= now[rows]
        st = purchase_stats(rows[past], items[past], times[past])
        own = st["gap"].to_numpy()
        st["tau"] = np.where(np.isnan(own), self.prior[st["item"].to_numpy()], np.maximum(own, self.min_interval))
        st["elapsed"] = np.maximum(now[st["row"].to_numpy()] - st["last"].to_numpy(), HOUR).astype(np.float64)
        ratio = np.log(st["elapsed"].to_numpy() / st["tau"].to_numpy())
        st["score"] = np.log1p(st["n"].to_numpy()) - 0.5 * self.beta * ratio ** 2
        return st

    def score(self, batch: QueryBatch) -> torch.Tensor:
        """Bought products: 1 + exp(repurchase score) (> 1); the others: popularity / (max + 1) (< 1)."""
        check_fitted(self, "prior")
        s = np.broadcast_to(self.counts / (self.counts.max() + 1.0), (len(batch), self.n_items + 1)).copy()
        st = self.state(batch)
        s[st["row"].to_numpy(), st["item"].to_numpy()] = 1.0 + np.exp(st["score"].to_numpy())
        out = torch.from_numpy(s).float()
        out[:, 0] = float("-inf")
        return out

    def __repr__(self) -> str:
        return f"BuyAgain(beta={self.beta:g})"


class RepeatExplore(Recommender):
    """The first ``k - n_explore`` slots from buy-again (bought products), the next ``n_explore`` from an explore
    model's best never-bought products; the rest in buy-again's order."""

    name = "RepeatExplore"

    def __init__(self, repeat: Recommender, explore: Recommender, n_explore: int = 2, k: int = 10) -> None:
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        if not isinstance(n_explore, (int, np.integer)) or not 0 <= n_explore <= k:
            raise ValueError(f"n_explore must be an int in 0..k ({k}), got {n_explore!r}")
        self.repeat, self.explore, self.n_explore, self.k = repeat, explore, int(n_explore), int(k)
        self.fitted = False

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "RepeatExplore":
        check_interactions(train, n_users, n_items)
        self.repeat.fit(train, n_users, n_items)
        self.explore.fit(train, n_users, n_items)
        self.n_items, self.fitted = int(n_items), True
        return self

    def score(self, batch: QueryBatch) -> torch.Tensor:
        """3 + ... for the repeat slots, 2 + ... for the explore slots, buy-again's score / its max below."""
        if not self.fitted:
            raise RuntimeError("RepeatExplore is not fitted: call fit(train, n_users, n_items) first")
        rep = self.repeat.score(batch)
        ex = self.explore.score(batch).float() if self.n_explore else None
        return reserve_slots(rep, seen_mask(batch, rep.shape[1]), ex, self.n_explore, self.k)

    def __repr__(self) -> str:
        return f"RepeatExplore({self.repeat!r}, {self.explore!r}, n_explore={self.n_explore}, k={self.k})"


def main_store(lines: pd.DataFrame, n_users: int | None = None) -> pd.Series | np.ndarray:
    """Each household's most visited store (counted in baskets; ties to the lower store id); with ``n_users``, as
    the array ``PromotionBoost`` reads (index = user id 1..n_users, -1 where a household has no line item)."""
    require_columns(lines, ["user", "store", "basket"], what="line items")
    visits = lines.drop_duplicates(["user", "basket"]).groupby(["user", "store"]).size().rename("n").reset_index()
    visits = visits.sort_values(["user", "n", "store"], ascending=[True, False, True], kind="stable")
    stores = visits.drop_duplicates("user").set_index("user")["store"]
    if n_users is None:
        return stores
    out = np.full(n_users + 1, -1, dtype=np.int64)
    out[stores.index.to_numpy(dtype=np.int64)] = stores.to_numpy(dtype=np.int64)
    return out


class PromotionBoost(Recommender):
    """A basket model's non-negative scores times ``exp(weight)`` for each product promoted in the query's week at
    the household's main store: ``promoted[(store, week)]`` holds the product ids, ``week_starts[w - 1]`` the first
    second of study week ``w``, ``user_store[u]`` household u's store (-1: none; see ``main_store``)."""

    name = "PromotionBoost"

    def __init__(self, base: Recommender, promoted: Mapping[tuple[int, int], np.ndarray], week_starts: np.ndarray,
                 user_store: np.ndarray, weight: float = 1.0) -> None:
        if not np.isfinite(weight):
            raise ValueError(f"weight must be a finite number, got {weight!r}")
        self.base, self.promoted, self.weight = base, promoted, float(weight)
        self.week_starts = np.asarray(week_starts, dtype=np.int64)
        self.user_store = np.asarray(user_store, dtype=np.int64)
        self.fitted = False

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "PromotionBoost":
        check_interactions(train, n_users, n_items)
        if len(self.user_store) < n_users + 1:
            raise ValueError(f"user_store has {len(self.user_store)} entries; it needs one per user id 0..{n_users}")
        self.base.fit(train, n_users, n_items)
        self.n_items, self.fitted = int(n_items), True
        return self

    def score(self, batch: QueryBatch) -> torch.Tensor:
        if not self.fitted:
            raise RuntimeError("PromotionBoost is not fitted: call fit(train, n_users, n_items) first")
        s = self.base.score(batch)
        if self.weight == 0.0:
            return s
        if (s[:, 1:] < 0).any():
            raise ValueError(f"PromotionBoost needs non-negative base scores; {self.base!r} gives negative ones")
        weeks = np.searchsorted(self.week_starts, np.asarray(batch.now, dtype=np.int64), side="right")
        factor = float(np.exp(self.weight))
        for row, (store, week) in enumerate(zip(self.user_store[np.asarray(batch.users)], weeks)):
            items = self.promoted.get((int(store), int(week)))
            if items is not None and len(items):
                s[row, torch.as_tensor(np.array(items, dtype=np.int64))] *= factor
        return s

    def __repr__(self) -> str:
        return f"PromotionBoost({self.base!r}, weight={self.weight:g})"
