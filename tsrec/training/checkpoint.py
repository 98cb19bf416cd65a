"""Checkpoints: a torch model saved with its class, constructor settings and a format version, and rebuilt.

The registry ``MODELS`` lists every class a checkpoint may name; loading never runs code from the file
(``torch.load(weights_only=True)``) and builds only a registered class. Serving (``tsrec.serve``) loads
models through this module too.
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from tsrec.config import device as pick_device
from tsrec.data import DataError
from tsrec.models.generative import GenerativeRecommender
from tsrec.models.mf import BPRMF
from tsrec.models.sequential import GRU4Rec, HybridSASRec, LSTM4Rec, NextItNet, SASRec, TimeSensitiveModel, TiSASRec

__all__ = ["FORMAT", "FORMAT_VERSION", "MODELS", "save_checkpoint", "load_checkpoint"]

FORMAT = "tsrec.checkpoint"
FORMAT_VERSION = 1
MODELS: dict[str, type[nn.Module]] = {cls.__name__: cls for cls in (
    GRU4Rec, LSTM4Rec, NextItNet, SASRec, TiSASRec, TimeSensitiveModel, HybridSASRec, GenerativeRecommender, BPRMF)}


def save_checkpoint(model: nn.Module, path: str | Path, extra: dict | None = None) -> Path:
    """Save class name, constructor settings (``model.config``), weights and training settings, plus ``extra``
    (plain values, e.g. metrics or id maps), so that ``load_checkpoint`` rebuilds a model that scores identically."""
    name = type(model).__name__
    if MODELS.get(name) is not type(model):
        raise ValueError(f"{name} is not a registered model class; checkpoints hold one of {sorted(MODELS)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": FORMAT, "version": FORMAT_VERSION, "class": name, "config": model.config,
                "n_items": model.n_items, "train_config": getattr(model, "train_config", {}), "extra": extra or {},
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}}, path)
    return path


def load_checkpoint(path: str | Path, device: str | None = "cpu") -> nn.Module:
    """Rebuild a model saved by ``save_checkpoint`` (in eval mode, on ``device``; None = automatic); its
    ``extra`` dict becomes ``model.checkpoint_extra``. A file of another format or version raises DataError."""
    path = Path(path)
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DataError(f"{path} is not a tsrec checkpoint (no format tag {FORMAT!r}); save one with "
                        "tsrec.training.save_checkpoint or `tsrec train`")
    if payload.get("version") != FORMAT_VERSION:
        raise DataError(f"{path} is checkpoint format version {payload.get('version')!r}; this tsrec reads version "
                        f"{FORMAT_VERSION}: retrain and save it again")
    cls = MODELS.get(payload.get("class"))
    if cls is None:
        raise DataError(f"{path}: unknown model class {payload.get('class')!r}; known: {sorted(MODELS)}")
    model = cls(**payload["config"])
    if model.n_items != payload["n_items"]:
        raise DataError(f"{path}: config gives n_items={model.n_items}, checkpoint says {payload['n_items']}")
    model.load_state_dict(payload["state_dict"])
    model.train_config, model.checkpoint_extra = payload["train_config"], payload["extra"]
    return model.to(pick_device(device)).eval()
