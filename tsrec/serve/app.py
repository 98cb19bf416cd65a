"""The HTTP service (appendix B, chapter 4.3): a FastAPI app over any model, with a durable event log.

``POST /events`` appends {user, item, timestamp?} to the SQLite log and commits it BEFORE answering 201,
then updates the user's in-memory history; ``GET /users/{user}/recommendations?k=`` scores all items from
the user's newest events (those just posted included), excludes what the user has seen and returns raw
item ids with scores; users without any event get recent popularity from the log (cold start). On start
the state is rebuilt by replaying the log, so a crash (even SIGKILL) loses no acknowledged event.
``Service`` holds what the endpoints compute, apart from HTTP, so notebooks and tests can call it directly.

Run: ``tsrec serve --checkpoint ckpt.pt --db events.sqlite --port 8000`` (see ``tsrec.cli``).
"""
from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import pandas as pd
import torch
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from tsrec.data import require_columns
from tsrec.metrics import topk_items
from tsrec.models.base import Scorer, score_numpy
from tsrec.models.sequential import SeqInput, SequentialRecommender
from tsrec.queries import QueryBatch
from tsrec.serve.log import EventLog
from tsrec.serve.model import ServedModel, as_served, plain_ids
from tsrec.serve.state import Latency, LiveState, normalize_user
from tsrec.times import DAY, WEEK

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["EventIn", "Rejected", "Service", "scorer", "create_app", "run"]

Id = Union[StrictInt, StrictStr]
_EXPECTED = {"user": "an integer or string user id", "item": "an integer or string item id",
             "timestamp": "Unix seconds (a number) or null"}


class EventIn(BaseModel):
    """One interaction posted to ``/events``: raw user and item ids, optional Unix seconds (default: now)."""

    model_config = ConfigDict(extra="forbid")
    user: Id = Field(description="raw user id (int or string)")
    item: Id = Field(description="raw item id, one the model knows")
    timestamp: Union[StrictInt, StrictFloat, None] = Field(default=None, description="Unix seconds; default now")


class Rejected(ValueError):
    """A request the service refuses, with the one-line reason sent back as a 422."""


def scorer(model: Scorer) -> Callable[[QueryBatch], np.ndarray]:
    """A function QueryBatch -> float64 scores [B, n_items + 1] for serving. A sequence model in eval mode
    is run directly (``encode`` + ``logits`` under inference mode), skipping ``score``'s per-call switch
    to eval mode and back, which walks every sub-module (about half of a request on a busy CPU)."""
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

    return lambda batch: score_numpy(model, batch)


class Service:
    """The service's state and what each endpoint computes: events in, recommendations out, health, metrics."""

    def __init__(self, served: ServedModel, log: EventLog, default_k: int = 10, max_k: int = 100,
                 cold_window_seconds: float = WEEK, clock: str = "wall", max_future_seconds: float = DAY) -> None:
        if clock not in ("wall", "stream"):
            raise ValueError(f"clock must be 'wall' or 'stream', got {clock!r}")
        if not (isinstance(max_k, int) and isinstance(default_k, int) and 1 <= default_k <= max_k):
            raise ValueError(f"need 1 <= default_k <= max_k (ints), got default_k={default_k!r}, max_k={max_k!r}")
        self.served, self.log, self.state = served, log, LiveState(served.n_items)
        self.max_k = min(max_k, served.n_items)
        self.default_k = min(default_k, self.max_k)
        self.cold_window, self.clock, self.max_future = float(cold_window_seconds), clock, float(max_future_seconds)
        self.score = scorer(served.model)
        self.item_is_int = served.item_map.raw.dtype.kind in "iu"
        self.counters = {"events_accepted": 0, "events_rejected": 0, "recommendations": 0, "cold_start": 0,
                         "replayed": 0, "replay_skipped": 0, "history_loaded": 0}
        self.latency = {"recommendations": Latency(), "events": Latency()}
        self.lock = threading.Lock()
        self.started, self.replay_seconds = time.time(), 0.0

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counters[name] += n

    def load(self, history: pd.DataFrame | None = None) -> Service:
        """Load ``history`` (raw ids, never written to the log) and then replay the log into memory."""
        if history is not None:
            require_columns(history, ("user", "item", "timestamp"), what="history")
            h = history.sort_values("timestamp", kind="stable")
            enc = self.served.item_map.encode(h["item"], unknown="pad")
            for u, i, t in zip(h["user"].tolist(), enc.tolist(), h["timestamp"].astype("int64").tolist()):
                if i:
                    self.state.add(normalize_user(u), i, t)
                    self.counters["history_loaded"] += 1
        t0 = time.perf_counter()
        for _seq, u, item, t in self.log.replay():
            i = self.served.item_index(item)
            if i == 0:
                self.counters["replay_skipped"] += 1
                continue
            self.state.add(normalize_user(u), i, int(t))
            self.counters["replayed"] += 1
        self.replay_seconds = time.perf_counter() - t0
        return self

    def now(self) -> float:
        if self.clock == "stream" and self.state.latest is not None:
            return float(self.state.latest)
        return time.time()

    def _event_time(self, timestamp: float | None) -> int:
        now = time.time()
        if timestamp is None:
            return int(now)
        if not math.isfinite(timestamp) or timestamp < 0:
            raise Rejected(f"timestamp must be finite Unix seconds >= 0, got {timestamp!r}")
        if timestamp > now + self.max_future:
            raise Rejected(f"timestamp {timestamp} is more than {self.max_future:g} s in the future "
                           f"(server time {now:.0f}); send Unix seconds, not milliseconds")
        return int(timestamp)

    def post_event(self, event: EventIn) -> dict:
        """Log the event durably, then add it to the user's history; Rejected for what cannot be used."""
        t0 = time.perf_counter()
        item = event.item
        if self.item_is_int and isinstance(item, str) and item.lstrip("-").isdigit():
            item = int(item)
        i = self.served.item_index(item)
        if i == 0:
            raise Rejected(f"unknown item {event.item!r}: the model knows {self.served.n_items} items; events of "
                           "other items cannot be used (retrain to add items)")
        user = normalize_user(event.user)
        if isinstance(user, str) and len(user) > 256:
            raise Rejected("user id longer than 256 characters")
        ts = self._event_time(event.timestamp)
        seq = self.log.append(user, item, ts, apply=lambda _s, _r: self.state.add(user, i, ts))
        with self.lock:
            self.counters["events_accepted"] += 1
            self.latency["events"].add(time.perf_counter() - t0)
        return {"seq": seq, "user": user, "item": item, "timestamp": ts}

    def recommend(self, user: Any, k: int, now: float | None = None) -> dict:
        """Top-k raw item ids and scores for ``user`` at ``now`` (default: the clock), seen items excluded;
        recent popularity from the log when the user has no event yet (cold start)."""
        t = self.now() if now is None else float(now)
        items, times, seen = self.state.history(user, t)
        sm = self.served
        if len(items) == 0:
            scores = self.state.popularity(t, self.cold_window)
            if sm.item_counts is not None and len(sm.item_counts) == len(scores):
                scores = scores + sm.item_counts / (sm.item_counts.max() + 1.0) / (self.state.n_events + 2.0)
        else:
            batch = QueryBatch(np.array([sm.user_index(user)], dtype=np.int64), [items], [times],
                               np.array([int(t)], dtype=np.int64))
            scores = self.score(batch)[0]
        mask = np.zeros(len(scores), dtype=bool)
        mask[seen] = True
        top = topk_items(scores[None, :], mask[None, :], min(k, sm.n_items))[0].numpy()
        top = top[top > 0]
        return {"user": user, "items": plain_ids(sm.item_map.decode(top)) if len(top) else [],
                "scores": [float(x) for x in scores[top]], "cold_start": len(items) == 0,
                "history": int(len(items)), "now": t, "model": sm.name}

    def health(self) -> dict:
        return {"status": "ok", "model": self.served.name, "items": self.served.n_items, "events": self.state.n_events,
                "users": self.state.n_users, "log": str(self.log.path)}

    def metrics(self) -> dict:
        with self.lock:
            lat = {name: summary.summary() for name, summary in self.latency.items()}
            counters = dict(self.counters)
        return {"uptime_s": round(time.time() - self.started, 3), **counters, "log_commits": self.log.commits,
                "events_in_memory": self.state.n_events, "users": self.state.n_users,
                "replay_seconds": round(self.replay_seconds, 3), "latency": lat}


def validation_message(raw_errors: list) -> dict:
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
    return {"detail": errors, "message": "; ".join(f"{k}: {m}" for k, m in by_field.items())}


def create_app(model: Any, item_ids: Any = None, user_ids: Any = None, db_path: str | Path = "events.sqlite",
               history: pd.DataFrame | None = None, default_k: int = 10, max_k: int = 100,
               cold_window_seconds: float = WEEK, clock: str = "wall", max_future_seconds: float = DAY,
               threads: int | None = 1) -> FastAPI:
    """A FastAPI app serving ``model`` (a fitted model, a ServedModel, or a path for ``load_model``).

    ``item_ids``/``user_ids``: raw ids of encoded ids 1..n (or IdMaps), when the model does not carry them.
    ``history``: raw-id interactions loaded into memory before the log (e.g. the training data), never
    written to the log. ``clock``: "wall" (request time = server time) or "stream" (= the newest event's
    timestamp, for replayed historic data). ``threads``: torch threads (1 keeps latency predictable).
    """
    from fastapi import FastAPI, HTTPException, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response

    if threads:
        torch.set_num_threads(int(threads))
    served = as_served(model, item_ids, user_ids)
    service = Service(served, EventLog(db_path), default_k, max_k, cold_window_seconds, clock, max_future_seconds)
    service.load(history)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        service.log.close()

    app = FastAPI(title="tsrec recommender", version="0.1.0", lifespan=lifespan,
                  description=f"model {served.name}: {served.n_items} items; events are logged durably before 201")
    app.state.tsrec = {"served": served, "state": service.state, "log": service.log, "counters": service.counters,
                       "service": service}

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        if request.url.path == "/events":
            service.count("events_rejected")
        return JSONResponse(status_code=422, content=validation_message(exc.errors()))

    @app.post("/events", status_code=201)
    def post_event(event: EventIn) -> dict:
        try:
            return service.post_event(event)
        except Rejected as e:
            service.count("events_rejected")
            raise HTTPException(status_code=422, detail=str(e)) from None

    # async: computed on the event loop, no thread hop (a request takes milliseconds; POSTs wait on fsync)
    @app.get("/users/{user}/recommendations")
    async def recommendations(user: str, k: int = Query(service.default_k, ge=1, le=service.max_k,
                                                        description=f"1..{service.max_k}"),
                              now: float | None = Query(None, description="request time (Unix s); default: clock")):
        """Top-k raw item ids and scores for ``user`` at ``now``; cold-start popularity for unknown users."""
        t0 = time.perf_counter()
        if now is not None and not math.isfinite(now):
            raise HTTPException(status_code=422, detail="now must be a finite number of Unix seconds")
        out = service.recommend(normalize_user(user), k, now)
        body = json.dumps(out).encode()                      # a ready Response skips FastAPI's re-encoding
        with service.lock:
            service.counters["recommendations"] += 1
            service.counters["cold_start"] += int(out["cold_start"])
            service.latency["recommendations"].add(time.perf_counter() - t0)
        return Response(body, media_type="application/json")

    app.get("/health")(service.health)
    app.get("/metrics")(service.metrics)
    return app


def run(app: Any, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning") -> None:
    """Serve ``app`` with uvicorn (one process; the endpoints run in its thread pool)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
