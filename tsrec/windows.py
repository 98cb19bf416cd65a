"""Time windows and exponential decay (chapter 4.1): windowed counts, decayed popularity, streaming.

Everything that is "as of" a time ``now`` only looks at events with ``timestamp <= now``: a
feature computed for a past moment must not peek into that moment's future (leakage). Times are
Unix seconds (UTC); ``now`` may also be a datetime. Input frames are never modified.
"""
from __future__ import annotations

import heapq
from collections.abc import Hashable

import numpy as np
import pandas as pd

from tsrec.times import TimeLike, calendar_step, floor_to, to_seconds, window_seconds
from tsrec.timeseries import check_frame, check_positive, check_positive_int, utc_index, whole_seconds

__all__ = [
    "tumbling_counts", "sliding_counts", "decay_weights", "decayed_popularity",
    "recent_popularity", "user_recent_items", "DecayedCounter", "DecayedVector",
]


def tumbling_counts(df: pd.DataFrame, freq: str = "W", key: str = "item") -> pd.DataFrame:
    """Events per non-overlapping window and key, long format (window_start, <key>, count).

    Windows are [start, start + freq) aligned in UTC (weeks start on Monday); only non-zero counts
    are listed, most frequent key first within a window.
    """
    check_frame(df, ["timestamp", key])
    starts = floor_to(whole_seconds(df), freq)
    frame = pd.DataFrame({"start": starts, key: df[key].to_numpy()})
    out = frame.groupby(["start", key], sort=True).size().rename("count").reset_index()
    out = out.sort_values(["start", "count"], ascending=[True, False], kind="stable", ignore_index=True)
    out.insert(0, "window_start", utc_index(out.pop("start").to_numpy()))
    return out


def sliding_counts(df: pd.DataFrame, window: str = "7D", step: str = "1D", key: str = "item") -> pd.DataFrame:
    """Events per key in (end - window, end] at every step, long format (window_end, <key>, count).

    Ends lie on the UTC ``step`` grid, from the first grid point at or after the first event to the
    first at or after the last event; an event appears in about window/step rows (memory grows so).
    """
    check_frame(df, ["timestamp", key])
    length = int(np.ceil(window_seconds(window)))
    size, origin = calendar_step(step)
    t = whole_seconds(df)
    first_end = t + (origin - t) % size                       # first grid point >= t
    last_end = t + length - 1 - (t + length - 1 - origin) % size  # last grid point < t + window
    last_end = np.minimum(last_end, first_end.max())            # no ends after the data
    n = np.maximum((last_end - first_end) // size + 1, 0).astype("int64")
    idx = np.repeat(np.arange(len(t)), n)
    offset = np.arange(len(idx)) - np.repeat(np.cumsum(n) - n, n)
    ends = first_end[idx] + offset * size
    frame = pd.DataFrame({"end": ends, key: df[key].to_numpy()[idx]})
    out = frame.groupby(["end", key], sort=True).size().rename("count").reset_index()
    out = out.sort_values(["end", "count"], ascending=[True, False], kind="stable", ignore_index=True)
    out.insert(0, "window_end", utc_index(out.pop("end").to_numpy(), name=None))
    return out


def decay_weights(ages_seconds: np.ndarray | float, half_life_seconds: float) -> np.ndarray:
    """Weight 0.5 ** (age / half_life) of events ``age`` seconds old: 1 now, 1/2 one half-life ago.

    A negative age is an event from the future of the reference time (leakage) and raises.
    """
    check_positive(half_life_seconds, "half_life_seconds")
    ages = np.asarray(ages_seconds, dtype="float64")
    if np.isnan(ages).any():
        raise ValueError("ages_seconds contains NaN")
    if (ages < 0).any():
        raise ValueError(f"{int((ages < 0).sum())} negative age(s) (min {ages.min():g} s): events after the "
                         "reference time would leak the future; filter them with timestamp <= now")
    return np.exp2(-ages / half_life_seconds)


def _per_item(items: np.ndarray, values: np.ndarray, n_items: int | None, name: str) -> np.ndarray | pd.Series:
    """Sum ``values`` per item: a dense array over ids 0..n_items (0 = padding) or a Series by item."""
    if n_items is None:
        out = pd.Series(values).groupby(items, sort=True).sum()
        out.index.name = "item"
        return out.rename(name)
    check_positive_int(n_items, "n_items")
    ids = np.asarray(items)
    if len(ids) and (not np.issubdtype(ids.dtype, np.integer) or ids.min() < 1 or ids.max() > n_items):
        raise ValueError(f"with n_items={n_items} items must be integer ids in 1..{n_items} "
                         "(map raw ids first); pass n_items=None for a Series indexed by raw id")
    return np.bincount(ids.astype("int64"), weights=values, minlength=n_items + 1).astype(values.dtype)


def _as_of(df: pd.DataFrame, now: TimeLike) -> tuple[pd.DataFrame, float]:
    """The validated rows with ``timestamp <= now`` and ``now`` in seconds."""
    check_frame(df, ["item", "timestamp"])
    now_s = to_seconds(now)
    return df[df["timestamp"].to_numpy(dtype="float64") <= now_s], now_s


def decayed_popularity(df: pd.DataFrame, now: TimeLike, half_life_seconds: float, n_items: int | None = None,
                       weight: str | None = None) -> np.ndarray | pd.Series:
    """Sum per item of decay weights 0.5 ** ((now - t) / half_life) over events with t <= now.

    Events after ``now`` are ignored, not down-weighted: a score "as of now" must not peek into the
    future. With ``n_items`` (ids 1..n) a float array of length n_items + 1 (index 0 = padding = 0);
    otherwise a Series by item. ``weight`` names a column (e.g. quantity) multiplying each event.
    """
    check_positive(half_life_seconds, "half_life_seconds")
    past, now_s = _as_of(df, now)
    if weight is not None:
        check_frame(df, [weight])
    w = decay_weights(now_s - past["timestamp"].to_numpy(dtype="float64"), half_life_seconds)
    if weight is not None:
        w = w * past[weight].to_numpy(dtype="float64")
    return _per_item(past["item"].to_numpy(), w, n_items, "decayed_popularity")


def recent_popularity(df: pd.DataFrame, now: TimeLike, window_seconds: float,
                      n_items: int | None = None) -> np.ndarray | pd.Series:
    """Events per item in the window (now - window_seconds, now]; same output shapes as decayed_popularity."""
    check_positive(window_seconds, "window_seconds")
    past, now_s = _as_of(df, now)
    recent = past[past["timestamp"].to_numpy(dtype="float64") > now_s - window_seconds]
    ones = np.ones(len(recent), dtype="int64")
    return _per_item(recent["item"].to_numpy(), ones, n_items, "recent_count")


def user_recent_items(df: pd.DataFrame, user: Hashable, now: TimeLike, k: int, unique: bool = False) -> list:
    """The user's ``k`` latest items with timestamp <= now, newest first (ties: later row is newer).

    ``unique=True`` keeps only the latest occurrence of each item. Unknown users give [].
    """
    check_frame(df, ["user", "item", "timestamp"])
    check_positive_int(k, "k")
    now_s = to_seconds(now)
    mine = df[(df["user"] == user).to_numpy() & (df["timestamp"].to_numpy(dtype="float64") <= now_s)]
    newest = mine.iloc[::-1].sort_values("timestamp", ascending=False, kind="stable")["item"]
    if unique:
        newest = newest.drop_duplicates()
    return newest.iloc[:k].tolist()


class DecayedCounter:
    """Streaming exponentially decayed counts: the online twin of :func:`decayed_popularity`.

    Each key stores sum(w * 2 ** ((t - t0) / half_life)) for a shared reference time t0, so an
    update is O(1) and the ranking never needs re-decaying; t0 moves forward before overflow.
    Calls must come in non-decreasing time order (each call advances the clock).
    """

    _RESCALE_AT = 512.0  # exponent (in half-lives) at which stored sums are brought back to scale

    def __init__(self, half_life_seconds: float) -> None:
        check_positive(half_life_seconds, "half_life_seconds")
        self.half_life = float(half_life_seconds)
        self._scaled: dict[Hashable, float] = {}
        self._t0: float | None = None
        self._now: float | None = None

    @property
    def time(self) -> float | None:
        """The latest time seen (Unix seconds), None before the first call."""
        return self._now

    def __len__(self) -> int:
        return len(self._scaled)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._scaled

    def _advance(self, t: TimeLike) -> float:
        """Check that ``t`` is not before the clock, move the clock and rescale if needed."""
        t_s = self._now if t is None else to_seconds(t, "t")
        if t_s is None:
            raise ValueError("no time given and the counter has seen no event yet")
        if self._now is not None and t_s < self._now:
            raise ValueError(f"time went backwards: t={t_s:g} is before the last time {self._now:g}; "
                             "feed events sorted by timestamp")
        if self._t0 is None:
            self._t0 = t_s
        exponent = (t_s - self._t0) / self.half_life
        if exponent > self._RESCALE_AT:
            factor = np.exp2(-exponent)
            self._scaled = {key: v * factor for key, v in self._scaled.items()}
            self._t0 = t_s
        self._now = t_s
        return t_s

    def update(self, key: Hashable, t: TimeLike, weight: float = 1.0) -> None:
        """Add an event of ``key`` at time ``t`` (seconds) with ``weight`` (>= 0)."""
        if not np.isfinite(weight) or weight < 0:
            raise ValueError(f"weight must be a finite number >= 0, got {weight!r}")
        t_s = self._advance(t)
        gain = weight * np.exp2((t_s - self._t0) / self.half_life)
        self._scaled[key] = self._scaled.get(key, 0.0) + float(gain)

    def _scale(self, t_s: float) -> float:
        """Factor turning a stored sum into the decayed value at ``t_s``."""
        return float(np.exp2(-(t_s - self._t0) / self.half_life))

    def value(self, key: Hashable, t: TimeLike | None = None) -> float:
        """Decayed count of ``key`` at time ``t`` (default: the latest time seen); 0 for unseen keys."""
        t_s = self._advance(t)
        return self._scaled.get(key, 0.0) * self._scale(t_s)

    def top(self, k: int, t: TimeLike | None = None) -> list[tuple[Hashable, float]]:
        """The ``k`` keys with the largest decayed counts at ``t`` as (key, value), largest first."""
        check_positive_int(k, "k")
        t_s = self._advance(t)
        scale = self._scale(t_s)
        best = heapq.nlargest(k, self._scaled.items(), key=lambda kv: kv[1])
        return [(key, v * scale) for key, v in best]


class DecayedVector:
    """Decayed counts of items 0..n as one float64 array, updated per event: the vectorised twin of
    :class:`DecayedCounter` (same stored sums, same rescaling), for scoring every item at once."""

    _RESCALE_AT = DecayedCounter._RESCALE_AT

    def __init__(self, n: int, half_life_seconds: float) -> None:
        if not (np.isfinite(half_life_seconds) and half_life_seconds > 0):
            raise ValueError(f"half_life_seconds must be a positive number, got {half_life_seconds!r}")
        self.h = float(half_life_seconds)
        self.scaled = np.zeros(n + 1, dtype=np.float64)
        self.t0: float | None = None

    def add(self, i: int, t: float, w: float = 1.0) -> None:
        """Add an event of item ``i`` at time ``t`` with weight ``w`` (times must not go back)."""
        if self.t0 is None:
            self.t0 = float(t)
        e = (t - self.t0) / self.h
        if e > self._RESCALE_AT:
            self.scaled *= np.exp2(-e)
            self.t0, e = float(t), 0.0
        self.scaled[i] += w * np.exp2(e)

    def values(self, now: float) -> np.ndarray:
        """Decayed counts at ``now``; if that underflows (now very far ahead), counts proportional to them."""
        if self.t0 is None:
            return self.scaled.copy()
        f = np.exp2(-(now - self.t0) / self.h)
        if f == 0.0 or not np.isfinite(f):
            m = self.scaled.max()
            return self.scaled / m if m > 0 else self.scaled.copy()
        return self.scaled * f
