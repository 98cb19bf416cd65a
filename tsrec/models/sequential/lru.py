"""LRURec (Yue et al., "Linear Recurrent Units for Sequential Recommendation", WSDM 2024).

Each block runs a diagonal complex linear recurrence over the sequence, h_t = lambda * h_{t-1} + gamma * B u_t
with lambda = exp(-exp(nu_log) + i exp(theta_log)) and gamma = exp(gamma_log) (Orvieto et al.'s exponential
parameterisation, which keeps |lambda| < 1), reads it out as y_t = Re(C h_t), and adds a position-wise
feed-forward; both with residuals and post-LayerNorm. The recurrence is linear, so all positions are computed
at once by a scan in log2(L) steps instead of L sequential ones. Complex numbers are held as (real,
imaginary) pairs of real tensors, so the model runs under any dtype, device and autocast.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from tsrec.models.sequential.base import SeqInput, SequentialRecommender, _config

__all__ = ["LRURec", "LRULayer", "lru_scan", "lru_loop"]

Pair = tuple[torch.Tensor, torch.Tensor]  # real and imaginary parts


def _power(nu: torch.Tensor, theta: torch.Tensor, k: int) -> Pair:
    """lambda ** k for lambda = exp(-nu + i theta), from its polar form (exact for large k)."""
    mag = torch.exp(-k * nu)
    return mag * torch.cos(k * theta), mag * torch.sin(k * theta)


def lru_scan(b_re: torch.Tensor, b_im: torch.Tensor, nu: torch.Tensor, theta: torch.Tensor) -> Pair:
    """h_t = lambda * h_{t-1} + b_t (h_{-1} = 0) for inputs [B, L, N] and per-channel nu, theta [N].

    A doubling scan: after the step with shift k, h_t sums lambda^(t-s) b_s over the last 2k inputs."""
    h_re, h_im = b_re, b_im
    k = 1
    while k < b_re.shape[1]:
        p_re, p_im = _power(nu, theta, k)
        s_re, s_im = (F.pad(h[:, :-k], (0, 0, k, 0)) for h in (h_re, h_im))  # h_{t-k}, zero before the start
        h_re, h_im = h_re + p_re * s_re - p_im * s_im, h_im + p_re * s_im + p_im * s_re
        k *= 2
    return h_re, h_im


def lru_loop(b_re: torch.Tensor, b_im: torch.Tensor, nu: torch.Tensor, theta: torch.Tensor) -> Pair:
    """The same recurrence as ``lru_scan``, one step at a time (the reference the scan is tested against)."""
    l_re, l_im = _power(nu, theta, 1)
    h_re, h_im = torch.zeros_like(b_re[:, 0]), torch.zeros_like(b_im[:, 0])
    out_re, out_im = [], []
    for t in range(b_re.shape[1]):
        h_re, h_im = l_re * h_re - l_im * h_im + b_re[:, t], l_re * h_im + l_im * h_re + b_im[:, t]
        out_re.append(h_re)
        out_im.append(h_im)
    return torch.stack(out_re, 1), torch.stack(out_im, 1)


class LRULayer(nn.Module):
    """One linear recurrent unit with a residual and post-LayerNorm: LN(u + dropout(Re(C h))).

    ``state_mult * hidden`` complex channels; |lambda| starts uniform on the ring [r_min, r_max] (by area), the
    phase uniform in [0, 2 pi), and gamma = sqrt(1 - |lambda|^2) so that the state's scale does not grow."""

    def __init__(self, hidden: int, state_mult: int = 2, dropout: float = 0.2, r_min: float = 0.8,
                 r_max: float = 0.99):
        super().__init__()
        n = state_mult * hidden
        radius_sq = torch.rand(n) * (r_max ** 2 - r_min ** 2) + r_min ** 2
        nu = -0.5 * torch.log(radius_sq)
        theta = 2 * math.pi * torch.rand(n).clamp_min(1e-4)
        gamma = torch.sqrt(1 - radius_sq)
        self.log_params = nn.Parameter(torch.stack([nu.log(), theta.log(), gamma.log()]))  # [3, N]
        self.in_proj = nn.Linear(hidden, 2 * n)  # B u: real and imaginary parts
        self.out_proj = nn.Linear(2 * n, hidden)  # Re(C h) = C_re h_re - C_im h_im, one real map of (h_re, h_im)
        self.drop = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(hidden)

    def forward(self, u: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        nu, theta, gamma = torch.exp(self.log_params)
        b = self.in_proj(u) * mask.unsqueeze(-1)  # padding feeds nothing into the state
        b_re, b_im = b.chunk(2, dim=-1)
        h_re, h_im = lru_scan(b_re * gamma, b_im * gamma, nu, theta)
        return self.ln(u + self.drop(self.out_proj(torch.cat([h_re, h_im], -1))))


class LRUBlock(nn.Module):
    """An LRU layer, then a position-wise feed-forward (GELU) with a residual and post-LayerNorm."""

    def __init__(self, hidden: int, ffn_mult: int, dropout: float, lru_dropout: float):
        super().__init__()
        self.lru = LRULayer(hidden, dropout=lru_dropout)
        self.ffn = nn.Sequential(nn.Linear(hidden, ffn_mult * hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(ffn_mult * hidden, hidden))
        self.drop = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(hidden)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.lru(x, mask)
        return self.ln(x + self.drop(self.ffn(x)))


class LRURec(SequentialRecommender):
    """LRURec: item embeddings (dropout, LayerNorm; no position embeddings, the recurrence knows the order),
    stacked LRU blocks, scores = h @ E.T + a per-item bias (embeddings shared with the output).

    ID-only: times are ignored. Defaults follow the authors' MovieLens settings (hidden 64, 2 blocks, dropout
    0.2 on embeddings, feed-forward and the LRU read-out, up to 200 events); they train it with AdamW at lr 1e-3
    and weight decay 1e-2 (pass those to ``tsrec.training.train``)."""

    name = "LRURec"

    def __init__(self, n_items: int, max_len: int = 200, hidden: int = 64, n_blocks: int = 2, dropout: float = 0.2,
                 lru_dropout: float = 0.2, ffn_mult: int = 4):
        super().__init__(_config(locals()))
        self.item_emb = nn.Embedding(self.n_items + 1, hidden, padding_idx=0)
        self.drop = nn.Dropout(dropout)
        self.ln = nn.LayerNorm(hidden)
        self.blocks = nn.ModuleList(LRUBlock(hidden, ffn_mult, dropout, lru_dropout) for _ in range(n_blocks))
        self.bias = nn.Parameter(torch.zeros(self.n_items + 1))
        self.init_weights()

    def init_weights(self, std: float = 0.02) -> None:
        """Truncated normal(0, std) in [-2 std, 2 std] for linear and embedding weights, zero biases, as the
        authors; the recurrence keeps its ring initialisation."""
        super().init_weights(std)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.trunc_normal_(m.weight, std=std, a=-2 * std, b=2 * std)
        self.item_emb.weight.data[0] = 0.0

    def output_weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.item_emb.weight, self.bias

    def encode(self, x: SeqInput) -> torch.Tensor:
        mask = x.mask
        h = self.ln(self.drop(self.item_emb(x.items)))
        for block in self.blocks:
            h = block(h, mask)
        return h * mask.unsqueeze(-1)
