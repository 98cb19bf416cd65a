"""Exercise checks for chapter 4.3."""
from __future__ import annotations

import numpy as np

from tsrec.exercises._common import _close, _prediction_note, _report
from tsrec.times import DAY


def _ml100k_prequential_ndcg(half_life_days: float, every: int = 10) -> float:
    """NDCG@10 of OnlinePopularity(half_life_days) on ML-100K, every ``every``-th event from the median time."""
    from tsrec import data
    from tsrec import online as S

    src = S.EventSource(data.load("ml-100k").interactions, encode=True)
    start = int(src.frame["timestamp"].median())
    res = S.prequential(src, S.OnlinePopularity(src.n_items, half_life_days * DAY), k=10, every=every,
                        start=start, progress=False)
    return S.summarize(res)["NDCG@10"]


def ch04_3_rank(answer: int, scores: tuple = (0.0, 0.5, 0.9, 0.5, 0.2, 0.9), target: int = 3,
                exclude: tuple = (2,)) -> bool:
    """Ex. 4.3.1: 0-based rank of ``target`` among items 1..n (``exclude`` masked, ties by item id)."""
    from tsrec.metrics import target_ranks

    mask = np.zeros(len(scores), dtype=bool)
    mask[list(exclude)] = True
    expected = int(target_ranks(np.asarray([scores], dtype=float), [target], mask[None, :])[0])
    return _report(_close(answer, expected, tol=0.5),
                   "count unmasked items 1..n with a higher score, plus those with an equal score and a lower id; "
                   "item 0 (padding) and masked items never count")


def ch04_3_decayed_titanic(answer: float, half_life_days: float = 1.0) -> bool:
    """Ex. 4.3.2: Titanic's decayed popularity (half-life ``half_life_days``) as of ML-100K's last event."""
    from tsrec import data
    from tsrec.windows import decayed_popularity

    ml = data.load("ml-100k")
    item = ml.items.loc[ml.items["title"] == "Titanic", "item"].iloc[0]
    inter = ml.interactions
    pop = decayed_popularity(inter, int(inter["timestamp"].max()), half_life_days * DAY)
    return _report(_close(answer, pop.get(item, 0.0), tol=1e-6),
                   "sum 0.5 ** ((now - t) / half_life) over Titanic's ratings, now = the log's last timestamp")


def ch04_3_prequential_ndcg(answer: float, half_life_days: float = 7.0, every: int = 10) -> bool:
    """Ex. 4.3.3: prequential NDCG@10 of OnlinePopularity on ML-100K (every 10th event from the median time)."""
    expected = _ml100k_prequential_ndcg(half_life_days, every)
    return _report(_close(answer, expected, tol=1e-6),
                   "EventSource(df, encode=True); prequential(src, OnlinePopularity(src.n_items, 7 * 86400), every=10, "
                   "start=median timestamp); summarize(...)['NDCG@10']")


def ch04_3_online_knn_window(answer: float, prediction: float | None = None, window: int = 5,
                              every: int = 10) -> bool:
    """Ex. 4.3.4 (predict, then run): prequential NDCG@10 of OnlineItemKNN(window=``window``) on ML-100K, every
    ``every``-th event from the median time."""
    from tsrec import data
    from tsrec import online as S

    src = S.EventSource(data.load("ml-100k").interactions, encode=True)
    start = int(src.frame["timestamp"].median())
    res = S.prequential(src, S.OnlineItemKNN(src.n_items, window=window), k=10, every=every, start=start,
                        progress=False)
    ok = _report(_close(answer, S.summarize(res)["NDCG@10"], tol=1e-6),
                 "EventSource(df, encode=True); prequential(src, OnlineItemKNN(src.n_items, window=5), every=10, "
                 "start=median timestamp); summarize(...)['NDCG@10']")
    _prediction_note(prediction, answer)
    return ok
