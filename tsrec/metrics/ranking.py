"""Ranking accuracy against all items: target ranks with one tie rule, top-k lists, HR/NDCG/MRR, AUC.

One tie rule everywhere: equal scores put the lower item id first, in ``target_ranks`` and ``topk_items``
alike, so a rank and a list always agree and a rerun gives identical numbers. Online learners and the
service use these same two functions.
"""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np
import torch

from tsrec.metrics.inputs import as_mask, as_ranks, as_scores, as_targets, as_topk, check_k, check_ks

__all__ = ["TIE_POLICIES", "target_ranks", "ranks_and_auc", "auc", "per_user_rank_metrics", "rank_metrics",
           "topk_items", "precision_recall_ndcg"]


def _row_counts(x: torch.Tensor) -> torch.Tensor:
    """Per-row number of True in a bool matrix, as int64 (on the CPU NumPy counts several times faster)."""
    if x.device.type == "cpu":
        return torch.from_numpy(np.count_nonzero(x.numpy(), axis=1).astype(np.int64))
    return torch.count_nonzero(x, dim=1)


def _compare_counts(s: torch.Tensor, t: torch.Tensor, m: torch.Tensor | None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per user: candidates (not padding, not masked, not the target) scored >, == the target (all, and those
    with a lower item id); and their number."""
    excluded = torch.zeros_like(s, dtype=torch.bool) if m is None else m.clone()
    excluded[:, 0] = True
    excluded.scatter_(1, t[:, None], True)  # the target is compared, never counted against itself
    candidate = ~excluded
    ts = s.gather(1, t[:, None])
    n_greater = _row_counts((s > ts) & candidate)
    equal = (s == ts) & candidate
    n_equal = _row_counts(equal)
    lower_id = torch.arange(s.shape[1], device=s.device)[None, :] < t[:, None]
    n_equal_lower = _row_counts(equal & lower_id) if bool(n_equal.any()) else n_equal
    return n_greater, n_equal, n_equal_lower, _row_counts(candidate)


TIE_POLICIES = ("item_id", "pessimistic", "optimistic")


def target_ranks(scores: Any, targets: Any, seen_mask: Any = None, ties: str = "item_id") -> torch.Tensor:
    """0-based rank of each user's target among items 1..n not in ``seen_mask`` (vectorised).

    Equal scores, by ``ties``: ``"item_id"`` (default) puts a lower item id first, exactly as ``topk_items``
    orders its lists, so ranks and lists agree (the book's popularity anchors use it); ``"pessimistic"``
    counts every tie against the target (a constant-score model gets rank n_candidates - 1);
    ``"optimistic"`` counts none. The target is always a candidate even if ``seen_mask`` marks it.
    ``-inf`` scores are allowed (they rank last); NaN scores raise ValueError.
    """
    if ties not in TIE_POLICIES:
        raise ValueError(f"ties must be one of {TIE_POLICIES}, got {ties!r}")
    s = as_scores(scores)
    t = as_targets(targets, s)
    n_greater, n_equal, n_equal_lower, _ = _compare_counts(s, t, as_mask(seen_mask, s))
    return n_greater + {"item_id": n_equal_lower, "pessimistic": n_equal, "optimistic": 0}[ties]


def per_user_rank_metrics(ranks: Any, k: int = 10) -> dict[str, np.ndarray]:
    """Per-user HR/Recall/Precision/NDCG/MRR@k from 0-based target ranks (single target), for CIs and tests.

    HR = Recall = [rank < k]; Precision = HR / k; NDCG = 1/log2(rank + 2); MRR = 1/(rank + 1) (0 if rank >= k).
    """
    r = as_ranks(ranks)
    k = check_k(k)
    hit = (r < k).astype(np.float64)
    return {
        f"HR@{k}": hit,
        f"Recall@{k}": hit.copy(),
        f"Precision@{k}": hit / k,
        f"NDCG@{k}": hit / np.log2(r + 2.0),
        f"MRR@{k}": hit / (r + 1.0),
    }


def rank_metrics(ranks: Any, ks: Iterable[int] = (10,)) -> dict[str, float]:
    """Mean over users of HR, Recall, Precision, NDCG and MRR at each k, from 0-based target ranks."""
    r = as_ranks(ranks)
    out: dict[str, float] = {}
    for k in check_ks(ks):
        out.update({name: float(v.mean()) for name, v in per_user_rank_metrics(r, k).items()})
    return out


def ranks_and_auc(scores: Any, targets: Any, seen_mask: Any = None, ties: str = "item_id"
                  ) -> tuple[torch.Tensor, float]:
    """``target_ranks`` and ``auc`` from one comparison pass (what the evaluator needs per batch)."""
    if ties not in TIE_POLICIES:
        raise ValueError(f"ties must be one of {TIE_POLICIES}, got {ties!r}")
    s = as_scores(scores)
    t = as_targets(targets, s)
    n_greater, n_equal, n_equal_lower, n_neg = _compare_counts(s, t, as_mask(seen_mask, s))
    ranks = n_greater + {"item_id": n_equal_lower, "pessimistic": n_equal, "optimistic": 0}[ties]
    return ranks, _auc_from_counts(n_greater, n_equal, n_neg)


def auc(scores: Any, targets: Any, seen_mask: Any = None) -> float:
    """Mean over users of the share of negatives (not padding, masked or target) scored below the target.

    Ties count 0.5, as in ``sklearn.metrics.roc_auc_score`` with one positive; the target is never masked.
    """
    s = as_scores(scores)
    t = as_targets(targets, s)
    n_greater, n_equal, _, n_neg = _compare_counts(s, t, as_mask(seen_mask, s))
    return _auc_from_counts(n_greater, n_equal, n_neg)


def _auc_from_counts(n_greater: torch.Tensor, n_equal: torch.Tensor, n_neg: torch.Tensor) -> float:
    """Mean per-user AUC from candidate counts; ValueError if a user has no negative item."""
    if bool((n_neg == 0).any()):
        u = int((n_neg == 0).nonzero()[0, 0])
        raise ValueError(f"user row {u} has no negative candidate (every other item is masked): AUC undefined")
    per_user = (n_neg - n_greater - 0.5 * n_equal).double() / n_neg.double()
    return float(per_user.mean())


# --------------------------------------------------------------------------- top-k lists


def _topk_exact(s: torch.Tensor, valid: torch.Tensor, k: int) -> torch.Tensor:
    """Top-k ids (score desc, then id asc) among ``valid`` columns with 0 filling short rows; exact but slower."""
    neg_inf = torch.tensor(float("-inf"), dtype=s.dtype, device=s.device)
    key = torch.where(valid, s, neg_inf)
    v = torch.topk(key, k, dim=1).values[:, -1:]  # k-th best value per row
    gt = key > v  # always in the list (and always valid)
    eq = (s == v) & valid  # the boundary tie: keep the lowest ids
    need = k - gt.sum(1, keepdim=True)
    sel = gt | (eq & (eq.cumsum(1) <= need))
    rows, cols = sel.nonzero(as_tuple=True)  # row-major: ids ascending within a row
    pos = sel.cumsum(1)[rows, cols] - 1
    ids = torch.zeros(s.shape[0], k, dtype=torch.long, device=s.device)
    ids[rows, pos] = cols
    order_key = torch.full((s.shape[0], k), float("nan"), dtype=s.dtype, device=s.device)  # NaN sorts last
    order_key[rows, pos] = -s[rows, cols]
    order = torch.sort(order_key, dim=1, stable=True).indices  # stable: equal scores keep id order
    return ids.gather(1, order)


def _topk_from_tensors(s: torch.Tensor, m: torch.Tensor | None, k: int) -> torch.Tensor:
    """Deterministic top-k ids (score desc, then id asc) among unmasked items 1..n; 0 fills short rows.

    Fast path: one ``torch.topk`` then a sort of the k winners; rows whose k-th score is tied with
    an item left out (or is -inf) are redone exactly by ``_topk_exact``.
    """
    n_items = s.shape[1] - 1
    if k > n_items:
        raise ValueError(f"k = {k} exceeds the number of items ({n_items})")
    valid = torch.ones_like(s, dtype=torch.bool) if m is None else ~m
    valid[:, 0] = False
    key = torch.where(valid, s, torch.tensor(float("-inf"), dtype=s.dtype, device=s.device))
    vals, idx = torch.topk(key, k, dim=1)
    v = vals[:, -1:]
    bad = (_row_counts(key == v) > (vals == v).sum(1)) | torch.isneginf(v[:, 0])
    idx = torch.sort(idx, dim=1).values  # ids ascending, then a stable sort by score descending
    ids = idx.gather(1, torch.sort(-s.gather(1, idx), dim=1, stable=True).indices)
    if bool(bad.any()):
        rows = bad.nonzero()[:, 0]
        ids[rows] = _topk_exact(s[rows], valid[rows], k)
    return ids


def topk_items(scores: Any, seen_mask: Any = None, k: int = 10) -> torch.Tensor:
    """Top-k item ids per user ``[B, k]``, excluding padding and masked items (what a model would show).

    Deterministic: equal scores are ordered by lower item id. A user with fewer than k candidates
    gets 0 (padding = no item) in the trailing slots.
    """
    s = as_scores(scores)
    return _topk_from_tensors(s, as_mask(seen_mask, s), check_k(k))


def _check_no_duplicates(a: np.ndarray) -> None:
    """ValueError if a row of a top-k matrix repeats a (non-zero) item id."""
    srt = np.sort(a, axis=1)
    dup = (srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] > 0)
    if dup.any():
        u = int(np.argmax(dup.any(1)))
        raise ValueError(f"top-k list of user row {u} repeats an item id: {a[u].tolist()}")


def precision_recall_ndcg(topk: Any, relevant: Sequence[Iterable[int]]) -> dict[str, np.ndarray]:
    """Per-user Precision, Recall, NDCG, HR and MRR @K for several relevant items (global temporal split).

    Precision = hits/K, Recall = hits/|rel|, NDCG = DCG / ideal DCG over min(|rel|, K) slots,
    HR = any hit, MRR = 1/(position of first hit + 1). K = topk.shape[1]; id 0 in topk is never a hit.
    """
    a = as_topk(topk)
    b, kk = a.shape
    if len(relevant) != b:
        raise ValueError(f"relevant has {len(relevant)} sets but topk has {b} rows")
    _check_no_duplicates(a)
    rel_lists = [np.fromiter(set(r), dtype=np.int64) for r in relevant]
    n_rel = np.array([len(r) for r in rel_lists], dtype=np.int64)
    if (n_rel == 0).any():
        raise ValueError(f"user row {int(np.argmax(n_rel == 0))} has no relevant item: recall undefined "
                         "(drop users without test items)")
    flat = np.concatenate(rel_lists)
    if (flat < 1).any():
        raise ValueError("relevant item ids must be >= 1 (0 is padding)")
    base = int(max(flat.max(), a.max())) + 1
    rel_codes = np.repeat(np.arange(b, dtype=np.int64), n_rel) * base + flat
    hits = np.isin(np.arange(b, dtype=np.int64)[:, None] * base + a, rel_codes) & (a > 0)
    disc = 1.0 / np.log2(np.arange(kk) + 2.0)
    n_hits = hits.sum(1)
    idcg = np.concatenate([[0.0], np.cumsum(disc)])[np.minimum(n_rel, kk)]
    first = np.where(hits.any(1), hits.argmax(1), -1)
    return {
        f"Precision@{kk}": n_hits / kk,
        f"Recall@{kk}": n_hits / n_rel,
        f"NDCG@{kk}": (hits * disc).sum(1) / idcg,
        f"HR@{kk}": (n_hits > 0).astype(np.float64),
        f"MRR@{kk}": 1.0 / (np.where(first >= 0, first, np.inf) + 1.0),  # no hit -> 1/inf = 0
    }
