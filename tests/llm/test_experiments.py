"""Tests of tsrec.llm.experiments: SASRec twins, baselines chosen on validation, paired and grouped contrasts,
and the reader of the benchmark's results file."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthetic_logs import counting_log
from tsrec import splits
from tsrec.llm.experiments import (
    SASREC_VARIANTS,
    benchmark_numbers,
    benchmark_tables,
    earlier_baselines,
    grouped_contrasts,
    paired_difference,
    sasrec_variant,
    seed_comparison,
)
from tsrec.metrics import mean_ci
from tsrec.models.knn import ItemKNN
from tsrec.models.popularity import RecentPopularity
from tsrec.models.sequential import HybridSASRec, SASRec, text_init_table


def test_sasrec_twins_differ_only_in_the_item_table():
    text = np.random.default_rng(0).normal(size=(81, 96)).astype(np.float32)
    a = sasrec_variant("ID-only", 80, text, max_len=8, seed=3)
    b = sasrec_variant("LM-init", 80, text, max_len=8, seed=3)
    assert type(a) is SASRec and type(b) is SASRec
    assert torch.equal(a.pos_emb.weight, b.pos_emb.weight)  # the same seed: the same start everywhere else
    assert torch.allclose(b.item_emb.weight, text_init_table(text, 64))
    assert not torch.allclose(a.item_emb.weight, b.item_emb.weight)
    for v in SASREC_VARIANTS[2:]:
        assert isinstance(sasrec_variant(v, 80, text, max_len=8), HybridSASRec)
    assert sasrec_variant("gated + ID dropout", 80, text, max_len=8, id_dropout=0.4).item_emb.id_dropout == 0.4
    with pytest.raises(ValueError):
        sasrec_variant("GRU", 80, text)


def test_earlier_baselines_are_chosen_on_validation_not_test():
    split = splits.leave_one_out(counting_log(n_users=30, n_items=20, length=8))
    chosen, grid = earlier_baselines(split, knn_half_lives=(60, 3600), windows=(86400, 30 * 86400))
    assert len(chosen) == 2 and grid.shape == (4, 1)
    (knn_name, knn), (pop_name, pop) = chosen.items()
    assert isinstance(knn, ItemKNN) and isinstance(pop, RecentPopularity)
    values = grid.iloc[:, 0]
    best_h = values["item-kNN half-life"].idxmax()
    assert knn_name == f"item-kNN, time-decayed (h = {best_h})" and best_h in ("1 min", "1 h")
    assert pop_name.startswith("recent popularity (") and values["recent-popularity window"].max() >= 0


def _frame(users, ranks):
    return pd.DataFrame({"user": users, "target": np.ones(len(users), int), "rank": ranks})


def test_paired_difference_is_paired_and_clusters_repeated_users():
    a, b = _frame([1, 2, 3, 4], [0, 20, 1, 20]), _frame([1, 2, 3, 4], [0, 0, 1, 20])
    mean, half = paired_difference(a, b)
    assert mean == pytest.approx(0.25) and half == pytest.approx(mean_ci([0, 1, 0, 0])[1])
    rep_a, rep_b = _frame([1, 1, 2, 2, 3, 3], [20] * 6), _frame([1, 1, 2, 2, 3, 3], [0, 0, 20, 20, 0, 20])
    m2, h2 = paired_difference(rep_a, rep_b, k=10)
    assert m2 == pytest.approx(0.5) and h2 > mean_ci([1, 1, 0, 0, 1, 0])[1]  # clustered: wider than naive
    with pytest.raises(ValueError):
        paired_difference(a, _frame([4, 3, 2, 1], [0, 0, 0, 0]))


def test_grouped_contrasts_widen_for_the_family():
    users = np.arange(1, 41)
    runs = {"A": _frame(users, np.where(users % 2 == 0, 20, 0)), "B": _frame(users, np.zeros(40, int))}
    groups = pd.Categorical(np.where(users <= 20, "early", "late"), categories=["late", "early"])
    t = grouped_contrasts(runs, [("B", "A", "B vs A")], groups)
    assert list(t.index.get_level_values("group")) == ["late", "early"]  # the categories' order
    row = t.loc[("B vs A", "early")]
    assert row["n"] == 20 and row["NDCG@10 difference"] == pytest.approx(0.5)
    assert row["± (Bonferroni, 2 contrasts)"] > row["95% ±"] > 0


def test_benchmark_tables_and_numbers(tmp_path):
    md = tmp_path / "r.md"
    md.write_text("# t\n\n## D. Hybrid\n\n| variant | NDCG@10 | Δ |\n|---|---|---|\n| ID-only | 0.0832 ± 0.0093 | – |\n"
                  "| LM-init | 0.0964 | +0.0131 ± 0.0127 / ± 0.0076 |\n\n| a | b |\n|---|---|\n| x | 1,682 |\n"
                  "## E. Cold\n\n| m | v |\n|---|---|\n| y | −0.5 |\n", encoding="utf-8")
    d = benchmark_tables("D", md)
    assert len(d) == 2 and d[0].loc["LM-init", "NDCG@10"] == "0.0964" and d[1].loc["x", "b"] == "1,682"
    assert benchmark_numbers(d[0].loc["LM-init", "Δ"]) == [0.0131, 0.0127, 0.0076]
    assert benchmark_numbers(benchmark_tables("E", md)[0].loc["y", "v"]) == [-0.5]
    assert benchmark_numbers("1,682") == [1682.0]
    with pytest.raises(KeyError):
        benchmark_tables("Z", md)


def test_the_real_benchmark_file_has_the_tables_the_chapters_quote():
    d, f = benchmark_tables("D")[0], benchmark_tables("F")[0]
    assert {"ID-only", "LM-init", "gated text+ID"} <= set(d.index) and "NDCG@10" in d.columns
    assert "GPT-2 + time-gap tokens" in f.index
    assert len(benchmark_tables("G")) == 2


def test_seed_comparison_rows_and_a_deterministic_baseline():
    users = np.arange(1, 31)
    counts = np.full(2, 50)
    ref = [_frame(users, np.where(users % 3 == 0, 0, 20)), _frame(users, np.where(users % 2 == 0, 0, 20))]
    better = [_frame(users, np.zeros(30, int)), _frame(users, np.where(users % 5 == 0, 20, 0))]
    fixed = [_frame(users, np.where(users <= 15, 0, 20))]
    t = seed_comparison({"ref": ref, "better": better, "fixed": fixed}, "ref", counts)
    assert list(t.index) == ["ref", "better", "fixed"] and t.loc["fixed", "seeds"] == 1
    assert t.loc["fixed", "NDCG@10 ± (seeds)"] == 0.0 and t.loc["ref", "NDCG@10 ± (seeds)"] > 0
    assert t.loc["better", "Δ vs ref"] == pytest.approx((1.0 + 0.8) / 2 - (10 / 30 + 15 / 30) / 2)
    assert t.loc["better", "Δ ± (users)"] > 0 and np.isnan(t.loc["ref", "Δ vs ref"])
    one = seed_comparison({"ref": ref[:1], "better": better[:1]}, "ref", counts)
    assert np.isnan(one.loc["ref", "NDCG@10 ± (seeds)"])  # one seed: no interval over seeds
