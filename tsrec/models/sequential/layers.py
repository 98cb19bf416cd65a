"""Building blocks of the sequence models: positions, causal masks, packed RNNs, (interval-aware) attention."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


def positions(mask: torch.Tensor) -> torch.Tensor:
    """1, 2, ... from each window's first real event, 0 at padding (so left padding shifts nothing)."""
    return torch.cumsum(mask.long(), dim=1) * mask


def causal_attention_mask(mask: torch.Tensor) -> torch.Tensor:
    """Bool [B, L, L]: query i may attend key j when j <= i and j is real (and always itself)."""
    L = mask.shape[1]
    causal = torch.ones(L, L, dtype=torch.bool, device=mask.device).tril()
    eye = torch.eye(L, dtype=torch.bool, device=mask.device)
    return causal & (mask[:, None, :] | eye)


def run_rnn(rnn: nn.RNNBase, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Run a batch-first RNN over left-padded inputs as packed sequences, so padding never enters the state."""
    B, L, _ = x.shape
    lengths = mask.sum(1).clamp(min=1)
    shift = (L - lengths).unsqueeze(1)
    ar = torch.arange(L, device=x.device).unsqueeze(0)
    left_aligned = x.gather(1, ((ar + shift) % L).unsqueeze(-1).expand_as(x))
    packed = nn.utils.rnn.pack_padded_sequence(left_aligned, lengths.cpu(), batch_first=True, enforce_sorted=False)
    out, _ = rnn(packed)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=L)
    return out.gather(1, ((ar - shift) % L).unsqueeze(-1).expand(-1, -1, out.shape[-1]))


class ResidualConv(nn.Module):
    """NextItNet residual block: causal convolutions dilated d then 2d, each LayerNorm + ReLU, plus x."""

    def __init__(self, hidden: int, kernel: int, dilation: int, dropout: float):
        super().__init__()
        self.conv1 = nn.Conv1d(hidden, hidden, kernel, dilation=dilation)
        self.conv2 = nn.Conv1d(hidden, hidden, kernel, dilation=2 * dilation)
        self.ln1, self.ln2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.drop = nn.Dropout(dropout)

    @staticmethod
    def _causal(conv: nn.Conv1d, x: torch.Tensor) -> torch.Tensor:
        pad = (conv.kernel_size[0] - 1) * conv.dilation[0]
        return conv(F.pad(x.transpose(1, 2), (pad, 0))).transpose(1, 2)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        m = mask.unsqueeze(-1)
        h = F.relu(self.ln1(self._causal(self.conv1, x))) * m  # zero padding = the convolution's own padding
        h = F.relu(self.ln2(self._causal(self.conv2, h))) * m
        return x + self.drop(h)


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    B, L, D = x.shape
    return x.view(B, L, heads, D // heads).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    B, H, L, d = x.shape
    return x.transpose(1, 2).reshape(B, L, H * d)


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention restricted by a [B, L, L] mask of allowed (query, key) pairs."""

    def __init__(self, hidden: int, heads: int, dropout: float):
        super().__init__()
        if hidden % heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by n_heads ({heads})")
        self.heads, self.dropout = heads, dropout
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, extra: IntervalTerms | None = None) -> torch.Tensor:
        q, k, v = (_split_heads(t, self.heads) for t in self.qkv(x).chunk(3, dim=-1))
        p = self.dropout if self.training else 0.0
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed.unsqueeze(1), dropout_p=p)
        return self.out(_merge_heads(o))


@dataclass
class IntervalTerms:
    """TiSASRec's additions to keys and values: absolute-position vectors [B, L, D] and interval buckets
    [B, L, L] indexing interval embeddings [K, D]."""

    pos_k: torch.Tensor
    pos_v: torch.Tensor
    buckets: torch.Tensor
    interval_k: torch.Tensor
    interval_v: torch.Tensor


class IntervalAttention(CausalSelfAttention):
    """TiSASRec attention: e_ij = q_i . (k_j + P^K_j + R^K_ij), out_i = sum_j a_ij (v_j + P^V_j + R^V_ij).

    The interval terms are computed per bucket (q . R^K gathered, attention summed per bucket), so memory
    is O(B L (L + K)) rather than the O(B L^2 D) of materialising R_ij.
    """

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, extra: IntervalTerms | None = None) -> torch.Tensor:
        H = self.heads
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = _split_heads(q, H), _split_heads(k + extra.pos_k, H), _split_heads(v + extra.pos_v, H)
        d = q.shape[-1]
        rk = extra.interval_k.view(-1, H, d)
        rv = extra.interval_v.view(-1, H, d)
        idx = extra.buckets.unsqueeze(1).expand(-1, H, -1, -1)
        scores = q @ k.transpose(-1, -2) + torch.einsum("bhld,khd->bhlk", q, rk).gather(-1, idx)
        scores = (scores / math.sqrt(d)).masked_fill(~allowed.unsqueeze(1), float("-inf"))
        attn = F.dropout(scores.softmax(-1), self.dropout, self.training)
        per_bucket = torch.zeros(*attn.shape[:-1], rk.shape[0], dtype=attn.dtype, device=attn.device)
        per_bucket.scatter_add_(-1, idx, attn)
        o = attn @ v + torch.einsum("bhlk,khd->bhld", per_bucket, rv)
        return self.out(_merge_heads(o))


class TransformerBlock(nn.Module):
    """Pre-norm transformer block: x + attention(LN x), then x + FFN(LN x); padding rows zeroed."""

    def __init__(self, attention: CausalSelfAttention, hidden: int, ffn_mult: int, dropout: float):
        super().__init__()
        self.attn = attention
        self.ln1, self.ln2 = nn.LayerNorm(hidden), nn.LayerNorm(hidden)
        self.ffn = nn.Sequential(nn.Linear(hidden, ffn_mult * hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(ffn_mult * hidden, hidden))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor, mask: torch.Tensor,
                extra: IntervalTerms | None = None) -> torch.Tensor:
        x = x + self.drop(self.attn(self.ln1(x), allowed, extra))
        x = x + self.drop(self.ffn(self.ln2(x)))
        return x * mask.unsqueeze(-1)
