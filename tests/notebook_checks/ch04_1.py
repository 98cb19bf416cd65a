"""Chapter 4.1 (time windows, time-series analysis): values a wrong implementation would not produce."""
from __future__ import annotations

import pytest


def _hr(records, prefix):
    return {k[len(prefix) + 1:-1]: v for k, v in records.items() if k.startswith(prefix + "[")}


def check(records):
    # the popularity anchors of ANCHORS.md (ML-100K, leave-one-out, ties in file-row order, full ranking)
    assert records["pop_valid_hr10"] == pytest.approx(0.0742, abs=5e-4)
    assert records["pop_test_hr10"] == pytest.approx(0.0859, abs=5e-4)
    assert records["pop_test_ndcg10"] == pytest.approx(0.0449, abs=5e-4)

    # windows: Titanic takes the weekly lead in January 1998; a 7 d / 1 d sliding window counts each event ~7 times
    assert records["first_week_titanic_on_top"] == "1998-01-12"
    assert records["weeks_titanic_on_top"] >= 8
    assert 6.8 < records["sliding_rows_per_event"] <= 7.0
    assert records["top20_jaccard_lag1"] > records["top20_jaccard_lag10"] + 0.05
    assert records["decayed_vs_alltime_top10_overlap"] < 10

    # decay: one half-life halves the weight; streaming equals batch
    assert records["decay_weight_one_half_life"] == pytest.approx(0.5, abs=1e-12)
    assert records["stream_vs_batch_max_rel_diff"] < 1e-9

    # time series of latest-small: bursty, and fewer new releases than ML-100K
    assert 0.4 < records["ls_empty_day_share"] < 0.6
    assert records["ls_top1pct_day_share"] > 0.2
    assert records["share_new_releases_ml100k"] > 1.5 * records["share_new_releases_ls"]
    assert records["lifecycle_peak_age"] in (0, 1, 2)
    assert records["lifecycle_age5_over_peak"] < 0.7

    # leave-one-out: popularity counts as of now; time-decayed item-kNN beats plain item-kNN
    loo = _hr(records, "loo_hr10")
    assert loo["Popularity"] == pytest.approx(records["pop_test_hr10"], abs=1e-12)
    assert loo["ItemKNN"] > loo["Popularity"] + 0.01
    assert loo[records["loo_best_knn_decay"]] > loo["ItemKNN"] + 0.015
    assert records["knn_chosen_test_hr10"] > loo["ItemKNN"] + 0.015

    # global temporal split of latest-small: one cut has too few queries; rolling origin has enough, and the
    # rolling code agrees with tsrec.evaluate on a cut; recency beats all-time popularity for returning users
    assert records["single_cut_queries"] < 40
    assert records["rolling_check_equal"] is True
    assert 800 < records["rolling_ls_returning_queries"] < 1000
    roll = _hr(records, "rolling_ls_hr10")
    recency = {k: v for k, v in roll.items() if k.startswith(("Recent", "Decayed"))}
    assert max(recency.values()) > roll["Popularity"] + 0.015
    assert roll["Decayed 30 d"] > 2 * roll["Popularity"]
    assert records["rolling_ls_new_best_hr10"] >= records["rolling_ls_new_hr10[Popularity]"]

    # the leak of leave-one-out, measured
    assert 0.3 < records["loo_future_share_median[ML-100K]"] < 0.5
    assert records["loo_future_share_median[ML latest-small]"] > 0.4
    assert records["loo_target_item_future_share[ML-100K]"] > 0.3

    # protocols: random split inflates; rankings flip between leave-one-out and the global split
    p = lambda col, name: records[f"proto_ml100k[{col}][{name}]"]
    loo_c, roll_c, rnd_c = "leave-one-out", "rolling global (returning)", "random split"
    assert p(loo_c, "Popularity") == pytest.approx(records["pop_test_hr10"], abs=1e-12)
    assert p(rnd_c, "Popularity") > 2 * p(loo_c, "Popularity")
    assert p(rnd_c, "ItemKNN") > 3 * p(loo_c, "ItemKNN")
    assert records["random_own_future_share_ml100k"] > 0.7
    assert p(roll_c, "Recent 7 d") > 1.5 * p(roll_c, "Popularity")
    assert p(loo_c, "ItemKNN decay 1 h") > p(loo_c, "Recent 7 d")
    assert p(roll_c, "ItemKNN decay 1 h") < p(roll_c, "Recent 7 d")
    q = lambda col, name: records[f"proto_ls[{col}][{name}]"]
    assert q(loo_c, "Popularity") > q(loo_c, "Recent 7 d")
    assert q(roll_c, "Popularity") < q(roll_c, "Recent 7 d")
    assert q(rnd_c, "Popularity") > 2 * q(loo_c, "Popularity")
