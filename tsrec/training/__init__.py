"""Training: the one loop (``loop``), how each model family is fed to it (``recipes``), checkpoints.

``train(model, data)`` trains any torch model of tsrec: a sequence model, the generative model, BPR-MF or a
rating model, on a Split (with early stopping on its validation stage) or on a bare interactions frame.
``Trained`` makes a torch model a ``Recommender`` (``fit`` builds and trains it), e.g. for periodic retraining.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import torch
from torch import nn

from tsrec.config import seed_everything
from tsrec.data import require_columns
from tsrec.evaluate import validator
from tsrec.models.base import Recommender
from tsrec.models.rating import RatingModel
from tsrec.queries import QueryBatch
from tsrec.splits import Split
from tsrec.training.checkpoint import FORMAT_VERSION, MODELS, load_checkpoint, save_checkpoint
from tsrec.training.loop import TrainConfig, TrainResult, optimizer_step, run
from tsrec.training.recipes import LengthBuckets, SequenceDataset, recipe_for

__all__ = ["FORMAT_VERSION", "MODELS", "LengthBuckets", "SequenceDataset", "TrainConfig", "TrainResult", "Trained",
           "load_checkpoint", "optimizer_step", "save_checkpoint", "train"]


def _check_log(model: nn.Module, frame: pd.DataFrame) -> None:
    """ValueError unless ``frame`` is a non-empty log whose ids the model was built for."""
    require_columns(frame, ("user", "item", "timestamp"), what="training interactions")
    if len(frame) == 0:
        raise ValueError("the training interactions are empty: nothing to train on")
    for col, n in (("item", getattr(model, "n_items", None)), ("user", getattr(model, "n_users", None))):
        if n is None:
            continue
        lo, hi = int(frame[col].min()), int(frame[col].max())
        if lo < 1 or hi > n:
            raise ValueError(f"{col} ids must lie in 1..{n} (the model was built for n_{col}s={n}; encode ids "
                             f"with tsrec.splits), found {lo}..{hi}")


def _default_validator(model: nn.Module, split: Split, cfg: TrainConfig) -> Callable[[nn.Module], dict]:
    """Validation RMSE for a rating model, else full-ranking metrics on the split's validation stage."""
    if isinstance(model, RatingModel):
        return lambda m: m.rating_metrics(split.valid, history=split.valid)
    return validator(split, target=cfg.eval_target, ks=(5, 10, 20))


def train(model: nn.Module, data: Split | pd.DataFrame, config: TrainConfig | None = None,
          validate: Callable[[nn.Module], dict] | None = None, **overrides) -> TrainResult:
    """Train ``model`` on ``data.train`` (validating on ``data``'s validation stage and keeping the best epoch's
    weights) or on a bare interactions frame (no validation unless ``validate`` is given). Settings come from
    ``config`` and keyword ``overrides`` (see TrainConfig); unset ones are the model family's defaults."""
    cfg = replace(config or TrainConfig(), **overrides)
    split = data if isinstance(data, Split) else None
    frame = data.train if split is not None else data
    if split is not None and getattr(model, "n_items", split.n_items) != split.n_items:
        raise ValueError(f"the split has n_items={split.n_items} but the model was built for n_items={model.n_items}")
    _check_log(model, frame)
    recipe = recipe_for(model)
    cfg = cfg.resolved(recipe.defaults(model, frame, cfg))
    cfg.check()
    batches, batch_loss = recipe.build(model, frame, cfg)
    if validate is None and split is not None:
        validate = _default_validator(model, split, cfg)
    return run(model, batches, batch_loss, cfg, validate, columns=recipe.columns)


class Trained(Recommender):
    """A torch model as a ``Recommender``: ``fit`` builds a fresh model with ``build(n_users, n_items)`` and
    trains it on the log (no validation; ``config`` and ``overrides`` as in ``train``)."""

    def __init__(self, build: Callable[[int, int], nn.Module], config: TrainConfig | None = None, **overrides):
        self.build, self.config, self.overrides = build, config, overrides
        self.model: nn.Module | None = None
        self.result: TrainResult | None = None

    @property
    def name(self) -> str:
        return getattr(self.model, "name", "trained")

    def fit(self, train_log: pd.DataFrame, n_users: int, n_items: int) -> Trained:
        # the initial weights of most torch models come from the global generator: seed it with the run's
        # seed before building, so that two fits with the same seed give the same model
        seed_everything(self.overrides.get("seed", (self.config or TrainConfig()).seed))
        self.model, self.n_items = self.build(n_users, n_items), int(n_items)
        self.result = train(self.model, train_log, self.config, **{"progress": False, **self.overrides})
        return self

    def score(self, batch: QueryBatch) -> torch.Tensor:
        if self.model is None:
            raise RuntimeError("Trained is not fitted: call fit(train, n_users, n_items) first")
        return self.model.score(batch)

    def __repr__(self) -> str:
        return f"Trained({self.model!r})"
