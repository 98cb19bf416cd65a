"""Exercise checks for chapter 4.1."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.exercises._common import _close, _prediction_note, _report
from tsrec.times import DAY


def ch04_1_window_count(answer: int, title: str = "Titanic", now: str = "1998-03-31 23:59:59",
                        window_days: float = 3.0) -> bool:
    """Ex. 4.1.1: ratings of ``title`` on ML-100K in the window (now - window_days, now]."""
    from tsrec import data
    from tsrec.windows import recent_popularity

    ml = data.load("ml-100k")
    item = ml.items.loc[ml.items["title"] == title, "item"].iloc[0]
    counts = recent_popularity(ml.interactions, now, window_days * DAY)
    return _report(_close(answer, counts.get(item, 0), tol=0.5),
                   "tsrec.windows.recent_popularity(df, now, window_seconds) counts t in (now - window, now], UTC")


def ch04_1_steady_decay(answer: float, half_life_days: float = 7.0, days: int = 365) -> bool:
    """Ex. 4.1.2: decayed popularity (half-life ``half_life_days``) of an item rated once a day for ``days`` days,
    the last rating at ``now``, as of ``now``."""
    from tsrec.windows import decayed_popularity

    now = 1_000 * DAY
    log = pd.DataFrame({"user": np.arange(days), "item": 1, "timestamp": now - np.arange(days) * DAY})
    expected = float(decayed_popularity(log, now, half_life_days * DAY).loc[1])
    return _report(_close(answer, expected, tol=1e-3),
                   "the rating at now weighs 1, the one a day before 0.5 ** (1 / 7), ...: sum all 365 weights")


def ch04_1_decayed_pop_hr(answer: float, prediction: float | None = None, half_life_days: float = 14.0) -> bool:
    """Ex. 4.1.3 (predict, then run): test HR@10 of DecayedPopularity(``half_life_days``) on ML-100K leave-one-out."""
    from tsrec import data, splits
    from tsrec.evaluate import evaluate
    from tsrec.models.popularity import DecayedPopularity

    split = splits.leave_one_out(data.load("ml-100k").interactions)
    model = DecayedPopularity(half_life_days * DAY).fit(split.train, split.n_users, split.n_items)
    with np.errstate(over="ignore"):  # 0.5 ** (negative age) in a branch np.where discards
        expected = evaluate(model, split, "test", ks=(10,))["HR@10"]
    ok = _report(_close(answer, expected, tol=5e-4),
                 "fit DecayedPopularity(half_life_seconds) on split.train and call tsrec.evaluate.evaluate on 'test'")
    _prediction_note(prediction, answer)
    return ok


def ch04_1_rolling_hr(answer: float, freq: str = "MS", half_life_days: float = 7.0) -> bool:
    """Ex. 4.1.4: HR@10 for returning users of DecayedPopularity(``half_life_days``) asked as of the cut, on a
    rolling global split of ML-100K with cuts at ``freq`` from 1997-10-01 to 1998-05-01."""
    from tsrec import data
    from tsrec.analysis import frozen_ranks, rolling_origin
    from tsrec.models.popularity import DecayedPopularity

    roll = rolling_origin(data.load("ml-100k").interactions, "1997-10-01", "1998-05-01", freq)
    ranks = frozen_ranks(DecayedPopularity(half_life_days * DAY), roll)
    expected = float((ranks[roll.returning] < 10).mean())
    return _report(_close(answer, expected, tol=5e-4),
                   "tsrec.analysis.rolling_origin(df, '1997-10-01', '1998-05-01', 'MS'), then frozen_ranks(model, "
                   "roll) and the hit rate over roll.returning")
