"""Tiny, fully predictable interaction logs shared by the model tests."""
from __future__ import annotations

import numpy as np
import pandas as pd

T0 = 1_704_067_200  # 2024-01-01 00:00 UTC, a Monday


def counting_log(n_users: int = 40, n_items: int = 30, length: int = 10, seed: int = 0) -> pd.DataFrame:
    """Each user consumes consecutive items s, s+1, ... (after n_items comes 1): next = last + 1."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n_users + 1):
        start = int(rng.integers(0, n_items))
        t = T0 + u * 1000 + np.cumsum(rng.integers(60, 7200, length))
        rows += [(u, (start + i) % n_items + 1, int(t[i])) for i in range(length)]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"])
