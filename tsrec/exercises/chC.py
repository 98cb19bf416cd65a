"""Exercise checks for appendix C (common problems)."""
from __future__ import annotations

import numpy as np

from tsrec.exercises._common import _close, _prediction_note, _report


def _ml100k():
    from tsrec import data

    return data.load("ml-100k").interactions


def chC_knn_tie_order(answer: float, order: str = "item id") -> bool:
    """Ex. C.1: ItemKNN(100)'s test HR@10 on ML-100K, leave-one-out with timestamp ties ordered by ``order``."""
    from tsrec import splits
    from tsrec.analysis import pitfalls
    from tsrec.evaluate import evaluate
    from tsrec.models.knn import ItemKNN

    sp = splits.leave_one_out(pitfalls.tie_order(_ml100k(), order))
    knn = ItemKNN(100).fit(sp.train, sp.n_users, sp.n_items)
    expected = evaluate(knn, sp, "test", ks=(10,))["HR@10"]
    return _report(_close(answer, expected, tol=1e-6),
                   "splits.leave_one_out(P.tie_order(ml, 'item id')); "
                   "ItemKNN(100).fit(sp.train, sp.n_users, sp.n_items); evaluate(knn, sp, 'test', ks=(10,))['HR@10']")


def chC_batch_pop(answer: float, prediction: float | None = None, batch_size: int = 512, seed: int = 0) -> bool:
    """Ex. C.2 (predict, then run): test HR@10 of popularity counted once per batch of ``batch_size`` (rows
    shuffled with ``seed``) on ML-100K's leave-one-out split."""
    from tsrec import splits
    from tsrec.analysis import pitfalls
    from tsrec.evaluate import evaluate

    sp = splits.leave_one_out(_ml100k())
    counts = pitfalls.batch_counts(sp.train["item"].to_numpy(), sp.n_items, batch_size, seed=seed)
    counts[0] = -np.inf
    ok = _report(_close(answer, evaluate(counts, sp, "test", ks=(10,))["HR@10"], tol=1e-6),
                 "P.batch_counts(train items, n_items, 512, seed=0), column 0 set to -inf, passed to evaluate(...) "
                 "as one score vector for every user")
    _prediction_note(prediction, answer)
    return ok


def chC_duplicate_targets(answer: float, frac: float = 0.2, seed: int = 0) -> bool:
    """Ex. C.3: share of users whose validation item is their test item once ``frac`` of ML-100K's rows are logged
    twice (``ml.sample(frac, random_state=seed)`` appended) and split by leave-one-out."""
    import pandas as pd

    from tsrec import splits

    ml = _ml100k()
    sp = splits.leave_one_out(pd.concat([ml, ml.sample(frac=frac, random_state=seed)]))
    expected = float((sp.valid.set_index("user")["item"] == sp.test.set_index("user")["item"]).mean())
    return _report(_close(answer, expected, tol=1e-6),
                   "compare sp.valid and sp.test item by user (both indexed by user), then take the mean")


def chC_stop_epoch(answer: int, curve: tuple = (0.10, 0.12, 0.11, 0.13, 0.12, 0.12, 0.125, 0.11),
                   patience: int = 2) -> bool:
    """Ex. C.4: the epoch at which early stopping with ``patience`` ends a run with this validation curve."""
    from tsrec.analysis import pitfalls

    _, expected = pitfalls.early_stop_epoch(curve, patience)
    return _report(_close(answer, expected, tol=0.5),
                   "count the epochs after the best one that do not improve on it; the run stops at the "
                   "patience-th of them")
