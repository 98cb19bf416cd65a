"""Exercise checks for chapter 2 (LLMs in recommender systems)."""
from __future__ import annotations

import math

import numpy as np

from tsrec.exercises._common import _close, _prediction_note, _report


def _ml100k_loo():
    """ML-100K, leave-one-out by time: the split every ML-100K exercise of the chapter uses."""
    from tsrec import data, splits

    return splits.leave_one_out(data.load("ml-100k").interactions)


def ch02_gate_fusion(answer: float, id_value: float = 0.4, text_value: float = -0.2, gate_logit: float = 0.0) -> bool:
    """Ex. 2.1: one coordinate of a gated item vector, g * id + (1 - g) * text with g = sigmoid(gate_logit)."""
    g = 1.0 / (1.0 + math.exp(-gate_logit))
    return _report(_close(answer, g * id_value + (1 - g) * text_value),
                   "g = sigmoid(gate logit) weighs the ID part, 1 - g the projected text part")


def ch02_random_hit_rate(answer: float, k: int = 10) -> bool:
    """Ex. 2.2: expected HR@k of a uniformly random ranking (seen items masked) for the ML-100K test user with
    the most distinct items in their history (the smallest user id among ties)."""
    from tsrec.analysis import random_hit_rate

    split = _ml100k_loo()
    n_seen = split.history("test").groupby("user")["item"].nunique()
    user = int(n_seen[n_seen == n_seen.max()].index.min())
    return _report(_close(answer, random_hit_rate(split, "test", k, [user])),
                   "seen items are masked, so the target is one of n_items - (distinct seen items) candidates, "
                   "and k of them are shown")


def ch02_pca_share(answer: float, hidden: int = 64) -> bool:
    """Ex. 2.3: share of the variance of ML-100K's MiniLM item-text embeddings (centred) kept by the top
    ``hidden`` principal components, i.e. by the LM-initialised ID table of a hidden-``hidden`` SASRec."""
    from tsrec import data
    from tsrec.llm import item_text_embeddings

    E = item_text_embeddings(_ml100k_loo(), data.load("ml-100k").items)[1:].astype(np.float64)
    s = np.linalg.svd(E - E.mean(0), compute_uv=False) ** 2
    return _report(_close(answer, s[:hidden].sum() / s.sum(), tol=2e-3),
                   "centre the embeddings, take squared singular values, divide the top-k sum by the total")


def ch02_cold_events(answer: int, prediction: float | None = None, frac: float = 0.10, seed: int = 0) -> bool:
    """Ex. 2.4 (predict, then run): training events removed from ML-100K leave-one-out by
    ``hold_out_items(split, frac, seed=seed)``; says how far the prediction was."""
    from tsrec.analysis import hold_out_items

    split = _ml100k_loo()
    held, _ = hold_out_items(split, frac=frac, seed=seed)
    expected = len(split.train) - len(held.train)
    ok = _report(_close(answer, expected, tol=0.5),
                 "hold_out_items draws items in proportion to their training count and drops all their training "
                 "events: compare len(split.train) with len(held.train)")
    if ok:
        _prediction_note(prediction, expected)
    return ok


def ch02_gap_token(answer: int, seconds: float = 5400) -> bool:
    """Ex. 2.5: the gap bucket (0 = same second) the generative model's time tokens give a gap of ``seconds``."""
    from tsrec.models.generative import gap_buckets

    return _report(_close(answer, int(gap_buckets(np.array([seconds]))[0]), tol=0.5),
                   "buckets: <1 s, <1 min, <10 min, <1 h, <6 h, <1 day, <1 week, <30 days, <1 year, more")
