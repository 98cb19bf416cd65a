"""A sequence model fine-tuned on the stream (chapter 4.3): micro-batches of the users who just acted, each a
few steps of the training loop's ``optimizer_step`` on the model's own sequence loss."""
from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Hashable, Iterable

import numpy as np
import torch

from tsrec.models.base import score_numpy
from tsrec.models.sequential import DEFAULT_NEGATIVES, SeqInput, SequentialRecommender, sequence_loss
from tsrec.online.events import Event
from tsrec.online.learners import OnlineLearner
from tsrec.queries import left_pad
from tsrec.training import optimizer_step
from tsrec.training.loop import make_optimizer

__all__ = ["OnlineSequenceModel"]


class OnlineSequenceModel(OnlineLearner):
    """A torch sequence model (``tsrec.models.sequential``) fine-tuned on the stream in micro-batches.

    Every ``update_every`` events, the users of those events form a micro-batch: each user's last
    ``max_len + 1`` events become one left-padded window whose targets are only their new events; the
    model takes ``steps`` optimizer steps on ``loss_fn`` (default: ``sequence_loss`` with the model's
    default loss), or on ``loss_fn(model, SeqInput, targets) -> loss`` if given.
    """

    name = "OnlineSeq"

    def __init__(self, model: SequentialRecommender, update_every: int = 256, steps: int = 1, lr: float = 1e-4,
                 loss: str | None = None, n_negatives: int | None = None,
                 loss_fn: Callable[..., torch.Tensor] | None = None, grad_clip: float | None = 1.0,
                 weight_decay: float = 0.0, seed: int = 0) -> None:
        for attr in ("encode", "score", "max_len", "n_items", "parameters"):
            if not hasattr(model, attr):
                raise TypeError(f"model must be a torch sequence model (tsrec.models.sequential); "
                                f"{type(model).__name__} lacks {attr!r}")
        if update_every < 1 or steps < 0:
            raise ValueError(f"update_every must be >= 1 and steps >= 0, got {update_every!r}, {steps!r}")
        super().__init__(int(model.n_items), history_len=int(model.max_len) + 1)
        self.model, self.update_every, self.steps, self.grad_clip = model, int(update_every), int(steps), grad_clip
        self.loss = loss or getattr(model, "default_loss", "ce")
        self.n_negatives = int(DEFAULT_NEGATIVES.get(self.loss, 1) if n_negatives is None else n_negatives)
        self.loss_fn = loss_fn
        self.optimizer = make_optimizer(model.parameters(), "adamw", lr, weight_decay)
        self._gen = torch.Generator().manual_seed(seed)
        self._pending: Counter = Counter()
        self._n_pending = 0
        self.n_updates, self.update_seconds, self.last_loss = 0, 0.0, math.nan
        self.model.eval()
        self.name = f"Online({getattr(model, 'name', type(model).__name__)})"

    def learn_one(self, ev: Event) -> None:
        super().learn_one(ev)
        self._pending[ev.user] += 1
        self._n_pending += 1
        if self._n_pending >= self.update_every:
            self.update()

    def micro_batch(self) -> tuple[SeqInput, torch.Tensor] | None:
        """The pending users' windows as (SeqInput, targets), targets 0 except at new events; None if empty."""
        L = self.model.max_len
        rows = [(u, *self.state.history(u), n) for u, n in self._pending.items()]
        rows = [r for r in rows if len(r[1]) >= 2]
        if not rows:
            return None
        items, times = left_pad([r[1] for r in rows], L + 1), left_pad([r[2] for r in rows], L + 1)
        new = np.zeros((len(rows), L), dtype=bool)
        for b, (_, it, _, n) in enumerate(rows):
            new[b, L - min(n, min(len(it), L + 1) - 1):] = True
        users = np.array([u if isinstance(u, (int, np.integer)) else 0 for u, *_ in rows], dtype=np.int64)
        x = SeqInput(torch.from_numpy(users), torch.from_numpy(items[:, :-1]), torch.from_numpy(times[:, :-1]),
                     torch.from_numpy(times[:, 1:]))
        return x, torch.from_numpy(np.where(new, items[:, 1:], 0))

    def update(self) -> float:
        """Take ``steps`` optimizer steps on the pending micro-batch and clear it; returns the last loss."""
        t0 = time.perf_counter()
        mb = self.micro_batch()
        self._pending.clear()
        self._n_pending = 0
        if mb is None or self.steps == 0:
            return math.nan
        dev = next(self.model.parameters()).device
        x, targets = mb[0].to(dev), mb[1].to(dev)
        self.model.train()
        for _ in range(self.steps):
            if self.loss_fn is not None:
                loss = self.loss_fn(self.model, x, targets)
            else:
                loss = sequence_loss(self.model, self.model.encode(x), targets, self.loss, self.n_negatives, self._gen)
            optimizer_step(self.model, self.optimizer, loss, self.grad_clip)
        self.model.eval()
        self.n_updates += 1
        self.last_loss = float(loss.detach())
        self.update_seconds += time.perf_counter() - t0
        return self.last_loss

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        return score_numpy(self.model, self.state.query(users, now))
