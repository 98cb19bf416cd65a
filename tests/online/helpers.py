"""A small random event log shared by the tests of tsrec.online."""
from __future__ import annotations

import numpy as np
import pandas as pd

DAY = 86_400
MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC


def random_log(n: int = 300, n_items: int = 12, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = MONDAY + rng.integers(0, 20 * DAY, n)
    t[5:40:3] = t[4]                                           # plenty of ties
    return pd.DataFrame({"user": rng.integers(1, 30, n), "item": rng.integers(1, n_items + 1, n),
                         "timestamp": t.astype("int64")})
