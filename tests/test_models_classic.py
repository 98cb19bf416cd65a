"""Tests of the classical recommenders: popularity (all-time, recent, decayed), item-kNN, BPR-MF,
biased MF and timeSVD++ on the book's objective, content-kNN and hybrids. Tiny data, seconds each."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec import prep
from tsrec.models.base import QueryBatch, queries_from_frames
from tsrec.models.content import ContentKNN, Hybrid, genre_matrix, genre_names
from tsrec.models.knn import ItemKNN, interaction_matrix
from tsrec.models.mf import BPRMF, BiasedMF, TimeSVDpp
from tsrec.models.popularity import DecayedPopularity, Popularity, RecentPopularity




DAY = 86_400
T0 = 1_704_067_200  # 2024-01-01 UTC


def _frame(users, items, times, ratings=None) -> pd.DataFrame:
    df = pd.DataFrame({"user": np.asarray(users, dtype=np.int64), "item": np.asarray(items, dtype=np.int64),
                       "timestamp": np.asarray(times, dtype=np.int64)})
    if ratings is not None:
        df["rating"] = np.asarray(ratings, dtype=np.float32)
    return df


def _query(users, now, items=None, times=None) -> QueryBatch:
    users = np.atleast_1d(np.asarray(users, dtype=np.int64))
    items = items if items is not None else [np.array([], dtype=np.int64) for _ in users]
    times = times if times is not None else [np.array([], dtype=np.int64) for _ in users]
    return QueryBatch(users, [np.asarray(x, dtype=np.int64) for x in items],
                      [np.asarray(x, dtype=np.int64) for x in times], np.broadcast_to(np.asarray(now), users.shape).copy())


def _random_log(n=400, n_users=25, n_items=15, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return _frame(rng.integers(1, n_users + 1, n), rng.integers(1, n_items + 1, n),
                  T0 + rng.integers(0, 30 * DAY, n))


# ============================================================================= popularity
def test_popularity_equals_numpy_count():
    df = _random_log()
    m = Popularity().fit(df, 25, 15)
    s = m.score(_query([1, 2, 3], T0))
    expected = np.bincount(df["item"], minlength=16).astype(float)
    expected[0] = 0
    assert s.shape == (3, 16)
    np.testing.assert_array_equal(s.numpy(), np.tile(expected, (3, 1)))


def test_recent_and_decayed_popularity_hand_computed():
    now = T0 + 10 * DAY
    # item 1: 10 s and 100 s ago; item 2: 5000 s ago and exactly at now - 1000 (outside the half-open window);
    # item 3: only in the future
    df = _frame([1, 2, 3, 4, 5], [1, 1, 2, 2, 3], [now - 10, now - 100, now - 5000, now - 1000, now + 1])
    rp = RecentPopularity(1000, tiebreak=False).fit(df, 5, 3)
    np.testing.assert_array_equal(rp.counts_at(np.array([now]))[0], [0, 2, 0, 0])
    np.testing.assert_array_equal(rp.score(_query([1], now)).numpy()[0], [0, 2, 0, 0])
    np.testing.assert_array_equal(rp.counts_at(np.array([now - 1000]))[0], [0, 0, 1, 0])   # (now-2000, now-1000]
    dp = DecayedPopularity(100).fit(df, 5, 3)
    got = dp.scores_at(np.array([now, now + 1, now - 20_000]))
    np.testing.assert_allclose(got[0], [0, 0.5 ** 0.1 + 0.5, 0.5 ** 50 + 0.5 ** 10, 0], rtol=1e-12)
    np.testing.assert_allclose(got[1], [0, 0.5 ** 0.11 + 0.5 ** 1.01, 0.5 ** 50.01 + 0.5 ** 10.01, 1.0], rtol=1e-12)
    np.testing.assert_array_equal(got[2], [0, 0, 0, 0])
    # with tiebreak, equal window counts are ordered by the count as of now, and the scores stay below count + 1
    s = RecentPopularity(50).fit(df, 5, 3).score(_query([1], now)).numpy()[0]
    assert s[1] >= 1 and s[2] > s[3] == 0 and s[1] < 2


@pytest.mark.parametrize("model", [RecentPopularity(3 * DAY, tiebreak=False), RecentPopularity(3 * DAY),
                                   DecayedPopularity(2 * DAY)])
def test_time_aware_popularity_never_sees_the_future(model):
    df = _random_log(600)
    nows = T0 + np.array([2, 9, 17, 25]) * DAY + 123
    full = model.fit(df, 25, 15).score(_query([1, 2, 3, 4], nows)).numpy()
    for q, now in enumerate(nows):
        past = df[df["timestamp"] <= now]
        alone = type(model)(**_params(model)).fit(past, 25, 15).score(_query([1], now)).numpy()[0]
        np.testing.assert_allclose(full[q], alone, rtol=1e-6)
    # brute force per query: count / decayed sum over events with t <= now
    t, it = df["timestamp"].to_numpy(), df["item"].to_numpy()
    for q, now in enumerate(nows):
        if isinstance(model, DecayedPopularity):
            m = t <= now
            want = np.bincount(it[m], weights=0.5 ** ((now - t[m]) / (2 * DAY)), minlength=16)
            np.testing.assert_allclose(full[q], want, rtol=1e-5)
        elif not model.tiebreak:
            m = (t <= now) & (t > now - 3 * DAY)
            np.testing.assert_array_equal(full[q], np.bincount(it[m], minlength=16))


def _params(model):
    if isinstance(model, RecentPopularity):
        return {"window_seconds": model.window_seconds, "tiebreak": model.tiebreak}
    return {"half_life_seconds": model.half_life_seconds}


def test_popularity_reproduces_the_ml100k_anchor():
    """Pop on ML-100K leave-one-out (ties in file-row order): valid HR@10 0.0742, test 0.0859, NDCG@10 0.0449."""
    from tsrec import data
    from tsrec.evaluate import eval_queries, evaluate
    from tsrec.models.base import seen_mask

    try:
        ds = data.load("ml-100k")
    except data.DataError as e:  # not fetched (make data)
        pytest.skip(str(e))
    split = prep.leave_one_out(ds.interactions)
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
    # the same through the evaluator, if its tie policy is "equal scores by item id" (BOOK.md)
    probe = tsrec_rank_of_tie()
    if probe != 0:
        pytest.skip("tsrec.metrics.target_ranks breaks score ties conservatively, not by item id: the anchor "
                    "is reproduced above with id order; evaluate() gives slightly lower numbers")
    m = Popularity().fit(split.train, split.n_users, split.n_items)
    assert round(evaluate(m, split, "valid")["HR@10"], 4) == 0.0742
    out = evaluate(Popularity().fit(split.history("test"), split.n_users, split.n_items), split, "test")
    assert round(out["HR@10"], 4) == 0.0859 and round(out["NDCG@10"], 4) == 0.0449


def tsrec_rank_of_tie() -> int:
    """Rank the metrics module gives a target tied with a higher-id item (0 = id order, 1 = conservative)."""
    from tsrec import metrics

    return int(metrics.target_ranks(torch.tensor([[0.0, 1.0, 1.0]]), torch.tensor([1]))[0])


# ============================================================================= item-kNN
def test_itemknn_similarity_equals_bruteforce_cosine():
    rng = np.random.default_rng(1)
    X = (rng.random((12, 8)) < 0.4).astype(float)
    X[0] = 1  # user 1 sees everything
    u, i = np.nonzero(X)
    df = _frame(u + 1, i + 1, T0 + np.arange(len(u)))
    for shrink in (0.0, 3.0):
        m = ItemKNN(k_neighbors=100, shrink=shrink, block_size=3).fit(df, 12, 8)
        co = X.T @ X
        n = X.sum(0)
        want = co / (np.sqrt(np.outer(n, n)) + shrink)
        np.fill_diagonal(want, 0)
        got = m.sim.toarray()
        np.testing.assert_allclose(got[1:, 1:], want, rtol=1e-12)
        assert (got[0] == 0).all() and (got[:, 0] == 0).all()
    # top-k keeps the k largest similarities of every row
    m2 = ItemKNN(k_neighbors=2, shrink=0.0).fit(df, 12, 8)
    want = co / np.sqrt(np.outer(n, n))
    np.fill_diagonal(want, 0)
    for j in range(1, 9):
        row = m2.sim[j].toarray()[0]
        assert (row > 0).sum() <= 2
        np.testing.assert_allclose(np.sort(row)[-2:], np.sort(want[j - 1])[-2:], rtol=1e-12)
    # jaccard
    mj = ItemKNN(similarity="jaccard", shrink=0.0).fit(df, 12, 8)
    wj = co / (n[:, None] + n[None, :] - co)
    np.fill_diagonal(wj, 0)
    np.testing.assert_allclose(mj.sim.toarray()[1:, 1:], wj, rtol=1e-12)
    assert interaction_matrix(pd.concat([df, df]), 12, 8).max() == 1  # repeats count once


def _cooccurrence_log() -> pd.DataFrame:
    """Item 1 always with item 2 (8 users), item 3 with item 4 (5 users), item 5 alone and popular."""
    rows = [(u, 1) for u in range(1, 9)] + [(u, 2) for u in range(1, 9)]
    rows += [(u, 3) for u in range(9, 14)] + [(u, 4) for u in range(9, 14)]
    rows += [(u, 5) for u in range(14, 30)]
    rows += [(30, 1), (30, 3)]
    u, i = zip(*rows)
    return _frame(u, i, T0 + np.arange(len(rows)))


def test_itemknn_recommends_the_cooccurring_item_and_decay_favours_recent_history():
    df = _cooccurrence_log()
    m = ItemKNN(k_neighbors=10, shrink=0.0).fit(df, 31, 5)
    top = m.recommend(_query([31], T0 + DAY, [[1]], [[T0]]), k=1)
    assert top[0, 0] == 2                              # not the popular item 5
    # history: item 1 long ago, item 3 just now -> with decay, item 3's neighbour 4 wins
    q = _query([31], T0 + 30 * DAY, [[1, 3]], [[T0, T0 + 30 * DAY - 60]])
    assert m.recommend(q, k=1)[0, 0] == 2              # no decay: item 1's stronger co-occurrence wins
    md = ItemKNN(k_neighbors=10, shrink=0.0, time_decay_half_life=DAY).fit(df, 31, 5)
    assert md.recommend(q, k=1)[0, 0] == 4
    s = md.score(q).numpy()[0]
    np.testing.assert_allclose(s[4], m.sim[3, 4] * 0.5 ** (60 / DAY), rtol=1e-6)


# ============================================================================= BPR-MF
def _two_clusters(seed=0):
    """30 users like items 1-10, 15 users like items 11-20; each user sees 7 of their 10 items over time."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, 46):
        block = np.arange(1, 11) if u <= 30 else np.arange(11, 21)
        for k, it in enumerate(rng.permutation(block)[:7]):
            rows.append((u, it, T0 + u * 1000 + k))
    u, i, t = zip(*rows)
    return _frame(u, i, t)


def test_bprmf_learns_planted_clusters_and_beats_popularity():
    from tsrec.evaluate import evaluate

    split = prep.leave_one_out(_two_clusters())
    pop = evaluate(Popularity().fit(split.train, split.n_users, split.n_items), split, "test", ks=(5,))
    bpr = BPRMF(dim=8, lr=0.05, reg=1e-4, epochs=20, batch_size=64, seed=0, progress=False)
    bpr.fit_split(split, patience=5)
    res = evaluate(bpr, split, "test", ks=(5,))
    assert res["HR@5"] >= 0.9 and res["HR@5"] > pop["HR@5"] + 0.2, (res, pop)
    assert 1 <= bpr.best_epoch_ <= 20 and "valid_NDCG@10" in bpr.history_[0]
    # same seed, same numbers
    again = BPRMF(dim=8, lr=0.05, reg=1e-4, epochs=5, batch_size=64, seed=0, progress=False)
    first = BPRMF(dim=8, lr=0.05, reg=1e-4, epochs=5, batch_size=64, seed=0, progress=False)
    q = _query([1, 40], T0)
    a = first.fit(split.train, split.n_users, split.n_items).score(q)
    b = again.fit(split.train, split.n_users, split.n_items).score(q)
    assert torch.equal(a, b)


# ============================================================================= rating models
def _planted_ratings(n_users=40, n_items=30, n=1200, seed=0, drift=0.0, item_drift=0.0):
    """Ratings = 3.5 + user bias + item bias (+ a user drift over time and an item bias that flips mid-way) + noise."""
    rng = np.random.default_rng(seed)
    bu, bi = rng.normal(0, 0.6, n_users + 1), rng.normal(0, 0.6, n_items + 1)
    flip = rng.choice([-1.0, 1.0], n_items + 1)
    u, i = rng.integers(1, n_users + 1, n), rng.integers(1, n_items + 1, n)
    days = rng.uniform(0, 200, n)
    y = 3.5 + bu[u] + bi[i] + drift * np.where(u % 2 == 0, 1, -1) * (days - 100) / 100
    y = y + item_drift * flip[i] * np.where(days > 100, 1.0, -1.0) + rng.normal(0, 0.3, n)
    return _frame(u, i, T0 + (days * DAY).astype(np.int64), ratings=y)


def test_biasedmf_objective_is_the_books_J_and_beats_the_global_mean():
    df = _planted_ratings()
    m0 = BiasedMF(dim=3, reg=0.5, epochs=0, seed=1, progress=False).fit(df, 40, 30)
    y, u, i = df["rating"].to_numpy(float), df["user"].to_numpy(), df["item"].to_numpy()
    P, Q = m0.params["P"].detach().double().numpy(), m0.params["Q"].detach().double().numpy()
    bu, bi = m0.params["b_u"].detach().double().numpy(), m0.params["b_i"].detach().double().numpy()
    yhat = y.mean() + bu[u] + bi[i] + (P[u] * Q[i]).sum(1)
    J = 0.5 * ((y - yhat) ** 2).sum() + 0.5 * ((P ** 2).sum() + (Q ** 2).sum() + (bu ** 2).sum() + (bi ** 2).sum())
    assert float(m0.objective(df).detach()) == pytest.approx(J, rel=1e-5)
    # train: full batch, J goes down; RMSE beats the global mean on held-out ratings
    train, test = df.iloc[:1000], df.iloc[1000:]
    m = BiasedMF(dim=3, reg=0.5, lr=0.05, epochs=150, seed=1, progress=False).fit(train, 40, 30)
    Js = [h["J"] for h in m.history_]
    assert Js[-1] < 0.2 * Js[0]
    gm = float(np.sqrt(((test["rating"] - train["rating"].mean()) ** 2).mean()))
    got = m.rating_metrics(test)
    assert got["RMSE"] < 0.7 * gm and got["MAE"] < got["RMSE"]
    # the learned biases recover the planted ones
    rng_bu = np.random.default_rng(0).normal(0, 0.6, 41)
    assert np.corrcoef(m.params["b_u"].detach().numpy()[1:], rng_bu[1:])[0, 1] > 0.9
    # mini-batch sums to the same objective over an epoch and also learns
    mb = BiasedMF(dim=3, reg=0.5, lr=0.02, epochs=30, batch_size=128, seed=1, progress=False).fit(train, 40, 30)
    assert mb.rating_metrics(test)["RMSE"] < 0.8 * gm
    # score() ranks every item by predicted rating at the query time
    s = m.score(_query([1, 2], T0))
    m.clip = False
    np.testing.assert_allclose(s[0, 1:].numpy(), m.predict(np.ones(30, int), np.arange(1, 31)), atol=1e-5)
    assert s.shape == (2, 31)


def test_timesvdpp_captures_planted_drift_better_than_biasedmf():
    df = _planted_ratings(n=2500, drift=1.0, item_drift=0.8, seed=3)
    rng = np.random.default_rng(0)
    test_mask = rng.random(len(df)) < 0.2
    train, test = df[~test_mask], df[test_mask]
    kw = dict(dim=2, reg=0.5, lr=0.05, epochs=200, seed=0, progress=False)
    mf = BiasedMF(**kw).fit(train, 40, 30)
    ts = TimeSVDpp(n_bins=4, **kw).fit(train, 40, 30)
    r_mf, r_ts = mf.rating_metrics(test)["RMSE"], ts.rating_metrics(test)["RMSE"]
    assert r_ts < 0.85 * r_mf, (r_ts, r_mf)
    # the objective covers the extra parameters: J = 1/2 SSE + reg * sum of all theta^2
    u, i, t = (torch.tensor(train[c].to_numpy()) for c in ("user", "item", "timestamp"))
    with torch.no_grad():
        sse = ((torch.tensor(train["rating"].to_numpy()) - ts._forward(u, i, t.double())) ** 2).sum()
    theta2 = sum(float((p.detach() ** 2).sum()) for p in ts.params.values())
    assert set(ts.params) == {"b_u", "alpha_u", "b_i", "b_i_bin", "P", "Q", "Y"}
    assert float(ts.objective(train).detach()) == pytest.approx(0.5 * float(sse) + 0.5 * theta2, rel=1e-4)
    # the implicit term as of t uses only items from before t (history after t changes nothing)
    hist = test[["user", "item", "timestamp"]]
    t_cut = int(T0 + 150 * DAY)
    a = ts.predict([1, 2], [3, 4], [t_cut, t_cut], history=hist)
    b = ts.predict([1, 2], [3, 4], [t_cut, t_cut], history=hist[hist["timestamp"] < t_cut])
    np.testing.assert_allclose(a, b, rtol=1e-6)


# ============================================================================= content and hybrid
def test_genre_matrix_is_aligned_to_encoded_ids_and_contentknn_ranks_same_genre_first():
    items = pd.DataFrame({"item": [30, 10, 20, 40, 50, 60],
                          "genres": ["Drama", "Comedy|Drama", "Action", "Comedy", "(no genres listed)", "Action|Sci-Fi"]})
    imap = prep.IdMap.fit([10, 30, 20, 40, 50, 60, 60])
    G, names = genre_matrix(items, imap, return_names=True)
    assert names == genre_names(items) == ["Action", "Comedy", "Drama", "Sci-Fi"]
    assert G.shape == (7, 4) and (G[0] == 0).all()
    np.testing.assert_array_equal(G[imap.encode([10])[0]], [0, 1, 1, 0])
    np.testing.assert_array_equal(G[imap.encode([30])[0]], [0, 0, 1, 0])
    assert (G[imap.encode([50])[0]] == 0).all()
    df = _frame([1, 1, 2], [1, 2, 3], [T0, T0 + 1, T0 + 2])
    m = ContentKNN(G).fit(df, 2, 6)
    q = _query([1], T0 + 10, [imap.encode([20])], [[T0]])             # an Action fan
    top = m.recommend(q, k=2)[0]
    assert top[0] == imap.encode([60])[0]                              # the other Action item first
    # decay: old Action, recent Comedy -> Comedy items lead
    q2 = _query([1], T0 + 100 * DAY, [imap.encode([20, 40])], [[T0, T0 + 100 * DAY - 1]])
    md = ContentKNN(G, time_decay_half_life=DAY)
    assert md.recommend(q2, k=1)[0, 0] == imap.encode([10])[0]
    with pytest.raises(ValueError, match="n_items"):
        ContentKNN(G).fit(df, 2, 5)


def test_hybrid_weights_and_normalisation():
    df = _cooccurrence_log()
    pop, knn = Popularity(), ItemKNN(k_neighbors=10, shrink=0.0)
    h = Hybrid([pop, knn], weights=(1, 0)).fit(df, 31, 5)
    q = queries_from_frames(df, df.drop_duplicates("user")[["user", "timestamp"]].assign(timestamp=T0 + DAY))
    np.testing.assert_array_equal(h.recommend(q, k=3), pop.recommend(q, k=3))
    hz = Hybrid([knn, pop], weights=(1, 0), norm="zscore", fit_models=False).fit(df, 31, 5)
    np.testing.assert_array_equal(hz.recommend(q, k=3), knn.recommend(q, k=3))
    # an equal mix is the sum of min-max scaled scores over each query's unseen items
    mix = Hybrid([pop, knn], weights=(0.5, 0.5), fit_models=False).fit(df, 31, 5)
    qq = _query([31], T0 + DAY, [[1]], [[T0]])
    s = mix.score(qq).numpy()[0]
    cand = np.array([False, False, True, True, True, True])
    want = 0
    for part in (pop.score(qq).numpy()[0], knn.score(qq).numpy()[0]):
        lo, hi = part[cand].min(), part[cand].max()
        want = want + 0.5 * (part - lo) / (hi - lo)
    np.testing.assert_allclose(s[cand], want[cand], rtol=1e-6)
    assert mix.recommend(qq, k=1)[0, 0] == 2
    with pytest.raises(ValueError, match="weights"):
        Hybrid([pop, knn], weights=(1,))


# ============================================================================= bad input
def test_bad_input_raises_clear_value_errors():
    df = _planted_ratings(n=200)
    with pytest.raises(ValueError, match="timestamp"):
        Popularity().fit(df.drop(columns="timestamp"), 40, 30)
    with pytest.raises(ValueError, match="rating"):
        BiasedMF(progress=False).fit(df.drop(columns="rating"), 40, 30)
    nan = df.copy()
    nan.loc[3, "rating"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        BiasedMF(progress=False).fit(nan, 40, 30)
    with pytest.raises(ValueError, match="1..20"):
        ItemKNN().fit(df, 40, 20)
    with pytest.raises(ValueError, match="encoded ids"):
        Popularity().fit(df.assign(item=0), 40, 30)
    m = BiasedMF(dim=2, epochs=3, progress=False).fit(df, 40, 30)
    with pytest.raises(ValueError, match="unknown user"):
        m.predict([41], [1])
    with pytest.raises(ValueError, match="unknown user"):
        m.score(_query([0], T0))
    with pytest.raises(ValueError, match="item ids"):
        m.predict([1], [31])
    ts = TimeSVDpp(dim=2, epochs=2, progress=False).fit(df, 40, 30)
    with pytest.raises(ValueError, match="times"):
        ts.predict([1], [1])
    with pytest.raises(ValueError, match="window_seconds"):
        RecentPopularity(0)
    with pytest.raises(ValueError, match="similarity"):
        ItemKNN(similarity="pearson")
    with pytest.raises(RuntimeError, match="not fitted"):
        Popularity().score(_query([1], T0))
