"""Shared trainer of the sequence models: every position of every user's sequence at once, causally.

Each user's training events (time order, ties in row order) become one left-padded window of the last
``max_len + 1`` events: inputs are events 0..n-2, targets events 1..n-1, so one forward pass trains
every prefix (RecBole makes one padded sample per prefix instead: on ML-100K 97,171 samples of 50
positions an epoch, against our 943 windows). Batches group users of similar length and drop columns
that are all padding. Early stopping on validation NDCG@10 (``tsrec.evaluate``: full ranking, seen
items masked) keeps the best weights; a rerun with the same seed on CPU gives the same numbers.
"""
from __future__ import annotations

import importlib
import math
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, Sampler
from tqdm import tqdm

from tsrec.config import device as pick_device
from tsrec.config import seed_everything
from tsrec.data import require_columns
from tsrec.evaluate import evaluate
from tsrec.models.sequential import MODELS, SeqInput, SequentialRecommender
from tsrec.prep import Split, user_sequences

LOSSES = ("ce", "bce", "sampled_softmax")
DEFAULT_NEGATIVES = {"ce": 0, "bce": 1, "sampled_softmax": 100}


@dataclass
class TrainConfig:
    """Training settings; ``loss=None`` takes the model's ``default_loss``, ``n_negatives=None`` the
    loss's default (1 for bce, 100 shared negatives for sampled softmax)."""

    epochs: int = 200
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.0
    loss: str | None = None
    n_negatives: int | None = None
    grad_clip: float | None = 1.0
    eval_every: int = 1
    patience: int = 20  # evaluations without improvement before stopping
    bucket_by_length: bool = True  # batch users of similar length: much less padding to compute
    metric: str = "NDCG@10"
    eval_target: str = "first"  # validation target per user: "first" (leave-one-out) or "all" (temporal split)
    max_seconds: float | None = None
    seed: int = 0
    device: str | None = None
    progress: bool = True


@dataclass
class TrainResult:
    """What a training run did: per-epoch ``history`` (epoch, loss, NDCG@10, HR@10 on validation, seconds
    since the start), the best epoch and its validation metrics, and timings (evaluation included in
    ``seconds_to_best``, excluded from ``seconds_per_epoch``)."""

    history: pd.DataFrame
    best_epoch: int
    best_metrics: dict
    seconds_to_best: float
    seconds_per_epoch: float
    seconds: float
    stopped: str
    config: TrainConfig


class SequenceDataset(Dataset):
    """Per user with >= 2 events: left-padded inputs (items, times, next times) and next-item targets."""

    def __init__(self, interactions: pd.DataFrame, max_len: int):
        require_columns(interactions, ("user", "item", "timestamp"), what="training interactions")
        seqs = user_sequences(interactions)
        seqs = seqs[seqs["items"].map(len) >= 2]
        U, L = len(seqs), max_len
        self.users = torch.from_numpy(np.array(seqs.index, dtype=np.int64))
        items, times = np.zeros((U, L + 1), np.int64), np.zeros((U, L + 1), np.int64)
        for row, (it, tm) in enumerate(zip(seqs["items"], seqs["timestamps"])):
            n = min(len(it), L + 1)
            items[row, -n:], times[row, -n:] = it[-n:], tm[-n:]
        real = items[:, :-1] > 0  # the window's first event is input only
        self.items, self.targets = torch.from_numpy(items[:, :-1]), torch.from_numpy(np.where(real, items[:, 1:], 0))
        self.times, self.next_times = torch.from_numpy(times[:, :-1]), torch.from_numpy(np.where(real, times[:, 1:], 0))

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


def sequence_loss(model: SequentialRecommender, h: torch.Tensor, targets: torch.Tensor, loss: str,
                  n_negatives: int, generator: torch.Generator) -> torch.Tensor:
    """Mean loss over real target positions: full cross-entropy over all items, BCE of the target against
    ``n_negatives`` uniform negatives per position, or softmax over the target and shared negatives."""
    keep = targets > 0
    h, y = h[keep], targets[keep]
    w, b = model.output_weights()
    b = torch.zeros(w.shape[0], device=w.device, dtype=w.dtype) if b is None else b
    if loss == "ce":
        return F.cross_entropy(h @ w[1:].T + b[1:], y - 1)
    pos = (h * w[y]).sum(-1) + b[y]
    if loss == "bce":
        neg = torch.randint(1, model.n_items + 1, (len(y), n_negatives), generator=generator).to(y.device)
        neg_logits = (h.unsqueeze(1) * w[neg]).sum(-1) + b[neg]
        return (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
                + F.binary_cross_entropy_with_logits(neg_logits, torch.zeros_like(neg_logits)))
    neg = torch.randint(1, model.n_items + 1, (n_negatives,), generator=generator).to(y.device)
    neg_logits = (h @ w[neg].T + b[neg]).masked_fill(neg.unsqueeze(0) == y.unsqueeze(1), float("-inf"))
    logits = torch.cat([pos.unsqueeze(1), neg_logits], dim=1)
    return F.cross_entropy(logits, torch.zeros(len(y), dtype=torch.long, device=y.device))


def _check_inputs(model: SequentialRecommender, data: Split | pd.DataFrame, cfg: TrainConfig) -> pd.DataFrame:
    if not isinstance(model, SequentialRecommender):
        raise ValueError(f"train() needs a SequentialRecommender, got {type(model).__name__}")
    if isinstance(data, Split) and data.n_items != model.n_items:
        raise ValueError(f"the split has n_items={data.n_items} but the model was built for n_items={model.n_items}")
    frame = data.train if isinstance(data, Split) else data
    require_columns(frame, ("user", "item", "timestamp"), what="training interactions")
    if len(frame) == 0:
        raise ValueError("the training interactions are empty: nothing to train on")
    lo, hi = int(frame["item"].min()), int(frame["item"].max())
    if lo < 1 or hi > model.n_items:
        raise ValueError(f"item ids must lie in 1..{model.n_items} (encode them with tsrec.prep), found {lo}..{hi}")
    if cfg.eval_target not in ("first", "all"):
        raise ValueError(f"eval_target must be 'first' or 'all', got {cfg.eval_target!r}")
    if cfg.loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {cfg.loss!r}")
    if cfg.epochs < 1 or cfg.batch_size < 1 or cfg.eval_every < 1 or cfg.patience < 1:
        raise ValueError("epochs, batch_size, eval_every and patience must be >= 1")
    return frame


def train(model: SequentialRecommender, data: Split | pd.DataFrame, config: TrainConfig | None = None,
          **overrides) -> TrainResult:
    """Train ``model`` on ``data.train`` (or a bare interactions frame, then without validation or early
    stopping); settings from ``config`` and keyword ``overrides`` (see TrainConfig). Restores the best
    validation epoch's weights and returns the TrainResult."""
    cfg = replace(config or TrainConfig(), **overrides)
    cfg = replace(cfg, loss=cfg.loss or model.default_loss)
    frame = _check_inputs(model, data, cfg)
    cfg = replace(cfg, n_negatives=DEFAULT_NEGATIVES[cfg.loss] if cfg.n_negatives is None else cfg.n_negatives)
    split = data if isinstance(data, Split) else None
    dataset = SequenceDataset(frame, model.max_len)
    if len(dataset) == 0:
        raise ValueError("no user has two or more training events: there is no next item to learn")

    seed_everything(cfg.seed)
    dev = pick_device(cfg.device)
    model.to(dev)
    shuffle = torch.Generator().manual_seed(cfg.seed)
    if cfg.bucket_by_length:
        buckets = LengthBuckets((dataset.items > 0).sum(1), cfg.batch_size, shuffle)
        loader = DataLoader(dataset, batch_sampler=buckets)
    else:
        loader = DataLoader(dataset, batch_size=cfg.batch_size, shuffle=True, generator=shuffle)
    negatives = torch.Generator().manual_seed(cfg.seed + 1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    rows, best = [], {"value": -math.inf, "epoch": 0, "state": None, "metrics": {}, "seconds": 0.0}
    waited, stopped, train_seconds = 0, "max epochs", 0.0
    start = time.perf_counter()
    bar = tqdm(range(1, cfg.epochs + 1), desc=type(model).__name__, disable=not cfg.progress)
    for epoch in bar:
        t0 = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for users, items, times, next_times, targets in loader:
            x = SeqInput(users, items, times, next_times).trim().to(dev)
            targets = targets[:, -x.items.shape[1]:].to(dev)
            loss = sequence_loss(model, model.encode(x), targets, cfg.loss, cfg.n_negatives, negatives)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            n = int((targets > 0).sum())
            total, count = total + loss.item() * n, count + n
        train_seconds += time.perf_counter() - t0
        out_of_time = cfg.max_seconds is not None and time.perf_counter() - start >= cfg.max_seconds
        row = {"epoch": epoch, "loss": total / max(count, 1), "NDCG@10": math.nan, "HR@10": math.nan}
        if split is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.epochs or out_of_time):
            metrics = evaluate(model, split, "valid", target=cfg.eval_target)
            row.update({"NDCG@10": metrics["NDCG@10"], "HR@10": metrics["HR@10"]})
            if metrics[cfg.metric] > best["value"]:
                best = {"value": metrics[cfg.metric], "epoch": epoch, "metrics": metrics,
                        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
                        "seconds": time.perf_counter() - start}
                waited = 0
            else:
                waited += 1
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        bar.set_postfix(loss=f"{row['loss']:.4f}", ndcg=f"{row['NDCG@10']:.4f}", best=best["epoch"])
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


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(model: SequentialRecommender, path: str | Path, extra: dict | None = None) -> Path:
    """Save class name, constructor config, weights, item count and training config (``extra``: plain
    values, e.g. metrics) so that ``load_checkpoint`` rebuilds a model that scores identically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"class": type(model).__name__, "module": type(model).__module__, "config": model.config,
                "n_items": model.n_items, "train_config": model.train_config, "extra": extra or {},
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}, path)
    return path


def load_checkpoint(path: str | Path, device: str | None = "cpu") -> SequentialRecommender:
    """Rebuild a model saved by ``save_checkpoint`` (in eval mode, on ``device``; None = automatic);
    its ``extra`` dict is ``model.checkpoint_extra``."""
    payload = torch.load(Path(path), map_location="cpu", weights_only=True)
    module = str(payload.get("module", ""))
    if payload.get("class") not in MODELS and module.startswith("tsrec."):
        importlib.import_module(module)  # registers subclasses defined elsewhere in tsrec (e.g. HybridSASRec)
    cls = MODELS.get(payload.get("class"))
    if cls is None:
        raise ValueError(f"{path}: unknown model class {payload.get('class')!r}; known: {sorted(MODELS)}")
    model = cls(**payload["config"])
    if model.n_items != payload["n_items"]:
        raise ValueError(f"{path}: config gives n_items={model.n_items}, checkpoint says {payload['n_items']}")
    model.load_state_dict(payload["state_dict"])
    model.train_config, model.checkpoint_extra = payload["train_config"], payload["extra"]
    return model.to(pick_device(device)).eval()

