"""Tests of tsrec.online.learners: online popularity is exact decayed popularity, item-kNN co-occurrence,
river's MF, a static model, periodic retraining, and one top-k rule for every learner's predictions."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec import metrics as M
from tsrec import windows as W
from tsrec.models.popularity import Popularity
from tsrec.models.sequential import GRU4Rec
from tsrec.online import Event, OnlineItemKNN, OnlineLearner, OnlinePopularity, PeriodicRetrain, RiverMF, Static
from tsrec.training import Trained

from .helpers import DAY


def test_online_popularity_is_exact_decayed_popularity(synth_source):
    hl = 2 * DAY
    learner = OnlinePopularity(synth_source.n_items, hl)
    frame = synth_source.frame
    for pos, ev in enumerate(synth_source):
        if pos in (10, 500, 1700):
            now = ev.timestamp + 3600
            batch = W.decayed_popularity(frame.iloc[:pos], now, hl, synth_source.n_items)
            np.testing.assert_allclose(learner.score_one(ev.user, now), batch, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(learner.score_many([ev.user, 3], [now, now])[1], batch, rtol=1e-9, atol=1e-12)
        learner.learn_one(ev)


class _Fixed(OnlineLearner):
    """Scores from a table, to test the one ranking rule of predict_one."""

    def __init__(self, table: np.ndarray) -> None:
        super().__init__(table.shape[1] - 1)
        self.table = table

    def score_many(self, users, now):
        return self.table[np.asarray(list(users))]


def test_predict_one_is_the_package_top_k_with_seen_items_masked():
    rng = np.random.default_rng(0)
    table = rng.integers(0, 4, size=(6, 31)).astype(np.float64)  # many ties: equal scores by item id
    learner = _Fixed(table)
    for t, (u, i) in enumerate([(1, 3), (1, 7), (2, 5), (1, 3)]):
        learner.learn_one(Event(u, i, t))
    for user in range(6):
        mask = np.zeros((1, 31), dtype=bool)
        mask[0, sorted(learner.state.seen(user))] = True
        want = M.topk_items(torch.from_numpy(table[user:user + 1]), torch.from_numpy(mask), 7)[0].tolist()
        assert learner.predict_one(user, 10, k=7) == want
        assert not set(want) & learner.state.seen(user)
    assert learner.predict_one(1, 10, k=7, exclude_seen=False) == M.topk_items(table[1:2], None, 7)[0].tolist()
    assert len(learner.predict_one(0, 10, k=100)) == 30  # k is capped at the catalogue


def test_learn_one_rejects_items_that_are_not_encoded():
    with pytest.raises(ValueError, match="encoded id"):
        OnlinePopularity(5).learn_one(Event(1, 9, 1))
    with pytest.raises(ValueError, match="n_items"):
        OnlinePopularity(0)


def test_online_itemknn_recommends_what_followed_the_users_last_items():
    knn = OnlineItemKNN(5, window=3, popularity_eps=0.0)
    t = 0
    for u in range(1, 6):  # everyone takes item 1 then item 2
        for item in (1, 2):
            knn.learn_one(Event(u, item, t))
            t += 1
    knn.learn_one(Event(9, 4, t))
    knn.learn_one(Event(10, 1, t + 1))
    s = knn.score_one(10, t + 2)
    assert s[2] > 0 and s[2] == s.max() and s[4] == 0  # 2 co-occurred with 1, item 4 never did
    assert knn.predict_one(10, t + 2, k=1) == [2]


def test_river_mf_learns_online(synth_source):
    from tsrec.online import prequential

    learner = RiverMF(synth_source.n_items, n_factors=8, seed=0)
    res = prequential(synth_source, learner, every=3, progress=False, max_events=1200)
    assert res["event"].max() < 1200 and len(learner._known) > 10
    late = res[res["event"] > 600]
    assert late["HR@10"].mean() > 0.4                           # random: 10 / 40 items
    assert len(learner.predict_one(1, 0, k=5)) == 5
    with pytest.raises(ValueError, match="kind"):
        RiverMF(5, kind="svd")


def test_static_wrapper_never_changes_the_model(synth_source):
    from tsrec.online import prequential

    frame = synth_source.frame
    pop = Popularity().fit(frame.iloc[:100], synth_source.n_users, synth_source.n_items)
    counts = pop.counts.copy()
    learner = Static(pop)
    prequential(synth_source, learner, every=50, progress=False)
    np.testing.assert_array_equal(pop.counts, counts)
    assert learner.state.n_events == len(frame)
    with pytest.raises(TypeError, match="fitted Recommender"):
        Static(object())


def test_periodic_retrain_refits_on_the_events_so_far():
    n_items = 6
    initial = pd.DataFrame({"user": [1, 2, 3], "item": [1, 1, 2], "timestamp": [0, 10, 20]})
    learner = PeriodicRetrain(Popularity, 100, n_users=5, n_items=n_items, initial=initial)
    assert learner.n_fits == 1 and learner.model.counts[1:3].tolist() == [2, 1]
    learner.learn_one(Event(4, 5, 50))        # within 100 s of the last fit: not refitted yet
    assert learner.n_fits == 1 and learner.model.counts[5] == 0
    learner.learn_one(Event(5, 5, 130))       # 110 s later: refit on all five events
    assert learner.n_fits == 2 and learner.model.counts[1:].tolist() == [2, 1, 0, 0, 2, 0]
    windowed = PeriodicRetrain(Popularity, 100, 5, n_items, initial=initial, window_seconds=5)
    assert windowed.model.counts[1:3].tolist() == [0, 1]  # only events after 20 - 5
    with pytest.raises(ValueError, match="every_seconds"):
        PeriodicRetrain(Popularity, 0, 5, n_items)


def test_periodic_retrain_of_a_torch_model_is_seeded():
    """Retraining a torch model (via Trained) twice on the same events gives the same scores."""
    initial = pd.DataFrame({"user": [1, 1, 1, 2, 2, 2], "item": [1, 2, 3, 2, 3, 4], "timestamp": range(6)})

    def factory():
        return Trained(lambda n_users, n_items: GRU4Rec(n_items, max_len=4, hidden=8), epochs=2, seed=0)

    a = PeriodicRetrain(factory, DAY, n_users=2, n_items=5, initial=initial)
    b = PeriodicRetrain(factory, DAY, n_users=2, n_items=5, initial=initial)
    np.testing.assert_array_equal(a.score_one(1, 10), b.score_one(1, 10))
    assert np.isneginf(a.score_one(1, 10)[0])
