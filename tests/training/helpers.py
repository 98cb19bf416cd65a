"""Small models and a small split shared by the training tests."""
from __future__ import annotations

from tsrec.evaluate import eval_queries
from tsrec.models import sequential as S
from tsrec.splits import Split


def queries(split: Split):
    return eval_queries(split, "test")[0]


def small(cls: type, split: Split, **kw) -> S.SequentialRecommender:
    if cls is S.TimeSensitiveModel:
        return cls(split.n_items, split.n_users, max_len=10, embedding_dim=8, hidden_dim=8, **kw)
    return cls(split.n_items, max_len=10, hidden=16, **kw)
