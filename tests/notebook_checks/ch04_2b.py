"""Chapter 4.2b (how an LLM sees time; LLM-based sequence models): values a wrong implementation would not produce."""
from __future__ import annotations

import datetime as dt

import pytest
from scipy import stats

PROBES = {"weekday": 1 / 7, "weekday after a gap": 1 / 7, "later date": 1 / 2, "season": 1 / 4,
          "days between": 1 / 4, "movie order (titles)": 1 / 2, "movie order (with years)": 1 / 2}
TWO_WAY = ("later date", "movie order (titles)", "movie order (with years)")


def check(records: dict) -> None:
    smoke = records["smoke"]

    # SmolLM2 gives every digit its own token; words stay whole; time in a prompt costs tokens
    assert records["tokens_smollm[1997-12-21 21:10]"] == 16
    assert records["tokens_smollm[881250949]"] == 9
    assert records["tokens_smollm[2 days after the previous]"] == 5
    pt = records["prompt_tokens"]
    assert pt["titles only"] < pt["weekday + time + gap"] < pt["with the date"]
    assert 5 < records["time_tokens_per_event"] < 25

    # gaps: ML-100K is rated in bursts, latest-small spreads over days and years
    assert records["gap_share_same_second[ML-100K]"] > records["gap_share_same_second[ML latest-small]"]
    assert records["gap_share_over_1_day[ML latest-small]"] > records["gap_share_over_1_day[ML-100K]"]
    assert records["log_bucket_of_one_day"] == 16

    # probe sets: sizes, chance levels, intervals and p-values computed right; balanced two-way probes
    sizes = {records[f"probe_n[{p}]"] for p in PROBES}
    assert len(sizes) == 1 and (sizes.pop() == 3 if smoke else records["probe_n[weekday]"] >= 30)
    n = records["probe_n[weekday]"]
    for p, chance in PROBES.items():
        assert records[f"probe_chance[{p}]"] == pytest.approx(chance, abs=1e-12)
        acc, lo, hi = records[f"probe_acc[{p}]"], records[f"probe_lo[{p}]"], records[f"probe_hi[{p}]"]
        assert 0 <= lo <= acc <= hi <= 1 and hi - lo > 0.05
        k = round(acc * n)
        assert records[f"probe_p[{p}]"] == pytest.approx(stats.binomtest(k, n, chance, alternative="greater").pvalue)
        assert chance - 1e-9 <= records[f"probe_top_share[{p}]"] <= 1  # the most frequent answer's share
        assert 0 <= records[f"probe_acc_cal[{p}]"] <= 1
    for p in TWO_WAY:  # random order, so about half (8 smoke questions are too few to tell)
        assert 0 <= records[f"probe_answer_first_share[{p}]"] <= 1
        if not smoke:
            assert 0.3 <= records[f"probe_answer_first_share[{p}]"] <= 0.7
    # the weekday answer key agrees with an independent calendar computation
    dates, answers = records["weekday_probe_dates"], records["weekday_probe_answers"]
    assert len(dates) == n and len(set(dates)) == n
    assert all(dt.date.fromisoformat(d).strftime("%A") == a for d, a in zip(dates, answers))
    assert all("1996-01-01" <= d <= "2016-12-31" for d in dates)

    # the sentence encoder: accuracies are shares of 8 months / 7 weekday names
    assert records["enc_month_season_acc"] * 8 == pytest.approx(round(records["enc_month_season_acc"] * 8))
    assert records["enc_weekend_acc"] * 7 == pytest.approx(round(records["enc_weekend_acc"] * 7))
    assert records["enc_year_distance_spearman"] < 0  # nearer years, more similar strings

    # how loud Time2Vec starts next to the item embedding: as built about as loud, raw log-seconds much louder
    assert records["log1p_year"] == pytest.approx(17.27, abs=0.01)
    assert 0.5 < records["t2v_loudness_built"] < 1.5 and records["t2v_loudness_raw"] > 2 * records["t2v_loudness_built"]

    # sequence models: popularity is chapter 1's anchor; trained models beat it; the earlier baselines are in
    pop = records["seq[Popularity][NDCG@10]"]
    knn = records["knn_name"]
    best = records["best_trained"]
    sizes = records["test_gap_n"]
    assert knn.startswith("item-kNN, time-decayed (h = ") and f"seq[{best}][NDCG@10]" in records
    for name in ("SASRec", "GPT-2 (items)", "GPT-2 (items + gap tokens)", "SASRec + log-interval"):
        assert 0 < records[f"seq[{name}][NDCG@10 ±]"] < (0.2 if smoke else 0.05)
    if not smoke:  # the smoke run sees 120 users for two epochs; the full split's anchors are fixed
        assert records["pop_test_hr10"] == pytest.approx(0.0859, abs=5e-4)
        assert knn == "item-kNN, time-decayed (h = 10 s)"
        assert records[f"seq[{knn}][NDCG@10]"] == pytest.approx(0.1074, abs=5e-4)
        assert records["seq[recent popularity (30 d window)][NDCG@10]"] == pytest.approx(0.0468, abs=5e-4)
        assert records["seq[SASRec][NDCG@10]"] > pop + 0.02
        assert records["seq[GPT-2 (items)][NDCG@10]"] > pop
        assert records[f"seq[{best}][NDCG@10]"] > pop + 0.025
        assert records["paired_ndcg[SASRec vs popularity]"] > records["paired_ndcg_ci[SASRec vs popularity]"]
        # ML-100K: many test events share the second of the user's last known event
        assert 0.2 < records["test_gap_share_same_second"] < 0.7
        assert sum(sizes.values()) == 943
    # the gap-group contrasts: the Bonferroni interval is the wider one; the family is contrasts x groups
    family = records["gap_family_size"]
    assert family == (8 if smoke else 12)
    for key, half in records.items():
        if key.startswith("gap_paired_ci[") and half == half and half is not None:
            wide = records[key.replace("gap_paired_ci[", "gap_paired_ci_bonferroni[")]
            assert wide > half > 0 or wide == half == 0

    if not smoke:  # the numbers the prose quotes, at their printed rounding, and the relations it states
        def near(key, value, places=4):
            assert records[key] == pytest.approx(value, abs=0.6 * 10 ** -places), key

        # 4.2.1: prompt tokens, gap shares, loudness of Time2Vec (as built about as loud as items, raw ~4x)
        assert records["time_tokens_per_event"] == pytest.approx(15.4, abs=0.05)
        assert (pt["with the date"] - pt["titles only"]) / 8 == pytest.approx(26.4, abs=0.05)
        assert (pt["with the date"] - pt["titles only"]) > pt["titles only"]  # "with the date more than the title"
        near("gap_share_same_second[ML-100K]", 0.51, 2)
        near("gap_share_same_second[ML latest-small]", 0.22, 2)
        near("gap_share_over_1_day[ML-100K]", 0.013, 3)
        near("gap_share_over_1_day[ML latest-small]", 0.045, 3)
        assert records["gap_share_over_1_day[ML latest-small]"] > 3 * records["gap_share_over_1_day[ML-100K]"]
        assert records["log1p_year"] == pytest.approx(17, abs=0.5)
        near("t2v_loudness_built", 0.76, 2)
        near("t2v_loudness_raw", 3.95, 2)

        # 4.2.2: the probe table as the prose reads it
        widths = [records[f"probe_hi[{p}]"] - records[f"probe_lo[{p}]"] for p in PROBES]
        assert round(min(widths), 2) == 0.14 and round(max(widths), 2) == 0.26
        near("probe_acc[later date]", 0.78, 2)
        near("probe_lo[later date]", 0.65, 2)
        near("probe_hi[later date]", 0.87, 2)
        assert records["probe_lo[later date]"] > 0.5  # "right"
        near("probe_acc[weekday]", 0.12, 2)
        near("probe_top_share[weekday]", 0.96, 2)
        near("probe_acc_cal[weekday]", 0.06, 2)
        assert records["probe_lo[weekday]"] < 1 / 7 < records["probe_hi[weekday]"]  # "at chance"
        near("probe_acc[weekday after a gap]", 0.28, 2)
        near("probe_lo[weekday after a gap]", 0.17, 2)
        near("probe_hi[weekday after a gap]", 0.42, 2)
        assert records["probe_lo[weekday after a gap]"] > 1 / 7 and records["probe_top_share[weekday after a gap]"] > 0.5
        near("probe_acc[season]", 0.34, 2)
        near("probe_lo[season]", 0.22, 2)
        near("probe_hi[season]", 0.48, 2)
        near("probe_p[season]", 0.1, 1)
        assert records["probe_lo[season]"] < 0.25  # "not distinguishable from chance as asked"
        near("probe_acc_cal[season]", 0.64, 2)
        near("probe_acc[days between]", 0.06, 2)
        near("probe_lo[days between]", 0.02, 2)
        near("probe_hi[days between]", 0.16, 2)
        assert records["probe_hi[days between]"] < 0.25  # "below chance"
        for p in ("movie order (titles)", "movie order (with years)"):
            assert records[f"probe_top_share[{p}]"] == 1.0  # "No" to every question
            near(f"probe_acc[{p}]", 0.40, 2)
            assert records[f"probe_lo[{p}]"] < 0.5 < records[f"probe_hi[{p}]"]  # "at chance"
        near("probe_acc_cal[movie order (titles)]", 0.52, 2)
        near("probe_acc_cal[movie order (with years)]", 0.42, 2)
        # the sentence encoder: 5 of 8 months (above chance at 5%), 5 of 7 weekday names (no evidence)
        assert round(records["enc_month_season_acc"] * 8) == 5 and round(records["enc_weekend_acc"] * 7) == 5
        assert stats.binomtest(5, 8, 1 / 4, alternative="greater").pvalue < 0.05
        assert stats.binomtest(5, 7, 1 / 2, alternative="greater").pvalue > 0.05
        near("enc_year_distance_spearman", -0.725, 3)

        # 4.2.3: the model table
        def seq(model, metric="NDCG@10"):
            return records[f"seq[{model}][{metric}]"]

        def paired(label):
            return records[f"paired_ndcg[{label}]"], records[f"paired_ndcg_ci[{label}]"]

        assert sizes == {"same second": 415, "< 1 h": 465, "1 h - 1 day": 12, "> 1 day": 51}
        near("test_gap_share_same_second", 0.44, 2)
        trained = [k[4:-10] for k in records if k.startswith("seq[") and k.endswith("][NDCG@10]")
                   and not k.startswith(("seq[Popularity", "seq[item-kNN", "seq[recent"))]
        assert len(trained) == 7
        halves = [seq(m, "NDCG@10 ±") for m in [*trained, "Popularity", knn, "recent popularity (30 d window)"]]
        assert round(min(halves), 3) == 0.010 and round(max(halves), 3) == 0.016  # "±0.010–0.016"
        for m, v, h in [("Popularity", 0.0449, 0.0105), ("recent popularity (30 d window)", 0.0468, 0.0108),
                        (knn, 0.1074, 0.0159), ("GPT-2 (items)", 0.0761, 0.0132),
                        ("GPT-2 (items + gap tokens)", 0.0746, 0.0131), ("SASRec", 0.0911, 0.0138),
                        ("SASRec + text + log-interval", 0.0998, 0.0144), ("SASRec + text", 0.1086, 0.0150)]:
            near(f"seq[{m}][NDCG@10]", v)
            near(f"seq[{m}][NDCG@10 ±]", h)
        near("seq[SASRec + text][HR@10]", 0.2142)
        for m, c in [("SASRec + text", 0.428), ("SASRec", 0.375), (knn, 0.463)]:
            near(f"seq[{m}][coverage@10]", c, 3)
        # every trained model's interval lies above both popularity intervals (so its paired one excludes zero)
        weakest = min(trained, key=seq)
        assert weakest == "GPT-2 (items + gap tokens)"
        pop_top = max(seq(m) + seq(m, "NDCG@10 ±") for m in ("Popularity", "recent popularity (30 d window)"))
        assert all(seq(m) - seq(m, "NDCG@10 ±") > pop_top for m in trained)
        # best trained model by NDCG@10 and HR@10
        assert best == "SASRec + text" and max(trained, key=lambda m: seq(m, "HR@10")) == best
        assert seq(best, "coverage@10") > seq("SASRec", "coverage@10") and seq(knn, "coverage@10") > seq(best, "coverage@10")
        # the kNN: the best trained model level with it, both GPT-2 below its interval, the SASRec family unresolved
        for g in ("GPT-2 (items)", "GPT-2 (items + gap tokens)"):
            assert seq(g) + seq(g, "NDCG@10 ±") < seq(knn) - seq(knn, "NDCG@10 ±"), g
        rest = ["SASRec", "SASRec + log-interval", "SASRec + Time2Vec (to now)", "SASRec + text + log-interval"]
        for m in rest:
            assert seq(m) < seq(knn) and seq(m) + seq(m, "NDCG@10 ±") > seq(knn) - seq(knn, "NDCG@10 ±"), m
        assert round(min(map(seq, rest)), 4) == 0.0911 and round(max(map(seq, rest)), 4) == 0.0998

        # the paired contrasts: quoted values and which intervals exclude zero
        quoted = {"gap tokens (generative)": (-0.0016, 0.0117), "log-interval encoding": (0.0034, 0.0092),
                  "Time2Vec to the request": (0.0085, 0.0122), "LM text of the items": (0.0176, 0.0119),
                  "log-interval, on top of text": (-0.0088, 0.0094), "SASRec vs GPT-2": (0.0149, 0.0140),
                  "SASRec vs popularity": (0.0462, 0.0168), "SASRec + text vs time-decayed item-kNN": (0.0012, 0.0178)}
        for label, (v, h) in quoted.items():
            near(f"paired_ndcg[{label}]", v)
            near(f"paired_ndcg_ci[{label}]", h)
        for label in ("gap tokens (generative)", "log-interval encoding", "Time2Vec to the request",
                      "log-interval, on top of text", "SASRec + text vs time-decayed item-kNN"):
            d, half = paired(label)
            assert abs(d) < half, label  # "inside their intervals", "level"
        for label in ("LM text of the items", "SASRec vs GPT-2", "SASRec vs popularity"):
            d, half = paired(label)
            assert d > half, label  # "beats", "helps", "beyond its interval"
        d, half = paired("SASRec vs GPT-2")
        assert d - half < 0.002  # "only just excludes zero"

        # the exploratory subgroup: reported with its Bonferroni interval, which only just excludes zero
        for key, v in [("gap_paired[gap tokens][> 1 day]", 0.1077), ("gap_paired_ci[gap tokens][> 1 day]", 0.0685),
                       ("gap_paired_ci_bonferroni[gap tokens][> 1 day]", 0.1023),
                       ("gap_paired[log-interval][> 1 day]", 0.0053), ("gap_paired_ci[log-interval][> 1 day]", 0.0280),
                       ("gap_paired[Time2Vec to now][> 1 day]", 0.0305),
                       ("gap_paired_ci[Time2Vec to now][> 1 day]", 0.0531),
                       ("gap_paired[Time2Vec to now][1 h - 1 day]", 0.1776),
                       ("gap_paired_ci[Time2Vec to now][1 h - 1 day]", 0.1708),
                       ("gap_paired_ci_bonferroni[Time2Vec to now][1 h - 1 day]", 0.2795)]:
            near(key, v)
        d, wide = records["gap_paired[gap tokens][> 1 day]"], records["gap_paired_ci_bonferroni[gap tokens][> 1 day]"]
        assert 0 < d - wide < 0.01  # "only just excludes zero"
        cells = {(c, g) for c in ("gap tokens", "log-interval", "Time2Vec to now")
                 for g in ("same second", "< 1 h", "1 h - 1 day", "> 1 day")}
        beyond = {(c, g) for c, g in cells if abs(records[f"gap_paired[{c}][{g}]"]) > records[f"gap_paired_ci[{c}][{g}]"]}
        assert beyond == {("gap tokens", "> 1 day"), ("Time2Vec to now", "1 h - 1 day")}  # "the only other cell"
        t2v = "Time2Vec to now"
        assert abs(records[f"gap_paired[{t2v}][1 h - 1 day]"]) < records[f"gap_paired_ci_bonferroni[{t2v}][1 h - 1 day]"]
        assert records[f"gap_paired[{t2v}][> 1 day]"] > 0  # "points the same way"
        assert sizes["same second"] + sizes["< 1 h"] == 880

    # the worked solutions of the exercises pass their checks
    for ex in ("token_count", "gap_bucket", "log_bucket", "first_weekday", "guess_pvalue", "long_gap_share"):
        assert records[f"exercise:ch04_2b_{ex}"] is True
