"""Common pitfalls, each measured (appendix C): learning curves of a model on its training, validation and test
stages, timestamp-tie orders, duplicated rows, popularity counted once per batch, and the size of a live state.

Everything reuses the package: splits from ``tsrec.splits``, ranks from ``tsrec.evaluate``, training from
``tsrec.training``; the helpers only arrange what those compute.
"""
from __future__ import annotations

import pickle
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsrec.evaluate import eval_queries
from tsrec.metrics import per_user_rank_metrics, target_ranks
from tsrec.models.base import Scorer
from tsrec.prep import time_order
from tsrec.queries import seen_mask
from tsrec.splits import Split
from tsrec.training import TrainConfig, TrainResult, train

__all__ = ["TIE_ORDERS", "StageRanks", "training_view", "learning_curves", "early_stop_epoch", "tie_order",
           "duplicate_rows", "batch_counts", "pickled_bytes"]

TIE_ORDERS = ("file row", "item id", "item id, descending", "random")


def training_view(split: Split) -> Split:
    """A split whose validation stage is each user's last *training* event, predicted from the earlier ones: how
    well a model fits data it has trained on (the 'train' side of a learning curve)."""
    ordered = time_order(split.train)
    last = ordered.groupby("user").cumcount(ascending=False) == 0
    many = ordered["user"].map(ordered["user"].value_counts()) >= 2
    fit_targets = ordered[last & many]
    return replace(split, train=ordered[~(last & many)], valid=fit_targets, test=fit_targets.iloc[:0],
                   kind="leave-one-out", info={**split.info, "view": "last training event"})


class StageRanks:
    """The queries, targets and seen-item mask of one stage, built once: ``ranks(model)`` gives every query's 0-based
    target rank as ``tsrec.evaluate.evaluate`` would (all items, seen masked, ties by item id), cheaply per epoch."""

    def __init__(self, split: Split, stage: str) -> None:
        self.queries, targets = eval_queries(split, stage)
        self.targets = torch.as_tensor(np.array(targets, dtype=np.int64))
        self.mask = seen_mask(self.queries, split.n_items + 1)

    def ranks(self, model: Scorer) -> np.ndarray:
        with torch.inference_mode():
            scores = torch.as_tensor(model.score(self.queries)).float().cpu()
        return target_ranks(scores, self.targets, self.mask).numpy()


def learning_curves(model: nn.Module, split: Split, config: TrainConfig | None = None, k: int = 10,
                    **overrides) -> tuple[TrainResult, pd.DataFrame, dict]:
    """Train ``model`` on ``split`` with ``tsrec.training.train`` (validation NDCG@k picks the epoch, as always) and
    after every epoch also rank the training view (``training_view``): the two sides of a learning curve.

    Returns the TrainResult, one row per epoch (epoch, training loss, fit and valid NDCG@k and HR@k) and the
    weights of the last epoch (``train`` restores the best epoch's), to compare the two on the test stage.
    """
    stages = {"fit": StageRanks(training_view(split), "valid"), "valid": StageRanks(split, "valid")}
    rows: list[dict] = []
    last: dict = {}

    def validate(m: nn.Module) -> dict:
        row = {"epoch": len(rows) + 1}
        for name, stage in stages.items():
            per = per_user_rank_metrics(stage.ranks(m), k)
            row |= {f"{name} NDCG@{k}": float(per[f"NDCG@{k}"].mean()), f"{name} HR@{k}": float(per[f"HR@{k}"].mean())}
        rows.append(row)
        last["state"] = {n: t.detach().clone() for n, t in m.state_dict().items()}
        return {f"NDCG@{k}": row[f"valid NDCG@{k}"], f"HR@{k}": row[f"valid HR@{k}"]}

    cfg = replace(config or TrainConfig(), eval_every=1, metric=f"NDCG@{k}", mode="max", **overrides)
    result = train(model, split, cfg, validate=validate)
    curves = pd.DataFrame(rows).merge(result.history[["epoch", "loss"]], on="epoch")
    return result, curves[["epoch", "loss", *[c for c in curves.columns if "@" in c]]], last.get("state", {})


def early_stop_epoch(valid: Iterable[float], patience: int, min_delta: float = 0.0) -> tuple[int, int]:
    """(best epoch, epoch the run stops at) of early stopping with ``patience`` on a validation curve (higher is
    better, epochs from 1): what ``tsrec.training`` would have picked had it been run with that patience."""
    best, best_epoch, waited = -np.inf, 0, 0
    values = list(valid)
    for epoch, v in enumerate(values, start=1):
        if v > best + min_delta:
            best, best_epoch, waited = v, epoch, 0
        else:
            waited += 1
        if waited >= patience:
            return best_epoch, epoch
    return best_epoch, len(values)


def tie_order(df: pd.DataFrame, order: str, seed: int = 0) -> pd.DataFrame:
    """``df`` with its rows rearranged so that a stable sort on time (``tsrec.prep.time_order``) orders events of
    equal timestamp by ``order`` (one of ``TIE_ORDERS``; "random" is seeded); the events themselves are unchanged."""
    if order == "file row":
        return df
    if order == "item id":
        return df.sort_values(["timestamp", "item"], kind="stable")
    if order == "item id, descending":
        return df.sort_values(["timestamp", "item"], ascending=[True, False], kind="stable")
    if order == "random":
        return df.sample(frac=1.0, random_state=seed)
    raise ValueError(f"order must be one of {TIE_ORDERS}, got {order!r}")


def duplicate_rows(df: pd.DataFrame, users: Iterable, copies: int) -> pd.DataFrame:
    """``df`` plus ``copies`` exact copies of every row of ``users`` (a client that retried each request), appended."""
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 0:
        raise ValueError(f"copies must be an int >= 0, got {copies!r}")
    extra = df[df["user"].isin(list(users))]
    return pd.concat([df] + [extra] * int(copies), ignore_index=True)


def batch_counts(items: np.ndarray, n_items: int, batch_size: int, seed: int = 0) -> np.ndarray:
    """Item counts [n_items + 1] as a buggy popularity model computes them: rows shuffled (seeded), then per batch
    ``counts[batch] += 1``, which adds one per item *per batch* however often the item occurs in it."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    it = np.asarray(items, dtype=np.int64)
    it = it[np.random.default_rng(seed).permutation(len(it))]
    counts = np.zeros(n_items + 1, dtype=np.float64)
    for start in range(0, len(it), batch_size):
        b = it[start:start + batch_size]
        counts[b] = counts[b] + 1  # fancy-index assignment: a repeated index is written once, not added twice
    return counts


def pickled_bytes(obj: object) -> int:
    """Bytes of ``obj`` serialised with pickle: the size of a state a live system would snapshot or ship."""
    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))

