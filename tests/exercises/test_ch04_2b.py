"""Chapter 4.2b's exercise checks accept the right answer and reject a wrong one."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from tsrec import data, exercises, splits
from tsrec.evaluate import eval_queries
from tsrec.times import DAY


def test_token_count():
    from tsrec import llm

    line = "Wed 1998-04-22 23:10, 3 days after the previous"
    right = len(llm.GenerativeLM().tokenizer(line, add_special_tokens=False)["input_ids"])
    assert exercises.ch04_2b_token_count(right) is True
    assert exercises.ch04_2b_token_count(len(line.split())) is False  # words are not tokens


@pytest.mark.parametrize("answer, ok", [(4, True), (3, False), (5, False)])
def test_gap_bucket(answer, ok):
    assert exercises.ch04_2b_gap_bucket(answer) is ok  # 3 hours: at least 1 h, under 6 h


@pytest.mark.parametrize("answer, ok", [(17, True), (16, False), (18, False)])
def test_log_bucket(answer, ok):
    assert exercises.ch04_2b_log_bucket(answer) is ok  # log2(172801) = 17.4


def test_first_weekday(ml100k):
    t = int(ml100k.interactions["timestamp"].min())
    right = dt.datetime.fromtimestamp(t, tz=dt.timezone.utc).strftime("%A")
    assert exercises.ch04_2b_first_weekday(right) is True
    assert exercises.ch04_2b_first_weekday(right.upper()[:3]) is True
    wrong = [d for d in ("Monday", "Tuesday") if d != right][0]
    assert exercises.ch04_2b_first_weekday(wrong) is False


def test_guess_pvalue():
    assert exercises.ch04_2b_guess_pvalue(stats.binom.sf(18, 50, 0.25)) is True
    assert exercises.ch04_2b_guess_pvalue(stats.binom.sf(19, 50, 0.25)) is False  # P(X >= 20), off by one


def test_long_gap_share_and_the_prediction_note(capsys):
    q, _ = eval_queries(splits.leave_one_out(data.load("ml-latest-small").interactions), "test")
    right = float(np.mean([now - t[-1] > DAY for now, t in zip(q.now, q.times)]))
    assert exercises.ch04_2b_long_gap_share(right, prediction=right - 0.05) is True
    assert "off by -0.0500" in capsys.readouterr().out
    assert exercises.ch04_2b_long_gap_share(right + 0.01, prediction=0.2) is False
    assert "prediction" not in capsys.readouterr().out
