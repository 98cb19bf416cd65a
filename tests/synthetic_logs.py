"""Tiny, fully predictable interaction logs and queries shared by the model tests."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.queries import QueryBatch

T0 = 1_704_067_200  # 2024-01-01 00:00 UTC, a Monday
DAY = 86_400


def counting_log(n_users: int = 40, n_items: int = 30, length: int = 10, seed: int = 0) -> pd.DataFrame:
    """Each user consumes consecutive items s, s+1, ... (after n_items comes 1): next = last + 1."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n_users + 1):
        start = int(rng.integers(0, n_items))
        t = T0 + u * 1000 + np.cumsum(rng.integers(60, 7200, length))
        rows += [(u, (start + i) % n_items + 1, int(t[i])) for i in range(length)]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"])


def frame(users, items, times, ratings=None) -> pd.DataFrame:
    """An interactions frame with int64 ids and times (and float32 ratings)."""
    df = pd.DataFrame({"user": np.asarray(users, dtype=np.int64), "item": np.asarray(items, dtype=np.int64),
                       "timestamp": np.asarray(times, dtype=np.int64)})
    if ratings is not None:
        df["rating"] = np.asarray(ratings, dtype=np.float32)
    return df


def query(users, now, items=None, times=None) -> QueryBatch:
    """Queries of ``users`` at ``now`` (one time, or one per user) with the given histories (default empty)."""
    users = np.atleast_1d(np.asarray(users, dtype=np.int64))
    items = items if items is not None else [np.array([], dtype=np.int64) for _ in users]
    times = times if times is not None else [np.array([], dtype=np.int64) for _ in users]
    return QueryBatch(users, [np.asarray(x, dtype=np.int64) for x in items],
                      [np.asarray(x, dtype=np.int64) for x in times],
                      np.broadcast_to(np.asarray(now), users.shape).copy())


def random_log(n: int = 400, n_users: int = 25, n_items: int = 15, seed: int = 0) -> pd.DataFrame:
    """Uniformly random users, items and times over 30 days."""
    rng = np.random.default_rng(seed)
    return frame(rng.integers(1, n_users + 1, n), rng.integers(1, n_items + 1, n), T0 + rng.integers(0, 30 * DAY, n))


def cooccurrence_log() -> pd.DataFrame:
    """Item 1 always with item 2 (8 users), item 3 with item 4 (5 users), item 5 alone and popular."""
    rows = [(u, 1) for u in range(1, 9)] + [(u, 2) for u in range(1, 9)]
    rows += [(u, 3) for u in range(9, 14)] + [(u, 4) for u in range(9, 14)]
    rows += [(u, 5) for u in range(14, 30)]
    rows += [(30, 1), (30, 3)]
    u, i = zip(*rows)
    return frame(u, i, T0 + np.arange(len(rows)))


def two_clusters(seed: int = 0) -> pd.DataFrame:
    """30 users like items 1-10, 15 users like items 11-20; each user sees 7 of their 10 items over time."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, 46):
        block = np.arange(1, 11) if u <= 30 else np.arange(11, 21)
        for k, it in enumerate(rng.permutation(block)[:7]):
            rows.append((u, it, T0 + u * 1000 + k))
    u, i, t = zip(*rows)
    return frame(u, i, t)


def planted_ratings(n_users: int = 40, n_items: int = 30, n: int = 1200, seed: int = 0, drift: float = 0.0,
                    item_drift: float = 0.0) -> pd.DataFrame:
    """Ratings = 3.5 + user bias + item bias (+ a user drift over time and an item bias that flips mid-way) + noise."""
    rng = np.random.default_rng(seed)
    bu, bi = rng.normal(0, 0.6, n_users + 1), rng.normal(0, 0.6, n_items + 1)
    flip = rng.choice([-1.0, 1.0], n_items + 1)
    u, i = rng.integers(1, n_users + 1, n), rng.integers(1, n_items + 1, n)
    days = rng.uniform(0, 200, n)
    y = 3.5 + bu[u] + bi[i] + drift * np.where(u % 2 == 0, 1, -1) * (days - 100) / 100
    y = y + item_drift * flip[i] * np.where(days > 100, 1.0, -1.0) + rng.normal(0, 0.3, n)
    return frame(u, i, T0 + (days * DAY).astype(np.int64), ratings=y)


def family_log(n_families: int = 6, per_family: int = 10, n_users: int = 120, length: int = 12,
               seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Users stay inside one 'family' of items; item text = family one-hot + noise. The last two items of
    each family are consumed only as test targets (to be held out as cold). Returns log, text, cold ids."""
    rng = np.random.default_rng(seed)
    n_items = n_families * per_family
    fam = np.repeat(np.arange(n_families), per_family)
    text = np.zeros((n_items + 1, n_families + 2), np.float32)
    text[1:, :n_families] = np.eye(n_families)[fam]
    text[1:, n_families:] = rng.normal(0, 0.1, (n_items, 2))
    cold = np.array([f * per_family + per_family - j for f in range(n_families) for j in (0, 1)])
    rows = []
    for u in range(1, n_users + 1):
        f = u % n_families
        warm = [f * per_family + j + 1 for j in range(per_family - 2)]
        seq = list(rng.choice(warm, length - 1))
        seq.append(int(rng.choice([f * per_family + per_family - 1, f * per_family + per_family])))
        t = T0 + u * 3600 + np.cumsum(rng.integers(60, 7200, length))
        rows += [(u, int(i), int(tt)) for i, tt in zip(seq, t)]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"]), text, np.sort(cold)


def dirty_log() -> pd.DataFrame:
    """Eight events with a missing user, a NaN timestamp, a timestamp in 2096 and an exact duplicate row."""
    return pd.DataFrame({
        "user": [1, 1, 1, 2, 2, None, 3, 1],
        "item": [10, 11, 12, 10, 13, 10, 14, 10],
        "timestamp": [1_000_000_000, 1_000_000_000, 1_000_000_500, 1_000_000_100, np.nan, 1_000_000_000,
                      4_000_000_000, 1_000_000_000],
    })
