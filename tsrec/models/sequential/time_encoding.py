"""Pluggable time encodings added to a sequence model's input: one vector per event, [B, L, dim].

Every encoding reads the same three tensors: ``times`` (Unix seconds of each event, [B, L]),
``next_times`` (the request time of the prediction made at each position: the next event's time,
and the query's ``now`` at the last position) and ``mask`` (True at real events, False at padding).
Padding positions always encode to zero, so extra left padding changes nothing.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from tsrec.times import DAY, EPOCH_WEEKDAY, HOUR, YEAR

LOG1P_YEAR = math.log1p(YEAR)  # Time2Vec's unit of log-time: log(1 + one year in seconds)


def previous_gaps(times: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Seconds since the same user's previous event ([B, L], float); 0 for a sequence's first event."""
    gaps = torch.zeros_like(times)
    gaps[:, 1:] = times[:, 1:] - times[:, :-1]
    has_prev = torch.zeros_like(mask)
    has_prev[:, 1:] = mask[:, 1:] & mask[:, :-1]
    return (gaps * has_prev).clamp(min=0).float()


def gaps_to_request(times: torch.Tensor, next_times: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Seconds from each event to the request its position predicts for (``now - t``), 0 at padding."""
    return ((next_times - times) * mask).clamp(min=0).float()


class CalendarEncoding(nn.Module):
    """Hour-of-day plus day-of-week embeddings of each event (UTC), for daily and weekly habits."""

    def __init__(self, dim: int):
        super().__init__()
        self.hour = nn.Embedding(24, dim)
        self.weekday = nn.Embedding(7, dim)

    def forward(self, times: torch.Tensor, next_times: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        hour = torch.div(times % DAY, HOUR, rounding_mode="floor")
        weekday = (torch.div(times, DAY, rounding_mode="floor") + EPOCH_WEEKDAY) % 7
        return (self.hour(hour) + self.weekday(weekday)) * mask.unsqueeze(-1)


class Time2Vec(nn.Module):
    """Time2Vec (Kazemi et al. 2019) of a gap on a log scale, projected to ``dim``.

    The gap enters as tau = log(1 + seconds) / log(1 + one year): about 0.24 for a minute, 0.66 for a day, 1 for a
    year, so the linear term omega_0 * tau stays on the scale of the k - 1 sine terms sin(omega_i * tau + phi_i)
    (their frequencies start at N(0, 1) * log(1 + one year), i.e. N(0, 1) per unit of log-seconds). The k
    features are divided by sqrt(k) before the projection, so that at initialisation the vector added to an
    event is about as long as the item embedding it is added to, not several times longer (chapter 4.2a
    measures this). ``of="previous"``: the gap since the previous event; ``of="now"``: the gap from the event to
    the request time of its position (``now - t``; in causal training the next event's time).
    """

    def __init__(self, dim: int, k: int = 16, of: str = "previous"):
        super().__init__()
        if of not in ("previous", "now"):
            raise ValueError(f"Time2Vec of must be 'previous' or 'now', got {of!r}")
        if k < 2:
            raise ValueError(f"Time2Vec needs k >= 2 (one linear and at least one periodic term), got {k!r}")
        self.of, self.k = of, k
        freq = torch.randn(k)
        freq[1:] *= LOG1P_YEAR  # periodic terms: N(0, 1) cycles per unit of log-seconds
        self.freq = nn.Parameter(freq)
        self.phase = nn.Parameter(torch.randn(k))
        self.proj = nn.Linear(k, dim)

    def features(self, gap: torch.Tensor) -> torch.Tensor:
        """The k Time2Vec features [..., k] of gaps in seconds: one linear term, then k - 1 sines."""
        x = (torch.log1p(gap) / LOG1P_YEAR).unsqueeze(-1) * self.freq + self.phase
        return torch.cat([x[..., :1], torch.sin(x[..., 1:])], dim=-1)

    def forward(self, times: torch.Tensor, next_times: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        gap = previous_gaps(times, mask) if self.of == "previous" else gaps_to_request(times, next_times, mask)
        return self.proj(self.features(gap) / math.sqrt(self.k)) * mask.unsqueeze(-1)


class LogIntervalEncoding(nn.Module):
    """Embedding of the gap since the previous event in log2 buckets: 0 s, 1 s, 2-3 s, 4-7 s, ..."""

    def __init__(self, dim: int, n_buckets: int = 32):
        super().__init__()
        self.n_buckets = n_buckets
        self.emb = nn.Embedding(n_buckets, dim)

    def forward(self, times: torch.Tensor, next_times: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        gap = previous_gaps(times, mask)
        bucket = torch.floor(torch.log2(gap + 1.0)).long().clamp(0, self.n_buckets - 1)
        return self.emb(bucket) * mask.unsqueeze(-1)


TIME_ENCODINGS = {
    "calendar": CalendarEncoding,
    "time2vec": lambda dim: Time2Vec(dim, of="previous"),
    "time2vec_now": lambda dim: Time2Vec(dim, of="now"),
    "log_interval": LogIntervalEncoding,
}


def make_time_encoding(name: str | None, dim: int) -> nn.Module | None:
    """The encoding called ``name`` (see TIME_ENCODINGS) for ``dim``-dimensional inputs; None for None."""
    if name is None:
        return None
    if name not in TIME_ENCODINGS:
        raise ValueError(f"unknown time_encoding {name!r}; choose None or one of {sorted(TIME_ENCODINGS)}")
    return TIME_ENCODINGS[name](dim)
