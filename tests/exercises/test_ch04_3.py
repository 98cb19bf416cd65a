"""Chapter 4.3's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import numpy as np

from tsrec import data, exercises
from tsrec import online as S
from tsrec.metrics import target_ranks
from tsrec.times import DAY
from tsrec.windows import decayed_popularity


def test_rank():
    scores, seen = np.array([[0, .5, .9, .5, .2, .9]]), np.array([[False, False, True, False, False, False]])
    right = int(target_ranks(scores, [3], seen)[0])
    assert right == 2 and exercises.ch04_3_rank(right)      # item 5 (0.9) and item 1 (0.5, lower id) come first
    assert not exercises.ch04_3_rank(3)                      # the masked item 2 counted


def test_decayed_titanic():
    ml = data.load("ml-100k")
    titanic = ml.items.loc[ml.items["title"] == "Titanic", "item"].iloc[0]
    now = int(ml.interactions["timestamp"].max())
    right = float(decayed_popularity(ml.interactions, now, DAY).loc[titanic])
    assert exercises.ch04_3_decayed_titanic(right)
    assert not exercises.ch04_3_decayed_titanic(float(decayed_popularity(ml.interactions, now, 7 * DAY).loc[titanic]))


def _ml_stream():
    src = S.EventSource(data.load("ml-100k").interactions, encode=True)
    return src, int(src.frame["timestamp"].median())


def test_prequential_ndcg():
    src, start = _ml_stream()

    def run(every):
        res = S.prequential(src, S.OnlinePopularity(src.n_items, 7 * DAY), every=every, start=start, progress=False)
        return S.summarize(res)["NDCG@10"]

    right, every_5th = run(10), run(5)                      # every 5th is what the chapter prints
    assert exercises.ch04_3_prequential_ndcg(right)
    assert abs(every_5th - right) > 1e-6 and not exercises.ch04_3_prequential_ndcg(every_5th)


def test_online_knn_window_judges_the_answer_and_reports_the_prediction(capsys):
    src, start = _ml_stream()

    def run(window):
        res = S.prequential(src, S.OnlineItemKNN(src.n_items, window=window), every=10, start=start, progress=False)
        return S.summarize(res)["NDCG@10"]

    right, default_window = run(5), run(20)
    assert exercises.ch04_3_online_knn_window(right, prediction=right - 0.01)
    out = capsys.readouterr().out
    assert "Correct!" in out and "off by -0.0100" in out
    assert abs(default_window - right) > 1e-4 and not exercises.ch04_3_online_knn_window(default_window)
