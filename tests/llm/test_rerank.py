"""Tests of tsrec.llm.rerank: LLM re-ranking of a recommender's candidates (real LM), and zero-shot
time-sensitivity labels with their calibration (real LM, and the arithmetic on a stand-in)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic_logs import counting_log
from tsrec import splits
from tsrec.llm import TEMPORAL_LABELS, GenerativeLM, label_time_sensitivity, llm_rerank, rerank_metrics
from tsrec.models.knn import ItemKNN

N_CANDIDATES = 5


def _position(order: np.ndarray, target: int) -> int:
    hit = [i for i, x in enumerate(order.tolist()) if x == target]
    return hit[0] if hit else N_CANDIDATES


@pytest.fixture(scope="module")
def reranked(lm: GenerativeLM):
    split = splits.leave_one_out(counting_log(n_users=12, length=6))
    titles = pd.Series({i: name for i, name in zip(range(1, split.n_items + 1),
                                                   ["Toy Story", "Heat", "Casino", "Fargo", "Babe"] * 7)})
    titles = titles + " " + titles.index.astype(str)
    knn = ItemKNN(k_neighbors=10).fit(split.train, split.n_users, split.n_items)  # next item = a neighbour
    res = llm_rerank(lm, knn, split, titles, n_users=4, n_candidates=N_CANDIDATES, max_history=3,
                     show_progress=False)
    return split, titles, res


def test_llm_rerank_orders_are_permutations_and_positions_are_the_targets(reranked):
    _, _, res = reranked
    assert set(res.orders) == {"base", "time", "time+base", "no_time", "no_time+base"}
    assert len(res.frame) == 4 and res.n_candidates == N_CANDIDATES
    for name, per_user in res.orders.items():
        for u, order in per_user.items():
            assert sorted(order.tolist()) == sorted(res.candidates[u].tolist()), name
    for row in res.frame.itertuples():
        for name in res.orders:
            assert res.frame.loc[row.Index, name] == _position(res.orders[name][row.user], row.target), name
    # the candidates are the top of the same full ranking that gives base_rank
    assert (res.frame["base"] == np.minimum(res.frame["base_rank"], N_CANDIDATES)).all()
    assert (res.frame["base"] < N_CANDIDATES).any()  # some targets are among the candidates: positions matter
    assert "Today is" in res.prompts["time"] and "Today is" not in res.prompts["no_time"]


def test_the_time_order_sorts_the_candidates_by_the_lms_score(reranked, lm: GenerativeLM):
    _, titles, res = reranked
    first = int(res.frame["user"].iloc[0])  # res.prompts holds the first sampled user's prompt
    cands = res.candidates[first]
    scores = lm.score_candidates([res.prompts["time"]], [[titles[int(i)] for i in cands]], normalise=True,
                                 show_progress=False)[0]
    by_lm = cands[np.lexsort((np.arange(len(cands)), -scores))]
    np.testing.assert_array_equal(res.orders["time"][first], by_lm)
    lm_pos = np.empty(len(cands), int)
    lm_pos[np.lexsort((np.arange(len(cands)), -scores))] = np.arange(len(cands))
    borda = cands[np.lexsort((np.arange(len(cands)), lm_pos + np.arange(len(cands))))]
    np.testing.assert_array_equal(res.orders["time+base"][first], borda)


def test_rerank_metrics(reranked):
    _, _, res = reranked
    table = rerank_metrics(res, k=3)
    assert set(table.index) == set(res.orders) and table.loc["base", "ΔNDCG@3"] == 0.0
    for name in res.orders:
        assert table.loc[name, "HR@3"] == pytest.approx((res.frame[name] < 3).mean())
    with pytest.raises(ValueError, match="variants"):
        llm_rerank(None, None, None, pd.Series(dtype=str), variants=("dates",))


def test_label_time_sensitivity_with_the_real_lm(lm: GenerativeLM):
    out = label_time_sensitivity(lm, pd.Series(["Jingle All the Way (1996) — Children, Comedy",
                                                "Casablanca (1942) — Drama, Romance"], index=[7, 9]),
                                 show_progress=False)
    assert list(out.index) == [7, 9] and set(out["label"]) <= set(TEMPORAL_LABELS)
    probs = out[[f"p_{lab}" for lab in TEMPORAL_LABELS]].to_numpy()
    assert np.allclose(probs.sum(1), 1.0)
    assert (out["label"].to_numpy() == np.array(TEMPORAL_LABELS)[probs.argmax(1)]).all()
    raw = label_time_sensitivity(lm, pd.Series(["Casablanca (1942) — Drama, Romance"]), calibrate=False,
                                 show_progress=False)
    assert raw.loc[0, "label"] == raw.loc[0, "raw_label"] == out.loc[9, "raw_label"]


class _FixedLM:
    """Stands in for GenerativeLM where only the arithmetic of calibration is under test."""

    def __init__(self, probs: dict[str, list[float]]):
        self.probs = probs

    def chat(self, text: str) -> str:
        return text

    def classify(self, prompt: str, labels):
        key = next(k for k in self.probs if k in prompt)
        p = np.asarray(self.probs[key], float)
        return labels[int(p.argmax())], p


def test_label_calibration_arithmetic():
    lm = _FixedLM({"film-a": [0.7, 0.2, 0.1], "film-b": [0.8, 0.05, 0.15], "film-c": [0.6, 0.3, 0.1],
                   "(title not given)": [0.9, 0.05, 0.05]})
    texts = pd.Series(["film-a", "film-b", "film-c"], index=[1, 2, 3])
    labs = ["seasonal", "event-driven", "evergreen"]
    raw = label_time_sensitivity(lm, texts, labs, calibrate=False, show_progress=False)
    assert (raw["label"] == "seasonal").all() and (raw["raw_label"] == "seasonal").all()
    batch = label_time_sensitivity(lm, texts, labs, calibrate="batch", show_progress=False)
    assert batch["label"].tolist() == ["event-driven", "evergreen", "event-driven"]  # p / column mean, argmax
    assert np.allclose(batch.filter(like="p_").sum(1), 1.0)
    null = label_time_sensitivity(lm, texts, labs, calibrate="null", show_progress=False)
    assert null["label"].tolist() == ["event-driven", "evergreen", "event-driven"]
    assert null.loc[1, "p_event-driven"] == pytest.approx((0.2 / 0.05) / (0.7 / 0.9 + 0.2 / 0.05 + 0.1 / 0.05))
    with pytest.raises(ValueError):
        label_time_sensitivity(lm, texts, labs, calibrate="prior", show_progress=False)
