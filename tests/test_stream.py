"""Tests of tsrec.stream: replay order, windowed state == batch windows, test-then-train, drift detection."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec import data, metrics as M, windows as W
from tsrec import stream as S
from tsrec.models.popularity import Popularity

DAY = 86_400
MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC


def _random_log(n: int = 300, n_items: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = MONDAY + rng.integers(0, 20 * DAY, n)
    t[5:40:3] = t[4]                                           # plenty of ties
    return pd.DataFrame({"user": rng.integers(1, 30, n), "item": rng.integers(1, n_items + 1, n),
                         "timestamp": t.astype("int64")})


@pytest.fixture(scope="module")
def synth():
    return data.synthetic()


@pytest.fixture(scope="module")
def synth_source(synth):
    return S.EventSource(synth.interactions, encode=True)


# ----------------------------------------------------------------------------- replay
def test_replay_is_time_ordered_with_ties_in_row_order(tmp_path):
    df = pd.DataFrame({"user": [1, 2, 3, 4, 5], "item": [10, 20, 30, 40, 50], "timestamp": [5, 3, 5, 1, 3]})
    events = list(S.EventSource(df))
    assert [e.row for e in events] == [3, 1, 4, 0, 2]
    assert [e.timestamp for e in events] == [1, 3, 3, 5, 5]
    assert [e.item for e in events] == [40, 20, 50, 10, 30]
    df.to_csv(tmp_path / "log.csv", index=False)
    df.to_parquet(tmp_path / "log.parquet")
    for path in (tmp_path / "log.csv", tmp_path / "log.parquet"):
        assert [e.row for e in S.EventSource(path)] == [3, 1, 4, 0, 2]
    assert [e.row for e in S.EventSource(df, start=3, end=5)] == [1, 4]
    enc = S.EventSource(df, encode=True)
    assert [e.item for e in enc] == [4, 2, 5, 1, 3] and enc.n_items == 5
    assert [len(b) for b in enc.batches(2)] == [2, 2, 1]


def test_speed_sleeps_scaled_gaps_capped():
    df = pd.DataFrame({"user": 1, "item": 1, "timestamp": [0, 10, 10, 1000, 1001]})
    slept: list[float] = []
    list(S.EventSource(df, speed=10, max_sleep=5.0, sleep=slept.append))
    assert slept == [1.0, 5.0, 0.1]                             # no sleep for the tie; 99 s capped at 5
    slept.clear()
    list(S.EventSource(df, sleep=slept.append))
    assert slept == []


def test_bad_input_is_rejected_clearly(tmp_path):
    with pytest.raises(data.DataError, match="timestamp"):
        S.EventSource(pd.DataFrame({"user": [1], "item": [1]}))
    with pytest.raises(data.DataError, match="non-numeric timestamp"):
        S.EventSource(pd.DataFrame({"user": [1, 2], "item": [1, 1], "timestamp": [1.0, np.nan]}))
    with pytest.raises(ValueError, match="speed"):
        S.EventSource(pd.DataFrame({"user": [1], "item": [1], "timestamp": [1]}), speed=0)
    with pytest.raises(data.DataError, match="does not exist"):
        S.EventSource(tmp_path / "nope.csv")
    state = S.StreamState()
    state.update(S.Event(1, 1, 100))
    with pytest.raises(ValueError, match="backwards"):
        state.update(S.Event(1, 2, 99))
    with pytest.raises(ValueError, match="encoded id"):
        S.OnlinePopularity(5).learn_one(S.Event(1, 9, 1))


# ----------------------------------------------------------------------------- windowed state
def test_window_and_decayed_state_equal_batch_windows():
    df = _random_log()
    n_items, window, hl = 12, 3 * DAY, DAY / 2
    state = S.StreamState(window_seconds=window, half_life_seconds=hl)
    src = S.EventSource(df)
    for pos, ev in enumerate(src):
        state.update(ev)
        prefix = src.frame.iloc[: pos + 1]
        np.testing.assert_array_equal(state.window_array(n_items),
                                      W.recent_popularity(prefix, ev.timestamp, window, n_items))
        if pos % 25 == 0:
            batch = W.decayed_popularity(prefix, ev.timestamp, hl, n_items)
            got = [state.decayed.value(i) for i in range(1, n_items + 1)]
            np.testing.assert_allclose(got, batch[1:], rtol=1e-9)
    items, times = state.history(int(df["user"].iloc[0]))
    assert np.all(np.diff(times) >= 0) and len(items) == (df["user"] == df["user"].iloc[0]).sum()


def test_window_counts_equal_sliding_counts_on_its_grid():
    df = _random_log(seed=1)
    expected = W.sliding_counts(df, window="2D", step="1D")
    end_s = ((pd.to_datetime(expected["window_end"], utc=True) - pd.Timestamp(0, tz="UTC"))
             // pd.Timedelta(seconds=1)).to_numpy()
    ends = np.unique(end_s)
    state = S.StreamState(window_seconds="2D", half_life_seconds=None)
    events = list(S.EventSource(df))
    pos = 0
    for end in ends:
        while pos < len(events) and events[pos].timestamp <= end:
            state.update(events[pos])
            pos += 1
        state.advance(int(end))
        rows = expected[end_s == end]
        assert dict(state.window_counts) == dict(zip(rows["item"], rows["count"])), f"window ending {end}"


def test_online_popularity_is_exact_decayed_popularity(synth_source):
    hl = 2 * DAY
    learner = S.OnlinePopularity(synth_source.n_items, hl)
    frame = synth_source.frame
    for pos, ev in enumerate(synth_source):
        if pos in (10, 500, 1700):
            now = ev.timestamp + 3600
            batch = W.decayed_popularity(frame.iloc[:pos], now, hl, synth_source.n_items)
            np.testing.assert_allclose(learner.score_one(ev.user, now), batch, rtol=1e-9, atol=1e-12)
        learner.learn_one(ev)


# ----------------------------------------------------------------------------- ranking helpers
def test_rank_of_and_top_k_agree_with_metrics():
    rng = np.random.default_rng(0)
    s = rng.integers(0, 5, size=(50, 31)).astype(np.float64)    # many ties
    targets = rng.integers(1, 31, 50)
    mask = rng.random((50, 31)) < 0.2
    mask[:, 0] = True
    want = M.target_ranks(torch.from_numpy(s), torch.from_numpy(targets), torch.from_numpy(mask)).numpy()
    tops = M.topk_items(torch.from_numpy(s), torch.from_numpy(mask), 7).numpy()
    for b in range(50):
        excl = np.flatnonzero(mask[b, 1:]) + 1
        assert S.rank_of(s[b], int(targets[b]), excl)[0] == want[b]
        np.testing.assert_array_equal(S.top_k(s[b], 7, excl), tops[b])


# ----------------------------------------------------------------------------- test-then-train
class _Recorder(S.OnlineLearner):
    """Logs every call; scores the item of the last event it learned highest (a leak would make that a hit)."""

    def __init__(self, n_items: int) -> None:
        super().__init__(n_items)
        self.calls: list[tuple] = []
        self.learned: list[S.Event] = []

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
    res = S.prequential(synth_source, learner, k=1, batch_size=batch_size, progress=False, mask_seen=False)
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
        hits.append(S.rank_of(cheat.score_one(ev.user, ev.timestamp), ev.item)[0] == 0)
    assert np.mean(hits) == 1.0


def test_prequential_ranks_match_brute_force(synth_source):
    hl = 3 * DAY
    res = S.prequential(synth_source, S.OnlinePopularity(synth_source.n_items, hl), every=13, progress=False)
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
    assert {"HR@10", "NDCG@10", "timestamp", "user", "item", "rank"} <= set(res.columns)


def test_online_learners_beat_static_popularity_on_item_life_cycles(synth_source):
    frame, n_users, n_items = synth_source.frame, synth_source.n_users, synth_source.n_items
    cut = int(frame["timestamp"].quantile(0.3))
    static = S.Static(Popularity().fit(frame[frame["timestamp"] < cut], n_users, n_items))
    learners = {
        "static": static,
        "online": S.OnlinePopularity(n_items, 3 * DAY),
        "knn": S.OnlineItemKNN(n_items, window=10),
        "retrain": S.PeriodicRetrain(Popularity, 7 * DAY, n_users, n_items),
    }
    table, results = S.compare_online(lambda: synth_source, learners, start=cut, progress=False)
    ndcg = table["NDCG@10"]
    assert ndcg["online"] > ndcg["static"] + 0.15                 # planted: items fade after launch
    assert ndcg["retrain"] > ndcg["static"]
    assert ndcg["knn"] > 0.25 and learners["retrain"].n_fits >= 4
    assert (results["online"]["timestamp"] >= cut).all()
    per_week = S.over_time(results["online"], "W")
    assert per_week["n"].sum() == len(results["online"]) and per_week["NDCG@10"].between(0, 1).all()


def test_river_mf_learns_online(synth_source):
    learner = S.RiverMF(synth_source.n_items, n_factors=8, seed=0)
    res = S.prequential(synth_source, learner, every=3, progress=False, max_events=1200)
    assert res["event"].max() < 1200 and len(learner._known) > 10
    late = res[res["event"] > 600]
    assert late["HR@10"].mean() > 0.4                           # random: 10 / 40 items
    assert len(learner.predict_one(1, 0, k=5)) == 5


def test_online_sequence_model_fine_tunes_in_micro_batches(synth_source):
    from tsrec.models.sequential import SASRec

    threads = torch.get_num_threads()
    torch.set_num_threads(1)                                      # a tiny model: more threads only contend
    try:
        torch.manual_seed(0)
        model = SASRec(synth_source.n_items, max_len=16, hidden=16, n_blocks=1, dropout=0.0)
        before = model.item_emb.weight.detach().clone()
        learner = S.OnlineSequenceModel(model, update_every=100, steps=2, lr=3e-3)
        res = S.prequential(synth_source, learner, every=20, batch_size=20, progress=False, max_events=600)
    finally:
        torch.set_num_threads(threads)
    assert learner.n_updates == 6 and np.isfinite(learner.last_loss)
    assert not torch.equal(before, model.item_emb.weight)
    assert res["NDCG@10"].between(0, 1).all() and len(res) == 30


def test_static_wrapper_never_changes_the_model(synth_source):
    frame = synth_source.frame
    pop = Popularity().fit(frame.iloc[:100], synth_source.n_users, synth_source.n_items)
    counts = pop.counts.copy()
    learner = S.Static(pop)
    S.prequential(synth_source, learner, every=50, progress=False)
    np.testing.assert_array_equal(pop.counts, counts)
    assert learner.state.n_events == len(frame)


# ----------------------------------------------------------------------------- drift
def test_adwin_finds_planted_change_point():
    rng = np.random.default_rng(0)
    series = pd.Series(np.r_[rng.random(1000) < 0.1, rng.random(1000) < 0.6].astype(float),
                       index=MONDAY + np.arange(2000) * 60)
    points = S.drift_points(series)
    assert points, "ADWIN found no change"
    first = (points[0] - MONDAY) // 60
    assert 1000 <= first <= 1300
    assert S.drift_points(np.full(1000, 0.3)) == []


def test_plot_over_time_draws_each_learner(synth_source):
    import matplotlib

    matplotlib.use("Agg")
    res = S.prequential(synth_source, S.OnlinePopularity(synth_source.n_items), every=5, progress=False)
    ax = S.plot_over_time({"online": res, "again": res}, "NDCG@10", freq="W", drift=True)
    assert len(ax.get_lines()) >= 2 and ax.get_ylabel() == "NDCG@10"
