"""Tests of tsrec.timeseries: hand-worked counts, planted seasonality and spikes, quality checks."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from tsrec import timeseries as ts

DAY = 86_400
MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC, a Monday


def _frame(timestamps, users=None, items=None) -> pd.DataFrame:
    n = len(timestamps)
    return pd.DataFrame({"user": users if users is not None else [1] * n,
                         "item": items if items is not None else [1] * n,
                         "timestamp": timestamps})


def _weekly_events(weeks: int = 8, seed: int = 0) -> pd.DataFrame:
    """Poisson(20) events a day plus 30 more on Saturdays, at random seconds of the day."""
    rng = np.random.default_rng(seed)
    stamps = []
    for day in range(7 * weeks):
        n = rng.poisson(20) + (30 if day % 7 == 5 else 0)
        stamps.append(MONDAY + day * DAY + rng.integers(0, DAY, n))
    t = np.sort(np.concatenate(stamps)).astype("int64")
    return _frame(t, users=rng.integers(1, 50, len(t)), items=rng.integers(1, 20, len(t)))


def _spiky(n: int = 60, at: int = 30, seed: int = 1) -> pd.Series:
    rng = np.random.default_rng(seed)
    s = pd.Series(10 + rng.normal(0, 1, n), index=pd.date_range("2024-01-01", periods=n, freq="D", tz="UTC"))
    s.iloc[at] = 40.0
    return s


# ----------------------------------------------------------------------------- event_counts
def test_event_counts_daily_fills_gaps_with_zero():
    df = _frame([MONDAY + 10, MONDAY + 20, MONDAY + 2 * DAY + 5])
    before = df.copy()
    out = ts.event_counts(df, "D")
    assert out.tolist() == [2, 0, 1]
    assert str(out.index.tz) == "UTC" and out.index[0] == pd.Timestamp("2024-01-01", tz="UTC")
    assert out.dtype == "int64" and out.index.freq == pd.Timedelta("1D")
    pd.testing.assert_frame_equal(df, before)  # caller's frame untouched


def test_event_counts_hourly_weekly_and_value():
    df = _frame([MONDAY + 60, MONDAY + 3 * 3600 + 1, MONDAY + 6 * DAY, MONDAY + 8 * DAY])
    assert ts.event_counts(df, "h").tolist()[:4] == [1, 0, 0, 1]
    weekly = ts.event_counts(df, "W")
    assert weekly.tolist() == [3, 1]                       # weeks start on Monday
    assert weekly.index[1] == pd.Timestamp("2024-01-08", tz="UTC")
    df["quantity"] = [2.0, 3.0, 0.5, 1.0]
    assert ts.event_counts(df, "W", value="quantity").tolist() == [5.5, 1.0]


def test_event_counts_by_item_with_subset():
    df = _frame([MONDAY, MONDAY + 1, MONDAY + DAY, MONDAY + 2 * DAY], items=["a", "b", "a", "c"])
    wide = ts.event_counts(df, "D", by="item")
    assert list(wide.columns) == ["a", "b", "c"]
    assert wide["a"].tolist() == [1, 1, 0] and wide["c"].tolist() == [0, 0, 1]
    sub = ts.event_counts(df, "D", by="item", items=["c", "zzz"])
    assert list(sub.columns) == ["c", "zzz"] and len(sub) == 3  # span of the whole log
    assert sub["zzz"].sum() == 0


# ----------------------------------------------------------------------------- seasonality
def test_seasonal_profile_finds_planted_saturday_peak():
    profile = ts.seasonal_profile(_weekly_events())
    assert list(profile.index) == list(range(7))
    assert profile.sum() == pytest.approx(1.0)
    assert profile.idxmax() == 5                      # Saturday
    assert profile[5] == pytest.approx(50 / (6 * 20 + 50), abs=0.03)
    raw = ts.seasonal_profile(_weekly_events(), normalise=False)
    assert raw[5] == pytest.approx(50, rel=0.2)


def test_seasonal_profile_hour_in_local_time():
    df = _frame([MONDAY + d * DAY + 12 * 3600 for d in range(5)])  # noon UTC every day
    assert ts.seasonal_profile(df, "hour").idxmax() == 12
    tokyo = ts.seasonal_profile(df, "hour", tz="Asia/Tokyo")     # UTC+9
    assert tokyo.idxmax() == 21 and tokyo[21] == pytest.approx(1.0)


def test_decompose_and_strength_on_planted_weekly_cycle():
    counts = ts.event_counts(_weekly_events(weeks=10), "D")
    dec = ts.decompose(counts, period=7)
    assert list(dec.columns) == ["observed", "trend", "seasonal", "resid"]
    assert dec.index.equals(counts.index)
    np.testing.assert_allclose(dec["observed"], dec["trend"] + dec["seasonal"] + dec["resid"])
    by_weekday = dec["seasonal"].groupby(dec.index.day_of_week).mean()
    assert by_weekday.idxmax() == 5
    strong = ts.seasonal_strength(dec)
    noise = pd.Series(np.random.default_rng(3).poisson(20, 70).astype(float))
    weak = ts.seasonal_strength(ts.decompose(noise, period=7))
    assert strong > 0.8 and weak < strong - 0.3


def test_autocorrelation_peaks_at_weekly_lag():
    counts = ts.event_counts(_weekly_events(weeks=10), "D")
    acf = ts.autocorrelation(counts, nlags=14)
    assert list(acf.index) == list(range(15)) and acf[0] == pytest.approx(1.0)
    assert acf[7] > 0.5 and acf[7] > acf[3]


# ----------------------------------------------------------------------------- outliers
def test_robust_zscore_hand_worked():
    z = ts.robust_zscore(pd.Series([1.0, 2.0, 3.0, 4.0, 100.0]))
    # median 3, |x - 3| = [2, 1, 0, 1, 97] -> MAD 1
    np.testing.assert_allclose(z, 0.6745 * np.array([-2, -1, 0, 1, 97]))
    z0 = ts.robust_zscore(pd.Series([5.0, 5, 5, 5, 50]))
    # MAD 0 -> mean absolute deviation 45 / 5 = 9
    assert z0.iloc[4] == pytest.approx(45 / (1.253314 * 9)) and z0.iloc[0] == 0
    assert (ts.robust_zscore(pd.Series([2.0, 2.0, 2.0])) == 0).all()


@pytest.mark.parametrize("detector", [ts.outliers_zscore, ts.outliers_iqr, ts.outliers_hampel])
def test_detectors_flag_spike_not_normal_point(detector):
    s = _spiky()
    mask = detector(s)
    assert mask.dtype == bool and mask.index.equals(s.index)
    assert mask.iloc[30] and not mask.iloc[10]
    assert mask.sum() <= 3


def test_hampel_is_local_and_handles_flat_windows():
    flat = pd.Series([5.0] * 20)
    flat[10] = 9.0
    assert ts.outliers_hampel(flat).tolist() == [i == 10 for i in range(20)]
    # a value that is ordinary globally but a spike in its neighbourhood
    level = pd.Series(np.r_[np.full(20, 1.0), np.full(20, 50.0)] + np.tile([0, 0.5], 20))
    level[5] = 50.0
    assert ts.outliers_hampel(level)[5] and not ts.outliers_iqr(level)[5]


# ----------------------------------------------------------------------------- denoising
def test_denoising():
    s = pd.Series([1.0, 2.0, 100.0, 4.0, 5.0])
    assert ts.rolling_median(s, 3).tolist() == [1.5, 2.0, 4.0, 5.0, 4.5]
    mask = pd.Series([False, False, True, False, False])
    assert ts.replace_outliers(s, mask, "interpolate").tolist() == [1, 2, 3, 4, 5]
    assert ts.replace_outliers(s, mask, "median", window=3).tolist() == [1, 2, 3, 4, 5]
    assert ts.replace_outliers(s, mask.to_numpy(), "interpolate").tolist() == [1, 2, 3, 4, 5]
    assert s[2] == 100.0  # input untouched
    e = ts.ewma(pd.Series([0.0, 1.0]), halflife=1)
    assert e.tolist() == pytest.approx([0.0, 1 / 1.5])  # weights 0.5 (old) and 1 (new)
    big = ts.replace_outliers(_spiky(), ts.outliers_hampel(_spiky()))
    assert big.iloc[30] < 12


# ----------------------------------------------------------------------------- quality report
def test_quality_report_counts_on_crafted_frame():
    base = 1_600_000_000
    df = pd.DataFrame({
        "user": ["u1", "u1", "u1", "u2", "u2", "u2", "u3", "u3", "u4", "u4"],
        "item": ["a", "a", "b", "a", "b", "c", "a", "b", "a", "b"],
        "timestamp": [base, base, base + 100, base, base + 500, base + 500, np.nan, 100.0,
                      1_800_000_000, base],
    })
    before = df.copy()
    rep = ts.quality_report(df, now=1_700_000_000).set_index("check")
    expected = {"rows": 10, "nan_timestamp": 1, "before_1990": 1, "after_now": 1, "duplicate_rows": 1,
                "repeated_pairs": 1, "timestamp_ties": 4, "last_event_ties": 1, "burst_events": 0,
                "median_user_span_seconds": 300}  # spans: u1 100, u2 500, u3 0, u4 2e8
    assert rep["count"].to_dict() == expected
    assert list(rep.columns) == ["count", "share", "note"]
    assert rep.loc["timestamp_ties", "share"] == pytest.approx(0.4)
    assert rep.loc["last_event_ties", "share"] == pytest.approx(1 / 3)  # of u1, u2, u4
    assert np.isnan(rep.loc["median_user_span_seconds", "share"])
    pd.testing.assert_frame_equal(df, before)


def test_quality_report_bursts_and_now_as_datetime():
    t0 = 1_600_000_000
    df = _frame([t0, t0 + 5, t0 + 9, t0 + 100, t0 + 1, t0 + 2], users=[1, 1, 1, 1, 2, 2])
    rep = ts.quality_report(df, now=pd.Timestamp("2021-01-01"), burst_seconds=10, burst_events=3)
    rep = rep.set_index("check")["count"]
    assert rep["burst_events"] == 3       # user 1 at 0, 5, 9; not 100, not user 2's pair
    assert rep["after_now"] == 0


# ----------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("call, message", [
    (lambda: ts.event_counts(pd.DataFrame({"user": [1]})), "missing column"),
    (lambda: ts.event_counts(_frame([])), "empty"),
    (lambda: ts.event_counts(_frame([1.0, np.nan])), "NaN timestamp"),
    (lambda: ts.event_counts(_frame([MONDAY]), "M"), "fixed-length"),
    (lambda: ts.event_counts(_frame([MONDAY]), by="shop"), "missing column"),
    (lambda: ts.seasonal_profile(_frame([MONDAY]), "month"), "period must be one of"),
    (lambda: ts.decompose(pd.Series(np.arange(10.0)), period=7), "at least two periods"),
    (lambda: ts.autocorrelation(pd.Series([1.0, 2.0, 3.0]), nlags=5), "smaller than"),
    (lambda: ts.outliers_hampel(_spiky(), window=4), "odd"),
    (lambda: ts.ewma(_spiky(), halflife=0), "positive"),
    (lambda: ts.rolling_median(_spiky(), window=-1), "positive"),
    (lambda: ts.replace_outliers(_spiky(), pd.Series([True])), "mask has 1 values"),
    (lambda: ts.quality_report(pd.DataFrame({"user": [1], "timestamp": [1]})), "['item']"),
])
def test_bad_inputs_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call()


def _train_log(seed: int = 0) -> pd.DataFrame:
    """3,000 events of 30 users over ML-100K's dates; items 1-40 common, items 41-55 rated twice each."""
    rng = np.random.default_rng(seed)
    lo, hi = pd.Timestamp("1997-09-20", tz="UTC").timestamp(), pd.Timestamp("1998-04-22", tz="UTC").timestamp()
    items = np.r_[rng.integers(1, 41, 2970), np.repeat(np.arange(41, 56), 2)]
    t = np.sort(rng.integers(int(lo), int(hi), 3000))
    return pd.DataFrame({"user": rng.integers(1, 31, 3000), "item": rng.permutation(items), "timestamp": t,
                         "rating": np.float32(4)})


def test_log_fingerprint_ignores_row_order_and_sees_every_change():
    log = _train_log()
    assert ts.log_fingerprint(log) == ts.log_fingerprint(log.sample(frac=1, random_state=1))
    assert ts.log_fingerprint(log) != ts.log_fingerprint(log.assign(timestamp=log["timestamp"] + 1))
    assert ts.log_fingerprint(log) != ts.log_fingerprint(pd.concat([log, log.head(1)]))


def test_corrupted_logs_break_what_they_say_and_fixes_restore_it():
    train = _train_log()
    cases = ts.corrupted_logs(train, n_users=30, seed=0)
    fp = {k: ts.log_fingerprint(log) for k, (log, _) in cases.items()}
    clean_fp = fp[("clean data", "-")]
    t = train["timestamp"]
    in_storm = int(((t >= pd.Timestamp("1998-02-01 18:00", tz="UTC").timestamp())
                    & (t < pd.Timestamp("1998-02-02", tz="UTC").timestamp())).sum())
    assert in_storm > 0 and cases[("retry storm", "corrupted")][1] == 19 * in_storm
    assert cases[("retry storm", "corrupted")][0].duplicated().sum() == 19 * in_storm
    ms_log, n_ms = cases[("clock in ms", "corrupted")]
    assert n_ms == int((t > t.max() - 30 * DAY).sum()) and (ms_log["timestamp"] > 10**11).sum() == n_ms
    back, n_back = cases[("backfill at import time", "corrupted")]
    import_t = pd.Timestamp("1998-01-15 12:00", tz="UTC").timestamp()
    assert n_back > 100 and (back["timestamp"] == import_t).sum() >= n_back
    assert (cases[("backfill at import time", "drop crowded seconds")][0]["timestamp"] != import_t).all()
    spam_log, n_spam = cases[("spam", "corrupted")]
    spam = spam_log.iloc[len(train):]
    assert n_spam == 6000 == len(spam) and spam["user"].nunique() == 20 and set(spam["item"]) <= set(range(41, 56))
    assert spam["timestamp"].between(pd.Timestamp("1998-01-01", tz="UTC").timestamp(),
                                     pd.Timestamp("1998-01-01 01:00", tz="UTC").timestamp()).all()
    # the fixes that can restore the clean log do; the ones that cannot, do not
    assert fp[("retry storm", "prep.clean")] == clean_fp == fp[("clock in ms", "repaired (/1000)")]
    assert len(cases[("clock in ms", "prep.clean (drop)")][0]) == len(train) - n_ms
    assert fp[("backfill at import time", "drop crowded seconds")] != clean_fp
    assert len(cases[("spam", "first rating per pair")][0]) <= len(train) + 200
    assert all(n is None for (_, v), (_, n) in cases.items() if v not in ("-", "corrupted"))
    # deterministic in the seed, and the input is left alone
    again = ts.corrupted_logs(train, 30, seed=0)[("spam", "corrupted")][0]
    assert ts.log_fingerprint(again) == fp[("spam", "corrupted")]
    assert ts.log_fingerprint(train) == clean_fp and len(train) == 3000
