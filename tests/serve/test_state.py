"""Tests of tsrec.serve.state: live histories (late events kept in time order), cold-start
popularity, and latency summaries (of recorded numbers: nothing here is timed)."""
from __future__ import annotations

import numpy as np
import pytest

from tsrec.serve import Latency, LiveState


def test_live_state_keeps_histories_in_time_order():
    s = LiveState(5)
    for user, item, t in [(1, 2, 100), (1, 3, 300), (1, 4, 200), (2, 2, 150)]:  # (1, 4) arrives late
        s.add(user, item, t)
    items, times, seen = s.history(1)
    assert items.tolist() == [2, 4, 3] and times.tolist() == [100, 200, 300] and seen.tolist() == [2, 3, 4]
    items, times, _ = s.history(1, now=250)
    assert items.tolist() == [2, 4] and times.tolist() == [100, 200]
    assert [a.tolist() for a in s.history("nobody")] == [[], [], []]
    assert s.n_events == 4 and s.n_users == 2 and s.latest == 300
    for t in range(2000):  # the event buffer grows past its initial size
        s.add(3, 1, 1000 + t)
    assert s.n_events == 2004 and s.counts[1] == 2000


def test_cold_start_popularity_counts_the_window_and_breaks_ties_by_all_time_counts():
    s = LiveState(4)
    for item, t in [(1, 10), (1, 20), (2, 90), (3, 95), (3, 99)]:
        s.add("u", item, t)
    pop = s.popularity(now=100, window_seconds=20)  # window (80, 100]: item 2 once, item 3 twice
    total = np.array([0, 2, 1, 2, 0]) / 3.0
    np.testing.assert_allclose(pop, np.array([0, 0, 1, 2, 0]) + total)
    assert np.argsort(-pop[1:])[0] + 1 == 3 and pop[1] > pop[4]  # all-time counts order the rest


def test_latency_percentiles_of_recorded_values():
    lat = Latency(size=4)
    assert lat.summary() == {"count": 0}
    for seconds in (0.004, 0.001, 0.003, 0.002, 0.010):  # the first one leaves the window of 4
        lat.add(seconds)
    out = lat.summary()
    assert out["count"] == 5 and out["window"] == 4 and out["max_ms"] == 10.0
    assert out["p50_ms"] == pytest.approx(2.5) and out["p99_ms"] == pytest.approx(np.percentile([1, 3, 2, 10], 99))
