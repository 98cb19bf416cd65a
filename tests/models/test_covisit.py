"""Tests of tsrec.models.covisit: which pairs are counted (window, time gap, direction), the row-normalised
transitions, and scores that follow the query's latest items."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.models.covisit import CoVisitation, covisitation_counts
from tsrec.queries import QueryBatch


def log(rows):
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"])


def test_counts_weight_pairs_by_distance_and_direction():
    # user 1 rates 1, 2, 3 one second apart
    C = covisitation_counts(log([(1, 1, 0), (1, 2, 1), (1, 3, 2)]), 3, window=2, max_gap=10, backward=0.5).toarray()
    assert C[1, 2] == 1.0 and C[2, 3] == 1.0 and C[1, 3] == 0.5          # forward: 1 / distance
    assert C[2, 1] == 0.5 and C[3, 1] == 0.25                            # backward: 0.5 / distance
    assert C[0].sum() == 0 and np.all(np.diag(C) == 0)


def test_pairs_beyond_the_window_the_gap_or_the_user_are_not_counted():
    df = log([(1, 1, 0), (1, 2, 1), (1, 3, 5000), (2, 4, 5001)])
    C = covisitation_counts(df, 4, window=1, max_gap=3600, backward=1.0).toarray()
    assert C[1, 2] == 1.0 and C[2, 3] == 0.0 and C[3, 4] == 0.0 and C[1, 3] == 0.0


def test_rows_sum_to_one_and_the_latest_item_decides():
    df = log([(1, 1, 0), (1, 2, 1), (2, 3, 0), (2, 4, 1)])
    m = CoVisitation(window=1, max_gap=60, backward=0.0, half_life=5).fit(df, 3, 4)
    assert np.allclose(np.asarray(m.transitions.sum(1)).ravel()[[1, 3]], 1.0)
    # a new user who saw item 3 ten seconds before item 1: item 2 (after 1) outranks item 4 (after 3)
    q = QueryBatch(users=np.array([3]), items=[np.array([3, 1])], times=[np.array([990.0, 1000.0])],
                   now=np.array([1001.0]))
    s = m.score(q)[0]
    assert s[2] > s[4] > 0 and s[0] == float("-inf")


@pytest.mark.parametrize("kw", [{"window": 0}, {"max_gap": 0}, {"backward": -1}, {"half_life": 0}])
def test_bad_settings_name_the_setting(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        CoVisitation(**kw)
