"""Private training of a sequence model: DP-SGD with Opacus, per-user losses for a membership attack, FedAvg.

Opacus clips each *sample's* gradient and adds Gaussian noise to their sum, so a sample must be a user: the
data set here holds each user's last window only (``SequenceDataset(windows="last")``), which makes the
guarantee user-level. Opacus also needs every parameter to be used inside a module's ``forward`` with the
batch as the first dimension; SASRec ties its output layer to the item table (a bare ``h @ W.T``) and flattens
positions in its loss, so ``DPSASRec`` (a model of ``tsrec.models.sequential``, re-exported here) unties the
output layer and ``train_private`` keeps the batch dimension; its epochs run in ``tsrec.training.loop.run``,
whose ``prepare`` hook lets Opacus wrap the loop's optimiser and data loader.
"""
from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from tsrec.config import seed_everything
from tsrec.models.sequential import DPSASRec, SeqInput
from tsrec.training import TrainConfig, train
from tsrec.training.loop import run
from tsrec.training.recipes import SequenceDataset

__all__ = ["DPSASRec", "PrivateResult", "fedavg", "train_private", "user_losses", "user_shards"]


def _per_sample_ce(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Each window's mean cross-entropy over its target positions, [B] (the batch dimension kept)."""
    _, items, times, next_times, targets = batch
    x = SeqInput(targets[:, 0], items, times, next_times).trim()
    targets = targets[:, -x.items.shape[1]:]
    logits = model(x.items, x.times, x.next_times)
    ce = F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=0, reduction="none")
    keep = (targets > 0).float()
    return (ce * keep).sum(1) / keep.sum(1).clamp(min=1)


@dataclass
class PrivateResult:
    """What a private run did: its ε at ``delta``, the noise multiplier Opacus chose, steps and epoch losses."""

    epsilon: float
    delta: float
    noise_multiplier: float
    steps: int
    losses: list


def train_private(model: DPSASRec, frame: pd.DataFrame, epochs: int, target_epsilon: float | None, delta: float,
                  batch_size: int = 64, lr: float = 2e-3, max_grad_norm: float = 1.0, seed: int = 0) -> PrivateResult:
    """DP-SGD (Opacus, DP-Adam, Poisson sampling, RDP accountant) on each user's last window of ``frame``,
    through the package's training loop (``prepare`` hands Opacus the loop's optimiser and the data).

    The noise multiplier is chosen so that ``epochs`` reach ``target_epsilon`` at ``delta``; with
    ``target_epsilon=None`` gradients are clipped but no noise is added (ε infinite), the control that
    separates the cost of clipping from the cost of noise.
    """
    from opacus import PrivacyEngine

    seed_everything(seed)
    data = SequenceDataset(frame, model.max_len, windows="last")
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    wrapped: dict = {}

    def prepare(module: nn.Module, optimizer: torch.optim.Optimizer):
        common = {"module": module, "optimizer": optimizer, "data_loader": loader, "max_grad_norm": max_grad_norm}
        if target_epsilon is None:
            gsm, opt, dl = engine.make_private(noise_multiplier=0.0, **common)
        else:
            gsm, opt, dl = engine.make_private_with_epsilon(target_epsilon=target_epsilon, target_delta=delta,
                                                            epochs=epochs, **common)
        wrapped.update(module=gsm, optimizer=opt, steps=0)
        return opt, lambda: (batch for batch in dl if len(batch[0]))  # Poisson sampling can draw an empty batch

    def batch_loss(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, float]:
        loss = _per_sample_ce(wrapped["module"], batch)
        wrapped["steps"] += 1
        return loss.mean(), len(loss)

    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, optimizer="adam", eval_every=1, patience=epochs,
                      min_delta=0.0, metric="loss", mode="min", seed=seed, device="cpu", progress=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Secure RNG turned off")  # reproducible noise, not a CSPRNG
        warnings.filterwarnings("ignore", message="Full backward hook is firing")  # integer ids need no gradient
        engine = PrivacyEngine(accountant="rdp", secure_mode=False)
        result = run(model, lambda: loader, batch_loss, cfg, prepare=prepare)
    eps = float("inf") if target_epsilon is None else float(engine.get_epsilon(delta))
    wrapped["module"]._close()  # remove Opacus' hooks: the model scores and explains like any other afterwards
    model.eval()
    return PrivateResult(eps, delta, float(wrapped["optimizer"].noise_multiplier), wrapped["steps"],
                         result.history["loss"].tolist())


def user_losses(model: nn.Module, frame: pd.DataFrame, batch_size: int = 256) -> pd.Series:
    """Each user's mean next-item cross-entropy over the last window of ``frame`` (the membership attack's
    signal: a model fits the users it trained on better), indexed by user."""
    data = SequenceDataset(frame, model.max_len, windows="last")
    model.eval()
    out = []
    with torch.no_grad():
        for s in range(0, len(data), batch_size):
            batch = tuple(t[s:s + batch_size] for t in (data.users, data.items, data.times, data.next_times,
                                                         data.targets))
            out.append(_per_sample_ce(model, batch))
    return pd.Series(torch.cat(out).numpy(), index=data.users.numpy(), name="loss")


def user_shards(frame: pd.DataFrame, n_shards: int, seed: int = 0) -> list[pd.DataFrame]:
    """The log cut into ``n_shards`` disjoint groups of users (the clients of a federated simulation)."""
    users = np.random.default_rng(seed).permutation(frame["user"].unique())
    return [frame[frame["user"].isin(part)] for part in np.array_split(users, n_shards)]


def fedavg(model: nn.Module, shards: list[pd.DataFrame], rounds: int, config: TrainConfig,
           evaluate: Callable[[nn.Module], float] | None = None) -> pd.DataFrame:
    """Federated averaging (McMahan et al. 2017): each round every client trains a copy of the global model
    on its own users with ``tsrec.training.train`` (``config``), and the server averages the weights by the
    clients' event counts. Raw events never leave a client. Returns one row per round (``evaluate``'s value)."""
    sizes = np.array([len(s) for s in shards], dtype=float)
    weights = sizes / sizes.sum()
    rows = []
    for r in range(1, rounds + 1):
        states = []
        for c, shard in enumerate(shards):
            local = copy.deepcopy(model)
            train(local, shard, config, seed=config.seed + 1000 * r + c, progress=False)
            states.append(local.state_dict())
        avg = {k: sum(w * s[k].float() for w, s in zip(weights, states)).to(v.dtype)
               for k, v in model.state_dict().items()}
        model.load_state_dict(avg)
        model.eval()
        rows.append({"round": r, "value": evaluate(model) if evaluate is not None else np.nan})
    return pd.DataFrame(rows)
