"""Tests of tsrec.models.sequential.time_sensitive: the book's TimeSensitiveModel reads users and hours of the week."""
from __future__ import annotations

import numpy as np
import torch

from tsrec.models import sequential as S
from tsrec.queries import QueryBatch

from .helpers import MONDAY, make, queries, shifted_times


def test_hour_of_week_from_monday_midnight_utc():
    t = torch.tensor([MONDAY, MONDAY + 3_599, MONDAY + 3_600, MONDAY + 6 * 86_400 + 23 * 3_600, MONDAY + 7 * 86_400])
    assert S.hour_of_week(t).tolist() == [0, 0, 1, 167, 0]


def test_the_book_model_reads_times_and_users():
    model = make(S.TimeSensitiveModel)
    q = queries()
    moved = shifted_times(q, np.random.default_rng(1))
    assert not torch.allclose(model.score(q)[:, 1:], model.score(moved)[:, 1:])
    other_users = QueryBatch(q.users[::-1].copy(), q.items, q.times, q.now)
    assert not torch.allclose(model.score(q)[:, 1:], model.score(other_users)[:, 1:])
    assert model.default_loss == "bce" and model.output_weights()[0].shape[0] == model.n_items + 1
