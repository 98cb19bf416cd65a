"""Cleaning, features, ids, k-core and the three splits."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec import data, prep
from tsrec.data import DataError


def _toy():
    return pd.DataFrame({
        "user": [1, 1, 1, 2, 2, None, 3, 1],
        "item": [10, 11, 12, 10, 13, 10, 14, 10],
        "timestamp": [1_000_000_000, 1_000_000_000, 1_000_000_500, 1_000_000_100, np.nan, 1_000_000_000,
                      4_000_000_000, 1_000_000_000],
    })


def test_clean_reports_each_reason_and_keeps_order():
    out, rep = prep.clean(_toy(), max_time="2030-01-01")
    by = dict(zip(rep.dropped["reason"].str.split(" ").str[:2].str.join(" "), rep.dropped["rows"]))
    assert by["bad user"] == 1 and by["bad item"] == 0
    assert by["timestamp missing"] == 1 and by["timestamp outside"] == 1     # NaN; year 2096 clock error
    assert by["exact duplicate"] == 1                                          # last row repeats the first
    assert rep.rows_in == 8 and rep.rows_out == 4 and len(out) == 4
    assert out.index.tolist() == [0, 1, 2, 3] and out["timestamp"].dtype == np.int64
    assert "exact duplicate" in repr(rep)


def test_nan_timestamp_gives_clear_error():
    with pytest.raises(DataError, match="NaN or non-numeric timestamp.*clean"):
        prep.leave_one_out(_toy())


def test_time_features():
    df = pd.DataFrame({"user": [1, 1, 2, 1], "item": [5, 6, 5, 7],
                       "timestamp": [0, 3600 * 25, 60, 3600 * 25]})  # 1970-01-01 was a Thursday
    f = prep.add_time_features(df)
    assert f["hour"].tolist() == [0, 1, 0, 1] and f["dayofweek"].tolist() == [3, 4, 3, 4]
    assert np.isnan(f.loc[0, "dt_prev"]) and f.loc[1, "dt_prev"] == 90000 and f.loc[3, "dt_prev"] == 0
    assert f["item_age"].tolist() == [0, 0, 60, 0]


def test_idmap_contiguous_with_padding():
    m = prep.IdMap.fit([30, 10, 20, 10])
    assert m.encode([10, 20, 30]).tolist() == [1, 2, 3]
    assert m.decode([3, 1]).tolist() == [30, 10]
    assert m.encode([99], unknown="pad").tolist() == [0]
    with pytest.raises(DataError, match="not in the map"):
        m.encode([99])
    with pytest.raises(DataError, match="0 is padding"):
        m.decode([0])


def test_kcore():
    df = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3], "item": [1, 2, 3, 1, 2, 1], "timestamp": range(6)})
    out = prep.kcore(df, k_user=2, k_item=2)
    assert sorted(out["user"].unique()) == [1, 2] and sorted(out["item"].unique()) == [1, 2]
    assert (out.groupby("user").size() >= 2).all() and (out.groupby("item").size() >= 2).all()


def test_leave_one_out_ml100k(ml100k, ml100k_loo):
    s = ml100k_loo
    assert s.n_users == 943 and s.n_items == 1682
    assert s.valid["user"].nunique() == 943 and s.test["user"].nunique() == 943
    assert len(s.train) + len(s.valid) + len(s.test) == 100_000
    last_train = s.train.groupby("user")["timestamp"].max()
    assert (s.valid.set_index("user")["timestamp"] >= last_train.loc[s.valid["user"]].to_numpy()).all()
    assert (s.test.set_index("user")["timestamp"].sort_index() >= s.valid.set_index("user")["timestamp"].sort_index()).all()
    # tie-break by file row order: user 1's events sorted stably; ids are sorted raw ids, so raw == encoded here
    raw = ml100k.interactions
    u1 = raw[raw.user == 1].sort_values("timestamp", kind="stable")
    assert s.test.loc[s.test.user == 1, "item"].item() == u1["item"].iloc[-1]
    assert s.valid.loc[s.valid.user == 1, "item"].item() == u1["item"].iloc[-2]


def test_leave_one_out_tie_break_is_row_order():
    df = pd.DataFrame({"user": [7, 7, 7, 7], "item": [1, 2, 3, 4], "timestamp": [5, 9, 9, 9]})
    s = prep.leave_one_out(df)
    assert s.test["item"].tolist() == [4] and s.valid["item"].tolist() == [3]
    s2 = prep.leave_one_out(df.iloc[[0, 3, 2, 1]])
    assert s2.test["item"].tolist() == [2] and s2.valid["item"].tolist() == [3]


def test_temporal_and_random_split(ml100k):
    df = ml100k.interactions
    s = prep.temporal_split(df, test_start="1998-03-01", valid_start="1998-02-01")
    t_test = pd.Timestamp("1998-03-01", tz="UTC").timestamp()
    assert s.train["timestamp"].max() < s.valid["timestamp"].min() <= s.valid["timestamp"].max() < t_test
    assert s.test["timestamp"].min() >= t_test and len(s.train) + len(s.valid) + len(s.test) == len(df)
    assert s.info["cold_test_users"] > 0
    r1, r2 = prep.random_split(df, seed=1), prep.random_split(df, seed=1)
    pd.testing.assert_frame_equal(r1.test, r2.test)
    assert abs(len(r1.test) / len(df) - 0.1) < 0.01
    with pytest.raises(ValueError, match="valid_start"):
        prep.temporal_split(df, test_start="1998-01-01", valid_start="1998-02-01")



def test_temporal_split_by_share(ml100k):
    df = ml100k.interactions
    s = prep.temporal_split_by_share(df, valid_share=0.1, test_share=0.2)
    assert abs(len(s.test) / len(df) - 0.2) < 0.01 and abs(len(s.valid) / len(df) - 0.1) < 0.01
    assert s.train["timestamp"].max() < s.valid["timestamp"].min() and s.valid["timestamp"].max() < s.test["timestamp"].min()
    assert len(s.train) + len(s.valid) + len(s.test) == len(df)
    with pytest.raises(ValueError, match="test_share"):
        prep.temporal_split_by_share(df, valid_share=0.5, test_share=0.5)
    with pytest.raises(DataError, match="timestamp"):
        prep.temporal_split_by_share(df.drop(columns="timestamp"))

def test_user_sequences_ordered():
    df = pd.DataFrame({"user": [2, 1, 1, 1], "item": [9, 3, 1, 2], "timestamp": [1, 30, 10, 10]})
    seq = prep.user_sequences(df)
    assert seq.loc[1, "items"].tolist() == [1, 2, 3] and seq.loc[1, "timestamps"].tolist() == [10, 10, 30]
    assert seq.loc[2, "items"].tolist() == [9]


def test_shuffle_train_order_keeps_each_users_items_and_changes_their_order():
    sp = prep.leave_one_out(data.synthetic(n_users=40, n_items=30, events_per_user=12).interactions)
    a, b = prep.shuffle_train_order(sp, 0), prep.shuffle_train_order(sp, 0)
    before, after = prep.user_sequences(sp.train)["items"], prep.user_sequences(a.train)["items"]
    assert all(sorted(x) == sorted(y) for x, y in zip(before, after))
    assert (before.map(tuple) != after.map(tuple)).mean() > 0.8
    assert a.train.equals(b.train) and not a.train.equals(prep.shuffle_train_order(sp, 1).train)
    assert a.valid.equals(sp.valid) and a.test.equals(sp.test) and a.kind == sp.kind
