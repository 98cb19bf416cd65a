"""Tests of tsrec.training.recipes: how each model family's log becomes batches and a loss, and its defaults."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthetic_logs import planted_ratings
from tsrec.models import sequential as S
from tsrec.models.generative import GenerativeRecommender
from tsrec.models.mf import BPRMF
from tsrec.models.rating import BiasedMF, TimeSVDpp
from tsrec.training import LengthBuckets, SequenceDataset, TrainConfig, recipes, train
from tsrec.training.recipes import generative_windows, recipe_for

from .helpers import small


def test_sequence_dataset_windows_keep_time_order_and_row_order_for_ties():
    df = pd.DataFrame({"user": [1, 1, 1, 1, 2, 3, 3], "item": [4, 2, 3, 1, 5, 6, 7],
                       "timestamp": [30, 10, 10, 40, 5, 1, 2]})
    ds = SequenceDataset(df, max_len=2, windows="last")
    assert ds.users.tolist() == [1, 3]  # user 2 has one event: nothing to predict
    assert ds.items.tolist() == [[3, 4], [0, 6]] and ds.targets.tolist() == [[4, 1], [0, 7]]
    assert ds.times.tolist() == [[10, 30], [0, 1]] and ds.next_times.tolist() == [[30, 40], [0, 2]]
    assert len(ds) == 2 and [t.tolist() for t in ds[1]] == [3, [0, 6], [0, 1], [0, 2], [0, 7]]


def test_all_windows_make_every_later_event_a_target_once_with_half_a_window_of_context():
    n = 23
    df = pd.DataFrame({"user": [1] * n + [2] * 3, "item": list(range(1, n + 1)) + [5, 6, 7],
                       "timestamp": list(range(n)) + [0, 1, 2]})
    last, every = SequenceDataset(df, max_len=6, windows="last"), SequenceDataset(df, max_len=6)
    assert len(last) == 2 and sorted(last.targets[last.targets > 0].tolist()) == [6, 7] + list(range(18, 24))
    user1 = every.targets[every.users == 1]
    assert sorted(user1[user1 > 0].tolist()) == list(range(2, n + 1))  # events 2..23 of user 1, each once
    assert every.targets[every.users == 2].tolist() == [[0, 0, 0, 0, 6, 7]]
    for items, targets in zip(every.items[every.users == 1], user1):
        first = int((targets > 0).nonzero()[0])
        assert items[0] == 0 or (items[:first + 1] > 0).sum() >= 3  # >= max_len // 2 events seen first
    with pytest.raises(ValueError, match="windows must be"):
        SequenceDataset(df, max_len=6, windows="some")


def test_length_buckets_cover_every_row_once_and_group_similar_lengths():
    lengths = torch.tensor([1, 50, 2, 49, 3, 48, 1, 51, 2, 50])
    sampler = LengthBuckets(lengths, batch_size=5, generator=torch.Generator().manual_seed(0), noise=0.0)
    batches = list(sampler)
    assert len(sampler) == len(batches) == 2 and sorted(sum(batches, [])) == list(range(10))
    assert sorted(sorted(lengths[b].tolist()) for b in batches) == [[1, 1, 2, 2, 3], [48, 49, 50, 50, 51]]
    # with noise the grouping varies between epochs, reproducibly for a seed
    a = [list(LengthBuckets(lengths, 3, torch.Generator().manual_seed(1))) for _ in range(2)]
    noisy = LengthBuckets(lengths, 3, torch.Generator().manual_seed(1))
    epochs = [list(noisy) for _ in range(6)]
    assert a[0] == a[1] and any(e != epochs[0] for e in epochs[1:])


@pytest.mark.parametrize("loss, n_neg", [("bce", 1), ("bce", 3), ("sampled_softmax", 5)])
def test_sampled_losses_train(split, loss, n_neg):
    result = train(small(S.SASRec, split), split, epochs=2, loss=loss, n_negatives=n_neg, progress=False)
    assert result.config.loss == loss and result.config.n_negatives == n_neg
    assert np.isfinite(result.history["loss"]).all()


def test_each_family_has_its_recipe_and_defaults(split):
    seq, gen = small(S.GRU4Rec, split), GenerativeRecommender(split.n_items, max_len=8, n_embd=16, n_head=2)
    bpr, mf = BPRMF(split.n_users, split.n_items), BiasedMF(split.n_users, split.n_items)
    assert recipe_for(seq) is recipes.RECIPES[S.SequentialRecommender]
    assert recipe_for(gen) is recipes.RECIPES[GenerativeRecommender]
    assert recipe_for(bpr) is recipes.RECIPES[BPRMF]
    assert recipe_for(mf) is recipe_for(TimeSVDpp(3, 3)) is recipes.RECIPES[recipes.RatingModel]
    cfg = TrainConfig()
    assert recipe_for(seq).defaults(seq, split.train, cfg)["loss"] == "ce"
    book = S.TimeSensitiveModel(3, 3)
    assert recipe_for(book).defaults(book, split.train, cfg)["loss"] == "bce"
    rating = recipe_for(mf).defaults(mf, split.train, cfg)
    assert (rating["metric"], rating["mode"], rating["batch_size"]) == ("RMSE", "min", len(split.train))
    assert recipe_for(mf).columns == ("RMSE",) and recipe_for(seq).columns == ("NDCG@10", "HR@10")
    with pytest.raises(ValueError, match="no recipe for Linear"):
        recipe_for(torch.nn.Linear(1, 1))


def test_unbucketed_batches_train_too(split):
    result = train(small(S.NextItNet, split, dilations=(1,)), split, epochs=2, bucket_by_length=False, progress=False)
    assert np.isfinite(result.history["loss"]).all() and result.config.bucket_by_length is False


def test_generative_windows_predict_only_item_tokens():
    m = GenerativeRecommender(5, time_tokens=True, max_len=3, n_embd=8, n_head=2)
    df = pd.DataFrame({"user": [1, 1, 1, 2, 2], "item": [1, 2, 3, 4, 5], "timestamp": [0, 30, 90, 0, 10]})
    ids, mask, targets = generative_windows(m, df)
    v = m.vocab
    assert ids.shape == mask.shape == targets.shape and ids.shape[0] == 2
    row = ids[0][mask[0].bool()].tolist()  # user 1: BOS, 1, gap, 2, gap (the gap to the last event, 3)
    assert row == [1, v.item_token[1], v.gap_token(1), v.item_token[2], v.gap_token(2)]
    assert targets[0][mask[0].bool()].tolist() == [1, 0, 2, 0, 3]  # the next token, where it is an item


def test_a_rating_model_validates_on_a_split_by_rmse():
    from tsrec import splits

    df = planted_ratings(n=800)
    split = splits.leave_one_out(df)
    m = BiasedMF(split.n_users, split.n_items, dim=2)
    res = train(m, split, epochs=20, progress=False)
    assert set(res.best_metrics) == {"RMSE", "MAE"} and res.config.metric == "RMSE" and res.config.mode == "min"
    assert res.best_metrics["RMSE"] == pytest.approx(m.rating_metrics(split.valid, history=split.valid)["RMSE"])
