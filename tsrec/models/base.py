"""The model contract: what every recommender in tsrec promises, and the input checks they share.

``Scorer.score(batch)`` returns float scores ``[B, n_items + 1]`` for a :class:`tsrec.queries.QueryBatch`:
one row per query, one column per item id, column 0 (padding) always ``-inf``; higher is better; equal
scores are ordered by item id downstream; the same weights and the same seed give the same scores.
Seen items are NOT masked by the model: the evaluator (``tsrec.evaluate``) masks them.

``Recommender`` adds ``fit(train, n_users, n_items)``, learning from a log of encoded ids 1..n. The torch
models (sequence models, the generative model, the matrix factorisations) are Scorers and ``nn.Module`` s
that ``tsrec.training`` trains (``tsrec.training.Trained`` makes any of them a Recommender), so no model
imports the trainer or the evaluator.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import pandas as pd
import torch

from tsrec.data import require_columns
from tsrec.metrics import topk_items
from tsrec.queries import QueryBatch, seen_mask

__all__ = ["Scorer", "Recommender", "score_numpy", "check_interactions", "check_batch_users", "check_fitted"]


class Scorer(ABC):
    """Scores every item for each query of a batch: ``score(batch) -> [B, n_items + 1]``, column 0 ``-inf``."""

    name = "scorer"
    n_items: int = 0

    @abstractmethod
    def score(self, batch: QueryBatch) -> torch.Tensor:
        """Float scores [B, n_items + 1] (column 0 = -inf), from each query's history and request time."""

    def recommend(self, batch: QueryBatch, k: int = 10, exclude_seen: bool = True) -> np.ndarray:
        """Top-k item ids per query [B, k] (seen items excluded), equal scores ordered by item id."""
        scores = self.score(batch)
        mask = seen_mask(batch, scores.shape[1]) if exclude_seen else None
        return topk_items(scores, mask, k).cpu().numpy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Recommender(Scorer):
    """A Scorer that learns from a log: ``fit(train, n_users, n_items)`` with encoded ids 1..n, returns self."""

    name = "recommender"

    @abstractmethod
    def fit(self, train: pd.DataFrame, n_users: int, n_items: int) -> Recommender:
        """Learn from ``train`` (user, item, timestamp[, rating]) with user ids 1..n_users, items 1..n_items."""


def score_numpy(model: Scorer, batch: QueryBatch) -> np.ndarray:
    """``model.score(batch)`` as float64 numpy [B, n_items + 1], without autograd (online learners, the service)."""
    with torch.inference_mode():
        return torch.as_tensor(model.score(batch)).double().cpu().numpy()


# ----------------------------------------------------------------------------- shared input checks
def check_interactions(train: pd.DataFrame, n_users: int, n_items: int, rating: bool = False,
                       what: str = "train") -> None:
    """Raise a ValueError (DataError) if the frame lacks columns, has ids outside 1..n or NaN values.

    Shared by every model so that bad input fails at ``fit`` with a message, not deep in numpy.
    """
    cols = ("user", "item", "timestamp", "rating") if rating else ("user", "item", "timestamp")
    require_columns(train, cols, what=what)
    for name, n in (("n_users", n_users), ("n_items", n_items)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    if len(train) == 0:
        raise ValueError(f"{what} is empty: nothing to fit")
    for col, n in (("user", n_users), ("item", n_items)):
        v = pd.to_numeric(train[col], errors="coerce")
        if v.isna().any():
            raise ValueError(f"{what}[{col!r}] has missing or non-numeric ids; "
                             f"encode ids first (tsrec.prep.encode_ids)")
        if (v < 1).any() or (v > n).any() or not (v == np.floor(v)).all():
            raise ValueError(f"{what}[{col!r}] must hold encoded ids 1..{n} (0 is padding), got range "
                             f"{v.min()}..{v.max()}; encode ids with tsrec.prep and pass the matching n_{col}s")
    ts = pd.to_numeric(train["timestamp"], errors="coerce")
    if ts.isna().any():
        raise ValueError(f"{what}['timestamp'] has NaN or non-numeric values; run tsrec.prep.clean first")
    if rating:
        r = pd.to_numeric(train["rating"], errors="coerce")
        if r.isna().any() or not np.isfinite(r.to_numpy(dtype=float)).all():
            raise ValueError(f"{what}['rating'] has {int(r.isna().sum())} NaN/non-numeric value(s); "
                             f"drop or impute them before fitting a rating model")


def check_batch_users(users: np.ndarray, n_users: int) -> np.ndarray:
    """Users as int64, with a ValueError naming the first id outside 1..n_users (unknown to the model)."""
    u = np.asarray(users)
    if u.dtype.kind not in "iu":
        raise ValueError(f"user ids must be integers, got dtype {u.dtype}")
    u = u.astype(np.int64)
    bad = (u < 1) | (u > n_users)
    if bad.any():
        raise ValueError(f"unknown user id {int(u[bad][0])}: the model knows users 1..{n_users} "
                         f"(encode with the same IdMap as the training data)")
    return u


def check_fitted(model: Any, attr: str) -> None:
    """RuntimeError unless ``model.<attr>`` has been set by ``fit``."""
    if getattr(model, attr, None) is None:
        raise RuntimeError(f"{type(model).__name__} is not fitted: call fit(train, n_users, n_items) first")
