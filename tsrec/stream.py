"""Real time (chapter 4.3): events replayed in time order, windowed state, online learners, test-then-train.

Order convention (as in ``tsrec.prep``): events are replayed by ``timestamp`` and, within equal
timestamps, in their original row order (a stable sort); each :class:`Event` carries that ``row``.

Every learner has one interface: ``score_many(users, now)`` (or ``score_one``) scores all items
``[B, n_items + 1]`` with what it has learned so far, ``learn_one(event)`` learns one more event.
:func:`prequential` is the test-then-train protocol: each event is first predicted (the rank of its
item among all items, the user's earlier items masked) and only then learned, so no learner can see
the event it is asked to predict. Item ids are the encoded ids 1..n_items of the rest of the package
(``EventSource(..., encode=True)`` encodes raw ids with ``tsrec.prep.IdMap``).
"""
from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from tsrec.data import DataError, require_columns
from tsrec.models.base import QueryBatch, Recommender
from tsrec.prep import IdMap
from tsrec.windows import DecayedCounter, _window_seconds

__all__ = [
    "Event", "EventSource", "StreamState", "OnlineLearner", "OnlinePopularity", "OnlineItemKNN",
    "OnlineSequenceModel", "RiverMF", "Static", "PeriodicRetrain", "prequential", "compare_online",
    "summarize", "over_time", "plot_over_time", "drift_points", "rank_of", "top_k",
]

DAY = 86_400


# ----------------------------------------------------------------------------- events
class Event(NamedTuple):
    """One interaction: who, what, when (Unix seconds), its row in the source (the tie-break) and rating."""

    user: Any
    item: Any
    timestamp: int
    row: int = -1
    rating: float = math.nan


def _read_frame(data: pd.DataFrame | str | Path) -> pd.DataFrame:
    """A DataFrame as is, or a CSV / parquet / pickle file read into one (clear error otherwise)."""
    if isinstance(data, pd.DataFrame):
        return data
    if not isinstance(data, (str, Path)):
        raise TypeError(f"data must be a DataFrame or a path to a .csv/.parquet/.pkl file, got {type(data).__name__}")
    path = Path(data)
    if not path.exists():
        raise DataError(f"{path} does not exist")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() in (".gz", ".xz", ".zip") else path.suffix.lower()
    if suffix.startswith(".csv"):
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix.startswith(".pkl") or suffix.startswith(".pickle"):
        return pd.read_pickle(path)
    raise DataError(f"{path}: unknown file type {path.suffix!r}; use .csv, .parquet or .pkl")


def _time_bound(t: Any) -> int | None:
    """Unix seconds from a number, datetime or date string (naive = UTC); None stays None."""
    if t is None:
        return None
    if isinstance(t, (int, float, np.integer, np.floating)) and not isinstance(t, bool):
        return int(t)
    stamp = pd.Timestamp(t)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.timestamp())


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
        frame = _read_frame(data)
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
        lo, hi = _time_bound(start), _time_bound(end)
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


def _as_events(stream: EventSource | pd.DataFrame | str | Path | Iterable[Event]) -> Iterable[Event]:
    if isinstance(stream, (pd.DataFrame, str, Path)):
        return EventSource(stream)
    return stream


# ----------------------------------------------------------------------------- windowed state
class StreamState:
    """What a live system keeps, updated per event: counts in a sliding window, decayed popularity, histories.

    ``window_counts`` holds events per item in ``(now - window, now]`` (the convention of
    ``tsrec.windows``), ``decayed`` is a :class:`tsrec.windows.DecayedCounter`, and each user keeps
    their events (all, or the last ``history_len``) plus the set of items they have seen. Pass
    ``window_seconds=None`` or ``half_life_seconds=None`` to switch a part off. Time must not go back.
    """

    def __init__(self, window_seconds: float | str | None = 7 * DAY, half_life_seconds: float | None = 7 * DAY,
                 history_len: int | None = None) -> None:
        self.window = None if window_seconds is None else _window_seconds(window_seconds, "window_seconds")
        self.decayed = None if half_life_seconds is None else DecayedCounter(half_life_seconds)
        if history_len is not None and (isinstance(history_len, bool) or int(history_len) < 1):
            raise ValueError(f"history_len must be a positive int or None, got {history_len!r}")
        self.history_len = history_len
        self.window_counts: Counter = Counter()
        self.item_counts: Counter = Counter()
        self._window_events: deque[tuple[int, Hashable]] = deque()
        self._items: dict[Hashable, deque] = {}
        self._times: dict[Hashable, deque] = {}
        self._seen: dict[Hashable, set] = {}
        self.now: float | None = None
        self.n_events = 0

    def advance(self, t: float) -> None:
        """Move the clock to ``t`` (no earlier than the last time) and drop events that left the window."""
        if self.now is not None and t < self.now:
            raise ValueError(f"time went backwards: {t} is before the last time {self.now}; "
                             "feed events sorted by timestamp (EventSource does)")
        self.now = t
        if self.window is not None:
            edge = t - self.window
            q, counts = self._window_events, self.window_counts
            while q and q[0][0] <= edge:
                _, item = q.popleft()
                counts[item] -= 1
                if counts[item] == 0:
                    del counts[item]

    def update(self, ev: Event) -> None:
        """Add one event to every part of the state."""
        t = ev.timestamp
        self.advance(t)
        if self.window is not None:
            self._window_events.append((t, ev.item))
            self.window_counts[ev.item] += 1
        if self.decayed is not None:
            self.decayed.update(ev.item, t)
        self.item_counts[ev.item] += 1
        items = self._items.get(ev.user)
        if items is None:
            items = self._items[ev.user] = deque(maxlen=self.history_len)
            self._times[ev.user] = deque(maxlen=self.history_len)
            self._seen[ev.user] = set()
        items.append(ev.item)
        self._times[ev.user].append(t)
        self._seen[ev.user].add(ev.item)
        self.n_events += 1

    def window_array(self, n_items: int) -> np.ndarray:
        """Window counts as an int64 array over item ids 0..n_items (0 = padding)."""
        out = np.zeros(n_items + 1, dtype=np.int64)
        if self.window_counts:
            keys = np.fromiter(self.window_counts.keys(), dtype=np.int64, count=len(self.window_counts))
            out[keys] = np.fromiter(self.window_counts.values(), dtype=np.int64, count=len(self.window_counts))
        return out

    def history(self, user: Hashable) -> tuple[np.ndarray, np.ndarray]:
        """The user's kept items and times, oldest first (empty arrays for an unknown user)."""
        items = self._items.get(user)
        if items is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.fromiter(items, dtype=np.int64, count=len(items)), \
            np.fromiter(self._times[user], dtype=np.int64, count=len(items))

    def recent_items(self, user: Hashable, k: int) -> list:
        """The user's ``k`` latest items, newest first."""
        items = self._items.get(user, ())
        return list(items)[::-1][:k]

    def seen(self, user: Hashable) -> set:
        """Every item the user has interacted with (empty set for an unknown user)."""
        return self._seen.get(user, set())

    @property
    def users(self) -> list:
        return list(self._items)

    def query(self, users: Iterable[Hashable], now: Iterable[float]) -> QueryBatch:
        """A QueryBatch of the users' kept histories at request times ``now`` (for a Recommender)."""
        users = list(users)
        hist = [self.history(u) for u in users]
        return QueryBatch(np.asarray(users), [h[0] for h in hist], [h[1] for h in hist],
                          np.asarray(list(now), dtype=np.int64))

    def __repr__(self) -> str:
        return f"StreamState({self.n_events:,} events, {len(self._items):,} users, now={self.now})"


# ----------------------------------------------------------------------------- ranking helpers
def rank_of(scores: np.ndarray, target: int, exclude: np.ndarray | None = None) -> tuple[int, int]:
    """0-based rank of ``target`` among items 1..n not in ``exclude`` and the number of candidates.

    Equal scores: a lower item id ranks first (``tsrec.metrics``' ``ties="item_id"``); the target is
    always a candidate; NaN scores raise.
    """
    s = scores
    st = s[target]
    if st != st:
        raise ValueError(f"the learner scored the target item {target} NaN; mask items with -inf instead")
    r = int(np.count_nonzero(s > st)) + int(np.count_nonzero(s[:target] == st))
    ex = np.zeros(1, dtype=np.int64) if exclude is None or len(exclude) == 0 else \
        np.concatenate([[0], exclude[exclude != target]]).astype(np.int64)
    se = s[ex]
    r -= int(np.count_nonzero(se > st)) + int(np.count_nonzero((se == st) & (ex < target)))
    return r, len(s) - len(ex)


def top_k(scores: np.ndarray, k: int, exclude: Iterable[int] | None = None) -> np.ndarray:
    """The ``k`` best item ids (score descending, then id ascending), never 0 or an excluded item."""
    s = np.array(scores, dtype=np.float64)
    s[0] = -np.inf
    if exclude is not None:
        ex = np.fromiter(exclude, dtype=np.int64) if not isinstance(exclude, np.ndarray) else exclude
        if len(ex):
            s[ex] = -np.inf
    n = len(s)
    k = min(int(k), n - 1)
    if k < 1:
        return np.zeros(0, dtype=np.int64)
    v = np.partition(s, n - k)[n - k]                       # k-th largest value
    gt = np.flatnonzero(s > v)
    eq = np.flatnonzero(s == v)[: k - len(gt)]
    sel = np.concatenate([gt, eq])
    sel = sel[np.lexsort((sel, -s[sel]))]
    return sel[s[sel] > -np.inf]                              # drop excluded (-inf) fillers


# ----------------------------------------------------------------------------- learners
class OnlineLearner:
    """Base class: keeps per-user histories (a :class:`StreamState`) and defines the one interface.

    Subclasses implement ``score_many(users, now) -> [B, n_items + 1]`` and ``_learn(event)`` (called
    before the event enters ``self.state``, so ``self.state`` holds only the user's earlier events).
    """

    name = "online"

    def __init__(self, n_items: int, history_len: int | None = None) -> None:
        if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
            raise ValueError(f"n_items must be a positive int, got {n_items!r}")
        self.n_items = int(n_items)
        self.state = StreamState(window_seconds=None, half_life_seconds=None, history_len=history_len)

    def _check_item(self, ev: Event) -> None:
        if not (isinstance(ev.item, (int, np.integer)) and 1 <= ev.item <= self.n_items):
            raise ValueError(f"item {ev.item!r} is not an encoded id in 1..{self.n_items}; "
                             "replay with EventSource(..., encode=True) or encode with tsrec.prep")

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        raise NotImplementedError

    def score_one(self, user: Hashable, now: float) -> np.ndarray:
        """Scores [n_items + 1] for one user at time ``now`` (column 0 is padding)."""
        return self.score_many([user], [now])[0]

    def predict_one(self, user: Hashable, now: float, k: int = 10, exclude_seen: bool = True) -> list:
        """Top-k item ids for ``user`` at ``now`` (items the user has seen excluded)."""
        exclude = self.state.seen(user) if exclude_seen else None
        return top_k(self.score_one(user, now), k, exclude).tolist()

    def learn_one(self, ev: Event) -> None:
        """Learn one event (after it has been predicted)."""
        self._check_item(ev)
        self._learn(ev)
        self.state.update(ev)

    def learn_many(self, events: Iterable[Event]) -> None:
        for ev in events:
            self.learn_one(ev)

    def _learn(self, ev: Event) -> None:
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_items={self.n_items})"


class _DecayedArray:
    """Decayed counts of items 0..n as one float64 array: the vectorised twin of windows.DecayedCounter."""

    _RESCALE_AT = DecayedCounter._RESCALE_AT

    def __init__(self, n: int, half_life_seconds: float) -> None:
        if not (np.isfinite(half_life_seconds) and half_life_seconds > 0):
            raise ValueError(f"half_life_seconds must be a positive number, got {half_life_seconds!r}")
        self.h = float(half_life_seconds)
        self.scaled = np.zeros(n + 1, dtype=np.float64)
        self.t0: float | None = None

    def add(self, i: int, t: float, w: float = 1.0) -> None:
        if self.t0 is None:
            self.t0 = float(t)
        e = (t - self.t0) / self.h
        if e > self._RESCALE_AT:
            self.scaled *= np.exp2(-e)
            self.t0, e = float(t), 0.0
        self.scaled[i] += w * np.exp2(e)

    def values(self, now: float) -> np.ndarray:
        """Decayed counts at ``now``; if that underflows (now very far ahead), counts proportional to them."""
        if self.t0 is None:
            return self.scaled.copy()
        f = np.exp2(-(now - self.t0) / self.h)
        if f == 0.0 or not np.isfinite(f):
            m = self.scaled.max()
            return self.scaled / m if m > 0 else self.scaled.copy()
        return self.scaled * f


class OnlinePopularity(OnlineLearner):
    """Time-decayed item counts, updated per event: sum of 0.5 ** ((now - t) / half_life) per item."""

    name = "OnlinePop"

    def __init__(self, n_items: int, half_life_seconds: float = 7 * DAY) -> None:
        super().__init__(n_items, history_len=1)
        self.half_life_seconds = float(half_life_seconds)
        self._dec = _DecayedArray(self.n_items, self.half_life_seconds)

    def _learn(self, ev: Event) -> None:
        self._dec.add(ev.item, ev.timestamp)

    def score_one(self, user: Hashable, now: float) -> np.ndarray:
        return self._dec.values(now)

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        return np.stack([self._dec.values(t) for t in now])

    def __repr__(self) -> str:
        return f"OnlinePopularity(half_life_seconds={self.half_life_seconds:g})"


class _SparseRows:
    """Growable sparse rows (one per item) of co-occurrence counts: add one entry in O(1), read a row as arrays."""

    def __init__(self, n: int) -> None:
        self.cols: list[np.ndarray | None] = [None] * (n + 1)
        self.vals: list[np.ndarray | None] = [None] * (n + 1)
        self.size = np.zeros(n + 1, dtype=np.int64)
        self.pos: list[dict | None] = [None] * (n + 1)

    def add(self, i: int, j: int, w: float = 1.0) -> None:
        pos = self.pos[i]
        if pos is None:
            pos = self.pos[i] = {}
            self.cols[i] = np.zeros(8, dtype=np.int64)
            self.vals[i] = np.zeros(8, dtype=np.float64)
        p = pos.get(j)
        if p is None:
            p = pos[j] = int(self.size[i])
            if p == len(self.cols[i]):
                self.cols[i] = np.concatenate([self.cols[i], np.zeros(p, dtype=np.int64)])
                self.vals[i] = np.concatenate([self.vals[i], np.zeros(p, dtype=np.float64)])
            self.cols[i][p] = j
            self.size[i] += 1
        self.vals[i][p] += w

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        n = int(self.size[i])
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return self.cols[i][:n], self.vals[i][:n]

    def get(self, i: int, j: int) -> float:
        pos = self.pos[i]
        if pos is None or j not in pos:
            return 0.0
        return float(self.vals[i][pos[j]])


class OnlineItemKNN(OnlineLearner):
    """Item-kNN from incremental co-occurrence counts within each user's recent history.

    On an event (u, i), every distinct item j among u's last ``window`` items gets co(i, j) += 1 and
    co(j, i) += 1. A user's score for item i is the cosine-normalised sum over their last ``window``
    items j of co(i, j) / sqrt(n_i n_j) (weighted by 0.5 ** ((now - t_j) / half_life) if given), plus a
    tiny popularity term so that ties (and users without history) fall back to popular items.
    Counts live in a dense float32 matrix up to ``dense_max_items`` items, else in growable sparse rows.
    """

    name = "OnlineItemKNN"

    def __init__(self, n_items: int, window: int = 20, half_life_seconds: float | None = None,
                 popularity_eps: float = 1e-6, dense_max_items: int = 6000) -> None:
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"window must be a positive int, got {window!r}")
        super().__init__(n_items, history_len=window)
        self.window, self.half_life_seconds, self.eps = int(window), half_life_seconds, float(popularity_eps)
        self.dense = self.n_items <= dense_max_items
        if self.dense:
            self.co = np.zeros((self.n_items + 1, self.n_items + 1), dtype=np.float32)
        else:
            self.co = _SparseRows(self.n_items)
        self.counts = np.zeros(self.n_items + 1, dtype=np.float64)

    def cooccurrence(self, i: int, j: int) -> float:
        """co(i, j): how often i and j were consumed within ``window`` events of each other by one user."""
        return float(self.co[i, j]) if self.dense else self.co.get(i, j)

    def _learn(self, ev: Event) -> None:
        i = int(ev.item)
        recent = self.state._items.get(ev.user)
        if recent:
            js = np.unique(np.fromiter(recent, dtype=np.int64, count=len(recent)))
            js = js[js != i]
            if len(js):
                if self.dense:
                    self.co[i, js] += 1.0
                    self.co[js, i] += 1.0
                else:
                    for j in js.tolist():
                        self.co.add(i, j)
                        self.co.add(j, i)
        self.counts[i] += 1.0

    def _score(self, user: Hashable, now: float) -> np.ndarray:
        items, times = self.state.history(user)
        if len(items):
            if self.half_life_seconds:
                w = np.exp2(-np.clip(now - times, 0, None) / self.half_life_seconds)
            else:
                w = np.ones(len(items))
            js, inv = np.unique(items, return_inverse=True)
            wj = np.zeros(len(js))
            np.maximum.at(wj, inv, w)                               # an item's latest (largest) weight counts
            wj /= np.sqrt(np.maximum(self.counts[js], 1.0))
            if self.dense:
                out = (wj.astype(np.float32) @ self.co[js]).astype(np.float64)
            else:
                out = np.zeros(self.n_items + 1, dtype=np.float64)
                for j, wv in zip(js.tolist(), wj.tolist()):
                    cols, vals = self.co.row(j)
                    if len(cols):
                        out[cols] += wv * vals
            out /= np.sqrt(np.maximum(self.counts, 1.0))
        else:
            out = np.zeros(self.n_items + 1, dtype=np.float64)
        if self.eps:
            out += self.eps * self.counts / (self.counts.max() + 1.0)
        return out

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        return np.stack([self._score(u, t) for u, t in zip(users, now)])

    def score_one(self, user: Hashable, now: float) -> np.ndarray:
        return self._score(user, now)

    def __repr__(self) -> str:
        hl = f", half_life_seconds={self.half_life_seconds:g}" if self.half_life_seconds else ""
        return f"OnlineItemKNN(window={self.window}{hl})"


class Static(OnlineLearner):
    """A Recommender trained once and never updated; it still sees each user's newest history when scoring."""

    name = "Static"

    def __init__(self, model: Recommender, n_items: int | None = None, history_len: int | None = None) -> None:
        if not hasattr(model, "score"):
            raise TypeError(f"model must be a fitted Recommender (with .score), got {type(model).__name__}")
        n = n_items or getattr(model, "n_items", 0)
        super().__init__(n, history_len=history_len)
        self.model = model
        self.name = f"Static({getattr(model, 'name', type(model).__name__)})"

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        with torch.inference_mode():
            s = self.model.score(self.state.query(users, now))
        return torch.as_tensor(s).double().cpu().numpy()

    def __repr__(self) -> str:
        return f"Static({self.model!r})"


class PeriodicRetrain(OnlineLearner):
    """Refits ``factory()`` on every event so far (or the last ``window_seconds``) every ``every_seconds``
    of stream time: the batch-retraining baseline of online learning. ``initial`` events fit the first model."""

    name = "PeriodicRetrain"

    def __init__(self, factory: Callable[[], Recommender], every_seconds: float, n_users: int, n_items: int,
                 initial: pd.DataFrame | None = None, window_seconds: float | None = None,
                 history_len: int | None = None) -> None:
        if not (np.isfinite(every_seconds) and every_seconds > 0):
            raise ValueError(f"every_seconds must be a positive number, got {every_seconds!r}")
        super().__init__(n_items, history_len=history_len)
        self.factory, self.every, self.n_users = factory, float(every_seconds), int(n_users)
        self.window = window_seconds
        self._u: list = []
        self._i: list = []
        self._t: list = []
        self.model: Recommender | None = None
        self.last_fit: float | None = None
        self.n_fits, self.fit_seconds = 0, 0.0
        if initial is not None and len(initial):
            require_columns(initial, ("user", "item", "timestamp"), what="initial")
            init = initial.sort_values("timestamp", kind="stable")
            for u, i, t in zip(init["user"].tolist(), init["item"].tolist(), init["timestamp"].tolist()):
                ev = Event(u, i, int(t))
                self._check_item(ev)
                self._append(ev)
                self.state.update(ev)
            self._refit(int(init["timestamp"].iloc[-1]))
        self.name = f"PeriodicRetrain({getattr(factory(), 'name', 'model')}, every {self.every / DAY:g} d)"

    def _append(self, ev: Event) -> None:
        self._u.append(ev.user)
        self._i.append(ev.item)
        self._t.append(ev.timestamp)

    def _refit(self, now: float) -> None:
        t0 = time.perf_counter()
        frame = pd.DataFrame({"user": self._u, "item": self._i, "timestamp": self._t})
        if self.window is not None:
            frame = frame[frame["timestamp"] > now - self.window]
        self.model = self.factory().fit(frame, self.n_users, self.n_items)
        self.last_fit = now
        self.n_fits += 1
        self.fit_seconds += time.perf_counter() - t0

    def _learn(self, ev: Event) -> None:
        self._append(ev)
        if self.last_fit is None or ev.timestamp - self.last_fit >= self.every:
            self._refit(ev.timestamp)

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        users, now = list(users), list(now)
        if self.model is None:
            return np.zeros((len(users), self.n_items + 1))
        with torch.inference_mode():
            s = self.model.score(self.state.query(users, now))
        return torch.as_tensor(s).double().cpu().numpy()


class RiverMF(OnlineLearner):
    """River's incremental matrix factorisation (``river.reco.BiasedMF`` or ``FunkMF``) on implicit feedback.

    Each event is a positive (y = 1) followed by ``n_negatives`` items drawn uniformly from the items
    seen so far (y = 0), one SGD step each (river's ``learn_one``). Scoring all items reads river's
    latent vectors through a numpy mirror of the touched items, so a query is one matrix-vector product.
    """

    name = "RiverMF"

    def __init__(self, n_items: int, n_factors: int = 16, kind: str = "biased", n_negatives: int = 2,
                 lr: float = 0.05, l2: float = 0.001, seed: int = 0) -> None:
        from river import optim, reco

        super().__init__(n_items, history_len=1)
        if kind not in ("biased", "funk"):
            raise ValueError(f"kind must be 'biased' (river.reco.BiasedMF) or 'funk' (FunkMF), got {kind!r}")
        self.kind, self.n_negatives = kind, int(n_negatives)
        if kind == "biased":
            self.model = reco.BiasedMF(n_factors=n_factors, bias_optimizer=optim.SGD(lr),
                                       latent_optimizer=optim.SGD(lr), l2_bias=l2, l2_latent=l2, seed=seed)
        else:
            self.model = reco.FunkMF(n_factors=n_factors, optimizer=optim.SGD(lr), l2=l2, seed=seed)
        self._I = np.zeros((self.n_items + 1, n_factors))
        self._ib = np.zeros(self.n_items + 1)
        self._known: list[int] = []
        self._is_known = np.zeros(self.n_items + 1, dtype=bool)
        self._rng = np.random.default_rng(seed)
        self.name = f"River{'BiasedMF' if kind == 'biased' else 'FunkMF'}"

    def _mirror(self, item: int) -> None:
        self._I[item] = self.model.i_latents[item]
        if self.kind == "biased":
            self._ib[item] = self.model.i_biases[item]

    def _learn(self, ev: Event) -> None:
        u, i = ev.user, int(ev.item)
        if not self._is_known[i]:
            self._is_known[i] = True
            self._known.append(i)
        self.model.learn_one(u, i, 1.0)
        self._mirror(i)
        if self.n_negatives and len(self._known) > 1:
            for j in self._rng.choice(len(self._known), self.n_negatives).tolist():
                j = self._known[j]
                if j != i:
                    self.model.learn_one(u, j, 0.0)
                    self._mirror(j)

    def _score(self, user: Hashable) -> np.ndarray:
        uvec = self.model.u_latents.get(user)
        s = self._I @ uvec if uvec is not None else np.zeros(self.n_items + 1)
        if self.kind == "biased":
            s = s + self._ib + self.model.u_biases.get(user, 0.0) + self.model.global_mean.get()
        return s

    def score_one(self, user: Hashable, now: float) -> np.ndarray:
        return self._score(user)

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        return np.stack([self._score(u) for u in users])


class OnlineSequenceModel(OnlineLearner):
    """A torch sequence Recommender (``tsrec.models.sequential``) fine-tuned on the stream in micro-batches.

    Every ``update_every`` events, the users of those events form a micro-batch: each user's last
    ``max_len + 1`` events become one left-padded window whose targets are only their new events; the
    model takes ``steps`` optimizer steps on ``loss_fn`` (default: ``tsrec.train.sequence_loss`` with the
    model's default loss). Any model with ``encode``, ``output_weights`` and ``max_len`` works, or pass
    ``loss_fn(model, SeqInput, targets) -> loss``.
    """

    name = "OnlineSeq"

    def __init__(self, model: Any, update_every: int = 256, steps: int = 1, lr: float = 1e-4,
                 loss: str | None = None, n_negatives: int | None = None,
                 loss_fn: Callable[..., torch.Tensor] | None = None, grad_clip: float | None = 1.0,
                 weight_decay: float = 0.0, seed: int = 0) -> None:
        for attr in ("encode", "score", "max_len", "n_items", "parameters"):
            if not hasattr(model, attr):
                raise TypeError(f"model must be a torch sequence Recommender (tsrec.models.sequential); "
                                f"{type(model).__name__} lacks {attr!r}")
        if update_every < 1 or steps < 0:
            raise ValueError(f"update_every must be >= 1 and steps >= 0, got {update_every!r}, {steps!r}")
        super().__init__(int(model.n_items), history_len=int(model.max_len) + 1)
        self.model, self.update_every, self.steps = model, int(update_every), int(steps)
        self.grad_clip = grad_clip
        self.loss = loss or getattr(model, "default_loss", "ce")
        if n_negatives is None:
            from tsrec.train import DEFAULT_NEGATIVES

            n_negatives = DEFAULT_NEGATIVES.get(self.loss, 1)
        self.n_negatives = int(n_negatives)
        self.loss_fn = loss_fn
        self.optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
        self._gen = torch.Generator().manual_seed(seed)
        self._pending: Counter = Counter()
        self._n_pending = 0
        self.n_updates, self.update_seconds, self.last_loss = 0, 0.0, math.nan
        self.model.eval()
        self.name = f"Online({getattr(model, 'name', type(model).__name__)})"

    def learn_one(self, ev: Event) -> None:
        super().learn_one(ev)
        self._pending[ev.user] += 1
        self._n_pending += 1
        if self._n_pending >= self.update_every:
            self.update()

    def micro_batch(self) -> tuple[Any, torch.Tensor] | None:
        """The pending users' windows as (SeqInput, targets), targets 0 except at new events; None if empty."""
        from tsrec.models.sequential import SeqInput

        L = self.model.max_len
        rows = [(u, *self.state.history(u), n) for u, n in self._pending.items()]
        rows = [r for r in rows if len(r[1]) >= 2]
        if not rows:
            return None
        B = len(rows)
        items, times = np.zeros((B, L + 1), np.int64), np.zeros((B, L + 1), np.int64)
        new = np.zeros((B, L), dtype=bool)
        users = np.zeros(B, dtype=np.int64)
        for b, (u, it, tm, n) in enumerate(rows):
            m = min(len(it), L + 1)
            items[b, -m:], times[b, -m:] = it[-m:], tm[-m:]
            new[b, L - min(n, m - 1):] = True
            users[b] = u if isinstance(u, (int, np.integer)) else 0
        targets = np.where(new, items[:, 1:], 0)
        x = SeqInput(torch.from_numpy(users), torch.from_numpy(items[:, :-1]), torch.from_numpy(times[:, :-1]),
                     torch.from_numpy(times[:, 1:]))
        return x, torch.from_numpy(targets)

    def update(self) -> float:
        """Take ``steps`` optimizer steps on the pending micro-batch and clear it; returns the last loss."""
        t0 = time.perf_counter()
        mb = self.micro_batch()
        self._pending.clear()
        self._n_pending = 0
        if mb is None or self.steps == 0:
            return math.nan
        dev = next(self.model.parameters()).device
        x, targets = mb[0].to(dev), mb[1].to(dev)
        self.model.train()
        for _ in range(self.steps):
            if self.loss_fn is not None:
                loss = self.loss_fn(self.model, x, targets)
            else:
                from tsrec.train import sequence_loss

                loss = sequence_loss(self.model, self.model.encode(x), targets, self.loss, self.n_negatives, self._gen)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.grad_clip:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
            self.optimizer.step()
        self.model.eval()
        self.n_updates += 1
        self.last_loss = float(loss.detach())
        self.update_seconds += time.perf_counter() - t0
        return self.last_loss

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        s = self.model.score(self.state.query(users, now))
        return torch.as_tensor(s).double().cpu().numpy()


# ----------------------------------------------------------------------------- test-then-train
def prequential(stream: EventSource | pd.DataFrame | str | Path | Iterable[Event], learner: OnlineLearner,
                k: int = 10, every: int = 1, start: Any = None, end: Any = None, batch_size: int = 1,
                mask_seen: bool = True, progress: bool = True, max_events: int | None = None) -> pd.DataFrame:
    """Test-then-train: predict each event (rank of its item among all items), then learn it.

    Returns one row per evaluated event: ``event`` (position in the stream), ``row``, ``timestamp``,
    ``user``, ``item``, ``rank`` (0-based, ties by item id), ``candidates``, ``HR@k``, ``NDCG@k`` and
    ``repeat`` (the user had the item before; with ``mask_seen`` their other earlier items are masked,
    the target never is). Every event is learned; only events with ``start <= timestamp < end`` are
    evaluated, and of those every ``every``-th. ``batch_size > 1`` predicts that many consecutive
    events with the state before the first of them, then learns them all (faster for torch models;
    never leaks, but a prediction then misses the batch's earlier events). Torch learners score one
    query at a time: run them with ``torch.set_num_threads(1)`` (on a busy 2-core machine two threads
    made SASRec's per-event forward 14x slower).
    """
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every must be a positive int, got {every!r}")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    events = _as_events(stream)
    lo, hi = _time_bound(start), _time_bound(end)
    seen: dict[Hashable, set] = {}
    out: dict[str, list] = {c: [] for c in ("event", "row", "timestamp", "user", "item", "rank", "candidates", "repeat")}
    total = len(events) if hasattr(events, "__len__") else None
    if max_events is not None and total is not None:
        total = min(total, max_events)
    bar = tqdm(total=total, desc=f"prequential {getattr(learner, 'name', type(learner).__name__)}",
               disable=not progress, mininterval=1.0)
    n_in_range, predict_s, learn_s = 0, 0.0, 0.0
    pending: list[tuple[int, Event, bool]] = []

    def flush() -> None:
        nonlocal predict_s, learn_s
        todo = [(pos, ev) for pos, ev, ev_eval in pending if ev_eval]
        if todo:
            t0 = time.perf_counter()
            if len(todo) == 1:
                scores = learner.score_one(todo[0][1].user, todo[0][1].timestamp)[None, :]
            else:
                scores = learner.score_many([ev.user for _, ev in todo], [ev.timestamp for _, ev in todo])
            predict_s += time.perf_counter() - t0
            for (pos, ev), s in zip(todo, scores):
                s = np.asarray(s, dtype=np.float64)
                mine = seen.get(ev.user)
                excl = np.fromiter(mine, dtype=np.int64, count=len(mine)) if (mask_seen and mine) else None
                r, c = rank_of(s, int(ev.item), excl)
                for col, v in zip(out, (pos, ev.row, ev.timestamp, ev.user, ev.item, r, c,
                                        bool(mine) and ev.item in mine)):
                    out[col].append(v)
        t0 = time.perf_counter()
        for _, ev, _ in pending:
            learner.learn_one(ev)
            seen.setdefault(ev.user, set()).add(ev.item)
        learn_s += time.perf_counter() - t0
        bar.update(len(pending))
        pending.clear()

    for pos, ev in enumerate(events):
        if max_events is not None and pos >= max_events:
            break
        if hi is not None and ev.timestamp >= hi:
            break
        in_range = lo is None or ev.timestamp >= lo
        evaluate_it = False
        if in_range:
            evaluate_it = n_in_range % every == 0
            n_in_range += 1
        pending.append((pos, ev, evaluate_it))
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    bar.close()
    res = pd.DataFrame(out)
    res = res.astype({"event": "int64", "row": "int64", "timestamp": "int64", "rank": "int64",
                      "candidates": "int64", "repeat": "bool"})
    hit = res["rank"].to_numpy() < k
    res[f"HR@{k}"] = hit.astype(np.float64)
    res[f"NDCG@{k}"] = np.where(hit, 1.0 / np.log2(res["rank"].to_numpy() + 2.0), 0.0)
    res.attrs.update({"learner": getattr(learner, "name", type(learner).__name__), "k": k,
                      "predict_seconds": predict_s, "learn_seconds": learn_s, "batch_size": batch_size})
    return res


def _metric_columns(results: pd.DataFrame) -> list[str]:
    return [c for c in results.columns if "@" in c]


def summarize(results: pd.DataFrame, skip_repeats: bool = False) -> dict[str, float]:
    """Mean of every metric column over the evaluated events (optionally without repeat events)."""
    r = results[~results["repeat"]] if skip_repeats else results
    if len(r) == 0:
        raise ValueError("no evaluated events to summarise")
    out = {c: float(r[c].mean()) for c in _metric_columns(r)}
    out["events"] = len(r)
    return out


def compare_online(make_stream: Callable[[], Iterable[Event]], learners: dict[str, OnlineLearner],
                   **kwargs) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Run :func:`prequential` for each learner on a fresh stream; a summary table and the per-event results."""
    results, rows = {}, []
    for name, learner in learners.items():
        t0 = time.perf_counter()
        res = prequential(make_stream(), learner, **kwargs)
        results[name] = res
        rows.append({"learner": name, **summarize(res), "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows).set_index("learner"), results


def over_time(results: pd.DataFrame, freq: str = "W", metrics: list[str] | None = None) -> pd.DataFrame:
    """Mean metrics per calendar period (``freq``: 'D', 'W', 'MS', ... in UTC) with the event count ``n``."""
    metrics = metrics or _metric_columns(results)
    when = pd.to_datetime(results["timestamp"], unit="s", utc=True)
    g = results.assign(_when=when).groupby(pd.Grouper(key="_when", freq=freq))
    out = g[metrics].mean()
    out["n"] = g.size()
    out.index.name = "period"
    return out[out["n"] > 0]


def drift_points(series: pd.Series | np.ndarray | Iterable[float], delta: float = 0.002, clock: int = 32,
                 **adwin_kwargs) -> list:
    """Where ``river.drift.ADWIN`` detects a change in the series' mean: index labels (or positions).

    ADWIN keeps an adaptive window and signals when two sub-windows' means differ more than chance
    allows (confidence ``delta``); detection comes a little after the true change (``clock`` steps).
    """
    from river.drift import ADWIN

    adwin = ADWIN(delta=delta, clock=clock, **adwin_kwargs)
    values = np.asarray(series, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("series contains NaN; drop or fill them before looking for drift")
    labels = series.index if isinstance(series, pd.Series) else None
    found = []
    for pos, v in enumerate(values.tolist()):
        adwin.update(v)
        if adwin.drift_detected:
            found.append(labels[pos] if labels is not None else pos)
    return found


def plot_over_time(results: pd.DataFrame | dict[str, pd.DataFrame], metric: str | None = None, freq: str = "W",
                   ax: Any = None, drift: bool = False, min_events: int = 1):
    """Line plot of a metric per period for one or several learners; ``drift=True`` marks ADWIN change points
    of the per-event metric with vertical lines. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    runs = results if isinstance(results, dict) else {results.attrs.get("learner", "learner"): results}
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    for name, res in runs.items():
        m = metric or next(c for c in _metric_columns(res) if c.startswith("NDCG"))
        per = over_time(res, freq, [m])
        per = per[per["n"] >= min_events]
        line, = ax.plot(per.index, per[m], marker=".", label=name)
        if drift:
            ordered = res.sort_values("event")
            for ts in drift_points(pd.Series(ordered[m].to_numpy(), index=ordered["timestamp"].to_numpy())):
                ax.axvline(pd.Timestamp(int(ts), unit="s", tz="UTC"), color=line.get_color(), alpha=0.4, ls="--")
        metric = m
    ax.set_ylabel(metric)
    ax.set_xlabel(f"time (per {freq}, UTC)")
    ax.set_title(f"prequential {metric} over time")
    ax.legend()
    return ax
