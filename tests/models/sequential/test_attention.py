"""Tests of tsrec.models.sequential.attention: SASRec's positions, TiSASRec's personal, clipped, causal intervals."""
from __future__ import annotations

import numpy as np
import torch

from tsrec.models import sequential as S

from .helpers import N_ITEMS, make, queries, shifted_times


def test_sasrec_without_time_encoding_ignores_times_and_tisasrec_reads_them():
    q = queries()
    moved = shifted_times(q, np.random.default_rng(1))
    sas, tisas = make(S.SASRec), make(S.TiSASRec)
    torch.testing.assert_close(sas.score(q), sas.score(moved), rtol=0, atol=0)
    assert not torch.allclose(tisas.score(q)[:, 1:], tisas.score(moved)[:, 1:])


def test_tisasrec_intervals_are_personal_clipped_and_causal():
    model = S.TiSASRec(N_ITEMS, max_len=4, hidden=8, max_interval=5)
    times = torch.tensor([[0, 100, 160, 400]])
    mask = torch.tensor([[False, True, True, True]])
    r = model.interval_buckets(times, mask)
    # position 1: no gap yet (unit 1 s, clipped); position 2: unit 60 s; position 3: unit still 60 s
    assert r[0, 1, 1] == 0 and r[0, 2, 1] == 1 and r[0, 3, 1] == 5 and r[0, 3, 2] == 4 and r[0, 1, 2] == 5
    # a smaller later gap changes the unit of later positions only
    r2 = model.interval_buckets(torch.tensor([[0, 100, 160, 170]]), mask)
    assert torch.equal(r2[0, :3, :3], r[0, :3, :3]) and r2[0, 3, 2] == 1 and r2[0, 3, 1] == 5


def test_sasrec_position_embeddings_follow_the_first_real_event():
    assert S.positions(torch.tensor([[False, False, True, True], [True, True, True, True]])).tolist() == [
        [0, 0, 1, 2], [1, 2, 3, 4]]
    allowed = S.causal_attention_mask(torch.tensor([[False, True, True]]))
    assert allowed[0].tolist() == [[True, False, False], [False, True, False], [False, True, True]]
