"""Sequence recommenders: GRU4Rec, LSTM4Rec, NextItNet, SASRec, TiSASRec, LRURec (linear recurrent units), the
book's TimeSensitiveModel, SASRec with item text (HybridSASRec) and with an untied output layer (DPSASRec).

``base`` (windows in, a hidden vector per position out), ``layers`` (masks, packed RNNs, attention),
``time_encoding`` (calendar, Time2Vec, log-interval), ``losses`` (full softmax, BCE, sampled softmax), then
one module per family. ``tsrec.training`` trains them; ``tsrec.evaluate`` ranks with their ``score``.
"""
from tsrec.models.sequential.attention import DPSASRec, SASRec, TiSASRec
from tsrec.models.sequential.base import SeqInput, SequentialRecommender
from tsrec.models.sequential.convolutional import NextItNet
from tsrec.models.sequential.layers import causal_attention_mask, positions, run_rnn
from tsrec.models.sequential.losses import DEFAULT_NEGATIVES, LOSSES, sequence_loss
from tsrec.models.sequential.lru import LRURec
from tsrec.models.sequential.recurrent import GRU4Rec, LSTM4Rec
from tsrec.models.sequential.text import FUSIONS, FusedItemEmbedding, HybridSASRec, init_from_text, text_init_table
from tsrec.models.sequential.time_encoding import TIME_ENCODINGS, CalendarEncoding, LogIntervalEncoding, Time2Vec
from tsrec.models.sequential.time_sensitive import TimeSensitiveModel, hour_of_week

__all__ = [
    "DEFAULT_NEGATIVES", "DPSASRec", "FUSIONS", "LOSSES", "TIME_ENCODINGS", "CalendarEncoding", "FusedItemEmbedding",
    "GRU4Rec", "HybridSASRec", "LRURec", "LSTM4Rec", "LogIntervalEncoding", "NextItNet", "SASRec", "SeqInput",
    "SequentialRecommender", "TiSASRec", "Time2Vec", "TimeSensitiveModel", "causal_attention_mask", "hour_of_week",
    "init_from_text", "positions", "run_rnn", "sequence_loss", "text_init_table",
]
