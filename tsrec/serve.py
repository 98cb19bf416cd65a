"""Serving (appendix B, chapter 4.3): a FastAPI app over any Recommender, with a durable event log.

``POST /events`` appends {user, item, timestamp?} to a SQLite log (WAL, ``synchronous=FULL``) and
commits it BEFORE answering 201, then updates the user's in-memory history; ``GET
/users/{user}/recommendations?k=`` scores all items from the user's newest events (those just posted
included), excludes what the user has seen and returns raw item ids with scores; users without any
event get recent popularity from the log (cold start). On start the state is rebuilt by replaying the
log, so a crash (even SIGKILL) loses no acknowledged event. Raw ids go through the model's IdMap.

Run: ``tsrec serve --checkpoint ckpt.pt --db events.sqlite --port 8000`` (see ``tsrec.cli``).
"""
from __future__ import annotations

import bisect
import json
import math
import pickle
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from tsrec.data import DataError, require_columns
from tsrec.models.base import QueryBatch, Recommender
from tsrec.prep import IdMap
from tsrec.stream import top_k

__all__ = ["ServedModel", "save_model", "load_model", "EventLog", "LiveState", "EventIn", "Recommendations", "scorer",
           "normalize_user", "create_app", "run"]

PICKLE_FORMAT = "tsrec.served-model/1"
DAY = 86_400


# ----------------------------------------------------------------------------- the model and its ids
@dataclass
class ServedModel:
    """A fitted Recommender with the IdMaps that turn raw ids into its ids 1..n (and back).

    ``item_counts`` (training events per encoded item) breaks cold-start ties; ``info`` is free metadata
    (the data set name, metrics, ...).
    """

    model: Recommender
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
        return self._items[1].get(raw, 0)

    def user_index(self, raw: Any) -> int:
        """Encoded id of a raw user id, 0 if unknown or if the model has no user map."""
        if self.user_map is None:
            return 0
        if self._users is None or self._users[0] is not self.user_map:
            self._users = (self.user_map, {v: i + 1 for i, v in enumerate(self.user_map.raw.tolist())})
        return self._users[1].get(raw, 0)

    @property
    def name(self) -> str:
        return str(getattr(self.model, "name", type(self.model).__name__))


def _as_idmap(ids: IdMap | Any | None) -> IdMap | None:
    """An IdMap from an IdMap or raw ids listed in encoding order (raw id of 1, of 2, ...)."""
    if ids is None or isinstance(ids, IdMap):
        return ids
    raw = np.asarray(list(ids))
    if len(pd.unique(raw)) != len(raw):
        raise ValueError("item/user ids must be unique (the raw id of encoded id 1, 2, ...)")
    return IdMap(raw, {v: i + 1 for i, v in enumerate(raw.tolist())})


def _plain(values: np.ndarray) -> list:
    """Numpy ids as a list of plain Python ints/strs (what torch's weights_only loader accepts)."""
    return [v.item() if hasattr(v, "item") else v for v in np.asarray(values).tolist()]


def save_model(model: Recommender, path: str | Path, item_map: IdMap, user_map: IdMap | None = None,
               item_counts: np.ndarray | None = None, info: dict | None = None) -> Path:
    """Save a model with its id maps: sequence models as a ``tsrec.train`` checkpoint (ids in its ``extra``),
    any other Recommender as a pickle (load only files you made yourself: pickle runs code)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"item_ids": _plain(item_map.raw), "user_ids": None if user_map is None else _plain(user_map.raw),
             "item_counts": None if item_counts is None else [float(x) for x in np.asarray(item_counts)],
             "info": dict(info or {})}
    from tsrec.models.sequential import SequentialRecommender

    if isinstance(model, SequentialRecommender):
        from tsrec.train import save_checkpoint

        return save_checkpoint(model, path, extra=extra)
    with open(path, "wb") as f:
        pickle.dump({"format": PICKLE_FORMAT, "model": model, **extra}, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _from_extra(model: Recommender, extra: dict, path: Path) -> ServedModel:
    if not extra.get("item_ids"):
        raise DataError(f"{path} has no item id map (extra['item_ids']); save it with tsrec.serve.save_model "
                        f"or pass item_ids= to create_app")
    counts = extra.get("item_counts")
    return ServedModel(model, _as_idmap(extra["item_ids"]), _as_idmap(extra.get("user_ids")),
                       None if counts is None else np.asarray(counts, dtype=np.float64), dict(extra.get("info") or {}))


def load_model(path: str | Path, device: str | None = "cpu") -> ServedModel:
    """Load what ``save_model`` wrote (or a ``tsrec.train`` checkpoint whose extra holds ``item_ids``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: train one with `tsrec train --out {path}`")
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK"):                                   # torch.save's zip format
        from tsrec.train import load_checkpoint

        model = load_checkpoint(path, device=device)
        return _from_extra(model, getattr(model, "checkpoint_extra", {}) or {}, path)
    with open(path, "rb") as f:
        try:
            payload = pickle.load(f)
        except Exception as e:  # noqa: BLE001 - any unpickling failure means "not our file"
            raise DataError(f"{path} is neither a tsrec checkpoint nor a tsrec pickled model ({e})") from e
    if not isinstance(payload, dict) or payload.get("format") != PICKLE_FORMAT:
        raise DataError(f"{path} is not a model saved by tsrec.serve.save_model")
    return _from_extra(payload["model"], payload, path)


def _served(model: Any, item_ids: Any = None, user_ids: Any = None) -> ServedModel:
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


# ----------------------------------------------------------------------------- the durable log
class _Pending:
    __slots__ = ("row", "seq", "error", "done", "apply")

    def __init__(self, row: tuple, apply: Any) -> None:
        self.row, self.apply = row, apply
        self.seq: int | None = None
        self.error: BaseException | None = None
        self.done = False


class EventLog:
    """Append-only SQLite event log in WAL mode with ``synchronous=FULL``: an append returns only after
    its transaction is committed and synced. Concurrent appends share one commit (group commit)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False, timeout=30)
        mode = self.conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise RuntimeError(f"{self.path}: SQLite refused WAL mode (got {mode!r}); use a local disk")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
                          "user NOT NULL, item NOT NULL, timestamp INTEGER NOT NULL, received REAL NOT NULL)")
        self._queue: list[_Pending] = []
        self._qlock = threading.Lock()
        self._wlock = threading.Lock()
        self.commits = 0

    def append(self, user: Any, item: Any, timestamp: int, apply: Any = None) -> int:
        """Durably append one event and return its sequence number; ``apply(seq, row)`` runs after the
        commit, in log order, before any later event's (so memory follows the log exactly)."""
        p = _Pending((user, item, int(timestamp), time.time()), apply)
        with self._qlock:
            self._queue.append(p)
        with self._wlock:
            if not p.done:
                with self._qlock:
                    batch, self._queue = self._queue, []
                try:
                    self.conn.execute("BEGIN IMMEDIATE")
                    try:
                        for q in batch:
                            q.seq = self.conn.execute(
                                "INSERT INTO events (user, item, timestamp, received) VALUES (?, ?, ?, ?)",
                                q.row).lastrowid
                        self.conn.execute("COMMIT")
                    except BaseException:
                        self.conn.execute("ROLLBACK")
                        raise
                    self.commits += 1
                except BaseException as e:  # noqa: BLE001 - every waiter must learn of the failure
                    for q in batch:
                        q.error, q.seq = e, None
                for q in batch:
                    try:
                        if q.error is None and q.apply is not None:
                            q.apply(q.seq, q.row)
                    except BaseException as e:  # noqa: BLE001 - logged but not applied: a replay will apply it
                        q.error = e
                    finally:
                        q.done = True
        if p.error is not None:
            raise p.error
        return int(p.seq)

    def replay(self) -> Iterator[tuple[int, Any, Any, int]]:
        """Every logged event as (seq, user, item, timestamp), in log order."""
        cur = self.conn.cursor()
        cur.execute("SELECT seq, user, item, timestamp FROM events ORDER BY seq")
        while rows := cur.fetchmany(10_000):
            yield from rows

    def __len__(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def close(self) -> None:
        self.conn.close()


# ----------------------------------------------------------------------------- in-memory state
def normalize_user(user: Any) -> int | str:
    """A user id as an int when it is one (7 and "7" are the same user), else as a string."""
    if isinstance(user, bool):
        raise ValueError("a user id must be an int or a string, not a boolean")
    if isinstance(user, (int, np.integer)):
        return int(user)
    s = str(user)
    if s.lstrip("-").isdigit() and str(int(s)) == s:
        return int(s)
    return s


class LiveState:
    """Per-user histories (encoded items and times, time order, ties in arrival order) and a global event
    buffer for cold-start popularity; thread-safe; fed from the log on start and after each commit."""

    def __init__(self, n_items: int) -> None:
        self.n_items = n_items
        self.lock = threading.Lock()
        self.items: dict[Any, list[int]] = {}
        self.times: dict[Any, list[int]] = {}
        self.seen: dict[Any, set[int]] = {}
        self._ev_items = np.zeros(1024, dtype=np.int64)
        self._ev_times = np.zeros(1024, dtype=np.int64)
        self.n_events = 0
        self.counts = np.zeros(n_items + 1, dtype=np.float64)
        self.latest: int | None = None

    def add(self, user: Any, item: int, t: int) -> None:
        with self.lock:
            items = self.items.get(user)
            if items is None:
                items, times = self.items[user], self.times[user] = [], []
                self.seen[user] = set()
            times = self.times[user]
            if not times or t >= times[-1]:
                items.append(item)
                times.append(t)
            else:                                                # a late event: keep time order
                pos = bisect.bisect_right(times, t)
                items.insert(pos, item)
                times.insert(pos, t)
            self.seen[user].add(item)
            if self.n_events == len(self._ev_items):
                self._ev_items = np.concatenate([self._ev_items, np.zeros_like(self._ev_items)])
                self._ev_times = np.concatenate([self._ev_times, np.zeros_like(self._ev_times)])
            self._ev_items[self.n_events] = item
            self._ev_times[self.n_events] = t
            self.n_events += 1
            self.counts[item] += 1.0
            self.latest = t if self.latest is None else max(self.latest, t)

    def history(self, user: Any, now: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The user's items and times up to ``now`` (all if None) and the distinct items among them (copies)."""
        with self.lock:
            items, times = self.items.get(user), self.times.get(user)
            if items is None:
                empty = np.zeros(0, dtype=np.int64)
                return empty, empty, empty
            n = len(times) if now is None else bisect.bisect_right(times, now)
            it, tm = np.array(items[:n], dtype=np.int64), np.array(times[:n], dtype=np.int64)
        return it, tm, np.unique(it)

    def popularity(self, now: float, window_seconds: float) -> np.ndarray:
        """Events per item in (now - window, now], ties broken by all-time counts (a share < 1)."""
        with self.lock:
            n = self.n_events
            items, times = self._ev_items[:n], self._ev_times[:n]
            recent = (times > now - window_seconds) & (times <= now)
            c = np.bincount(items[recent], minlength=self.n_items + 1).astype(np.float64)
            total = self.counts.copy()
        return c + total / (total.max() + 1.0)

    @property
    def n_users(self) -> int:
        return len(self.items)


class _Latency:
    """The last ``size`` latencies of one endpoint, with percentiles in milliseconds."""

    def __init__(self, size: int = 10_000) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self.count = 0

    def add(self, seconds: float) -> None:
        self.values.append(seconds)
        self.count += 1

    def summary(self) -> dict[str, float | int]:
        if not self.values:
            return {"count": self.count}
        v = np.fromiter(self.values, dtype=np.float64) * 1000.0
        p50, p90, p99 = np.percentile(v, [50, 90, 99])
        return {"count": self.count, "p50_ms": round(float(p50), 3), "p90_ms": round(float(p90), 3),
                "p99_ms": round(float(p99), 3), "max_ms": round(float(v.max()), 3), "window": len(v)}


# ----------------------------------------------------------------------------- the app
Id = Union[StrictInt, StrictStr]


class EventIn(BaseModel):
    """One interaction posted to ``/events``: raw user and item ids, optional Unix seconds (default: now)."""

    model_config = ConfigDict(extra="forbid")
    user: Id = Field(description="raw user id (int or string)")
    item: Id = Field(description="raw item id, one the model knows")
    timestamp: Union[StrictInt, StrictFloat, None] = Field(default=None, description="Unix seconds; default now")


def scorer(model: Recommender):
    """A function QueryBatch -> float64 scores [B, n_items + 1] for serving. A sequence model in eval mode
    is run directly (``encode`` + ``logits`` under inference mode), skipping ``score``'s per-call switch
    to eval mode and back, which walks every sub-module (about 1 ms of a 2 ms request on a busy CPU)."""
    from tsrec.models.sequential import SeqInput, SequentialRecommender

    if isinstance(model, SequentialRecommender):
        model.eval()
        device = next(model.parameters()).device

        def score_seq(batch: QueryBatch) -> np.ndarray:
            with torch.inference_mode():
                x = SeqInput.from_queries(batch, model.max_len, device)
                s = model.logits(model.encode(x)[:, -1]).double().cpu().numpy()
            s[:, 0] = -np.inf
            return s

        return score_seq

    def score(batch: QueryBatch) -> np.ndarray:
        with torch.inference_mode():
            return torch.as_tensor(model.score(batch)).double().cpu().numpy()

    return score


class Recommendations:
    """What the recommendation endpoint computes, separated from HTTP so notebooks can call it directly."""

    def __init__(self, served: ServedModel, state: LiveState, cold_window_seconds: float, clock: str) -> None:
        self.served, self.state = served, state
        self.score = scorer(served.model)
        self.cold_window = float(cold_window_seconds)
        self.clock = clock

    def now(self) -> float:
        if self.clock == "stream" and self.state.latest is not None:
            return float(self.state.latest)
        return time.time()

    def __call__(self, user: Any, k: int, now: float | None = None) -> dict:
        t = self.now() if now is None else float(now)
        items, times, seen = self.state.history(user, t)
        sm = self.served
        if len(items) == 0:
            scores = self.state.popularity(t, self.cold_window)
            if sm.item_counts is not None and len(sm.item_counts) == len(scores):
                scores = scores + sm.item_counts / (sm.item_counts.max() + 1.0) / (self.state.n_events + 2.0)
            cold = True
        else:
            uid = sm.user_index(user)
            batch = QueryBatch(np.array([uid], dtype=np.int64), [items], [times], np.array([int(t)], dtype=np.int64))
            scores = self.score(batch)[0]
            cold = False
        top = top_k(scores, k, seen)
        return {"user": user, "items": _plain(sm.item_map.decode(top)) if len(top) else [],
                "scores": [float(x) for x in scores[top]], "cold_start": cold, "history": int(len(items)),
                "now": t, "model": sm.name}


_EXPECTED = {"user": "an integer or string user id", "item": "an integer or string item id",
             "timestamp": "Unix seconds (a number) or null"}


def _validation_content(raw_errors: list) -> dict:
    """FastAPI's validation errors as a list plus one readable message (a union's errors merged per field)."""
    errors, by_field = [], {}
    for e in raw_errors:
        loc = [str(x) for x in e.get("loc", ())]
        errors.append({"loc": loc, "msg": str(e.get("msg", "")), "type": e.get("type")})
        if e.get("type") == "json_invalid":
            key, msg = "body", f"invalid JSON ({e.get('ctx', {}).get('error', 'decode error')}) at character {loc[-1]}"
        else:
            key = loc[1] if len(loc) > 1 else (loc[0] if loc else "request")
            got = e.get("input")
            if key in _EXPECTED and e.get("type") != "missing" and (key in by_field or len(loc) > 2):
                msg = f"expected {_EXPECTED[key]}, got {type(got).__name__} {got!r}"[:200]
            else:
                msg = str(e.get("msg", ""))
        by_field[key] = msg
    message = "; ".join(f"{k}: {m}" for k, m in by_field.items())
    return {"detail": errors, "message": message}


def create_app(model: Any, item_ids: Any = None, user_ids: Any = None, db_path: str | Path = "events.sqlite",
               history: pd.DataFrame | None = None, default_k: int = 10, max_k: int = 100,
               cold_window_seconds: float = 7 * DAY, clock: str = "wall", max_future_seconds: float = DAY,
               threads: int | None = 1):
    """A FastAPI app serving ``model`` (a fitted Recommender, a ServedModel, or a path for ``load_model``).

    ``item_ids``/``user_ids``: raw ids of encoded ids 1..n (or IdMaps), when the model does not carry them.
    ``history``: raw-id interactions loaded into memory before the log (e.g. the training data), never
    written to the log. ``clock``: "wall" (request time = server time) or "stream" (= the newest event's
    timestamp, for replayed historic data). ``threads``: torch threads (1 keeps latency predictable).
    """
    from fastapi import FastAPI, HTTPException, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response

    if clock not in ("wall", "stream"):
        raise ValueError(f"clock must be 'wall' or 'stream', got {clock!r}")
    if not (isinstance(max_k, int) and isinstance(default_k, int) and 1 <= default_k <= max_k):
        raise ValueError(f"need 1 <= default_k <= max_k (ints), got default_k={default_k!r}, max_k={max_k!r}")
    if threads:
        torch.set_num_threads(int(threads))
    served = _served(model, item_ids, user_ids)
    max_k = min(max_k, served.n_items)
    default_k = min(default_k, max_k)
    state = LiveState(served.n_items)
    log = EventLog(db_path)
    item_is_int = served.item_map.raw.dtype.kind in "iu"
    counters = {"events_accepted": 0, "events_rejected": 0, "recommendations": 0, "cold_start": 0,
                "replayed": 0, "replay_skipped": 0, "history_loaded": 0}
    latency = {"recommendations": _Latency(), "events": _Latency()}
    started = time.time()
    count_lock = threading.Lock()

    def count(name: str, n: int = 1) -> None:
        with count_lock:
            counters[name] += n

    if history is not None:
        require_columns(history, ("user", "item", "timestamp"), what="history")
        h = history.sort_values("timestamp", kind="stable")
        enc = served.item_map.encode(h["item"], unknown="pad")
        for u, i, t in zip(h["user"].tolist(), enc.tolist(), h["timestamp"].astype("int64").tolist()):
            if i:
                state.add(normalize_user(u), i, t)
                counters["history_loaded"] += 1
    t0 = time.perf_counter()
    for _seq, u, item, t in log.replay():
        i = served.item_index(item)
        if i == 0:
            counters["replay_skipped"] += 1
            continue
        state.add(normalize_user(u), i, int(t))
        counters["replayed"] += 1
    replay_seconds = time.perf_counter() - t0
    recommend = Recommendations(served, state, cold_window_seconds, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        log.close()

    app = FastAPI(title="tsrec recommender", version="0.1.0", lifespan=lifespan,
                  description=f"model {served.name}: {served.n_items} items; events are logged durably before 201")
    app.state.tsrec = {"served": served, "state": state, "log": log, "counters": counters, "recommend": recommend}

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        if request.url.path == "/events":
            count("events_rejected")
        return JSONResponse(status_code=422, content=_validation_content(exc.errors()))

    def reject(msg: str):
        count("events_rejected")
        raise HTTPException(status_code=422, detail=msg)

    @app.post("/events", status_code=201)
    def post_event(event: EventIn) -> dict:
        t0 = time.perf_counter()
        item = event.item
        if item_is_int and isinstance(item, str) and item.lstrip("-").isdigit():
            item = int(item)
        i = served.item_index(item)
        if i == 0:
            reject(f"unknown item {event.item!r}: the model knows {served.n_items} items; events of other items "
                   f"cannot be used (retrain to add items)")
        user = normalize_user(event.user)
        if isinstance(user, str) and len(user) > 256:
            reject("user id longer than 256 characters")
        now = time.time()
        if event.timestamp is None:
            ts = int(now)
        else:
            if not math.isfinite(event.timestamp) or event.timestamp < 0:
                reject(f"timestamp must be finite Unix seconds >= 0, got {event.timestamp!r}")
            if event.timestamp > now + max_future_seconds:
                reject(f"timestamp {event.timestamp} is more than {max_future_seconds:g} s in the future "
                       f"(server time {now:.0f}); send Unix seconds, not milliseconds")
            ts = int(event.timestamp)
        seq = log.append(user, item, ts, apply=lambda _s, _r: state.add(user, i, ts))
        count("events_accepted")
        with count_lock:
            latency["events"].add(time.perf_counter() - t0)
        return {"seq": seq, "user": user, "item": item, "timestamp": ts}

    # async: computed on the event loop, no thread hop (a request takes ~1-3 ms; POSTs wait on fsync in threads)
    @app.get("/users/{user}/recommendations")
    async def recommendations(user: str, k: int = Query(default_k, ge=1, le=max_k, description=f"1..{max_k}"),
                              now: float | None = Query(None, description="request time (Unix s); default: clock")):
        """Top-k raw item ids and scores for ``user`` at ``now``; cold-start popularity for unknown users."""
        t0 = time.perf_counter()
        if now is not None and not math.isfinite(now):
            raise HTTPException(status_code=422, detail="now must be a finite number of Unix seconds")
        out = recommend(normalize_user(user), k, now)
        body = json.dumps(out).encode()                      # a ready Response skips FastAPI's re-encoding
        with count_lock:
            counters["recommendations"] += 1
            counters["cold_start"] += int(out["cold_start"])
            latency["recommendations"].add(time.perf_counter() - t0)
        return Response(body, media_type="application/json")

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok", "model": served.name, "items": served.n_items, "events": state.n_events,
                "users": state.n_users, "log": str(log.path)}

    @app.get("/metrics")
    def metrics() -> dict:
        with count_lock:
            lat = {name: summary.summary() for name, summary in latency.items()}
        return {"uptime_s": round(time.time() - started, 3), **counters, "log_commits": log.commits,
                "events_in_memory": state.n_events, "users": state.n_users,
                "replay_seconds": round(replay_seconds, 3),
                "latency": lat}

    return app


def run(app: Any, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning") -> None:
    """Serve ``app`` with uvicorn (one process; the endpoints run in its thread pool)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
