"""The full-ranking evaluator on ML-100K: the popularity anchors and the tie-break demonstration."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec import data, prep, splits
from tsrec import metrics as M
from tsrec.evaluate import eval_queries, evaluate
from tsrec.metrics import cosine_distance, jaccard_distance
from tsrec.queries import seen_mask


def _popularity(split):
    return torch.as_tensor(np.bincount(split.train["item"], minlength=split.n_items + 1), dtype=torch.float32)


def test_popularity_anchor_file_row_order(ml100k_loo):
    pop = _popularity(ml100k_loo)
    valid = evaluate(pop, ml100k_loo, "valid", ks=(10,))
    test = evaluate(pop, ml100k_loo, "test", ks=(10,))
    assert valid["users"] == test["users"] == 943
    assert round(valid["HR@10"], 4) == 0.0742
    assert round(test["HR@10"], 4) == 0.0859 and round(test["NDCG@10"], 4) == 0.0449


def test_popularity_anchor_ties_by_item_id(ml100k):
    df = ml100k.interactions.sort_values(["timestamp", "item"], kind="stable")
    s = splits.leave_one_out(df)
    assert round(evaluate(_popularity(s), s, "test", ks=(10,))["HR@10"], 4) == 0.0498


def test_evaluator_masks_history_and_never_the_target(ml100k_loo):
    q, targets = eval_queries(ml100k_loo, "test")
    assert len(q) == 943 and (np.diff(q.users) > 0).all()
    # test history = train + valid, so the validation item is in it
    valid_item = ml100k_loo.valid.set_index("user")["item"]
    assert all(valid_item[u] in set(items) for u, items in zip(q.users[:50], q.items[:50]))
    # a score matrix that puts every target first gives HR@1 = 1 even when the target was seen before
    scores = torch.zeros(ml100k_loo.n_users + 1, ml100k_loo.n_items + 1)
    scores[torch.tensor(q.users), torch.tensor(targets)] = 1.0
    out = evaluate(scores, ml100k_loo, "test", ks=(1, 10))
    assert out["HR@1"] == 1.0 and out["NDCG@10"] == 1.0 and out["AUC"] == 1.0


def test_beyond_accuracy_metrics_on_popularity(ml100k, ml100k_loo):
    items = ml100k.items.set_index("item").loc[prep.IdMap.fit(ml100k.interactions["item"]).raw]
    genres = [set(g.split("|")) for g in items["genres"]]
    dist = jaccard_distance([set()] + genres)
    out, per_user = evaluate(_popularity(ml100k_loo), ml100k_loo, "test", ks=(10,), distance=dist, per_user=True)
    assert 10 / 1682 <= out["coverage@10"] < 0.1           # popularity recommends nearly the same list
    assert 0 < out["ILD@10"] < 1 and out["novelty@10"] > 0
    assert isinstance(per_user, pd.DataFrame) and len(per_user) == 943
    assert np.isclose((per_user["rank"] < 10).mean(), out["HR@10"])


def test_temporal_split_next_item(ml100k):
    s = splits.temporal_split(ml100k.interactions, test_start="1998-03-01", valid_start="1998-02-01")
    q, targets = eval_queries(s, "test")
    first = s.test.sort_values(["user", "timestamp"], kind="stable").drop_duplicates("user").set_index("user")
    assert (first.loc[q.users, "item"].to_numpy() == targets).all()
    assert all(len(h) > 0 for h in q.items)
    out = evaluate(_popularity(s), s, "test", ks=(10,))
    assert 0 < out["HR@10"] < 0.5


def test_bad_stage(ml100k_loo):
    with pytest.raises(ValueError, match="stage must be"):
        evaluate(_popularity(ml100k_loo), ml100k_loo, "train")


def test_temporal_split_every_event(ml100k):
    s = splits.temporal_split(ml100k.interactions, test_start="1998-03-01", valid_start="1998-02-01")
    q, targets = eval_queries(s, "test", target="all")
    hist_users = set(s.history("test")["user"])
    test = s.test.sort_values(["user", "timestamp"], kind="stable")
    first_of_cold = test[~test["user"].isin(hist_users)].drop_duplicates("user")
    assert len(q) == len(test) - len(first_of_cold)       # every event with some earlier event of its user
    i = int(np.argmax([len(h) for h in q.items]))
    u, now = q.users[i], q.now[i]
    earlier = pd.concat([s.history("test"), s.test])
    earlier = earlier[(earlier["user"] == u) & (earlier["timestamp"] <= now)]
    assert len(q.items[i]) <= len(earlier) and (q.times[i] <= now).all()
    assert 0 < evaluate(_popularity(s), s, "test", ks=(10,), target="all")["HR@10"] < 0.5


def test_evaluate_equals_the_individual_metric_functions():
    """Every number ``evaluate`` reports is the metric function applied to the masked score matrix."""
    split = splits.leave_one_out(data.synthetic(n_users=30, n_items=40, events_per_user=12).interactions)
    rng = np.random.default_rng(6)
    scores = torch.as_tensor(rng.integers(0, 6, (split.n_users + 1, split.n_items + 1)), dtype=torch.float32)
    counts = rng.integers(0, 21, split.n_items + 1)
    dist = cosine_distance(rng.normal(size=(split.n_items + 1, 4)))
    out = evaluate(scores, split, "test", ks=(2, 5), item_counts=counts, distance=dist)
    q, targets = eval_queries(split, "test")
    s = scores[torch.tensor(q.users)]
    seen = seen_mask(q, s.shape[1])
    t = torch.tensor(targets)
    expected = M.rank_metrics(M.target_ranks(s, t, seen), ks=(2, 5))
    expected["AUC"] = M.auc(s, t, seen)
    for k in (2, 5):
        top = M.topk_items(s, seen, k)
        expected[f"coverage@{k}"] = M.catalog_coverage(top, split.n_items)
        expected[f"novelty@{k}"] = M.novelty(top, counts, split.train["user"].nunique())
        expected[f"ILD@{k}"] = M.intra_list_diversity(top, dist)
    expected["users"] = len(q)
    assert set(out) == set(expected)
    for key, value in expected.items():
        assert out[key] == pytest.approx(value), key
    # the default novelty counts users who know an item, not events
    default = evaluate(scores, split, "test", ks=(5,))
    known = np.bincount(split.train.drop_duplicates(["user", "item"])["item"], minlength=split.n_items + 1)
    top = M.topk_items(s, seen, 5)
    assert default["novelty@5"] == pytest.approx(M.novelty(top, known, split.train["user"].nunique()))
    with pytest.raises(ValueError, match="exceeds"):
        evaluate(scores, split, "test", ks=(split.n_items + 1,))
    # without lists (what validation needs): the same rank metrics, nothing of the lists, no AUC
    ranks_only = evaluate(scores, split, "test", ks=(2, 5), lists=False)
    assert set(ranks_only) == set(M.rank_metrics(M.target_ranks(s, t, seen), ks=(2, 5))) | {"users"}
    assert all(ranks_only[key] == out[key] for key in ranks_only)


def test_unmasked_protocol_ranks_seen_items_too(ml100k_loo):
    q, targets = eval_queries(ml100k_loo, "test")
    # scores that put every seen item above the target: masked, the target is first; unmasked, it is not
    scores = torch.zeros(ml100k_loo.n_users + 1, ml100k_loo.n_items + 1)
    mask = seen_mask(q, ml100k_loo.n_items + 1)
    scores[torch.tensor(q.users)] = mask.float() * 2.0
    scores[torch.tensor(q.users), torch.tensor(targets)] = 1.0
    assert evaluate(scores, ml100k_loo, "test", ks=(1,))["HR@1"] == 1.0
    raw = evaluate(scores, ml100k_loo, "test", ks=(1, 10), mask_seen=False)
    assert raw["HR@1"] == 0.0  # every user has at least one seen item ranked above the target
    pop = _popularity(ml100k_loo)
    assert evaluate(pop, ml100k_loo, "test", ks=(10,), mask_seen=False)["HR@10"] < 0.0859
