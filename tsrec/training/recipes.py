"""How each torch model family is fed to the one training loop: its batches, its loss and its defaults.

Sequence models train every position of a window of ``max_len + 1`` events at once (inputs 0..n-2, targets
1..n-1), with windows covering each user's whole history (RecBole instead makes one padded sample per prefix,
about 25 times as many samples, see benchmarks/speed_results.md); batches group windows of similar length.
The generative model does the same over item tokens. BPR-MF draws (user, seen item, unseen item) triples;
the rating models minimise J.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from tsrec.data import require_columns
from tsrec.models.generative import GenerativeRecommender
from tsrec.models.mf import BPRMF
from tsrec.models.rating import RatingModel
from tsrec.models.sequential import DEFAULT_NEGATIVES, LOSSES, SeqInput, SequentialRecommender, sequence_loss
from tsrec.prep import user_sequences
from tsrec.queries import left_pad
from tsrec.training.loop import TrainConfig

__all__ = ["Recipe", "recipe_for", "SequenceDataset", "LengthBuckets", "generative_windows"]

Batches = Callable[[], Iterable[Any]]
BatchLoss = Callable[[Any], tuple[torch.Tensor, float]]
COMMON = {"eval_every": 1, "min_delta": 0.0, "metric": "NDCG@10", "mode": "max"}


@dataclass(frozen=True)
class Recipe:
    """One model family: its default settings, how to build an epoch's batches and a batch's loss, and
    which validation columns its history keeps."""

    defaults: Callable[[nn.Module, pd.DataFrame, TrainConfig], dict]
    build: Callable[[nn.Module, pd.DataFrame, TrainConfig], tuple[Batches, BatchLoss]]
    columns: tuple[str, ...] = ("NDCG@10", "HR@10")


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


# ----------------------------------------------------------------------------- sequence models
class SequenceDataset(Dataset):
    """Left-padded training windows (items, times, next times) and next-item targets of users with >= 2 events.

    ``windows="last"`` keeps each user's last ``max_len + 1`` events. ``"all"`` covers the whole history, as
    RecBole's one-sample-per-prefix does: windows of ``max_len + 1`` events every ``max_len // 2`` events back
    from the last, each training only the targets the next window does not (so every event after a user's
    first is a target once, with at least ``max_len // 2`` events of context).
    """

    def __init__(self, interactions: pd.DataFrame, max_len: int, windows: str = "all"):
        require_columns(interactions, ("user", "item", "timestamp"), what="training interactions")
        if windows not in ("last", "all"):
            raise ValueError(f"windows must be 'last' or 'all', got {windows!r}")
        seqs = user_sequences(interactions)
        seqs = seqs[seqs["items"].map(len) >= 2]
        users, items, times, first_k = [], [], [], []
        stride = max(1, max_len // 2) if windows == "all" else None
        for user, it, tm in zip(seqs.index, seqs["items"], seqs["timestamps"]):
            end = len(it)
            while True:
                start = max(0, end - max_len - 1)
                users.append(user)
                items.append(it[start:end])
                times.append(tm[start:end])
                # the window's events are at offsets 0..n-1 and its targets at 1..n-1; but for the earliest
                # window, train only the last `stride` (the earlier window holds the others, with more context)
                first_k.append(1 if start == 0 or stride is None else end - start - stride)
                if stride is None or start == 0:
                    break
                end -= stride
        width = max_len + 1
        items_p, times_p = left_pad(items, width), left_pad(times, width)
        real = items_p[:, :-1] > 0
        lengths = np.array([len(x) for x in items])
        col = np.arange(width - 1)[None, :]
        trained = real & (col >= (width - lengths + np.array(first_k))[:, None] - 1)
        self.users = torch.from_numpy(np.array(users, dtype=np.int64))
        self.items = torch.from_numpy(items_p[:, :-1])
        self.targets = torch.from_numpy(np.where(trained, items_p[:, 1:], 0))
        self.times = torch.from_numpy(times_p[:, :-1])
        self.next_times = torch.from_numpy(np.where(real, times_p[:, 1:], 0))

    def __len__(self) -> int:
        return len(self.users)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, ...]:
        return self.users[i], self.items[i], self.times[i], self.next_times[i], self.targets[i]


class LengthBuckets(Sampler[list[int]]):
    """Batches of sequences of similar length (a sort on log length plus uniform noise of width
    ``noise``, redrawn each epoch), in random order: little padding, yet batches vary between epochs."""

    def __init__(self, lengths: torch.Tensor, batch_size: int, generator: torch.Generator, noise: float = 0.5):
        self.log_len, self.batch_size, self.generator, self.noise = lengths.float().log(), batch_size, generator, noise

    def __len__(self) -> int:
        return math.ceil(len(self.log_len) / self.batch_size)

    def __iter__(self):
        key = self.log_len + self.noise * torch.rand(len(self.log_len), generator=self.generator)
        batches = torch.argsort(key).split(self.batch_size)
        for i in torch.randperm(len(batches), generator=self.generator).tolist():
            yield batches[i].tolist()


def _sequence_defaults(model: SequentialRecommender, frame: pd.DataFrame, cfg: TrainConfig) -> dict:
    loss = cfg.loss or model.default_loss
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return {**COMMON, "epochs": 200, "batch_size": 32, "lr": 2e-3, "optimizer": "adamw", "grad_clip": 1.0,
            "patience": 20, "loss": loss, "n_negatives": DEFAULT_NEGATIVES[loss], "windows": "all"}


def _sequence_build(model: SequentialRecommender, frame: pd.DataFrame, cfg: TrainConfig) -> tuple[Batches, BatchLoss]:
    dataset = SequenceDataset(frame, model.max_len, cfg.windows)
    if len(dataset) == 0:
        raise ValueError("no user has two or more training events: there is no next item to learn")
    shuffle = torch.Generator().manual_seed(cfg.seed)
    if cfg.bucket_by_length:
        loader = DataLoader(dataset, batch_sampler=LengthBuckets((dataset.items > 0).sum(1), cfg.batch_size, shuffle))
    else:
        loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True, generator=shuffle)
    negatives = torch.Generator().manual_seed(cfg.seed + 1)

    def batch_loss(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, float]:
        users, items, times, next_times, targets = batch
        x = SeqInput(users, items, times, next_times).trim().to(_device(model))
        targets = targets[:, -x.items.shape[1]:].to(x.items.device)
        loss = sequence_loss(model, model.encode(x), targets, cfg.loss, cfg.n_negatives, negatives)
        return loss, int((targets > 0).sum())

    return (lambda: loader), batch_loss


# ----------------------------------------------------------------------------- generative model
def generative_windows(model: GenerativeRecommender, interactions: pd.DataFrame) -> tuple[torch.Tensor, ...]:
    """Left-padded token windows [U, T] of every user's last events, their mask, and item-only next-token
    targets (0 where the next token is not an item)."""
    seqs = user_sequences(interactions)
    seqs = seqs[seqs["items"].map(len) >= 2]
    rows, targets = [], []
    for it, tm in zip(seqs["items"], seqs["timestamps"]):
        it, tm = it[-(model.max_len + 1):], tm[-(model.max_len + 1):]
        toks = model.tokens(it[:-1], tm[:-1], int(tm[-1])) + [int(model.vocab.item_token[it[-1]])]
        rows.append(toks[:-1])
        targets.append([int(model.vocab.token_item[t]) for t in toks[1:]])
    ids, mask = GenerativeRecommender.padded(rows)
    return ids, mask, torch.from_numpy(left_pad(targets))


def _generative_defaults(model: nn.Module, frame: pd.DataFrame, cfg: TrainConfig) -> dict:
    return {**COMMON, "epochs": 30, "batch_size": 32, "lr": 2e-3, "optimizer": "adamw", "grad_clip": 1.0,
            "patience": 5}


def _generative_build(model: GenerativeRecommender, frame: pd.DataFrame, cfg: TrainConfig
                      ) -> tuple[Batches, BatchLoss]:
    ids, mask, tgt = generative_windows(model, frame)
    order = torch.Generator().manual_seed(cfg.seed)

    def batch_loss(rows: torch.Tensor) -> tuple[torch.Tensor, float]:
        keep = int(mask[rows].sum(1).max())
        b_ids, b_mask, b_tgt = (t[rows][:, -keep:].to(_device(model)) for t in (ids, mask, tgt))
        sel = b_tgt > 0
        logits = model(b_ids, b_mask)
        return F.cross_entropy(logits[sel][:, model.item_tok], b_tgt[sel] - 1), int(sel.sum())

    return (lambda: torch.randperm(len(ids), generator=order).split(cfg.batch_size)), batch_loss


# ----------------------------------------------------------------------------- BPR-MF
def _bpr_defaults(model: nn.Module, frame: pd.DataFrame, cfg: TrainConfig) -> dict:
    return {**COMMON, "epochs": 100, "batch_size": 1024, "lr": 2e-3, "optimizer": "adam", "patience": 10,
            "device": "cpu"}


def _bpr_build(model: BPRMF, frame: pd.DataFrame, cfg: TrainConfig) -> tuple[Batches, BatchLoss]:
    users, items = frame["user"].to_numpy(dtype=np.int64), frame["item"].to_numpy(dtype=np.int64)
    positives = np.unique(users * (model.n_items + 1) + items)  # sorted keys: is (u, j) a positive?
    rng = np.random.default_rng(cfg.seed)

    def negatives(u: np.ndarray, tries: int = 20) -> np.ndarray:
        """Uniform items in 1..n_items, resampled where the user has interacted with them."""
        neg = rng.integers(1, model.n_items + 1, len(u))
        for _ in range(tries):
            keys = u * (model.n_items + 1) + neg
            pos = np.minimum(np.searchsorted(positives, keys), len(positives) - 1)
            hit = positives[pos] == keys
            if not hit.any():
                break
            neg[hit] = rng.integers(1, model.n_items + 1, int(hit.sum()))
        return neg

    def epoch() -> Iterable[tuple[torch.Tensor, ...]]:
        order = rng.permutation(len(users))
        u, i = users[order], items[order]
        j = negatives(u)
        for s in range(0, len(order), cfg.batch_size):
            yield tuple(torch.from_numpy(a[s:s + cfg.batch_size]).to(_device(model)) for a in (u, i, j))

    def batch_loss(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, float]:
        return model.bpr_loss(*batch), len(batch[0])

    return epoch, batch_loss


# ----------------------------------------------------------------------------- rating models
def _rating_defaults(model: nn.Module, frame: pd.DataFrame, cfg: TrainConfig) -> dict:
    return {"epochs": 200, "batch_size": len(frame), "lr": 0.01, "optimizer": "adam", "eval_every": 10,
            "patience": 5, "min_delta": 1e-6, "metric": "RMSE", "mode": "min", "device": "cpu"}


def _rating_build(model: RatingModel, frame: pd.DataFrame, cfg: TrainConfig) -> tuple[Batches, BatchLoss]:
    model.prepare(frame)
    u, i, t, y = model.tensors(frame)
    n, bs = len(y), min(cfg.batch_size, len(y))
    rng = np.random.default_rng(cfg.seed)

    def epoch() -> Iterable[Any]:
        if bs >= n:
            yield slice(None)
            return
        order = torch.from_numpy(rng.permutation(n)).to(u.device)
        for s in range(0, n, bs):
            yield order[s:s + bs]

    def batch_loss(idx: Any) -> tuple[torch.Tensor, float]:
        yb = y[idx]
        return model.loss(u[idx], i[idx], t[idx], yb, len(yb) / n), 1.0

    return epoch, batch_loss


RECIPES: dict[type, Recipe] = {
    SequentialRecommender: Recipe(_sequence_defaults, _sequence_build),
    GenerativeRecommender: Recipe(_generative_defaults, _generative_build),
    BPRMF: Recipe(_bpr_defaults, _bpr_build),
    RatingModel: Recipe(_rating_defaults, _rating_build, columns=("RMSE",)),
}


def recipe_for(model: nn.Module) -> Recipe:
    """The recipe of ``model``'s family (the first base class listed in RECIPES)."""
    for cls, recipe in RECIPES.items():
        if isinstance(model, cls):
            return recipe
    raise ValueError(f"tsrec.training has no recipe for {type(model).__name__}; it trains "
                     f"{', '.join(c.__name__ for c in RECIPES)} and their subclasses")
