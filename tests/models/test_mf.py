"""Tests of tsrec.models.mf: BPR-MF's loss by hand, and trained by tsrec.training on planted clusters."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from synthetic_logs import T0, query, two_clusters
from tsrec import splits
from tsrec.evaluate import evaluate
from tsrec.models.mf import BPRMF
from tsrec.models.popularity import Popularity
from tsrec.training import TrainConfig, train


def test_bpr_loss_and_scores_by_hand():
    m = BPRMF(3, 4, dim=2, reg=0.1, seed=0)
    u, i, j = torch.tensor([1, 3]), torch.tensor([2, 4]), torch.tensor([1, 1])
    P, Q = m.user_emb.detach(), m.item_emb.detach()
    x = (P[u] * (Q[i] - Q[j])).sum(1)
    reg = 0.1 * (P[u].pow(2).sum() + Q[i].pow(2).sum() + Q[j].pow(2).sum()) / 2
    torch.testing.assert_close(m.bpr_loss(u, i, j).detach(), -F.logsigmoid(x).mean() + reg)
    s = m.score(query([3, 1], T0))
    assert s.shape == (2, 5) and torch.isneginf(s[:, 0]).all()
    torch.testing.assert_close(s[:, 1:], (P[[3, 1]] @ Q.T)[:, 1:])
    assert m.config == {"n_users": 3, "n_items": 4, "dim": 2, "reg": 0.1, "init_std": 0.1, "seed": 0}
    with pytest.raises(ValueError, match="unknown user id 4"):
        m.score(query([4], T0))
    for bad in ({"dim": 0}, {"reg": -1.0}, {"n_items": 0}):
        with pytest.raises(ValueError):
            BPRMF(**{"n_users": 3, "n_items": 4, **bad})


def test_bprmf_learns_planted_clusters_and_beats_popularity():
    split = splits.leave_one_out(two_clusters())
    pop = evaluate(Popularity().fit(split.train, split.n_users, split.n_items), split, "test", ks=(5,))
    bpr = BPRMF(split.n_users, split.n_items, dim=8, reg=1e-4, seed=0)
    result = train(bpr, split, TrainConfig(epochs=20, lr=0.05, batch_size=64, patience=5, progress=False))
    res = evaluate(bpr, split, "test", ks=(5,))
    assert res["HR@5"] >= 0.9 and res["HR@5"] > pop["HR@5"] + 0.2, (res, pop)
    assert 1 <= result.best_epoch <= 20 and not result.history["NDCG@10"].isna().all()
    assert result.best_metrics["NDCG@10"] == result.history["NDCG@10"].max()


def test_same_seed_same_bpr_scores():
    split = splits.leave_one_out(two_clusters())
    q = query([1, 40], T0)
    scores = []
    for _ in range(2):
        bpr = BPRMF(split.n_users, split.n_items, dim=8, reg=1e-4, seed=0)
        train(bpr, split.train, epochs=5, lr=0.05, batch_size=64, seed=0, progress=False)
        scores.append(bpr.score(q))
    assert torch.equal(scores[0], scores[1])
    other = BPRMF(split.n_users, split.n_items, dim=8, reg=1e-4, seed=1)
    train(other, split.train, epochs=5, lr=0.05, batch_size=64, seed=1, progress=False)
    assert not torch.equal(scores[0], other.score(q))


def test_bpr_negatives_are_items_the_user_has_not_seen(monkeypatch):
    """Every drawn (user, positive, negative) triple has a negative outside the user's training items."""
    split = splits.leave_one_out(two_clusters())
    seen = split.train.groupby("user")["item"].agg(set)
    triples = []
    bpr = BPRMF(split.n_users, split.n_items, dim=4, seed=0)
    real = BPRMF.bpr_loss

    def spy(self, u, i, j):
        triples.append((u.clone(), i.clone(), j.clone()))
        return real(self, u, i, j)

    monkeypatch.setattr(BPRMF, "bpr_loss", spy)
    train(bpr, split.train, epochs=2, batch_size=64, progress=False)
    u, i, j = (torch.cat(x).numpy() for x in zip(*triples))
    assert len(u) == 2 * len(split.train)
    assert all(pos in seen[a] for a, pos in zip(u, i))
    assert np.mean([neg not in seen[a] for a, neg in zip(u, j)]) == 1.0
