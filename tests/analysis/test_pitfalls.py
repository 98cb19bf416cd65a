"""Tests of tsrec.analysis.pitfalls: the training view, learning curves through the one training loop, early
stopping read off a curve, tie orders, duplicated rows, popularity counted once per batch, pickled sizes."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_logs import T0, counting_log, frame
from tsrec import splits
from tsrec.analysis import pitfalls as P
from tsrec.evaluate import evaluate
from tsrec.models.popularity import Popularity
from tsrec.models.sequential import SASRec
from tsrec.prep import time_order
from tsrec.training import TrainConfig


def test_training_view_predicts_each_users_last_training_event_from_the_earlier_ones():
    sp = splits.leave_one_out(counting_log(n_users=10, length=6))
    view = P.training_view(sp)
    last = time_order(sp.train).groupby("user").tail(1).set_index("user")["item"]
    assert view.valid.set_index("user")["item"].sort_index().equals(last.sort_index())
    assert len(view.train) + len(view.valid) == len(sp.train) and len(view.test) == 0
    assert view.n_items == sp.n_items and view.history("valid") is view.train


def test_stage_ranks_equal_the_evaluators_ranks():
    sp = splits.leave_one_out(counting_log(n_users=20, length=8))
    pop = Popularity().fit(sp.train, sp.n_users, sp.n_items)
    for stage in ("valid", "test"):
        _, per = evaluate(pop, sp, stage, ks=(10,), per_user=True)
        assert np.array_equal(P.StageRanks(sp, stage).ranks(pop), per["rank"].to_numpy())


def test_learning_curves_follow_the_training_loop_and_keep_the_last_weights():
    sp = splits.leave_one_out(counting_log(n_users=30, n_items=20, length=10))
    model = SASRec(sp.n_items, max_len=8, hidden=16, n_blocks=1)
    result, curves, last = P.learning_curves(model, sp, TrainConfig(epochs=3, patience=3, progress=False,
                                                                   windows="last", device="cpu"))
    assert list(curves["epoch"]) == [1, 2, 3] and list(curves.columns[:2]) == ["epoch", "loss"]
    assert {"fit NDCG@10", "valid NDCG@10", "fit HR@10", "valid HR@10"} <= set(curves.columns)
    assert np.allclose(curves["loss"], result.history["loss"])
    assert result.best_epoch == int(curves["valid NDCG@10"].to_numpy().argmax()) + 1
    best = evaluate(model, sp, "valid", ks=(10,))["NDCG@10"]          # train restored the best epoch's weights
    assert best == pytest.approx(curves["valid NDCG@10"].max())
    model.load_state_dict(last)
    assert evaluate(model, sp, "valid", ks=(10,))["NDCG@10"] == pytest.approx(curves["valid NDCG@10"].iloc[-1])


def test_early_stop_epoch():
    assert P.early_stop_epoch([0.1, 0.2, 0.15, 0.14, 0.3], patience=2) == (2, 4)
    assert P.early_stop_epoch([0.1, 0.2, 0.3], patience=2) == (3, 3)
    assert P.early_stop_epoch([0.1, 0.1, 0.1], patience=1) == (1, 2)
    assert P.early_stop_epoch([0.1, 0.105, 0.3], patience=1, min_delta=0.01) == (1, 2)


def test_tie_order_decides_which_tied_event_is_last():
    df = frame([1, 1, 1, 1], [5, 3, 9, 7], [T0, T0 + 1, T0 + 1, T0 + 1])
    last = {o: splits.leave_one_out(P.tie_order(df, o)).test["item"] for o in P.TIE_ORDERS if o != "random"}
    raw = {o: splits.leave_one_out(P.tie_order(df, o)).item_map.decode(v.to_numpy())[0] for o, v in last.items()}
    assert raw == {"file row": 7, "item id": 9, "item id, descending": 3}
    a, b = P.tie_order(df, "random", seed=1), P.tie_order(df, "random", seed=1)
    assert a.equals(b) and sorted(a["item"]) == sorted(df["item"])
    with pytest.raises(ValueError, match="order must be one of"):
        P.tie_order(df, "alphabetical")


def test_duplicate_rows():
    df = frame([1, 1, 2], [1, 2, 3], [T0, T0 + 1, T0 + 2])
    out = P.duplicate_rows(df, [1], 3)
    assert len(out) == 3 + 3 * 2 and (out["user"] == 1).sum() == 8 and out.iloc[:3].equals(df)
    assert P.duplicate_rows(df, [1], 0).equals(df)
    with pytest.raises(ValueError, match="copies"):
        P.duplicate_rows(df, [1], -1)


def test_batch_counts_add_one_per_batch():
    items = np.array([1, 1, 1, 2, 2, 3])
    true = np.bincount(items, minlength=4)
    assert np.array_equal(P.batch_counts(items, 3, batch_size=1), true)            # one event a batch: exact
    assert np.array_equal(P.batch_counts(items, 3, batch_size=6), [0, 1, 1, 1])    # one batch: every item once
    c = P.batch_counts(items, 3, batch_size=2, seed=3)
    assert c.sum() <= len(items) and (c[1:] >= 1).all() and (c <= true).all()
    with pytest.raises(ValueError, match="batch_size"):
        P.batch_counts(items, 3, batch_size=0)


def test_pickled_bytes_grow_with_the_object():
    assert P.pickled_bytes(np.zeros(1000)) > P.pickled_bytes(np.zeros(10)) > 0
    assert P.pickled_bytes(pd.DataFrame({"a": range(100)})) > 0
