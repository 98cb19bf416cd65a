"""Tests of tsrec.models.generative: item and gap tokens, next-token scores, constrained beam search; trained by
tsrec.training on the counting log (next item = last + 1)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synthetic_logs import DAY, T0, counting_log
from tsrec import splits
from tsrec.analysis import random_hit_rate
from tsrec.evaluate import eval_queries, evaluate
from tsrec.metrics import topk_items
from tsrec.models.generative import GAP_EDGES, GenerativeRecommender, ItemVocab, gap_buckets
from tsrec.queries import seen_mask
from tsrec.training import train


@pytest.fixture(scope="module")
def counting_model():
    split = splits.leave_one_out(counting_log(n_users=60, n_items=60))
    m = GenerativeRecommender(split.n_items, max_len=12, n_embd=32, n_head=2, seed=0)
    res = train(m, split, epochs=25, patience=25, lr=5e-3, progress=False)
    return split, m, res


def test_generative_model_learns_next_item_and_beats_random(counting_model):
    split, m, res = counting_model
    out = evaluate(m, split, "test", ks=(5,))
    assert out["HR@5"] > 0.8 > 3 * random_hit_rate(split, "test", 5)
    assert res.best_epoch >= 1 and len(res.history) >= res.best_epoch


def test_constrained_beam_search_yields_only_valid_unseen_items(counting_model):
    split, m, _ = counting_model
    q, _ = eval_queries(split, "test")
    q = q[:4]
    first, paths = m.recommend_beam(q, k=5, steps=3)
    for b, beams in enumerate(paths):
        seen = set(q.items[b].tolist())
        assert len(beams) == 5
        for items in beams:
            assert len(items) == 3 and len(set(items)) == 3
            assert all(1 <= i <= split.n_items and i not in seen for i in items)
    top1, _ = m.recommend_beam(q, k=5, steps=1)
    s = m.score(q)
    expected = topk_items(s, seen_mask(q, s.shape[1]), 5).numpy()
    assert all(set(a) == set(e) for a, e in zip(top1, expected))  # one step of beam search = masked top-k
    assert (top1[:, 0] == expected[:, 0]).all()
    with pytest.raises(ValueError, match="steps"):
        m.recommend_beam(q, k=2, steps=0)


def test_time_tokens_change_the_generative_input():
    items, times = np.array([3, 7, 5]), np.array([T0, T0 + 30, T0 + 2 * DAY])
    timed = GenerativeRecommender(10, time_tokens=True, max_len=8)
    plain = GenerativeRecommender(10, time_tokens=False, max_len=8)
    a = timed.tokens(items, times, now=int(times[-1]) + 3600)
    b = timed.tokens(items, times + np.array([0, 5000, 0]), now=int(times[-1]) + 3600)
    c = timed.tokens(items, times, now=int(times[-1]) + 40 * DAY)
    assert a != b and a != c and len(a) == 2 * len(items) + 1
    assert plain.tokens(items, times, None) == plain.tokens(items, times + 999, None)
    assert plain.tokens(items, times) == [ItemVocab.BOS, *plain.vocab.item_token[items].tolist()]
    # [BOS, i1, g(30 s), i2, g(2 days - 30 s), i3, g(1 h)]
    v = timed.vocab
    assert a == [ItemVocab.BOS, *[int(x) for x in (v.item_token[3], v.gap_token(1), v.item_token[7], v.gap_token(6),
                                                  v.item_token[5], v.gap_token(4))]]
    assert gap_buckets(np.array([0, 30, 90, 4000, 100 * DAY])).tolist() == [0, 1, 2, 4, 8]
    assert gap_buckets(np.array(GAP_EDGES)).tolist() == list(range(1, len(GAP_EDGES) + 1))  # edges open the next
    with pytest.raises(ValueError, match="now"):
        timed.tokens(items, times)
    # item tokens are a random bijection, not consecutive ids
    v = ItemVocab(200, 10, seed=0)
    tok = v.item_token[1:]
    assert sorted(tok.tolist()) == list(range(12, 212)) and not np.array_equal(tok, np.arange(12, 212))
    assert np.array_equal(v.token_item[tok], np.arange(1, 201))


def test_padded_token_windows():
    ids, mask = GenerativeRecommender.padded([[1, 5, 6], [1, 7]])
    assert ids.tolist() == [[1, 5, 6], [0, 1, 7]] and mask.tolist() == [[1, 1, 1], [0, 1, 1]]


def test_time_token_model_trains_and_scores():
    split = splits.leave_one_out(counting_log(n_users=20, length=8))
    m = GenerativeRecommender(split.n_items, time_tokens=True, max_len=8, n_embd=16, n_head=2, arch="llama")
    train(m, split, epochs=2, progress=False)
    q, _ = eval_queries(split, "test")
    s = m.score(q[:3])
    assert s.shape == (3, split.n_items + 1) and torch.isneginf(s[:, 0]).all() and torch.isfinite(s[:, 1:]).all()
    _, paths = m.recommend_beam(q[:2], k=3, steps=2)
    assert all(len(p) == 2 and p[0] != p[1] for beams in paths for p in beams)
    with pytest.raises(ValueError, match="arch"):
        GenerativeRecommender(5, arch="rnn")
