"""Chapter 4.3 (real time: streams, windowed state, online learners, prequential evaluation): the numbers its
text quotes, and values a wrong implementation would not produce. Runs on the committed default run and on a
smoke run (``records["smoke"]``); timings are only checked for their order, never against a budget."""
from __future__ import annotations

import pytest

from notebook_checks import above as _above
from notebook_checks import below as _below
from notebook_checks import level as _level
from notebook_checks import named as _named


def check(records):
    full = records.get("smoke") is False
    assert "smoke" in records

    # the streams: every event, in time order with ties in file-row order; replay is fast, scaled replay sleeps
    assert records["ml_stream_events"] == 100_000 and records["ls_stream_events"] == 100_004
    assert records["ml_stream_ordered_stable"] is True
    assert records["replay_seconds_ml100k"] < 1.0
    n_sleeps, n_gaps = records["scaled_replay_sleeps"]
    assert n_sleeps == n_gaps > 0
    assert abs(records["scaled_replay_sleep_over_expected"] - 1.0) < 1e-9

    # the live state: the window holds the last week's events, the decayed counter one number per film; the
    # decayed top-10 changes less often than the window's; both equal the batch computation at every checkpoint
    assert records["state_window_events_max"] == 10_365          # the busiest 7 days of ML-100K (chapter 4.1)
    assert records["state_decayed_items_end"] == 1_682
    win_churn, dec_churn = records["top10_churn_per_day"]
    assert win_churn == pytest.approx(2.09, abs=0.01) and dec_churn == pytest.approx(0.87, abs=0.01)
    assert records["stream_window_max_abs_diff"] == 0
    assert records["stream_decay_max_rel_diff"] < 1e-14

    # ML-100K, prequential, paired differences clustered by user
    ml = _named(records, "ml_ndcg10")
    d = _named(records, "ml_diff")
    retrain_knn = next(k for k in ml if k.startswith("Retrain ItemKNN"))
    retrain_pop = next(k for k in ml if k.startswith("Retrain Popularity"))
    assert _above(d[f"OnlineItemKNN vs {retrain_knn}"]) and _above(d["OnlineItemKNN vs Static ItemKNN decay"])
    assert _above(d["Static ItemKNN decay vs Static ItemKNN"])
    assert ml["OnlineItemKNN"] > 2 * ml["Static Popularity"]
    if full:
        assert _below(d["OnlinePop h=1 h vs Static Popularity"])
        assert records["ml_evaluated"] == [10_001, 579]
        for name, v in {"Static ItemKNN": 0.0687, retrain_knn: 0.0720, "OnlineItemKNN": 0.0975,
                        "Static ItemKNN decay": 0.0857, "Static Popularity": 0.0341, retrain_pop: 0.0357,
                        "OnlinePop no decay": 0.0358, "OnlinePop h=7 d": 0.0389, "OnlinePop h=1 d": 0.0299,
                        "OnlinePop h=1 h": 0.0133}.items():
            assert ml[name] == pytest.approx(v, abs=5e-5), name
        assert _above(d[f"{retrain_knn} vs Static ItemKNN"])
        assert _above(d[f"{retrain_pop} vs Static Popularity"]) and _above(d["OnlinePop no decay vs Static Popularity"])
        assert _above(d["OnlinePop h=7 d vs OnlinePop no decay"]) and _level(d["OnlinePop h=30 d vs OnlinePop h=7 d"])
        assert _above(d["OnlinePop h=7 d vs Static Popularity"]) and _above(d["OnlinePop h=30 d vs Static Popularity"])
        assert _above(d["OnlinePop h=365 d vs Static Popularity"])
        assert _below(d["OnlinePop h=1 d vs Static Popularity"])       # a day is already too short on ML-100K
        assert max((k for k in ml if k.startswith("OnlinePop")), key=ml.get) == "OnlinePop h=7 d"

    # latest-small: online beats static; the one-day half-life loses; where the differences are real
    ls = _named(records, "ls_ndcg10")
    dl = _named(records, "ls_diff")
    assert records["ls_evaluated_events"] > 500
    assert _above(dl["OnlineItemKNN vs Static Popularity"])
    assert _above(dl["OnlinePop h=365 d vs Static Popularity"])
    if full:
        assert _below(dl["OnlinePop h=1 d vs Static Popularity"])
        assert records["ls_evaluated_events"] == 10_232 and records["ls_evaluated_users"] == 332
        for name, v in {"Static Popularity": 0.0178, "OnlineItemKNN": 0.0386, "Static ItemKNN decay": 0.0287,
                        "Static ItemKNN": 0.0170, "OnlinePop h=365 d": 0.0256, "OnlinePop no decay": 0.0212,
                        "OnlinePop h=30 d": 0.0178, "OnlinePop h=7 d": 0.0105, "OnlinePop h=1 d": 0.0059,
                        "OnlinePop h=1 h": 0.0045, "RiverMF": 0.0164}.items():
            assert ls[name] == pytest.approx(v, abs=5e-5), name
        assert max(ls, key=ls.get) == "OnlineItemKNN"
        assert _above(dl["OnlineItemKNN vs Static ItemKNN decay"]) and _above(dl["Static ItemKNN decay vs Static ItemKNN"])
        assert _above(dl["OnlinePop no decay vs Static Popularity"]) and _above(dl["OnlinePop h=365 d vs OnlinePop no decay"])
        assert _level(dl["OnlinePop h=30 d vs Static Popularity"]) and _level(dl["RiverMF vs Static Popularity"])
        assert ls["OnlinePop h=365 d"] / ls["Static Popularity"] == pytest.approx(1.44, abs=0.01)
        if "Online SASRec" in ls:                                     # SASRec numbers the text quotes
            assert ls["Static SASRec"] == pytest.approx(0.0181, abs=5e-4)
            assert ls["Online SASRec"] == pytest.approx(0.0300, abs=5e-4)
            assert _above(dl["Online SASRec vs Static SASRec"]) and _above(dl["OnlineItemKNN vs Online SASRec"])
            assert _level(dl["Static SASRec vs Static Popularity"])
            assert _level(dl["Online SASRec vs Static ItemKNN decay"])

        # drift: ADWIN flags at most one point per model; the online models lead in most periods
        assert all(len(v) <= 1 for v in records["adwin_points"].values())
        assert sum(len(v) for v in records["adwin_points"].values()) == 2
        assert all(v > 0.6 for v in records["periods_above_static_pop"].values())

    # why: on latest-small one user's burst fills the last day, usually the user served; their items are masked
    if full:
        assert records["ls_burst_top_user_share"] == pytest.approx(0.978, abs=0.005)
        assert records["ml_burst_top_user_share"] == pytest.approx(0.350, abs=0.005)
        assert records["ls_burst_top_is_target"] == pytest.approx(0.807, abs=0.005)
        assert records["ls_own_top10_h1d"] == pytest.approx(0.863, abs=0.005)
    assert records["ls_burst_top_user_share"] > records["ml_burst_top_user_share"] + 0.25
    assert records["ls_own_top10_h1d"] > records["ls_own_top10_h365d"] + 0.2

    # where online wins: films first rated after the start are invisible to every static model
    assert 0.1 < records["ls_new_item_share"] < 0.7
    new = _named(records, "ls_new_item_ndcg")                        # name -> [NDCG@10, half-width]
    for static in ("Static Popularity", "Static ItemKNN decay", "Static SASRec"):
        if static in new:
            assert new[static][0] == 0
    assert new["OnlineItemKNN"][0] - new["OnlineItemKNN"][1] > 0
    old = _named(records, "ls_old_item_diff")
    if full:
        assert _above(old["OnlinePop no decay vs Static Popularity"])
        assert records["ls_new_item_share"] == pytest.approx(0.334, abs=0.005)
        assert new["OnlineItemKNN"][0] == pytest.approx(0.0185, abs=5e-4)
        assert new["OnlinePop h=365 d"][0] == pytest.approx(0.0103, abs=5e-4)
        assert records["ls_under_3_months_ndcg_max"] < 0.005
        assert _level(old["OnlinePop h=365 d vs OnlinePop no decay"]) and _above(old["OnlineItemKNN vs OnlinePop h=365 d"])
        assert _below(old["RiverMF vs Static Popularity"])
        oldv = _named(records, "ls_old_item_ndcg")
        assert oldv["OnlineItemKNN"] == pytest.approx(0.0487, abs=5e-4) and oldv["Static Popularity"] == pytest.approx(
            0.0267, abs=5e-4)
        if "Online SASRec" in new:
            assert new["Online SASRec"][0] == pytest.approx(0.0170, abs=5e-4)

    # latency of one request was measured for every kind of learner; timings vary with the machine's load, so
    # only their presence and consistency are checked here (speeds are compared in benchmarks/, never in tests)
    p50, p99 = _named(records, "latency_p50_ms"), _named(records, "latency_p99_ms")
    assert {"Static Popularity", "OnlinePop h=365 d", "OnlineItemKNN"} <= set(p50) and set(p50) == set(p99)
    assert all(0 < p50[n] <= p99[n] for n in p50)

    # the exercises' worked solutions pass their own checks
    for name in ("rank", "decayed_titanic", "prequential_ndcg", "online_knn_window"):
        assert records[f"exercise:ch04_3_{name}"] is True
