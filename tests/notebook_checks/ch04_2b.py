"""Chapter 4.2b (how an LLM sees time; LLM-based sequence models): values a wrong implementation would not produce."""
from __future__ import annotations

import datetime as dt

import pytest
from scipy import stats

PROBES = {"weekday": 1 / 7, "weekday after a gap": 1 / 7, "later date": 1 / 2, "season": 1 / 4,
          "days between": 1 / 4, "movie order (titles)": 1 / 2, "movie order (with years)": 1 / 2}
TWO_WAY = ("later date", "movie order (titles)", "movie order (with years)")


def check(records):
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
    assert len(sizes) == 1 and (sizes.pop() == 8 if smoke else records["probe_n[weekday]"] >= 30)
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

    # sequence models: popularity is the ANCHORS figure; trained models beat it
    assert records["pop_test_hr10"] == pytest.approx(0.0859, abs=5e-4)
    pop = records["seq[Popularity][NDCG@10]"]
    assert records["seq[SASRec][NDCG@10]"] > pop + (0.005 if smoke else 0.02)
    assert records["seq[GPT-2 (items)][NDCG@10]"] > pop
    best = records["best_trained"]
    assert records[f"seq[{best}][NDCG@10]"] > pop + (0.01 if smoke else 0.025)
    gain = records["paired_ndcg[SASRec vs popularity]"]
    assert gain > (0 if smoke else records["paired_ndcg_ci[SASRec vs popularity]"])
    for name in ("SASRec", "GPT-2 (items)", "GPT-2 (items + gap tokens)", "SASRec + log-interval"):
        assert 0 < records[f"seq[{name}][NDCG@10 ±]"] < 0.05
    # ML-100K: many test events share the second of the user's last known event
    assert 0.2 < records["test_gap_share_same_second"] < 0.7
