"""Tests of tsrec.prep: cleaning with a report, time features, id maps, k-core, per-user sequences."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_logs import dirty_log
from tsrec import prep
from tsrec.data import DataError


def test_clean_reports_each_reason_and_keeps_order():
    out, rep = prep.clean(dirty_log(), max_time="2030-01-01")
    by = dict(zip(rep.dropped["reason"].str.split(" ").str[:2].str.join(" "), rep.dropped["rows"]))
    assert by["bad user"] == 1 and by["bad item"] == 0
    assert by["timestamp missing"] == 1 and by["timestamp outside"] == 1     # NaN; year 2096 clock error
    assert by["exact duplicate"] == 1                                          # last row repeats the first
    assert rep.rows_in == 8 and rep.rows_out == 4 and len(out) == 4
    assert out.index.tolist() == [0, 1, 2, 3] and out["timestamp"].dtype == np.int64
    assert "exact duplicate" in repr(rep)


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


def test_user_sequences_ordered():
    df = pd.DataFrame({"user": [2, 1, 1, 1], "item": [9, 3, 1, 2], "timestamp": [1, 30, 10, 10]})
    seq = prep.user_sequences(df)
    assert seq.loc[1, "items"].tolist() == [1, 2, 3] and seq.loc[1, "timestamps"].tolist() == [10, 10, 30]
    assert seq.loc[2, "items"].tolist() == [9]


def test_time_order_is_stable_and_encode_ids_reuses_given_maps():
    df = pd.DataFrame({"user": ["b", "a", "b", "a"], "item": [30, 10, 20, 10], "timestamp": [5, 7, 5, 1]})
    assert prep.time_order(df).index.tolist() == [3, 1, 0, 2]  # user a, then b; b's tie at 5 keeps row order
    assert prep.time_order(df, by_user=False).index.tolist() == [3, 0, 2, 1]
    enc, users, items = prep.encode_ids(df)
    assert enc["user"].tolist() == [2, 1, 2, 1] and enc["item"].tolist() == [3, 1, 2, 1] and len(items) == 3
    other = pd.DataFrame({"user": ["a"], "item": [20], "timestamp": [9]})
    again, same_users, _ = prep.encode_ids(other, users, items)
    assert same_users is users and again["item"].tolist() == [2]
    with pytest.raises(DataError, match="not in the map"):
        prep.encode_ids(other.assign(item=99), users, items)
    with pytest.raises(DataError, match="NaN or non-numeric timestamp"):
        prep.check_timestamps(df.assign(timestamp=["x", 1, 2, 3]))
