"""Checkpoints: a torch model saved with its class, constructor settings and a format version, and rebuilt.

The registry ``MODELS`` lists every class a checkpoint may name; loading never runs code from the file
(``torch.load(weights_only=True)``) and builds only a registered class. Serving (``tsrec.serve``) loads
models through this module too.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

import torch
from torch import nn

from tsrec import __version__
from tsrec.config import device as pick_device
from tsrec.data import DataError
from tsrec.models import sequential as seq
from tsrec.models.generative import GenerativeRecommender
from tsrec.models.mf import BPRMF

__all__ = ["FORMAT", "FORMAT_VERSION", "MODELS", "weights_sha256", "save_checkpoint", "load_checkpoint"]

FORMAT = "tsrec.checkpoint"
FORMAT_VERSION = 2  # 2: the weights' sha256 and the tsrec and torch versions are recorded
MODELS: dict[str, type[nn.Module]] = {cls.__name__: cls for cls in (
    seq.GRU4Rec, seq.LSTM4Rec, seq.NextItNet, seq.SASRec, seq.TiSASRec, seq.TimeSensitiveModel, seq.HybridSASRec,
    seq.LRURec, GenerativeRecommender, BPRMF)}


def weights_sha256(state_dict: dict[str, torch.Tensor]) -> str:
    """sha256 over every tensor's name, dtype, shape and bytes, in name order: the identity of a model's weights."""
    h = hashlib.sha256()
    for name in sorted(state_dict):
        t = state_dict[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def save_checkpoint(model: nn.Module, path: str | Path, extra: dict | None = None) -> Path:
    """Save class name, constructor settings (``model.config``), weights and training settings, plus ``extra``
    (plain values, e.g. metrics or id maps), so that ``load_checkpoint`` rebuilds a model that scores identically.
    The sha256 of the weights and the tsrec and torch versions are recorded too; loading checks the hash."""
    name = type(model).__name__
    if MODELS.get(name) is not type(model):
        raise ValueError(f"{name} is not a registered model class; checkpoints hold one of {sorted(MODELS)}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    versions = {"tsrec": str(__version__), "torch": str(torch.__version__)}
    torch.save({"format": FORMAT, "version": FORMAT_VERSION, "class": name, "config": model.config,
                "n_items": model.n_items, "train_config": getattr(model, "train_config", {}), "extra": extra or {},
                "weights_sha256": weights_sha256(state), "versions": versions,
                "state_dict": state}, path)
    return path


def load_checkpoint(path: str | Path, device: str | None = "cpu") -> nn.Module:
    """Rebuild a model saved by ``save_checkpoint`` (in eval mode, on ``device``; None = automatic); its
    ``extra`` dict becomes ``model.checkpoint_extra``. A file of another format or version raises DataError."""
    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - truncated, foreign or code-carrying files all end here, with no code run
        text = re.sub(r"\x1b\[[0-9;]*m", "", str(e)).strip()
        first = text.splitlines()[0][:200] if text else type(e).__name__
        raise DataError(f"{path} is not a readable tsrec checkpoint ({first}); train and save it again") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise DataError(f"{path} is not a tsrec checkpoint (no format tag {FORMAT!r}); save one with "
                        "tsrec.training.save_checkpoint or `tsrec train`")
    if payload.get("version") != FORMAT_VERSION:
        raise DataError(f"{path} is checkpoint format version {payload.get('version')!r}; this tsrec reads version "
                        f"{FORMAT_VERSION}: retrain and save it again")
    cls = MODELS.get(payload.get("class"))
    if cls is None:
        raise DataError(f"{path}: unknown model class {payload.get('class')!r}; known: {sorted(MODELS)}")
    state = payload["state_dict"]
    if payload.get("weights_sha256") != weights_sha256(state):
        raise DataError(f"{path}: the weights do not match the sha256 recorded when the checkpoint was saved "
                        "(a damaged or edited file); train and save it again")
    bad = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise DataError(f"{path}: weights {bad[:3]} hold NaN or inf; a model trained to non-finite weights cannot "
                        "rank: retrain it (a lower learning rate, gradient clipping)")
    model = cls(**payload["config"])
    if model.n_items != payload["n_items"]:
        raise DataError(f"{path}: config gives n_items={model.n_items}, checkpoint says {payload['n_items']}")
    model.load_state_dict(state)
    model.train_config, model.checkpoint_extra = payload["train_config"], payload["extra"]
    model.checkpoint_versions = dict(payload.get("versions") or {})
    return model.to(pick_device(device)).eval()
