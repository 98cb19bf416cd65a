"""Tests of tsrec.metrics.sensitivity: the book's time sensitivity TS, its zero-interval policies, per group."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.metrics import time_sensitivity, time_sensitivity_grouped

# --------------------------------------------------------------------------- time sensitivity

TS_T = np.array([0.0, 2.0, 2.0, 5.0])
TS_R = np.array([1.0, 2.0, 4.0, 1.0])
# pairs: |Δr| = 1, 2, 3 over T = 2, 0, 3


def test_time_sensitivity_zero_interval_policies():
    # skip: drop the T=0 pair -> (1/2 + 3/3) / 2 = 0.75
    assert time_sensitivity(TS_R, TS_T) == pytest.approx(0.75)
    # floor at 1: (1/2 + 2/1 + 3/3) / 3 = 3.5/3
    assert time_sensitivity(TS_R, TS_T, "floor", min_interval=1.0) == pytest.approx(3.5 / 3)
    # floor at 2.5 also lifts the interval 2: (1/2.5 + 2/2.5 + 3/3) / 3 = 2.2/3
    assert time_sensitivity(TS_R, TS_T, "floor", min_interval=2.5) == pytest.approx(2.2 / 3)
    with pytest.raises(ValueError, match="index 2"):
        time_sensitivity(TS_R, TS_T, "error")
    # unit = 2 halves every interval: T = 1, 0, 1.5 -> skip: (1/1 + 3/1.5) / 2 = 1.5
    assert time_sensitivity(TS_R, TS_T, unit=2.0) == pytest.approx(1.5)
    # no zero interval: "error" and "skip" agree: (1/2 + 3/3) / 2
    assert time_sensitivity([1.0, 2.0, 5.0], [0.0, 2.0, 5.0], "error") == pytest.approx(0.75)
    # datetimes are read in seconds: Δr = 2 over 4 s
    days = np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:04"], dtype="datetime64[s]")
    assert time_sensitivity([0.0, 2.0], days) == pytest.approx(0.5)


def test_time_sensitivity_bad_inputs():
    with pytest.raises(ValueError, match="NaN"):
        time_sensitivity([1.0, np.nan, 2.0], [0, 1, 2])
    with pytest.raises(ValueError, match="NaN"):
        time_sensitivity([1.0, 2.0, 3.0], [0, np.nan, 2])
    with pytest.raises(ValueError, match="non-decreasing.*t\\[2\\]"):
        time_sensitivity([1.0, 2.0, 3.0], [0, 2, 1])
    with pytest.raises(ValueError, match="non-zero time interval"):
        time_sensitivity([1.0, 2.0, 3.0], [4, 4, 4])
    with pytest.raises(ValueError, match="zero_interval"):
        time_sensitivity(TS_R, TS_T, "ignore")
    with pytest.raises(ValueError, match="min_interval"):
        time_sensitivity(TS_R, TS_T, "floor", min_interval=0.0)
    with pytest.raises(ValueError, match="timestamps has 3"):
        time_sensitivity(TS_R, TS_T[:3])
    with pytest.raises(ValueError, match="at least 2"):
        time_sensitivity([1.0], [0.0])


def test_time_sensitivity_grouped_equals_manual():
    df = pd.DataFrame({
        "user": ["a", "b", "a", "c", "b", "a", "b", "a"],
        "t": [2.0, 10.0, 0.0, 7.0, 11.0, 2.0, 15.0, 5.0],
        "r": [2.0, 0.0, 1.0, 3.0, 2.0, 4.0, 6.0, 1.0],
    })
    # a in time order: t 0,2,2,5 r 1,2,4,1 (the TS_* example; rows 0 and 5 tie at t=2, kept in row order)
    # b: t 10,11,15 r 0,2,6 -> terms 2/1, 4/4; c: one row, no pair
    # skip: terms a: 0.5, 1; b: 2, 1 -> 4.5/4
    assert time_sensitivity_grouped(df, "user", "r", "t") == pytest.approx(4.5 / 4)
    for policy in ("skip", "floor"):
        num = den = 0.0
        for _, g in df.groupby("user"):
            g = g.sort_values("t", kind="mergesort")
            if len(g) < 2:
                continue
            dt = np.diff(g["t"].to_numpy())
            n_pairs = int((dt != 0).sum()) if policy == "skip" else len(dt)
            num += time_sensitivity(g["r"], g["t"], policy) * n_pairs
            den += n_pairs
        assert time_sensitivity_grouped(df, "user", "r", "t", policy) == pytest.approx(num / den)
    with pytest.raises(ValueError, match="group 'a', rows 0 and 5"):
        time_sensitivity_grouped(df, "user", "r", "t", "error")
    bad = df.copy()
    bad.loc[3, "t"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        time_sensitivity_grouped(bad, "user", "r", "t")
    with pytest.raises(ValueError, match="lacks"):
        time_sensitivity_grouped(df, "item", "r", "t")
