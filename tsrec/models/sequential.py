"""Sequence recommenders: GRU4Rec, LSTM4Rec, NextItNet, SASRec, TiSASRec and the book's TimeSensitiveModel.

Each is an ``nn.Module`` and a ``Recommender``. ``encode`` maps left-padded windows of users' histories
to one hidden vector per position, causally (position i sees events 0..i only), and ``output_weights``
turns hidden vectors into item scores, so ``tsrec.train`` trains every position of a sequence at once and
``score`` reads the last position. Padding (item 0) never changes a real position's output.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from tsrec.models.base import QueryBatch, Recommender
from tsrec.models.time_encoding import DAY, EPOCH_WEEKDAY, HOUR, make_time_encoding

MODELS: dict[str, type["SequentialRecommender"]] = {}  # class name -> class, for load_checkpoint
SCORE_CHUNK = 256  # queries scored per forward pass


def _config(args: dict) -> dict:
    """Constructor arguments (from ``locals()`` at the top of ``__init__``), kept for checkpoints."""
    return {k: v for k, v in args.items() if k not in ("self", "__class__")}


@dataclass
class SeqInput:
    """Left-padded windows: ``users`` [B]; ``items``, ``times`` and ``next_times`` [B, L] (item 0 = padding).

    ``next_times[:, i]`` is the request time of the prediction made at position i: the next event's
    time during training, the query's ``now`` at the last position when scoring.
    """

    users: torch.Tensor
    items: torch.Tensor
    times: torch.Tensor
    next_times: torch.Tensor

    @property
    def mask(self) -> torch.Tensor:
        return self.items > 0

    def trim(self) -> SeqInput:
        """Drop the leading columns that are padding in every row (outputs of real positions are unchanged)."""
        start = min(self.items.shape[1] - int(self.mask.sum(1).max()), self.items.shape[1] - 1)
        return SeqInput(self.users, *(t[:, start:] for t in (self.items, self.times, self.next_times)))

    def to(self, device: torch.device | str) -> SeqInput:
        return SeqInput(*(t.to(device) for t in (self.users, self.items, self.times, self.next_times)))

    @classmethod
    def from_queries(cls, batch: QueryBatch, max_len: int, device: torch.device | str = "cpu") -> SeqInput:
        items, times = batch.padded(max_len, device)
        next_times = torch.empty_like(times)
        next_times[:, :-1] = times[:, 1:] * (items[:, :-1] > 0)
        next_times[:, -1] = torch.as_tensor(np.array(batch.now, dtype=np.int64), device=device)
        users = torch.as_tensor(np.array(batch.users, dtype=np.int64), device=device)
        return cls(users, items, times, next_times)


def _take(batch: QueryBatch, rows: np.ndarray) -> QueryBatch:
    """The queries at positions ``rows`` (QueryBatch slicing takes slices only)."""
    return QueryBatch(np.asarray(batch.users)[rows], [batch.items[i] for i in rows], [batch.times[i] for i in rows],
                      np.asarray(batch.now)[rows])


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


class SequentialRecommender(nn.Module, Recommender):
    """Base class: scores all items from the last ``max_len`` events of each history (and the request time)."""

    name = "sequential"
    default_loss = "ce"  # the loss tsrec.train uses unless told otherwise
    fit_epochs = 30  # epochs ``fit`` trains for, having no validation data for early stopping

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        MODELS[cls.__name__] = cls

    def __init__(self, config: dict):
        nn.Module.__init__(self)
        n_items, max_len = config["n_items"], config["max_len"]
        if n_items < 1 or max_len < 1:
            raise ValueError(f"n_items and max_len must be >= 1, got n_items={n_items}, max_len={max_len}")
        self.n_items, self.max_len = int(n_items), int(max_len)
        self.config = config  # constructor arguments, saved in checkpoints
        self.train_config: dict = {}
        self.checkpoint_extra: dict = {}

    def encode(self, x: SeqInput) -> torch.Tensor:
        """Hidden state [B, L, D] of every position, each from that position's prefix only."""
        raise NotImplementedError

    def output_weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Item output matrix [n_items + 1, D] and optional bias: score = h @ W.T + b (shared embedding)."""
        return self.item_emb.weight, None

    def logits(self, h: torch.Tensor) -> torch.Tensor:
        """Scores of every item for hidden states [N, D] -> [N, n_items + 1]."""
        w, b = self.output_weights()
        s = h @ w.T
        return s if b is None else s + b

    def init_weights(self, std: float = 0.02) -> None:
        """Normal(0, std) linear, convolution and embedding weights, zero biases and padding rows (as RecBole)."""
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding, nn.Conv1d)):
                nn.init.normal_(m.weight, std=std)
                if getattr(m, "bias", None) is not None:
                    nn.init.zeros_(m.bias)
                if getattr(m, "padding_idx", None) is not None:
                    m.weight.data[m.padding_idx] = 0.0

    def score(self, batch: QueryBatch) -> torch.Tensor:
        """Scores [B, n_items + 1] (column 0 = -inf) from each query's last ``max_len`` events and ``now``."""
        device = next(self.parameters()).device
        was_training = self.training
        if was_training:  # eval() walks every submodule; skip it on the serving path where it is a no-op
            self.eval()
        scores = torch.empty(len(batch), self.n_items + 1)
        order = np.argsort([len(h) for h in batch.items], kind="stable")  # similar lengths share a chunk
        with torch.no_grad():
            for start in range(0, len(batch), SCORE_CHUNK):
                rows = order[start:start + SCORE_CHUNK]
                x = SeqInput.from_queries(_take(batch, rows), self.max_len, device).trim()
                scores[torch.from_numpy(rows)] = self.logits(self.encode(x)[:, -1]).float().cpu()
        if was_training:
            self.train()
        scores[:, 0] = float("-inf")
        return scores

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int, **train_kwargs) -> SequentialRecommender:
        """Train on ``train`` for ``fit_epochs`` epochs (no early stopping); kwargs go to ``tsrec.train.train``."""
        from tsrec.train import train as train_model

        if n_items != self.n_items:
            raise ValueError(f"{type(self).__name__} was built for n_items={self.n_items}, fit got n_items={n_items}")
        train_model(self, train, **{"epochs": self.fit_epochs, "progress": False, **train_kwargs})
        return self


# ----------------------------------------------------------------------------- recurrent
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


# ----------------------------------------------------------------------------- convolutional
class _ResidualConv(nn.Module):
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


class NextItNet(SequentialRecommender):
    """NextItNet (Yuan et al. 2019): a stack of dilated causal residual 1-D convolutions (a TCN)."""

    name = "NextItNet"

    def __init__(self, n_items: int, max_len: int = 200, hidden: int = 64, kernel: int = 3,
                 dilations: tuple[int, ...] = (1, 4, 16, 64), dropout: float = 0.2):
        super().__init__(_config(locals()))
        self.item_emb = nn.Embedding(n_items + 1, hidden, padding_idx=0)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(_ResidualConv(hidden, kernel, d, dropout) for d in dilations)
        self.ln = nn.LayerNorm(hidden)
        self.init_weights()

    def encode(self, x: SeqInput) -> torch.Tensor:
        mask = x.mask
        h = self.drop(self.item_emb(x.items)) * mask.unsqueeze(-1)
        for block in self.blocks:
            h = block(h, mask)
        return self.ln(h)


# ----------------------------------------------------------------------------- self-attention
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


class _Block(nn.Module):
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
            _Block(self.attention_class(hidden, heads, config["attn_dropout"]), hidden, config["ffn_mult"], dropout)
            for _ in range(config["n_blocks"]))
        self.ln = nn.LayerNorm(hidden)


class SASRec(_SelfAttentive):
    """SASRec (Kang & McAuley 2018): causal transformer over item + learned position embeddings.

    Item embeddings are shared with the output layer; ``time_encoding`` (None, "calendar", "time2vec",
    "time2vec_now", "log_interval"; see ``tsrec.models.time_encoding``) is added to the input. With the
    defaults and ``tsrec.train``'s on ML-100K leave-one-out (seed 0): validation NDCG@10 0.113 (best of
    63 epochs, 0.0756 passed at epoch 4), test NDCG@10 0.094 / HR@10 0.182.
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


# ----------------------------------------------------------------------------- the book's model
def hour_of_week(times: torch.Tensor) -> torch.Tensor:
    """0..167: day of week (Monday = 0) * 24 + hour of day, UTC."""
    day = torch.div(times, DAY, rounding_mode="floor")
    return ((day + EPOCH_WEEKDAY) % 7) * 24 + torch.div(times % DAY, HOUR, rounding_mode="floor")


class TimeSensitiveModel(SequentialRecommender):
    """The book's ``TimeSensitiveModel`` (the original's e-commerce project), made to work as a recommender.

    As in the text: user + item + time-bucket embeddings are summed, run through a one-layer LSTM and a
    linear layer, initialised uniform(-0.5, 0.5), trained with BCE-with-logits. Changes, because the
    text's code cannot run: the linear layer reads the LSTM state concatenated with the user embedding
    projected to ``hidden_dim`` (which makes its ``hidden_dim * 2`` input meaningful); it outputs one logit
    per item (``output_dim = n_items + 1``) instead of one, and BCE contrasts the next item with sampled
    negatives (the text's labels are never defined); the time bucket is the event's hour of the week (the
    text extracts day of week and hour of day); the undefined ``prepare_data`` helpers are ``tsrec.train``,
    which trains every position of each sequence in mini-batches rather than one full batch per epoch.
    """

    name = "TimeSensitiveModel"
    default_loss = "bce"
    N_TIME_BUCKETS = 7 * 24

    def __init__(self, n_items: int, n_users: int, max_len: int = 200, embedding_dim: int = 64,
                 hidden_dim: int = 128, init_range: float = 0.5):
        super().__init__(_config(locals()))
        self.n_users = int(n_users)
        self.user_embedding = nn.Embedding(n_users + 1, embedding_dim)
        self.item_embedding = nn.Embedding(n_items + 1, embedding_dim, padding_idx=0)
        self.time_embedding = nn.Embedding(self.N_TIME_BUCKETS, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, num_layers=1, batch_first=True)
        self.user_to_hidden = nn.Linear(embedding_dim, hidden_dim)
        self.fc = nn.Linear(hidden_dim * 2, n_items + 1)
        for emb in (self.user_embedding, self.item_embedding, self.time_embedding, self.fc):
            emb.weight.data.uniform_(-init_range, init_range)
        self.item_embedding.weight.data[0] = 0.0
        self.fc.bias.data.zero_()

    def encode(self, x: SeqInput) -> torch.Tensor:
        if len(x.users) and int(x.users.max()) > self.n_users:
            raise ValueError(f"user id {int(x.users.max())} > n_users={self.n_users} this model was built for")
        mask = x.mask
        user = self.user_embedding(x.users)
        e = user.unsqueeze(1) + self.item_embedding(x.items) + self.time_embedding(hour_of_week(x.times))
        h = run_rnn(self.lstm, e * mask.unsqueeze(-1), mask)
        u = self.user_to_hidden(user).unsqueeze(1).expand(-1, h.shape[1], -1)
        return torch.cat([h, u], dim=-1)

    def output_weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.fc.weight, self.fc.bias

    def fit(self, train: pd.DataFrame, n_users: int, n_items: int, **train_kwargs) -> TimeSensitiveModel:
        if n_users > self.n_users:
            raise ValueError(f"TimeSensitiveModel was built for n_users={self.n_users}, fit got n_users={n_users}")
        return super().fit(train, n_users, n_items, **train_kwargs)
