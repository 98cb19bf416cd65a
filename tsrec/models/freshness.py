"""Freshness-aware recommenders for a feed whose items are posts with creation times (chapter 7.2).

``FreshVelocity`` scores a post by its expected engagement rate *now*: under an exponential decay with
half-life ``h`` a post of age ``a`` has had the exposure ``1 - 2 ** (-a / h)`` of its lifetime, so its count
so far estimates its appeal (a gamma-Poisson posterior, shrunk towards a prior for young posts) and the rate
now is that appeal times ``2 ** (-a / h)``. ``FollowTopic`` multiplies that rate by how likely this user is to
be the one who engages: through the follow graph (a follower of the author, one of ``n_followers``) or through
the topic (the user's share of the topic's engagements). Posts not yet created score 0. Counts grow with
``learn_one``, so a stream (``tsrec.online``) can keep them up to date per event.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from tsrec.models.base import Recommender, check_batch_users, check_fitted, check_interactions
from tsrec.queries import QueryBatch

__all__ = ["FreshVelocity", "FollowTopic"]


def _per_item(values: np.ndarray, name: str, n: int | None = None) -> np.ndarray:
    v = np.asarray(values)
    if v.ndim != 1 or (n is not None and len(v) != n):
        raise ValueError(f"{name} must be one value per item id 0..n_items ([n_items + 1]), got shape {v.shape}")
    return v


class FreshVelocity(Recommender):
    """Expected engagement rate now: (count + a0) / (b0 + 1 - 2^(-age/h)) * 2^(-age/h); 0 before creation."""

    name = "FreshVelocity"

    def __init__(self, created: np.ndarray, half_life_seconds: float, prior_count: float = 1.0,
                 prior_exposure: float = 0.05) -> None:
        if not (isinstance(half_life_seconds, (int, float, np.integer, np.floating)) and half_life_seconds > 0):
            raise ValueError(f"half_life_seconds must be a positive number, got {half_life_seconds!r}")
        if not (prior_count >= 0 and prior_exposure > 0):
            raise ValueError("prior_count must be >= 0 and prior_exposure > 0")
        self.created = _per_item(created, "created").astype(np.float64)
        self.half_life_seconds = float(half_life_seconds)
        self.prior_count, self.prior_exposure = float(prior_count), float(prior_exposure)
        self.counts: np.ndarray | None = None

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> FreshVelocity:
        check_interactions(train, n_users, n_items)
        _per_item(self.created, "created", n_items + 1)
        self.n_users, self.n_items = int(n_users), int(n_items)
        self.counts = np.bincount(train["item"].to_numpy(dtype=np.int64), minlength=n_items + 1).astype(np.float64)
        return self

    def start_empty(self, n_users: int, n_items: int) -> FreshVelocity:
        """Start from no engagements at all (a stream then teaches every one with ``learn_one``); returns self."""
        _per_item(self.created, "created", n_items + 1)
        self.n_users, self.n_items = int(n_users), int(n_items)
        self.counts = np.zeros(n_items + 1, dtype=np.float64)
        return self

    def learn_one(self, user: int, item: int) -> None:
        """Count one more engagement (after it has been predicted: the stream keeps counts in the past)."""
        check_fitted(self, "counts")
        self.counts[int(item)] += 1.0

    def rates(self, now: np.ndarray) -> np.ndarray:
        """[B, n_items + 1] expected engagement rates at each ``now`` (float64; column 0 and unborn posts 0)."""
        check_fitted(self, "counts")
        age = np.asarray(now, dtype=np.float64).reshape(-1, 1) - self.created[None, :]
        left = np.exp2(-np.clip(age, 0.0, None) / self.half_life_seconds)      # share of the lifetime still to come
        r = (self.counts[None, :] + self.prior_count) * left / (self.prior_exposure + 1.0 - left)
        r[age < 0] = 0.0
        r[:, 0] = 0.0
        return r

    def _scores(self, batch: QueryBatch) -> np.ndarray:
        return self.rates(batch.now)

    def score(self, batch: QueryBatch) -> torch.Tensor:
        s = torch.from_numpy(self._scores(batch)).float()
        s[:, 0] = float("-inf")
        return s

    def __repr__(self) -> str:
        return f"{type(self).__name__}(half_life_seconds={self.half_life_seconds:g})"


class FollowTopic(FreshVelocity):
    """FreshVelocity times P(this user | post): f * follows / n_followers + (1 - f) * the user's topic share.

    ``f``, the share of engagements that come from the author's followers, is fitted on the log (with one
    pseudo-count each way);
    the topic share is (user's engagements with the topic + 1) / (all engagements with it + n_users), from
    the query's history, so it is as of the request time.
    """

    name = "FollowTopic"

    def __init__(self, created: np.ndarray, author: np.ndarray, topic: np.ndarray, follows: np.ndarray,
                 half_life_seconds: float, **prior) -> None:
        super().__init__(created, half_life_seconds, **prior)
        n = len(self.created)
        self.author = _per_item(author, "author", n).astype(np.int64)
        self.topic = _per_item(topic, "topic", n).astype(np.int64)
        self.follows = np.asarray(follows, dtype=bool)
        if self.follows.ndim != 2 or self.author.max() >= self.follows.shape[1]:
            raise ValueError("follows must be bool [n_users + 1, n_authors + 1] covering every author id")
        self.n_topics = int(self.topic.max()) + 1
        self.follower_share: float | None = None

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> FollowTopic:
        super().fit(train, n_users, n_items)
        items, users = train["item"].to_numpy(dtype=np.int64), train["user"].to_numpy(dtype=np.int64)
        self._graph(n_users)
        self._followed = float(self.follows[users, self.author[items]].sum())
        self._n = float(len(items))
        self.follower_share = (self._followed + 1.0) / (self._n + 2.0)
        self.topic_counts = np.bincount(self.topic[items], minlength=self.n_topics).astype(np.float64)
        return self

    def start_empty(self, n_users: int, n_items: int) -> FollowTopic:
        super().start_empty(n_users, n_items)
        self._graph(n_users)
        self._followed, self._n, self.follower_share = 0.0, 0.0, 0.5
        self.topic_counts = np.zeros(self.n_topics, dtype=np.float64)
        return self

    def _graph(self, n_users: int) -> None:
        if self.follows.shape[0] != n_users + 1:
            raise ValueError(f"follows has {self.follows.shape[0] - 1} users, the log {n_users}")
        self.n_followers = np.maximum(self.follows.sum(0), 1).astype(np.float64)

    def learn_one(self, user: int, item: int) -> None:
        super().learn_one(user, item)
        self._followed += float(self.follows[int(user), self.author[int(item)]])
        self._n += 1.0
        self.follower_share = (self._followed + 1.0) / (self._n + 2.0)
        self.topic_counts[self.topic[int(item)]] += 1.0

    def _scores(self, batch: QueryBatch) -> np.ndarray:
        users = check_batch_users(batch.users, self.n_users)
        f = float(self.follower_share)
        via_follow = self.follows[users][:, self.author] / self.n_followers[self.author][None, :]
        mine = np.stack([np.bincount(self.topic[np.asarray(h, dtype=np.int64)], minlength=self.n_topics)
                         for h in batch.items]).astype(np.float64)
        share = (mine + 1.0) / (self.topic_counts[None, :] + self.n_users)       # [B, n_topics]
        return self.rates(batch.now) * (f * via_follow + (1.0 - f) * share[:, self.topic])
