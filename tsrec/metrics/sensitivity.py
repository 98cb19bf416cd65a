"""The book's time-sensitivity score TS: the mean rate of change of recommendation scores over time."""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from tsrec.metrics.inputs import float_1d
from tsrec.times import datetimes_to_seconds

_ZERO_POLICIES = ("skip", "floor", "error")


def _times(timestamps: Any) -> np.ndarray:
    """Timestamps as float seconds: numbers as they are, datetime64 since the epoch."""
    t = np.asarray(timestamps)
    return datetimes_to_seconds(t) if np.issubdtype(t.dtype, np.datetime64) else float_1d(t, "timestamps")


def _ts_terms(dr: np.ndarray, dt: np.ndarray, zero_interval: str, min_interval: float,
              where: Callable[[int], str]) -> np.ndarray:
    """The terms |Δr|/|T| that the zero-interval policy keeps (``where(i)`` names pair i in errors)."""
    dt = np.abs(dt)
    zero = dt == 0
    if zero_interval == "skip":
        return dr[~zero] / dt[~zero]
    if zero_interval == "floor":
        return dr / np.maximum(dt, min_interval)
    if zero.any():  # "error"
        raise ValueError(f"zero time interval at {where(int(np.argmax(zero)))} (zero_interval='error')")
    return dr / dt


def _check_ts_options(zero_interval: str, min_interval: float, unit: float) -> None:
    """ValueError for an unknown policy, a non-positive floor or unit."""
    if zero_interval not in _ZERO_POLICIES:
        raise ValueError(f"zero_interval must be one of {_ZERO_POLICIES}, got {zero_interval!r}")
    if zero_interval == "floor" and not (min_interval > 0):
        raise ValueError(f"min_interval must be > 0 with zero_interval='floor', got {min_interval!r}")
    if not (unit > 0) or not math.isfinite(unit):
        raise ValueError(f"unit must be a positive finite number, got {unit!r}")


def time_sensitivity(scores: Any, timestamps: Any, zero_interval: str = "skip",
                     min_interval: float = 1.0, unit: float = 1.0) -> float:
    """The book's time-sensitivity TS = 1/N Σ_i |r_i - r_{i-1}| / |T_i|, T_i = (t_i - t_{i-1}) / unit.

    Mean rate of change of one user's/item's recommendation scores r_i at times t_i (1-D,
    non-decreasing, no NaN). Pairs with T_i == 0 follow ``zero_interval``: "skip" (default) drops
    them from the sum and from N, since a change with no elapsed time has no rate; "floor" divides
    every pair by max(|T_i|, min_interval) (min_interval in the same unit as T_i); "error" raises
    ValueError naming the index. ValueError too when no pair with a usable interval remains.
    """
    _check_ts_options(zero_interval, min_interval, unit)
    r = float_1d(scores, "scores")
    t = _times(timestamps)
    if r.size != t.size:
        raise ValueError(f"scores has {r.size} values but timestamps has {t.size}")
    if r.size < 2:
        raise ValueError(f"time sensitivity needs at least 2 observations, got {r.size}")
    dt = np.diff(t) / unit
    if (dt < 0).any():
        i = int(np.argmax(dt < 0)) + 1
        raise ValueError(f"timestamps must be non-decreasing: t[{i}] = {t[i]} < t[{i - 1}] = {t[i - 1]}")
    terms = _ts_terms(np.abs(np.diff(r)), dt, zero_interval, min_interval,
                      lambda i: f"index {i + 1} (t[{i + 1}] == t[{i}])")
    if terms.size == 0:
        raise ValueError("no pair of observations with a non-zero time interval: time sensitivity undefined")
    return float(terms.mean())


def time_sensitivity_grouped(df: Any, key: str | Sequence[str], score_col: str, time_col: str,
                             zero_interval: str = "skip", min_interval: float = 1.0,
                             unit: float = 1.0) -> float:
    """TS over a DataFrame: consecutive pairs within each ``key`` group in time order, averaged over ALL pairs.

    Equal to Σ_groups Σ_pairs term / Σ_groups N_g (groups with many pairs weigh more); rows are
    sorted by time inside each group (stable), and the zero-interval policy is that of ``time_sensitivity``.
    """
    _check_ts_options(zero_interval, min_interval, unit)
    keys = [key] if isinstance(key, str) else list(key)
    missing = [c for c in [*keys, score_col, time_col] if c not in df.columns]
    if missing:
        raise ValueError(f"df lacks column(s) {missing}")
    if len(df) == 0:
        raise ValueError("df is empty")
    if df[time_col].isna().any():
        raise ValueError(f"column {time_col!r} contains NaN/NaT (first at index {df.index[df[time_col].isna()][0]!r})")
    d = df.sort_values([*keys, time_col], kind="mergesort")
    r = float_1d(d[score_col].to_numpy(), f"column {score_col!r}")
    t = _times(d[time_col].to_numpy())
    kv = d[keys].to_numpy()
    same = (kv[1:] == kv[:-1]).all(1)  # pair (i-1, i) lies inside one group
    dr, dt = np.abs(np.diff(r))[same], (np.diff(t) / unit)[same]
    pair_row = np.flatnonzero(same) + 1
    labels = d.index.tolist()

    def where(i: int) -> str:
        """Name pair i by its group key and the row labels of its two observations."""
        row = int(pair_row[i])
        group = kv[row].tolist()
        return f"group {group[0] if len(group) == 1 else tuple(group)!r}, rows {labels[row - 1]!r} and {labels[row]!r}"

    terms = _ts_terms(dr, dt, zero_interval, min_interval, where)
    if terms.size == 0:
        raise ValueError("no pair of observations with a non-zero time interval in any group: TS undefined")
    return float(terms.mean())
