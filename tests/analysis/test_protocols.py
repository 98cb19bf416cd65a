"""Tests of tsrec.analysis.protocols: rolling-origin queries, models asked as of the cut, the same models under
three protocols, and paired intervals."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_logs import DAY, T0, frame, random_log
from tsrec import splits
from tsrec.analysis import (
    frozen_ranks,
    own_future_share,
    paired_differences,
    per_query,
    protocol_differences,
    protocol_ranks,
    protocol_table,
    rolling_origin,
    rolling_ranks,
    split_ranks,
    summary_table,
)
from tsrec.analysis.protocols import PROTOCOLS, knn_rolling_ranks
from tsrec.evaluate import evaluate
from tsrec.metrics import mean_ci
from tsrec.models.knn import ItemKNN
from tsrec.models.popularity import DecayedPopularity, Popularity, RecentPopularity

START, END = "2024-01-01", "2024-02-05"   # weekly cuts over random_log's 30 days (nothing before the first)


def _log() -> pd.DataFrame:
    return random_log(n=600, n_users=30, n_items=20, seed=1)


def test_rolling_origin_asks_each_user_once_per_period_with_the_past_as_history():
    times = [T0 + 1, T0 + 2, T0 + 3, T0 + DAY + 5, T0 + DAY + 6, T0 + DAY + 7]
    df = frame([1, 1, 2, 1, 3, 2], [1, 2, 3, 4, 5, 6], times)
    roll = rolling_origin(df, "2024-01-01", "2024-01-03", "D")
    t = roll.targets
    assert t["cut"].tolist() == [T0, T0, T0 + DAY, T0 + DAY, T0 + DAY]
    assert roll.returning.tolist() == [False, False, True, True, False]      # users 1, 2 of day 1 had no past
    day2 = np.flatnonzero(t["cut"].to_numpy() == T0 + DAY)
    first_item = dict(zip(t["user"].iloc[day2], t["item"].iloc[day2]))
    enc = roll.events
    assert len(roll.queries) == len(t) == 5
    q = roll.queries[day2]
    hist = {u: set(items.tolist()) for u, items in zip(q.users, q.items)}
    u1 = int(t["user"].iloc[day2[0]])
    assert len(hist[u1]) == 2 and all(ts < T0 + DAY for ts in q.times[0])   # the user's two events of day 1
    assert set(first_item) == set(t["user"].iloc[day2])
    assert roll.n_users == 3 and roll.n_items == 6 and len(enc) == 6
    with pytest.raises(ValueError):
        rolling_origin(df, "2024-01-01", "2024-01-01", "D")


def test_frozen_ranks_equal_evaluate_on_a_temporal_split_of_each_cut():
    df = _log()
    roll = rolling_origin(df, START, END, "7D")
    ranks = frozen_ranks(DecayedPopularity(3 * DAY), roll)
    cuts = np.unique(roll.targets["cut"])
    checked = 0
    for c, nxt in zip(cuts[:-1], cuts[1:]):
        mine = ((roll.targets["cut"] == c) & roll.targets["returning"]).to_numpy()
        if not mine.any():                                                 # the first cut: nobody has a past
            continue
        one = splits.temporal_split(df[df["timestamp"] < nxt], test_start=int(c))
        _, per = evaluate(DecayedPopularity(3 * DAY).fit(one.train, one.n_users, one.n_items), one, "test", ks=(10,),
                          per_user=True)
        assert sorted(ranks[mine].tolist()) == sorted(per["rank"].tolist())
        checked += 1
    assert checked >= 3
    with pytest.raises(TypeError, match="RecentPopularity"):
        frozen_ranks(Popularity(), roll)


def test_knn_rolling_ranks_refit_per_cut_from_the_past_only():
    df = _log()
    roll = rolling_origin(df, START, END, "7D")
    got = knn_rolling_ranks([None, 2 * DAY], roll, k_neighbors=10)
    c = int(np.unique(roll.targets["cut"])[2])
    nxt = int(np.unique(roll.targets["cut"])[3])
    one = splits.temporal_split(df[df["timestamp"] < nxt], test_start=c)
    for h in (None, 2 * DAY):
        knn = ItemKNN(10, time_decay_half_life=h).fit(one.train, one.n_users, one.n_items)
        _, per = evaluate(knn, one, "test", ks=(10,), per_user=True)
        mine = ((roll.targets["cut"] == c) & roll.targets["returning"]).to_numpy()
        assert sorted(got[h][mine].tolist()) == sorted(per["rank"].tolist())


def test_rolling_ranks_use_the_frozen_twin_of_popularity_and_skip_knn_on_request():
    roll = rolling_origin(_log(), START, END, "7D")
    models = {"Popularity": Popularity(), "Recent 3 d": RecentPopularity(3 * DAY), "kNN": ItemKNN(10)}
    r = rolling_ranks(models, roll)
    assert list(r.columns) == list(models) and r.index.name == "user" and len(r) == len(roll.targets)
    twin = frozen_ranks(RecentPopularity(1e12, tiebreak=False), roll)
    assert (r["Popularity"].to_numpy() == twin).all()
    assert list(rolling_ranks(models, roll, knn=False).columns) == ["Popularity", "Recent 3 d"]


def test_split_ranks_match_evaluate_and_share_one_knn_fit():
    split = splits.leave_one_out(_log())
    models = {"pop": Popularity(), "knn": ItemKNN(10), "knn 1 d": ItemKNN(10, time_decay_half_life=DAY)}
    r = split_ranks(models, split)
    assert models["knn 1 d"].sim is models["knn"].sim                       # one fit, two half-lives
    _, per = evaluate(ItemKNN(10, time_decay_half_life=DAY).fit(split.train, split.n_users, split.n_items), split,
                      "test", ks=(10,), per_user=True)
    assert (r["knn 1 d"].to_numpy() == per["rank"].to_numpy()).all() and (r.index == per["user"]).all()
    t = summary_table(r, 10, reference="pop")
    assert t.loc["knn", "HR@10"] == pytest.approx((r["knn"] < 10).mean())
    assert t.loc["pop", "Δ HR vs pop"] == 0 and t.loc["knn", "Δ HR vs pop"] == pytest.approx(
        (r["knn"] < 10).mean() - (r["pop"] < 10).mean())
    assert t.loc["knn", "HR ±95%"] == pytest.approx(mean_ci((r["knn"] < 10).astype(float))[1])


def test_paired_differences_plain_and_clustered():
    values = pd.DataFrame({"a": [1.0, 0.0, 1.0, 1.0, 0.0, 1.0], "b": [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]},
                          index=pd.Index([1, 2, 3, 4, 5, 6], name="user"))
    d = paired_differences(values, reference="b")
    mean, ci = mean_ci(values["a"] - values["b"])                            # one query per user: the plain interval
    assert d.loc["a vs b", "A - B"] == pytest.approx(mean) and d.loc["a vs b", "±95%"] == pytest.approx(ci)
    assert d.loc["a vs b", "excludes 0"] == (abs(mean) > ci)
    clustered = paired_differences(values, pairs=[("a", "b")], clusters=[1, 1, 1, 2, 2, 2])
    assert clustered.loc["a vs b", "A - B"] == pytest.approx(mean) and clustered.loc["a vs b", "±95%"] != ci
    with pytest.raises(ValueError):
        paired_differences(values)
    with pytest.raises(ValueError):
        paired_differences(values, pairs=[("a", "b")], reference="b")
    ranks = pd.DataFrame({"m": [0, 9, 10, 3]})
    assert per_query(ranks, "HR@10")["m"].tolist() == [1.0, 1.0, 0.0, 1.0]
    assert per_query(ranks, "NDCG@10")["m"].iloc[1] == pytest.approx(1 / np.log2(11))


def test_protocol_ranks_tables_and_differences():
    df = _log()
    loo = splits.leave_one_out(df)
    roll = rolling_origin(df, START, END, "7D")
    models = {"Popularity": Popularity(), "Recent 3 d": RecentPopularity(3 * DAY), "kNN": ItemKNN(10)}
    known = split_ranks({"Popularity": Popularity()}, loo)
    P = protocol_ranks(models, df, loo, roll, seed=0, known=known)
    assert tuple(P) == PROTOCOLS
    assert (P["leave-one-out"]["Popularity"] == known["Popularity"]).all()
    assert len(P["rolling global (returning)"]) == int(roll.returning.sum())
    hr, ci = protocol_table(P, 10)
    assert list(hr.index) == list(models) and list(hr.columns) == list(PROTOCOLS)
    assert hr.loc["kNN", "random split"] == pytest.approx((P["random split"]["kNN"] < 10).mean())
    assert ci.loc["Popularity", "leave-one-out"] > 0
    no_knn = protocol_ranks(models, df, loo, roll, rolling_knn=False)
    assert "kNN" not in no_knn["rolling global (returning)"].columns
    assert np.isnan(protocol_table(no_knn)[0].loc["kNN", "rolling global (returning)"])
    pairs = [("kNN", "Popularity"), ("Recent 3 d", "Popularity")]
    long = protocol_differences(no_knn, pairs)
    assert ("rolling global (returning)", "kNN vs Popularity") not in long.index
    wide = protocol_differences(no_knn, pairs, wide=True)
    assert list(wide.index) == ["kNN vs Popularity", "Recent 3 d vs Popularity"]
    assert list(dict.fromkeys(wide.columns.get_level_values(0))) == list(PROTOCOLS)
    assert wide.loc["Recent 3 d vs Popularity", ("leave-one-out", "A - B")] == pytest.approx(
        long.loc[("leave-one-out", "Recent 3 d vs Popularity"), "A - B"])


def test_own_future_share_of_a_random_split():
    df = frame([1] * 4 + [2] * 4, [1, 2, 3, 4, 1, 2, 3, 4], [T0 + i for i in range(8)])
    s = splits.Split(train=df.iloc[[0, 2, 3, 4, 5, 6]], valid=df.iloc[[]], test=df.iloc[[1, 7]], n_users=2, n_items=4,
                     kind="random")
    # user 1's target at T0 + 1: history T0, T0 + 2, T0 + 3 (2 of 3 later); user 2's at T0 + 7: none later
    assert own_future_share(s) == pytest.approx((2 / 3 + 0) / 2)
