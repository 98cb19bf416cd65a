"""Tests of tsrec.splits: leave-one-out, global temporal (by date and by share), random, shuffled order."""
from __future__ import annotations

import pandas as pd
import pytest

from synthetic_logs import dirty_log
from tsrec import data, prep, splits
from tsrec.data import DataError


def test_nan_timestamp_gives_clear_error():
    with pytest.raises(DataError, match="NaN or non-numeric timestamp.*clean"):
        splits.leave_one_out(dirty_log())


def test_leave_one_out_ml100k(ml100k, ml100k_loo):
    s = ml100k_loo
    assert s.n_users == 943 and s.n_items == 1682
    assert s.valid["user"].nunique() == 943 and s.test["user"].nunique() == 943
    assert len(s.train) + len(s.valid) + len(s.test) == 100_000
    last_train = s.train.groupby("user")["timestamp"].max()
    assert (s.valid.set_index("user")["timestamp"] >= last_train.loc[s.valid["user"]].to_numpy()).all()
    test_t, valid_t = (f.set_index("user")["timestamp"].sort_index() for f in (s.test, s.valid))
    assert (test_t >= valid_t).all()
    # tie-break by file row order: user 1's events sorted stably; ids are sorted raw ids, so raw == encoded here
    raw = ml100k.interactions
    u1 = raw[raw.user == 1].sort_values("timestamp", kind="stable")
    assert s.test.loc[s.test.user == 1, "item"].item() == u1["item"].iloc[-1]
    assert s.valid.loc[s.valid.user == 1, "item"].item() == u1["item"].iloc[-2]


def test_leave_one_out_tie_break_is_row_order():
    df = pd.DataFrame({"user": [7, 7, 7, 7], "item": [1, 2, 3, 4], "timestamp": [5, 9, 9, 9]})
    s = splits.leave_one_out(df)
    assert s.test["item"].tolist() == [4] and s.valid["item"].tolist() == [3]
    s2 = splits.leave_one_out(df.iloc[[0, 3, 2, 1]])
    assert s2.test["item"].tolist() == [2] and s2.valid["item"].tolist() == [3]


def test_temporal_and_random_split(ml100k):
    df = ml100k.interactions
    s = splits.temporal_split(df, test_start="1998-03-01", valid_start="1998-02-01")
    t_test = pd.Timestamp("1998-03-01", tz="UTC").timestamp()
    assert s.train["timestamp"].max() < s.valid["timestamp"].min() <= s.valid["timestamp"].max() < t_test
    assert s.test["timestamp"].min() >= t_test and len(s.train) + len(s.valid) + len(s.test) == len(df)
    assert s.info["cold_test_users"] > 0
    r1, r2 = splits.random_split(df, seed=1), splits.random_split(df, seed=1)
    pd.testing.assert_frame_equal(r1.test, r2.test)
    assert abs(len(r1.test) / len(df) - 0.1) < 0.01
    with pytest.raises(ValueError, match="valid_start"):
        splits.temporal_split(df, test_start="1998-01-01", valid_start="1998-02-01")


def test_temporal_split_by_share(ml100k):
    df = ml100k.interactions
    s = splits.temporal_split_by_share(df, valid_share=0.1, test_share=0.2)
    assert abs(len(s.test) / len(df) - 0.2) < 0.01 and abs(len(s.valid) / len(df) - 0.1) < 0.01
    assert s.train["timestamp"].max() < s.valid["timestamp"].min()
    assert s.valid["timestamp"].max() < s.test["timestamp"].min()
    assert len(s.train) + len(s.valid) + len(s.test) == len(df)
    with pytest.raises(ValueError, match="test_share"):
        splits.temporal_split_by_share(df, valid_share=0.5, test_share=0.5)
    with pytest.raises(DataError, match="timestamp"):
        splits.temporal_split_by_share(df.drop(columns="timestamp"))


def test_shuffle_train_order_keeps_each_users_items_and_changes_their_order():
    sp = splits.leave_one_out(data.synthetic(n_users=40, n_items=30, events_per_user=12).interactions)
    a, b = splits.shuffle_train_order(sp, 0), splits.shuffle_train_order(sp, 0)
    before, after = prep.user_sequences(sp.train)["items"], prep.user_sequences(a.train)["items"]
    assert all(sorted(x) == sorted(y) for x, y in zip(before, after))
    assert (before.map(tuple) != after.map(tuple)).mean() > 0.8
    assert a.train.equals(b.train) and not a.train.equals(splits.shuffle_train_order(sp, 1).train)
    assert a.valid.equals(sp.valid) and a.test.equals(sp.test) and a.kind == sp.kind


def test_history_targets_and_items_frame_follow_the_encoded_ids():
    df = pd.DataFrame({"user": [9, 9, 9, 9, 5, 5, 5], "item": [30, 10, 20, 40, 10, 30, 20],
                       "timestamp": [1, 2, 3, 4, 1, 2, 3]})
    s = splits.leave_one_out(df)
    assert s.user_map.raw.tolist() == [5, 9] and s.item_map.raw.tolist() == [10, 20, 30, 40]
    assert s.history("valid").equals(s.train) and len(s.history("test")) == len(s.train) + len(s.valid)
    assert s.targets("valid").equals(s.valid) and s.targets("test").equals(s.test)
    for stage in ("train", "all"):
        with pytest.raises(ValueError, match="stage must be"):
            s.history(stage)
        with pytest.raises(ValueError, match="stage must be"):
            s.targets(stage)
    items = pd.DataFrame({"item": [40, 20, 10, 30, 99], "title": ["d", "b", "a", "c", "unused"]})
    frame = s.items_frame(items)
    assert frame.index.tolist() == [1, 2, 3, 4] and frame["title"].tolist() == ["a", "b", "c", "d"]
    with pytest.raises(DataError, match="lack attributes"):
        s.items_frame(items[items["item"] != 30])
