"""Tests of tsrec.times: the constants, conversions to Unix seconds, window lengths and calendar bins."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tsrec import times

MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC, a Monday


def test_constants():
    assert (times.MINUTE, times.HOUR, times.DAY) == (60, 3_600, 86_400)
    assert times.WEEK == 7 * 86_400 and times.YEAR == 365 * 86_400
    assert pd.Timestamp(0, unit="s").dayofweek == times.EPOCH_WEEKDAY
    assert pd.Timestamp(times.EPOCH_1990, unit="s") == pd.Timestamp("1990-01-01")
    assert pd.Timestamp(times.MONDAY_ORIGIN, unit="s").dayofweek == 0


@pytest.mark.parametrize("value", [MONDAY, float(MONDAY), np.int64(MONDAY), "2024-01-01", "2024-01-01T00:00:00Z",
                                   dt.datetime(2024, 1, 1), dt.date(2024, 1, 1), pd.Timestamp("2024-01-01"),
                                   pd.Timestamp("2024-01-01 01:00", tz="Europe/Paris"),
                                   np.datetime64("2024-01-01T00:00:00")])
def test_to_seconds_reads_every_kind_of_time_naive_as_utc(value):
    assert times.to_seconds(value) == MONDAY


def test_to_seconds_rejects_what_is_not_a_time():
    with pytest.raises(TypeError, match="start must be Unix seconds"):
        times.to_seconds(True, "start")
    with pytest.raises(TypeError):
        times.to_seconds([MONDAY])
    with pytest.raises(ValueError, match="finite"):
        times.to_seconds(float("inf"))
    with pytest.raises(ValueError, match="NaT"):
        times.to_seconds(pd.NaT)


def test_to_unix_seconds_any_resolution():
    s = pd.Series(["2024-01-01 00:00:01", "1970-01-01 00:00:00", "2023-12-31 23:00:00"])
    assert times.to_unix_seconds(s).tolist() == [MONDAY + 1, 0, MONDAY - 3_600]
    paris = pd.Series(pd.to_datetime(["2024-01-01 01:00"]).tz_localize("Europe/Paris"))
    assert times.to_unix_seconds(paris).tolist() == [MONDAY]
    ms = pd.Series(pd.to_datetime([MONDAY * 1000 + 999], unit="ms"))
    assert times.to_unix_seconds(ms).tolist() == [MONDAY]  # floored to the second
    assert times.to_unix_seconds(s).dtype == np.int64


def test_datetimes_to_seconds():
    d = np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:04"], dtype="datetime64[s]")
    np.testing.assert_array_equal(times.datetimes_to_seconds(d), [MONDAY, MONDAY + 4])
    with pytest.raises(ValueError, match="NaT"):
        times.datetimes_to_seconds(np.array(["2024-01-01", "NaT"], dtype="datetime64[s]"))
    with pytest.raises(ValueError, match="datetime64"):
        times.datetimes_to_seconds(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="1-D"):
        times.datetimes_to_seconds(np.zeros((2, 2), dtype="datetime64[s]"))

def test_calendar_step_and_floor_to():
    assert times.calendar_step("h") == (3_600, 0)
    assert times.calendar_step("15min") == (900, 0)
    assert times.calendar_step("D") == times.calendar_step("1D") == (86_400, 0)
    assert times.calendar_step("7D") == (7 * 86_400, 0)  # 7-day bins counted from the epoch (a Thursday)
    assert times.calendar_step("W") == (times.WEEK, times.MONDAY_ORIGIN)  # weeks start on Monday
    t = np.array([MONDAY, MONDAY + 1, MONDAY + 3 * 86_400 + 5, MONDAY - 1])
    np.testing.assert_array_equal(times.floor_to(t, "W"), [MONDAY, MONDAY, MONDAY, MONDAY - times.WEEK])
    np.testing.assert_array_equal(times.floor_to(t, "D"), [MONDAY, MONDAY, MONDAY + 3 * 86_400, MONDAY - 86_400])
    weekly = pd.to_datetime(times.floor_to(t, "W"), unit="s")
    assert (weekly.dayofweek == 0).all() and (weekly.hour == 0).all()
    for bad in ("M", "", "500ms", None, "not a freq"):
        with pytest.raises(ValueError):
            times.calendar_step(bad)


def test_window_seconds():
    assert times.window_seconds(90) == 90.0 and times.window_seconds(2.5) == 2.5
    assert times.window_seconds("7D") == times.window_seconds("W") == 7 * 86_400
    assert times.window_seconds("12h") == 43_200
    assert times.window_seconds(pd.Timedelta(hours=2)) == times.window_seconds(dt.timedelta(hours=2)) == 7_200
    assert times.window_seconds(np.timedelta64(3, "s")) == 3.0
    for bad in (0, -5, float("nan"), True, [3]):
        with pytest.raises(ValueError, match="half_life"):
            times.window_seconds(bad, name="half_life")
