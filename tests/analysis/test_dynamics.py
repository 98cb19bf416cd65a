"""Tests of tsrec.analysis.dynamics: how item popularity moves in time, and agreement with LLM labels."""
from __future__ import annotations

import numpy as np
import pandas as pd

from synthetic_logs import DAY, T0
from tsrec.analysis import label_agreement, popularity_dynamics


def test_popularity_dynamics_on_planted_items():
    rng = np.random.default_rng(0)
    start, years = T0 - 3 * 365 * DAY, 3
    rows = [(1, int(start + rng.uniform(0, 60) * DAY)) for _ in range(60)]                       # burst at launch
    rows += [(2, int(start + rng.uniform(0, years * 365) * DAY)) for _ in range(60)]             # steady
    dec = [int(pd.Timestamp(f"{y}-12-{d:02d}", tz="UTC").timestamp()) for y in (2021, 2022) for d in range(1, 31)]
    rows += [(3, t) for t in dec]                                                                 # December only
    rows += [(4, int(start + rng.uniform(0, years * 365) * DAY)) for _ in range(600)]             # background
    df = pd.DataFrame(rows, columns=["item", "timestamp"]).assign(user=1)
    dyn = popularity_dynamics(df, min_events=30, horizon_days=180)
    assert dyn.loc[1, "front_load"] > 3 > dyn.loc[2, "front_load"]
    assert dyn.loc[3, "holiday_lift"] > 2 and dyn.loc[2, "holiday_lift"] < 2
    assert dyn.loc[3, "cv_monthly"] > dyn.loc[2, "cv_monthly"]
    labels = pd.DataFrame({"label": ["event-driven", "evergreen", "seasonal"]}, index=[1, 2, 3])
    agree = label_agreement(labels, dyn)
    assert agree.loc["seasonal", "n"] == 1 and agree.loc["event-driven", "front_load"] > 3
    assert 5 not in popularity_dynamics(pd.concat([df, pd.DataFrame({"item": [5] * 5, "timestamp": [T0] * 5,
                                                                     "user": 1})]), min_events=30).index
