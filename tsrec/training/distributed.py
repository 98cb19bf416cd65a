"""Data-parallel training with PyTorch DistributedDataParallel around the package's one loop.

Launch with ``torchrun`` (it starts the processes and sets RANK / WORLD_SIZE / MASTER_ADDR), e.g.
``torchrun --nproc_per_node 2 -m tsrec.training.distributed --epochs 10 --out run.json`` (gloo on CPU, NCCL on
CUDA). Each process trains on its own shard of the users; DDP averages the gradients after every step, so all
processes hold the same weights, validate alike and stop at the same epoch. Without torchrun it runs alone.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from tsrec.config import device as pick_device
from tsrec.config import seed_everything, set_threads
from tsrec.evaluate import evaluate, validator
from tsrec.metrics import per_user_rank_metrics
from tsrec.models.sequential import SASRec
from tsrec.models.sequential.base import SeqInput
from tsrec.splits import Split, leave_one_out
from tsrec.training.loop import TrainConfig, TrainResult, run
from tsrec.training.recipes import recipe_for

__all__ = ["EncodeModule", "ddp_train", "shard_users", "world"]


def world() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; (0, 1) when started on its own."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def shard_users(frame: pd.DataFrame, rank: int, world_size: int) -> pd.DataFrame:
    """The rows of every ``world_size``-th user (by decreasing event count, so shards hold similar work)."""
    sizes = frame["user"].value_counts(sort=False)
    order = sizes.index[np.lexsort((sizes.index.to_numpy(), -sizes.to_numpy()))]
    mine = set(order[rank::world_size].tolist())
    return frame[frame["user"].isin(mine)]


class EncodeModule(nn.Module):
    """A sequence model's ``encode`` as a module's ``forward``, so that DDP can wrap the pass the loss uses."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: SeqInput) -> torch.Tensor:
        return type(self.model).encode(self.model, x)


def ddp_train(model: nn.Module, split: Split, config: TrainConfig | None = None, **overrides) -> TrainResult:
    """Train a sequence model on ``split`` with ``tsrec.training.loop.run``, data-parallel over torchrun's
    processes: users sharded, ``batch_size`` divided by the world size (the global batch is unchanged), every
    process taking the same number of steps per epoch (the smallest shard's), gradients averaged by DDP."""
    rank, size = world()
    cfg = replace(config or TrainConfig(), **overrides)
    recipe = recipe_for(model)
    cfg = cfg.resolved(recipe.defaults(model, split.train, cfg))
    if size == 1:
        cfg.check()
        batches, batch_loss = recipe.build(model, split.train, cfg)
        return run(model, batches, batch_loss, cfg, recipe_validator(split, cfg), columns=recipe.columns)
    cfg = replace(cfg, batch_size=max(1, cfg.batch_size // size), progress=cfg.progress and rank == 0)
    cfg.check()
    seed_everything(cfg.seed)  # the same initial weights everywhere (DDP also broadcasts rank 0's)
    batches, batch_loss = recipe.build(model, shard_users(split.train, rank, size), cfg)
    steps = torch.tensor([len(batches())])
    dist.all_reduce(steps, op=dist.ReduceOp.MIN)  # equal step counts, or the gradient all-reduces would hang
    model.to(pick_device(cfg.device))  # DDP wraps the model where it will train
    wrapped = DDP(EncodeModule(model), forward_sync_buffers=False)
    object.__setattr__(model, "encode", wrapped)  # the recipe's loss now runs its forward through DDP
    try:
        return run(model, lambda: itertools.islice(batches(), int(steps)), batch_loss, cfg,
                   recipe_validator(split, cfg), columns=recipe.columns)
    finally:
        del model.__dict__["encode"]


def recipe_validator(split: Split, cfg: TrainConfig) -> Callable[[nn.Module], dict]:
    """Full-ranking metrics on the split's validation stage (the same on every process)."""
    return validator(split, target=cfg.eval_target, ks=(5, 10, 20))


def main(argv: list[str] | None = None) -> dict:
    """Train SASRec on ML-100K (leave-one-out), data-parallel under torchrun; rank 0 writes test metrics."""
    from tsrec import data

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--patience", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--max-len", type=int, default=50)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--users", type=int, default=0, help="keep the first N users (0: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    rank, size = world()
    set_threads(int(os.environ.get("TSREC_THREADS", 1)))
    cuda = torch.cuda.is_available()
    dev = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu"  # one GPU per process
    if cuda:
        torch.cuda.set_device(dev)
    if size > 1:
        dist.init_process_group("nccl" if cuda else "gloo")
    events = data.load("ml-100k").interactions
    if args.users:
        events = events[events["user"].isin(np.sort(events["user"].unique())[: args.users])]
    split = leave_one_out(events)
    seed_everything(args.seed)
    model = SASRec(split.n_items, max_len=args.max_len, hidden=args.hidden)
    t0 = time.perf_counter()
    res = ddp_train(model, split, epochs=args.epochs, patience=args.patience, batch_size=args.batch_size,
                    seed=args.seed, progress=False, device=dev)
    out = {"world_size": size, "seed": args.seed, "best_epoch": res.best_epoch, "seconds": time.perf_counter() - t0,
           "seconds_per_epoch": res.seconds_per_epoch, "loss": res.history["loss"].tolist(),
           "valid_ndcg10": [float(v) for v in res.history.get("NDCG@10", pd.Series(dtype=float)).tolist()]}
    if rank == 0:
        metrics, per_user = evaluate(model, split, "test", ks=(10,), per_user=True)
        out["test_ndcg10"] = float(metrics["NDCG@10"])
        out["test_per_user_ndcg10"] = per_user_rank_metrics(per_user["rank"].to_numpy(), 10)["NDCG@10"].tolist()
        if args.out is not None:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(out))
    if size > 1:
        dist.destroy_process_group()
    return out


if __name__ == "__main__":
    main()
