"""A time-aware next-basket model: every product's repeat and explore evidence, weighed by a logistic regression.

``TimeAwareBasket`` scores each product for a household at a basket's time from features a grocery shopper's
behaviour suggests: for products the household bought before, how often (``log(1 + n)``, the share of its trips),
how recently (a decayed purchase count, days since the last) and how ripe (time since the last purchase against
its typical interval, as ``BuyAgain``); for every product, a time-decayed item-kNN score, the cosine between the
product's text vector (e.g. MiniLM on its attributes) and the household's decayed text profile, the household's
decayed share of its purchases in the product's department, popularity, recent popularity, the product's repeat
rate and its day-of-week seasonality. Bought and never-bought products get their own weights.

The weights are learned from the model's own training log: the baskets of its last ``label_window`` seconds are
next-basket queries on the time before (all products a household bought before, and a seeded sample of the others with
inverse-probability weights); the statistics are then refit on the whole log. Validation stays untouched.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from tsrec.models.base import Recommender, check_fitted, check_interactions
from tsrec.models.basket import BuyAgain, reserve_slots
from tsrec.models.knn import ItemKNN
from tsrec.queries import QueryBatch, queries_from_frames
from tsrec.times import DAY, WEEK

__all__ = ["TimeAwareBasket", "FEATURES"]

REPEAT_FEATURES = ("log_count", "trip_share", "decayed_count", "log_days_since", "ripeness", "ripeness_sq")
SHARED_FEATURES = ("knn", "text", "department_share", "popularity", "recent_popularity", "repeat_rate", "weekday")
FEATURES = ("bought",) + tuple(f"bought:{f}" for f in REPEAT_FEATURES + SHARED_FEATURES) + SHARED_FEATURES


class TimeAwareBasket(Recommender):
    """Next-basket scores: a logistic regression over repeat, text, co-purchase and time features of each product."""

    name = "TimeAwareBasket"

    def __init__(self, item_vectors: np.ndarray | None = None, item_groups: np.ndarray | None = None,
                 label_window: float = 2 * WEEK, half_life: float = 30 * DAY, recent: float = 14 * DAY,
                 negative_rate: float = 0.02, knn_neighbours: int = 100, C: float = 1.0, seed: int = 0,
                 explore_slots: int = 0, k: int = 10, batch_size: int = 128) -> None:
        if not label_window > 0:
            raise ValueError(f"label_window must be positive seconds, got {label_window!r}")
        if not 0 < negative_rate <= 1:
            raise ValueError(f"negative_rate must be in (0, 1], got {negative_rate!r}")
        if not (half_life > 0 and recent > 0):
            raise ValueError(f"half_life and recent must be positive seconds, got {half_life!r} and {recent!r}")
        self.item_vectors = None if item_vectors is None else np.asarray(item_vectors, dtype=np.float32)
        self.item_groups = None if item_groups is None else np.asarray(item_groups, dtype=np.int64)
        self.label_window, self.half_life, self.recent = float(label_window), float(half_life), float(recent)
        self.negative_rate, self.knn_neighbours, self.C = float(negative_rate), int(knn_neighbours), float(C)
        if not (isinstance(explore_slots, (int, np.integer)) and 0 <= explore_slots <= k):
            raise ValueError(f"explore_slots must be an int in 0..k ({k}), got {explore_slots!r}")
        self.seed, self.batch_size = int(seed), int(batch_size)
        self.explore_slots, self.k = int(explore_slots), int(k)
        self.lr: LogisticRegression | None = None

    # -- statistics of a log -------------------------------------------------------------------
    def _fit_stats(self, log: pd.DataFrame, n_users: int) -> None:
        n = self.n_items + 1
        items = log["item"].to_numpy(dtype=np.int64)
        times = log["timestamp"].to_numpy(dtype=np.int64)
        end = int(times.max()) + 1
        self.buy_again = BuyAgain(beta=0.0).fit(log, n_users, self.n_items)
        self.knn = ItemKNN(self.knn_neighbours, time_decay_half_life=self.half_life).fit(log, n_users, self.n_items)
        counts = np.bincount(items, minlength=n).astype(np.float64)
        recent = np.bincount(items[times >= end - self.recent], minlength=n).astype(np.float64)
        self.popularity, self.recent_popularity = np.log1p(counts), np.log1p(recent)
        per_buyer = log.groupby(["user", "item"], sort=False)["timestamp"].nunique().reset_index()
        buyers = np.bincount(per_buyer["item"], minlength=n).astype(np.float64)
        again = np.bincount(per_buyer["item"][per_buyer["timestamp"] > 1], minlength=n).astype(np.float64)
        self.repeat_rate = (again + 1.0) / (buyers + 10.0)                       # shrunk towards 0.1
        weekday = np.zeros((n, 7))
        np.add.at(weekday, (items, (times // DAY + 3) % 7), 1.0)                 # 1970-01-01 was a Thursday
        self.weekday = np.log((weekday + 1.0) / (weekday.sum(1, keepdims=True) + 7.0) * 7.0)

    # -- features of a batch -------------------------------------------------------------------
    def _features(self, batch: QueryBatch) -> tuple[list[np.ndarray], np.ndarray]:
        """The FEATURES as float32 arrays [B, n_items + 1] (in that order) and the bought-before mask."""
        B, n = len(batch), self.n_items + 1
        lens = np.array([len(x) for x in batch.items], dtype=np.int64)
        rows = np.repeat(np.arange(B), lens)
        items = np.concatenate(batch.items).astype(np.int64) if lens.sum() else np.zeros(0, np.int64)
        times = np.concatenate(batch.times).astype(np.float64) if lens.sum() else np.zeros(0)
        now = np.asarray(batch.now, dtype=np.float64)
        past = times <= now[rows]
        decay = np.where(past, 0.5 ** (np.maximum(now[rows] - times, 0.0) / self.half_life), 0.0)
        W = np.zeros((B, n), dtype=np.float32)
        np.add.at(W, (rows, items), decay.astype(np.float32))
        W[:, 0] = 0.0
        st = self.buy_again.state(batch)
        r, i = st["row"].to_numpy(), st["item"].to_numpy()
        trips = np.array([len(np.unique(t[t <= c])) for t, c in zip(batch.times, batch.now)], dtype=np.float64)
        ripe = np.log(st["elapsed"].to_numpy() / st["tau"].to_numpy())
        values = {"log_count": np.log1p(st["n"].to_numpy()), "trip_share": st["n"].to_numpy() / np.maximum(trips[r], 1),
                  "decayed_count": np.log1p(W[r, i]), "log_days_since": np.log(st["elapsed"].to_numpy() / DAY),
                  "ripeness": ripe, "ripeness_sq": ripe ** 2}
        bought = np.zeros((B, n), dtype=bool)
        bought[r, i] = True
        cols = [bought.astype(np.float32)]
        for f in REPEAT_FEATURES:
            col = np.zeros((B, n), dtype=np.float32)
            col[r, i] = values[f]
            cols.append(col)
        knn = self.knn.score(batch).numpy()
        knn[:, 0] = 0.0
        shared = {"knn": knn / np.maximum(knn.max(1, keepdims=True), 1e-12)}
        zero = np.zeros((B, n), dtype=np.float32)
        if self.item_vectors is not None:
            prof = W @ self.item_vectors
            prof /= np.maximum(np.linalg.norm(prof, axis=1, keepdims=True), 1e-12)
            shared["text"] = prof @ self.item_vectors.T
        else:
            shared["text"] = zero
        if self.item_groups is not None:
            G = np.zeros((B, int(self.item_groups.max()) + 1), dtype=np.float32)
            np.add.at(G.T, self.item_groups, W.T)
            G /= np.maximum(G.sum(1, keepdims=True), 1e-12)
            shared["department_share"] = G[:, self.item_groups]
        else:
            shared["department_share"] = zero
        for f, v in (("popularity", self.popularity), ("recent_popularity", self.recent_popularity),
                     ("repeat_rate", self.repeat_rate)):
            shared[f] = np.broadcast_to(v.astype(np.float32), (B, n))
        day = ((np.asarray(batch.now, dtype=np.int64) // DAY + 3) % 7).astype(np.int64)
        shared["weekday"] = self.weekday[:, day].T.astype(np.float32)
        cols += [np.where(bought, shared[f], 0.0).astype(np.float32) for f in SHARED_FEATURES]
        cols += [np.where(bought, 0.0, shared[f]).astype(np.float32) for f in SHARED_FEATURES]
        return cols, bought

    # -- learning ------------------------------------------------------------------------------
    def _label_rows(self, log: pd.DataFrame, start: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Training rows from the baskets at or after ``start``: features, labels and sample weights."""
        later = log[log["timestamp"] >= start]
        key = "basket" if "basket" in later else "timestamp"
        trips = later.groupby(["user", key], sort=False).agg(time=("timestamp", "min")).reset_index()
        batch = queries_from_frames(log, pd.DataFrame({"user": trips["user"], "timestamp": trips["time"]}),
                                    strictly_before=True)
        basket_items = later.groupby(["user", key], sort=False)["item"].unique()
        targets = [basket_items.loc[(u, k)] for u, k in zip(trips["user"], trips[key])]
        rng = np.random.default_rng(self.seed)
        X, y, w = [], [], []
        for s in range(0, len(batch), self.batch_size):
            cols, bought = self._features(batch[s:s + self.batch_size])
            Y = np.zeros(bought.shape, dtype=bool)
            for j, t in enumerate(targets[s:s + self.batch_size]):
                Y[j, t] = True
            keep = bought | Y | (rng.random(bought.shape) < self.negative_rate)
            keep[:, 0] = False
            X.append(np.stack([c[keep] for c in cols], axis=1))
            y.append(Y[keep])
            w.append(np.where(bought[keep] | Y[keep], 1.0, 1.0 / self.negative_rate))
        return np.concatenate(X), np.concatenate(y), np.concatenate(w)

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "TimeAwareBasket":
        """Learn the weights on the last ``label_window`` seconds of ``train`` (statistics from the time before), then
        refit the statistics on all of ``train``."""
        check_interactions(train, n_users, n_items)
        self.n_items = int(n_items)
        if self.item_vectors is not None and self.item_vectors.shape[0] != n_items + 1:
            raise ValueError(f"item_vectors needs one row per item id 0..{n_items}, got {self.item_vectors.shape[0]}")
        if self.item_groups is not None and self.item_groups.shape != (n_items + 1,):
            raise ValueError(f"item_groups needs one group per item id 0..{n_items}, got {self.item_groups.shape}")
        start = int(train["timestamp"].max()) + 1 - int(self.label_window)
        early = train[train["timestamp"] < start]
        if early.empty:
            raise ValueError(f"train spans less than label_window = {self.label_window:g} s: nothing to learn from")
        self._fit_stats(early, n_users)
        X, y, w = self._label_rows(train, start)
        self.scaler = StandardScaler().fit(X, sample_weight=w)
        self.lr = LogisticRegression(C=self.C, max_iter=1000).fit(self.scaler.transform(X), y, sample_weight=w)
        self.n_training_rows = len(y)
        self._fit_stats(train, n_users)
        return self

    def weights(self) -> pd.Series:
        """The learned weight of each (standardised) feature."""
        check_fitted(self, "lr")
        return pd.Series(self.lr.coef_[0], index=list(FEATURES), name="weight")

    def score(self, batch: QueryBatch) -> torch.Tensor:
        """The logistic regression's log-odds of each product being in the basket at the query's time; with
        ``explore_slots``, the best never-bought products take that many of the top ``k`` (a setting of scoring,
        so it can be tuned without a refit)."""
        check_fitted(self, "lr")
        w = (self.lr.coef_[0] / self.scaler.scale_).astype(np.float32)        # the scaler folded into the weights
        bias = self.lr.intercept_[0] - float(w @ self.scaler.mean_)
        out = []
        for s in range(0, len(batch), self.batch_size):
            cols, bought = self._features(batch[s:s + self.batch_size])
            z = np.full(bought.shape, bias, dtype=np.float32)
            for weight, col in zip(w, cols):
                z += weight * col
            z = torch.from_numpy(z)
            z[:, 0] = float("-inf")
            if self.explore_slots:
                z = reserve_slots(z, torch.from_numpy(bought), z, self.explore_slots, self.k)
            out.append(z)
        scores = torch.cat(out) if out else torch.zeros((0, self.n_items + 1))
        scores[:, 0] = float("-inf")
        return scores

    def __repr__(self) -> str:
        text = "text" if self.item_vectors is not None else "no text"
        slots = f", explore_slots={self.explore_slots}" if self.explore_slots else ""
        return (f"TimeAwareBasket({text}, label_window={self.label_window / DAY:g} d, "
                f"half_life={self.half_life / DAY:g} d{slots})")
