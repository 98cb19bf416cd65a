"""The next-basket protocol: baskets, intervals, queries strictly before each basket, repeat/explore metrics."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.analysis import baskets as B
from tsrec.models.popularity import Popularity
from tsrec.times import DAY, WEEK


def _log():
    rows = []
    for u in (1, 2):
        for w in range(8):
            t = 1_600_000_000 + w * WEEK + u * 3600
            rows += [(u, 10, t, u * 100 + w), (u, 20 + w % 2, t, u * 100 + w)]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp", "basket"])


def test_intervals_are_weekly():
    g = B.repurchase_intervals(_log())
    assert np.allclose(g.loc[g["item"] == 10, "gap_days"], 7.0)
    assert np.allclose(g.loc[g["item"] == 20, "gap_days"], 14.0)


def test_queries_see_only_the_past_and_split_repeat_explore():
    sp = B.basket_split(_log(), 2, 2)
    q = sp.queries("test")
    assert len(q) == 4
    for times, now in zip(q.batch.times, q.batch.now):
        assert (times < now).all()
    assert all(len(r) == 2 and len(e) == 0 for r, e in zip(q.repeat, q.explore))
    res, top = B.evaluate_baskets(Popularity().fit(sp.fit_frame("test"), sp.n_users, sp.n_items), q, k=2)
    # product 10 in every basket, 20 and 21 alternate and tie in popularity: 20 wins the tie by id
    assert sorted(res["Recall@2:all"]) == [0.5, 0.5, 1.0, 1.0] and res["Recall@2:explore"].isna().all()
    tab = B.results_table({"pop": res}, "Recall@2")
    assert tab.loc["pop", "repeat"] == pytest.approx(0.75)
    assert B.paired_basket(res, res, "Recall@2:all")[0] == 0.0
    assert B.item_hits(top, q)["hit"].mean() == pytest.approx(0.75)


def test_split_refuses_no_training_data():
    with pytest.raises(ValueError):
        B.basket_split(_log(), 5, 5)
    assert B.sample_households(_log(), 1, 0)["user"].nunique() == 1
    assert DAY > 0
