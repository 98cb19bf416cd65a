"""Promotion flags, the paired promotion response and campaign summaries on hand-made tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.analysis import promotions as PR
from tsrec.prep import IdMap


def _promotions():
    return pd.DataFrame({"item": [100, 100, 200, 100], "store": [1, 1, 1, 2], "week": [2, 2, 3, 2],
                         "on_display": [False, True, False, False], "in_mailer": [False, False, True, True]})


def test_flags_join_on_item_store_week_and_merge_duplicate_rows():
    events = pd.DataFrame({"item": [100, 100, 200, 300], "store": [1, 1, 1, 1], "week": [2, 3, 3, 2]})
    flags = PR.promotion_flags(events, _promotions())
    assert flags["on_display"].tolist() == [True, False, False, False]
    assert flags["in_mailer"].tolist() == [False, False, True, False]


def test_response_is_the_paired_difference_of_weekly_purchase_rates():
    # household 1 shops weeks 1-4 at store 1; product 100 promoted there in week 2, bought in weeks 2 and 4
    lines = pd.DataFrame({"user": [1, 1, 1, 1, 1], "item": [100, 100, 7, 7, 7], "store": 1,
                          "week": [2, 4, 1, 3, 1], "basket": [2, 4, 1, 3, 1]})
    lines = pd.concat([lines, lines.assign(user=2, basket=lines["basket"] + 10)], ignore_index=True)
    out = PR.promotion_response(lines, _promotions(), min_weeks=2)
    row = out.loc["display or mailer"]
    # promoted weeks: {2} -> rate 1; other weeks {1, 3, 4} -> rate 1/3
    assert row["P(buy | promoted)"] == pytest.approx(1.0) and row["P(buy | not promoted)"] == pytest.approx(1 / 3)
    assert row["difference"] == pytest.approx(2 / 3) and row["households"] == 2


def test_calendar_and_campaigns():
    lines = pd.DataFrame({"timestamp": [5, 3, 20, 40], "week": [1, 1, 2, 3]})
    promoted, starts = PR.promotion_calendar(_promotions(), lines, IdMap.fit([100, 200]))
    assert starts.tolist() == [3, 20, 40]
    assert promoted[(1, 2)].tolist() == [1] and promoted[(1, 3)].tolist() == [2] and promoted[(2, 2)].tolist() == [1]
    day = lambda s: pd.Timestamp(s)  # noqa: E731
    camp = pd.DataFrame({"campaign_id": [1, 1, 2], "user": [1, 2, 1], "campaign_type": ["A", "A", "B"],
                         "start_date": [day("2017-01-01")] * 3, "end_date": [day("2017-01-11")] * 3})
    red = pd.DataFrame({"user": [1, 1], "coupon_upc": [9, 9], "campaign_id": [1, 1],
                        "redemption_date": [day("2017-01-06"), day("2017-01-11")]})
    s = PR.campaign_summary(camp, red)
    assert s.loc["A", "share of targets redeeming"] == pytest.approx(0.5) and s.loc["B", "redemptions"] == 0
    t = PR.redemption_timing(camp, red)
    assert np.allclose(t["share_elapsed"], [0.5, 1.0])
