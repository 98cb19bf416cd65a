"""Tests of tsrec.models.sequential.base, on every sequence model: causality, padding, scoring, learning a rule."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from synthetic_logs import counting_log
from tsrec import splits
from tsrec.evaluate import evaluate
from tsrec.models import sequential as S
from tsrec.queries import QueryBatch
from tsrec.training import train

from .helpers import MONDAY, N_ITEMS, make, queries, random_input

MODEL_CASES = [(S.SASRec, {}), (S.SASRec, {"time_encoding": "calendar"}), (S.SASRec, {"time_encoding": "time2vec"}),
               (S.SASRec, {"time_encoding": "time2vec_now"}), (S.SASRec, {"time_encoding": "log_interval"}),
               (S.TiSASRec, {}), (S.GRU4Rec, {}), (S.LSTM4Rec, {}), (S.NextItNet, {"dilations": (1, 2)}),
               (S.TimeSensitiveModel, {}), (S.LRURec, {})]
IDS = [c.__name__ + "".join(f"-{v}" for v in kw.values()) for c, kw in MODEL_CASES]


def more_padding(x: S.SeqInput, extra: int) -> S.SeqInput:
    z = torch.zeros(len(x.users), extra, dtype=torch.long)
    return S.SeqInput(x.users, *(torch.cat([z, t], 1) for t in (x.items, x.times, x.next_times)))


@pytest.mark.parametrize("cls, kw", MODEL_CASES, ids=IDS)
def test_future_items_do_not_change_earlier_outputs(cls, kw):
    model = make(cls, **kw).eval()
    x = random_input()
    changed = S.SeqInput(x.users, x.items.clone(), x.times, x.next_times)
    changed.items[:, 7] = changed.items[:, 7] % N_ITEMS + 1
    with torch.no_grad():
        a, b = model.encode(x), model.encode(changed)
    torch.testing.assert_close(a[:, :7], b[:, :7], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(a[:, 7:], b[:, 7:])


@pytest.mark.parametrize("cls, kw", MODEL_CASES, ids=IDS)
def test_extra_left_padding_changes_nothing(cls, kw):
    model = make(cls, **kw).eval()
    x = random_input()
    with torch.no_grad():
        a, b = model.encode(x), model.encode(more_padding(x, 5))[:, 5:]
    mask = x.mask
    torch.testing.assert_close(a[mask], b[mask], atol=1e-5, rtol=1e-5)


def test_seq_input_trim_and_from_queries():
    x = random_input(B=2, L=8, pad=4)  # row 0 has 4 real events, row 1 has 3
    t = x.trim()
    assert t.items.shape == (2, 4) and torch.equal(t.items, x.items[:, 4:]) and torch.equal(t.mask, x.mask[:, 4:])
    q = queries()
    s = S.SeqInput.from_queries(q, max_len=6)
    assert s.items.shape == (3, 6) and s.users.tolist() == [1, 2, 3]
    assert s.items[0].tolist() == [0, *q.items[0].tolist()] and s.items[1].tolist() == [0] * 6
    assert s.next_times[:, -1].tolist() == q.now.tolist()  # the last position predicts for the request time
    assert s.next_times[0, 1:-1].tolist() == q.times[0][1:].tolist() and s.next_times[0, 0] == 0


def test_score_shape_pad_column_and_empty_inputs():
    model = make(S.SASRec)
    s = model.score(queries())
    assert s.shape == (3, N_ITEMS + 1) and torch.isneginf(s[:, 0]).all() and torch.isfinite(s[:, 1:]).all()
    assert model.score(queries()[0:0]).shape == (0, N_ITEMS + 1)
    np.testing.assert_array_equal(model.recommend(queries(), k=3)[:, :1] > 0, True)
    model.train()
    model.score(queries())
    assert model.training  # score switches to eval mode and back


def test_score_uses_the_last_max_len_events_and_keeps_query_order():
    model = make(S.GRU4Rec)
    q = queries()
    long = QueryBatch(q.users, [np.concatenate([[1, 2, 3] * 10, i]) for i in q.items],
                      [np.concatenate([np.full(30, MONDAY), t]) for t in q.times], q.now)
    cut = QueryBatch(q.users, [i[-12:] for i in long.items], [t[-12:] for t in long.times], q.now)
    torch.testing.assert_close(model.score(long), model.score(cut))
    torch.testing.assert_close(model.score(q)[[2, 0]], model.score(q[np.array([2, 0])]))


def test_bad_construction_raises():
    with pytest.raises(ValueError, match="time_encoding"):
        S.SASRec(N_ITEMS, time_encoding="weekly")
    with pytest.raises(ValueError, match="divisible"):
        S.SASRec(N_ITEMS, hidden=10, n_heads=3)
    with pytest.raises(ValueError, match="n_items"):
        S.GRU4Rec(0)
    with pytest.raises(ValueError, match="n_users"):
        make(S.TimeSensitiveModel).score(QueryBatch(np.array([99]), [np.array([1])], [np.array([MONDAY])],
                                                    np.array([MONDAY])))


@pytest.mark.parametrize("cls", [S.SASRec, S.GRU4Rec])
def test_learns_next_item_is_last_plus_one(cls):
    split = splits.leave_one_out(counting_log())
    model = cls(split.n_items, max_len=12, hidden=32, dropout=0.0)
    result = train(model, split, epochs=40, lr=1e-2, batch_size=16, patience=5, progress=False)
    test = evaluate(model, split, "test", ks=(1, 10))
    assert test["HR@1"] >= 0.9, (result.history.tail(), test)
