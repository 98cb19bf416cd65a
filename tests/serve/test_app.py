"""Tests of tsrec.serve.app: the Service called directly, and the REAL server (``tsrec serve``: uvicorn in a
subprocess on 127.0.0.1) spoken to over HTTP.

Covers posting events, time-aware recommendations that change after a post, cold start, 4xx on bad
input, and durability: after SIGKILL every acknowledged event is in the SQLite log and a restarted
server rebuilds the same state (same recommendations) by replaying it.
"""
from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import torch

from tsrec import data, splits
from tsrec.models.knn import ItemKNN
from tsrec.models.sequential import SASRec
from tsrec.queries import QueryBatch
from tsrec.serve import EventIn, EventLog, Rejected, Service, as_served, create_app, save_model, scorer

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``tsrec serve`` in a subprocess; ``start`` waits until /health answers."""

    def __init__(self, checkpoint: Path, db: Path, history: Path, log: Path) -> None:
        self.checkpoint, self.db, self.history, self.log = checkpoint, db, history, log
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self, timeout: float = 90.0) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "PYTHONPATH": str(REPO), "TSREC_THREADS": "1"}
        cmd = [sys.executable, "-m", "tsrec.cli", "serve", "--checkpoint", str(self.checkpoint), "--db", str(self.db),
               "--port", str(port), "--history", str(self.history), "--max-k", "20", "--allow-pickle"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.kill()
        raise RuntimeError(f"server did not answer within {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    inter = data.synthetic().interactions
    split = splits.leave_one_out(inter)
    model = ItemKNN(k_neighbors=20).fit(split.train, split.n_users, split.n_items)
    ckpt = save_model(model, tmp / "knn.pkl", split.item_map, split.user_map,
                      item_counts=np.bincount(split.train["item"], minlength=split.n_items + 1),
                      info={"data": "synthetic"})
    history = tmp / "history.csv"
    inter.to_csv(history, index=False)
    return {"tmp": tmp, "checkpoint": ckpt, "history": history, "items": set(split.item_map.raw.tolist()),
            "model": model, "item_map": split.item_map, "user_map": split.user_map, "frame": inter}


@pytest.fixture(scope="module")
def server(setup):
    srv = Server(setup["checkpoint"], setup["tmp"] / "events.sqlite", setup["history"], setup["tmp"] / "server.log")
    srv.start()
    yield srv
    srv.kill()


def _recs(srv: Server, user, k: int = 10) -> dict:
    r = httpx.get(f"{srv.url}/users/{user}/recommendations", params={"k": k}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def _post(srv: Server, **event) -> httpx.Response:
    return httpx.post(f"{srv.url}/events", json=event, timeout=10)


def test_fast_sequence_scorer_equals_model_score():
    torch.manual_seed(0)
    model = SASRec(30, max_len=8, hidden=16, n_blocks=1).eval()
    batch = QueryBatch(np.array([1, 2]), [np.array([3, 4, 5]), np.array([7])], [np.array([1, 2, 3]), np.array([5])],
                       np.array([10, 10]))
    fast, slow = scorer(model)(batch), model.score(batch).double().numpy()
    np.testing.assert_allclose(fast[:, 1:], slow[:, 1:], rtol=1e-6, atol=1e-6)
    assert np.isneginf(fast[:, 0]).all() and fast.dtype == np.float64
    knn = ItemKNN().fit(pd.DataFrame({"user": [1, 1], "item": [1, 2], "timestamp": [0, 1]}), 2, 30)
    np.testing.assert_array_equal(scorer(knn)(batch), knn.score(batch).double().numpy())


@pytest.fixture
def service(setup, tmp_path):
    served = as_served(setup["model"], setup["item_map"], setup["user_map"])
    svc = Service(served, EventLog(tmp_path / "events.sqlite"), default_k=5, max_k=20, cold_window_seconds=7 * 86_400,
                  clock="stream")
    yield svc.load(setup["frame"])
    svc.log.close()


def test_service_recommends_unseen_items_and_follows_posted_events(service, setup):
    user = int(setup["frame"]["user"].iloc[0])
    seen = set(setup["frame"].loc[setup["frame"]["user"] == user, "item"])
    before = service.recommend(user, k=5)
    assert len(before["items"]) == 5 and not set(before["items"]) & seen and not before["cold_start"]
    n_events = int((setup["frame"]["user"] == user).sum())
    assert before["scores"] == sorted(before["scores"], reverse=True) and before["history"] == n_events
    assert before["now"] == service.state.latest  # the stream clock: the newest event's time
    out = service.post_event(EventIn(user=user, item=before["items"][0], timestamp=int(before["now"])))
    assert out["seq"] == 1 and len(service.log) == 1
    after = service.recommend(user, k=5)
    assert before["items"][0] not in after["items"] and after["history"] == before["history"] + 1
    cold = service.recommend("somebody-new", k=3)
    assert cold["cold_start"] and len(cold["items"]) == 3 and cold["history"] == 0
    assert service.health()["events"] == len(setup["frame"]) + 1
    m = service.metrics()
    assert m["events_accepted"] == 1 and m["history_loaded"] == len(setup["frame"]) and m["log_commits"] == 1


def test_service_rejects_what_it_cannot_use(service):
    with pytest.raises(Rejected, match="unknown item"):
        service.post_event(EventIn(user=1, item=999_999))
    with pytest.raises(Rejected, match="milliseconds"):
        service.post_event(EventIn(user=1, item=3, timestamp=time.time() * 1000))
    with pytest.raises(Rejected, match="between 0"):
        service.post_event(EventIn(user=1, item=3, timestamp=-1))
    with pytest.raises(Rejected, match="1 to 128 characters"):
        service.post_event(EventIn(user="x" * 300, item=3))
    with pytest.raises(Rejected, match="ahead of the server's clock"):
        service.post_event(EventIn(user=1, item=3, timestamp=time.time() + 3600))
    assert len(service.log) == 0
    slightly_ahead = service.post_event(EventIn(user=1, item=3, timestamp=time.time() + 60))  # a fast client clock
    assert slightly_ahead["timestamp"] <= time.time() and len(service.log) == 1


def test_create_app_exposes_the_service(setup, tmp_path):
    app = create_app(setup["model"], setup["item_map"], setup["user_map"], db_path=tmp_path / "e.sqlite",
                     history=setup["frame"], clock="stream")
    svc = app.state.tsrec["service"]
    assert isinstance(svc, Service) and svc.counters["history_loaded"] == len(setup["frame"])
    assert {r.path for r in app.routes} >= {"/events", "/users/{user}/recommendations", "/health", "/metrics"}
    svc.log.close()


def test_health_and_history_loaded(server, setup):
    h = httpx.get(server.url + "/health", timeout=5).json()
    assert h["status"] == "ok" and h["items"] == len(setup["items"]) and h["events"] >= 2000


def test_recommendations_change_after_a_post(server, setup):
    before = _recs(server, 1)
    assert not before["cold_start"] and len(before["items"]) == 10 and set(before["items"]) <= setup["items"]
    assert before["scores"] == sorted(before["scores"], reverse=True)
    item = before["items"][0]
    r = _post(server, user=1, item=item)
    assert r.status_code == 201 and r.json()["seq"] >= 1
    after = _recs(server, 1)
    assert item not in after["items"], "a just-posted item must be excluded as seen"
    assert after["items"] != before["items"] and after["history"] == before["history"] + 1


def test_cold_start_user_gets_popular_items_then_personal_ones(server, setup):
    cold = _recs(server, "brand-new-user", k=5)
    assert cold["cold_start"] and len(cold["items"]) == 5 and set(cold["items"]) <= setup["items"]
    r = _post(server, user="brand-new-user", item=cold["items"][0], timestamp=int(time.time()) - 5)
    assert r.status_code == 201
    warm = _recs(server, "brand-new-user", k=5)
    assert not warm["cold_start"] and warm["history"] == 1 and cold["items"][0] not in warm["items"]


@pytest.mark.parametrize("body, fragment", [
    ({"item": 3}, "user: Field required"),
    ({"user": 1}, "item: Field required"),
    ({"user": 1, "item": [3]}, "item: expected an integer or string item id"),
    ({"user": 1, "item": 3, "timestamp": "yesterday"}, "timestamp: expected Unix seconds"),
    ({"user": True, "item": 3}, "user: expected an integer or string user id"),
    ({"user": 1, "item": 3, "colour": "red"}, "colour: Extra inputs are not permitted"),
])
def test_bad_events_get_422_with_a_message(server, body, fragment):
    r = _post(server, **body)
    assert r.status_code == 422 and fragment in r.json()["message"], r.text


def test_unknown_item_and_bad_timestamps_are_rejected(server):
    r = _post(server, user=1, item=999_999)
    assert r.status_code == 422 and "unknown item 999999" in r.json()["detail"]
    r = _post(server, user=1, item=3, timestamp=time.time() * 1000)
    assert r.status_code == 422 and "milliseconds" in r.json()["detail"]
    r = httpx.post(server.url + "/events", content=b'{"user": 1, "item":', timeout=5,
                   headers={"content-type": "application/json"})
    assert r.status_code == 422 and "invalid JSON" in r.json()["message"]


@pytest.mark.parametrize("k", ["0", "21", "-3", "ten"])
def test_k_out_of_range_is_422(server, k):
    r = httpx.get(f"{server.url}/users/1/recommendations", params={"k": k}, timeout=5)
    assert r.status_code == 422 and r.json()["message"].startswith("k: ")


def test_metrics_count_requests_and_latency(server):
    m = httpx.get(server.url + "/metrics", timeout=5).json()
    assert m["events_accepted"] >= 2 and m["events_rejected"] >= 8 and m["cold_start"] >= 1
    lat = m["latency"]["recommendations"]
    assert lat["count"] == m["recommendations"] >= 3 and {"p50_ms", "p90_ms", "p99_ms", "max_ms"} <= set(lat)


CRAFTED = [  # (method, path, json or raw body, expected status): each once made the server answer 500
    ("post", "/events", {"user": "²", "item": 3}, 422),             # isdigit() is true, int() is not
    ("post", "/events", {"user": "1" * 5000, "item": 3}, 422),     # past Python's int-conversion limit
    ("post", "/events", b'{"user": ' + b"7" * 5000 + b', "item": 3}', 400),   # not even parseable JSON for Python
    ("post", "/events", {"user": 10**30, "item": 3}, 422),          # past SQLite's 64-bit integers
    ("post", "/events", {"user": "", "item": 3}, 422),              # cannot be addressed in a URL
    ("post", "/events", {"user": "a/b", "item": 3}, 422),
    ("post", "/events", {"user": 1, "item": "x" * 10_000}, 422),   # echoed back at most ~100 characters
    ("post", "/events", {"user": 1, "item": "x" * 100_000}, 413),  # past the body limit
    ("post", "/events", {"user": 1, "item": 3, "timestamp": time.time() + 3600}, 422),
    ("get", "/users/1/recommendations?now=1e19", None, 422),       # past int64 seconds
    ("get", "/users/%C2%B2/recommendations", None, 422),
    ("get", "/users/" + "9" * 5000 + "/recommendations", None, 422),
]


@pytest.mark.parametrize("method, path, body, status", CRAFTED, ids=[f"{m}-{i}" for i, (m, *_) in enumerate(CRAFTED)])
def test_crafted_input_gets_a_short_4xx_and_the_server_keeps_answering(server, method, path, body, status):
    with httpx.Client(base_url=server.url, timeout=10) as client:         # one keep-alive connection throughout
        kwargs = {} if body is None else ({"content": body, "headers": {"content-type": "application/json"}}
                                          if isinstance(body, bytes) else {"json": body})
        r = client.request(method.upper(), path, **kwargs)
        assert r.status_code == status, r.text[:300]
        assert len(r.text) < 2_000                                          # never the input echoed back whole
        assert client.get("/health").status_code == 200


def test_sigkill_loses_no_acknowledged_event_and_replay_rebuilds_state(server, setup):
    rng = np.random.default_rng(1)
    items = sorted(setup["items"])
    events = [{"user": int(u), "item": int(i), "timestamp": int(time.time()) - 100 + n}
              for n, (u, i) in enumerate(zip(rng.integers(1, 61, 40), rng.choice(items, 40)))]
    bad = [{"user": 10**30, "item": items[0]}, {"user": "²", "item": items[0]}, {"user": 1, "item": 999_999}] * 10
    with ThreadPoolExecutor(6) as pool:                                    # bad writers beside the good ones
        results = list(pool.map(lambda e: (e, _post(server, **e)), [x for pair in zip(events, bad) for x in pair]))
    responses = [r for e, r in results if e in events]
    assert all(r.status_code == 201 for r in responses), [r.text for r in responses if r.status_code != 201][:3]
    assert all(r.status_code == 422 for e, r in results if e not in events)
    acked = {(r.json()["seq"], e["user"], e["item"], e["timestamp"]) for r, e in zip(responses, events)}
    users = [1, 2, 3, 17, "brand-new-user"]
    before = {u: _recs(server, u) for u in users}
    server.kill()

    with sqlite3.connect(server.db) as conn:
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        logged = set(conn.execute("SELECT seq, user, item, timestamp FROM events").fetchall())
    assert mode == "wal"
    assert acked <= logged, f"lost acknowledged events: {sorted(acked - logged)[:5]}"

    server.start()
    m = httpx.get(server.url + "/metrics", timeout=5).json()
    assert m["replayed"] == len(logged) and m["replay_skipped"] == 0
    for u in users:
        after = _recs(server, u)
        assert after["items"] == before[u]["items"], f"user {u}"
        np.testing.assert_allclose(after["scores"], before[u]["scores"], rtol=1e-6)
        assert after["history"] == before[u]["history"]


def test_api_key_guards_writes_and_reads_stay_open(setup, tmp_path):
    from fastapi.testclient import TestClient

    app = create_app(setup["model"], setup["item_map"], setup["user_map"], db_path=tmp_path / "e.sqlite",
                     api_key="s3cret")
    with TestClient(app) as client:
        event = {"user": 1, "item": sorted(setup["items"])[0]}
        assert client.post("/events", json=event).status_code == 401
        assert client.post("/events", json=event, headers={"X-API-Key": "wrong"}).status_code == 401
        assert client.post("/events", json=event, headers={"X-API-Key": "s3cret"}).status_code == 201
        assert client.get("/users/1/recommendations").status_code == 200
        health = client.get("/health").json()
        assert health["log"] == "e.sqlite" and "/" not in health["log"]      # no absolute path shown
        assert len(app.state.tsrec["log"]) == 1


def test_write_rate_limit_and_body_limit(setup, tmp_path):
    from fastapi.testclient import TestClient

    app = create_app(setup["model"], setup["item_map"], setup["user_map"], db_path=tmp_path / "e.sqlite",
                     write_rate="5/minute", max_body_bytes=200)
    with TestClient(app) as client:
        item = sorted(setup["items"])[0]
        codes = [client.post("/events", json={"user": u, "item": item}).status_code for u in range(1, 9)]
        assert codes == [201] * 5 + [429] * 3
        assert "too many events" in client.post("/events", json={"user": 1, "item": item}).json()["detail"]
        assert client.get("/users/1/recommendations").status_code == 200        # reads are not limited
        big = client.post("/events", content=b'{"user": 1, "item": "' + b"x" * 500 + b'"}',
                          headers={"content-type": "application/json"})
        assert big.status_code == 413 and "200 bytes" in big.json()["detail"]
        assert len(app.state.tsrec["log"]) == 5
