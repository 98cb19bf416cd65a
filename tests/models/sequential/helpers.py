"""Small models and inputs shared by the sequence-model tests."""
from __future__ import annotations

import numpy as np
import torch

from synthetic_logs import T0
from tsrec.models import sequential as S
from tsrec.queries import QueryBatch

MONDAY = T0  # 2024-01-01 00:00 UTC, a Monday
N_ITEMS, N_USERS = 30, 12


def make(cls: type, **kw) -> S.SequentialRecommender:
    torch.manual_seed(0)
    if cls is S.TimeSensitiveModel:
        return cls(N_ITEMS, N_USERS, max_len=12, embedding_dim=8, hidden_dim=8, **kw)
    small = {"hidden": 16} if cls not in (S.SASRec, S.TiSASRec) else {"hidden": 16, "n_heads": 2}
    return cls(N_ITEMS, max_len=12, **small, **kw)


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


def queries(n: int = 3, seed: int = 0) -> QueryBatch:
    """Histories of 5, 0 and 15 events with random gaps, asked 10 minutes after the last event."""
    rng = np.random.default_rng(seed)
    items = [rng.integers(1, N_ITEMS + 1, k) for k in (5, 0, 15)][:n]
    times = [MONDAY + np.cumsum(rng.integers(0, 90_000, len(i))) for i in items]
    now = np.array([t[-1] + 600 if len(t) else MONDAY for t in times])
    return QueryBatch(np.arange(1, n + 1), items, times, now)


def shifted_times(q: QueryBatch, rng: np.random.Generator) -> QueryBatch:
    """Same items, other times: new gaps, other hours and days, and a later ``now``."""
    times = [MONDAY + 5 * 3600 + np.cumsum(rng.integers(1, 500_000, len(t))) for t in q.times]
    now = np.array([t[-1] + 86_400 * 3 if len(t) else MONDAY for t in times])
    return QueryBatch(q.users, q.items, times, now)
