"""Full-ranking evaluation: every model (or score matrix) ranked against all items, seen items masked.

The book's protocol: for stage ``valid`` a user's history is the training part, for ``test`` it is
training + validation; every item of that history is masked (``mask_seen=False`` keeps them, RecBole's
protocol for sequential models, benchmarks/anchors.md); the target is never masked. Equal
scores are ordered by item id (lower first), the same order the top-k lists use, so ranks and lists
agree and a rerun gives identical numbers. Metrics come from ``tsrec.metrics``.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from tsrec import metrics as M
from tsrec.config import progress_wanted
from tsrec.queries import QueryBatch, event_queries, queries_from_frames, seen_mask
from tsrec.splits import Split

DEFAULT_KS = (5, 10, 20)
ModelOrScores = Any  # anything with ``score(QueryBatch)``, a [n_users + 1, n_items + 1] matrix or an item vector


def eval_queries(split: Split, stage: str = "test", target: str = "first") -> tuple[QueryBatch, np.ndarray]:
    """Queries and target items for a stage. Leave-one-out: one target per user. Temporal split:
    ``target="first"`` uses each user's first event of the stage (next item right after the cut);
    ``target="all"`` predicts every event of the stage from all the user's earlier events (the model is
    not updated). Only users with some history are evaluated."""
    if target not in ("first", "all"):
        raise ValueError(f"target must be 'first' or 'all', got {target!r}")
    targets = split.targets(stage)
    history = split.history(stage)
    if split.kind != "leave-one-out" and target == "all":
        return _successive_queries(history, targets)
    if split.kind != "leave-one-out":
        targets = targets.sort_values(["user", "timestamp"], kind="stable").drop_duplicates("user")
        targets = targets[targets["user"].isin(history["user"].unique())]
    targets = targets.sort_values("user", kind="stable")
    return queries_from_frames(history, targets), targets["item"].to_numpy()


def _successive_queries(history: pd.DataFrame, targets: pd.DataFrame) -> tuple[QueryBatch, np.ndarray]:
    """One query per target event, with the user's history plus the user's earlier target events."""
    both = pd.concat([history, targets], ignore_index=True)  # history first, so it comes first within ties
    return event_queries(both, np.r_[np.zeros(len(history), bool), np.ones(len(targets), bool)])


def _scores_for(model_or_scores: ModelOrScores, batch: QueryBatch) -> torch.Tensor:
    """Scores [B, n_items + 1] of a model (anything with ``score``), a per-user matrix or one vector for all."""
    if hasattr(model_or_scores, "score"):
        with torch.inference_mode():
            s = model_or_scores.score(batch)
        return torch.as_tensor(s).float().cpu()
    scores = torch.as_tensor(model_or_scores)
    if scores.dim() == 1:  # one score per item for everybody (e.g. popularity)
        return scores.float().expand(len(batch), -1)
    return scores[torch.tensor(batch.users, dtype=torch.long)].float()


def _padding_mask(n_rows: int, n_cols: int) -> torch.Tensor:
    """Mask only column 0 (the padding id): the unmasked protocol."""
    mask = torch.zeros((n_rows, n_cols), dtype=torch.bool)
    mask[:, 0] = True
    return mask


def evaluate(model_or_scores: ModelOrScores, split: Split, stage: str = "test", ks: Sequence[int] = DEFAULT_KS,
             batch_size: int = 1024, item_counts: np.ndarray | None = None, distance: M.Distance | None = None,
             per_user: bool = False, target: str = "first", mask_seen: bool = True, lists: bool = True
             ) -> dict | tuple[dict, pd.DataFrame]:
    """Score every query of ``stage`` against all items and return all metrics at every k.

    ``model_or_scores``: a Recommender, a ``[n_users + 1, n_items + 1]`` score matrix indexed by user id,
    or one ``[n_items + 1]`` vector for all users. ``item_counts`` (users per item in training; computed
    when not given) feeds novelty; ``distance`` (see ``tsrec.metrics``) enables intra-list diversity.
    With ``per_user=True`` also returns a DataFrame (user, target, rank) for intervals and breakdowns.
    ``target`` ("first" or "all") chooses the targets of a temporal split (see ``eval_queries``).
    ``mask_seen=False`` ranks the user's seen items too (RecBole's protocol for sequential models).
    ``lists=False`` computes the target ranks only (HR, NDCG, MRR...), no top-k lists and no AUC: what a
    validation callback needs, in less time.
    """
    queries, targets = eval_queries(split, stage, target)
    kmax = max(ks)
    ranks, tops, aucs = [], [], []
    for start in range(0, len(queries), batch_size):
        b = queries[start:start + batch_size]
        scores = _scores_for(model_or_scores, b)
        mask = seen_mask(b, scores.shape[1]) if mask_seen else _padding_mask(len(b), scores.shape[1])
        tgt = torch.tensor(targets[start:start + batch_size], dtype=torch.long)
        if not lists:
            ranks.append(M.target_ranks(scores, tgt, mask))
            continue
        rank, auc = M.ranks_and_auc(scores, tgt, mask)
        ranks.append(rank)
        tops.append(M.topk_items(scores, mask, kmax))
        aucs.append(auc * len(b))
    rank = torch.cat(ranks)
    out = M.rank_metrics(rank, ks)
    if lists:
        out["AUC"] = float(sum(aucs) / len(queries))
        out.update(_list_metrics(torch.cat(tops).numpy(), split, ks, item_counts, distance))
    out["users"] = len(queries)
    if per_user:
        return out, pd.DataFrame({"user": queries.users, "target": targets, "rank": rank.numpy()})
    return out


def _list_metrics(top: np.ndarray, split: Split, ks: Sequence[int], item_counts: np.ndarray | None,
                  distance: M.Distance | None) -> dict:
    """Coverage, novelty and (with ``distance``) intra-list diversity of the top-k lists at each k."""
    if item_counts is None:  # users who know each item (novelty's p_i), not raw event counts
        known = split.train.drop_duplicates(["user", "item"])["item"]
        item_counts = np.bincount(known, minlength=split.n_items + 1)
    out = {}
    n_users = int(split.train["user"].nunique())
    for k in ks:
        out[f"coverage@{k}"] = M.catalog_coverage(top[:, :k], split.n_items)
        out[f"novelty@{k}"] = M.novelty(top[:, :k], item_counts, n_users)
        if distance is not None:
            out[f"ILD@{k}"] = M.intra_list_diversity(top[:, :k], distance)
    return out


def compare(models: dict, split: Split, stage: str = "test", ks: Sequence[int] = (10,), fit: bool = True,
            progress: bool = True, **kwargs) -> pd.DataFrame:
    """Fit (unless ``fit=False``) and evaluate several models on one split; one row per model.

    Adds ``fit_s`` (seconds to fit) and ``eval_s``; extra keyword arguments go to ``evaluate``.
    """
    rows = []
    for name, model in tqdm(models.items(), desc="models", disable=not progress_wanted(progress)):
        t0 = time.perf_counter()
        if fit:
            model.fit(split.train, split.n_users, split.n_items)
        t1 = time.perf_counter()
        res = evaluate(model, split, stage, ks=ks, **kwargs)
        rows.append({"model": name, **res, "fit_s": t1 - t0, "eval_s": time.perf_counter() - t1})
    return pd.DataFrame(rows).set_index("model")


def score_trajectories(model: ModelOrScores, events: pd.DataFrame, batch_size: int = 2048) -> pd.DataFrame:
    """For every event after a user's first: the percentile (1 = ranked first) at which ``model``, given the
    user's earlier events only, ranks the item the user then chose. Used for the book's TS score."""
    queries, items = event_queries(events)
    pct = np.empty(len(queries))
    for b in range(0, len(queries), batch_size):
        q = queries[b:b + batch_size]
        scores = _scores_for(model, q)
        target = torch.as_tensor(items[b:b + batch_size], dtype=torch.long)
        rank = M.target_ranks(scores, target, seen_mask(q, scores.shape[1]))
        pct[b:b + len(q)] = 1.0 - rank.numpy() / (scores.shape[1] - 2)
    return pd.DataFrame({"user": queries.users, "timestamp": queries.now, "item": items, "percentile": pct})


RANK_METRICS = ("HR", "Recall", "Precision", "NDCG", "MRR")  # what target ranks alone give (``lists=False``)


def validation_value(model: ModelOrScores, split: Split, metric: str = "NDCG@10", target: str = "first") -> float:
    """One validation metric (e.g. ``"NDCG@10"``, ``"coverage@10"``) of ``model``; the lists only when it needs them."""
    name, _, k = metric.partition("@")
    if not k.isdigit():
        raise ValueError(f"metric must look like 'NDCG@10', got {metric!r}")
    return float(evaluate(model, split, "valid", ks=(int(k),), target=target, lists=name not in RANK_METRICS)[metric])


def validator(split: Split, target: str = "first", ks: Sequence[int] = (10,), mask_seen: bool = True
              ) -> Callable[[object], dict]:
    """The validation callback of a training loop: ``validate(model)`` -> validation rank metrics at ``ks`` (full
    ranking, seen items masked unless ``mask_seen=False``; no lists, see ``evaluate``), so a model's training
    never imports this evaluator."""
    if target not in ("first", "all"):
        raise ValueError(f"target must be 'first' or 'all', got {target!r}")

    def validate(model: object) -> dict:
        return evaluate(model, split, "valid", ks=ks, target=target, mask_seen=mask_seen, lists=False)

    return validate
