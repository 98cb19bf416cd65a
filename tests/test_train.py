"""Tests of tsrec.train: windows, losses, determinism, early stopping, time budget, checkpoints, bad input."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from tsrec import data, prep
from tsrec import train as T
from tsrec.config import seed_everything
from tsrec.evaluate import eval_queries
from tsrec.models import sequential as S

MONDAY = 1_704_067_200




@pytest.fixture(scope="module")
def split() -> prep.Split:
    return prep.leave_one_out(data.synthetic(n_users=30, n_items=25, events_per_user=15).interactions)


def queries(split: prep.Split):
    return eval_queries(split, "test")[0]


def small(cls: type, split: prep.Split, **kw) -> S.SequentialRecommender:
    if cls is S.TimeSensitiveModel:
        return cls(split.n_items, split.n_users, max_len=10, embedding_dim=8, hidden_dim=8, **kw)
    return cls(split.n_items, max_len=10, hidden=16, **kw)


def test_sequence_dataset_windows_keep_time_order_and_row_order_for_ties():
    df = pd.DataFrame({"user": [1, 1, 1, 1, 2, 3, 3], "item": [4, 2, 3, 1, 5, 6, 7],
                       "timestamp": [30, 10, 10, 40, 5, 1, 2]})
    ds = T.SequenceDataset(df, max_len=2)
    assert ds.users.tolist() == [1, 3]  # user 2 has one event: nothing to predict
    assert ds.items.tolist() == [[3, 4], [0, 6]] and ds.targets.tolist() == [[4, 1], [0, 7]]
    assert ds.times.tolist() == [[10, 30], [0, 1]] and ds.next_times.tolist() == [[30, 40], [0, 2]]


def test_cross_entropy_loss_is_full_softmax_over_real_items():
    torch.manual_seed(0)
    model = S.SASRec(6, max_len=3, hidden=4)
    h = torch.randn(2, 3, 4)
    targets = torch.tensor([[0, 2, 5], [1, 3, 6]])
    got = T.sequence_loss(model, h, targets, "ce", 0, torch.Generator())
    keep = targets > 0
    logits = h[keep] @ model.item_emb.weight[1:].T
    torch.testing.assert_close(got, F.cross_entropy(logits, targets[keep] - 1))


@pytest.mark.parametrize("loss, n_neg", [("bce", 1), ("bce", 3), ("sampled_softmax", 5)])
def test_sampled_losses_train(split, loss, n_neg):
    result = T.train(small(S.SASRec, split), split, epochs=2, loss=loss, n_negatives=n_neg, progress=False)
    assert result.config.loss == loss and np.isfinite(result.history["loss"]).all()


def test_result_history_and_timings(split):
    result = T.train(small(S.GRU4Rec, split), split, epochs=3, eval_every=2, progress=False)
    h = result.history
    assert list(h.columns) == ["epoch", "loss", "NDCG@10", "HR@10", "seconds"] and h["epoch"].tolist() == [1, 2, 3]
    assert math.isnan(h["NDCG@10"][0]) and not h["NDCG@10"][1:].isna().any()  # every 2nd epoch and the last
    assert result.best_metrics["NDCG@10"] == h["NDCG@10"].max() and result.best_epoch in (2, 3)
    assert 0 < result.seconds_per_epoch and 0 < result.seconds_to_best <= result.seconds
    assert result.stopped == "max epochs" and result.config.loss == "ce"


@pytest.mark.parametrize("cls", [S.SASRec, S.TimeSensitiveModel])
def test_same_seed_same_numbers(split, cls):
    runs, scores = [], []
    for _ in range(2):
        seed_everything(3)  # the initial weights come from the global generator too
        model = small(cls, split)
        runs.append(T.train(model, split, epochs=2, seed=3, progress=False))
        scores.append(model.score(queries(split)))
    pd.testing.assert_frame_equal(runs[0].history.drop(columns="seconds"), runs[1].history.drop(columns="seconds"))
    assert runs[0].best_metrics == runs[1].best_metrics
    torch.testing.assert_close(scores[0], scores[1], rtol=0, atol=0)


def test_early_stopping_restores_the_best_epoch(split, monkeypatch):
    ndcg = iter([0.1, 0.3, 0.2, 0.25, 0.05, 0.9])
    snapshots = []

    def fake_evaluate(model, split, stage, **kw):
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        value = next(ndcg)
        return {"NDCG@10": value, "HR@10": 2 * value}

    monkeypatch.setattr(T, "evaluate", fake_evaluate)
    model = small(S.SASRec, split)
    result = T.train(model, split, epochs=6, patience=3, progress=False)
    assert result.stopped == "early stop" and len(result.history) == 5 and result.best_epoch == 2
    assert result.best_metrics == {"NDCG@10": 0.3, "HR@10": 0.6}
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, snapshots[1][k], rtol=0, atol=0)
    assert any(not torch.equal(v, snapshots[-1][k]) for k, v in model.state_dict().items())


def test_time_budget_stops_after_the_running_epoch(split):
    result = T.train(small(S.GRU4Rec, split), split, epochs=50, max_seconds=1e-3, progress=False)
    assert result.stopped == "time budget" and len(result.history) == 1 and result.best_epoch == 1


@pytest.mark.parametrize("cls, kw", [(S.SASRec, {"time_encoding": "time2vec_now"}), (S.TiSASRec, {}),
                                     (S.NextItNet, {"dilations": (1, 2)}), (S.TimeSensitiveModel, {})])
def test_checkpoint_round_trip_scores_identically(split, tmp_path, cls, kw):
    model = small(cls, split, **kw)
    T.train(model, split, epochs=1, progress=False)
    path = T.save_checkpoint(model, tmp_path / "ck" / "model.pt", extra={"note": "test", "valid": 0.5})
    loaded = T.load_checkpoint(path)
    assert type(loaded) is cls and loaded.config == model.config and not loaded.training
    assert loaded.train_config["epochs"] == 1 and loaded.checkpoint_extra == {"note": "test", "valid": 0.5}
    torch.testing.assert_close(model.score(queries(split)), loaded.score(queries(split)), rtol=0, atol=0)


def test_fit_trains_without_validation(split):
    model = small(S.LSTM4Rec, split).fit(split.train, split.n_users, split.n_items, epochs=2)
    assert model.train_config["epochs"] == 2 and model.score(queries(split)).shape == (split.n_users, split.n_items + 1)


def test_bad_input_raises_clear_errors(split, tmp_path):
    model = small(S.SASRec, split)
    with pytest.raises(ValueError, match="empty"):
        T.train(model, split.train.iloc[:0], progress=False)
    with pytest.raises(ValueError, match="n_items"):
        T.train(S.SASRec(split.n_items + 1, max_len=5), split, progress=False)
    with pytest.raises(ValueError, match="n_items"):
        model.fit(split.train, split.n_users, split.n_items + 3)
    with pytest.raises(ValueError, match="item ids"):
        T.train(model, split.train.assign(item=split.train["item"] + 100), progress=False)
    with pytest.raises(ValueError, match="loss"):
        T.train(model, split, loss="hinge", progress=False)
    with pytest.raises(ValueError, match="two or more"):
        T.train(model, split.train.drop_duplicates("user"), progress=False)
    with pytest.raises(ValueError, match="n_users"):
        small(S.TimeSensitiveModel, split).fit(split.train, split.n_users + 1, split.n_items)
    torch.save({"class": "Nope"}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="unknown model class"):
        T.load_checkpoint(tmp_path / "bad.pt")


@pytest.mark.gpu  # skipped without CUDA (conftest)
def test_trains_and_scores_on_cuda(split):
    model = small(S.SASRec, split)
    result = T.train(model, split, epochs=2, device="cuda", progress=False)
    assert next(model.parameters()).is_cuda and result.best_metrics["NDCG@10"] > 0


def test_validation_target_all_scores_every_validation_event_of_a_temporal_split():
    df = data.synthetic(n_users=30, n_items=25, events_per_user=15).interactions
    q = df["timestamp"].quantile([0.7, 0.85]).astype("int64").tolist()
    tsplit = prep.temporal_split(df, test_start=q[1], valid_start=q[0])
    model = small(S.SASRec, tsplit)
    res = T.train(model, tsplit, T.TrainConfig(epochs=1, progress=False, eval_target="all"))
    from tsrec.evaluate import evaluate
    assert res.best_metrics["NDCG@10"] == pytest.approx(evaluate(model, tsplit, "valid", target="all")["NDCG@10"])
    first = evaluate(model, tsplit, "valid", target="first")["NDCG@10"]
    assert len(eval_queries(tsplit, "valid", target="all")[0]) > len(eval_queries(tsplit, "valid")[0])
    assert res.best_metrics["NDCG@10"] != pytest.approx(first)
    with pytest.raises(ValueError, match="eval_target"):
        T.train(small(S.SASRec, tsplit), tsplit, T.TrainConfig(epochs=1, progress=False, eval_target="last"))
