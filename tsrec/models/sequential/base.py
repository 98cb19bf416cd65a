"""The base of every sequence recommender: left-padded windows in, one hidden vector per position out.

``encode`` maps left-padded windows of users' histories to one hidden vector per position, causally
(position i sees events 0..i only), and ``output_weights`` turns hidden vectors into item scores, so the
trainer (``tsrec.training``) learns every position of a sequence at once and ``score`` reads the last one.
Padding (item 0) never changes a real position's output.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tsrec.models.base import Scorer
from tsrec.queries import QueryBatch

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


class SequentialRecommender(nn.Module, Scorer):
    """Base class: scores all items from the last ``max_len`` events of each history (and the request time)."""

    name = "sequential"
    default_loss = "ce"  # the loss tsrec.training uses unless told otherwise
    fit_epochs = 30  # epochs ``fit`` trains for, having no validation data for early stopping

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
                x = SeqInput.from_queries(batch[rows], self.max_len, device).trim()
                scores[torch.from_numpy(rows)] = self.logits(self.encode(x)[:, -1]).float().cpu()
        if was_training:
            self.train()
        scores[:, 0] = float("-inf")
        return scores
