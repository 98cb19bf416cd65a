"""TimeAwareBasket learns from its own last weeks: a weekly habit ranks first, explore slots hold new products."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec.models.basket_ranker import FEATURES, TimeAwareBasket
from tsrec.queries import QueryBatch
from tsrec.times import DAY, WEEK


def _log(n_users=40, weeks=8, n_items=30, seed=0):
    """Each household buys its own staple every week and one random product per trip."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n_users + 1):
        staple = u % 5 + 1
        for w in range(weeks):
            t = w * WEEK + u * 600
            rows += [(u, staple, t, u * 100 + w), (u, int(rng.integers(6, n_items + 1)), t, u * 100 + w)]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp", "basket"])


def test_weekly_staple_ranks_first_and_slots_hold_new_products():
    log = _log()
    vecs = np.random.default_rng(1).normal(size=(31, 8)).astype(np.float32)
    groups = np.r_[0, np.arange(30) % 3 + 1]
    m = TimeAwareBasket(item_vectors=vecs, item_groups=groups, label_window=2 * WEEK).fit(log, 40, 30)
    assert list(m.weights().index) == list(FEATURES) and m.n_training_rows > 0
    hist = log[log["user"] == 7]
    batch = QueryBatch(np.array([7]), [hist["item"].to_numpy()], [hist["timestamp"].to_numpy()],
                       np.array([8 * WEEK + 7 * 600]))
    s = m.score(batch)
    assert s.shape == (1, 31) and s[0, 0] == float("-inf") and torch.isfinite(s[0, 1:]).all()
    assert int(s[0, 1:].argmax()) + 1 == 7 % 5 + 1
    m.explore_slots = 2
    top = m.recommend(batch, k=10, exclude_seen=False)[0]
    assert top[0] == 7 % 5 + 1 and (~np.isin(top, hist["item"].to_numpy())).sum() >= 2


def test_bad_settings_and_short_logs_are_named():
    with pytest.raises(ValueError, match="negative_rate"):
        TimeAwareBasket(negative_rate=0)
    with pytest.raises(ValueError, match="explore_slots"):
        TimeAwareBasket(explore_slots=11, k=10)
    with pytest.raises(ValueError, match="label_window"):
        TimeAwareBasket(label_window=4 * WEEK).fit(_log(weeks=2), 40, 30)
    with pytest.raises(ValueError, match="item_vectors"):
        TimeAwareBasket(item_vectors=np.zeros((5, 2))).fit(_log(), 40, 30)
    with pytest.raises(RuntimeError):
        TimeAwareBasket().score(QueryBatch(np.array([1]), [np.array([1])], [np.array([0])], np.array([DAY])))
