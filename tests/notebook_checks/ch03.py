"""Chapter 3: values a wrong count, decomposition, quality check, detector or cleaning step would not produce."""
from __future__ import annotations

import math


def _close(a: float, b: float, tol: float = 1e-4) -> bool:
    return math.isclose(a, b, abs_tol=tol)


def check(r: dict) -> None:
    # counting: 1997-09-20 .. 1998-04-22 is 215 UTC days / 5,157 hours; the busiest day holds 3,550 ratings
    assert r["ml100k_daily_len"] == 215 and r["ml100k_hourly_len"] == 5157
    assert r["ml100k_daily_max"] == 3550 and r["top_day_ratings"] == 3550 and r["top_day_users"] == 56
    assert r["ls_weekly_len"] == 1136 and r["co2_missing_weeks"] == 59

    # seasonality: textbook CO2 vs MovieLens; daily cycle stronger than the (absent) weekly one
    assert r["strength_co2"] > 0.95 and r["trend_strength_co2"] > 0.99
    assert r["strength_ml100k_weekly"] < 0.1
    assert 0.1 < r["strength_ml100k_daily_cycle"] < 0.2
    assert 0.15 < r["strength_ls_weekly"] < 0.3
    assert r["acf_co2_detrended_lag52"] > 0.9 and r["acf_ml100k_hourly_lag24"] > 0.1
    assert abs(r["acf_ml100k_daily_lag7"]) < 0.1

    # profiles: shares of 7 weekdays / 24 hours; Wednesday busiest in UTC; 15:00 Central peak, 5:00 trough
    dow, hod = r["ml100k_dow_profile"], r["ml100k_hour_profile_central"]
    assert len(dow) == 7 and len(hod) == 24 and len(r["ls_dow_profile"]) == 7
    assert _close(sum(dow), 1, 1e-9) and _close(sum(hod), 1, 1e-9)
    assert _close(dow[2], 0.16460, 1e-4) and max(range(7), key=dow.__getitem__) == 2
    assert r["ml100k_peak_hour_central"] == 15 and r["ml100k_trough_hour_central"] == 5
    assert 0.55 < r["ml100k_office_hours_share"] < 0.56
    assert 0.97 < r["us_zip_share"] < 0.99

    # non-seasonal: sign-up bursts and item life cycles
    assert _close(r["share_on_first_day"], 0.73469, 1e-5)
    assert r["lifecycle_peak_age"] == 1 and r["lifecycle_lift_age1"] > 1.8 and r["lifecycle_lift_age10"] < 0.9
    peaks = r["cohort_peak_year"]
    assert all(1 <= peaks[c] - int(c) <= 2 for c in peaks)

    # quality report: exact counts on the real data
    q = lambda ds, c: r[f"quality_{ds}[{c}]"]  # noqa: E731
    assert q("ml100k", "rows") == 100_000 and q("ls", "rows") == 100_004
    assert q("ml100k", "timestamp_ties") == 75_772 and q("ls", "timestamp_ties") == 31_945
    assert q("ml100k", "last_event_ties") == 415 and q("ls", "last_event_ties") == 127
    assert q("ml100k", "burst_events") == 3_672 and q("ls", "burst_events") == 8_360
    assert q("ml100k", "median_user_span_seconds") == 2_961 and q("ls", "median_user_span_seconds") == 4_360
    for ds in ("ml100k", "ls"):
        for c in ("duplicate_rows", "repeated_pairs", "nan_timestamp", "before_1990", "after_now"):
            assert q(ds, c) == 0, (ds, c)
    assert _close(r["quality_ml100k_tie_share"], 0.75772, 1e-9)
    assert _close(r["quality_ml100k_last_tie_share"], 415 / 943, 1e-9)

    # injected problems found exactly and removed exactly
    assert (r["injected[nan_timestamp]"], r["injected[before_1990]"], r["injected[after_now]"],
            r["injected[duplicate_rows]"]) == (150, 100, 50, 300)
    assert r["clean_rows_out"] == 99_700 and r["clean_dropped"] == [0, 0, 150, 150, 300]

    # denoising against the known truth: keeping the season wins, smoothing it away loses
    d = {k[len("denoise_rmse["):-1]: v for k, v in r.items() if k.startswith("denoise_rmse[")}
    stl, raw = d["STL trend + seasonal"], d["raw (no smoothing)"]
    assert stl < 15 < raw and stl < d["EWMA, half-life 3 days"] < raw
    assert d["rolling median, w = 7 (centred)"] < raw

    # detectors: real ML-100K flags, planted spikes
    assert (r["ml100k_daily_flags[robust z]"], r["ml100k_daily_flags[IQR]"], r["ml100k_daily_flags[Hampel]"]) == (8, 10, 12)
    assert r["ml100k_flagged_new_user_share"] > r["share_on_first_day"]
    pr = lambda s, d, v, m: r[f"pr[{s}|{d}|{v}|{m}]"]  # noqa: E731
    co2, syn = "CO2 + spikes", "synthetic counts + bursts"
    for det in ("robust z", "IQR"):
        assert pr(co2, det, "raw", "recall") == 0.0          # the trend hides every spike
    for det in ("robust z", "IQR", "Hampel"):
        assert pr(co2, det, "STL remainder", "recall") >= 0.95 and pr(syn, det, "STL remainder", "recall") >= 0.95
    assert pr(syn, "Hampel", "raw", "precision") < 0.3       # the weekly cycle inside the window
    assert pr(syn, "robust z", "raw", "precision") >= 0.9
    assert 5 <= r["best_threshold[CO2 + spikes]"] <= 7 and r["best_f1[CO2 + spikes]"] > 0.85
    assert r["best_f1[synthetic counts + bursts]"] > 0.95

    # what broken data does to the models (leave-one-out on ML-100K, full ranking)
    assert r["chosen_half_life_days"] == 7.0 and 0.017 < r["hr_ci_halfwidth"] < 0.019
    imp = lambda s, v, c: r[f"impact[{s}|{v}|{c}]"]  # noqa: E731
    pop, dec = "Popularity HR@10", "DecayedPop HR@10"
    assert round(imp("clean data", "-", pop), 4) == 0.0859 and round(imp("clean data", "-", "Popularity NDCG@10"), 4) == 0.0449
    assert round(imp("clean data", "-", dec), 4) == 0.0870
    for scen, fix in [("retry storm", "prep.clean"), ("clock in ms", "repaired (/1000)"), ("spam", "first rating per pair")]:
        for c in (pop, dec, "Popularity NDCG@10", "DecayedPop NDCG@10"):
            assert imp(scen, fix, c) == imp("clean data", "-", c), (scen, fix, c)   # restored exactly
    assert imp("spam", "corrupted", pop) < 0.01 < 0.07 < imp("spam", "corrupted", dec)
    assert imp("clock in ms", "corrupted", pop) == imp("clean data", "-", pop)            # time-blind
    assert imp("backfill at import time", "corrupted", pop) == imp("clean data", "-", pop)
    assert imp("backfill at import time", "corrupted", dec) < imp("clean data", "-", dec) - 0.02
    assert r["impact_storm_dup_rows"] == 4_446 and r["impact_ms_after_now"] == 16_306
    assert r["impact_spam_repeated_pairs"] == 5_800
    # the backfill breakdown: users inside the re-stamped window lose almost everything, cleaning cannot help them
    assert r["backfill_users_inside"] == 237
    assert r["backfill_hr[1|clean]"] > 0.08 and r["backfill_hr[1|corrupted]"] < 0.02
    assert r["backfill_hr[1|drop crowded seconds]"] < 0.02
    assert r["backfill_hr[3|drop crowded seconds]"] == r["backfill_hr[3|clean]"]
    same = r["impact_equals_clean_log"]
    assert same["retry storm|prep.clean"] and same["clock in ms|repaired (/1000)"] and same["clean data|-"]
    assert not same["spam|first rating per pair"] and not same["backfill at import time|corrupted"]
