"""Language models for recommendation: where they come from, text encoders, item and history text, a small
generative LM, and LLM re-ranking and labelling.

``locate`` (packaged defaults, hub ids, local paths), ``encoder`` (``TextEncoder``), ``text`` (``movie_text``,
``product_text``, ``history_to_text``, ``compact_history``), ``lm`` (``GenerativeLM``), ``rerank``
(``llm_rerank``, ``label_time_sensitivity``). Both default models come from PyPI packages and load from local
files only, so nothing reaches a model hub at run time.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from tsrec.llm.encoder import TextEncoder
from tsrec.llm.lm import DEFAULT_INSTRUCTION, TEMPORAL_LABELS, GenerativeLM
from tsrec.llm.locate import DEFAULT_ENCODER, DEFAULT_LM, ModelNotFoundError
from tsrec.llm.rerank import RerankResult, label_time_sensitivity, llm_rerank, rerank_metrics
from tsrec.llm.text import compact_history, history_to_text, movie_text, product_text
from tsrec.splits import Split

__all__ = [
    "DEFAULT_ENCODER", "DEFAULT_INSTRUCTION", "DEFAULT_LM", "GenerativeLM", "ModelNotFoundError", "RerankResult",
    "TEMPORAL_LABELS", "TextEncoder", "compact_history", "history_to_text", "item_text_embeddings",
    "label_time_sensitivity", "llm_rerank", "movie_text", "product_text", "rerank_metrics",
]


def item_text_embeddings(split: Split, items: pd.DataFrame, encoder: TextEncoder | None = None,
                         text_fn: Callable[[pd.DataFrame], pd.Series] = movie_text,
                         show_progress: bool = False) -> np.ndarray:
    """Text embeddings [n_items + 1, d] aligned with the split's encoded ids (row 0 = padding = zeros).

    ``text_fn`` turns the aligned items frame into one string per item (default ``movie_text``); ``encoder``
    defaults to ``TextEncoder()`` (all-MiniLM-L6-v2, offline, cached on disk).
    """
    texts = text_fn(split.items_frame(items))
    vecs = (encoder if encoder is not None else TextEncoder()).encode(texts.tolist(), show_progress=show_progress)
    return np.vstack([np.zeros((1, vecs.shape[1]), np.float32), vecs]).astype(np.float32)
