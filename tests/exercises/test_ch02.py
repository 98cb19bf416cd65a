"""Chapter 2's exercise checks accept the right answer and reject a wrong one."""
from __future__ import annotations

import numpy as np
import pytest

from tsrec import exercises
from tsrec.analysis import hold_out_items


def test_gate_fusion():
    assert exercises.ch02_gate_fusion(0.5 * 0.4 + 0.5 * -0.2) is True
    assert exercises.ch02_gate_fusion(0.4 - 0.2 * 0.0) is False  # the gate ignored


def test_random_hit_rate(ml100k_loo):
    n_seen = ml100k_loo.history("test").groupby("user")["item"].nunique()
    right = 10 / (ml100k_loo.n_items - n_seen.max())
    assert exercises.ch02_random_hit_rate(right) is True
    assert exercises.ch02_random_hit_rate(10 / ml100k_loo.n_items) is False  # seen items not masked


def test_pca_share(ml100k_loo, ml100k):
    from tsrec.llm import item_text_embeddings

    E = item_text_embeddings(ml100k_loo, ml100k.items)[1:].astype(np.float64)
    s = np.linalg.svd(E - E.mean(0), compute_uv=False) ** 2
    assert exercises.ch02_pca_share(s[:64].sum() / s.sum()) is True
    assert exercises.ch02_pca_share(64 / 384) is False


def test_cold_events_and_the_prediction_note(ml100k_loo, capsys):
    held, _ = hold_out_items(ml100k_loo, frac=0.10, seed=0)
    right = len(ml100k_loo.train) - len(held.train)
    assert exercises.ch02_cold_events(right, prediction=right + 1000) is True
    out = capsys.readouterr().out
    assert "Correct!" in out and "off by +1000" in out
    assert exercises.ch02_cold_events(right, prediction=None) is True
    assert "Your prediction" not in capsys.readouterr().out
    assert exercises.ch02_cold_events(right + 5000, prediction=right) is False
    assert "prediction" not in capsys.readouterr().out  # a wrong answer does not reveal the value


@pytest.mark.parametrize("answer, ok", [(4, True), (3, False), (5, False)])
def test_gap_token(answer, ok):
    assert exercises.ch02_gap_token(answer) is ok  # 90 minutes: at least 1 h, under 6 h
