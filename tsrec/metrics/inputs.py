"""Input checks shared by the metrics: every metric fails on bad input with one line that says what is wrong.

Conventions: items are ids ``1..n_items``; column 0 of every score matrix ``scores[B, n_items + 1]`` is
padding and never ranked; ``seen_mask[B, n_items + 1]`` is bool, True = must not be recommended; in a
top-k list the id 0 means "no item" (a user with fewer than k candidates).
"""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import torch


def as_scores(scores: Any) -> torch.Tensor:
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


def as_mask(seen_mask: Any, s: torch.Tensor) -> torch.Tensor | None:
    """The seen mask as a bool tensor of the same shape and device as the scores (None stays None)."""
    if seen_mask is None:
        return None
    m = seen_mask.detach() if isinstance(seen_mask, torch.Tensor) else torch.as_tensor(np.asarray(seen_mask))
    if m.dtype != torch.bool:
        raise ValueError(f"seen_mask must be a bool array (True = already seen), got dtype {m.dtype}")
    if tuple(m.shape) != tuple(s.shape):
        raise ValueError(f"seen_mask shape {tuple(m.shape)} does not match scores shape {tuple(s.shape)}")
    return m.to(s.device)


def as_targets(targets: Any, s: torch.Tensor) -> torch.Tensor:
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


def check_k(k: Any, name: str = "k") -> int:
    """A positive python int, else ValueError."""
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {k!r}")
    return int(k)


def check_ks(ks: Iterable[int]) -> tuple[int, ...]:
    """A non-empty tuple of positive ints (duplicates removed, order kept)."""
    if isinstance(ks, (int, np.integer)):
        ks = (ks,)
    out = tuple(dict.fromkeys(check_k(k, "every k in ks") for k in ks))
    if not out:
        raise ValueError("ks is empty: give at least one cut-off k")
    return out


def as_ranks(ranks: Any) -> np.ndarray:
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


def as_topk(topk: Any, n_items: int | None = None) -> np.ndarray:
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


def float_1d(x: Any, name: str) -> np.ndarray:
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
