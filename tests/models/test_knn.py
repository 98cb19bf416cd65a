"""Tests of tsrec.models.knn: item-item similarities against brute force, neighbours, time-decayed history."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_logs import DAY, T0, cooccurrence_log, frame, query, random_log
from tsrec.models.knn import ItemKNN, history_matrix, interaction_matrix


def test_itemknn_similarity_equals_bruteforce_cosine():
    rng = np.random.default_rng(1)
    X = (rng.random((12, 8)) < 0.4).astype(float)
    X[0] = 1  # user 1 sees everything
    u, i = np.nonzero(X)
    df = frame(u + 1, i + 1, T0 + np.arange(len(u)))
    for shrink in (0.0, 3.0):
        m = ItemKNN(k_neighbors=100, shrink=shrink, block_size=3).fit(df, 12, 8)
        co = X.T @ X
        n = X.sum(0)
        want = co / (np.sqrt(np.outer(n, n)) + shrink)
        np.fill_diagonal(want, 0)
        got = m.sim.toarray()
        np.testing.assert_allclose(got[1:, 1:], want, rtol=1e-12)
        assert (got[0] == 0).all() and (got[:, 0] == 0).all()
    # top-k keeps the k largest similarities of every row
    m2 = ItemKNN(k_neighbors=2, shrink=0.0).fit(df, 12, 8)
    want = co / np.sqrt(np.outer(n, n))
    np.fill_diagonal(want, 0)
    for j in range(1, 9):
        row = m2.sim[j].toarray()[0]
        assert (row > 0).sum() <= 2
        np.testing.assert_allclose(np.sort(row)[-2:], np.sort(want[j - 1])[-2:], rtol=1e-12)
    # jaccard
    mj = ItemKNN(similarity="jaccard", shrink=0.0).fit(df, 12, 8)
    wj = co / (n[:, None] + n[None, :] - co)
    np.fill_diagonal(wj, 0)
    np.testing.assert_allclose(mj.sim.toarray()[1:, 1:], wj, rtol=1e-12)
    assert interaction_matrix(pd.concat([df, df]), 12, 8).max() == 1  # repeats count once


def test_itemknn_recommends_the_cooccurring_item_and_decay_favours_recent_history():
    df = cooccurrence_log()
    m = ItemKNN(k_neighbors=10, shrink=0.0).fit(df, 31, 5)
    top = m.recommend(query([31], T0 + DAY, [[1]], [[T0]]), k=1)
    assert top[0, 0] == 2                              # not the popular item 5
    # history: item 1 long ago, item 3 just now -> with decay, item 3's neighbour 4 wins
    q = query([31], T0 + 30 * DAY, [[1, 3]], [[T0, T0 + 30 * DAY - 60]])
    assert m.recommend(q, k=1)[0, 0] == 2              # no decay: item 1's stronger co-occurrence wins
    md = ItemKNN(k_neighbors=10, shrink=0.0, time_decay_half_life=DAY).fit(df, 31, 5)
    assert md.recommend(q, k=1)[0, 0] == 4
    s = md.score(q).numpy()[0]
    np.testing.assert_allclose(s[4], m.sim[3, 4] * 0.5 ** (60 / DAY), rtol=1e-6)
    assert s[0] == -np.inf


def test_history_matrix_weights_and_ignores_the_future():
    q = query([1, 2], [T0 + 100, T0 + 100], [[2, 3, 2], [4]], [[T0, T0 + 50, T0 + 100], [T0 + 200]])
    np.testing.assert_array_equal(history_matrix(q, 5), [[0, 0, 1, 1, 0], [0, 0, 0, 0, 0]])  # item 4 is after now
    h = history_matrix(q, 5, half_life=100.0)
    np.testing.assert_allclose(h[0], [0, 0, 1.0, 0.5 ** 0.5, 0])  # item 2: its latest event (now) counts
    with pytest.raises(ValueError, match="outside 0..4"):
        history_matrix(query([1], T0, [[7]], [[T0]]), 5)


def test_bad_input_raises_clear_value_errors():
    df = random_log(200, n_items=30)
    with pytest.raises(ValueError, match="1..20"):
        ItemKNN().fit(df, 25, 20)
    with pytest.raises(ValueError, match="similarity"):
        ItemKNN(similarity="pearson")
    with pytest.raises(RuntimeError, match="not fitted"):
        ItemKNN().score(query([1], T0))
