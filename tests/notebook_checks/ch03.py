"""Chapter 3: values a wrong count, decomposition, quality check, detector or cleaning step would not produce."""
from __future__ import annotations

import math


def _close(a: float, b: float, tol: float = 1e-4) -> bool:
    return math.isclose(a, b, abs_tol=tol)


def check(r: dict) -> None:
    # counting: 1997-09-20 .. 1998-04-22 is 215 UTC days / 5,157 hours; the busiest day holds 3,550 ratings
    assert r["ml100k_daily_len"] == 215 and r["ml100k_hourly_len"] == 5157
    assert r["ml100k_daily_max"] == 3550 and r["top_day_ratings"] == 3550 and r["top_day_users"] == 56
    assert round(r["top_day_ratings"] / r["top_day_users"]) == 63 and round(r["top_day_new_user_share"], 2) == 0.97
    assert r["ls_weekly_len"] == 1136 and r["co2_missing_weeks"] == 59
    assert round(r["ml100k_daily_mean"]) == 465 and r["ls_users"] == 671

    # seasonality: textbook CO2 vs MovieLens; daily cycle stronger than the (absent) weekly one
    assert r["strength_co2"] > 0.95 and r["trend_strength_co2"] > 0.99
    assert r["strength_ml100k_weekly"] < 0.1
    assert 0.1 < r["strength_ml100k_daily_cycle"] < 0.2
    assert 0.15 < r["strength_ls_weekly"] < 0.3
    assert [round(r[k], 2) for k in ("strength_co2", "strength_ml100k_weekly", "strength_ml100k_daily_cycle",
                                     "strength_ls_weekly")] == [0.97, 0.03, 0.13, 0.21]     # as the summary quotes
    assert round(r["co2_trend_rise"]) == 57 and round(r["co2_resid_sd"], 1) == 0.3
    assert r["acf_co2_detrended_lag52"] > 0.9 and r["acf_ml100k_hourly_lag24"] > 0.1
    assert r["acf_co2_detrended_lag26"] < -0.8                                # "strongly negative at half a year"
    assert abs(r["acf_ml100k_daily_lag7"]) < 0.1

    # profiles: shares of 7 weekdays / 24 hours; Wednesday busiest in UTC; 15:00 Central peak, 5:00 trough
    dow, hod = r["ml100k_dow_profile"], r["ml100k_hour_profile_central"]
    assert len(dow) == 7 and len(hod) == 24 and len(r["ls_dow_profile"]) == 7
    assert _close(sum(dow), 1, 1e-9) and _close(sum(hod), 1, 1e-9)
    assert _close(dow[2], 0.16460, 1e-4) and max(range(7), key=dow.__getitem__) == 2
    assert r["ml100k_peak_hour_central"] == 15 and r["ml100k_trough_hour_central"] == 5
    assert 0.55 < r["ml100k_office_hours_share"] < 0.56
    assert (round(max(hod), 3), round(min(hod), 3)) == (0.077, 0.006)          # 7.7% at 15:00, 0.6% at 5:00
    both = dow + r["ml100k_dow_profile_central"]
    assert 0.115 <= min(both) and max(both) < 0.18                             # "between about 12% and 18%"
    assert 0.97 < r["us_zip_share"] < 0.99

    # non-seasonal: sign-up bursts and item life cycles
    assert _close(r["share_on_first_day"], 0.73469, 1e-5)
    assert r["lifecycle_peak_age"] == 1 and r["lifecycle_lift_age1"] > 1.8 and r["lifecycle_lift_age10"] < 0.9
    assert [round(r[f"lifecycle_lift_age{a}"], 2) for a in (0, 1, 10)] == [0.99, 2.07, 0.81]
    assert r["top_days"]["1997-12-17"] == 1801
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
    nb_ = {k[len("denoise_rmse_no_burst["):-1]: v for k, v in r.items() if k.startswith("denoise_rmse_no_burst[")}
    order = ["raw (no smoothing)", "rolling median, w = 7 (centred)", "EWMA, half-life 3 days", "STL trend + seasonal"]
    assert [round(d[k], 1) for k in order] == [68.8, 50.5, 44.9, 10.8]
    assert [round(nb_[k], 1) for k in order] == [16.3, 49.8, 43.9, 10.6]
    for k in ("rolling median, w = 7 (centred)", "EWMA, half-life 3 days"):          # "about three times worse"
        assert 2.5 < nb_[k] / nb_["raw (no smoothing)"] < 3.5

    # detectors: real ML-100K flags, planted spikes
    assert (r["ml100k_daily_flags[robust z]"], r["ml100k_daily_flags[IQR]"], r["ml100k_daily_flags[Hampel]"]) == (8, 10, 12)
    assert r["ml100k_flagged_new_user_share"] > r["share_on_first_day"]
    assert round(r["ml100k_flagged_new_user_share"], 3) == 0.869
    pr = lambda s, d, v, m: r[f"pr[{s}|{d}|{v}|{m}]"]  # noqa: E731
    co2, syn = "CO2 + spikes", "synthetic counts + bursts"
    for det in ("robust z", "IQR"):
        assert pr(co2, det, "raw", "recall") == 0.0          # the trend hides every spike
    for det in ("robust z", "IQR", "Hampel"):
        assert pr(co2, det, "STL remainder", "recall") >= 0.95 and pr(syn, det, "STL remainder", "recall") >= 0.95
    assert pr(syn, "Hampel", "raw", "precision") < 0.3       # the weekly cycle inside the window
    assert pr(syn, "robust z", "raw", "precision") >= 0.9
    raw_pr = [pr(syn, det, "raw", m) for det in ("robust z", "IQR") for m in ("precision", "recall")]
    assert [round(v, 2) for v in raw_pr] == [1.0, 0.9, 0.9, 0.95]                 # "0.90-1.00, recall 0.90-0.95"
    assert round(pr(co2, "Hampel", "raw", "recall"), 2) == 0.43
    assert pr(syn, "Hampel", "raw", "flags") == 150 and round(pr(syn, "Hampel", "raw", "precision"), 2) == 0.12
    stl_prec = [pr(s, det, "STL remainder", "precision") for s in (co2, syn) for det in ("robust z", "IQR", "Hampel")]
    assert (round(min(stl_prec), 2), round(max(stl_prec), 2)) == (0.19, 0.47)
    # Hampel's own false-alarm rate on pure noise with a window of 7 (the text quotes 4.7% against 0.27%)
    assert 0.0465 <= r["hampel_gaussian_flag_share"] < 0.0475
    assert 5 <= r["best_threshold[CO2 + spikes]"] <= 7 and r["best_f1[CO2 + spikes]"] > 0.85
    assert r["best_f1[synthetic counts + bursts]"] > 0.95
    assert r["best_threshold[CO2 + spikes]"] == 6.0 and r["best_threshold[synthetic counts + bursts]"] == 7.0
    assert [round(r[f"best_{m}[CO2 + spikes]"], 2) for m in ("f1", "precision", "recall")] == [0.92, 0.90, 0.93]
    assert r["best_precision[synthetic counts + bursts]"] == r["best_recall[synthetic counts + bursts]"] == 1.0

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
    three = lambda s, v, c: round(imp(s, v, c), 3)  # noqa: E731  the prose quotes HR@10 to 3 decimals
    assert (three("clean data", "-", pop), three("clean data", "-", dec)) == (0.086, 0.087)
    assert (three("retry storm", "corrupted", pop), three("retry storm", "corrupted", dec)) == (0.082, 0.083)
    assert three("clock in ms", "corrupted", dec) == 0.091 and three("clock in ms", "prep.clean (drop)", pop) == 0.078
    assert three("spam", "corrupted", dec) == 0.078 and three("backfill at import time", "corrupted", dec) == 0.062
    assert r["impact_storm_dup_rows"] == 4_446 and r["impact_ms_after_now"] == 16_306
    assert r["impact_spam_repeated_pairs"] == 5_800
    # the backfill breakdown: users inside the re-stamped window lose almost everything, cleaning cannot help them
    assert r["backfill_users_inside"] == 237
    assert r["backfill_hr[1|clean]"] > 0.08 and r["backfill_hr[1|corrupted]"] < 0.02
    assert r["backfill_hr[1|drop crowded seconds]"] < 0.02
    assert r["backfill_hr[3|drop crowded seconds]"] == r["backfill_hr[3|clean]"]
    assert (round(r["backfill_hr[1|clean]"], 3), round(r["backfill_hr[1|corrupted]"], 3)) == (0.097, 0.008)
    assert round(r["backfill_hr[3|drop crowded seconds]"], 3) == 0.087
    same = r["impact_equals_clean_log"]
    assert same["retry storm|prep.clean"] and same["clock in ms|repaired (/1000)"] and same["clean data|-"]
    assert not same["spam|first rating per pair"] and not same["backfill at import time|corrupted"]

    # paired intervals against the clean log (the text calls a change real only when its interval excludes 0)
    pd_ = lambda s, v, m: r[f"paired_hr[{s}|{v}|{m}]"]  # noqa: E731
    real = lambda s, v, m: abs(pd_(s, v, m)[0]) > pd_(s, v, m)[1]  # noqa: E731

    def quoted(s: str, v: str, m: str, d: float, h: float) -> bool:      # as the text quotes it, to 4 decimals
        return all(math.isclose(a, b, abs_tol=5e-5) for a, b in zip(pd_(s, v, m), (d, h)))

    assert math.isclose(pd_("spam", "corrupted", "Popularity")[0], -imp("clean data", "-", pop), abs_tol=1e-12)
    assert quoted("spam", "corrupted", "Popularity", -0.0859, 0.0179) and real("spam", "corrupted", "Popularity")
    assert quoted("spam", "corrupted", "DecayedPop", -0.0085, 0.0059) and real("spam", "corrupted", "DecayedPop")
    for m in ("Popularity", "DecayedPop"):
        assert quoted("retry storm", "corrupted", m, -0.0042, 0.0059) and not real("retry storm", "corrupted", m)
        for fix in [("retry storm", "prep.clean"), ("clock in ms", "repaired (/1000)"), ("spam", "first rating per pair")]:
            assert pd_(*fix, m) == [0.0, 0.0]
    assert quoted("clock in ms", "corrupted", "DecayedPop", 0.0042, 0.0078)
    assert not real("clock in ms", "corrupted", "DecayedPop")
    assert quoted("clock in ms", "prep.clean (drop)", "Popularity", -0.0074, 0.0055)
    assert real("clock in ms", "prep.clean (drop)", "Popularity")
    assert quoted("backfill at import time", "corrupted", "DecayedPop", -0.0255, 0.0124)
    assert quoted("backfill at import time", "drop crowded seconds", "DecayedPop", -0.0233, 0.0105)
    assert real("backfill at import time", "drop crowded seconds", "DecayedPop")
    assert not real("backfill at import time", "drop crowded seconds", "Popularity")
    moved = [v[1] for k, v in r.items() if k.startswith("paired_hr[") and v[0] != 0]
    assert (round(min(moved), 4), round(max(moved), 4)) == (0.0055, 0.0179)   # "±0.0055 to ±0.0179"
    rows = r["impact_rows"]
    assert round(r["impact_ms_after_now"] / rows["clean data|-"], 2) == 0.17            # "17% of its training data"
    assert round((rows["spam|corrupted"] - rows["clean data|-"]) / rows["clean data|-"], 2) == 0.06   # "about 6%"
    assert rows["spam|first rating per pair"] - rows["clean data|-"] == 200             # spam ratings left
    assert rows["spam|corrupted"] - rows["clean data|-"] == 6_000
    assert r["max_rows_per_second_clean"] == 12
    hw = lambda g, v: r[f"backfill_hw[{g}|{v}]"]  # noqa: E731
    assert r["backfill_hr[1|clean]"] - r["backfill_hr[1|corrupted]"] > hw("1", "corrupted") and round(hw("1", "corrupted"), 3) == 0.038
    for g in ("2", "3"):
        assert abs(r[f"backfill_hr[{g}|corrupted]"] - r[f"backfill_hr[{g}|clean]"]) < hw(g, "corrupted")
    assert (round(hw("2", "corrupted"), 3), round(hw("3", "corrupted"), 3)) == (0.015, 0.013)

    # the exercises' worked solutions pass their own checks
    for name in ("weekend_share_pacific", "yearly_cycle_strength", "hampel_days", "hampel_noise_share", "clean_rows"):
        assert r[f"exercise:ch03_{name}"] is True, name
