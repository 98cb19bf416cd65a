"""Freshness-aware models: the package's model contract, no score before a post exists, the decay, follows."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthetic_logs import counting_log
from tsrec import evaluate as evaluation
from tsrec import metrics, splits
from tsrec.data.feed import synthetic_feed
from tsrec.models.freshness import FollowTopic, FreshVelocity
from tsrec.queries import QueryBatch
from tsrec.times import DAY, HOUR


@pytest.fixture(scope="module")
def feed():
    return synthetic_feed(n_users=200, n_authors=20, days=4, posts_per_day=60, seed=5)


def _batch(users, now, items=None):
    items = items if items is not None else [np.zeros(0, np.int64) for _ in users]
    return QueryBatch(np.asarray(users), [np.asarray(i, np.int64) for i in items],
                      [np.zeros(len(i), np.int64) for i in items], np.asarray(now, dtype=np.int64))


def _on_log(which: str, n_users: int, n_items: int):
    """A model for a plain log: every post exists from time 0, seeded authors, topics and follows."""
    rng = np.random.default_rng(0)
    created = np.zeros(n_items + 1)
    if which == "FreshVelocity":
        return FreshVelocity(created, DAY)
    follows = rng.random((n_users + 1, 5)) < 0.4
    return FollowTopic(created, rng.integers(1, 5, n_items + 1), rng.integers(0, 3, n_items + 1), follows, DAY)


@pytest.mark.parametrize("which", ["FreshVelocity", "FollowTopic"])
def test_the_model_contract(which):
    log = counting_log(n_users=16, n_items=24, length=9, seed=3)
    split = splits.leave_one_out(log)
    model = _on_log(which, split.n_users, split.n_items)
    assert model.fit(split.train, split.n_users, split.n_items) is model
    queries, _ = evaluation.eval_queries(split, "test")
    s = model.score(queries)
    assert s.dtype == torch.float32 and s.shape == (len(queries), split.n_items + 1)
    assert torch.isneginf(s[:, 0]).all() and not torch.isnan(s).any()
    out = evaluation.evaluate(model, split, "test", ks=(10,))
    assert np.isfinite(out["NDCG@10"]) and out["users"] == len(queries)
    for row, history in zip(model.recommend(queries, k=10), queries.items):
        assert not set(row.tolist()) & set(history.tolist())
    np.testing.assert_array_equal(model.recommend(queries, k=10),
                                  metrics.topk_items(s, evaluation.seen_mask(queries, s.shape[1]), 10).numpy())
    again = _on_log(which, split.n_users, split.n_items).fit(split.train, split.n_users, split.n_items)
    torch.testing.assert_close(again.score(queries), s, rtol=0, atol=0)


def test_no_score_before_a_post_exists(feed):
    model = FreshVelocity(feed.column("created"), 6 * HOUR).start_empty(feed.n_users, feed.n_items)
    created = feed.column("created")
    now = int(created[feed.n_items // 2])
    r = model.rates(np.array([now]))[0]
    assert (r[1:][created[1:] > now] == 0).all() and (r[1:][created[1:] <= now] > 0).all()


def test_an_older_post_halves_per_half_life(feed):
    model = FreshVelocity(feed.column("created"), 6 * HOUR).start_empty(feed.n_users, feed.n_items)
    model.counts[[1, 2]] = 50.0
    model.created[1] = model.created[2] - 6 * HOUR                 # post 1: one half-life older
    r = model.rates(np.array([model.created[2] + 10 * DAY]))[0]  # both long past their first days
    assert r[1] / r[2] == pytest.approx(0.5, rel=1e-3)


def test_count_so_far_is_read_against_the_life_lived(feed):
    model = FreshVelocity(feed.column("created"), 6 * HOUR, prior_count=0.0, prior_exposure=1e-9)
    model.start_empty(feed.n_users, feed.n_items)
    c = float(model.created[1])
    model.counts[1] = 10.0                                   # 10 engagements in its first half-life: half its life,
    assert model.rates(np.array([c + 6 * HOUR]))[0, 1] == pytest.approx(10.0, rel=1e-6)   # so 20 in all, x 0.5 now
    model.learn_one(1, 1)
    assert model.counts[1] == 11.0


def test_follow_topic_prefers_followed_authors_and_the_users_topics():
    created = np.zeros(5)
    author, topic = np.array([0, 1, 2, 2, 2]), np.array([0, 0, 0, 1, 0])
    follows = np.zeros((3, 3), dtype=bool)
    follows[1, 1] = True                                      # user 1 follows author 1 (post 1)
    log = pd.DataFrame({"user": [2, 2, 2, 2], "item": [1, 2, 3, 4], "timestamp": [1, 2, 3, 4]})   # one count each
    model = FollowTopic(created, author, topic, follows, HOUR).fit(log, 2, 4)
    s = model.score(_batch([1, 2], [10, 10], [[], [3, 3, 3]]))[:, 1:].numpy()
    assert s[0].argmax() == 0, "user 1's only followed author ranks first"
    assert s[1][2] > s[1][3], "user 2's history is topic 1: the topic-1 post beats a topic-0 post of the same author"
    assert model.follower_share == pytest.approx((0 + 1) / (4 + 2))     # no engagement by a follower, smoothed


def test_online_counts_match_a_fit(feed):
    model = FollowTopic(feed.column("created"), feed.column("author"), feed.column("topic"), feed.follows, HOUR)
    model.fit(feed.events, feed.n_users, feed.n_items)
    truth = float(feed.follows[feed.events["user"], feed.column("author")[feed.events["item"]]].mean())
    assert model.follower_share == pytest.approx(truth, abs=0.01)
    online = FollowTopic(feed.column("created"), feed.column("author"), feed.column("topic"), feed.follows, HOUR)
    online.start_empty(feed.n_users, feed.n_items)
    for u, i in zip(feed.events["user"].tolist(), feed.events["item"].tolist()):
        online.learn_one(u, i)
    assert online.follower_share == pytest.approx(model.follower_share, abs=1e-12)
    np.testing.assert_array_equal(online.counts, model.counts)
    np.testing.assert_array_equal(online.topic_counts, model.topic_counts)


def test_bad_inputs_fail(feed):
    with pytest.raises(ValueError):
        FreshVelocity(feed.column("created"), 0)
    with pytest.raises(ValueError, match="one value per item"):
        FreshVelocity(feed.column("created")[:-1], HOUR).fit(feed.events, feed.n_users, feed.n_items)
    with pytest.raises(RuntimeError, match="not fitted"):
        FreshVelocity(feed.column("created"), HOUR).rates(np.array([0]))
    model = FollowTopic(feed.column("created"), feed.column("author"), feed.column("topic"), feed.follows, HOUR)
    with pytest.raises(ValueError, match="follows has"):
        model.fit(feed.events, feed.n_users + 1, feed.n_items)
    model.fit(feed.events, feed.n_users, feed.n_items)
    with pytest.raises(ValueError, match="unknown user"):
        model.score(_batch([feed.n_users + 1], [0]))
