"""Tests of tsrec.training.loop and ``train``: epochs, validation, early stopping, budgets, seeds, bad input.

Timings are read from a fake clock, never from the wall: no test here depends on how fast the machine is.
"""
from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tsrec import data, splits
from tsrec.config import seed_everything
from tsrec.evaluate import eval_queries, evaluate
from tsrec.models import sequential as S
from tsrec.training import TrainConfig, Trained, loop, optimizer_step, train

from .helpers import queries, small


class Scalar(nn.Module):
    """One parameter w; the loss of a batch b is b * (w - 3)^2."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))


class FakeClock:
    """Stands in for the ``time`` module of the loop: the clock moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


def _cfg(**kw) -> TrainConfig:
    base = dict(epochs=3, batch_size=1, lr=0.1, optimizer="sgd", eval_every=1, patience=10, min_delta=0.0,
                metric="score", mode="max", progress=False, device="cpu")
    return TrainConfig(**{**base, **kw})


def test_run_takes_one_step_per_batch_and_reports_the_weighted_mean_loss():
    model = Scalar()
    weights = [1.0, 3.0]

    def batch_loss(b: float):
        return b * (model.w - 3) ** 2, b

    result = loop.run(model, lambda: weights, batch_loss, _cfg(epochs=2))
    # plain SGD by hand: w <- w - lr * 2 b (w - 3), one step per batch
    w, means = 0.0, []
    for _ in range(2):
        total = 0.0
        for b in weights:
            total += b * (w - 3) ** 2 * b
            w -= 0.1 * 2 * b * (w - 3)
        means.append(total / sum(weights))
    assert result.history["loss"].tolist() == pytest.approx(means)
    assert float(model.w.detach()) == pytest.approx(w) and result.stopped == "max epochs" and result.best_epoch == 2
    assert not model.training and model.train_config["epochs"] == 2 and model.train_config["optimizer"] == "sgd"


def test_prepare_replaces_the_optimizer_and_the_batches_before_the_first_epoch():
    model, seen = Scalar(), {}

    def prepare(module, optimizer):  # what Opacus' make_private does: wrap both, hand them back
        seen.update(module=module, built=optimizer)
        return torch.optim.SGD(module.parameters(), lr=0.05), lambda: [2.0]

    def batch_loss(b: float):
        return b * (model.w - 3) ** 2, b

    result = loop.run(model, lambda: [100.0, 100.0], batch_loss, _cfg(epochs=2), prepare=prepare)
    assert seen["module"] is model and isinstance(seen["built"], torch.optim.SGD)
    w = 0.0
    for _ in range(2):  # one batch of 2.0 per epoch at the prepared rate, never the original batches
        w -= 0.05 * 2 * 2.0 * (w - 3)
    assert float(model.w.detach()) == pytest.approx(w) and len(result.history) == 2


def test_timings_come_from_the_clock_with_and_without_evaluation(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(loop, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    model = Scalar()

    def batch_loss(_b):
        clock.now += 10.0  # every batch "takes" 10 s
        return (model.w - 3) ** 2, 1.0

    scores = iter([0.5, 0.9, 0.7])

    def validate(_m):
        clock.now += 1.0  # and every validation 1 s
        return {"score": next(scores)}

    result = loop.run(model, lambda: [0, 1], batch_loss, _cfg(epochs=3), validate, columns=("score",))
    assert result.seconds_per_epoch == 20.0  # training only
    assert result.history["seconds"].tolist() == [21.0, 42.0, 63.0]  # since the start, validation included
    assert result.best_epoch == 2 and result.seconds_to_best == 42.0 and result.seconds == 63.0
    assert result.history["score"].tolist() == [0.5, 0.9, 0.7] and result.best_metrics == {"score": 0.9}


def test_time_budget_stops_after_the_running_epoch(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(loop, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    model = Scalar()

    def batch_loss(_b):
        clock.now += 10.0
        return (model.w - 3) ** 2, 1.0

    validated = []
    result = loop.run(model, lambda: [0], batch_loss, _cfg(epochs=50, eval_every=100, max_seconds=25.0),
                      lambda m: validated.append(1) or {"score": 0.0}, columns=("score",))
    # 10 s an epoch: after epoch 3 the 25 s are spent; that epoch is validated (out of turn) and the run stops
    assert result.stopped == "time budget" and len(result.history) == 3 and len(validated) == 1
    assert math.isnan(result.history["score"][0]) and result.history["score"][2] == 0.0


def test_early_stopping_restores_the_best_epoch(split):
    values = iter([0.1, 0.3, 0.2, 0.25, 0.05, 0.9])
    snapshots = []

    def fake_validate(model):
        snapshots.append({k: v.clone() for k, v in model.state_dict().items()})
        value = next(values)
        return {"NDCG@10": value, "HR@10": 2 * value}

    model = small(S.SASRec, split)
    result = train(model, split, epochs=6, patience=3, progress=False, validate=fake_validate)
    assert result.stopped == "early stop" and len(result.history) == 5 and result.best_epoch == 2
    assert result.best_metrics == {"NDCG@10": 0.3, "HR@10": 0.6}
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, snapshots[1][k], rtol=0, atol=0)
    assert any(not torch.equal(v, snapshots[-1][k]) for k, v in model.state_dict().items())


def test_min_delta_and_mode_min():
    model = Scalar()
    values = iter([1.0, 0.95, 0.5, 0.49])
    result = loop.run(model, lambda: [0], lambda b: ((model.w - 3) ** 2, 1.0),
                      _cfg(epochs=4, metric="RMSE", mode="min", min_delta=0.1), lambda m: {"RMSE": next(values)},
                      columns=("RMSE",))
    # 0.95 and 0.49 improve by less than min_delta: the best stays at epochs 1 and then 3
    assert result.best_epoch == 3 and result.best_metrics == {"RMSE": 0.5}


def test_result_history_of_a_sequence_model(split):
    result = train(small(S.GRU4Rec, split), split, epochs=3, eval_every=2, progress=False)
    h = result.history
    assert list(h.columns) == ["epoch", "loss", "NDCG@10", "HR@10", "seconds"] and h["epoch"].tolist() == [1, 2, 3]
    assert math.isnan(h["NDCG@10"][0]) and not h["NDCG@10"][1:].isna().any()  # every 2nd epoch and the last
    assert result.best_metrics["NDCG@10"] == h["NDCG@10"].max() and result.best_epoch in (2, 3)
    assert result.stopped == "max epochs" and result.config.loss == "ce" and np.isfinite(h["loss"]).all()
    assert result.config.epochs == 3 and result.config.batch_size == 32  # the family's defaults fill the rest


@pytest.mark.parametrize("cls", [S.SASRec, S.TimeSensitiveModel])
def test_same_seed_same_numbers(split, cls):
    runs, scores = [], []
    for _ in range(2):
        seed_everything(3)  # the initial weights come from the global generator too
        model = small(cls, split)
        runs.append(train(model, split, epochs=2, seed=3, progress=False))
        scores.append(model.score(queries(split)))
    pd.testing.assert_frame_equal(runs[0].history.drop(columns="seconds"), runs[1].history.drop(columns="seconds"))
    assert runs[0].best_metrics == runs[1].best_metrics
    torch.testing.assert_close(scores[0], scores[1], rtol=0, atol=0)


def test_trained_makes_a_torch_model_a_recommender(split):
    rec = Trained(lambda n_users, n_items: small(S.LSTM4Rec, split), epochs=2)
    with pytest.raises(RuntimeError, match="not fitted"):
        rec.score(queries(split))
    assert rec.fit(split.train, split.n_users, split.n_items) is rec
    assert rec.model.train_config["epochs"] == 2 and rec.result.best_metrics == {}  # no validation data
    assert rec.score(queries(split)).shape == (split.n_users, split.n_items + 1) and rec.name == "LSTM4Rec"
    assert rec.n_items == split.n_items and "LSTM4Rec" in repr(rec)
    built = Trained(lambda n_users, n_items: S.LSTM4Rec(n_items, max_len=10, hidden=16), epochs=1)
    assert built.fit(split.train, split.n_users, split.n_items + 3).model.n_items == split.n_items + 3
    with pytest.raises(ValueError, match="item ids must lie in 1..22"):  # n_items must cover the log's ids
        built.fit(split.train, split.n_users, split.n_items - 3)


def test_train_config_checks_and_defaults():
    cfg = TrainConfig(epochs=5).resolved({"epochs": 9, "lr": 0.5, "batch_size": 4})
    assert (cfg.epochs, cfg.lr, cfg.batch_size) == (5, 0.5, 4)  # given settings win over the defaults
    with pytest.raises(ValueError, match="unknown training setting"):
        TrainConfig().resolved({"learning_rate": 1.0})
    good = _cfg()
    good.check()
    for bad, message in [({"epochs": 0}, "epochs"), ({"batch_size": 2.5}, "batch_size"), ({"lr": 0}, "lr"),
                         ({"optimizer": "lion"}, "optimizer"), ({"mode": "best"}, "mode"),
                         ({"max_seconds": -1.0}, "max_seconds"), ({"eval_target": "last"}, "eval_target"),
                         ({"patience": True}, "patience")]:
        with pytest.raises(ValueError, match=message):
            _cfg(**bad).check()


def test_optimizer_step_clips_the_gradient():
    model = Scalar()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    optimizer_step(model, opt, 100 * (model.w - 3) ** 2, grad_clip=0.5)  # gradient -600, clipped to norm 0.5
    assert float(model.w.detach()) == pytest.approx(0.5)
    optimizer_step(model, opt, (model.w - 3) ** 2)  # unclipped: w - 2 (w - 3)
    assert float(model.w.detach()) == pytest.approx(0.5 + 5.0)


def test_bad_input_raises_clear_errors(split):
    model = small(S.SASRec, split)
    with pytest.raises(ValueError, match="empty"):
        train(model, split.train.iloc[:0], progress=False)
    with pytest.raises(ValueError, match="n_items"):
        train(S.SASRec(split.n_items + 1, max_len=5), split, progress=False)
    with pytest.raises(ValueError, match="item ids"):
        train(model, split.train.assign(item=split.train["item"] + 100), progress=False)
    with pytest.raises(ValueError, match="loss"):
        train(model, split, loss="hinge", progress=False)
    with pytest.raises(ValueError, match="two or more"):
        train(model, split.train.drop_duplicates("user"), progress=False)
    with pytest.raises(ValueError, match="user ids"):
        train(small(S.TimeSensitiveModel, split), split.train.assign(user=split.train["user"] + 1000),
              progress=False)
    with pytest.raises(data.DataError, match="timestamp"):
        train(model, split.train.drop(columns="timestamp"), progress=False)
    with pytest.raises(ValueError, match="no recipe"):
        train(nn.Linear(2, 2), split.train, progress=False)


def test_amp_changes_nothing_on_the_cpu(split):
    """bfloat16 autocast is for CUDA only: on the CPU ``amp=True`` trains exactly as ``amp=False``."""
    assert isinstance(loop.autocast(torch.device("cpu"), True), type(loop.autocast(torch.device("cpu"), False)))
    runs = []
    for amp in (False, True):
        seed_everything(0)
        model = small(S.SASRec, split)
        res = train(model, split, TrainConfig(epochs=2, progress=False, amp=amp, device="cpu"))
        runs.append((res.history["loss"].tolist(), res.best_metrics["NDCG@10"], model.train_config["amp"]))
    assert runs[0][:2] == runs[1][:2] and (runs[0][2], runs[1][2]) == (False, True)


@pytest.mark.gpu  # skipped without CUDA (conftest); gpu_device is "cuda" unless gpu_check.sh --dry-run says "cpu"
def test_trains_and_scores_on_cuda(split, gpu_device):
    model = small(S.SASRec, split)
    result = train(model, split, epochs=2, device=gpu_device, progress=False)
    assert next(model.parameters()).device.type == gpu_device and result.best_metrics["NDCG@10"] > 0


def test_validation_target_all_scores_every_validation_event_of_a_temporal_split():
    df = data.synthetic(n_users=30, n_items=25, events_per_user=15).interactions
    q = df["timestamp"].quantile([0.7, 0.85]).astype("int64").tolist()
    tsplit = splits.temporal_split(df, test_start=q[1], valid_start=q[0])
    model = small(S.SASRec, tsplit)
    res = train(model, tsplit, TrainConfig(epochs=1, progress=False, eval_target="all"))
    assert res.best_metrics["NDCG@10"] == pytest.approx(evaluate(model, tsplit, "valid", target="all")["NDCG@10"])
    first = evaluate(model, tsplit, "valid", target="first")["NDCG@10"]
    assert len(eval_queries(tsplit, "valid", target="all")[0]) > len(eval_queries(tsplit, "valid")[0])
    assert res.best_metrics["NDCG@10"] != pytest.approx(first)
    with pytest.raises(ValueError, match="eval_target"):
        train(small(S.SASRec, tsplit), tsplit, TrainConfig(epochs=1, progress=False, eval_target="last"))


def test_cosine_schedule_decays_the_rate_each_epoch_and_constant_keeps_it():
    model = Scalar()
    step = lambda b: ((model.w - 3) ** 2, 1.0)  # noqa: E731
    result = loop.run(model, lambda: [0], step, _cfg(epochs=4, lr=0.1, lr_schedule="cosine"))
    expected = [0.05 * (1 + math.cos(math.pi * e / 4)) for e in range(4)]  # the rate each epoch trained with
    assert result.history["lr"].tolist() == pytest.approx(expected)
    plain = loop.run(Scalar(), lambda: [0], step, _cfg(epochs=2, lr=0.1))
    assert "lr" not in plain.history.columns
    with pytest.raises(ValueError, match="lr_schedule"):
        loop.run(Scalar(), lambda: [0], step, _cfg(epochs=2, lr_schedule="step"))
