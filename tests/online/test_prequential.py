"""Tests of tsrec.online.prequential: test-then-train never leaks, its ranks are brute-force ranks, online
learners beat a static model on planted item life cycles, summaries over time, and drift detection."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec import metrics as M
from tsrec import windows as W
from tsrec.models.popularity import Popularity
from tsrec.online import (
    Event,
    OnlineItemKNN,
    OnlineLearner,
    OnlinePopularity,
    PeriodicRetrain,
    Static,
    compare_online,
    drift_points,
    over_time,
    plot_over_time,
    prequential,
    summarize,
)

from .helpers import DAY, MONDAY


class _Recorder(OnlineLearner):
    """Logs every call; scores the item of the last event it learned highest (a leak would make that a hit)."""

    def __init__(self, n_items: int) -> None:
        super().__init__(n_items)
        self.calls: list[tuple] = []
        self.learned: list[Event] = []

    def score_many(self, users, now):
        users = list(users)
        self.calls.append(("score", len(self.learned), list(now)))
        out = np.zeros((len(users), self.n_items + 1))
        if self.learned:
            out[:, self.learned[-1].item] = 1.0
        return out

    def _learn(self, ev):
        self.calls.append(("learn", ev.row))
        self.learned.append(ev)


@pytest.mark.parametrize("batch_size", [1, 7])
def test_prequential_predicts_each_event_before_learning_it(synth_source, batch_size):
    learner = _Recorder(synth_source.n_items)
    res = prequential(synth_source, learner, k=1, batch_size=batch_size, progress=False, mask_seen=False)
    assert len(res) == len(synth_source) and len(learner.learned) == len(synth_source)
    scored = [c for c in learner.calls if c[0] == "score"]
    # every event at stream position p was scored when at most p events (all earlier) had been learned
    pos = 0
    for _, n_learned, nows in scored:
        for _ in nows:
            assert n_learned <= pos
            pos += 1
    # test-then-train keeps this learner near chance ...
    assert res["HR@1"].mean() < 0.2
    # ... while train-then-test (the leak) would make every prediction a hit
    cheat = _Recorder(synth_source.n_items)
    hits = []
    for ev in list(synth_source)[:200]:
        cheat.learn_one(ev)
        scores = cheat.score_one(ev.user, ev.timestamp)[None, :]
        hits.append(int(M.target_ranks(scores, np.array([ev.item]))[0]) == 0)
    assert np.mean(hits) == 1.0


def test_prequential_ranks_match_brute_force(synth_source):
    hl = 3 * DAY
    res = prequential(synth_source, OnlinePopularity(synth_source.n_items, hl), every=13, progress=False)
    frame, n = synth_source.frame, synth_source.n_items
    assert (res["event"] % 13 == 0).all()
    for row in res.itertuples():
        prefix = frame.iloc[: row.event]
        scores = W.decayed_popularity(prefix, row.timestamp, hl, n) if len(prefix) else np.zeros(n + 1)
        mask = np.zeros(n + 1, dtype=bool)
        mask[prefix.loc[prefix["user"] == row.user, "item"].to_numpy()] = True
        want = M.target_ranks(scores[None, :], np.array([row.item]), mask[None, :])[0]
        assert row.rank == int(want)
        assert row.repeat == bool(mask[row.item])
        assert row.candidates == n - int(mask[1:].sum()) + int(mask[row.item])  # the target is never masked
    assert {"HR@10", "NDCG@10", "timestamp", "user", "item", "rank"} <= set(res.columns)


def test_start_end_and_max_events_bound_what_is_evaluated(synth_source):
    frame = synth_source.frame
    lo, hi = (int(x) for x in frame["timestamp"].quantile([0.4, 0.6]))
    learner = OnlinePopularity(synth_source.n_items)
    res = prequential(synth_source, learner, start=lo, end=hi, progress=False)
    assert res["timestamp"].between(lo, hi - 1).all() and len(res) == frame["timestamp"].between(lo, hi - 1).sum()
    assert learner.state.n_events == (frame["timestamp"] < hi).sum()  # learned up to ``end``, evaluated from start
    assert len(prequential(synth_source, OnlinePopularity(synth_source.n_items), max_events=50, progress=False)) == 50
    with pytest.raises(ValueError, match="every"):
        prequential(synth_source, OnlinePopularity(synth_source.n_items), every=0, progress=False)


def test_online_learners_beat_static_popularity_on_item_life_cycles(synth_source):
    frame, n_users, n_items = synth_source.frame, synth_source.n_users, synth_source.n_items
    cut = int(frame["timestamp"].quantile(0.3))
    static = Static(Popularity().fit(frame[frame["timestamp"] < cut], n_users, n_items))
    learners = {
        "static": static,
        "online": OnlinePopularity(n_items, 3 * DAY),
        "knn": OnlineItemKNN(n_items, window=10),
        "retrain": PeriodicRetrain(Popularity, 7 * DAY, n_users, n_items),
    }
    table, results = compare_online(lambda: synth_source, learners, start=cut, progress=False)
    ndcg = table["NDCG@10"]
    assert ndcg["online"] > ndcg["static"] + 0.15                 # planted: items fade after launch
    assert ndcg["retrain"] > ndcg["static"]
    assert ndcg["knn"] > 0.25 and learners["retrain"].n_fits >= 4
    assert (results["online"]["timestamp"] >= cut).all()
    per_week = over_time(results["online"], "W")
    assert per_week["n"].sum() == len(results["online"]) and per_week["NDCG@10"].between(0, 1).all()
    assert table.loc["online", "NDCG@10"] == pytest.approx(summarize(results["online"])["NDCG@10"])


def test_summarize_and_over_time_by_hand():
    res = pd.DataFrame({"timestamp": [MONDAY, MONDAY + 3600, MONDAY + 8 * DAY], "repeat": [False, True, False],
                        "HR@10": [1.0, 0.0, 1.0], "NDCG@10": [1.0, 0.0, 0.5]})
    assert summarize(res) == {"HR@10": pytest.approx(2 / 3), "NDCG@10": 0.5, "events": 3}
    assert summarize(res, skip_repeats=True) == {"HR@10": 1.0, "NDCG@10": 0.75, "events": 2}
    weekly = over_time(res, "W-SUN")
    assert weekly["n"].tolist() == [2, 1] and weekly["NDCG@10"].tolist() == [0.5, 0.5]
    with pytest.raises(ValueError, match="no evaluated events"):
        summarize(res.iloc[:0])


def test_adwin_finds_planted_change_point():
    rng = np.random.default_rng(0)
    series = pd.Series(np.r_[rng.random(1000) < 0.1, rng.random(1000) < 0.6].astype(float),
                       index=MONDAY + np.arange(2000) * 60)
    points = drift_points(series)
    assert points, "ADWIN found no change"
    first = (points[0] - MONDAY) // 60
    assert 1000 <= first <= 1300
    assert drift_points(np.full(1000, 0.3)) == []
    with pytest.raises(ValueError, match="NaN"):
        drift_points([0.1, np.nan])


def test_plot_over_time_draws_each_learner(synth_source):
    import matplotlib

    matplotlib.use("Agg")
    res = prequential(synth_source, OnlinePopularity(synth_source.n_items), every=5, progress=False)
    ax = plot_over_time({"online": res, "again": res}, "NDCG@10", freq="W", drift=True)
    assert len(ax.get_lines()) >= 2 and ax.get_ylabel() == "NDCG@10"
