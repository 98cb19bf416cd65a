"""Exercise checks for chapter 7.1 (the e-commerce recommender on The Complete Journey, simulated data)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from tsrec.exercises._common import _close, _prediction_note, _report


@lru_cache(maxsize=2)
def _small(n: int = 100, seed: int = 1):  # noqa: ANN202
    """The exercises' split: ``n`` households drawn with ``seed``, two test and two validation weeks."""
    from tsrec.analysis import baskets as B
    from tsrec.data.loaders import load_complete_journey

    d = load_complete_journey()
    df = B.sample_households(d.interactions, n, seed)
    return d, df, B.basket_split(df, 2, 2, min_item_count=5)


def ch07_1_repeat_share(answer: float) -> bool:
    """Ex. 7.1.1: share of the test baskets' line products (catalogue items) the household had bought before."""
    _, _, sp = _small()
    q = sp.queries("test")
    expected = sum(len(r) for r in q.repeat) / sum(len(t) for t in q.targets)
    return _report(_close(answer, expected, tol=1e-6),
                   "q = split.queries('test'); sum of len(q.repeat[i]) over sum of len(q.targets[i])")


def ch07_1_produce_interval(answer: float) -> bool:
    """Ex. 7.1.2: median repurchase interval (days) of the PRODUCE department in the exercises' sample."""
    from tsrec.analysis import baskets as B

    d, df, _ = _small()
    gaps = B.repurchase_intervals(df, d.items, by="department")
    expected = float(gaps.loc[gaps["department"] == "PRODUCE", "gap_days"].median())
    return _report(_close(answer, expected, tol=1e-6),
                   "B.repurchase_intervals(df, data.items), keep department == 'PRODUCE', median of gap_days")


def ch07_1_recall20(answer: float, prediction: float | None = None) -> bool:
    """Ex. 7.1.3 (predict, then run): mean repeat Recall@20 of BuyAgain(beta=0) on the exercises' test baskets."""
    from tsrec.analysis import baskets as B
    from tsrec.models.basket import BuyAgain

    _, _, sp = _small()
    model = BuyAgain(0.0).fit(sp.fit_frame("test"), sp.n_users, sp.n_items)
    res, _ = B.evaluate_baskets(model, sp.queries("test"), k=20)
    expected = float(np.nanmean(res["Recall@20:repeat"]))
    ok = _report(_close(answer, expected, tol=1e-6),
                 "fit BuyAgain(0.0) on split.fit_frame('test'), B.evaluate_baskets(model, queries, k=20), "
                 "nanmean of 'Recall@20:repeat'")
    _prediction_note(prediction, expected)
    return ok
