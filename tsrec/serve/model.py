"""A fitted model with the id maps that turn raw ids into its ids 1..n, saved and loaded for serving.

Sequence models are saved as ``tsrec.training`` checkpoints with the id maps in their ``extra``; any other
Recommender as a pickle (load only files you made yourself: pickle runs code).
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tsrec.data import DataError
from tsrec.models.base import Scorer
from tsrec.models.sequential import SequentialRecommender
from tsrec.prep import IdMap
from tsrec.training import load_checkpoint, save_checkpoint

__all__ = ["ServedModel", "save_model", "load_model", "as_served", "plain_ids"]

PICKLE_FORMAT = "tsrec.served-model/1"


@dataclass
class ServedModel:
    """A fitted Recommender with the IdMaps that turn raw ids into its ids 1..n (and back).

    ``item_counts`` (training events per encoded item) breaks cold-start ties; ``info`` is free metadata
    (the data set name, metrics, ...).
    """

    model: Scorer
    item_map: IdMap
    user_map: IdMap | None = None
    item_counts: np.ndarray | None = None
    info: dict = field(default_factory=dict)
    _items: tuple | None = field(default=None, repr=False, compare=False)
    _users: tuple | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not hasattr(self.model, "score"):
            raise TypeError(f"model must be a fitted tsrec Recommender (with .score), got {type(self.model).__name__}")
        n = getattr(self.model, "n_items", 0) or 0
        if n and n != len(self.item_map):
            raise ValueError(f"the model scores {n} items but the item map has {len(self.item_map)} ids")

    @property
    def n_items(self) -> int:
        return len(self.item_map)

    def item_index(self, raw: Any) -> int:
        """Encoded id of a raw item id, 0 if unknown (a dict lookup: IdMap.encode goes through pandas)."""
        if self._items is None or self._items[0] is not self.item_map:
            self._items = (self.item_map, {v: i + 1 for i, v in enumerate(self.item_map.raw.tolist())})
        return _lookup(self._items[1], raw)

    def user_index(self, raw: Any) -> int:
        """Encoded id of a raw user id, 0 if unknown or if the model has no user map."""
        if self.user_map is None:
            return 0
        if self._users is None or self._users[0] is not self.user_map:
            self._users = (self.user_map, {v: i + 1 for i, v in enumerate(self.user_map.raw.tolist())})
        return _lookup(self._users[1], raw)

    @property
    def name(self) -> str:
        return str(getattr(self.model, "name", type(self.model).__name__))


def _lookup(index: dict, raw: Any) -> int:
    """``index[raw]``, also for an int given where the map holds its string ("7" for 7), else 0."""
    found = index.get(raw, 0)
    return found or (index.get(str(raw), 0) if isinstance(raw, int) else 0)


def _as_idmap(ids: IdMap | Any | None) -> IdMap | None:
    """An IdMap from an IdMap or raw ids listed in encoding order (raw id of 1, of 2, ...)."""
    if ids is None or isinstance(ids, IdMap):
        return ids
    raw = np.asarray(list(ids))
    if len(pd.unique(raw)) != len(raw):
        raise ValueError("item/user ids must be unique (the raw id of encoded id 1, 2, ...)")
    return IdMap(raw, {v: i + 1 for i, v in enumerate(raw.tolist())})


def plain_ids(values: np.ndarray) -> list:
    """Numpy ids as a list of plain Python ints/strs (what torch's weights_only loader accepts)."""
    return [v.item() if hasattr(v, "item") else v for v in np.asarray(values).tolist()]


def save_model(model: Scorer, path: str | Path, item_map: IdMap, user_map: IdMap | None = None,
               item_counts: np.ndarray | None = None, info: dict | None = None) -> Path:
    """Save a model with its id maps: sequence models as a ``tsrec.training`` checkpoint (ids in its ``extra``),
    any other Recommender as a pickle (``load_model`` reads it only with ``allow_pickle=True``: pickle runs code)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"item_ids": plain_ids(item_map.raw), "user_ids": None if user_map is None else plain_ids(user_map.raw),
             "item_counts": None if item_counts is None else [float(x) for x in np.asarray(item_counts)],
             "info": dict(info or {})}
    if isinstance(model, SequentialRecommender):
        return save_checkpoint(model, path, extra=extra)
    with open(path, "wb") as f:
        pickle.dump({"format": PICKLE_FORMAT, "model": model, **extra}, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _from_extra(model: Scorer, extra: dict, path: Path) -> ServedModel:
    if not extra.get("item_ids"):
        raise DataError(f"{path} has no item id map (extra['item_ids']); save it with tsrec.serve.save_model "
                        f"or pass item_ids= to create_app")
    counts = extra.get("item_counts")
    return ServedModel(model, _as_idmap(extra["item_ids"]), _as_idmap(extra.get("user_ids")),
                       None if counts is None else np.asarray(counts, dtype=np.float64), dict(extra.get("info") or {}))


def load_model(path: str | Path, device: str | None = "cpu", allow_pickle: bool = False) -> ServedModel:
    """Load what ``save_model`` wrote (or a ``tsrec.training`` checkpoint whose extra holds ``item_ids``).

    A checkpoint is read with ``torch.load(weights_only=True)``, which runs no code. A pickled model (any model
    that is not a torch sequence model) loads only with ``allow_pickle=True``: unpickling runs whatever code the
    file carries, so allow it only for files you made yourself.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: train one with `tsrec train --out {path}`")
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):                                   # torch.save's zip format
        model = load_checkpoint(path, device=device)
        return _from_extra(model, getattr(model, "checkpoint_extra", {}) or {}, path)
    if not allow_pickle:
        raise DataError(f"{path} is not a tsrec checkpoint; a pickled model loads only with --allow-pickle "
                        "(allow_pickle=True), which runs any code inside the file: use it only for files you made")
    with open(path, "rb") as f:
        try:
            payload = pickle.load(f)
        except Exception as e:  # noqa: BLE001 - any unpickling failure means "not our file"
            raise DataError(f"{path} is neither a tsrec checkpoint nor a tsrec pickled model ({e})") from e
    if not isinstance(payload, dict) or payload.get("format") != PICKLE_FORMAT:
        raise DataError(f"{path} is not a model saved by tsrec.serve.save_model")
    return _from_extra(payload["model"], payload, path)


def as_served(model: Any, item_ids: Any = None, user_ids: Any = None) -> ServedModel:
    """Whatever ``create_app`` was given, as a ServedModel (ids from the arguments, the model or its checkpoint)."""
    if isinstance(model, (str, Path)):
        model = load_model(model)
    if isinstance(model, ServedModel):
        if item_ids is not None:
            model.item_map = _as_idmap(item_ids)
        if user_ids is not None:
            model.user_map = _as_idmap(user_ids)
        return model
    extra = getattr(model, "checkpoint_extra", None) or {}
    item_map = _as_idmap(item_ids) or getattr(model, "item_map", None) or _as_idmap(extra.get("item_ids"))
    if item_map is None:
        raise ValueError("the model carries no item id map: pass item_ids= (raw id of encoded items 1..n, "
                         "e.g. split.item_map) so that raw ids can be mapped")
    user_map = _as_idmap(user_ids) or getattr(model, "user_map", None) or _as_idmap(extra.get("user_ids"))
    counts = extra.get("item_counts")
    return ServedModel(model, item_map, user_map, None if counts is None else np.asarray(counts, float))
