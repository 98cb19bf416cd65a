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
import secrets
import threading
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import pandas as pd
import torch
from fastapi import Request  # at module level: FastAPI reads the route's annotations from this module
from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from tsrec.data import require_columns
from tsrec.metrics import topk_items
from tsrec.models.base import Scorer, score_numpy
from tsrec.models.sequential import SeqInput, SequentialRecommender
from tsrec.queries import QueryBatch
from tsrec.serve.ids import InvalidInput, parse_id, parse_time, quote
from tsrec.serve.log import EventLog
from tsrec.serve.model import ServedModel, as_served, plain_ids
from tsrec.serve.state import Latency, LiveState
from tsrec.times import MINUTE, WEEK

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


Rejected = InvalidInput  # a request the service refuses, with the one-line reason sent back as a 422


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
                 cold_window_seconds: float = WEEK, clock: str = "wall",
                 max_future_seconds: float = 5 * MINUTE) -> None:
        if clock not in ("wall", "stream"):
            raise ValueError(f"clock must be 'wall' or 'stream', got {clock!r}")
        if not (isinstance(max_k, int) and isinstance(default_k, int) and 1 <= default_k <= max_k):
            raise ValueError(f"need 1 <= default_k <= max_k (ints), got default_k={default_k!r}, max_k={max_k!r}")
        self.served, self.log, self.state = served, log, LiveState(served.n_items)
        self.max_k = min(max_k, served.n_items)
        self.default_k = min(default_k, self.max_k)
        self.cold_window, self.clock, self.max_future = float(cold_window_seconds), clock, float(max_future_seconds)
        self.score = scorer(served.model)
        self.counters = {"events_accepted": 0, "events_rejected": 0, "recommendations": 0, "cold_start": 0,
                         "replayed": 0, "replay_skipped": 0, "history_loaded": 0, "history_unknown_items": 0,
                         "history_bad_users": 0}
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
                try:
                    user = parse_id(u, "user")
                except InvalidInput:
                    self.counters["history_bad_users"] += 1
                    continue
                if not i:
                    self.counters["history_unknown_items"] += 1
                    continue
                self.state.add(user, i, t)
                self.counters["history_loaded"] += 1
        t0 = time.perf_counter()
        for _seq, u, item, t in self.log.replay():
            i = self.served.item_index(item)
            if i == 0:
                self.counters["replay_skipped"] += 1
                continue
            self.state.add(parse_id(u, "user"), i, int(t))
            self.counters["replayed"] += 1
        self.replay_seconds = time.perf_counter() - t0
        return self

    def now(self) -> float:
        if self.clock == "stream" and self.state.latest is not None:
            return float(self.state.latest)
        return time.time()

    def _event_time(self, timestamp: float | None) -> int:
        """The event's Unix seconds: the server's clock when absent; a time slightly ahead of the clock (a client
        clock running fast, up to ``max_future_seconds``) counts as now; further ahead is refused."""
        now = time.time()
        if timestamp is None:
            return int(now)
        ts = parse_time(timestamp, "timestamp")
        if ts > now + self.max_future:
            raise Rejected(f"timestamp {ts} is more than {self.max_future:g} s ahead of the server's clock "
                           f"({now:.0f}); check the client's clock")
        return min(ts, int(now))

    def post_event(self, event: EventIn) -> dict:
        """Log the event durably, then add it to the user's history; Rejected for what cannot be used."""
        t0 = time.perf_counter()
        user, item = parse_id(event.user, "user"), parse_id(event.item, "item")
        i = self.served.item_index(item)
        if i == 0:
            raise Rejected(f"unknown item {quote(event.item)}: the model knows {self.served.n_items} items; events "
                           "of other items cannot be used (retrain to add items)")
        ts = self._event_time(event.timestamp)
        seq = self.log.append(user, item, ts, apply=lambda _s, _r: self.state.add(user, i, ts))
        with self.lock:
            self.counters["events_accepted"] += 1
            self.latency["events"].add(time.perf_counter() - t0)
        return {"seq": seq, "user": user, "item": item, "timestamp": ts}

    def recommend(self, user: Any, k: int, now: float | None = None) -> dict:
        """Top-k raw item ids and scores for ``user`` at ``now`` (default: the clock), seen items excluded;
        recent popularity from the log when the user has no event yet (cold start)."""
        t = self.now() if now is None else float(parse_time(now, "now"))
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
                "users": self.state.n_users, "log": self.log.path.name}

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
                msg = f"expected {_EXPECTED[key]}, got {type(got).__name__} {quote(got)}"
            else:
                msg = str(e.get("msg", ""))
        by_field[key] = msg
    return {"detail": errors, "message": "; ".join(f"{k}: {m}" for k, m in by_field.items())}


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` gets a 413 before the app reads it (streamed bodies
    are counted as they arrive), so one huge request cannot take the server's memory."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, int(max_bytes)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._too_large(send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return None                                       # the client went away
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                return await self._too_large(send)
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return await self.app(scope, replay, send)

    async def _too_large(self, send: Callable) -> None:
        text = json.dumps({"detail": f"request body larger than {self.max_bytes:,} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(text)).encode())]})
        await send({"type": "http.response.body", "body": text})


def create_app(model: Any, item_ids: Any = None, user_ids: Any = None, db_path: str | Path = "events.sqlite",
               history: pd.DataFrame | None = None, default_k: int = 10, max_k: int = 100,
               cold_window_seconds: float = WEEK, clock: str = "wall", max_future_seconds: float = 5 * MINUTE,
               threads: int | None = 1, api_key: str | None = None, max_body_bytes: int = 16_384,
               write_rate: str | None = None) -> FastAPI:
    """A FastAPI app serving ``model`` (a fitted model, a ServedModel, or a path for ``load_model``).

    ``item_ids``/``user_ids``: raw ids of encoded ids 1..n (or IdMaps), when the model does not carry them.
    ``history``: raw-id interactions loaded into memory before the log (e.g. the training data), never
    written to the log. ``clock``: "wall" (request time = server time) or "stream" (= the newest event's
    timestamp, for replayed historic data). ``threads``: torch threads (1 keeps latency predictable).
    ``api_key``: when set, ``POST /events`` needs it in the ``X-API-Key`` header (401 otherwise); reads stay
    open. ``max_body_bytes``: larger request bodies get a 413. ``write_rate``: a per-client limit on
    ``POST /events`` in the ``limits`` notation (e.g. "100/second"; slowapi, keyed by client address), 429 past it.
    """
    from fastapi import FastAPI

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
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.state.tsrec = {"served": served, "state": service.state, "log": service.log, "counters": service.counters,
                       "service": service}

    _add_routes(app, service, api_key, _write_limiter(app, write_rate))
    return app


def _add_routes(app: FastAPI, service: Service, api_key: str | None, limited: Callable) -> None:
    """The four routes over ``service``; writes go through ``limited`` (the rate limit) and the API key check."""
    from fastapi import HTTPException, Query
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        if request.url.path == "/events":
            service.count("events_rejected")
        return JSONResponse(status_code=422, content=validation_message(exc.errors()))

    @app.post("/events", status_code=201)
    @limited
    def post_event(event: EventIn, request: Request) -> dict:
        if api_key and not secrets.compare_digest(request.headers.get("x-api-key", ""), api_key):
            service.count("events_rejected")
            raise HTTPException(status_code=401, detail="POST /events needs the server's API key in the X-API-Key "
                                                        "header")
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
        try:
            out = service.recommend(parse_id(user, "user"), k, now)
        except Rejected as e:
            raise HTTPException(status_code=422, detail=str(e)) from None
        body = json.dumps(out).encode()                      # a ready Response skips FastAPI's re-encoding
        with service.lock:
            service.counters["recommendations"] += 1
            service.counters["cold_start"] += int(out["cold_start"])
            service.latency["recommendations"].add(time.perf_counter() - t0)
        return Response(body, media_type="application/json")

    app.get("/health")(service.health)
    app.get("/metrics")(service.metrics)


def _write_limiter(app: Any, rate: str | None) -> Callable:
    """A decorator limiting a route to ``rate`` requests per client address (slowapi), or a no-op for None."""
    if not rate:
        return lambda route: route
    from fastapi.responses import JSONResponse
    from slowapi import Limiter
    from slowapi.errors import RateLimitExceeded
    from slowapi.util import get_remote_address

    limiter = Limiter(key_func=get_remote_address)
    app.state.limiter = limiter

    async def too_many(_request: Any, exc: RateLimitExceeded) -> JSONResponse:
        return JSONResponse(status_code=429, content={"detail": f"too many events from this client ({exc.detail}); "
                                                                "slow down and retry"})

    app.add_exception_handler(RateLimitExceeded, too_many)
    return limiter.limit(rate)


def run(app: Any, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning") -> None:
    """Serve ``app`` with uvicorn (one process: reads on its event loop, writes in its thread pool)."""
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)
