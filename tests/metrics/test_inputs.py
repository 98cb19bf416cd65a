"""Tests of tsrec.metrics.inputs: every metric rejects bad input with a ValueError that says what is wrong."""
from __future__ import annotations

import numpy as np
import pytest

from tsrec.metrics import (
    auc,
    catalog_coverage,
    cosine_distance,
    intra_list_diversity,
    mae,
    mean_ci,
    novelty,
    per_user_rank_metrics,
    precision_recall_ndcg,
    rank_metrics,
    rmse,
    target_ranks,
    topk_items,
)

# --------------------------------------------------------------------------- bad inputs

_S = np.zeros((2, 5))
_BAD_INPUTS = [
    (lambda: target_ranks(_S, [1, 2, 3]), "one id per user"),
    (lambda: target_ranks(_S, [0, 2]), "1..4"),
    (lambda: target_ranks(_S, [1.0, 2.0]), "integer"),
    (lambda: target_ranks(_S[0], [1]), "2-D"),
    (lambda: target_ranks(np.zeros((0, 5)), []), "empty"),
    (lambda: target_ranks(_S, [1, 2], np.zeros((2, 4), dtype=bool)), "does not match"),
    (lambda: target_ranks(_S, [1, 2], np.zeros((2, 5))), "bool"),
    (lambda: rank_metrics([0, 1], ks=(0,)), ">= 1"),
    (lambda: rank_metrics([], ks=(5,)), "empty"),
    (lambda: rank_metrics([-1, 2]), ">= 0"),
    (lambda: per_user_rank_metrics([1, 2], k=2.5), ">= 1"),
    (lambda: topk_items(_S, k=0), ">= 1"),
    (lambda: topk_items(_S, k=5), "exceeds"),
    (lambda: precision_recall_ndcg([[1, 2]], [{1}, {2}]), "2 sets but topk has 1"),
    (lambda: precision_recall_ndcg([[1, 2]], [set()]), "no relevant"),
    (lambda: precision_recall_ndcg([[1, 1]], [{1}]), "repeats"),
    (lambda: auc(_S, [1, 2], np.array([[0, 0, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)), "no negative"),
    (lambda: rmse([1, 2], [1, 2, 3]), "y_pred has 3"),
    (lambda: mae([1, np.nan], [1, 2]), "NaN"),
    (lambda: rmse([], []), "empty"),
    (lambda: catalog_coverage([[1, 7]], 5), "n_items"),
    (lambda: novelty([[1, 2]], [0, 3, 9], 4), "n_users"),
    (lambda: intra_list_diversity([[1], [2]], cosine_distance(np.eye(3))), "at least 2"),
    (lambda: cosine_distance(np.eye(3))(np.array([1]), np.array([5])), "0..2"),
    (lambda: mean_ci([]), "empty"),
    (lambda: mean_ci([1.0, 2.0], confidence=1.5), "confidence"),
]


@pytest.mark.parametrize("call,message", _BAD_INPUTS, ids=[m for _, m in _BAD_INPUTS])
def test_bad_inputs_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
