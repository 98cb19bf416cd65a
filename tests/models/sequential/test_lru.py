"""Tests of tsrec.models.sequential.lru: the scan is the recurrence, LRURec is causal, ignores padding and learns."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from synthetic_logs import counting_log
from tsrec import splits
from tsrec.evaluate import evaluate
from tsrec.models import sequential as S
from tsrec.models.sequential.lru import LRULayer, lru_loop, lru_scan
from tsrec.training import train

from .helpers import N_ITEMS, queries, random_input


def make_lru(**kw) -> S.LRURec:
    torch.manual_seed(0)
    return S.LRURec(N_ITEMS, max_len=12, hidden=8, **kw)


def complex_recurrence(b: torch.Tensor, nu: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """h_t = lambda h_{t-1} + b_t in torch's complex arithmetic, step by step (an independent reference)."""
    lam = torch.exp(torch.complex(-nu, theta))
    h, out = torch.zeros_like(b[:, 0]), []
    for t in range(b.shape[1]):
        h = lam * h + b[:, t]
        out.append(h)
    return torch.stack(out, 1)


@pytest.mark.parametrize("length", [1, 2, 7, 16, 23])
def test_scan_equals_the_step_by_step_recurrence(length):
    g = torch.Generator().manual_seed(length)
    b = torch.complex(torch.randn(3, length, 5, generator=g, dtype=torch.float64),
                      torch.randn(3, length, 5, generator=g, dtype=torch.float64))
    nu = torch.rand(5, generator=g, dtype=torch.float64) * 0.5
    theta = torch.rand(5, generator=g, dtype=torch.float64) * 2 * math.pi
    want = complex_recurrence(b, nu, theta)
    for fn in (lru_scan, lru_loop):
        re, im = fn(b.real, b.imag, nu, theta)
        torch.testing.assert_close(torch.complex(re, im), want, rtol=1e-10, atol=1e-10)


def test_layer_initialisation_is_stable_and_normalised():
    layer = LRULayer(16, r_min=0.8, r_max=0.99)
    nu, theta, gamma = torch.exp(layer.log_params.detach())
    radius = torch.exp(-nu)
    assert layer.log_params.shape == (3, 32)
    assert (radius >= 0.8 - 1e-6).all() and (radius <= 0.99 + 1e-6).all()  # |lambda| < 1: the state decays
    assert ((theta > 0) & (theta <= 2 * math.pi)).all()
    torch.testing.assert_close(gamma, torch.sqrt(1 - radius ** 2))


def test_shapes_scores_and_bias():
    model = make_lru()
    x = random_input()
    assert model.encode(x).shape == (4, 10, 8)
    w, b = model.output_weights()
    assert w.shape == (N_ITEMS + 1, 8) and b.shape == (N_ITEMS + 1,)
    s = model.score(queries())
    assert s.shape == (3, N_ITEMS + 1) and torch.isneginf(s[:, 0]).all() and torch.isfinite(s[:, 1:]).all()
    assert model.score(queries()[0:0]).shape == (0, N_ITEMS + 1)


def test_padding_changes_nothing_and_padding_rows_are_zero():
    model = make_lru().eval()
    x = random_input()
    z = torch.zeros(len(x.users), 5, dtype=torch.long)
    padded = S.SeqInput(x.users, *(torch.cat([z, t], 1) for t in (x.items, x.times, x.next_times)))
    with torch.no_grad():
        a, b = model.encode(x), model.encode(padded)[:, 5:]
        alone = model.encode(S.SeqInput(x.users[3:], x.items[3:, 6:], x.times[3:, 6:], x.next_times[3:, 6:]))
    mask = x.mask
    torch.testing.assert_close(a[mask], b[mask], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(alone[0], a[3, 6:], rtol=1e-6, atol=1e-6)  # row 3: its first 6 are padding
    assert (a[~mask] == 0).all()


def test_times_are_ignored_and_max_len_is_the_window():
    model = make_lru()
    q = queries()
    later = type(q)(q.users, q.items, [t + 12_345 for t in q.times], q.now + 99_999)
    torch.testing.assert_close(model.score(q), model.score(later), rtol=0, atol=0)
    long = type(q)(q.users, [np.concatenate([[1, 2, 3] * 10, i]) for i in q.items],
                   [np.concatenate([np.full(30, t[0] if len(t) else 0), t]) for t in q.times], q.now)
    cut = type(q)(q.users, [i[-12:] for i in long.items], [t[-12:] for t in long.times], q.now)
    torch.testing.assert_close(model.score(long), model.score(cut))


def test_trains_with_the_package_trainer_and_learns_next_is_last_plus_one():
    split = splits.leave_one_out(counting_log(n_users=30, n_items=20, length=8))
    torch.manual_seed(0)
    model = S.LRURec(split.n_items, max_len=8, hidden=16, n_blocks=1, dropout=0.0, lru_dropout=0.0)
    result = train(model, split, epochs=25, lr=1e-2, batch_size=16, patience=25, progress=False)
    losses = result.history["loss"].to_numpy()
    assert losses[-1] < 0.5 * losses[0], losses
    assert evaluate(model, split, "test", ks=(1,))["HR@1"] >= 0.8, result.history.tail()
