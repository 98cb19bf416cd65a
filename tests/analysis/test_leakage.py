"""Tests of tsrec.analysis.leakage: the time-of-day inference attack finds a planted signal and no more."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.analysis import leakage as L
from tsrec.queries import QueryBatch
from tsrec.times import HOUR


def test_active_block_is_the_commonest_block_earliest_on_ties():
    frame = pd.DataFrame({"user": [1, 1, 1, 2, 2], "timestamp": [1 * HOUR, 2 * HOUR, 20 * HOUR, 7 * HOUR, 13 * HOUR]})
    assert L.active_block(frame).to_dict() == {1: 0, 2: 1}
    with pytest.raises(ValueError, match="divide 24"):
        L.active_block(frame, 5)


def test_multi_hot_and_gap_histogram():
    m = L.multi_hot([np.array([1, 1, 3]), np.array([], np.int64)], 5)
    assert m.toarray().tolist() == [[0, 1, 0, 1, 0], [0, 0, 0, 0, 0]]
    batch = QueryBatch(np.array([1]), [np.array([1, 2, 3])], [np.array([0, 30, 30 + 2 * HOUR])], np.array([0]))
    h = L.gap_histogram(batch)
    assert h.shape == (1, 7) and h[0, 0] == 0.5 and h[0, 3] == 0.5
    assert L.last_event_hour(batch).toarray()[0, 2] == 1


def test_the_attack_finds_a_planted_signal_and_nothing_in_noise():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 400)
    planted = L.multi_hot([np.array([lab]) for lab in labels], 4)   # the feature is the label itself
    noise = L.multi_hot([rng.integers(0, 50, 5) for _ in labels], 50)
    res = {"planted": L.inference_accuracy(planted, labels), "noise": L.inference_accuracy(noise, labels)}
    table = L.leak_table(res, "noise")
    assert table.loc["planted", "accuracy"] > 0.95 and table.loc["planted", "bits per user"] > 0.5  # of log2(4) = 2
    assert table.loc["noise", "gain"] - table.loc["noise", "gain ±95% (paired)"] <= 1e-12  # not above chance
    assert table.loc["noise", "bits per user"] < 0.05 and table.loc["noise", "bits vs noise"] == 0
