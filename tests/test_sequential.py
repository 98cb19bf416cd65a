"""Tests of tsrec.models.sequential and time_encoding: causality, padding, time use, learning a rule."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthetic_logs import counting_log
from tsrec import prep
from tsrec.evaluate import evaluate
from tsrec.models import sequential as S
from tsrec.models import time_encoding as te
from tsrec.models.base import QueryBatch
from tsrec.train import train

MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC, a Monday
N_ITEMS, N_USERS = 30, 12


def make(cls: type, **kw) -> S.SequentialRecommender:
    torch.manual_seed(0)
    if cls is S.TimeSensitiveModel:
        return cls(N_ITEMS, N_USERS, max_len=12, embedding_dim=8, hidden_dim=8, **kw)
    small = {"hidden": 16} if cls not in (S.SASRec, S.TiSASRec) else {"hidden": 16, "n_heads": 2}
    return cls(N_ITEMS, max_len=12, **small, **kw)


MODEL_CASES = [(S.SASRec, {}), (S.SASRec, {"time_encoding": "calendar"}), (S.SASRec, {"time_encoding": "time2vec"}),
               (S.SASRec, {"time_encoding": "time2vec_now"}), (S.SASRec, {"time_encoding": "log_interval"}),
               (S.TiSASRec, {}), (S.GRU4Rec, {}), (S.LSTM4Rec, {}), (S.NextItNet, {"dilations": (1, 2)}),
               (S.TimeSensitiveModel, {})]
IDS = [c.__name__ + "".join(f"-{v}" for v in kw.values()) for c, kw in MODEL_CASES]


def random_input(B: int = 4, L: int = 10, pad: int = 3, seed: int = 0) -> S.SeqInput:
    """Left-padded windows: row b has L - pad - b real events (at least 2)."""
    g = torch.Generator().manual_seed(seed)
    items = torch.randint(1, N_ITEMS + 1, (B, L), generator=g)
    times = MONDAY + torch.cumsum(torch.randint(0, 50_000, (B, L), generator=g), 1)
    for b in range(B):
        items[b, :pad + b] = 0
        times[b, :pad + b] = 0
    next_times = torch.cat([times[:, 1:], times[:, -1:] + 3600], 1)
    return S.SeqInput(torch.arange(1, B + 1), items, times, next_times)


def left_pad(x: S.SeqInput, extra: int) -> S.SeqInput:
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
        a, b = model.encode(x), model.encode(left_pad(x, 5))[:, 5:]
    mask = x.mask
    torch.testing.assert_close(a[mask], b[mask], atol=1e-5, rtol=1e-5)


def queries(n: int = 3, seed: int = 0) -> QueryBatch:
    rng = np.random.default_rng(seed)
    items = [rng.integers(1, N_ITEMS + 1, k) for k in (5, 0, 15)][:n]
    times = [MONDAY + np.cumsum(rng.integers(0, 90_000, len(i))) for i in items]
    now = np.array([t[-1] + 600 if len(t) else MONDAY for t in times])
    return QueryBatch(np.arange(1, n + 1), items, times, now)


def test_score_shape_pad_column_and_empty_inputs():
    model = make(S.SASRec)
    s = model.score(queries())
    assert s.shape == (3, N_ITEMS + 1) and torch.isneginf(s[:, 0]).all() and torch.isfinite(s[:, 1:]).all()
    assert model.score(queries()[0:0]).shape == (0, N_ITEMS + 1)
    np.testing.assert_array_equal(model.recommend(queries(), k=3)[:, :1] > 0, True)


def test_score_uses_the_last_max_len_events_and_keeps_query_order():
    model = make(S.GRU4Rec)
    q = queries()
    long = QueryBatch(q.users, [np.concatenate([[1, 2, 3] * 10, i]) for i in q.items],
                      [np.concatenate([np.full(30, MONDAY), t]) for t in q.times], q.now)
    cut = QueryBatch(q.users, [i[-12:] for i in long.items], [t[-12:] for t in long.times], q.now)
    torch.testing.assert_close(model.score(long), model.score(cut))
    torch.testing.assert_close(model.score(q)[[2, 0]], model.score(S._take(q, np.array([2, 0]))))


def shifted_times(q: QueryBatch, rng: np.random.Generator) -> QueryBatch:
    """Same items, other times: new gaps, other hours and days, and a later ``now``."""
    times = [MONDAY + 5 * 3600 + np.cumsum(rng.integers(1, 500_000, len(t))) for t in q.times]
    now = np.array([t[-1] + 86_400 * 3 if len(t) else MONDAY for t in times])
    return QueryBatch(q.users, q.items, times, now)


@pytest.mark.parametrize("encoding", sorted(te.TIME_ENCODINGS))
def test_each_time_encoding_reads_times(encoding):
    q = queries()
    moved = shifted_times(q, np.random.default_rng(1))
    model = make(S.SASRec, time_encoding=encoding)
    assert not torch.allclose(model.score(q)[:, 1:], model.score(moved)[:, 1:])
    plain = make(S.SASRec)
    torch.testing.assert_close(plain.score(q), plain.score(moved), rtol=0, atol=0)


def test_tisasrec_and_book_model_read_times():
    q = queries()
    moved = shifted_times(q, np.random.default_rng(1))
    for model in (make(S.TiSASRec), make(S.TimeSensitiveModel)):
        assert not torch.allclose(model.score(q)[:, 1:], model.score(moved)[:, 1:])


def test_time2vec_now_reads_the_request_time():
    q = queries()
    later = QueryBatch(q.users, q.items, q.times, q.now + 30 * 86_400)
    model = make(S.SASRec, time_encoding="time2vec_now")
    assert not torch.allclose(model.score(q)[[0, 2], 1:], model.score(later)[[0, 2], 1:])



def test_time2vec_features_by_hand_and_scale():
    t2v = te.Time2Vec(64, k=8)
    year = 365 * 86_400.0
    f = t2v.features(torch.tensor([0.0, year]))
    w, p = t2v.freq.detach(), t2v.phase.detach()
    # a gap of one year is one unit of tau: linear term omega_0 + phi_0, sines sin(omega_i + phi_i); no gap: phi
    torch.testing.assert_close(f[1], torch.cat([w[:1] + p[:1], torch.sin(w[1:] + p[1:])]))
    torch.testing.assert_close(f[0], torch.cat([p[:1], torch.sin(p[1:])]))
    # initialised like the model's other layers, the vector added to an event is about as long as an item
    # embedding (N(0, 0.02) in 64 dimensions), for gaps from 0 to 30 years; an unscaled log(1 + seconds)
    # input would make it several times longer
    model = S.SASRec(N_ITEMS, max_len=12, hidden=64, time_encoding="time2vec")
    gaps = torch.cat([torch.zeros(1), torch.logspace(0, np.log10(30 * year), 200)])
    times = torch.cumsum(gaps, 0).long().unsqueeze(0)
    mask = torch.ones_like(times, dtype=torch.bool)
    with torch.no_grad():
        ratio = model.time_enc(times, times, mask).norm(dim=-1).mean() / model.item_emb.weight[1:].norm(dim=-1).mean()
    assert 0.3 < float(ratio) < 2.0
    with pytest.raises(ValueError, match="k >= 2"):
        te.Time2Vec(8, k=1)

def test_gap_helpers_and_calendar_by_hand():
    times = torch.tensor([[0, MONDAY, MONDAY + 3600, MONDAY + 3600 + 86_400 + 7]])
    mask = torch.tensor([[False, True, True, True]])
    torch.testing.assert_close(te.previous_gaps(times, mask), torch.tensor([[0.0, 0.0, 3600.0, 86_407.0]]))
    nxt = torch.tensor([[MONDAY, MONDAY + 3600, MONDAY + 90_007, MONDAY + 90_107]])
    torch.testing.assert_close(te.gaps_to_request(times, nxt, mask), torch.tensor([[0.0, 3600.0, 86_407.0, 100.0]]))
    cal = te.CalendarEncoding(4)
    want = torch.stack([torch.zeros(4), cal.hour.weight[0] + cal.weekday.weight[0],
                        cal.hour.weight[1] + cal.weekday.weight[0], cal.hour.weight[1] + cal.weekday.weight[1]])
    torch.testing.assert_close(cal(times, nxt, mask)[0], want)
    assert S.hour_of_week(times[:, 1:]).tolist() == [[0, 1, 25]]
    buckets = te.LogIntervalEncoding(2, n_buckets=8)
    gaps = torch.tensor([0.0, 1.0, 3.0, 4.0, 1e9])
    assert torch.floor(torch.log2(gaps + 1)).long().clamp(0, 7).tolist() == [0, 1, 2, 2, 7]
    assert buckets(times, nxt, mask).shape == (1, 4, 2)


def test_tisasrec_intervals_are_personal_clipped_and_causal():
    model = S.TiSASRec(N_ITEMS, max_len=4, hidden=8, max_interval=5)
    times = torch.tensor([[0, 100, 160, 400]])
    mask = torch.tensor([[False, True, True, True]])
    r = model.interval_buckets(times, mask)
    # position 1: no gap yet (unit 1 s, clipped); position 2: unit 60 s; position 3: unit still 60 s
    assert r[0, 1, 1] == 0 and r[0, 2, 1] == 1 and r[0, 3, 1] == 5 and r[0, 3, 2] == 4 and r[0, 1, 2] == 5


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
    split = prep.leave_one_out(counting_log())
    model = cls(split.n_items, max_len=12, hidden=32, dropout=0.0)
    result = train(model, split, epochs=40, lr=1e-2, batch_size=16, patience=5, progress=False)
    test = evaluate(model, split, "test", ks=(1, 10))
    assert test["HR@1"] >= 0.9, (result.history.tail(), test)
