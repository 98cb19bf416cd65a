"""A convolutional sequence model: NextItNet (Yuan et al. 2019), dilated causal residual convolutions."""
from __future__ import annotations

import torch
from torch import nn

from tsrec.models.sequential.base import SeqInput, SequentialRecommender, _config
from tsrec.models.sequential.layers import ResidualConv


class NextItNet(SequentialRecommender):
    """NextItNet (Yuan et al. 2019): a stack of dilated causal residual 1-D convolutions (a TCN)."""

    name = "NextItNet"

    def __init__(self, n_items: int, max_len: int = 200, hidden: int = 64, kernel: int = 3,
                 dilations: tuple[int, ...] = (1, 4, 16, 64), dropout: float = 0.2):
        super().__init__(_config(locals()))
        self.item_emb = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(ResidualConv(hidden, kernel, d, dropout) for d in dilations)
        self.ln = nn.LayerNorm(hidden)
        self.init_weights()

    def encode(self, x: SeqInput) -> torch.Tensor:
        mask = x.mask
        h = self.drop(self.item_emb(x.items)) * mask.unsqueeze(-1)
        for block in self.blocks:
            h = block(h, mask)
        return self.ln(h)
