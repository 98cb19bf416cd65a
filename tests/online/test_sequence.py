"""Tests of tsrec.online.sequence: a sequence model fine-tuned on the stream in micro-batches of new events."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec.models.sequential import SASRec
from tsrec.online import Event, OnlineSequenceModel, prequential


def test_online_sequence_model_fine_tunes_in_micro_batches(synth_source):
    torch.manual_seed(0)
    model = SASRec(synth_source.n_items, max_len=16, hidden=16, n_blocks=1, dropout=0.0)
    before = model.item_emb.weight.detach().clone()
    learner = OnlineSequenceModel(model, update_every=100, steps=2, lr=3e-3)
    res = prequential(synth_source, learner, every=20, batch_size=20, progress=False, max_events=600)
    assert learner.n_updates == 6 and np.isfinite(learner.last_loss)
    assert not torch.equal(before, model.item_emb.weight)
    assert res["NDCG@10"].between(0, 1).all() and len(res) == 30
    assert not model.training  # scored in eval mode between updates


def test_micro_batch_targets_only_the_new_events():
    model = SASRec(9, max_len=3, hidden=8, n_blocks=1)
    learner = OnlineSequenceModel(model, update_every=100)
    for t, (u, i) in enumerate([(1, 1), (1, 2), (2, 5), (1, 3), (1, 4), (2, 6)]):
        learner.learn_one(Event(u, i, 10 * t))
    learner.update()  # forget what was pending
    for t, (u, i) in enumerate([(1, 7), (2, 8), (3, 9)], start=6):
        learner.learn_one(Event(u, i, 10 * t))
    x, targets = learner.micro_batch()  # user 3 has one event: nothing to learn from yet
    assert x.users.tolist() == [1, 2]
    assert x.items.tolist() == [[2, 3, 4], [0, 5, 6]] and targets.tolist() == [[0, 0, 7], [0, 0, 8]]
    assert x.next_times[:, -1].tolist() == [60, 70]  # each window predicts its newest event at that event's time
    with pytest.raises(TypeError, match="sequence model"):
        OnlineSequenceModel(object())
