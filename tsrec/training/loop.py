"""The one training loop of the package: epochs of optimiser steps, validation, early stopping, budgets.

Every torch model trains here (sequence models, the generative model, BPR-MF and the rating models; the
online fine-tuning of chapter 4.3 takes single ``optimizer_step`` s). What differs between model families is
only how a log becomes batches and a batch a loss (``tsrec.training.recipes``). Validation reaches the loop
as a callback, ``validate(model) -> metrics``, so the loop knows neither the models nor the evaluator.
"""
from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import pandas as pd
import torch
from torch import nn
from tqdm.auto import tqdm

from tsrec.config import device as pick_device
from tsrec.config import progress_wanted, seed_everything

__all__ = ["LR_SCHEDULES", "OPTIMIZERS", "TrainConfig", "TrainResult", "autocast", "make_optimizer", "optimizer_step",
           "run"]

OPTIMIZERS = ("adamw", "adam", "sgd")
LR_SCHEDULES = (None, "cosine")


@dataclass
class TrainConfig:
    """Training settings. ``None`` means the model family's default (``tsrec.training.recipes``).

    ``loss``, ``n_negatives``, ``windows``, ``bucket_by_length`` and ``eval_target`` concern sequence models
    only: the loss ("ce" full softmax, "bce" with sampled negatives, "sampled_softmax"), its negatives, which
    part of each history trains ("all" of it in overlapping windows, or the "last" window; see
    ``recipes.SequenceDataset``), batching windows of similar length, and the validation target of a temporal
    split ("first" or "all" events). ``amp`` runs the forward passes under bfloat16 autocast on CUDA (no loss
    scaling is needed for bfloat16) and changes nothing on other devices.
    """

    epochs: int | None = None
    batch_size: int | None = None
    lr: float | None = None
    weight_decay: float = 0.0
    optimizer: str | None = None
    grad_clip: float | None = None
    eval_every: int | None = None
    patience: int | None = None  # validation checks without improvement before stopping
    min_delta: float | None = None  # smallest change of the validation metric that counts as an improvement
    metric: str | None = None  # validation metric that picks the best epoch
    mode: str | None = None  # "max" (higher is better) or "min"
    max_seconds: float | None = None  # wall-clock budget of the whole run
    seed: int = 0
    device: str | None = None
    progress: bool = True
    loss: str | None = None
    n_negatives: int | None = None
    windows: str | None = None
    bucket_by_length: bool = True
    eval_target: str = "first"
    amp: bool = False
    lr_schedule: str | None = None  # None: constant; "cosine": cosine decay over ``epochs`` (one step per epoch)

    def resolved(self, defaults: dict[str, Any]) -> TrainConfig:
        """A copy with every ``None`` field that ``defaults`` names filled in from it."""
        known = {f.name for f in fields(self)}
        unknown = set(defaults) - known
        if unknown:
            raise ValueError(f"unknown training setting(s) {sorted(unknown)}")
        return replace(self, **{k: v for k, v in defaults.items() if getattr(self, k) is None})

    def check(self) -> None:
        """ValueError naming the first setting out of range."""
        for name in ("epochs", "batch_size", "eval_every", "patience"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be an int >= 1, got {v!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {self.mode!r}")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise ValueError(f"max_seconds must be positive or None, got {self.max_seconds!r}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if self.eval_target not in ("first", "all"):
            raise ValueError(f"eval_target must be 'first' or 'all', got {self.eval_target!r}")


@dataclass
class TrainResult:
    """What a run did: per-epoch ``history`` (epoch, loss, the validation columns, seconds since the start),
    the best epoch and its validation metrics, and timings (evaluation included in ``seconds_to_best``,
    excluded from ``seconds_per_epoch``)."""

    history: pd.DataFrame
    best_epoch: int
    best_metrics: dict
    seconds_to_best: float
    seconds_per_epoch: float
    seconds: float
    stopped: str
    config: TrainConfig


def make_optimizer(params: Iterable[nn.Parameter], name: str, lr: float, weight_decay: float = 0.0
                   ) -> torch.optim.Optimizer:
    """AdamW, Adam or plain SGD over ``params``."""
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}")


def optimizer_step(model: nn.Module, optimizer: torch.optim.Optimizer, loss: torch.Tensor,
                   grad_clip: float | None = None) -> None:
    """One step: clear gradients, backpropagate ``loss``, clip the gradient norm to ``grad_clip``, update."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()


def autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager:
    """bfloat16 autocast on CUDA when ``amp`` is set; otherwise a context that does nothing."""
    if amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _improved(value: float, best: float, mode: str, min_delta: float) -> bool:
    return value > best + min_delta if mode == "max" else value < best - min_delta


Prepare = Callable[[nn.Module, torch.optim.Optimizer], tuple[torch.optim.Optimizer, Callable[[], Iterable[Any]]]]


def run(model: nn.Module, batches: Callable[[], Iterable[Any]], batch_loss: Callable[[Any], tuple[torch.Tensor, float]],
        cfg: TrainConfig, validate: Callable[[nn.Module], dict] | None = None,
        columns: tuple[str, ...] = (), prepare: Prepare | None = None) -> TrainResult:
    """Train ``model`` for up to ``cfg.epochs`` epochs of ``batches()``, minimising ``batch_loss(batch)``.

    ``batch_loss`` returns the loss and its weight in the epoch's mean. With ``validate``, the model is
    validated every ``cfg.eval_every`` epochs (and at the last one); the best ``cfg.metric`` keeps its
    weights, which are restored at the end, and ``cfg.patience`` checks without improvement stop the run.
    ``columns`` are the validation metrics kept in the history. The run is seeded with ``cfg.seed``.
    ``prepare(model, optimizer) -> (optimizer, batches)`` replaces both before the first epoch: how a library
    that wraps the optimiser and the data (Opacus' DP-SGD, ``tsrec.training.privacy``) joins this loop.
    """
    cfg.check()
    seed_everything(cfg.seed)
    dev = pick_device(cfg.device)
    model.to(dev)
    optimizer = make_optimizer(model.parameters(), cfg.optimizer, cfg.lr, cfg.weight_decay)
    if prepare is not None:
        optimizer, batches = prepare(model, optimizer)
    schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
                if cfg.lr_schedule == "cosine" else None)
    sign = 1.0 if cfg.mode == "max" else -1.0
    rows, best = [], {"value": -sign * math.inf, "epoch": 0, "state": None, "metrics": {}, "seconds": 0.0}
    waited, stopped, train_seconds = 0, "max epochs", 0.0
    start = time.perf_counter()
    bar = tqdm(range(1, cfg.epochs + 1), desc=type(model).__name__, disable=not progress_wanted(cfg.progress))
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        total, count = 0.0, 0.0
        for batch in batches():
            with autocast(dev, cfg.amp):
                loss, weight = batch_loss(batch)
            optimizer_step(model, optimizer, loss, cfg.grad_clip)
            total, count = total + loss.item() * weight, count + weight
        train_seconds += time.perf_counter() - t0
        out_of_time = cfg.max_seconds is not None and time.perf_counter() - start >= cfg.max_seconds
        row = {"epoch": epoch, "loss": total / max(count, 1), **{c: math.nan for c in columns}}
        if schedule is not None:  # the rate this epoch trained with, then the next epoch's
            row["lr"] = optimizer.param_groups[0]["lr"]
            schedule.step()
        if validate is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs or out_of_time):
            metrics = validate(model)
            row.update({c: metrics[c] for c in columns})
            if _improved(metrics[cfg.metric], best["value"], cfg.mode, cfg.min_delta):
                best = {"value": metrics[cfg.metric], "epoch": epoch, "metrics": metrics,
                        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
                        "seconds": time.perf_counter() - start}
                waited = 0
            else:
                waited += 1
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        bar.set_postfix(loss=f"{row['loss']:.4f}", best=best["epoch"])
        if waited >= cfg.patience:
            stopped = "early stop"
            break
        if out_of_time:
            stopped = "time budget"
            break
    bar.close()
    if best["state"] is not None:
        model.load_state_dict(best["state"])
    else:
        best.update(epoch=len(rows), seconds=rows[-1]["seconds"])
    model.eval()
    model.train_config = asdict(cfg)
    return TrainResult(pd.DataFrame(rows), best["epoch"], best["metrics"], best["seconds"],
                       train_seconds / len(rows), time.perf_counter() - start, stopped, cfg)
