"""Check functions for the exercises at the end of each chapter: they say whether an answer is right.

The expected answers are computed with tsrec itself, never typed in, so a check stays true to the code.
"""
from __future__ import annotations

import math

import numpy as np


def _report(ok: bool, hint: str) -> bool:
    print("Correct!" if ok else f"Not yet. Hint: {hint}")
    return ok


def _close(a, b, tol: float = 1e-6) -> bool:
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=tol, rtol=1e-4))
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------- chapter 1
def ch01_ndcg(answer: float, rank: int = 3, k: int = 10) -> bool:
    """Ex. 1.1: NDCG@k of one user whose single target sits at 0-based ``rank``."""
    from tsrec.metrics import rank_metrics

    return _report(_close(answer, rank_metrics([rank], ks=(k,))[f"NDCG@{k}"]),
                   "NDCG = 1 / log2(rank + 2) for a hit with a 0-based rank, 0 beyond k")


def ch01_coverage(answer: float, lists=((1, 2, 3), (2, 3, 4), (1, 2, 5)), n_items: int = 10) -> bool:
    """Ex. 1.2: catalogue coverage of the given top-3 lists over ``n_items`` items."""
    from tsrec.metrics import catalog_coverage

    return _report(_close(answer, catalog_coverage(np.array(lists), n_items)),
                   "count the distinct items over all lists and divide by the catalogue size")


def ch01_time_sensitivity(answer: float, scores=(0.2, 0.5, 0.5, 0.9), hours=(0, 2, 2, 6)) -> bool:
    """Ex. 1.3: the TS score of a score series at the given times (hours), zero intervals skipped."""
    from tsrec.metrics import time_sensitivity

    expected = time_sensitivity(np.array(scores), np.array(hours, dtype=float), zero_interval="skip")
    return _report(_close(answer, expected), "pairs with a zero interval are dropped from both the sum and N")


def ch01_popularity_tiebreak(answer: float) -> bool:
    """Ex. 1.4: popularity's test HR@10 on ML-100K when timestamp ties are ordered by item id instead of file row."""
    import torch

    from tsrec import data, prep
    from tsrec.evaluate import evaluate

    df = data.load("ml-100k").interactions.sort_values(["timestamp", "item"], kind="stable")
    split = prep.leave_one_out(df)
    pop = torch.as_tensor(np.bincount(split.train["item"], minlength=split.n_items + 1), dtype=torch.float32)
    expected = evaluate(pop, split, "test", ks=(10,))["HR@10"]
    return _report(_close(answer, expected, tol=5e-4),
                   "sort by (timestamp, item) with a stable sort, split, count training items, evaluate HR@10")


# ----------------------------------------------------------------------------- chapter 3
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
