"""Tests of tsrec.models.content: genre features aligned to encoded ids, content-kNN, and score hybrids."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_logs import DAY, T0, cooccurrence_log, frame, query
from tsrec import prep
from tsrec.models.content import ContentKNN, Hybrid, genre_matrix, genre_names
from tsrec.models.knn import ItemKNN
from tsrec.models.popularity import Popularity
from tsrec.queries import queries_from_frames


def test_genre_matrix_is_aligned_to_encoded_ids_and_contentknn_ranks_same_genre_first():
    genres = ["Drama", "Comedy|Drama", "Action", "Comedy", "(no genres listed)", "Action|Sci-Fi"]
    items = pd.DataFrame({"item": [30, 10, 20, 40, 50, 60], "genres": genres})
    imap = prep.IdMap.fit([10, 30, 20, 40, 50, 60, 60])
    G, names = genre_matrix(items, imap, return_names=True)
    assert names == genre_names(items) == ["Action", "Comedy", "Drama", "Sci-Fi"]
    assert G.shape == (7, 4) and (G[0] == 0).all()
    np.testing.assert_array_equal(G[imap.encode([10])[0]], [0, 1, 1, 0])
    np.testing.assert_array_equal(G[imap.encode([30])[0]], [0, 0, 1, 0])
    assert (G[imap.encode([50])[0]] == 0).all()
    df = frame([1, 1, 2], [1, 2, 3], [T0, T0 + 1, T0 + 2])
    m = ContentKNN(G).fit(df, 2, 6)
    q = query([1], T0 + 10, [imap.encode([20])], [[T0]])             # an Action fan
    top = m.recommend(q, k=2)[0]
    assert top[0] == imap.encode([60])[0]                              # the other Action item first
    # decay: old Action, recent Comedy -> Comedy items lead
    q2 = query([1], T0 + 100 * DAY, [imap.encode([20, 40])], [[T0, T0 + 100 * DAY - 1]])
    md = ContentKNN(G, time_decay_half_life=DAY)
    assert md.recommend(q2, k=1)[0, 0] == imap.encode([10])[0]
    with pytest.raises(ValueError, match="n_items"):
        ContentKNN(G).fit(df, 2, 5)


def test_contentknn_scores_are_cosines_with_the_profile():
    feats = np.array([[0, 0], [1, 0], [0, 2], [1, 1]], dtype=float)
    m = ContentKNN(feats).fit(frame([1], [1], [T0]), 1, 3)
    s = m.score(query([1, 1], T0, [[1], [1, 2]], [[T0], [T0, T0]])).numpy()
    np.testing.assert_allclose(s[0, 1:], [1, 0, 1 / np.sqrt(2)], rtol=1e-6)
    np.testing.assert_allclose(s[1, 1:], [1 / np.sqrt(2), 1 / np.sqrt(2), 1], rtol=1e-6)  # profile (1, 1) / sqrt 2
    assert np.isneginf(s[:, 0]).all()
    with pytest.raises(ValueError, match="NaN or inf"):
        ContentKNN(np.array([[0.0], [np.nan]]))
    with pytest.raises(ValueError, match="2-D"):
        ContentKNN(np.zeros(5))


def test_hybrid_weights_and_normalisation():
    df = cooccurrence_log()
    pop, knn = Popularity(), ItemKNN(k_neighbors=10, shrink=0.0)
    h = Hybrid([pop, knn], weights=(1, 0)).fit(df, 31, 5)
    q = queries_from_frames(df, df.drop_duplicates("user")[["user", "timestamp"]].assign(timestamp=T0 + DAY))
    np.testing.assert_array_equal(h.recommend(q, k=3), pop.recommend(q, k=3))
    hz = Hybrid([knn, pop], weights=(1, 0), norm="zscore", fit_models=False).fit(df, 31, 5)
    np.testing.assert_array_equal(hz.recommend(q, k=3), knn.recommend(q, k=3))
    # an equal mix is the sum of min-max scaled scores over each query's unseen items
    mix = Hybrid([pop, knn], weights=(0.5, 0.5), fit_models=False).fit(df, 31, 5)
    qq = query([31], T0 + DAY, [[1]], [[T0]])
    s = mix.score(qq).numpy()[0]
    cand = np.array([False, False, True, True, True, True])
    want = 0
    for part in (pop.score(qq).numpy()[0], knn.score(qq).numpy()[0]):
        lo, hi = part[cand].min(), part[cand].max()
        want = want + 0.5 * (part - lo) / (hi - lo)
    np.testing.assert_allclose(s[cand], want[cand], rtol=1e-6)
    assert mix.recommend(qq, k=1)[0, 0] == 2 and s[0] == -np.inf
    with pytest.raises(ValueError, match="weights"):
        Hybrid([pop, knn], weights=(1,))
    with pytest.raises(ValueError, match="norm"):
        Hybrid([pop], norm="rank")
    with pytest.raises(RuntimeError, match="not fitted"):
        Hybrid([Popularity()]).score(qq)
