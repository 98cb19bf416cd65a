"""Chapter 4.1's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec import data, exercises, splits
from tsrec.analysis import frozen_ranks, rolling_origin
from tsrec.evaluate import evaluate
from tsrec.models.popularity import DecayedPopularity
from tsrec.times import DAY
from tsrec.windows import recent_popularity


def test_window_count():
    ml = data.load("ml-100k")
    titanic = ml.items.loc[ml.items["title"] == "Titanic", "item"].iloc[0]
    inter = ml.interactions
    right = int(recent_popularity(inter, "1998-03-31 23:59:59", 3 * DAY).get(titanic, 0))
    assert right > 0 and exercises.ch04_1_window_count(right)
    end = int(pd.Timestamp("1998-03-31 23:59:59", tz="UTC").timestamp())
    closed_left = int(((inter["item"] == titanic) & inter["timestamp"].between(end - 3 * DAY, end)).sum())
    one_day_short = int(recent_popularity(inter, "1998-03-30 23:59:59", 3 * DAY).get(titanic, 0))
    wrong = next(v for v in (closed_left, one_day_short, right + 1) if v != right)
    assert not exercises.ch04_1_window_count(wrong)


def test_steady_decay():
    right = sum(0.5 ** (a / 7) for a in range(365))
    assert exercises.ch04_1_steady_decay(right)
    assert not exercises.ch04_1_steady_decay(7.0)                        # the 7-day window's count
    assert not exercises.ch04_1_steady_decay(sum(0.5 ** (a / 7) for a in range(1, 366)))   # now's rating left out


def test_decayed_pop_hr_judges_the_answer_and_reports_the_prediction(capsys):
    split = splits.leave_one_out(data.load("ml-100k").interactions)
    with np.errstate(over="ignore"):
        right = evaluate(DecayedPopularity(14 * DAY).fit(split.train, split.n_users, split.n_items), split,
                         "test", ks=(10,))["HR@10"]
        wrong = evaluate(DecayedPopularity(14 * DAY).fit(split.train, split.n_users, split.n_items), split,
                         "valid", ks=(10,))["HR@10"]
    assert exercises.ch04_1_decayed_pop_hr(right, prediction=right + 0.01)
    out = capsys.readouterr().out
    assert "Correct!" in out and "off by +0.0100" in out
    assert abs(wrong - right) > 1e-3 and not exercises.ch04_1_decayed_pop_hr(wrong)   # the validation stage


def test_rolling_hr():
    roll = rolling_origin(data.load("ml-100k").interactions, "1997-10-01", "1998-05-01", "MS")
    ranks = frozen_ranks(DecayedPopularity(7 * DAY), roll)
    right = float((ranks[roll.returning] < 10).mean())
    all_queries = float((ranks < 10).mean())                                # new users mixed in
    assert exercises.ch04_1_rolling_hr(right)
    assert abs(all_queries - right) > 1e-3 and not exercises.ch04_1_rolling_hr(all_queries)
