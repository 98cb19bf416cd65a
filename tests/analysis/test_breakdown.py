"""Tests of tsrec.analysis.breakdown: metrics by target popularity, history length and coldness; run comparisons."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec import splits
from tsrec.analysis import breakdown, compare_runs, history_lengths, popularity_groups


def test_breakdown_groups_and_values():
    counts = np.array([0, 500, 50, 3, 0, 120])  # item 1 head, 2 torso, 3 tail, 4 cold, 5 head
    assert popularity_groups(counts).tolist()[1:] == ["head", "torso", "tail", "cold", "head"]
    assert popularity_groups(counts, tail_max=60, head_min=200).tolist()[1:] == ["head", "tail", "tail", "cold",
                                                                                 "torso"]
    frame = pd.DataFrame({"user": [1, 2, 3, 4, 5, 6], "target": [1, 5, 2, 3, 3, 4], "rank": [0, 20, 1, 0, 9, 3]})
    hist = pd.Series([5, 30, 30, 200, 5, 60], index=[1, 2, 3, 4, 5, 6])
    b = breakdown(frame, counts, hist, cold_items=[4], k=10)
    assert b.loc[("all", "all"), "n"] == 6 and b.loc[("all", "all"), "HR@10"] == pytest.approx(5 / 6)
    assert b.loc[("popularity", "head"), "HR@10"] == pytest.approx(0.5)
    assert b.loc[("popularity", "tail"), "NDCG@10"] == pytest.approx((1 + 1 / np.log2(11)) / 2)
    assert b.loc[("target", "cold"), "n"] == 1 and b.loc[("history", "1-20"), "n"] == 2
    assert b.loc[("history", ">150"), "n"] == 1
    a_runs = [frame, frame.assign(rank=[1, 20, 1, 0, 9, 3])]
    b_runs = [frame.assign(rank=0), frame.assign(rank=0)]
    c = compare_runs(a_runs, b_runs, counts, hist, k=10)
    assert c.loc[("all", "all"), "B"] == pytest.approx(1.0) and c.loc[("all", "all"), "delta"] > 0
    with pytest.raises(ValueError):
        compare_runs(a_runs, b_runs[:1], counts)


def test_history_lengths_count_what_a_model_sees_before_each_stage():
    df = pd.DataFrame({"user": [1] * 5 + [2] * 3, "item": [1, 2, 3, 4, 5, 1, 2, 3], "timestamp": range(8)})
    s = splits.leave_one_out(df)
    assert history_lengths(s, "valid").to_dict() == {1: 3, 2: 1}
    assert history_lengths(s, "test").to_dict() == {1: 4, 2: 2}
