"""Chapter 7.1's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import numpy as np

from tsrec import exercises
from tsrec.analysis import baskets as B
from tsrec.exercises.ch07_1 import _small
from tsrec.models.basket import BuyAgain


def test_repeat_share():
    _, _, sp = _small()
    q = sp.queries("test")
    right = sum(len(r) for r in q.repeat) / sum(len(t) for t in q.targets)
    assert exercises.ch07_1_repeat_share(right)
    assert not exercises.ch07_1_repeat_share(1 - right)          # the explore share


def test_produce_interval():
    d, df, _ = _small()
    gaps = B.repurchase_intervals(df, d.items)
    right = float(gaps.loc[gaps["department"] == "PRODUCE", "gap_days"].median())
    assert exercises.ch07_1_produce_interval(right)
    assert not exercises.ch07_1_produce_interval(float(gaps["gap_days"].median()))   # every department


def test_recall20(capsys):
    _, _, sp = _small()
    m = BuyAgain(0.0).fit(sp.fit_frame("test"), sp.n_users, sp.n_items)
    res, _ = B.evaluate_baskets(m, sp.queries("test"), k=20)
    right = float(np.nanmean(res["Recall@20:repeat"]))
    assert exercises.ch07_1_recall20(right, prediction=0.5)
    assert "off by" in capsys.readouterr().out
    res10, _ = B.evaluate_baskets(m, sp.queries("test"), k=10)
    assert not exercises.ch07_1_recall20(float(np.nanmean(res10["Recall@10:repeat"])))
