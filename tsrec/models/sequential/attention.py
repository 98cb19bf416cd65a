"""Self-attentive sequence models: SASRec (Kang & McAuley 2018), the time-interval-aware TiSASRec, and SASRec with an
untied output layer for private training (DPSASRec)."""
from __future__ import annotations

import torch
from torch import nn

from tsrec.models.sequential.base import SeqInput, SequentialRecommender, _config
from tsrec.models.sequential.layers import (
    CausalSelfAttention,
    IntervalAttention,
    IntervalTerms,
    TransformerBlock,
    causal_attention_mask,
    positions,
)
from tsrec.models.sequential.time_encoding import make_time_encoding


class _SelfAttentive(SequentialRecommender):
    """Shared body of SASRec and TiSASRec: item embeddings, transformer blocks, final LayerNorm.

    ``dropout`` acts on inputs and residual branches; ``attn_dropout`` on attention weights is off by
    default because on a CPU it doubles the cost of attention."""

    attention_class: type[CausalSelfAttention] = CausalSelfAttention

    def __init__(self, config: dict):
        super().__init__(config)
        hidden, heads, dropout = config["hidden"], config["n_heads"], config["dropout"]
        self.item_emb = nn.Embedding(self.n_items + 1, hidden, padding_idx=0)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            TransformerBlock(self.attention_class(hidden, heads, config["attn_dropout"]), hidden, config["ffn_mult"],
                             dropout)
            for _ in range(config["n_blocks"]))
        self.ln = nn.LayerNorm(hidden)


class SASRec(_SelfAttentive):
    """SASRec (Kang & McAuley 2018): causal transformer over item + learned position embeddings.

    Item embeddings are shared with the output layer; ``time_encoding`` (None, "calendar", "time2vec",
    "time2vec_now", "log_interval"; see ``tsrec.models.sequential.time_encoding``) is added to the input.
    How it does against the baselines and RecBole: benchmarks/results.md and benchmarks/speed_results.md.
    """

    name = "SASRec"

    def __init__(self, n_items: int, max_len: int = 200, hidden: int = 64, n_blocks: int = 2, n_heads: int = 1,
                 dropout: float = 0.2, attn_dropout: float = 0.0, ffn_mult: int = 1,
                 time_encoding: str | None = None):
        super().__init__(_config(locals()))
        self.pos_emb = nn.Embedding(max_len + 1, hidden, padding_idx=0)
        self.time_enc = make_time_encoding(time_encoding, hidden)
        self.init_weights()

    def encode(self, x: SeqInput) -> torch.Tensor:
        mask = x.mask
        h = self.item_emb(x.items) + self.pos_emb(positions(mask))
        if self.time_enc is not None:
            h = h + self.time_enc(x.times, x.next_times, mask)
        h, allowed = self.drop(h) * mask.unsqueeze(-1), causal_attention_mask(mask)
        for block in self.blocks:
            h = block(h, allowed, mask)
        return self.ln(h)


class TiSASRec(_SelfAttentive):
    """TiSASRec (Li et al., WSDM 2020): self-attention whose keys and values get embeddings of absolute
    positions and of each pair's personalised, clipped time interval.

    Interval r_ij = min(floor(|t_i - t_j| / r_u), max_interval), r_u = the user's smallest non-zero gap
    (1 s if none); unlike the paper, r_u is taken over events up to i only, so no future time leaks in.
    As in the paper, positions enter keys and values, not the input.
    """

    name = "TiSASRec"
    attention_class = IntervalAttention

    def __init__(self, n_items: int, max_len: int = 200, hidden: int = 64, n_blocks: int = 2, n_heads: int = 1,
                 dropout: float = 0.2, attn_dropout: float = 0.0, ffn_mult: int = 1, max_interval: int = 256):
        super().__init__(_config(locals()))
        self.max_interval = max_interval
        self.pos_k = nn.Embedding(max_len + 1, hidden, padding_idx=0)
        self.pos_v = nn.Embedding(max_len + 1, hidden, padding_idx=0)
        self.interval_k = nn.Embedding(max_interval + 1, hidden)
        self.interval_v = nn.Embedding(max_interval + 1, hidden)
        self.init_weights()

    def interval_buckets(self, times: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Clipped interval of every pair of events, in units of the querying position's r_u: int64 [B, L, L]."""
        gaps = torch.zeros_like(times, dtype=torch.float)
        gaps[:, 1:] = (times[:, 1:] - times[:, :-1]).float()
        real = torch.zeros_like(mask)
        real[:, 1:] = mask[:, 1:] & mask[:, :-1]
        unit = gaps.masked_fill(~real | (gaps <= 0), float("inf")).cummin(dim=1).values  # causal: gaps so far
        unit = torch.where(torch.isinf(unit), torch.ones_like(unit), unit)
        diff = (times[:, :, None] - times[:, None, :]).abs().float()
        return torch.floor(diff / unit[:, :, None]).clamp(max=self.max_interval).long()

    def encode(self, x: SeqInput) -> torch.Tensor:
        mask = x.mask
        pos = positions(mask)
        extra = IntervalTerms(self.drop(self.pos_k(pos)), self.drop(self.pos_v(pos)),
                              self.interval_buckets(x.times, mask),
                              self.drop(self.interval_k.weight), self.drop(self.interval_v.weight))
        h, allowed = self.drop(self.item_emb(x.items)) * mask.unsqueeze(-1), causal_attention_mask(mask)
        for block in self.blocks:
            h = block(h, allowed, mask, extra)
        return self.ln(h)


class DPSASRec(SASRec):
    """SASRec with its own output layer (not tied to the item table), so every weight is a module's weight
    and DP-SGD (Opacus, ``tsrec.training.privacy``) can compute each sample's gradient; ``forward`` gives
    scores [B, L, n_items + 1] with the batch as the first dimension."""

    name = "DP-SASRec"

    def __init__(self, n_items: int, max_len: int = 50, hidden: int = 64, n_blocks: int = 2, n_heads: int = 1,
                 dropout: float = 0.2, time_encoding: str | None = "log_interval"):
        super().__init__(n_items, max_len, hidden, n_blocks, n_heads, dropout, time_encoding=time_encoding)
        self.out = nn.Linear(hidden, n_items + 1, bias=False)
        self.init_weights()

    def output_weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.out.weight, None

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.out(h)

    def forward(self, items: torch.Tensor, times: torch.Tensor, next_times: torch.Tensor) -> torch.Tensor:
        users = torch.zeros(len(items), dtype=torch.long, device=items.device)
        return self.out(self.encode(SeqInput(users, items, times, next_times)))
