"""Exercise checks for chapter 3."""
from __future__ import annotations

from tsrec.exercises._common import _close, _report


def ch03_weekday_share(answer: float, weekday: int = 2) -> bool:
    """Ex. 3.1: share of ML-100K activity on ``weekday`` (0 = Monday, 2 = Wednesday) in the UTC weekly profile."""
    from tsrec import data
    from tsrec.timeseries import seasonal_profile

    expected = seasonal_profile(data.load("ml-100k").interactions, "dayofweek").loc[weekday]
    return _report(_close(answer, expected, tol=5e-4),
                   "tsrec.timeseries.seasonal_profile(df, 'dayofweek') gives shares indexed 0 = Monday")


def ch03_daily_cycle_strength(answer: float) -> bool:
    """Ex. 3.2: STL seasonal strength (period 24) of ML-100K's hourly event counts."""
    from tsrec import data
    from tsrec.timeseries import decompose, event_counts, seasonal_strength

    hourly = event_counts(data.load("ml-100k").interactions, "h")
    return _report(_close(answer, seasonal_strength(decompose(hourly, 24)), tol=5e-3),
                   "count events per hour with event_counts(df, 'h'), decompose with period 24, then seasonal_strength")


def ch03_hampel_days(answer: int, window: int = 15, n_sigmas: float = 3.0) -> bool:
    """Ex. 3.3: days of the ML-100K daily count series flagged by a Hampel filter (window, n_sigmas)."""
    from tsrec import data
    from tsrec.timeseries import event_counts, outliers_hampel

    daily = event_counts(data.load("ml-100k").interactions, "D")
    expected = int(outliers_hampel(daily, window=window, n_sigmas=n_sigmas).sum())
    return _report(_close(answer, expected, tol=0.5),
                   "event_counts(df, 'D') then outliers_hampel(daily, window=15, n_sigmas=3).sum()")


def ch03_clean_rows(answer: int, n_clock: int = 100, n_copies: int = 500) -> bool:
    """Ex. 3.4: rows ``prep.clean`` keeps after the last ``n_clock`` timestamps are set to 0 and the
    first ``n_copies`` rows are appended again as exact copies."""
    import pandas as pd

    from tsrec import data, prep

    df = data.load("ml-100k").interactions.copy()
    df.iloc[-n_clock:, df.columns.get_loc("timestamp")] = 0
    dirty = pd.concat([df, df.iloc[:n_copies]], ignore_index=True)
    expected = len(prep.clean(dirty)[0])
    return _report(_close(answer, expected, tol=0.5),
                   "a timestamp of 0 is before 1990 (a clock error) and each appended copy is an exact duplicate")
