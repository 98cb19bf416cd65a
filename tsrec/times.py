"""Time in one place: Unix-second constants, conversions to seconds, window lengths and calendar bins.

The whole package keeps time as int64 Unix seconds in UTC. Anything a reader may type instead (a date
string, a ``datetime``, a ``pd.Timestamp``, a pandas frequency such as ``"7D"``) is turned into seconds
here, and a naive datetime always means UTC.
"""
from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd

__all__ = [
    "MINUTE", "HOUR", "DAY", "WEEK", "YEAR", "EPOCH_WEEKDAY", "EPOCH_1990", "TimeLike",
    "to_seconds", "to_unix_seconds", "datetimes_to_seconds", "window_seconds", "calendar_step", "floor_to",
]

MINUTE = 60
HOUR = 3_600
DAY = 86_400
WEEK = 7 * DAY
YEAR = 365 * DAY
EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)
MONDAY_ORIGIN = 4 * DAY  # the first Monday 00:00 UTC after the epoch: weekly bins start there
EPOCH_1990 = 631_152_000  # timestamps before 1990-01-01 UTC are almost always clock errors

# A point in time: Unix seconds (UTC) or anything pd.Timestamp understands (naive means UTC).
TimeLike = int | float | str | _dt.datetime | _dt.date | pd.Timestamp | np.datetime64


def to_seconds(t: TimeLike, name: str = "time") -> float:
    """Unix seconds of a number, a date string, a datetime or a Timestamp (naive = UTC); finite or ValueError."""
    if isinstance(t, (int, float, np.integer, np.floating)) and not isinstance(t, (bool, np.bool_)):
        value = float(t)
    elif isinstance(t, (str, _dt.datetime, _dt.date, pd.Timestamp, np.datetime64)):
        stamp = pd.Timestamp(t)
        if stamp is pd.NaT:
            raise ValueError(f"{name} must be a time, got NaT")
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        value = stamp.timestamp()
    else:
        raise TypeError(f"{name} must be Unix seconds or a datetime, got {type(t).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {t!r}")
    return value


def to_unix_seconds(values: pd.Series) -> pd.Series:
    """Datetimes or datetime strings (naive = UTC) as int64 Unix seconds, whatever their resolution."""
    ts = pd.to_datetime(values, utc=True)
    return ((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("int64")


def datetimes_to_seconds(values: np.ndarray, name: str = "timestamps") -> np.ndarray:
    """A 1-D datetime64 array as float seconds since the epoch (NaT raises)."""
    t = np.asarray(values)
    if t.ndim != 1 or not np.issubdtype(t.dtype, np.datetime64):
        raise ValueError(f"{name} must be a 1-D array of datetime64, got dtype {t.dtype} and shape {t.shape}")
    if np.isnat(t).any():
        raise ValueError(f"{name} contain NaT (first at index {int(np.argmax(np.isnat(t)))})")
    return t.astype("datetime64[ns]").astype(np.int64) / 1e9


def calendar_step(freq: str) -> tuple[int, int]:
    """(length, origin) in seconds of a fixed-size calendar bin: 'h', 'D', '15min', 'W' (weeks from Monday)."""
    if not isinstance(freq, str) or not freq:
        raise ValueError(f"freq must be a pandas frequency string such as 'h', 'D' or 'W', got {freq!r}")
    if freq.upper() in ("W", "1W"):  # pandas "W" would be weeks ending Sunday
        return WEEK, MONDAY_ORIGIN
    try:
        nanos = pd.tseries.frequencies.to_offset(freq).nanos
    except (ValueError, TypeError) as err:
        raise ValueError(f"freq {freq!r} is not a fixed-length frequency; use e.g. 'h', 'D', '7D' or 'W'") from err
    if nanos <= 0 or nanos % 1_000_000_000:
        raise ValueError(f"freq {freq!r} must be a positive whole number of seconds")
    return nanos // 1_000_000_000, 0


def floor_to(seconds: np.ndarray, freq: str) -> np.ndarray:
    """Start (Unix seconds) of the calendar bin of ``freq`` that contains each timestamp."""
    length, origin = calendar_step(freq)
    return seconds - (seconds - origin) % length


def window_seconds(window: str | float | pd.Timedelta, name: str = "window") -> float:
    """A window length given as seconds, a Timedelta or a fixed pandas frequency ('7D', '12h', 'W' = 7 days)."""
    if isinstance(window, (pd.Timedelta, np.timedelta64, _dt.timedelta)):
        window = pd.Timedelta(window).total_seconds()
    if isinstance(window, str):
        return float(calendar_step(window)[0])
    if isinstance(window, bool) or not isinstance(window, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number of seconds or a frequency such as '7D', got {window!r}")
    if not np.isfinite(window) or window <= 0:
        raise ValueError(f"{name} must be a positive number, got {window!r}")
    return float(window)
