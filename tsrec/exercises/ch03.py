"""Exercise checks for chapter 3."""
from __future__ import annotations

from tsrec.exercises._common import _close, _report


def ch03_weekend_share_pacific(answer: float) -> bool:
    """Ex. 3.1: share of ML-100K activity on Saturday and Sunday in US Pacific time (America/Los_Angeles)."""
    from tsrec import data
    from tsrec.timeseries import seasonal_profile

    profile = seasonal_profile(data.load("ml-100k").interactions, "dayofweek", tz="America/Los_Angeles")
    return _report(_close(answer, float(profile.loc[[5, 6]].sum()), tol=5e-4),
                   "seasonal_profile(df, 'dayofweek', tz='America/Los_Angeles'); 5 = Saturday, 6 = Sunday")


def ch03_yearly_cycle_strength(answer: float) -> bool:
    """Ex. 3.2: STL seasonal strength (period 52) of ML latest-small's weekly event counts."""
    from tsrec import data
    from tsrec.timeseries import decompose, event_counts, seasonal_strength

    weekly = event_counts(data.load("ml-latest-small").interactions, "W")
    return _report(_close(answer, seasonal_strength(decompose(weekly, 52)), tol=5e-3),
                   "count events per week with event_counts(df, 'W'), decompose with period 52, then seasonal_strength")


def ch03_hampel_days(answer: int, window: int = 15, n_sigmas: float = 3.0) -> bool:
    """Ex. 3.3: days of the ML-100K daily count series flagged by a Hampel filter (window, n_sigmas)."""
    from tsrec import data
    from tsrec.timeseries import event_counts, outliers_hampel

    daily = event_counts(data.load("ml-100k").interactions, "D")
    expected = int(outliers_hampel(daily, window=window, n_sigmas=n_sigmas).sum())
    return _report(_close(answer, expected, tol=0.5),
                   "event_counts(df, 'D') then outliers_hampel(daily, window=15, n_sigmas=3).sum()")


def ch03_hampel_noise_share(answer: float, prediction: float | None = None, window: int = 21,
                            n: int = 100_000, seed: int = 0) -> bool:
    """Ex. 3.4 (predict, then run): share of pure Gaussian noise a Hampel filter (``window``, 3 sigma) flags."""
    import numpy as np
    import pandas as pd

    from tsrec.timeseries import outliers_hampel

    noise = pd.Series(np.random.default_rng(seed).standard_normal(n))
    ok = _report(_close(answer, float(outliers_hampel(noise, window=window).mean()), tol=2e-3),
                 "outliers_hampel(pd.Series(np.random.default_rng(0).standard_normal(100_000)), window=21).mean()")
    if prediction is not None:
        off = float(prediction) - float(answer)
        print(f"Your prediction {float(prediction):.2%}, your computed answer {float(answer):.2%}: off by "
              f"{100 * off:+.2f} percentage points "
              f"(the Gaussian tail beyond 3 sigma alone is 0.27%)")
    return ok


def ch03_clean_rows(answer: int, n_clock: int = 100, n_copies: int = 500) -> bool:
    """Ex. 3.5: rows ``prep.clean`` keeps after the last ``n_clock`` timestamps are set to 0 and the
    first ``n_copies`` rows are appended again as exact copies."""
    import pandas as pd

    from tsrec import data, prep

    df = data.load("ml-100k").interactions.copy()
    df.iloc[-n_clock:, df.columns.get_loc("timestamp")] = 0
    dirty = pd.concat([df, df.iloc[:n_copies]], ignore_index=True)
    expected = len(prep.clean(dirty)[0])
    return _report(_close(answer, expected, tol=0.5),
                   "a timestamp of 0 is before 1990 (a clock error) and each appended copy is an exact duplicate")
