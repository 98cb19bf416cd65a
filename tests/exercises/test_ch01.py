"""Chapter 1's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import math

from tsrec import exercises


def test_ndcg():
    assert exercises.ch01_ndcg(1 / math.log2(5))
    assert not exercises.ch01_ndcg(1 / 4)                 # 1 / (rank + 1) is MRR, not NDCG


def test_coverage():
    assert exercises.ch01_coverage(0.5)                   # items 1..5 of 10
    assert not exercises.ch01_coverage(9 / 30)            # list entries, not distinct items


def test_time_sensitivity():
    assert exercises.ch01_time_sensitivity((0.3 / 2 + 0.4 / 4) / 2)
    assert not exercises.ch01_time_sensitivity((0.3 / 2 + 0.4 / 4) / 3)   # the zero-interval pair kept in N


def test_knn_tiebreak_judges_the_answer_and_reports_the_prediction(capsys):
    from tsrec import data, splits
    from tsrec.evaluate import evaluate
    from tsrec.models.knn import ItemKNN

    df = data.load("ml-100k").interactions.sort_values(["timestamp", "item"], kind="stable")
    split = splits.leave_one_out(df)
    right = evaluate(ItemKNN(k_neighbors=100).fit(split.train, split.n_users, split.n_items), split, "test",
                     ks=(10,))["HR@10"]
    assert exercises.ch01_knn_tiebreak(right, prediction=right + 0.01)
    out = capsys.readouterr().out
    assert "Correct!" in out and "off by +0.0100" in out
    file_order = splits.leave_one_out(data.load("ml-100k").interactions)    # the default tie-break: wrong here
    wrong = evaluate(ItemKNN(k_neighbors=100).fit(file_order.train, file_order.n_users, file_order.n_items),
                     file_order, "test", ks=(10,))["HR@10"]
    assert abs(wrong - right) > 0.01 and not exercises.ch01_knn_tiebreak(wrong)
