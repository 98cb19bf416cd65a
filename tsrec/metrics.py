"""Evaluation metrics: ranking accuracy, beyond-accuracy, rating error, time sensitivity, CIs.

Package conventions: items are ids ``1..n_items``; column 0 of every score matrix
``scores[B, n_items + 1]`` is PADDING and never ranked or recommended; ``seen_mask[B, n_items + 1]``
is bool, True = must not be recommended. Leave-one-out evaluation has one target per user.
In a top-k list the id 0 means "no item" (a user with fewer than k candidates).
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch

__all__ = [
    "target_ranks",
    "rank_metrics",
    "per_user_rank_metrics",
    "topk_items",
    "precision_recall_ndcg",
    "auc",
    "rmse",
    "mae",
    "catalog_coverage",
    "novelty",
    "intra_list_diversity",
    "jaccard_distance",
    "cosine_distance",
    "time_sensitivity",
    "time_sensitivity_grouped",
    "mean_ci",
    "clustered_mean_ci",
    "evaluate_scores",
]

Distance = Callable[[np.ndarray, np.ndarray], np.ndarray]
_ZERO_POLICIES = ("skip", "floor", "error")


# --------------------------------------------------------------------------- input checks


def _scores_tensor(scores: Any) -> torch.Tensor:
    """Scores as a 2-D float tensor ``[B, n_items + 1]`` without NaN among items 1..n (padding ignored)."""
    s = scores.detach() if isinstance(scores, torch.Tensor) else torch.as_tensor(np.asarray(scores))
    if s.ndim != 2:
        raise ValueError(f"scores must be 2-D [B, n_items+1], got shape {tuple(s.shape)}")
    if s.shape[0] == 0:
        raise ValueError("scores is empty: no users (B = 0)")
    if s.shape[1] < 2:
        raise ValueError(f"scores needs column 0 (padding) plus at least one item, got {s.shape[1]} column(s)")
    if s.dtype == torch.bool or s.is_complex():
        raise ValueError(f"scores must be real numbers, got dtype {s.dtype}")
    if not s.is_floating_point():
        s = s.to(torch.float64)
    bad = torch.isnan(s[:, 1:])
    if bool(bad.any()):
        u, i = (int(v) for v in bad.nonzero()[0])
        raise ValueError(f"scores contain NaN (first at user row {u}, item {i + 1}); mask items with -inf instead")
    return s


def _mask_tensor(seen_mask: Any, s: torch.Tensor) -> torch.Tensor | None:
    """The seen mask as a bool tensor of the same shape and device as the scores (None stays None)."""
    if seen_mask is None:
        return None
    m = seen_mask.detach() if isinstance(seen_mask, torch.Tensor) else torch.as_tensor(np.asarray(seen_mask))
    if m.dtype != torch.bool:
        raise ValueError(f"seen_mask must be a bool array (True = already seen), got dtype {m.dtype}")
    if tuple(m.shape) != tuple(s.shape):
        raise ValueError(f"seen_mask shape {tuple(m.shape)} does not match scores shape {tuple(s.shape)}")
    return m.to(s.device)


def _targets_tensor(targets: Any, s: torch.Tensor) -> torch.Tensor:
    """Targets as a 1-D long tensor of item ids in 1..n_items, one per score row."""
    t = targets.detach() if isinstance(targets, torch.Tensor) else torch.as_tensor(np.asarray(targets))
    if t.ndim != 1 or t.shape[0] != s.shape[0]:
        raise ValueError(f"targets must be 1-D with one id per user ({s.shape[0]}), got shape {tuple(t.shape)}")
    if t.is_floating_point() or t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"targets must be integer item ids, got dtype {t.dtype}")
    t = t.to(device=s.device, dtype=torch.long)
    n_items = s.shape[1] - 1
    if bool(((t < 1) | (t > n_items)).any()):
        raise ValueError(f"targets must be item ids in 1..{n_items} (0 is padding), got min {int(t.min())}, "
                         f"max {int(t.max())}")
    return t


def _check_k(k: Any, name: str = "k") -> int:
    """A positive python int, else ValueError."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {k!r}")
    return int(k)


def _check_ks(ks: Iterable[int]) -> tuple[int, ...]:
    """A non-empty tuple of positive ints (duplicates removed, order kept)."""
    if isinstance(ks, (int, np.integer)):
        ks = (ks,)
    out = tuple(dict.fromkeys(_check_k(k, "every k in ks") for k in ks))
    if not out:
        raise ValueError("ks is empty: give at least one cut-off k")
    return out


def _ranks_array(ranks: Any) -> np.ndarray:
    """Ranks as a 1-D non-empty int64 numpy array of 0-based ranks."""
    r = ranks.detach().cpu().numpy() if isinstance(ranks, torch.Tensor) else np.asarray(ranks)
    if r.ndim != 1:
        raise ValueError(f"ranks must be 1-D (one rank per user), got shape {r.shape}")
    if r.size == 0:
        raise ValueError("ranks is empty: no users to average over")
    if r.dtype.kind == "f":
        if np.isnan(r).any():
            raise ValueError("ranks contain NaN")
        if not np.all(r == np.floor(r)):
            raise ValueError("ranks must be whole numbers (0-based positions)")
    elif r.dtype.kind not in "iu":
        raise ValueError(f"ranks must be integers, got dtype {r.dtype}")
    r = r.astype(np.int64)
    if (r < 0).any():
        raise ValueError(f"ranks must be >= 0 (0 = best), got min {r.min()}")
    return r


def _topk_array(topk: Any, n_items: int | None = None) -> np.ndarray:
    """A top-k list matrix as a 2-D non-empty int64 numpy array (0 = no item), ids checked."""
    a = topk.detach().cpu().numpy() if isinstance(topk, torch.Tensor) else np.asarray(topk)
    if a.ndim != 2:
        raise ValueError(f"topk must be 2-D [B, K], got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"topk is empty (shape {a.shape})")
    if a.dtype.kind not in "iu":
        raise ValueError(f"topk must hold integer item ids, got dtype {a.dtype}")
    a = a.astype(np.int64)
    if (a < 0).any():
        raise ValueError("topk contains negative ids (items are 1..n_items, 0 = no item)")
    if n_items is not None and (a > n_items).any():
        raise ValueError(f"topk contains id {a.max()} > n_items = {n_items}")
    return a


def _float_1d(x: Any, name: str) -> np.ndarray:
    """A 1-D float numpy array without NaN."""
    a = x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    try:
        a = a.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from None
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN (first at index {int(np.argmax(np.isnan(a)))})")
    return a


# --------------------------------------------------------------------------- single-target ranking


def _compare_counts(s: torch.Tensor, t: torch.Tensor, m: torch.Tensor | None
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per user: candidates (not padding, not masked, not the target) scored >, == the target (all, and those
    with a lower item id); and their number. Excluded columns become NaN, which compares false with anything."""
    excluded = torch.zeros_like(s, dtype=torch.bool) if m is None else m.clone()
    excluded[:, 0] = True
    excluded.scatter_(1, t[:, None], True)  # the target is compared, never counted against itself
    ts = s.gather(1, t[:, None])
    cand = s.masked_fill(excluded, float("nan"))
    n_greater = torch.count_nonzero(cand > ts, dim=1)
    equal = cand == ts
    n_equal = torch.count_nonzero(equal, dim=1)
    lower_id = torch.arange(s.shape[1], device=s.device)[None, :] < t[:, None]
    n_equal_lower = torch.count_nonzero(equal & lower_id, dim=1) if bool(n_equal.any()) else n_equal
    return n_greater, n_equal, n_equal_lower, s.shape[1] - torch.count_nonzero(excluded, dim=1)


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
    s = _scores_tensor(scores)
    t = _targets_tensor(targets, s)
    n_greater, n_equal, n_equal_lower, _ = _compare_counts(s, t, _mask_tensor(seen_mask, s))
    return n_greater + {"item_id": n_equal_lower, "pessimistic": n_equal, "optimistic": 0}[ties]


def per_user_rank_metrics(ranks: Any, k: int = 10) -> dict[str, np.ndarray]:
    """Per-user HR/Recall/Precision/NDCG/MRR@k from 0-based target ranks (single target), for CIs and tests.

    HR = Recall = [rank < k]; Precision = HR / k; NDCG = 1/log2(rank + 2); MRR = 1/(rank + 1) (0 if rank >= k).
    """
    r = _ranks_array(ranks)
    k = _check_k(k)
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
    r = _ranks_array(ranks)
    out: dict[str, float] = {}
    for k in _check_ks(ks):
        out.update({name: float(v.mean()) for name, v in per_user_rank_metrics(r, k).items()})
    return out


def ranks_and_auc(scores: Any, targets: Any, seen_mask: Any = None, ties: str = "item_id"
                  ) -> tuple[torch.Tensor, float]:
    """``target_ranks`` and ``auc`` from one comparison pass (what the evaluator needs per batch)."""
    if ties not in TIE_POLICIES:
        raise ValueError(f"ties must be one of {TIE_POLICIES}, got {ties!r}")
    s = _scores_tensor(scores)
    t = _targets_tensor(targets, s)
    n_greater, n_equal, n_equal_lower, n_neg = _compare_counts(s, t, _mask_tensor(seen_mask, s))
    ranks = n_greater + {"item_id": n_equal_lower, "pessimistic": n_equal, "optimistic": 0}[ties]
    return ranks, _auc_from_counts(n_greater, n_equal, n_neg)


def auc(scores: Any, targets: Any, seen_mask: Any = None) -> float:
    """Mean over users of the share of negatives (not padding, masked or target) scored below the target.

    Ties count 0.5, as in ``sklearn.metrics.roc_auc_score`` with one positive; the target is never masked.
    """
    s = _scores_tensor(scores)
    t = _targets_tensor(targets, s)
    n_greater, n_equal, _, n_neg = _compare_counts(s, t, _mask_tensor(seen_mask, s))
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
    bad = ((key == v).sum(1) > (vals == v).sum(1)) | torch.isneginf(v[:, 0])
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
    s = _scores_tensor(scores)
    return _topk_from_tensors(s, _mask_tensor(seen_mask, s), _check_k(k))


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
    a = _topk_array(topk)
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


# --------------------------------------------------------------------------- rating error


def _pair_1d(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two equally long, non-empty, NaN-free 1-D float arrays."""
    a, b = _float_1d(y_true, "y_true"), _float_1d(y_pred, "y_pred")
    if a.shape != b.shape:
        raise ValueError(f"y_true has {a.size} values but y_pred has {b.size}")
    if a.size == 0:
        raise ValueError("y_true and y_pred are empty")
    return a, b


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared rating error: penalises large mistakes more than MAE."""
    a, b = _pair_1d(y_true, y_pred)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute rating error, in rating units."""
    a, b = _pair_1d(y_true, y_pred)
    return float(np.mean(np.abs(a - b)))


# --------------------------------------------------------------------------- beyond accuracy


def catalog_coverage(topk: Any, n_items: int) -> float:
    """Share of the catalogue that appears in at least one top-k list (Ge et al. 2010); id 0 is ignored."""
    n_items = _check_k(n_items, "n_items")
    a = _topk_array(topk, n_items)
    ids = np.unique(a)
    return float((ids > 0).sum() / n_items)


def novelty(topk: Any, item_counts: Any, n_users: int) -> float:
    """Mean self-information -log2(count_i / n_users) of recommended items (Zhou et al. 2010): rare = novel.

    ``item_counts`` is indexed by item id (entry 0 = padding, unused); an item with count 0 gets
    p = 1/n_users (as if seen once) so that its information stays finite. Id 0 slots are skipped.
    """
    n_users = _check_k(n_users, "n_users")
    c = _float_1d(item_counts, "item_counts")
    if (c < 0).any() or (c > n_users).any():
        raise ValueError(f"item_counts must lie in 0..n_users ({n_users}); got min {c.min()}, max {c.max()}")
    a = _topk_array(topk, c.size - 1)
    ids = a[a > 0]
    if ids.size == 0:
        raise ValueError("topk holds no item (all slots are 0)")
    p = np.maximum(c[ids], 1.0) / n_users
    return float(np.mean(-np.log2(p)))


def intra_list_diversity(topk: Any, distance: Distance) -> float:
    """Mean pairwise distance inside each list, averaged over lists (Ziegler et al. 2005).

    ``distance(a, b)`` returns element-wise distances of two item-id arrays; pairs with id 0 are
    skipped and lists with fewer than two items do not count.
    """
    a = _topk_array(topk)
    b, kk = a.shape
    if kk < 2:
        raise ValueError(f"intra-list diversity needs lists of at least 2 items, got K = {kk}")
    i, j = np.triu_indices(kk, 1)
    left, right = a[:, i], a[:, j]
    ok = (left > 0) & (right > 0)
    d = np.zeros(left.shape, dtype=np.float64)
    d[ok] = np.asarray(distance(left[ok], right[ok]), dtype=np.float64).reshape(-1)
    n_pairs = ok.sum(1)
    keep = n_pairs > 0
    if not keep.any():
        raise ValueError("no list holds two or more items")
    return float(np.mean(d[keep].sum(1) / n_pairs[keep]))


def _check_ids(a: np.ndarray, b: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Item-id arrays of equal shape inside 0..n_rows-1."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if a.shape != b.shape:
        raise ValueError(f"distance arguments differ in shape: {a.shape} vs {b.shape}")
    if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_rows):
        raise ValueError(f"item ids must lie in 0..{n_rows - 1}")
    return a, b


def jaccard_distance(item_sets: Any) -> Distance:
    """Distance factory 1 - |A∩B|/|A∪B| over item features (e.g. genre sets), indexed by item id.

    ``item_sets`` is a sequence of sets (entry 0 = padding) or a bool/0-1 matrix, dense or scipy
    sparse, with one row per id. Two items with no feature at all have distance 0 (as in scipy).
    """
    import scipy.sparse as sp

    if sp.issparse(item_sets):
        mat = sp.csr_matrix(item_sets, dtype=np.float64)
        mat.data = (mat.data != 0).astype(np.float64)
    elif isinstance(item_sets, np.ndarray) or isinstance(item_sets, torch.Tensor):
        dense = np.asarray(item_sets.cpu() if isinstance(item_sets, torch.Tensor) else item_sets)
        if dense.ndim != 2:
            raise ValueError(f"a feature matrix must be 2-D [n_items+1, n_features], got shape {dense.shape}")
        mat = sp.csr_matrix(dense != 0, dtype=np.float64)
    else:
        sets = [set() if s is None else set(s) for s in item_sets]
        vocab = {f: n for n, f in enumerate(sorted({f for s in sets for f in s}, key=repr))}
        rows = np.repeat(np.arange(len(sets)), [len(s) for s in sets])
        cols = np.fromiter((vocab[f] for s in sets for f in s), dtype=np.int64, count=rows.size)
        mat = sp.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(len(sets), max(len(vocab), 1)))
    if mat.shape[0] == 0:
        raise ValueError("item_sets is empty")
    sizes = np.asarray(mat.sum(1)).ravel()
    n_rows = mat.shape[0]

    def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise Jaccard distance between items a[i] and b[i]."""
        a, b = _check_ids(a, b, n_rows)
        shape = a.shape
        a, b = a.ravel(), b.ravel()
        inter = np.asarray(mat[a].multiply(mat[b]).sum(1)).ravel()
        union = sizes[a] + sizes[b] - inter
        sim = np.divide(inter, union, out=np.ones_like(inter), where=union > 0)
        return (1.0 - sim).reshape(shape)

    return distance


def cosine_distance(embeddings: Any) -> Distance:
    """Distance factory 1 - cos(e_a, e_b) over item embeddings ``[n_items+1, d]`` (e.g. text embeddings).

    A zero vector has cosine similarity 0 with everything (distance 1).
    """
    e = embeddings.detach().cpu().numpy() if isinstance(embeddings, torch.Tensor) else np.asarray(embeddings)
    if e.ndim != 2 or e.shape[0] == 0 or e.shape[1] == 0:
        raise ValueError(f"embeddings must be a non-empty 2-D array [n_items+1, d], got shape {e.shape}")
    e = e.astype(np.float64)
    if not np.isfinite(e).all():
        raise ValueError("embeddings contain NaN or inf")
    norm = np.linalg.norm(e, axis=1, keepdims=True)
    unit = np.divide(e, norm, out=np.zeros_like(e), where=norm > 0)

    def distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Element-wise cosine distance between items a[i] and b[i], clipped to [0, 2]."""
        a, b = _check_ids(a, b, unit.shape[0])
        return np.clip(1.0 - np.einsum("...d,...d->...", unit[a], unit[b]), 0.0, 2.0)

    return distance


# --------------------------------------------------------------------------- time sensitivity


def _times_1d(timestamps: Any) -> np.ndarray:
    """Timestamps as float numbers; datetime64 becomes seconds since the epoch; NaN/NaT -> ValueError."""
    t = np.asarray(timestamps)
    if t.ndim != 1:
        raise ValueError(f"timestamps must be 1-D, got shape {t.shape}")
    if np.issubdtype(t.dtype, np.datetime64):
        if np.isnat(t).any():
            raise ValueError(f"timestamps contain NaT (first at index {int(np.argmax(np.isnat(t)))})")
        return t.astype("datetime64[ns]").astype(np.int64) / 1e9
    return _float_1d(t, "timestamps")


def _ts_terms(dr: np.ndarray, dt: np.ndarray, zero_interval: str, min_interval: float,
              where: Callable[[int], str]) -> np.ndarray:
    """The terms |Δr|/|T| that the zero-interval policy keeps (``where(i)`` names pair i in errors)."""
    dt = np.abs(dt)
    zero = dt == 0
    if zero_interval == "skip":
        return dr[~zero] / dt[~zero]
    if zero_interval == "floor":
        return dr / np.maximum(dt, min_interval)
    if zero.any():  # "error"
        raise ValueError(f"zero time interval at {where(int(np.argmax(zero)))} (zero_interval='error')")
    return dr / dt


def _check_ts_options(zero_interval: str, min_interval: float, unit: float) -> None:
    """ValueError for an unknown policy, a non-positive floor or unit."""
    if zero_interval not in _ZERO_POLICIES:
        raise ValueError(f"zero_interval must be one of {_ZERO_POLICIES}, got {zero_interval!r}")
    if zero_interval == "floor" and not (min_interval > 0):
        raise ValueError(f"min_interval must be > 0 with zero_interval='floor', got {min_interval!r}")
    if not (unit > 0) or not math.isfinite(unit):
        raise ValueError(f"unit must be a positive finite number, got {unit!r}")


def time_sensitivity(scores: Any, timestamps: Any, zero_interval: str = "skip",
                     min_interval: float = 1.0, unit: float = 1.0) -> float:
    """The book's time-sensitivity TS = 1/N Σ_i |r_i - r_{i-1}| / |T_i|, T_i = (t_i - t_{i-1}) / unit.

    Mean rate of change of one user's/item's recommendation scores r_i at times t_i (1-D,
    non-decreasing, no NaN). Pairs with T_i == 0 follow ``zero_interval``: "skip" (default) drops
    them from the sum and from N, since a change with no elapsed time has no rate; "floor" divides
    every pair by max(|T_i|, min_interval) (min_interval in the same unit as T_i); "error" raises
    ValueError naming the index. ValueError too when no pair with a usable interval remains.
    """
    _check_ts_options(zero_interval, min_interval, unit)
    r = _float_1d(scores, "scores")
    t = _times_1d(timestamps)
    if r.size != t.size:
        raise ValueError(f"scores has {r.size} values but timestamps has {t.size}")
    if r.size < 2:
        raise ValueError(f"time sensitivity needs at least 2 observations, got {r.size}")
    dt = np.diff(t) / unit
    if (dt < 0).any():
        i = int(np.argmax(dt < 0)) + 1
        raise ValueError(f"timestamps must be non-decreasing: t[{i}] = {t[i]} < t[{i - 1}] = {t[i - 1]}")
    terms = _ts_terms(np.abs(np.diff(r)), dt, zero_interval, min_interval,
                      lambda i: f"index {i + 1} (t[{i + 1}] == t[{i}])")
    if terms.size == 0:
        raise ValueError("no pair of observations with a non-zero time interval: time sensitivity undefined")
    return float(terms.mean())


def time_sensitivity_grouped(df: Any, key: str | Sequence[str], score_col: str, time_col: str,
                             zero_interval: str = "skip", min_interval: float = 1.0,
                             unit: float = 1.0) -> float:
    """TS over a DataFrame: consecutive pairs within each ``key`` group in time order, averaged over ALL pairs.

    Equal to Σ_groups Σ_pairs term / Σ_groups N_g (groups with many pairs weigh more); rows are
    sorted by time inside each group (stable), and the zero-interval policy is that of ``time_sensitivity``.
    """
    _check_ts_options(zero_interval, min_interval, unit)
    keys = [key] if isinstance(key, str) else list(key)
    missing = [c for c in [*keys, score_col, time_col] if c not in df.columns]
    if missing:
        raise ValueError(f"df lacks column(s) {missing}")
    if len(df) == 0:
        raise ValueError("df is empty")
    if df[time_col].isna().any():
        raise ValueError(f"column {time_col!r} contains NaN/NaT (first at index {df.index[df[time_col].isna()][0]!r})")
    d = df.sort_values([*keys, time_col], kind="mergesort")
    r = _float_1d(d[score_col].to_numpy(), f"column {score_col!r}")
    t = _times_1d(d[time_col].to_numpy())
    kv = d[keys].to_numpy()
    same = (kv[1:] == kv[:-1]).all(1)  # pair (i-1, i) lies inside one group
    dr, dt = np.abs(np.diff(r))[same], (np.diff(t) / unit)[same]
    pair_row = np.flatnonzero(same) + 1
    labels = d.index.tolist()

    def where(i: int) -> str:
        """Name pair i by its group key and the row labels of its two observations."""
        row = int(pair_row[i])
        group = kv[row].tolist()
        return f"group {group[0] if len(group) == 1 else tuple(group)!r}, rows {labels[row - 1]!r} and {labels[row]!r}"

    terms = _ts_terms(dr, dt, zero_interval, min_interval, where)
    if terms.size == 0:
        raise ValueError("no pair of observations with a non-zero time interval in any group: TS undefined")
    return float(terms.mean())


# --------------------------------------------------------------------------- confidence intervals


def mean_ci(values: Any, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student-t confidence interval over seeds or users (half-width nan if n = 1)."""
    from scipy import stats

    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    v = _float_1d(values, "values")
    if v.size == 0:
        raise ValueError("values is empty")
    if v.size == 1:
        return float(v[0]), float("nan")
    sem = v.std(ddof=1) / math.sqrt(v.size)
    return float(v.mean()), float(stats.t.ppf(0.5 + confidence / 2.0, v.size - 1) * sem)


def clustered_mean_ci(values: Any, clusters: Any, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of a cluster-robust t-interval: rows of the same cluster (e.g. the many test
    events of one user in a temporal split) are not independent, so the variance is summed per cluster first.

    With one row per cluster this equals ``mean_ci``; with G clusters it uses G / (G - 1) * sum_g r_g^2 / n^2,
    r_g = the cluster's summed residuals, and G - 1 degrees of freedom (half-width nan if G = 1).
    """
    from scipy import stats

    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    v = _float_1d(values, "values")
    c = np.asarray(clusters)
    if c.shape != v.shape:
        raise ValueError(f"clusters must have one label per value: {c.shape} vs {v.shape}")
    if v.size == 0:
        raise ValueError("values is empty")
    labels, inverse = np.unique(c, return_inverse=True)
    g = len(labels)
    mean = float(v.mean())
    if g == 1:
        return mean, float("nan")
    resid = np.bincount(inverse, weights=v - mean, minlength=g)
    sem = math.sqrt(g / (g - 1) * float((resid ** 2).sum())) / v.size
    return mean, float(stats.t.ppf(0.5 + confidence / 2.0, g - 1) * sem)


# --------------------------------------------------------------------------- everything at once


def evaluate_scores(scores: Any, targets: Any, seen_mask: Any = None, ks: Iterable[int] = (5, 10, 20),
                    item_counts: Any = None, n_users: int | None = None,
                    distance: Distance | None = None) -> dict[str, float]:
    """All leave-one-out metrics from one score matrix in one vectorised pass (ranks computed once).

    Keys: HR/Recall/Precision/NDCG/MRR@k and coverage@k for every k, "AUC", novelty@k when
    ``item_counts`` is given (``n_users`` defaults to the number of score rows), ILD@k for k >= 2 when
    ``distance`` is given. Top-k lists honour ``seen_mask`` as given; ranks/AUC never mask the target.
    """
    ks = _check_ks(ks)
    s = _scores_tensor(scores)
    t = _targets_tensor(targets, s)
    m = _mask_tensor(seen_mask, s)
    n_items = s.shape[1] - 1
    if max(ks) > n_items:
        raise ValueError(f"k = {max(ks)} exceeds the number of items ({n_items})")
    n_greater, n_equal, n_equal_lower, n_neg = _compare_counts(s, t, m)
    out = rank_metrics((n_greater + n_equal_lower).cpu().numpy(), ks)  # ties by item id, as target_ranks
    out["AUC"] = _auc_from_counts(n_greater, n_equal, n_neg)
    top = _topk_from_tensors(s, m, max(ks)).cpu().numpy()
    for k in ks:
        out[f"coverage@{k}"] = catalog_coverage(top[:, :k], n_items)
        if item_counts is not None:
            out[f"novelty@{k}"] = novelty(top[:, :k], item_counts, s.shape[0] if n_users is None else n_users)
        if distance is not None and k >= 2:
            out[f"ILD@{k}"] = intra_list_diversity(top[:, :k], distance)
    return out
