"""Tests of tsrec.models.popularity: all-time, recent-window and time-decayed popularity, as of each query."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synthetic_logs import DAY, T0, frame, query, random_log
from tsrec import metrics
from tsrec.evaluate import eval_queries, evaluate
from tsrec.models.popularity import DecayedPopularity, Popularity, RecentPopularity
from tsrec.queries import seen_mask


def test_popularity_equals_numpy_count():
    df = random_log()
    m = Popularity().fit(df, 25, 15)
    s = m.score(query([1, 2, 3], T0))
    expected = np.bincount(df["item"], minlength=16).astype(float)
    assert s.shape == (3, 16) and torch.isneginf(s[:, 0]).all()
    np.testing.assert_array_equal(s[:, 1:].numpy(), np.tile(expected[1:], (3, 1)))


def test_recent_and_decayed_popularity_hand_computed():
    now = T0 + 10 * DAY
    # item 1: 10 s and 100 s ago; item 2: 5000 s ago and exactly at now - 1000 (outside the half-open window);
    # item 3: only in the future
    df = frame([1, 2, 3, 4, 5], [1, 1, 2, 2, 3], [now - 10, now - 100, now - 5000, now - 1000, now + 1])
    rp = RecentPopularity(1000, tiebreak=False).fit(df, 5, 3)
    np.testing.assert_array_equal(rp.counts_at(np.array([now]))[0], [0, 2, 0, 0])
    np.testing.assert_array_equal(rp.score(query([1], now)).numpy()[0], [-np.inf, 2, 0, 0])
    np.testing.assert_array_equal(rp.counts_at(np.array([now - 1000]))[0], [0, 0, 1, 0])   # (now-2000, now-1000]
    dp = DecayedPopularity(100).fit(df, 5, 3)
    got = dp.scores_at(np.array([now, now + 1, now - 20_000]))
    np.testing.assert_allclose(got[0], [0, 0.5 ** 0.1 + 0.5, 0.5 ** 50 + 0.5 ** 10, 0], rtol=1e-12)
    np.testing.assert_allclose(got[1], [0, 0.5 ** 0.11 + 0.5 ** 1.01, 0.5 ** 50.01 + 0.5 ** 10.01, 1.0], rtol=1e-12)
    np.testing.assert_array_equal(got[2], [0, 0, 0, 0])
    # with tiebreak, equal window counts are ordered by the count as of now, and the scores stay below count + 1
    s = RecentPopularity(50).fit(df, 5, 3).score(query([1], now)).numpy()[0]
    assert s[1] >= 1 and s[2] > s[3] == 0 and s[1] < 2 and s[0] == -np.inf


def _params(model):
    if isinstance(model, RecentPopularity):
        return {"window_seconds": model.window_seconds, "tiebreak": model.tiebreak}
    return {"half_life_seconds": model.half_life_seconds}


@pytest.mark.parametrize("model", [RecentPopularity(3 * DAY, tiebreak=False), RecentPopularity(3 * DAY),
                                   DecayedPopularity(2 * DAY)])
def test_time_aware_popularity_never_sees_the_future(model):
    df = random_log(600)
    nows = T0 + np.array([2, 9, 17, 25]) * DAY + 123
    full = model.fit(df, 25, 15).score(query([1, 2, 3, 4], nows)).numpy()
    for q, now in enumerate(nows):
        past = df[df["timestamp"] <= now]
        alone = type(model)(**_params(model)).fit(past, 25, 15).score(query([1], now)).numpy()[0]
        np.testing.assert_allclose(full[q], alone, rtol=1e-6)
    # brute force per query: count / decayed sum over events with t <= now
    t, it = df["timestamp"].to_numpy(), df["item"].to_numpy()
    for q, now in enumerate(nows):
        if isinstance(model, DecayedPopularity):
            m = t <= now
            want = np.bincount(it[m], weights=0.5 ** ((now - t[m]) / (2 * DAY)), minlength=16)
            np.testing.assert_allclose(full[q, 1:], want[1:], rtol=1e-5)
        elif not model.tiebreak:
            m = (t <= now) & (t > now - 3 * DAY)
            np.testing.assert_array_equal(full[q, 1:], np.bincount(it[m], minlength=16)[1:])


def test_the_tie_rule_orders_equal_scores_by_item_id():
    """The rule behind the book's anchors: a target tied with a higher-id item ranks first, as in top-k lists."""
    assert int(metrics.target_ranks(torch.tensor([[0.0, 1.0, 1.0]]), torch.tensor([1]))[0]) == 0
    assert int(metrics.target_ranks(torch.tensor([[0.0, 1.0, 1.0]]), torch.tensor([2]))[0]) == 1
    assert metrics.topk_items(torch.tensor([[0.0, 1.0, 1.0]]), k=2).tolist() == [[1, 2]]


def test_popularity_reproduces_the_ml100k_anchor(ml100k_loo):
    """Pop on ML-100K leave-one-out (ties in file-row order): valid HR@10 0.0742, test 0.0859, NDCG@10 0.0449,
    by hand and through the evaluator (whose tie rule, equal scores by item id, is the one the anchor uses)."""
    split = ml100k_loo
    got = {}
    for stage in ("valid", "test"):
        model = Popularity().fit(split.history(stage), split.n_users, split.n_items)
        q, targets = eval_queries(split, stage)
        s = model.score(q)
        s[seen_mask(q, s.shape[1])] = -torch.inf
        t = torch.as_tensor(np.array(targets))[:, None]
        ts = s.gather(1, t)
        ids = torch.arange(s.shape[1])[None, :]
        rank = ((s > ts) | ((s == ts) & (ids < t))).sum(1).numpy()        # equal scores: lower item id first
        hit = rank < 10
        got[stage] = (hit.mean(), (hit / np.log2(rank + 2)).mean())
    assert round(got["valid"][0], 4) == 0.0742
    assert round(got["test"][0], 4) == 0.0859 and round(got["test"][1], 4) == 0.0449
    m = Popularity().fit(split.train, split.n_users, split.n_items)
    assert round(evaluate(m, split, "valid")["HR@10"], 4) == 0.0742
    out = evaluate(Popularity().fit(split.history("test"), split.n_users, split.n_items), split, "test")
    assert round(out["HR@10"], 4) == 0.0859 and round(out["NDCG@10"], 4) == 0.0449


def test_bad_input_raises_clear_value_errors():
    df = random_log(200)
    with pytest.raises(ValueError, match="timestamp"):
        Popularity().fit(df.drop(columns="timestamp"), 25, 15)
    with pytest.raises(ValueError, match="encoded ids"):
        Popularity().fit(df.assign(item=0), 25, 15)
    with pytest.raises(ValueError, match="n_items must be a positive int"):
        Popularity().fit(df, 25, 0)
    with pytest.raises(ValueError, match="window_seconds"):
        RecentPopularity(0)
    with pytest.raises(RuntimeError, match="not fitted"):
        Popularity().score(query([1], T0))
