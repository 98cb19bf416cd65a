"""Recurrent sequence models: GRU4Rec (Hidasi et al. 2016) and its LSTM twin."""
from __future__ import annotations

import torch
from torch import nn

from tsrec.models.sequential.base import SeqInput, SequentialRecommender, _config
from tsrec.models.sequential.layers import run_rnn


class GRU4Rec(SequentialRecommender):
    """GRU4Rec (Hidasi et al. 2016) with a cross-entropy loss over all items (Hidasi & Czapp 2023 style)."""

    name = "GRU4Rec"
    rnn_class: type[nn.RNNBase] = nn.GRU

    def __init__(self, n_items: int, max_len: int = 200, hidden: int = 64, n_layers: int = 1, dropout: float = 0.2):
        super().__init__(_config(locals()))
        self.item_emb = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        self.drop = nn.Dropout(dropout)
        self.rnn = self.rnn_class(hidden, hidden, n_layers, batch_first=True, dropout=dropout if n_layers > 1 else 0.0)
        self.proj = nn.Linear(hidden, hidden)
        self.init_weights()

    def encode(self, x: SeqInput) -> torch.Tensor:
        h = run_rnn(self.rnn, self.drop(self.item_emb(x.items)), x.mask)
        return self.proj(self.drop(h))


class LSTM4Rec(GRU4Rec):
    """GRU4Rec with an LSTM cell instead of a GRU (same loss, same interface)."""

    name = "LSTM4Rec"
    rnn_class = nn.LSTM
