"""Buy-again ranks the household's own ripe products first; RepeatExplore keeps slots for new products."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec.models.basket import BuyAgain, RepeatExplore
from tsrec.models.popularity import Popularity
from tsrec.queries import QueryBatch
from tsrec.times import DAY


def _train():
    return pd.DataFrame({"user": [1, 1, 1, 1, 2, 2], "item": [1, 1, 2, 2, 3, 3],
                         "timestamp": [0, 7 * DAY, 0, 30 * DAY, 0, 10 * DAY]})


def _batch(now):
    return QueryBatch(np.array([1]), [np.array([1, 1, 2, 2])], [np.array([0, 7 * DAY, 0, 30 * DAY])], np.array([now]))


def test_ripeness_orders_bought_products():
    m = BuyAgain(beta=1.0).fit(_train(), 2, 3)
    s = m.score(_batch(37 * DAY))     # item 1 is 30 d past its 7-d rhythm; item 2 bought 7 d ago, rhythm 30 d
    assert s[0, 0] == float("-inf") and (s[0, 1:3] > 1).all() and s[0, 3] < 1
    s_freq = BuyAgain(beta=0.0).fit(_train(), 2, 3).score(_batch(37 * DAY))
    assert torch.isclose(s_freq[0, 1], s_freq[0, 2])          # time-blind: equal counts, equal scores
    st = m.state(_batch(14 * DAY)).set_index("item")
    assert st.loc[1, "tau"] == pytest.approx(7 * DAY) and st.loc[1, "elapsed"] == pytest.approx(7 * DAY)
    assert m.score(_batch(14 * DAY))[0, 1] > m.score(_batch(14 * DAY))[0, 2]   # item 1 is exactly ripe


def test_repeat_explore_slots():
    m = RepeatExplore(BuyAgain(0.0), Popularity(), n_explore=1, k=2).fit(_train(), 2, 3)
    top = m.recommend(_batch(37 * DAY), k=2, exclude_seen=False)[0]
    assert top[1] == 3 and top[0] in (1, 2)
    with pytest.raises(ValueError):
        RepeatExplore(BuyAgain(), Popularity(), n_explore=3, k=2)
    with pytest.raises(RuntimeError):
        BuyAgain().score(_batch(0))


def test_promotion_boost_lifts_this_weeks_promoted_products_at_the_main_store():
    from tsrec.models.basket import PromotionBoost, main_store

    lines = pd.DataFrame({"user": [1, 1, 1, 2], "store": [5, 5, 9, 9], "basket": [10, 11, 12, 13]})
    stores = main_store(lines, n_users=2)
    assert stores.tolist() == [-1, 5, 9]
    weeks = np.array([0, 7 * DAY])          # week 1 from t = 0, week 2 from day 7
    promoted = {(5, 2): np.array([3]), (9, 2): np.array([1])}
    base = BuyAgain(0.0)
    m = PromotionBoost(base, promoted, weeks, stores, weight=np.log(2.0)).fit(_train(), 2, 3)
    plain = base.score(_batch(37 * DAY))
    boosted = m.score(_batch(37 * DAY))     # user 1 in week 2 at store 5: product 3 doubled, the rest unchanged
    assert torch.isclose(boosted[0, 3], 2 * plain[0, 3]) and torch.equal(boosted[0, 1:3], plain[0, 1:3])
    week1 = QueryBatch(np.array([1]), [np.array([1])], [np.array([0])], np.array([DAY]))
    assert torch.equal(m.score(week1), base.score(week1))   # nothing promoted in week 1
    with pytest.raises(ValueError, match="user_store"):
        PromotionBoost(BuyAgain(), promoted, weeks, np.array([-1]), 1.0).fit(_train(), 2, 3)
