"""Chapter 4.3 (real time: streams, windowed state, online learners, prequential evaluation): values a wrong
implementation would not produce (smoke parameters; the default run satisfies them too)."""
from __future__ import annotations


def _named(records, prefix):
    return {k[len(prefix) + 1:-1]: v for k, v in records.items() if k.startswith(prefix + "[")}


def check(records):
    # the streams: every event, in time order with ties in file-row order; replay is fast, scaled replay sleeps
    assert records["ml_stream_events"] == 100_000 and records["ls_stream_events"] == 100_004
    assert records["ml_stream_ordered_stable"] is True
    # scaled real time sleeps once per positive gap, gap / speed each (capped): exactly the schedule computed by hand
    n_sleeps, n_gaps = records["scaled_replay_sleeps"]
    assert n_sleeps == n_gaps > 0
    assert abs(records["scaled_replay_sleep_over_expected"] - 1.0) < 1e-9

    # windowed features kept per event equal the batch computation of tsrec.windows at every checkpoint
    assert records["stream_window_max_abs_diff"] == 0
    assert records["stream_decay_max_rel_diff"] < 1e-9

    # ML-100K, prequential: per-event item-kNN beats the one fitted at the start; an hour/day half-life loses
    ml = _named(records, "ml_ndcg10")
    assert 0.025 < ml["Static Popularity"] < 0.05
    assert ml["OnlineItemKNN"] > ml["Static ItemKNN"] + 0.015
    retrain = next(v for k, v in ml.items() if k.startswith("Retrain ItemKNN"))
    assert ml["OnlineItemKNN"] > retrain + 0.01
    assert ml["OnlineItemKNN"] > 2 * ml["Static Popularity"]
    assert ml["OnlinePop h=1 d"] < ml["OnlinePop h=365 d"]

    # latest-small: online beats static; the one-day half-life loses to the one-year one by far
    ls = _named(records, "ls_ndcg10")
    assert records["ls_evaluated_events"] > 500
    assert ls["OnlineItemKNN"] > 1.8 * ls["Static Popularity"]
    assert ls["OnlinePop h=365 d"] > 1.2 * ls["Static Popularity"]
    assert ls["OnlinePop h=1 d"] < 0.7 * ls["OnlinePop h=365 d"]
    if "Online SASRec" in ls:
        assert ls["Online SASRec"] > 1.5 * ls["Static SASRec"]

    # why: on latest-small one user's burst fills the last day, usually the user served; their items are masked
    assert records["ls_burst_top_user_share"] > 0.6
    assert records["ls_burst_top_user_share"] > records["ml_burst_top_user_share"] + 0.25
    assert records["ls_burst_top_is_target"] > 0.5
    assert records["ls_own_top10_h1d"] > records["ls_own_top10_h365d"] + 0.2

    # where online wins: films first rated after the start are invisible to a static popularity list
    assert 0.1 < records["ls_new_item_share"] < 0.7
    assert records["ls_new_item_ndcg[Static Popularity]"] == 0
    assert records["ls_new_item_ndcg[OnlineItemKNN]"] > 0.01
    assert records["ls_old_item_ndcg[OnlinePop h=365 d]"] > records["ls_old_item_ndcg[Static Popularity]"]

    # latency of one request was measured for every kind of learner (speeds are compared in benchmarks/, never here)
    p50 = _named(records, "latency_p50_ms")
    assert {"Static Popularity", "OnlinePop h=365 d", "OnlineItemKNN"} <= set(p50) and set(p50) == set(
        _named(records, "latency_p99_ms"))
