"""Hyperparameter search for SASRec with a time encoding: an Optuna study with validation NDCG@10 as its objective.

The sampler is TPE with a fixed seed, the pruner is fed every epoch's validation score (a trial whose curve lies
below the median of earlier trials at the same epoch stops), and the study runs a fixed number of trials, never
against a clock, so a busy machine takes longer but finds the same trials. Every trial trains with the same seed
and ``tsrec.training.train``; the search's best value is therefore optimistic (it is picked on that one seed's
validation scores), which is why the chapter retrains the winner on fresh seeds.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from tsrec.config import seed_everything
from tsrec.evaluate import validator
from tsrec.models.sequential import SASRec
from tsrec.splits import Split
from tsrec.training import TrainConfig, TrainResult, train

__all__ = ["DEFAULT_PARAMS", "SearchSpace", "build", "fit", "importances", "pruning_validator", "trials_frame", "tune"]

# SASRec's defaults with chapter 4.2a's encoding of the gap to the request ("SASRec+time2vec_now")
DEFAULT_PARAMS: dict[str, Any] = {"hidden": 64, "n_blocks": 2, "dropout": 0.2, "lr": 2e-3, "max_len": 50,
                                  "time_encoding": "time2vec_now"}


@dataclass(frozen=True)
class SearchSpace:
    """The few hyperparameters searched: choices for the discrete ones, (low, high) for dropout and the
    learning rate (log scale). Every default of DEFAULT_PARAMS lies inside it."""

    hidden: tuple[int, ...] = (32, 64, 128)
    n_blocks: tuple[int, ...] = (1, 2, 3)
    dropout: tuple[float, float] = (0.0, 0.5)
    lr: tuple[float, float] = (5e-4, 1e-2)
    max_len: tuple[int, ...] = (25, 50, 100)
    time_encoding: tuple[str | None, ...] = field(
        default=(None, "time2vec_now", "time2vec", "log_interval", "calendar"))

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One point of the space, drawn by ``trial`` (an ``optuna.Trial``)."""
        return {"hidden": trial.suggest_categorical("hidden", list(self.hidden)),
                "n_blocks": trial.suggest_categorical("n_blocks", list(self.n_blocks)),
                "dropout": trial.suggest_float("dropout", *self.dropout),
                "lr": trial.suggest_float("lr", *self.lr, log=True),
                "max_len": trial.suggest_categorical("max_len", list(self.max_len)),
                "time_encoding": trial.suggest_categorical("time_encoding", list(self.time_encoding))}


def build(n_items: int, params: dict[str, Any]) -> SASRec:
    """A fresh SASRec with ``params``' architecture (the training settings, ``lr``, are not the model's)."""
    return SASRec(n_items, max_len=int(params["max_len"]), hidden=int(params["hidden"]),
                  n_blocks=int(params["n_blocks"]), dropout=float(params["dropout"]),
                  time_encoding=params["time_encoding"])


def fit(params: dict[str, Any], split: Split, config: TrainConfig,
        validate: Callable[[Any], dict] | None = None) -> tuple[SASRec, TrainResult]:
    """Build the model of ``params`` (seeded with ``config.seed``) and train it on ``split`` with early stopping
    on validation NDCG@10, at ``params['lr']``."""
    seed_everything(config.seed)
    model = build(split.n_items, params)
    result = train(model, split, config, validate=validate, lr=float(params["lr"]))
    return model, result


def pruning_validator(trial: Any, split: Split, metric: str = "NDCG@10") -> Callable[[Any], dict]:
    """The validation callback of a trial: validate, report ``metric`` at this epoch to the pruner, and raise
    ``optuna.TrialPruned`` when the pruner says the trial is behind."""
    import optuna

    validate = validator(split, ks=(10,))
    epoch = {"n": 0}

    def check(model: Any) -> dict:
        metrics = validate(model)
        epoch["n"] += 1
        trial.report(float(metrics[metric]), epoch["n"])
        trial.set_user_attr("epochs", epoch["n"])
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned at epoch {epoch['n']}")
        return metrics

    return check


def tune(split: Split, n_trials: int, config: TrainConfig, space: SearchSpace | None = None, seed: int = 0,
         startup_trials: int = 4, warmup_epochs: int = 3, start_from: dict[str, Any] | None = DEFAULT_PARAMS
         ) -> Any:
    """An ``optuna.Study`` of ``n_trials`` trials maximising validation NDCG@10 (TPE seeded with ``seed``; median
    pruning after ``startup_trials`` finished trials and ``warmup_epochs`` epochs). ``start_from`` is tried first,
    so the search's first trial is the default model. Each trial trains with ``config`` (its seed, epochs,
    patience)."""
    import optuna

    if not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be an int >= 1, got {n_trials!r}")
    space = space or SearchSpace()
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # one INFO line per trial on stderr otherwise
    sampler = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=startup_trials, n_warmup_steps=warmup_epochs)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    if start_from is not None:
        study.enqueue_trial(dict(start_from))

    def objective(trial: Any) -> float:
        params = space.suggest(trial)
        _, result = fit(params, split, config, validate=pruning_validator(trial, split))
        trial.set_user_attr("best_epoch", int(result.best_epoch))
        return float(result.best_metrics["NDCG@10"])

    study.optimize(objective, n_trials=n_trials, catch=())
    return study


def trials_frame(study: Any) -> pd.DataFrame:
    """One row per trial: number, state, value (best validation NDCG@10; NaN if pruned), epochs run, best epoch,
    the best value so far, and the parameters."""
    rows = []
    for t in study.trials:
        rows.append({"trial": t.number, "state": t.state.name, "value": t.value,
                     "epochs": t.user_attrs.get("epochs", 0), "best_epoch": t.user_attrs.get("best_epoch"),
                     **t.params})
    frame = pd.DataFrame(rows)
    frame["best so far"] = frame["value"].astype(float).cummax()
    return frame


def importances(study: Any, seed: int = 0) -> pd.Series:
    """fANOVA importance of each hyperparameter for the finished trials' values (seeded), largest first."""
    import optuna

    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    return pd.Series(optuna.importance.get_param_importances(study, evaluator=evaluator)).sort_values(ascending=False)
