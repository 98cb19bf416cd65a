"""A pretrained LLM on top of a recommender (chapter 2.1): re-ranking with time-aware prompts, and labelling
items as seasonal / event-driven / evergreen.

``llm_rerank`` takes the top-N of any recommender, asks a causal LM (default SmolLM2-135M-Instruct, offline)
how likely each candidate title is as the next item given the user's history — written with dates and
gaps or as bare titles — and re-orders the candidates by that log-likelihood, optionally calibrated by the
same title's likelihood with an empty history. ``label_time_sensitivity`` asks the LM for a label per item;
``tsrec.analysis.dynamics`` measures how the items' popularity really moved, to set one against the other.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from tsrec.config import progress_wanted
from tsrec.evaluate import eval_queries
from tsrec.llm.lm import TEMPORAL_LABELS, GenerativeLM
from tsrec.llm.text import compact_history, history_to_text
from tsrec.metrics import mean_ci, per_user_rank_metrics, target_ranks, topk_items
from tsrec.models.base import Scorer
from tsrec.queries import QueryBatch, seen_mask
from tsrec.splits import Split

__all__ = ["RERANK_INSTRUCTION", "RERANK_SYSTEM", "RerankResult", "llm_rerank", "rerank_metrics",
           "TIME_LABEL_PROMPT", "label_time_sensitivity"]

RERANK_SYSTEM = "You recommend movies."
RERANK_INSTRUCTION = ("Here is what a user watched, oldest first{when}. "
                      "Name the one movie the user will most likely watch next.")
NULL_HISTORY = "(nothing yet)"
VARIANTS = ("time", "no_time")


@dataclass
class RerankResult:
    """Per-user outcome: ``frame`` (user, target, base_rank in the full ranking, and the target's 0-based
    position in each order, ``n_candidates`` when absent), the candidate lists and each order, timings."""

    frame: pd.DataFrame
    candidates: dict[int, np.ndarray]
    orders: dict[str, dict[int, np.ndarray]]
    seconds: dict[str, float]
    n_candidates: int
    prompts: dict[str, str] = field(default_factory=dict)  # one example prompt per variant


def _position(order: np.ndarray, target: int, n: int) -> int:
    """0-based position of ``target`` in ``order``, ``n`` when it is absent."""
    hit = np.flatnonzero(order == target)
    return int(hit[0]) if len(hit) else n


def _sample_queries(split: Split, stage: str, n_users: int, seed: int, users: Sequence[int] | None
                    ) -> tuple[QueryBatch, np.ndarray]:
    """The stage's queries of ``users``, or of a seeded random subsample of ``n_users`` users, and their targets."""
    queries, targets = eval_queries(split, stage)
    if users is None:
        rows = np.sort(np.random.default_rng(seed).choice(len(queries), size=min(n_users, len(queries)), replace=False))
    else:
        rows = np.flatnonzero(np.isin(queries.users, np.asarray(users)))
    return queries[rows], targets[rows]


def _prompts(lm: GenerativeLM, q: QueryBatch, cands: np.ndarray, title_of: dict[int, str], with_time: bool,
             max_history: int, history_style: str, system: str | None) -> tuple[list[str], list[list[str]], str]:
    """One prompt per query (its history written with or without times) and its candidates' titles."""
    instruction = RERANK_INSTRUCTION.format(when=", with dates" if with_time else "")
    prompts, cand_titles = [], []
    for items, times, now, row in zip(q.items, q.times, q.now, cands):
        hist = [title_of[int(i)] for i in items]
        if history_style == "compact":
            text = compact_history(hist, times, int(now), with_time=with_time, max_items=max_history)
        else:
            text = history_to_text(hist, times if with_time else None, with_time=with_time, max_items=max_history,
                                   with_date=with_time)
        prompts.append(lm.prompt(text, instruction=instruction, system=system))
        cand_titles.append([title_of[int(i)] for i in row if i > 0])
    return prompts, cand_titles, instruction


def _calibrated(lm: GenerativeLM, scores: list[np.ndarray], cand_titles: list[list[str]], instruction: str,
                system: str | None, batch_size: int, normalise: bool) -> list[np.ndarray]:
    """Scores minus each title's log-likelihood after an empty history (pointwise mutual information)."""
    unique = sorted({t for ts in cand_titles for t in ts})
    null_prompt = lm.prompt(NULL_HISTORY, instruction=instruction, system=system)
    null = dict(zip(unique, lm.score_candidates([null_prompt], [unique], batch_size=batch_size, normalise=normalise,
                                                show_progress=False)[0]))
    return [s - np.array([null[t] for t in ts]) for s, ts in zip(scores, cand_titles)]


def _orders(row: np.ndarray, lm_scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The candidates by LM score (base position breaks ties), and by Borda count of both positions."""
    row = row[row > 0]
    lm_order = np.lexsort((np.arange(len(row)), -lm_scores))
    lm_pos = np.empty(len(row), int)
    lm_pos[lm_order] = np.arange(len(row))
    borda = np.lexsort((np.arange(len(row)), lm_pos + np.arange(len(row))))
    return row[lm_order], row[borda]


def llm_rerank(lm: GenerativeLM, model: Scorer, split: Split, titles: pd.Series, n_users: int = 200,
               n_candidates: int = 20, max_history: int = 8, variants: Sequence[str] = VARIANTS,
               calibrate: bool = False, normalise: bool = True, stage: str = "test", seed: int = 0,
               users: Sequence[int] | None = None, batch_size: int = 20, history_style: str = "compact",
               system: str | None = RERANK_SYSTEM, show_progress: bool = True) -> RerankResult:
    """Re-rank ``model``'s top ``n_candidates`` (seen items masked) for ``n_users`` sampled users with a
    ``GenerativeLM`` (``lm``), once per prompt variant ("time": dates and gaps; "no_time": titles only).

    ``titles`` maps encoded item id -> title. Scores are per-token mean log-likelihoods of each title (summed if
    not ``normalise``), minus the title's log-likelihood after an empty history if ``calibrate`` (off by default:
    the LM's prior for famous titles is itself a popularity signal). The history is written by
    ``compact_history`` (``history_style="compact"``) or ``history_to_text`` with dates (``"lines"``, about three
    times the tokens). Orders: ``"base"``, every variant, and ``"<variant>+base"`` (Borda count of both).
    """
    if history_style not in ("compact", "lines"):
        raise ValueError(f"history_style must be 'compact' or 'lines', got {history_style!r}")
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        raise ValueError(f"variants must be 'time' or 'no_time', got {bad}")
    q, tgt = _sample_queries(split, stage, n_users, seed, users)
    t0 = time.perf_counter()
    with torch.inference_mode():
        scores = torch.as_tensor(model.score(q)).float()
    mask = seen_mask(q, scores.shape[1])
    cands = topk_items(scores, mask, n_candidates).numpy()
    frame = pd.DataFrame({"user": q.users, "target": tgt,
                          "base_rank": target_ranks(scores, torch.as_tensor(tgt), mask).numpy()})
    frame["base"] = [_position(c, t, n_candidates) for c, t in zip(cands, tgt)]
    seconds = {"base": time.perf_counter() - t0}
    orders: dict[str, dict[int, np.ndarray]] = {"base": {int(u): c for u, c in zip(q.users, cands)}}
    title_of = {int(i): str(t) for i, t in titles.items()}
    examples: dict[str, str] = {}
    for variant in variants:
        t1 = time.perf_counter()
        prompts, cand_titles, instruction = _prompts(lm, q, cands, title_of, variant == "time", max_history,
                                                     history_style, system)
        lp = lm.score_candidates(prompts, cand_titles, batch_size=batch_size, normalise=normalise,
                                 show_progress=show_progress)
        if calibrate:
            lp = _calibrated(lm, lp, cand_titles, instruction, system, batch_size, normalise)
        seconds[variant], examples[variant] = time.perf_counter() - t1, prompts[0]
        by_lm, by_both = zip(*(_orders(row, s) for row, s in zip(cands, lp)))
        orders[variant] = {int(u): o for u, o in zip(q.users, by_lm)}
        orders[f"{variant}+base"] = {int(u): o for u, o in zip(q.users, by_both)}
        frame[variant] = [_position(o, t, n_candidates) for o, t in zip(by_lm, tgt)]
        frame[f"{variant}+base"] = [_position(o, t, n_candidates) for o, t in zip(by_both, tgt)]
    return RerankResult(frame, orders["base"], orders, seconds, n_candidates, examples)


def rerank_metrics(result: RerankResult, k: int = 10) -> pd.DataFrame:
    """HR@k and NDCG@k (mean ± 95% interval over the users) of every order, and the paired difference of
    each order from the base order's, on the same users."""
    f = result.frame
    base = per_user_rank_metrics(f["base"].to_numpy(), k)
    rows = []
    for c in [c for c in f.columns if c not in ("user", "target", "base_rank")]:
        per = per_user_rank_metrics(f[c].to_numpy(), k)
        row = {"order": c}
        row[f"HR@{k}"], row[f"HR@{k} ±"] = mean_ci(per[f"HR@{k}"])
        row[f"NDCG@{k}"], row[f"NDCG@{k} ±"] = mean_ci(per[f"NDCG@{k}"])
        row[f"ΔNDCG@{k}"], row[f"ΔNDCG@{k} ±"] = mean_ci(per[f"NDCG@{k}"] - base[f"NDCG@{k}"])
        rows.append(row)
    return pd.DataFrame(rows).set_index("order")


# ----------------------------------------------------------------------------- time-sensitivity labels
TIME_LABEL_PROMPT = (
    "Classify how the audience of this movie depends on time.\n"
    "seasonal: watched mostly at one time of year, such as Christmas, Halloween or summer.\n"
    "event-driven: watched mostly right after its release or around a news event, then quickly forgotten.\n"
    "evergreen: a classic watched steadily year after year.\n\n"
    "Movie: {text}\nAnswer with one word: seasonal, event-driven or evergreen."
)


def label_time_sensitivity(lm: GenerativeLM, texts: pd.Series, labels: Sequence[str] | None = None,
                           template: str = TIME_LABEL_PROMPT, calibrate: bool | str = "null",
                           null_text: str = "(title not given)", show_progress: bool = True) -> pd.DataFrame:
    """Zero-shot label per item text with ``lm.classify``: the label and the softmax over the labels
    (columns ``p_<label>``), indexed like ``texts``.

    A small LM prefers some answers whatever the question, so each label's probability is divided by a prior
    before normalising: ``calibrate="null"`` (or True) uses its probability for a content-free movie
    (``null_text``; contextual calibration, Zhao et al., ICML 2021), ``"batch"`` its mean probability over all
    ``texts`` (batch calibration, Zhou et al., ICLR 2024: every label is then equally likely on average, so
    the label says which items lean towards it more than the others do), False/None none.
    ``raw_label`` keeps the uncalibrated answer.
    """
    if calibrate is True:
        calibrate = "null"
    if calibrate not in (False, None, "null", "batch"):
        raise ValueError(f"calibrate must be 'null', 'batch' or False, got {calibrate!r}")
    labels = list(labels or TEMPORAL_LABELS)
    raw, probs = [], []
    for text in tqdm(texts.tolist(), desc="labelling", unit="item", disable=not progress_wanted(show_progress)):
        label, p = lm.classify(lm.chat(template.format(text=text)), labels)
        raw.append(label)
        probs.append(p)
    probs = np.array(probs, dtype=np.float64).reshape(len(raw), len(labels))
    if calibrate == "null":
        probs = probs / lm.classify(lm.chat(template.format(text=null_text)), labels)[1]
    elif calibrate == "batch" and len(raw):
        probs = probs / probs.mean(0, keepdims=True)
    probs = probs / probs.sum(1, keepdims=True) if len(raw) else probs
    frame = pd.DataFrame(probs, index=texts.index, columns=[f"p_{lab}" for lab in labels])
    frame.insert(0, "raw_label", raw)
    frame.insert(0, "label", np.array(labels, dtype=object)[probs.argmax(1)] if len(raw) else [])
    return frame
