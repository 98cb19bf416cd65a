"""Chapter 3's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec import exercises


def _ml100k() -> pd.DataFrame:
    from tsrec import data

    return data.load("ml-100k").interactions


def test_weekend_share_pacific():
    local = pd.to_datetime(_ml100k()["timestamp"], unit="s", utc=True).dt.tz_convert("America/Los_Angeles")
    days = pd.Series(1, index=local).resample("D").size()             # events per local day, empty days as 0
    per_weekday = days.groupby(days.index.dayofweek).mean()
    right = float(per_weekday.loc[[5, 6]].sum() / per_weekday.sum())
    assert exercises.ch03_weekend_share_pacific(right)
    utc_days = pd.Series(1, index=pd.to_datetime(_ml100k()["timestamp"], unit="s", utc=True)).resample("D").size()
    utc = utc_days.groupby(utc_days.index.dayofweek).mean()
    assert not exercises.ch03_weekend_share_pacific(float(utc.loc[[5, 6]].sum() / utc.sum()))   # UTC, not local


def test_yearly_cycle_strength():
    from tsrec import data
    from tsrec.timeseries import decompose, event_counts, seasonal_strength

    weekly = event_counts(data.load("ml-latest-small").interactions, "W")
    assert exercises.ch03_yearly_cycle_strength(seasonal_strength(decompose(weekly, 52)))
    assert not exercises.ch03_yearly_cycle_strength(seasonal_strength(decompose(weekly, 7)) + 0.05)


def test_hampel_days():
    from tsrec.timeseries import event_counts, outliers_hampel

    daily = event_counts(_ml100k(), "D")
    assert exercises.ch03_hampel_days(int(outliers_hampel(daily, window=15).sum()))
    assert not exercises.ch03_hampel_days(int(outliers_hampel(daily, window=7).sum()) + 1)


def test_hampel_noise_share_judges_the_answer_and_reports_the_prediction(capsys):
    x = np.random.default_rng(0).standard_normal(100_000)
    win = np.lib.stride_tricks.sliding_window_view(x, 21)               # full windows only: edges left out
    med = np.median(win, axis=1)
    mad = np.median(np.abs(win - med[:, None]), axis=1)
    right = float((np.abs(x[10:-10] - med) > 3 * 1.4826 * mad).mean())   # the Hampel rule, by hand
    assert exercises.ch03_hampel_noise_share(right, prediction=0.0027)
    out = capsys.readouterr().out
    assert "Correct!" in out and "off by" in out
    assert not exercises.ch03_hampel_noise_share(0.0027)     # the nominal Gaussian tail: a small window flags more


def test_clean_rows():
    df = _ml100k()
    assert exercises.ch03_clean_rows(len(df) - 100)           # 100 clock errors dropped, 500 copies dropped
    assert not exercises.ch03_clean_rows(len(df) + 500 - 100)
