"""Recommenders, one module each, all with one interface (``tsrec.models.base.Recommender``)."""
from tsrec.models.base import QueryBatch, Recommender, queries_from_frames, seen_mask

__all__ = ["QueryBatch", "Recommender", "queries_from_frames", "seen_mask"]
