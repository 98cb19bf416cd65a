"""Tests of tsrec.windows: exact decay weights, windows on a crafted log, streaming == batch."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tsrec import windows as w

DAY = 86_400
HL = 3_600.0
MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC, a Monday


def _log() -> pd.DataFrame:
    """A crafted log: item 1 on days 0 (noon) and 1 (midnight), item 2 on days 1, 3 and 10."""
    t = [MONDAY + DAY // 2, MONDAY + DAY, MONDAY + DAY + 5, MONDAY + 3 * DAY + 7, MONDAY + 3 * DAY + 8,
         MONDAY + 10 * DAY]
    return pd.DataFrame({"user": [1, 1, 2, 1, 2, 2], "item": [1, 1, 2, 1, 2, 2], "timestamp": t})


def _random_log(n: int = 300, n_items: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.sort(MONDAY + rng.integers(0, 20 * DAY, n))
    return pd.DataFrame({"user": rng.integers(1, 30, n), "item": rng.integers(1, n_items + 1, n),
                         "timestamp": t.astype("int64")})


# ----------------------------------------------------------------------------- decay
def test_decay_weights_hand_worked():
    np.testing.assert_array_equal(w.decay_weights([0, HL, 2 * HL], HL), [1.0, 0.5, 0.25])
    assert w.decay_weights(1.5 * HL, HL) == pytest.approx(2 ** -1.5)


def test_decayed_popularity_three_events_and_ignores_future():
    now = MONDAY + 10 * HL
    df = pd.DataFrame({"user": 1, "item": [1, 1, 2, 3],
                       "timestamp": [now, now - HL, now - 2 * HL, now + 1]})  # item 3: future
    dense = w.decayed_popularity(df, now, HL, n_items=3)
    np.testing.assert_array_equal(dense, [0.0, 1.5, 0.25, 0.0])
    assert dense.dtype == np.float64 and len(dense) == 4
    series = w.decayed_popularity(df.assign(item=["x", "x", "y", "z"]), now, HL)
    assert series.to_dict() == {"x": 1.5, "y": 0.25}
    df["quantity"] = [2.0, 1.0, 4.0, 9.0]
    np.testing.assert_array_equal(w.decayed_popularity(df, now, HL, n_items=3, weight="quantity"),
                                  [0.0, 2.5, 1.0, 0.0])
    as_datetime = w.decayed_popularity(df, pd.Timestamp(now, unit="s"), HL, n_items=3)
    np.testing.assert_array_equal(as_datetime, dense)


def test_recent_popularity_window_is_half_open():
    now = MONDAY + DAY
    df = pd.DataFrame({"user": 1, "item": [1, 1, 2, 2],
                       "timestamp": [now - 3600, now, now - 3600 + 1, now + 1]})
    # window (now - 3600, now]: the event at exactly now - 3600 is out, the one at now is in
    np.testing.assert_array_equal(w.recent_popularity(df, now, 3600, n_items=3), [0, 1, 1, 0])
    assert w.recent_popularity(df, now, 3601).to_dict() == {1: 2, 2: 1}


def test_user_recent_items_order_ties_and_cutoff():
    df = pd.DataFrame({"user": ["a", "a", "a", "a", "b", "a"], "item": [10, 11, 12, 10, 99, 13],
                       "timestamp": [100, 200, 200, 300, 400, 500]})
    assert w.user_recent_items(df, "a", now=300, k=3) == [10, 12, 11]  # tie 200: later row first
    assert w.user_recent_items(df, "a", now=300, k=10, unique=True) == [10, 12, 11]
    assert w.user_recent_items(df, "a", now=1000, k=2) == [13, 10]
    assert w.user_recent_items(df, "nobody", now=1000, k=2) == []


# ----------------------------------------------------------------------------- windows
def test_tumbling_counts_crafted():
    out = w.tumbling_counts(_log(), freq="D")
    assert list(out.columns) == ["window_start", "item", "count"]
    days = ((out["window_start"] - pd.Timestamp(MONDAY, unit="s", tz="UTC")) // pd.Timedelta("1D")).tolist()
    assert list(zip(days, out["item"], out["count"])) == [(0, 1, 1), (1, 1, 1), (1, 2, 1), (3, 1, 1),
                                                          (3, 2, 1), (10, 2, 1)]
    weekly = w.tumbling_counts(_log(), freq="W")
    assert weekly["count"].tolist() == [3, 2, 1] and weekly["item"].tolist() == [1, 2, 2]


def test_sliding_counts_crafted():
    out = w.sliding_counts(_log(), window="2D", step="1D")
    assert list(out.columns) == ["window_end", "item", "count"]
    days = ((out["window_end"] - pd.Timestamp(MONDAY, unit="s", tz="UTC")) // pd.Timedelta("1D")).tolist()
    # end 1: (day -1, day 1] holds item 1 twice; end 3 excludes the event at exactly day 1 00:00
    assert list(zip(days, out["item"], out["count"])) == [
        (1, 1, 2), (2, 1, 2), (2, 2, 1), (3, 2, 1), (4, 1, 1), (4, 2, 1), (5, 1, 1), (5, 2, 1), (10, 2, 1)]


def test_sliding_equals_rolling_sum_of_tumbling():
    df = _random_log()
    df["timestamp"] = df["timestamp"] // DAY * DAY + DAY // 2  # off the day boundaries
    daily = w.tumbling_counts(df, "D").pivot(index="window_start", columns="item", values="count")
    daily = daily.asfreq("D").fillna(0)
    rolled = daily.rolling(7, min_periods=1).sum()
    rolled.index = rolled.index + pd.Timedelta("1D")  # (end - 7D, end] <-> starts end-7D .. end-1D
    sliding = w.sliding_counts(df, "7D", "1D").pivot(index="window_end", columns="item", values="count")
    sliding = sliding.reindex(rolled.index).fillna(0)
    np.testing.assert_array_equal(sliding.to_numpy(), rolled.to_numpy())


# ----------------------------------------------------------------------------- streaming
def test_decayed_counter_equals_batch():
    df = _random_log()
    counter = w.DecayedCounter(HL * 24)
    for item, t in zip(df["item"], df["timestamp"]):
        counter.update(item, t)
    now = int(df["timestamp"].max()) + 7_200
    batch = w.decayed_popularity(df, now, HL * 24, n_items=12)
    stream = np.array([0.0] + [counter.value(i, now) for i in range(1, 13)])
    np.testing.assert_allclose(stream, batch, rtol=1e-12)
    top = counter.top(3)
    assert [k for k, _ in top] == list(np.argsort(-batch, kind="stable")[:3])
    np.testing.assert_allclose([v for _, v in top], np.sort(batch)[::-1][:3], rtol=1e-12)


def test_decayed_counter_rescales_over_many_half_lives():
    df = _random_log(n=200, n_items=5, seed=2)  # 20 days with a 60 s half-life: ~29,000 half-lives
    counter = w.DecayedCounter(60.0)
    for item, t in zip(df["item"], df["timestamp"]):
        counter.update(item, t, weight=2.0)
    now = int(df["timestamp"].max())
    batch = 2.0 * w.decayed_popularity(df, now, 60.0, n_items=5)
    np.testing.assert_allclose([0.0] + [counter.value(i) for i in range(1, 6)], batch, rtol=1e-12)
    assert counter._t0 > df["timestamp"].min()  # the reference time was moved forward
    assert np.isfinite(list(counter._scaled.values())).all()


def test_decayed_counter_rejects_time_going_backwards():
    counter = w.DecayedCounter(HL)
    counter.update("a", 100)
    counter.update("b", 100)  # equal times are fine
    assert counter.value("a", 100 + HL) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="time went backwards"):
        counter.update("a", 99)
    assert counter.value("never-seen") == 0.0 and len(counter) == 2 and "a" in counter


def test_decayed_vector_equals_the_counter_and_the_batch_window():
    df = _random_log(n=200, n_items=5, seed=3)
    vec, counter = w.DecayedVector(5, 60.0), w.DecayedCounter(60.0)  # many half-lives: rescaled on the way
    for item, t in zip(df["item"], df["timestamp"]):
        vec.add(int(item), t, 2.0)
        counter.update(int(item), t, weight=2.0)
    now = int(df["timestamp"].max()) + 30
    np.testing.assert_allclose(vec.values(now), 2.0 * w.decayed_popularity(df, now, 60.0, n_items=5), rtol=1e-12)
    np.testing.assert_allclose(vec.values(now)[1:], [counter.value(i, now) for i in range(1, 6)], rtol=1e-12)
    assert vec.t0 > df["timestamp"].min()
    far = vec.values(now + 10**9)  # underflow: proportional to the counts, the largest 1
    assert far.max() == 1.0 and np.argmax(far) == np.argmax(vec.values(now))
    assert w.DecayedVector(3, 1.0).values(0).tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="half_life_seconds"):
        w.DecayedVector(3, 0)


# ----------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("call, message", [
    (lambda: w.decay_weights([1.0, -5.0], HL), "leak the future"),
    (lambda: w.decay_weights([1.0], 0), "half_life_seconds must be a positive"),
    (lambda: w.decayed_popularity(_log(), MONDAY, -1.0), "half_life_seconds must be a positive"),
    (lambda: w.decayed_popularity(_log(), MONDAY + 20 * DAY, HL, n_items=1), "integer ids in 1..1"),
    (lambda: w.decayed_popularity(_log().drop(columns="item"), MONDAY, HL), "missing column"),
    (lambda: w.decayed_popularity(_log().iloc[:0], MONDAY, HL), "empty"),
    (lambda: w.recent_popularity(_log(), MONDAY, 0), "window_seconds must be a positive"),
    (lambda: w.recent_popularity(_log().assign(timestamp=np.nan), MONDAY, 10), "NaN timestamp"),
    (lambda: w.user_recent_items(_log(), 1, MONDAY, k=0), "k must be a positive integer"),
    (lambda: w.sliding_counts(_log(), window="7D", step="M"), "fixed-length"),
    (lambda: w.tumbling_counts(_log(), key="shop"), "missing column"),
    (lambda: w.DecayedCounter(0), "half_life_seconds must be a positive"),
])
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()
