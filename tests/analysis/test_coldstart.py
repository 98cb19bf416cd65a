"""Tests of tsrec.analysis.coldstart: held-out (cold) items, the random baseline, and the cold-start report."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synthetic_logs import family_log
from tsrec import splits
from tsrec.analysis import cold_start_report, hold_out_items, item_counts, random_hit_rate
from tsrec.evaluate import eval_queries
from tsrec.models.sequential import HybridSASRec
from tsrec.training import train


@pytest.fixture(scope="module")
def family():
    log, text, cold = family_log()
    split = splits.leave_one_out(log)
    return split, text, cold


def small_model(fusion: str, text: np.ndarray, n_items: int) -> HybridSASRec:
    torch.manual_seed(0)
    return HybridSASRec(n_items, text_dim=text.shape[1], fusion=fusion, max_len=12, hidden=16, n_heads=2, text=text)


def test_held_out_items_never_appear_in_training(family):
    split, _, cold = family
    held, picked = hold_out_items(split, frac=0.2, seed=3)
    assert len(picked) == round(0.2 * split.n_items)
    assert not held.train["item"].isin(picked).any()
    assert held.test.equals(split.test) and held.valid.equals(split.valid)
    assert held.info["cold_train_events_removed"] == int(split.train["item"].isin(picked).sum())
    given, ids = hold_out_items(split, items=cold)
    assert np.array_equal(ids, cold) and not given.train["item"].isin(cold).any()
    uniform, _ = hold_out_items(split, frac=0.2, weighting="uniform", seed=3)
    assert uniform.n_items == split.n_items
    with pytest.raises(ValueError):
        hold_out_items(split, items=[split.n_items + 5])
    with pytest.raises(ValueError, match="frac"):
        hold_out_items(split, frac=1.0)
    with pytest.raises(ValueError, match="weighting"):
        hold_out_items(split, weighting="recent")


def test_random_hit_rate_matches_a_direct_count(family):
    split, _, _ = family
    q, _ = eval_queries(split, "test")
    expected = np.mean([min(1.0, 10 / (split.n_items - len(set(h.tolist())))) for h in q.items])
    assert random_hit_rate(split, "test", 10) == pytest.approx(expected)
    few = q.users[:5]
    assert random_hit_rate(split, "test", 10, users=few) == pytest.approx(
        np.mean([min(1.0, 10 / (split.n_items - len(set(h.tolist())))) for h in q.items[:5]]))


def test_item_counts():
    import pandas as pd

    counts = item_counts(pd.DataFrame({"item": [3, 1, 3, 3]}), 4)
    assert counts.tolist() == [0, 1, 0, 3, 0]


def test_zero_shot_cold_items_beat_random_on_a_planted_toy(family):
    split, text, cold = family
    held, _ = hold_out_items(split, items=cold)
    m = small_model("text_only", text, split.n_items).mark_cold(cold)
    train(m, held, epochs=15, patience=15, progress=False)
    rep = cold_start_report(m, held, cold, k=5)
    assert rep["n_cold_queries"] == split.test["item"].isin(cold).sum() > 50
    assert rep["n_cold_queries"] + rep["n_warm_queries"] == len(split.test)
    assert np.isfinite(rep["cold_HR@5"]) and rep["cold_HR@5"] > 3 * rep["random_HR@5"]
    assert rep["cold_AUC"] > 0.8 and rep["cold_HR@5_ci"] > 0
    q, _ = eval_queries(held, "test")
    assert torch.isfinite(m.score(q[:10])[:, cold]).all()
    twin = small_model("id", text, split.n_items).mark_cold(cold)
    train(twin, held, epochs=15, patience=15, progress=False)
    assert rep["cold_HR@5"] > cold_start_report(twin, held, cold, k=5)["cold_HR@5"] + 0.2
