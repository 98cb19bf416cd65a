"""Tests of tsrec.analysis.explain: integrated gradients, attention read-out, deletion, the membership AUC."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec import data, splits
from tsrec.analysis import explain as X
from tsrec.config import seed_everything
from tsrec.evaluate import eval_queries
from tsrec.models.sequential import SASRec, SeqInput
from tsrec.training import TrainConfig, train


@pytest.fixture(scope="module")
def setup():
    split = splits.leave_one_out(data.synthetic(n_users=30, n_items=25, events_per_user=15).interactions)
    seed_everything(0)
    model = SASRec(split.n_items, max_len=10, hidden=16, time_encoding="log_interval")
    train(model, split.train, TrainConfig(seed=0, epochs=3, windows="last", progress=False))
    q, _ = eval_queries(split, "test")
    x = SeqInput.from_queries(q, model.max_len).trim()
    targets = model.score(q).argmax(1)
    return model, x, targets


def test_integrated_gradients_are_complete_and_zero_on_padding(setup):
    model, x, targets = setup
    item, time_, error = X.integrated_gradients(model, x, targets, n_steps=64)
    assert item.shape == x.items.shape == time_.shape and error.shape == (len(x.items),)
    assert (item[~x.mask] == 0).all() and (time_[~x.mask] == 0).all()
    assert time_.abs().sum() > 0
    score = X.target_scores(model, x, targets)
    assert error.abs().max() < 0.05 * score.abs().max() + 1e-3  # attributions add up to the score difference


def test_last_attention_is_a_distribution_over_real_events(setup):
    model, x, _ = setup
    a = X.last_attention(model, x)
    assert a.shape == x.items.shape and torch.allclose(a.sum(1), torch.ones(len(a)), atol=1e-5)
    assert (a[~x.mask] == 0).all()


def test_delete_positions_keeps_order_and_left_padding():
    x = SeqInput(torch.zeros(1, dtype=torch.long), torch.tensor([[0, 5, 6, 7, 8]]), torch.tensor([[0, 1, 2, 3, 4]]),
                 torch.tensor([[0, 2, 3, 4, 9]]))
    y = X.delete_positions(x, torch.tensor([[False, False, True, False, True]]))  # the last is never deleted
    assert y.items.tolist() == [[0, 0, 5, 7, 8]] and y.times.tolist() == [[0, 0, 1, 3, 4]]
    assert y.next_times.tolist() == [[0, 0, 2, 4, 9]]


def test_deletion_test_of_an_attribution_that_is_the_true_effect_beats_random(setup):
    model, x, targets = setup
    # "attribution" = each event's measured effect when deleted alone: the top ones must hurt most
    base = X.target_scores(model, x, targets)
    effect = torch.zeros(x.items.shape)
    for j in range(x.items.shape[1] - 1):
        drop = torch.zeros_like(x.mask)
        drop[:, j] = True
        effect[:, j] = base - X.target_scores(model, X.delete_positions(x, drop & x.mask), targets)
    t = X.deletion_test(model, x, targets, effect, 1)
    assert (t["top_drop"] >= t["random_drop"] - 1e-5).all()
    assert len(t) == len(x.items) and (t["history"].to_numpy() == (x.mask.sum(1) - 1).numpy()).all()


def test_membership_auc():
    assert X.membership_auc([1.0, 2.0], [3.0, 4.0])[0] == 1.0      # members' losses all lower
    assert X.membership_auc([3.0, 4.0], [1.0, 2.0])[0] == 0.0
    assert X.membership_auc([1.0, 1.0], [1.0, 1.0])[0] == 0.5       # ties count half
    rng = np.random.default_rng(0)
    m, o = rng.normal(0, 1, 300), rng.normal(0.5, 1, 200)
    auc, per = X.membership_auc(m, o)
    pairs = (m[:, None] < o[None, :]).mean()
    assert auc == pytest.approx(pairs) and per.mean() == pytest.approx(auc)
