"""Tests of tsrec.training.privacy: the untied SASRec, DP-SGD through Opacus, per-user losses, shards, FedAvg."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tsrec.config import seed_everything
from tsrec.evaluate import evaluate
from tsrec.training import TrainConfig, train
from tsrec.training import privacy as P

from .helpers import queries


def _model(split, **kw) -> P.DPSASRec:
    seed_everything(0)
    return P.DPSASRec(split.n_items, max_len=10, hidden=16, **kw)


def test_untied_output_layer_scores_like_a_sasrec(split):
    m = _model(split)
    assert m.out.weight.data_ptr() != m.item_emb.weight.data_ptr()
    assert m.output_weights()[0] is m.out.weight
    scores = m.score(queries(split))
    assert scores.shape == (len(queries(split)), split.n_items + 1) and torch.isinf(scores[:, 0]).all()
    train(m, split, TrainConfig(seed=0, epochs=1, windows="last", progress=False))  # the package's loop trains it


def test_private_training_reaches_its_epsilon_and_changes_the_model(split):
    m = _model(split)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    res = P.train_private(m, split.train, epochs=2, target_epsilon=4.0, delta=1e-3, batch_size=8)
    assert res.epsilon <= 4.0 + 1e-6 and res.epsilon > 1.0 and res.noise_multiplier > 0 and res.steps > 0
    assert any(not torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert not m.training and evaluate(m, split, "test", ks=(10,))["users"] == len(queries(split))
    # Opacus' hooks are gone: a forward pass leaves no per-sample activations behind
    m(*(torch.ones(2, 3, dtype=torch.long),) * 3)
    assert not any(hasattr(p, "grad_sample") and p.grad_sample is not None for p in m.parameters())


def test_smaller_epsilon_needs_more_noise(split):
    sigma = [P.train_private(_model(split), split.train, 1, eps, 1e-3, batch_size=8).noise_multiplier
             for eps in (1.0, 8.0)]
    assert sigma[0] > sigma[1] > 0


def test_clipping_without_noise_is_infinite_epsilon(split):
    res = P.train_private(_model(split), split.train, 1, None, 1e-3, batch_size=8)
    assert math.isinf(res.epsilon) and res.noise_multiplier == 0.0


def test_user_losses_one_per_user_and_lower_after_training(split):
    m = _model(split)
    before = P.user_losses(m, split.train)
    assert before.index.is_unique and set(before.index) == set(split.train["user"].unique())
    assert np.allclose(before, math.log(split.n_items + 1), atol=0.5)  # untrained: near a uniform guess
    train(m, split.train, TrainConfig(seed=0, epochs=5, windows="last", progress=False))
    assert P.user_losses(m, split.train).mean() < before.mean()


def test_shards_are_disjoint_and_cover_every_user(split):
    shards = P.user_shards(split.train, 4, seed=1)
    users = [set(s["user"]) for s in shards]
    assert sum(len(s) for s in shards) == len(split.train)
    assert all(not (a & b) for i, a in enumerate(users) for b in users[i + 1:])


def test_fedavg_of_one_client_is_local_training(split):
    cfg = TrainConfig(seed=0, epochs=1, windows="last")
    fed = _model(split)
    rounds = P.fedavg(fed, [split.train], 1, cfg, evaluate=lambda m: 1.0)
    local = _model(split)
    train(local, split.train, cfg, seed=cfg.seed + 1000, progress=False)
    assert list(rounds["value"]) == [1.0]
    for k, v in local.state_dict().items():
        assert torch.allclose(v, fed.state_dict()[k], atol=1e-6), k


def test_fedavg_averages_weights_by_events(split):
    shards = P.user_shards(split.train, 2, seed=0)
    fed = _model(split)
    out = P.fedavg(fed, shards, 2, TrainConfig(seed=0, epochs=1, windows="last"))
    assert len(out) == 2 and out["value"].isna().all()
    with pytest.raises(ValueError):
        P.train_private(_model(split), split.train.iloc[:0], 1, 1.0, 1e-3)
