"""Tests of tsrec.models.rating: biased MF and timeSVD++ minimise the book's objective J when trained by
tsrec.training, recover planted biases and drift, and never use feedback from after a prediction's time."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synthetic_logs import DAY, T0, planted_ratings, query
from tsrec.models.rating import BiasedMF, TimeSVDpp
from tsrec.training import train


def test_biasedmf_objective_is_the_books_J_and_beats_the_global_mean():
    df = planted_ratings()
    m0 = BiasedMF(40, 30, dim=3, reg=0.5, seed=1).prepare(df)  # initial parameters, no training
    y, u, i = df["rating"].to_numpy(float), df["user"].to_numpy(), df["item"].to_numpy()
    P, Q = m0.params["P"].detach().double().numpy(), m0.params["Q"].detach().double().numpy()
    bu, bi = m0.params["b_u"].detach().double().numpy(), m0.params["b_i"].detach().double().numpy()
    yhat = y.mean() + bu[u] + bi[i] + (P[u] * Q[i]).sum(1)
    J = 0.5 * ((y - yhat) ** 2).sum() + 0.5 * ((P ** 2).sum() + (Q ** 2).sum() + (bu ** 2).sum() + (bi ** 2).sum())
    assert float(m0.objective(df).detach()) == pytest.approx(J, rel=1e-5)
    # train: full batch, so each epoch's loss is J before its step, and J goes down
    train_df, test = df.iloc[:1000], df.iloc[1000:]
    m = BiasedMF(40, 30, dim=3, reg=0.5, seed=1)
    result = train(m, train_df, lr=0.05, epochs=150, progress=False)
    Js = result.history["loss"].to_numpy()
    first = BiasedMF(40, 30, dim=3, reg=0.5, seed=1).prepare(train_df)
    assert Js[0] == pytest.approx(float(first.objective(train_df).detach()), rel=1e-5)
    assert Js[-1] < 0.2 * Js[0] and float(m.objective(train_df).detach()) <= Js[-1]
    gm = float(np.sqrt(((test["rating"] - train_df["rating"].mean()) ** 2).mean()))
    got = m.rating_metrics(test)
    assert got["RMSE"] < 0.7 * gm and got["MAE"] < got["RMSE"]
    # the learned biases recover the planted ones
    rng_bu = np.random.default_rng(0).normal(0, 0.6, 41)
    assert np.corrcoef(m.params["b_u"].detach().numpy()[1:], rng_bu[1:])[0, 1] > 0.9
    # mini-batch sums to the same objective over an epoch and also learns
    mb = BiasedMF(40, 30, dim=3, reg=0.5, seed=1)
    train(mb, train_df, lr=0.02, epochs=30, batch_size=128, progress=False)
    assert mb.rating_metrics(test)["RMSE"] < 0.8 * gm
    # score() ranks every item by predicted rating at the query time
    s = m.score(query([1, 2], T0))
    assert s.shape == (2, 31) and torch.isneginf(s[:, 0]).all()
    m.clip = False
    np.testing.assert_allclose(s[0, 1:].numpy(), m.predict(np.ones(30, int), np.arange(1, 31)), atol=1e-5)


def test_minibatch_losses_sum_to_J_over_an_epoch():
    df = planted_ratings(n=300)
    m = BiasedMF(40, 30, dim=2, reg=0.5, seed=0).prepare(df)
    u, i, t, y = m.tensors(df)
    parts = [m.loss(u[s:s + 64], i[s:s + 64], t[s:s + 64], y[s:s + 64], len(y[s:s + 64]) / len(y))
             for s in range(0, len(y), 64)]
    assert float(sum(parts).detach()) == pytest.approx(float(m.objective(df).detach()), rel=1e-5)


def test_validation_keeps_the_best_rmse():
    df = planted_ratings(n=1500, seed=2)
    train_df, valid = df.iloc[:1200], df.iloc[1200:]
    m = BiasedMF(40, 30, dim=3, reg=0.5, seed=0)
    res = train(m, train_df, lr=0.05, epochs=60, eval_every=10, progress=False,
                validate=lambda model: model.rating_metrics(valid, history=valid))
    assert list(res.history.columns) == ["epoch", "loss", "RMSE", "seconds"]
    checked = res.history.dropna(subset=["RMSE"])
    assert checked["epoch"].tolist() == [10, 20, 30, 40, 50, 60]
    assert res.best_metrics["RMSE"] == checked["RMSE"].min() and res.best_epoch == int(
        checked.loc[checked["RMSE"].idxmin(), "epoch"])
    assert m.rating_metrics(valid, history=valid)["RMSE"] == pytest.approx(res.best_metrics["RMSE"])


def test_timesvdpp_captures_planted_drift_better_than_biasedmf():
    df = planted_ratings(n=2500, drift=1.0, item_drift=0.8, seed=3)
    rng = np.random.default_rng(0)
    test_mask = rng.random(len(df)) < 0.2
    train_df, test = df[~test_mask], df[test_mask]
    mf = BiasedMF(40, 30, dim=2, reg=0.5, seed=0)
    ts = TimeSVDpp(40, 30, n_bins=4, dim=2, reg=0.5, seed=0)
    for model in (mf, ts):
        train(model, train_df, lr=0.05, epochs=200, progress=False)
    r_mf, r_ts = mf.rating_metrics(test)["RMSE"], ts.rating_metrics(test)["RMSE"]
    assert r_ts < 0.85 * r_mf, (r_ts, r_mf)
    # the objective covers the extra parameters: J = 1/2 SSE + reg * sum of all theta^2
    u, i, t = (torch.tensor(train_df[c].to_numpy()) for c in ("user", "item", "timestamp"))
    with torch.no_grad():
        sse = ((torch.tensor(train_df["rating"].to_numpy()) - ts._forward(u, i, t.double())) ** 2).sum()
    theta2 = sum(float((p.detach() ** 2).sum()) for p in ts.params.values())
    assert set(ts.params) == {"b_u", "alpha_u", "b_i", "b_i_bin", "P", "Q", "Y"}
    assert float(ts.objective(train_df).detach()) == pytest.approx(0.5 * float(sse) + 0.5 * theta2, rel=1e-4)
    # the implicit term as of t uses only items from before t (history after t changes nothing)
    hist = test[["user", "item", "timestamp"]]
    t_cut = int(T0 + 150 * DAY)
    a = ts.predict([1, 2], [3, 4], [t_cut, t_cut], history=hist)
    b = ts.predict([1, 2], [3, 4], [t_cut, t_cut], history=hist[hist["timestamp"] < t_cut])
    np.testing.assert_allclose(a, b, rtol=1e-6)
    c = ts.predict([1, 2], [3, 4], [t_cut + 100 * DAY, t_cut + 100 * DAY], history=hist)
    assert not np.allclose(a, c)  # ... while a later time sees it


def test_bad_input_raises_clear_value_errors():
    df = planted_ratings(n=200)
    with pytest.raises(ValueError, match="rating"):
        train(BiasedMF(40, 30), df.drop(columns="rating"), progress=False)
    nan = df.copy()
    nan.loc[3, "rating"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        train(BiasedMF(40, 30), nan, progress=False)
    with pytest.raises(ValueError, match="user ids must lie in 1..20"):
        train(BiasedMF(20, 30), df, progress=False)
    m = BiasedMF(40, 30, dim=2)
    with pytest.raises(RuntimeError, match="not fitted"):
        m.predict([1], [1])
    train(m, df, epochs=3, progress=False)
    with pytest.raises(ValueError, match="unknown user"):
        m.predict([41], [1])
    with pytest.raises(ValueError, match="unknown user"):
        m.score(query([0], T0))
    with pytest.raises(ValueError, match="item ids"):
        m.predict([1], [31])
    ts = TimeSVDpp(40, 30, dim=2)
    train(ts, df, epochs=2, progress=False)
    with pytest.raises(ValueError, match="times"):
        ts.predict([1], [1])
    for bad in ({"reg": -1.0}, {"dim": -1}, {"n_users": 0}):
        with pytest.raises(ValueError):
            BiasedMF(**{"n_users": 40, "n_items": 30, **bad})
    with pytest.raises(ValueError, match="n_bins"):
        TimeSVDpp(40, 30, n_bins=0)
