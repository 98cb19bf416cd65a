"""Chapter 7.2 (the social-media feed): the numbers its text quotes, and values a wrong implementation would not
produce. Runs on the committed default run and on a smoke run (``records["smoke"]``); timings are only checked for
their order, never against a budget. Every ranking number comes from the SYNTHETIC feed."""
from __future__ import annotations

import pytest

from notebook_checks import above as _above
from notebook_checks import below as _below


def check(records):
    full = records.get("smoke") is False
    assert "smoke" in records

    # the real posts (the same in a smoke run): drift, cycles, tails, bursts
    assert records["real_posts"] == [20761, 7563]
    assert records["real_median_likes"] == {"2013": 21.0, "2015": 1471.0, "2016": 17299.0, "2017": 76178.0}
    assert records["share_posts_05_09_utc"] == pytest.approx(0.024, abs=0.0005)
    hour = records["hour_rel"]
    assert hour["min"] == pytest.approx(0.88, abs=0.005) and hour["max"] == pytest.approx(1.14, abs=0.005)
    assert hour["argmax"] == 12
    assert records["weekday_rel"]["Sun"] == pytest.approx(1.13, abs=0.005)
    assert records["weekday_rel"]["Sat"] == pytest.approx(1.06, abs=0.005)
    assert records["weekday_ci"]["Sun"] == pytest.approx(0.04, abs=0.005)
    assert records["weekday_ci"]["Sat"] == pytest.approx(0.05, abs=0.005)
    assert records["tail_alpha_raw"] == pytest.approx([2.13, 0.09], abs=0.005)
    assert records["tail_alpha_rel"] == pytest.approx([3.31, 0.24], abs=0.005)
    gaps = records["posting_gaps"]
    assert gaps["cv"] == pytest.approx(1.65, abs=0.005) and gaps["short_share"] == pytest.approx(0.264, abs=0.0005)
    assert records["burst_days"]["posting"] == pytest.approx(0.023, abs=0.0005)
    assert records["burst_days"]["engagement"] == pytest.approx(0.037, abs=0.0005)
    planted = records["planted"]
    assert planted["trend_boost"] == pytest.approx(2.08, abs=0.005)
    assert planted["tail_alpha"] == pytest.approx(records["tail_alpha_rel"][0])     # planted from the real posts
    assert planted["burst_share"] == pytest.approx(gaps["short_share"])
    assert planted["trend_prob"] == pytest.approx(records["burst_days"]["engagement"])

    # the planted half-life is recovered within 20% (the bar), in every run; censoring lowers the naive one
    assert abs(records["half_life_rel_error"]) < 0.2
    assert records["half_life_naive_h"] < records["half_life_fit_h"] * 1.01
    for name in ("ch07_2_naive_half_life", "ch07_2_feed_tail", "ch07_2_top10_age", "ch07_2_follower_share"):
        assert records[f"exercise:{name}"] is True

    test, paired = records["test_ndcg"], records["paired"]
    fresh = next(k for k in test if k.startswith("FreshVelocity"))
    dec = next(k for k in test if k.startswith("decayed popularity"))
    # freshness-aware beats static popularity beyond its interval (the bar), smoke run too
    assert _above(paired[f"{fresh} - static popularity"])
    assert _above(paired["FollowTopic - " + fresh])
    assert test["static popularity (frozen)"][0] < 0.01
    if not full:
        assert 0 < records["follower_share_fit"][0] < 1
        return

    assert records["feed"] == {"posts": 5419, "events": 108087, "users": 3000, "trends": 8}
    assert records["half_life_fit_h"] == pytest.approx(6.03, abs=0.005)
    assert records["half_life_rel_error"] == pytest.approx(0.006, abs=0.0005)
    assert records["half_life_naive_h"] == pytest.approx(5.86, abs=0.005)
    assert records["feed_tail_alpha"] == pytest.approx([3.85, 0.31], abs=0.005)
    assert records["trend_recovery"] == {"planted": 8, "flagged": 11, "hits": 6}
    assert records["tuned_half_life_h"] == 7.0 and abs(7.0 / 6.0 - 1) < 0.2
    assert records["tuned_pop_half_life_h"] == 1.0
    assert records["val_within_0001_of_best_h"] == [6.0, 7.0]
    val = records["val_ndcg_fresh"]
    assert max(val.values()) - min(val[h] for h in ("5", "6", "7", "8", "10")) < 0.0025

    assert records["test_evaluated"] == [2318, 1518]
    assert fresh == "FreshVelocity h=7 h" and dec == "decayed popularity h=1 h"
    expected = {"static popularity": 0.0001, "static popularity (frozen)": 0.0, fresh: 0.0601, dec: 0.0514,
                "FollowTopic": 0.352, "online item-kNN": 0.0098, "SASRec frozen": 0.0, "SASRec online": 0.0020}
    for name, v in expected.items():
        assert test[name][0] == pytest.approx(v, abs=0.0005 if name == "FollowTopic" else 0.00005), name
    for pair, (d, ci) in {f"{fresh} - static popularity": (0.0599, 0.0074), f"{fresh} - {dec}": (0.0086, 0.0055),
                          f"FollowTopic - {fresh}": (0.292, 0.016), "SASRec online - SASRec frozen": (0.0020, 0.0015)
                          }.items():
        tol = 0.0005 if pair.startswith("FollowTopic") else 0.00005
        assert paired[pair] == pytest.approx([d, ci], abs=tol), pair
        assert _above(paired[pair]), pair
    assert _above(paired[f"{fresh} - online item-kNN"]) and _above(paired[f"{fresh} - SASRec online"])

    # per post age: the lead is in the youngest posts, the loss at 3-12 h
    share = records["age_share"]
    for b, v in {"< 1 h": 0.114, "1-3 h": 0.188, "3-12 h": 0.453, "12-24 h": 0.186, ">= 1 day": 0.059}.items():
        assert share[b] == pytest.approx(v, abs=0.0005), b
    by_age, vs = records["ndcg_by_age"], records["fresh_vs_pop_by_age"]
    assert by_age[fresh]["< 1 h"] == pytest.approx(0.142, abs=0.0005)
    assert by_age[dec]["< 1 h"] == pytest.approx(0.017, abs=0.0005)
    assert vs["< 1 h"] == pytest.approx([0.126, 0.026], abs=0.0005) and _above(vs["< 1 h"])
    assert vs["1-3 h"] == pytest.approx([0.017, 0.011], abs=0.0005) and _above(vs["1-3 h"])
    assert vs["3-12 h"] == pytest.approx([-0.019, 0.007], abs=0.0005) and _below(vs["3-12 h"])
    assert max(by_age[n][">= 1 day"] for n in by_age) < 0.1
    assert all(by_age["SASRec online"][b] == 0 for b in ("< 1 h", "1-3 h", "3-12 h"))   # hits on old posts only
    assert records["periods_fresh_above_decayed"] == [13, 16]
    assert records["periods_followtopic_first"] == 1.0

    # recovered parameters; latency only by its order
    assert records["follower_share_fit"] == pytest.approx([0.594, 0.579], abs=0.0005)
    lat = records["latency_p50_ms"]
    assert all(0 < v < 50 for v in lat.values())
    assert lat["SASRec online"] > lat["static popularity"]
