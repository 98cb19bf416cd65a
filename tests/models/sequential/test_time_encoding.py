"""Tests of tsrec.models.sequential.time_encoding: each encoding reads times, by hand on known gaps."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec.models import sequential as S
from tsrec.models.sequential import time_encoding as te
from tsrec.queries import QueryBatch

from .helpers import MONDAY, N_ITEMS, make, queries, shifted_times


@pytest.mark.parametrize("encoding", sorted(te.TIME_ENCODINGS))
def test_each_time_encoding_reads_times(encoding):
    q = queries()
    moved = shifted_times(q, np.random.default_rng(1))
    model = make(S.SASRec, time_encoding=encoding)
    assert not torch.allclose(model.score(q)[:, 1:], model.score(moved)[:, 1:])
    plain = make(S.SASRec)
    torch.testing.assert_close(plain.score(q), plain.score(moved), rtol=0, atol=0)


def test_time2vec_now_reads_the_request_time():
    q = queries()
    later = QueryBatch(q.users, q.items, q.times, q.now + 30 * 86_400)
    model = make(S.SASRec, time_encoding="time2vec_now")
    assert not torch.allclose(model.score(q)[[0, 2], 1:], model.score(later)[[0, 2], 1:])
    previous = make(S.SASRec, time_encoding="time2vec")  # the gap since the previous event ignores ``now``
    torch.testing.assert_close(previous.score(q), previous.score(later), rtol=0, atol=0)


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
    with pytest.raises(ValueError, match="of must be"):
        te.Time2Vec(8, of="next")


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


def test_log_interval_encoding_looks_up_the_log2_bucket_of_each_known_gap():
    """Gaps since the previous event of 0, 1, 2, 3, 4, 7, 8 and 255 s fall in log2 buckets 0, 1, 1, 2, 2, 3, 3, 7
    (bucket floor(log2(gap + 1))); 10^9 s is clipped to the last of 8 buckets; padding encodes to zero."""
    enc = te.LogIntervalEncoding(5, n_buckets=8)
    gaps = [0, 1, 2, 3, 4, 7, 8, 255, 10**9]
    times = torch.tensor([[0, 0, *(MONDAY + np.cumsum([0, *gaps]))]])  # two padding slots, then 10 events
    mask = times > 0
    out = enc(times, times, mask)[0]
    buckets = [0, 0, 1, 1, 2, 2, 3, 3, 7, 7]  # the first event has no previous one: gap 0
    assert torch.equal(out[:2], torch.zeros(2, 5))
    torch.testing.assert_close(out[2:], enc.emb.weight[buckets], rtol=0, atol=0)
    assert len({tuple(r) for r in enc.emb.weight.detach().tolist()}) == 8  # distinct rows: a wrong bucket shows


def test_make_time_encoding():
    assert te.make_time_encoding(None, 8) is None
    assert isinstance(te.make_time_encoding("calendar", 8), te.CalendarEncoding)
    assert te.make_time_encoding("time2vec_now", 8).of == "now"
    with pytest.raises(ValueError, match="unknown time_encoding"):
        te.make_time_encoding("weekly", 8)
