"""Events replayed in time order (chapter 4.3): ``Event`` and ``EventSource``.

Order convention (as in ``tsrec.prep``): events are replayed by ``timestamp`` and, within equal timestamps,
in their original row order (a stable sort); each :class:`Event` carries that ``row``. Item ids are the
encoded ids 1..n_items of the rest of the package (``EventSource(..., encode=True)`` encodes raw ids with
``tsrec.prep.IdMap``).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from tsrec.data import DataError, read_frame, require_columns
from tsrec.prep import IdMap
from tsrec.times import to_seconds

__all__ = ["Event", "EventSource", "as_events", "time_bound"]


class Event(NamedTuple):
    """One interaction: who, what, when (Unix seconds), its row in the source (the tie-break) and rating."""

    user: Any
    item: Any
    timestamp: int
    row: int = -1
    rating: float = math.nan


def time_bound(t: Any) -> int | None:
    """Unix seconds (int) of a number, datetime or date string (naive = UTC); None stays None."""
    return None if t is None else int(to_seconds(t, "time bound"))


class EventSource:
    """Replays interactions in time order (ties: original row order) as :class:`Event` s.

    ``speed`` replays in scaled real time: before each event it sleeps ``gap / speed`` seconds
    (capped at ``max_sleep``); ``None`` replays as fast as possible. ``start``/``end`` keep events
    with ``start <= timestamp < end``. ``encode=True`` maps users and items to 1..n with IdMaps
    fitted on the whole input (the encoding ``tsrec.prep`` splits use), kept as ``user_map``/``item_map``.
    """

    def __init__(self, data: pd.DataFrame | str | Path, speed: float | None = None, max_sleep: float = 1.0,
                 start: Any = None, end: Any = None, encode: bool = False,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        frame = read_frame(data)
        require_columns(frame, ("user", "item", "timestamp"))
        ts = pd.to_numeric(frame["timestamp"], errors="coerce")
        if ts.isna().any():
            first = int(np.flatnonzero(ts.isna().to_numpy())[0])
            raise DataError(f"{int(ts.isna().sum())} row(s) have a missing or non-numeric timestamp (first at "
                            f"position {first}); run tsrec.prep.clean(df) first")
        if speed is not None and not (np.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be a positive number (events replayed speed x faster) or None, got {speed!r}")
        if not max_sleep >= 0:
            raise ValueError(f"max_sleep must be >= 0, got {max_sleep!r}")
        cols = ["user", "item"] + (["rating"] if "rating" in frame.columns else [])
        out = frame[cols].reset_index(drop=True)
        out["timestamp"] = ts.to_numpy().astype(np.int64)
        out["row"] = np.arange(len(out), dtype=np.int64)
        self.user_map: IdMap | None = None
        self.item_map: IdMap | None = None
        if encode:
            self.user_map, self.item_map = IdMap.fit(out["user"]), IdMap.fit(out["item"])
            out["user"] = self.user_map.encode(out["user"])
            out["item"] = self.item_map.encode(out["item"])
        out = out.sort_values("timestamp", kind="stable")
        lo, hi = time_bound(start), time_bound(end)
        if lo is not None:
            out = out[out["timestamp"] >= lo]
        if hi is not None:
            out = out[out["timestamp"] < hi]
        self.frame = out.reset_index(drop=True)
        self.speed, self.max_sleep, self._sleep = speed, float(max_sleep), sleep

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def n_items(self) -> int:
        """Catalogue size: the item map's length when encoded, else the largest item id."""
        if self.item_map is not None:
            return len(self.item_map)
        return int(self.frame["item"].max()) if len(self.frame) else 0

    @property
    def n_users(self) -> int:
        """Number of users: the user map's length when encoded, else the largest user id."""
        if self.user_map is not None:
            return len(self.user_map)
        return int(self.frame["user"].max()) if len(self.frame) else 0

    def __iter__(self) -> Iterator[Event]:
        f = self.frame
        users, items = f["user"].tolist(), f["item"].tolist()
        times, rows = f["timestamp"].tolist(), f["row"].tolist()
        ratings = f["rating"].tolist() if "rating" in f.columns else [math.nan] * len(f)
        prev = None
        for u, i, t, r, y in zip(users, items, times, rows, ratings):
            if self.speed is not None and prev is not None and t > prev:
                self._sleep(min((t - prev) / self.speed, self.max_sleep))
            prev = t
            yield Event(u, i, t, r, y)

    def batches(self, size: int) -> Iterator[list[Event]]:
        """The same events in consecutive lists of ``size`` (the last may be shorter)."""
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size!r}")
        batch: list[Event] = []
        for ev in self:
            batch.append(ev)
            if len(batch) == size:
                yield batch
                batch = []
        if batch:
            yield batch

    def __repr__(self) -> str:
        speed = "" if self.speed is None else f", speed={self.speed:g}"
        return f"EventSource({len(self):,} events, {self.n_users:,} users, {self.n_items:,} items{speed})"


def as_events(stream: EventSource | pd.DataFrame | str | Path | Iterable[Event]) -> Iterable[Event]:
    """Events of a source, a frame or a file (replayed in time order), or an iterable of Events as it is."""
    if isinstance(stream, (pd.DataFrame, str, Path)):
        return EventSource(stream)
    return stream
