"""Tests of tsrec.data.synthetic: seeded, with the planted weekly, daily, launch and repeat effects."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec import data


def test_synthetic_is_seeded_and_has_planted_effects():
    a, b = data.synthetic(seed=3), data.synthetic(seed=3)
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    assert not a.interactions.equals(data.synthetic(seed=4).interactions)
    when = pd.to_datetime(a.interactions["timestamp"], unit="s")
    per_day = when.dt.day_of_week.value_counts(normalize=True).sort_index()
    assert per_day[[5, 6]].mean() > 1.5 * per_day[[0, 1, 2, 3, 4]].mean()  # weekends x2 planted
    assert when.dt.hour.between(18, 22).mean() > 0.4                       # evening peak planted
    inter = a.interactions
    launch = a.items.set_index("item")["launch_day"]
    day = (inter["timestamp"] - a.info["start"]) // 86400
    assert (day.to_numpy() >= launch.loc[inter["item"]].to_numpy()).all()  # no event before launch
    for u in a.info["repeaters"][:5]:                                       # weekly repeat cycle planted
        mine = inter[inter.user == u]
        fav = a.info["favourites"][u]
        t = np.sort(mine.loc[mine["item"] == fav, "timestamp"].to_numpy()) / 86400
        pair_gaps = (t[None, :] - t[:, None])[np.triu_indices(len(t), 1)]
        planted = (56 - a.items.set_index("item").loc[fav, "launch_day"]) // 7 - 1
        assert np.isclose(pair_gaps, a.info["repeat_period_days"], atol=0.05).sum() >= planted
