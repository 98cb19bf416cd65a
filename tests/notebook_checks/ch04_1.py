"""Chapter 4.1 (time windows, time-series analysis, recency baselines, protocols): the numbers its text quotes,
and values a wrong implementation would not produce. Runs on the committed default run and on a smoke run."""
from __future__ import annotations

import pytest

from notebook_checks import named as _named


def _clear(d_ci):
    """A paired difference [d, half-width] whose interval excludes 0."""
    return abs(d_ci[0]) > d_ci[1]


def check(records):
    full = records.get("smoke") is False
    assert "smoke" in records

    # the popularity anchors of benchmarks/anchors.md (ML-100K, leave-one-out, ties in file-row order, full ranking)
    assert records["pop_valid_hr10"] == pytest.approx(0.0742, abs=5e-4)
    assert records["pop_test_hr10"] == pytest.approx(0.0859, abs=5e-4)
    assert records["pop_test_ndcg10"] == pytest.approx(0.0449, abs=5e-4)

    # windows: Titanic takes the weekly lead in January 1998; a 7 d / 1 d sliding window counts each event ~7 times
    assert records["median_user_active_h[ML-100K]"] < 1.0 < records["median_user_active_h[ML latest-small]"] < 1.5
    assert records["first_week_titanic_on_top"] == "1998-01-12"
    assert records["weeks_titanic_on_top"] == 10
    assert records["top_week_max_share"] == pytest.approx(0.015, abs=5e-4)
    assert 6.8 < records["sliding_rows_per_event"] <= 7.0
    share, when = records["titanic_max_window_share_pct"]
    assert 1.7 < share < 2.0 and when.startswith("1998-03-2")
    assert all(0.5 <= v <= 1.0 for v in records["median_window_share_pct"].values())
    shared = lambda j: 40 * j / (1 + j)  # |A & B| of two top-20 sets with Jaccard j
    assert 6.5 < shared(records["top20_jaccard_lag1"]) < 7.5
    assert 4.0 <= shared(records["top20_jaccard_lag10"]) <= 5.0
    assert records["decayed_vs_alltime_top10_overlap"] < 10

    # decay: one half-life halves the weight; streaming equals batch to rounding
    assert records["decay_weight_one_half_life"] == pytest.approx(0.5, abs=1e-12)
    assert records["stream_vs_batch_max_rel_diff"] < 1e-14

    # time series of latest-small: bursty, a weak yearly cycle, the trend's peak in 2000; fewer new releases
    assert 0.45 < records["ls_empty_day_share"] < 0.55
    assert 0.25 < records["ls_top1pct_day_share"] < 0.35
    assert 0.15 < records["ls_yearly_cycle_strength"] < 0.35
    per_year = records["ls_ratings_per_day_by_year"]
    assert max(per_year, key=per_year.get) == "2000" and per_year["2007"] < per_year["2006"] / 2
    age = records["median_rated_age_by_year"]
    assert age["1996"] == 2 and all(age[str(y)] >= 10 for y in range(2004, 2017))
    assert records["share_new_releases_ml100k"] == pytest.approx(0.273, abs=0.005)
    assert records["share_new_releases_ls"] == pytest.approx(0.144, abs=0.005)
    assert records["lifecycle_peak_age"] == 1
    assert 0.40 < records["lifecycle_age5_over_peak"] < 0.5
    life = records["life_share_last_over_max"]
    assert all(life[t] < 0.1 for t in ("Twister", "Independence Day (a.k.a. ID4)", "GoldenEye"))
    assert all(0.55 < life[t] < 0.75 for t in ("Matrix, The", "Fight Club",
                                                "Lord of the Rings: The Fellowship of the Ring, The"))

    # leave-one-out: popularity counts as of now; short windows lose; a seconds-scale history half-life wins
    loo = _named(records, "loo_hr10")
    vs_pop = _named(records, "loo_vs_pop")
    assert loo["Popularity"] == pytest.approx(records["pop_test_hr10"], abs=1e-12)
    assert not _clear(vs_pop["ItemKNN"])
    assert loo[records["loo_best_knn_decay"]] > loo["ItemKNN"] + 0.015
    assert records["knn_chosen_test_hr10"] > loo["ItemKNN"] + 0.015
    assert records["knn_chosen_interior"] is True
    if full:
        assert loo["Decayed 1 h"] == pytest.approx(0.0329, abs=5e-4)
        assert vs_pop["Decayed 1 h"][0] == pytest.approx(-0.053, abs=5e-4) and vs_pop["Decayed 1 h"][1] < 0.021
        clear = records["loo_clear_of_pop"]
        assert set(clear["below"]) == {"Recent 1 h", "Recent 6 h", "Recent 1 d", "Decayed 1 h", "Decayed 6 h"}
        assert not any(n.startswith(("Recent", "Decayed")) for n in clear["above"])
        assert {f"ItemKNN decay {h}" for h in ("2 s", "10 s", "30 s", "3 min", "1 h", "1 d", "7 d")} <= set(clear["above"])
        assert "ItemKNN decay 30 d" not in clear["above"]
        assert records["loo_best_decayed"] == "Decayed 30 d" and loo["Decayed 30 d"] == pytest.approx(0.0944, abs=5e-4)
        assert vs_pop["Decayed 30 d"][0] < vs_pop["Decayed 30 d"][1]
        assert records["knn_chosen_on_valid"] == "ItemKNN decay 10 s"
        assert records["knn_chosen_test_hr10"] == pytest.approx(0.1919, abs=5e-4)
        assert records["knn_chosen_test_ndcg10"] == pytest.approx(0.1074, abs=5e-4)
        diff = _named(records, "knn_chosen_diff")
        assert diff["ItemKNN"][0] == pytest.approx(0.090, abs=1e-3) and _clear(diff["ItemKNN"])
        assert diff["ItemKNN decay 1 h"][0] == pytest.approx(0.062, abs=1e-3) and _clear(diff["ItemKNN decay 1 h"])
        # unmasked like RecBole: level with RecBole's SASRec (anchors.md) on the identical split
        a_hr, a_ndcg = records["anchor_recbole_sasrec"]
        hr, hr_ci, ndcg, ndcg_ci = records["knn_chosen_unmasked"]
        assert (a_hr, a_ndcg) == (0.1336, 0.0630)
        assert hr == pytest.approx(0.1220, abs=5e-4) and ndcg == pytest.approx(0.0653, abs=5e-4)
        assert abs(hr - a_hr) < hr_ci and abs(ndcg - a_ndcg) < ndcg_ci
    assert records["ml100k_repeat_pairs"] == 0

    # global temporal split of latest-small: one cut has too few queries; rolling origin has enough, and the
    # rolling code agrees with tsrec.evaluate on a cut; recency beats all-time popularity for returning users
    assert records["single_cut_queries"] == 22
    assert records["rolling_check_equal"] is True
    assert records["rolling_ls_returning_queries"] == 903 and records["rolling_ls_returning_users"] == 171
    ret = _named(records, "rolling_ls_returning")            # name -> [HR@10, Δ vs Popularity, half-width]
    new = _named(records, "rolling_ls_new")
    assert ret["Popularity"][0] == pytest.approx(0.0155, abs=5e-4)
    assert ret["Decayed 30 d"][0] > 2 * ret["Popularity"][0] and ret["Decayed 30 d"][1] > ret["Decayed 30 d"][2]
    if full:
        assert ret["Recent 1 h"][0] == pytest.approx(0.0144, abs=5e-4) and ret["Recent 1 h"][0] < ret["Popularity"][0]
        assert abs(ret["Recent 1 h"][1]) < ret["Recent 1 h"][2]
        assert {n for n in ret if ret[n][0] < ret["Popularity"][0]} == {"Recent 1 h", "Decayed 1095 d"}
        assert abs(ret["Decayed 1095 d"][1]) < ret["Decayed 1095 d"][2]
        assert ret["Decayed 1095 d"][0] == pytest.approx(0.0133, abs=5e-4)
        assert ret["Decayed 30 d"][0] == pytest.approx(0.0520, abs=5e-4) and ret["Decayed 30 d"][0] > 3 * ret["Popularity"][0]
        clear = records["rolling_ls_clear_of_pop[returning]"]
        decayed_6h_90d = {f"Decayed {h}" for h in ("6 h", "1 d", "3 d", "7 d", "30 d", "90 d")}
        assert decayed_6h_90d <= set(clear["above"]) and not clear["below"]
        assert {"Recent 1 d", "Recent 30 d", "Recent 90 d", "Recent 365 d"} <= set(clear["above"])
        assert not {"Recent 3 d", "Recent 7 d"} & set(clear["above"])
        assert max(new, key=lambda n: new[n][0]) == "Decayed 365 d"
        assert new["Decayed 365 d"][0] == pytest.approx(0.2335, abs=5e-4) and _clear(new["Decayed 365 d"][1:])
        assert new["Decayed 1095 d"][0] == pytest.approx(0.2231, abs=5e-4)
        assert {f"Decayed {h}" for h in ("1 h", "6 h", "1 d", "3 d", "7 d")} <= set(
            records["rolling_ls_clear_of_pop[new]"]["below"])

    # the leak of leave-one-out, measured
    assert records["loo_future_share_median[ML-100K]"] == pytest.approx(0.381, abs=0.005)
    assert records["loo_future_share_median[ML latest-small]"] == pytest.approx(0.517, abs=0.005)
    assert records["loo_target_item_future_share[ML-100K]"] == pytest.approx(0.434, abs=0.005)
    assert records["loo_target_item_future_share[ML latest-small]"] == pytest.approx(0.583, abs=0.005)

    # protocols: random split inflates; the pairs the text draws, with their paired intervals
    p = lambda col, name: records[f"proto_ml100k[{col}][{name}]"]
    loo_c, roll_c, rnd_c = "leave-one-out", "rolling global (returning)", "random split"
    assert p(loo_c, "Popularity") == pytest.approx(records["pop_test_hr10"], abs=1e-12)
    assert p(rnd_c, "Popularity") > 2 * p(loo_c, "Popularity")
    assert p(rnd_c, "ItemKNN") > 3 * p(loo_c, "ItemKNN")
    assert records["random_own_future_share_ml100k"] == pytest.approx(0.82, abs=0.01)
    assert records["random_above_loo_intervals_apart"] is True
    d = lambda col, pair: records[f"proto_ml100k_diff[{col}][{pair}]"]
    flip = "ItemKNN decay 1 h vs Recent 7 d"
    assert d(loo_c, flip)[0] > d(loo_c, flip)[1] and d(roll_c, flip)[0] < -d(roll_c, flip)[1]  # a confirmed reversal
    assert not _clear(d(loo_c, "Recent 7 d vs Popularity")) and d(roll_c, "Recent 7 d vs Popularity")[0] > d(
        roll_c, "Recent 7 d vs Popularity")[1]
    assert not _clear(d(loo_c, "ItemKNN vs Popularity"))
    if full:
        assert d(loo_c, flip) == pytest.approx([0.0435, 0.0229], abs=5e-4)
        assert d(roll_c, flip) == pytest.approx([-0.1195, 0.0260], abs=5e-4)
        assert p(roll_c, "Recent 7 d") == pytest.approx(0.1503, abs=5e-4) and p(roll_c, "Popularity") == pytest.approx(
            0.0691, abs=5e-4)
        assert d(rnd_c, "Recent 7 d vs Popularity")[0] < -d(rnd_c, "Recent 7 d vs Popularity")[1]
        assert d(roll_c, "ItemKNN vs Popularity")[0] < -d(roll_c, "ItemKNN vs Popularity")[1]
        assert d(rnd_c, "Popularity vs Pop as of now")[0] > d(rnd_c, "Popularity vs Pop as of now")[1]
        assert not _clear(d(loo_c, "Popularity vs Pop as of now"))
        ls = lambda col, pair: records[f"proto_ls_diff[{col}][{pair}]"]
        assert not _clear(ls(loo_c, "Popularity vs Recent 7 d")) and not _clear(ls(roll_c, "Popularity vs Recent 7 d"))
        assert _clear(ls(roll_c, "Decayed 7 d vs Popularity")) and not _clear(ls(loo_c, "Decayed 7 d vs Popularity"))
        assert ls(rnd_c, "Popularity vs Pop as of now")[0] < -ls(rnd_c, "Popularity vs Pop as of now")[1]
        assert not _clear(ls(loo_c, "Popularity vs Pop as of now"))
        lo, hi = records["random_over_loo_ratio"]
        assert 2.0 < lo < 2.5 and 4.3 < hi < 5.0

    # the exercises' worked solutions pass their own checks
    for name in ("window_count", "steady_decay", "decayed_pop_hr", "rolling_hr"):
        assert records[f"exercise:ch04_1_{name}"] is True
