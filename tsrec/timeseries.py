"""Interaction logs as time series (chapter 3): counts, seasonality, decomposition, outliers, quality.

Every function takes the canonical interaction frame (``user``, ``item``, ``timestamp`` in int64
Unix seconds, UTC) or a numeric :class:`pandas.Series`, returns new objects and never modifies its
input. Calendar bins are aligned in UTC: hours and days on the epoch, weeks on Mondays (ISO weeks).
"""
from __future__ import annotations

import hashlib
import time as _time
import warnings
from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd

from tsrec.prep import clean
from tsrec.times import DAY, EPOCH_1990, TimeLike, calendar_step, floor_to, to_seconds

_PERIODS = ("dayofweek", "hour")

__all__ = [
    "event_counts", "seasonal_profile", "decompose", "seasonal_strength", "autocorrelation",
    "robust_zscore", "outliers_zscore", "outliers_iqr", "outliers_hampel",
    "rolling_median", "ewma", "replace_outliers", "quality_report", "log_fingerprint", "corrupted_logs",
]


# --------------------------------------------------------------------------- validation helpers
def check_frame(df: pd.DataFrame, columns: Iterable[str] = ("timestamp",), *,
                 allow_nan_timestamps: bool = False, what: str = "interactions") -> None:
    """Raise a clear error unless ``df`` is a non-empty frame with ``columns`` and usable timestamps."""
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} frame is missing column(s) {missing}; it has {list(df.columns)} "
                         "(expected the schema user, item, timestamp [int64 Unix seconds])")
    if df.empty:
        raise ValueError(f"{what} frame is empty: there is nothing to analyse")
    if "timestamp" in columns:
        ts = df["timestamp"]
        if not pd.api.types.is_numeric_dtype(ts) or pd.api.types.is_bool_dtype(ts):
            raise ValueError(f"timestamp must be numeric Unix seconds (int64, UTC), got dtype {ts.dtype}; "
                             "convert datetimes with (s - pd.Timestamp(0, tz='UTC')) // pd.Timedelta('1s')")
        n_nan = int(ts.isna().sum())
        if n_nan and not allow_nan_timestamps:
            raise ValueError(f"{n_nan} NaN timestamp(s) in {what}; drop or repair them first "
                             "(tsrec.timeseries.quality_report lists data problems)")


def whole_seconds(df: pd.DataFrame) -> np.ndarray:
    """Timestamps of a validated frame as an int64 array of whole seconds."""
    return np.floor(df["timestamp"].to_numpy(dtype="float64")).astype("int64")


def utc_index(seconds: np.ndarray, name: str | None = "window_start") -> pd.DatetimeIndex:
    """A UTC DatetimeIndex from Unix seconds."""
    return pd.DatetimeIndex(pd.to_datetime(seconds, unit="s", utc=True), name=name)


def _utc_range(start: int, periods: int, length: int) -> pd.DatetimeIndex:
    """Regular UTC DatetimeIndex (with its freq set) of ``periods`` bins of ``length`` seconds."""
    first = pd.Timestamp(int(start), unit="s", tz="UTC")
    return pd.date_range(first, periods=periods, freq=pd.Timedelta(seconds=int(length)), name="window_start")


def _as_series(series: object, what: str = "series") -> pd.Series:
    """A float Series copy of ``series`` (a Series keeps its index); raise if it is empty."""
    s = series.astype("float64") if isinstance(series, pd.Series) else pd.Series(series, dtype="float64")
    if s.empty:
        raise ValueError(f"{what} is empty")
    return s


def check_positive(value: float, name: str) -> None:
    """Raise ValueError unless ``value`` is a finite positive number."""
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def check_positive_int(value: int, name: str) -> None:
    """Raise ValueError unless ``value`` is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


# --------------------------------------------------------------------------- counts and seasonality
def event_counts(df: pd.DataFrame, freq: str = "D", by: str | None = None, value: str | None = None,
                 items: Iterable[Hashable] | None = None) -> pd.Series | pd.DataFrame:
    """Events (or the sum of column ``value``) per hour/day/week, empty periods filled with 0.

    The index is a UTC DatetimeIndex of period starts (weeks start on Monday); ``by="item"`` gives
    one column per item (only ``items`` if given, in that order) over the span of the whole log.
    """
    check_frame(df, ["timestamp"] + ([by] if by else []) + ([value] if value else []))
    length, _ = calendar_step(freq)
    starts = floor_to(whole_seconds(df), freq)
    full = np.arange(starts.min(), starts.max() + 1, length)
    weights = df[value].to_numpy(dtype="float64") if value else np.ones(len(df), dtype="int64")
    name = value or "count"
    if by is None:
        sums = pd.Series(weights).groupby(starts).sum()
        out = sums.reindex(full, fill_value=0)
        out.index = _utc_range(full[0], len(full), length)
        return out.rename(name)
    frame = pd.DataFrame({"start": starts, "key": df[by].to_numpy(), "w": weights})
    if items is not None:
        items = list(items)
        frame = frame[frame["key"].isin(items)]
    table = frame.pivot_table(index="start", columns="key", values="w", aggfunc="sum", fill_value=0)
    table = table.reindex(index=full, columns=items if items is not None else table.columns, fill_value=0)
    table.index = _utc_range(full[0], len(full), length)
    table.columns.name = by
    return table.astype("float64" if value else "int64")


def _local_times(df: pd.DataFrame, tz: str | None) -> pd.Series:
    """Timestamps as naive wall-clock datetimes in ``tz`` (UTC when None)."""
    stamps = pd.to_datetime(whole_seconds(df), unit="s", utc=True)
    if tz is not None:
        stamps = stamps.tz_convert(tz)
    return pd.Series(stamps.tz_localize(None))


def seasonal_profile(df: pd.DataFrame, period: str = "dayofweek", normalise: bool = True,
                     tz: str | None = None) -> pd.Series:
    """Mean events per weekday (0 = Monday) or hour of day, as shares summing to 1 if ``normalise``.

    Days (hours) with no events count as 0, so a weekday that occurs more often in the span is not
    favoured; ``tz`` converts to local time first (people live in local time, logs in UTC).
    """
    if period not in _PERIODS:
        raise ValueError(f"period must be one of {_PERIODS}, got {period!r}")
    check_frame(df)
    unit = "D" if period == "dayofweek" else "h"
    bins = _local_times(df, tz).dt.floor(unit)
    counts = bins.value_counts()
    full = pd.date_range(bins.min(), bins.max(), freq=unit)
    counts = counts.reindex(full, fill_value=0)
    key = full.day_of_week if period == "dayofweek" else full.hour
    profile = counts.groupby(np.asarray(key)).mean().reindex(range(7 if unit == "D" else 24))
    if normalise:
        profile = profile / profile.sum()
    profile.index.name = period
    return profile.rename("share" if normalise else "mean_events").astype("float64")


def decompose(series: pd.Series, period: int, robust: bool = True) -> pd.DataFrame:
    """STL decomposition into trend + seasonal + residual (columns observed/trend/seasonal/resid).

    ``period`` is the season length in observations (7 for daily data with a weekly cycle);
    ``robust`` down-weights outliers so that one spike does not bend the trend.
    """
    from statsmodels.tsa.seasonal import STL

    s = _as_series(series)
    check_positive_int(period, "period")
    if period < 2:
        raise ValueError(f"period must be at least 2 observations, got {period}")
    if s.isna().any():
        raise ValueError(f"series has {int(s.isna().sum())} NaN value(s); fill them (e.g. with 0 counts) first")
    if len(s) < 2 * period:
        raise ValueError(f"series has {len(s)} observations; STL needs at least two periods (2*{period})")
    fit = STL(s.to_numpy(), period=period, robust=robust).fit()
    return pd.DataFrame({"observed": s.to_numpy(), "trend": fit.trend, "seasonal": fit.seasonal,
                         "resid": fit.resid}, index=s.index)


def seasonal_strength(dec: pd.DataFrame) -> float:
    """Hyndman's strength of seasonality, max(0, 1 - var(resid)/var(seasonal + resid)), in [0, 1]."""
    check_frame(dec, ["seasonal", "resid"], what="decomposition")
    total = np.var(dec["seasonal"] + dec["resid"])
    if total == 0:
        return 0.0
    return float(max(0.0, 1.0 - np.var(dec["resid"]) / total))


def autocorrelation(series: pd.Series, nlags: int) -> pd.Series:
    """Sample autocorrelation at lags 0..nlags (statsmodels ``acf``); peaks reveal cycle lengths."""
    from statsmodels.tsa.stattools import acf

    s = _as_series(series)
    check_positive_int(nlags, "nlags")
    if nlags >= len(s):
        raise ValueError(f"nlags={nlags} must be smaller than the series length {len(s)}")
    if s.isna().any():
        raise ValueError("series contains NaN; fill or drop missing values first")
    if s.nunique() < 2:
        raise ValueError("series is constant: autocorrelation is undefined")
    values = acf(s.to_numpy(), nlags=nlags, fft=True)
    return pd.Series(values, index=pd.RangeIndex(nlags + 1, name="lag"), name="acf")


# --------------------------------------------------------------------------- outliers
def robust_zscore(series: pd.Series) -> pd.Series:
    """Robust z-score 0.6745*(x - median)/MAD, insensitive to the outliers it is meant to find.

    When MAD is 0 (over half the values equal) it falls back to (x - median)/(1.2533*mean absolute
    deviation); a constant series scores 0 everywhere. NaN stays NaN.
    """
    s = _as_series(series)
    median = s.median()
    dev = (s - median).abs()
    mad = dev.median()
    if mad > 0:
        return (0.6745 * (s - median) / mad).rename("robust_z")
    mean_ad = dev.mean()
    if not mean_ad > 0:
        return (s * 0.0).rename("robust_z")
    return ((s - median) / (1.253314 * mean_ad)).rename("robust_z")


def outliers_zscore(series: pd.Series, threshold: float = 3.5) -> pd.Series:
    """Flag |robust z| > threshold (3.5 is Iglewicz and Hoaglin's recommendation)."""
    check_positive(threshold, "threshold")
    return (robust_zscore(series).abs() > threshold).rename("outlier")


def outliers_iqr(series: pd.Series, k: float = 1.5) -> pd.Series:
    """Flag values outside [Q1 - k*IQR, Q3 + k*IQR] (Tukey's fences)."""
    check_positive(k, "k")
    s = _as_series(series)
    q1, q3 = s.quantile(0.25), s.quantile(0.75)
    iqr = q3 - q1
    return ((s < q1 - k * iqr) | (s > q3 + k * iqr)).rename("outlier")


def _window_views(values: np.ndarray, window: int) -> np.ndarray:
    """Centred windows of length ``window`` (odd) around each value, NaN-padded at the edges."""
    half = window // 2
    padded = np.concatenate([np.full(half, np.nan), values, np.full(half, np.nan)])
    return np.lib.stride_tricks.sliding_window_view(padded, window)


def outliers_hampel(series: pd.Series, window: int = 7, n_sigmas: float = 3.0) -> pd.Series:
    """Hampel filter: flag x whose distance to the centred rolling median exceeds n_sigmas*1.4826*MAD.

    Local, so it catches a spike on a busy day that a global test misses; a window with MAD 0
    uses 1.2533*mean absolute deviation instead (as in :func:`robust_zscore`).
    """
    check_positive_int(window, "window")
    if window < 3 or window % 2 == 0:
        raise ValueError(f"window must be an odd integer >= 3 so that it is centred, got {window}")
    check_positive(n_sigmas, "n_sigmas")
    s = _as_series(series)
    views = _window_views(s.to_numpy(), window)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows only occur for NaN input
        med = np.nanmedian(views, axis=1)
        absdev = np.abs(views - med[:, None])
        scale = 1.4826 * np.nanmedian(absdev, axis=1)
        fallback = 1.253314 * np.nanmean(absdev, axis=1)
    scale = np.where(scale > 0, scale, fallback)
    dist = np.abs(s.to_numpy() - med)
    flagged = (dist > n_sigmas * scale) & (scale > 0)
    return pd.Series(flagged, index=s.index, name="outlier")


# --------------------------------------------------------------------------- denoising
def rolling_median(series: pd.Series, window: int, center: bool = True) -> pd.Series:
    """Rolling median: removes isolated spikes but keeps steps (centred windows look ahead)."""
    check_positive_int(window, "window")
    s = _as_series(series)
    return s.rolling(window, center=center, min_periods=1).median()


def ewma(series: pd.Series, halflife: float) -> pd.Series:
    """Exponentially weighted moving average; an observation's weight halves every ``halflife`` steps."""
    check_positive(halflife, "halflife")
    return _as_series(series).ewm(halflife=halflife).mean()


def replace_outliers(series: pd.Series, mask: pd.Series, method: str = "median",
                     window: int = 7) -> pd.Series:
    """Replace flagged values by the centred rolling median of the unflagged ones or by interpolation."""
    s = _as_series(series)
    flags = np.asarray(mask, dtype=bool)
    if flags.shape != (len(s),):
        raise ValueError(f"mask has {flags.size} values but the series has {len(s)}")
    if isinstance(mask, pd.Series) and not mask.index.equals(s.index):
        raise ValueError("mask index does not match the series index; build the mask from this series")
    m = pd.Series(flags, index=s.index)
    if method not in ("median", "interpolate"):
        raise ValueError(f"method must be 'median' or 'interpolate', got {method!r}")
    clean = s.mask(m)
    if clean.notna().sum() == 0:
        raise ValueError("every value is flagged as an outlier: nothing to replace them with")
    if method == "interpolate":
        return s.where(~m, clean.interpolate(limit_direction="both"))
    check_positive_int(window, "window")
    local = clean.rolling(window, center=True, min_periods=1).median().fillna(clean.median())
    return s.where(~m, local)


# --------------------------------------------------------------------------- data quality
def _burst_events(users: np.ndarray, seconds: np.ndarray, burst_seconds: float, burst_events: int) -> int:
    """Events with at least ``burst_events - 1`` other events of the same user within ``burst_seconds``."""
    if len(seconds) == 0:
        return 0
    codes = pd.factorize(users)[0].astype("int64")
    rel = seconds - seconds.min()
    span = int(rel.max()) + 2 * int(np.ceil(burst_seconds)) + 1
    if (int(codes.max()) + 2) * span >= 2**62:  # key would overflow int64: count per user instead
        return int(sum(_burst_events(np.zeros(len(g)), g.to_numpy(), burst_seconds, burst_events)
                       for _, g in pd.Series(seconds).groupby(codes)))
    key = np.sort(codes * span + rel)
    lo = np.searchsorted(key, key - burst_seconds, side="left")
    hi = np.searchsorted(key, key + burst_seconds, side="right")
    return int(((hi - lo - 1) >= burst_events - 1).sum())


def _last_two_tie(users: np.ndarray, seconds: np.ndarray) -> tuple[int, int]:
    """(users whose two latest events share a timestamp, users with at least two events)."""
    if len(seconds) == 0:
        return 0, 0
    codes = pd.factorize(users)[0]
    order = np.lexsort((seconds, codes))
    c, t = codes[order], seconds[order]
    last = np.nonzero(np.r_[c[1:] != c[:-1], True])[0]
    prev = last - 1
    has_two = (prev >= 0) & (c[np.maximum(prev, 0)] == c[last])
    ties = has_two & (t[np.maximum(prev, 0)] == t[last])
    return int(ties.sum()), int(has_two.sum())


def quality_report(df: pd.DataFrame, now: TimeLike | None = None, burst_seconds: float = 60,
                   burst_events: int = 20) -> pd.DataFrame:
    """One row per data-quality check (check, count, share, note) on an interaction log.

    Rows with a NaN timestamp are reported and left out of the time-based checks. ``now`` (Unix
    seconds or a datetime; default the wall clock) bounds plausible timestamps. ``share`` is over
    rows, except last_event_ties (over users with >= 2 events) and median_user_span_seconds (NaN);
    ``count`` is a nullable integer column (the median span is rounded to whole seconds).
    """
    check_frame(df, ["user", "item", "timestamp"], allow_nan_timestamps=True)
    check_positive(burst_seconds, "burst_seconds")
    check_positive_int(burst_events, "burst_events")
    now_s = _time.time() if now is None else to_seconds(now)
    n = len(df)
    ts = df["timestamp"].to_numpy(dtype="float64")
    valid = ~np.isnan(ts)
    dv = df[valid]
    tv = ts[valid]
    ties, has_two = _last_two_tie(dv["user"].to_numpy(), tv)
    by_user = pd.Series(tv).groupby(dv["user"].to_numpy())
    median_span = float((by_user.max() - by_user.min()).median()) if len(tv) else float("nan")
    rows = [
        ("rows", n, n, "interactions in the log"),
        ("nan_timestamp", int((~valid).sum()), n, "missing timestamp: cannot be placed in time"),
        ("before_1990", int((tv < EPOCH_1990).sum()), n, "clock error: timestamp before 1990-01-01 UTC"),
        ("after_now", int((tv > now_s).sum()), n,
         f"clock error: timestamp after now ({pd.Timestamp(now_s, unit='s', tz='UTC'):%Y-%m-%d %H:%M} UTC)"),
        ("duplicate_rows", int(df.duplicated().sum()), n, "exact copies of an earlier row"),
        ("repeated_pairs", int(df.duplicated(["user", "item"]).sum()), n,
         "(user, item) seen before: re-consumption or duplicate logging"),
        ("timestamp_ties", int(dv.duplicated(["user", "timestamp"], keep=False).sum()), n,
         "rows sharing (user, timestamp) with another row: order only by file position"),
        ("last_event_ties", ties, has_two,
         "users whose last two events tie: leave-last-out target is ambiguous"),
        ("burst_events", _burst_events(dv["user"].to_numpy(), np.floor(tv).astype("int64"),
                                       burst_seconds, burst_events), n,
         f"events with >= {burst_events - 1} other events of the user within {burst_seconds:g} s (bots, replays)"),
    ]
    rows.append(("median_user_span_seconds", None if np.isnan(median_span) else round(median_span), 0,
                 "median seconds from a user's first to last event (a value, not a count)"))
    out = pd.DataFrame(rows, columns=["check", "count", "denominator", "note"])
    out["count"] = out["count"].astype("Int64")
    out["share"] = (out["count"] / out["denominator"].where(out["denominator"] > 0)).astype("float64")
    return out[["check", "count", "share", "note"]]


# --------------------------------------------------------------------------- corrupted logs
def log_fingerprint(log: pd.DataFrame) -> str:
    """SHA-1 of the multiset of (user, item, timestamp) rows: two logs with one fingerprint give one count model."""
    rows = log[["user", "item", "timestamp"]].to_numpy(dtype="int64")
    return hashlib.sha1(rows[np.lexsort(rows.T[::-1])].tobytes()).hexdigest()


def corrupted_logs(train: pd.DataFrame, n_users: int, seed: int = 0
                   ) -> dict[tuple[str, str], tuple[pd.DataFrame, int | None]]:
    """Chapter 3's four ways a log breaks, each with its fix: (scenario, version) -> (log, rows changed or added).

    Retry storm (1998-02-01 18:00-24:00 logged 20 times), clock in milliseconds (the last 30 days), backfill
    stamped with its import time (the first 60 days at 1998-01-15 12:00), spam (20 random users rate 10 items
    that have 1-3 training events 30 times each within 1998-01-01's first hour). The count is None for a fix.
    """
    rng = np.random.default_rng(seed)
    t = train["timestamp"]
    at = lambda s: int(to_seconds(s))  # noqa: E731
    storm = (t >= at("1998-02-01 18:00")) & (t < at("1998-02-02"))
    storm_log = pd.concat([train] + [train[storm]] * 19).sort_index(kind="stable")
    recent = t > t.max() - 30 * DAY
    ms_log = train.assign(timestamp=t.where(~recent, t * 1000))
    ms_repaired = ms_log.assign(timestamp=np.where(ms_log["timestamp"] > 10**11, ms_log["timestamp"] // 1000,
                                                   ms_log["timestamp"]))
    early = t < t.min() + 60 * DAY
    backfill_log = train.assign(timestamp=t.where(~early, at("1998-01-15 12:00")))
    per_second = backfill_log.groupby("timestamp")["user"].transform("size")
    counts = np.bincount(train["item"], minlength=int(train["item"].max()) + 1)
    spam_items = rng.choice(np.flatnonzero((counts >= 1) & (counts <= 3)), 10, replace=False)
    bots = rng.choice(np.arange(1, n_users + 1), 20, replace=False)
    spam = pd.DataFrame([(b, i, at("1998-01-01") + int(rng.integers(0, 3600)))
                         for b in bots for _ in range(30) for i in spam_items],
                        columns=["user", "item", "timestamp"]).assign(rating=np.float32(5))
    spam_log = pd.concat([train, spam], ignore_index=True)
    return {
        ("clean data", "-"): (train, 0),
        ("retry storm", "corrupted"): (storm_log, len(storm_log) - len(train)),
        ("retry storm", "prep.clean"): (clean(storm_log)[0], None),
        ("clock in ms", "corrupted"): (ms_log, int(recent.sum())),
        ("clock in ms", "prep.clean (drop)"): (clean(ms_log)[0], None),
        ("clock in ms", "repaired (/1000)"): (ms_repaired, None),
        ("backfill at import time", "corrupted"): (backfill_log, int(early.sum())),
        ("backfill at import time", "drop crowded seconds"): (backfill_log[per_second <= 100], None),
        ("spam", "corrupted"): (spam_log, len(spam)),
        ("spam", "first rating per pair"): (spam_log.drop_duplicates(["user", "item"]), None),
    }
