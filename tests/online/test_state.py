"""Tests of tsrec.online.state: the windowed and decayed state kept per event equals the batch windows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec import windows as W
from tsrec.online import Event, EventSource, StreamState

from .helpers import DAY, random_log


def test_window_and_decayed_state_equal_batch_windows():
    df = random_log()
    n_items, window, hl = 12, 3 * DAY, DAY / 2
    state = StreamState(window_seconds=window, half_life_seconds=hl)
    src = EventSource(df)
    for pos, ev in enumerate(src):
        state.update(ev)
        prefix = src.frame.iloc[: pos + 1]
        np.testing.assert_array_equal(state.window_array(n_items),
                                      W.recent_popularity(prefix, ev.timestamp, window, n_items))
        if pos % 25 == 0:
            batch = W.decayed_popularity(prefix, ev.timestamp, hl, n_items)
            got = [state.decayed.value(i) for i in range(1, n_items + 1)]
            np.testing.assert_allclose(got, batch[1:], rtol=1e-9)
    items, times = state.history(int(df["user"].iloc[0]))
    assert np.all(np.diff(times) >= 0) and len(items) == (df["user"] == df["user"].iloc[0]).sum()


def test_window_counts_equal_sliding_counts_on_its_grid():
    df = random_log(seed=1)
    expected = W.sliding_counts(df, window="2D", step="1D")
    end_s = ((pd.to_datetime(expected["window_end"], utc=True) - pd.Timestamp(0, tz="UTC"))
             // pd.Timedelta(seconds=1)).to_numpy()
    ends = np.unique(end_s)
    state = StreamState(window_seconds="2D", half_life_seconds=None)
    events = list(EventSource(df))
    pos = 0
    for end in ends:
        while pos < len(events) and events[pos].timestamp <= end:
            state.update(events[pos])
            pos += 1
        state.advance(int(end))
        rows = expected[end_s == end]
        assert dict(state.window_counts) == dict(zip(rows["item"], rows["count"])), f"window ending {end}"


def test_histories_seen_items_and_queries():
    state = StreamState(window_seconds=None, half_life_seconds=None, history_len=2)
    for ev in (Event("a", 1, 10), Event("a", 2, 20), Event("b", 3, 20), Event("a", 1, 30)):
        state.update(ev)
    items, times = state.history("a")
    assert items.tolist() == [2, 1] and times.tolist() == [20, 30]  # the last history_len events
    assert state.seen("a") == {1, 2} and state.seen("nobody") == set() and state.users == ["a", "b"]
    assert state.n_events == 4 and state.item_counts[1] == 2 and state.now == 30
    q = state.query(["b", "nobody"], [40, 50])
    assert [x.tolist() for x in q.items] == [[3], []] and q.now.tolist() == [40, 50]
    with pytest.raises(ValueError, match="backwards"):
        state.update(Event("a", 2, 29))
    with pytest.raises(ValueError, match="history_len"):
        StreamState(history_len=0)
