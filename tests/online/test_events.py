"""Tests of tsrec.online.events: replay in time order (ties in row order), scaled real time, clear errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec import data
from tsrec.online import Event, EventSource, as_events, time_bound


def test_replay_is_time_ordered_with_ties_in_row_order(tmp_path):
    df = pd.DataFrame({"user": [1, 2, 3, 4, 5], "item": [10, 20, 30, 40, 50], "timestamp": [5, 3, 5, 1, 3]})
    events = list(EventSource(df))
    assert [e.row for e in events] == [3, 1, 4, 0, 2]
    assert [e.timestamp for e in events] == [1, 3, 3, 5, 5]
    assert [e.item for e in events] == [40, 20, 50, 10, 30]
    df.to_csv(tmp_path / "log.csv", index=False)
    df.to_parquet(tmp_path / "log.parquet")
    for path in (tmp_path / "log.csv", tmp_path / "log.parquet"):
        assert [e.row for e in EventSource(path)] == [3, 1, 4, 0, 2]
    assert [e.row for e in EventSource(df, start=3, end=5)] == [1, 4]
    enc = EventSource(df, encode=True)
    assert [e.item for e in enc] == [4, 2, 5, 1, 3] and enc.n_items == 5 and enc.n_users == 5
    assert [len(b) for b in enc.batches(2)] == [2, 2, 1]
    assert enc.item_map.decode([4]).tolist() == [40]


def test_ratings_travel_with_the_events():
    df = pd.DataFrame({"user": [1, 2], "item": [1, 2], "timestamp": [2, 1], "rating": [4.0, 2.5]})
    assert [e.rating for e in EventSource(df)] == [2.5, 4.0]
    assert np.isnan(next(iter(EventSource(df.drop(columns="rating")))).rating)


def test_speed_sleeps_scaled_gaps_capped():
    df = pd.DataFrame({"user": 1, "item": 1, "timestamp": [0, 10, 10, 1000, 1001]})
    slept: list[float] = []
    list(EventSource(df, speed=10, max_sleep=5.0, sleep=slept.append))
    assert slept == [1.0, 5.0, 0.1]                             # no sleep for the tie; 99 s capped at 5
    slept.clear()
    list(EventSource(df, sleep=slept.append))
    assert slept == []


def test_time_bounds_and_as_events():
    assert time_bound(None) is None and time_bound(5.9) == 5 and time_bound("1970-01-02") == 86_400
    df = pd.DataFrame({"user": [1], "item": [2], "timestamp": [3]})
    assert isinstance(as_events(df), EventSource)
    evs = [Event(1, 2, 3)]
    assert as_events(evs) is evs


def test_bad_input_is_rejected_clearly(tmp_path):
    with pytest.raises(data.DataError, match="timestamp"):
        EventSource(pd.DataFrame({"user": [1], "item": [1]}))
    with pytest.raises(data.DataError, match="non-numeric timestamp"):
        EventSource(pd.DataFrame({"user": [1, 2], "item": [1, 1], "timestamp": [1.0, np.nan]}))
    with pytest.raises(ValueError, match="speed"):
        EventSource(pd.DataFrame({"user": [1], "item": [1], "timestamp": [1]}), speed=0)
    with pytest.raises(data.DataError, match="does not exist"):
        EventSource(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="size"):
        next(EventSource(pd.DataFrame({"user": [1], "item": [1], "timestamp": [1]})).batches(0))
