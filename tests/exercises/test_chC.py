"""Appendix C's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec import data, exercises, splits
from tsrec.analysis import pitfalls as P
from tsrec.evaluate import evaluate
from tsrec.models.knn import ItemKNN


def _ml():
    return data.load("ml-100k").interactions


def _knn_hr(order):
    sp = splits.leave_one_out(P.tie_order(_ml(), order))
    return evaluate(ItemKNN(100).fit(sp.train, sp.n_users, sp.n_items), sp, "test", ks=(10,))["HR@10"]


def test_knn_tie_order():
    right, file_row = _knn_hr("item id"), _knn_hr("file row")
    assert exercises.chC_knn_tie_order(right)
    assert abs(right - file_row) > 1e-3 and not exercises.chC_knn_tie_order(file_row)


def test_batch_pop_judges_the_answer_and_reports_the_prediction(capsys):
    sp = splits.leave_one_out(_ml())

    def hr(bs):
        c = P.batch_counts(sp.train["item"].to_numpy(), sp.n_items, bs, seed=0)
        c[0] = -np.inf
        return evaluate(c, sp, "test", ks=(10,))["HR@10"]

    right, other = hr(512), hr(2048)
    assert exercises.chC_batch_pop(right, prediction=right - 0.01)
    out = capsys.readouterr().out
    assert "Correct!" in out and "off by -0.0100" in out
    assert abs(other - right) > 1e-3 and not exercises.chC_batch_pop(other)


def test_duplicate_targets():
    ml = _ml()

    def share(frac):
        sp = splits.leave_one_out(pd.concat([ml, ml.sample(frac=frac, random_state=0)]))
        return float((sp.valid.set_index("user")["item"] == sp.test.set_index("user")["item"]).mean())

    right, ten = share(0.2), share(0.1)
    assert exercises.chC_duplicate_targets(right)
    assert not exercises.chC_duplicate_targets(ten)


def test_stop_epoch():
    assert exercises.chC_stop_epoch(6)          # best at 4, epochs 5 and 6 without improvement
    assert not exercises.chC_stop_epoch(4)      # the best epoch, not the one the run stops at
    assert not exercises.chC_stop_epoch(8)
