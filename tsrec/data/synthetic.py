"""A seeded synthetic log with planted, known temporal effects, for tiny test data (always labelled synthetic)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.data.schema import Dataset
from tsrec.times import DAY, HOUR


def synthetic(n_users: int = 60, n_items: int = 40, days: int = 56, events_per_user: int = 40,
              seed: int = 0, start: str = "2024-01-01") -> Dataset:
    """Seeded synthetic interactions with planted, known temporal effects (always labelled synthetic).

    Planted: weekly seasonality (weekends x2), daily seasonality (evening peak), item life cycles
    (each item launches on a day and its appeal halves every ``half_life`` days), and repeat cycles
    (a third of users re-consume one favourite item every ``repeat_period`` days). ``info`` holds the truth.
    """
    rng = np.random.default_rng(seed)
    t0 = int(pd.Timestamp(start, tz="UTC").timestamp())
    day_w = np.array([1, 1, 1, 1, 1, 2, 2], float)            # Monday..Sunday
    hour_w = np.ones(24)
    hour_w[18:23] = 4.0
    hour_w[0:7] = 0.2
    launch = np.sort(rng.integers(0, days - 7, n_items))
    half_life = 7.0
    base = rng.gamma(1.0, 1.0, n_items) + 0.1
    repeat_period, repeaters = 7, rng.choice(n_users, n_users // 3, replace=False)
    dates = pd.date_range(start, periods=days, freq="D", tz="UTC")
    p_day = day_w[dates.day_of_week]
    p_day /= p_day.sum()
    rows = []
    for u in range(n_users):
        d = np.sort(rng.choice(days, events_per_user, p=p_day))
        h = rng.choice(24, events_per_user, p=hour_w / hour_w.sum())
        sec = rng.integers(0, 3600, events_per_user)
        for di, hi, si in zip(d, h, sec):
            age = di - launch
            appeal = np.where(age >= 0, base * 0.5 ** (np.clip(age, 0, None) / half_life), 0.0)
            if appeal.sum() == 0:
                continue
            item = rng.choice(n_items, p=appeal / appeal.sum())
            rows.append((u + 1, item + 1, t0 + int(di) * DAY + int(hi) * HOUR + int(si)))
    favourites = {}
    for u in repeaters:
        fav = int(rng.integers(0, n_items)) + 1
        favourites[int(u) + 1] = fav
        first = launch[fav - 1] + int(rng.integers(0, 3))
        for di in range(int(first), days, repeat_period):
            rows.append((int(u) + 1, fav, t0 + di * DAY + 20 * HOUR + int(rng.integers(0, HOUR))))
    inter = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).astype("int64")
    inter = inter.sort_values("timestamp", kind="stable").reset_index(drop=True)
    inter["rating"] = rng.integers(1, 6, len(inter)).astype("float32")
    genres = np.array(["Drama", "Comedy", "Action", "Sci-Fi", "Romance"])
    items = pd.DataFrame({"item": np.arange(1, n_items + 1), "title": [f"Item {i}" for i in range(1, n_items + 1)],
                          "genres": ["|".join(rng.choice(genres, 2, replace=False)) for _ in range(n_items)],
                          "launch_day": launch})
    info = {"synthetic": True, "start": t0, "day_weights": day_w, "hour_weights": hour_w, "launch_day": launch,
            "half_life_days": half_life, "repeat_period_days": repeat_period, "repeaters": np.sort(repeaters) + 1,
            "favourites": favourites}
    return Dataset("synthetic", inter, items, None, info=info)
