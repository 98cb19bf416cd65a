"""Exercise checks for chapter 1."""
from __future__ import annotations

import numpy as np

from tsrec.exercises._common import _close, _prediction_note, _report


def ch01_ndcg(answer: float, rank: int = 3, k: int = 10) -> bool:
    """Ex. 1.1: NDCG@k of one user whose single target sits at 0-based ``rank``."""
    from tsrec.metrics import rank_metrics

    return _report(_close(answer, rank_metrics([rank], ks=(k,))[f"NDCG@{k}"]),
                   "NDCG = 1 / log2(rank + 2) for a hit with a 0-based rank, 0 beyond k")


def ch01_coverage(answer: float, lists: tuple = ((1, 2, 3), (2, 3, 4), (1, 2, 5)), n_items: int = 10) -> bool:
    """Ex. 1.2: catalogue coverage of the given top-3 lists over ``n_items`` items."""
    from tsrec.metrics import catalog_coverage

    return _report(_close(answer, catalog_coverage(np.array(lists), n_items)),
                   "count the distinct items over all lists and divide by the catalogue size")


def ch01_time_sensitivity(answer: float, scores: tuple = (0.2, 0.5, 0.5, 0.9), hours: tuple = (0, 2, 2, 6)) -> bool:
    """Ex. 1.3: the TS score of a score series at the given times (hours), zero intervals skipped."""
    from tsrec.metrics import time_sensitivity

    expected = time_sensitivity(np.array(scores), np.array(hours, dtype=float), zero_interval="skip")
    return _report(_close(answer, expected), "pairs with a zero interval are dropped from both the sum and N")



def ch01_knn_tiebreak(answer: float, prediction: float | None = None, k_neighbors: int = 100) -> bool:
    """Ex. 1.4 (predict, then run): item-kNN's test HR@10 on ML-100K when timestamp ties are ordered by item id."""
    from tsrec import data, splits
    from tsrec.evaluate import evaluate
    from tsrec.models.knn import ItemKNN

    df = data.load("ml-100k").interactions.sort_values(["timestamp", "item"], kind="stable")
    split = splits.leave_one_out(df)
    knn = ItemKNN(k_neighbors=k_neighbors).fit(split.train, split.n_users, split.n_items)
    ok = _report(_close(answer, evaluate(knn, split, "test", ks=(10,))["HR@10"], tol=5e-4),
                 "sort by (timestamp, item) with a stable sort, split, fit ItemKNN(k_neighbors=100), evaluate HR@10")
    _prediction_note(prediction, answer)
    return ok
