"""Exercise checks for chapter 4.1."""
from __future__ import annotations

import numpy as np

from tsrec.exercises._common import _close, _report
from tsrec.times import DAY


def ch04_1_decay_weight(answer: float, age_days: float = 3.0, half_life_days: float = 7.0) -> bool:
    """Ex. 4.1.1: the decay weight of an event ``age_days`` old with a half-life of ``half_life_days``."""
    from tsrec.windows import decay_weights

    expected = float(decay_weights(age_days * DAY, half_life_days * DAY))
    return _report(_close(answer, expected), "w = 0.5 ** (age / half_life), both in the same unit")


def ch04_1_window_count(answer: int, title: str = "Titanic", now: str = "1998-01-18 23:59:59",
                        window_days: float = 7.0) -> bool:
    """Ex. 4.1.2: ratings of ``title`` on ML-100K in the window (now - window_days, now]."""
    from tsrec import data
    from tsrec.windows import recent_popularity

    ml = data.load("ml-100k")
    item = ml.items.loc[ml.items["title"] == title, "item"].iloc[0]
    counts = recent_popularity(ml.interactions, now, window_days * DAY)
    return _report(_close(answer, counts.get(item, 0), tol=0.5),
                   "tsrec.windows.recent_popularity(df, now, window_seconds) counts t in (now - window, now], UTC")


def ch04_1_future_share(answer: float) -> bool:
    """Ex. 4.1.3: leave-one-out on ML-100K: the median over test events of the share of all training events
    that are later than the test event."""
    from tsrec import data, splits

    split = splits.leave_one_out(data.load("ml-100k").interactions)
    train_t = np.sort(split.train["timestamp"].to_numpy())
    later = len(train_t) - np.searchsorted(train_t, split.test["timestamp"].to_numpy(), side="right")
    expected = float(np.median(later / len(train_t)))
    return _report(_close(answer, expected, tol=1e-3),
                   "count training timestamps strictly greater than each test timestamp, divide by the training size")


def ch04_1_decayed_pop_hr(answer: float, half_life_days: float = 14.0) -> bool:
    """Ex. 4.1.4: test HR@10 of DecayedPopularity with a half-life of ``half_life_days`` on ML-100K leave-one-out."""
    from tsrec import data, splits
    from tsrec.evaluate import evaluate
    from tsrec.models.popularity import DecayedPopularity

    split = splits.leave_one_out(data.load("ml-100k").interactions)
    model = DecayedPopularity(half_life_days * DAY).fit(split.train, split.n_users, split.n_items)
    expected = evaluate(model, split, "test", ks=(10,))["HR@10"]
    return _report(_close(answer, expected, tol=5e-4),
                   "fit DecayedPopularity(half_life_seconds) on split.train and call tsrec.evaluate.evaluate on 'test'")
