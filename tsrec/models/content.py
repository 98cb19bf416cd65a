"""Content-based recommendation and hybrids.

``ContentKNN`` recommends items whose feature vectors (genre multi-hot, or LM text embeddings) are close
to the user's profile, the (optionally time-decayed) mean of the history's vectors: it needs no other
users, so it works for new items. ``Hybrid`` mixes any recommenders by a weighted sum of per-query
normalised scores, so models on different scales (counts, similarities, logits) can be combined.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
import torch

from tsrec.models.base import Recommender, check_fitted, check_interactions
from tsrec.models.knn import history_matrix
from tsrec.prep import IdMap
from tsrec.queries import QueryBatch, seen_mask

__all__ = ["ContentKNN", "Hybrid", "genre_matrix", "genre_names", "normalise_scores"]

NO_GENRE = {"", "(no genres listed)", "nan", "None"}


def genre_names(items_df: pd.DataFrame, sep: str = "|") -> list[str]:
    """Sorted genre vocabulary of an items frame (column ``genres`` like "Action|Comedy"), placeholders dropped."""
    if "genres" not in items_df.columns:
        raise ValueError(f"items frame lacks a 'genres' column (found {list(items_df.columns)})")
    names = {g.strip() for s in items_df["genres"].fillna("").astype(str) for g in s.split(sep)}
    return sorted(names - NO_GENRE)


def genre_matrix(items_df: pd.DataFrame, item_map: IdMap, sep: str = "|",
                 return_names: bool = False) -> np.ndarray | tuple[np.ndarray, list[str]]:
    """Multi-hot [n_items + 1, n_genres] float32 aligned to encoded ids (row 0 = padding = zeros).

    ``item_map`` is the IdMap of the interactions (``prep.IdMap.fit(raw_items)`` gives the same ids as a
    Split); items of ``items_df`` not in the map are ignored, mapped items without genres get a zero row.
    """
    if "item" not in items_df.columns:
        raise ValueError(f"items frame lacks an 'item' column (found {list(items_df.columns)})")
    names = genre_names(items_df, sep)
    col = {g: k for k, g in enumerate(names)}
    out = np.zeros((len(item_map) + 1, len(names)), dtype=np.float32)
    ids = item_map.encode(items_df["item"], unknown="pad")
    for idx, s in zip(ids, items_df["genres"].fillna("").astype(str)):
        if idx == 0:
            continue
        for g in s.split(sep):
            k = col.get(g.strip())
            if k is not None:
                out[idx, k] = 1.0
    return (out, names) if return_names else out


def _row_normalise(x: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norm, out=np.zeros_like(x), where=norm > 0)


class ContentKNN(Recommender):
    """Cosine between the user's profile (mean of history item vectors) and every item's vector.

    ``time_decay_half_life`` weights each history item by 0.5 ** ((now - t) / half_life), so the profile
    follows the user's recent taste. Item vectors are L2-normalised first, so long vectors do not dominate.
    """

    name = "ContentKNN"

    def __init__(self, item_features: np.ndarray | torch.Tensor, time_decay_half_life: float | None = None) -> None:
        f = (item_features.detach().cpu().numpy() if isinstance(item_features, torch.Tensor)
             else np.asarray(item_features))
        if f.ndim != 2 or f.shape[0] < 2:
            raise ValueError(f"item_features must be 2-D [n_items + 1, d] (row 0 = padding), got shape {f.shape}")
        f = f.astype(np.float64)
        if not np.isfinite(f).all():
            raise ValueError("item_features contain NaN or inf")
        if time_decay_half_life is not None and not time_decay_half_life > 0:
            raise ValueError(f"time_decay_half_life must be positive or None, got {time_decay_half_life!r}")
        self.features = _row_normalise(f)
        self.features[0] = 0.0
        self.time_decay_half_life = time_decay_half_life
        self.n_items = f.shape[0] - 1

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "ContentKNN":
        """Nothing to learn from other users; checks that the features cover the ``n_items`` items."""
        check_interactions(train, n_users, n_items)
        if n_items != self.n_items:
            raise ValueError(f"item_features have {self.n_items} item rows (+ padding) but n_items = {n_items}; "
                             f"build them with genre_matrix(items, item_map) for the same id map")
        return self

    def profiles(self, batch: QueryBatch) -> np.ndarray:
        """[B, d] unit-length weighted mean of each query's history vectors (zeros for an empty history)."""
        H = history_matrix(batch, self.n_items + 1, self.time_decay_half_life)
        return _row_normalise(H @ self.features)

    def score(self, batch: QueryBatch) -> torch.Tensor:
        s = torch.from_numpy(self.profiles(batch) @ self.features.T).float()
        s[:, 0] = float("-inf")
        return s

    def __repr__(self) -> str:
        hl = f", time_decay_half_life={self.time_decay_half_life:g}" if self.time_decay_half_life else ""
        return f"ContentKNN(d={self.features.shape[1]}{hl})"


def normalise_scores(s: torch.Tensor, cand: torch.Tensor, norm: str = "zscore") -> torch.Tensor:
    """Scores [B, n] scaled by statistics over each row's finite candidate scores (``cand`` True): "minmax" to
    [0, 1], "zscore" to mean 0 and sd 1 (clamped to +-1e6); non-finite scores become the row's lowest."""
    s = s.double()
    c = cand & torch.isfinite(s)
    lo = torch.where(c, s, torch.inf).amin(1, keepdim=True)
    lo = torch.where(torch.isfinite(lo), lo, 0.0)                            # a row without candidates
    s = torch.where(torch.isfinite(s), s, lo)
    if norm == "minmax":
        hi = torch.where(c, s, -torch.inf).amax(1, keepdim=True)
        span = torch.where(torch.isfinite(hi), hi - lo, 0.0)
        return torch.where(span > 0, (s - lo) / torch.where(span > 0, span, 1.0), torch.zeros_like(s))
    n = c.sum(1, keepdim=True).clamp(min=1)
    mean = torch.where(c, s, 0.0).sum(1, keepdim=True) / n
    sd = (torch.where(c, s - mean, 0.0) ** 2).sum(1, keepdim=True).div(n).sqrt()
    z = torch.where(sd > 0, (s - mean) / torch.where(sd > 0, sd, 1.0), torch.zeros_like(s))
    # a seen item far from near-constant candidates would overflow float32 (and 0 * inf is NaN); candidates' own
    # z-scores are bounded by sqrt(n), so the clamp changes no ranking
    return z.clamp(-1e6, 1e6)


class Hybrid(Recommender):
    """Weighted sum of per-query normalised scores of several recommenders (weights need not sum to 1).

    ``norm="minmax"`` maps each model's scores over the query's candidate items (unseen, not padding) to
    [0, 1]; ``"zscore"`` to mean 0, sd 1. Seen items do not shape the scale, since they are never ranked.
    """

    name = "Hybrid"

    def __init__(self, models: Sequence[Recommender], weights: Sequence[float] | None = None, norm: str = "minmax",
                 fit_models: bool = True) -> None:
        if len(models) == 0:
            raise ValueError("Hybrid needs at least one model")
        weights = [1.0] * len(models) if weights is None else [float(w) for w in weights]
        if len(weights) != len(models):
            raise ValueError(f"got {len(models)} models but {len(weights)} weights")
        if not all(np.isfinite(weights)):
            raise ValueError(f"weights must be finite numbers, got {weights}")
        if norm not in ("minmax", "zscore"):
            raise ValueError(f"norm must be 'minmax' or 'zscore', got {norm!r}")
        self.models, self.weights, self.norm, self.fit_models = list(models), weights, norm, fit_models
        self._fitted = None

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> "Hybrid":
        """Fit every component on the same data (skip with ``fit_models=False`` for pre-fitted ones)."""
        check_interactions(train, n_users, n_items)
        if self.fit_models:
            for m in self.models:
                m.fit(train, n_users, n_items)
        self.n_items = int(n_items)
        self._fitted = True
        return self

    def score(self, batch: QueryBatch) -> torch.Tensor:
        check_fitted(self, "_fitted")
        total = None
        cand = None
        for m, w in zip(self.models, self.weights):
            if w == 0:
                continue
            s = torch.as_tensor(m.score(batch)).cpu()
            if cand is None:
                cand = ~seen_mask(batch, s.shape[1])
            part = w * normalise_scores(s, cand, self.norm)
            total = part if total is None else total + part
        if total is None:
            total = torch.zeros((len(batch), self.n_items + 1))
        total = total.float()
        total[:, 0] = float("-inf")
        return total

    def __repr__(self) -> str:
        parts = ", ".join(f"{w:g}*{m!r}" for m, w in zip(self.models, self.weights))
        return f"Hybrid({parts}, norm={self.norm!r})"
