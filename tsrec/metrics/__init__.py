"""Evaluation metrics: ranking accuracy, rating error, beyond-accuracy, the book's time sensitivity, intervals.

``ranking`` (target ranks, top-k lists, HR/NDCG/MRR, AUC: one tie rule), ``rating`` (RMSE, MAE), ``beyond``
(coverage, novelty, diversity), ``sensitivity`` (TS), ``intervals`` (mean and cluster-robust CIs), ``inputs``
(the checks behind every clear error).
"""
from tsrec.metrics.beyond import (
    Distance,
    catalog_coverage,
    cosine_distance,
    intra_list_diversity,
    jaccard_distance,
    novelty,
)
from tsrec.metrics.intervals import clustered_mean_ci, mean_ci
from tsrec.metrics.ranking import (
    TIE_POLICIES,
    auc,
    per_user_rank_metrics,
    precision_recall_ndcg,
    rank_metrics,
    ranks_and_auc,
    target_ranks,
    topk_items,
)
from tsrec.metrics.rating import mae, rmse
from tsrec.metrics.sensitivity import time_sensitivity, time_sensitivity_grouped

__all__ = [
    "TIE_POLICIES", "Distance", "auc", "catalog_coverage", "clustered_mean_ci", "cosine_distance",
    "intra_list_diversity", "jaccard_distance", "mae", "mean_ci", "novelty", "per_user_rank_metrics",
    "precision_recall_ndcg", "rank_metrics", "ranks_and_auc", "rmse", "target_ranks", "time_sensitivity",
    "time_sensitivity_grouped", "topk_items",
]
