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
               "--port", str(port), "--history", str(self.history), "--max-k", "20"]
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
    with pytest.raises(Rejected, match="finite"):
        service.post_event(EventIn(user=1, item=3, timestamp=-1))
    with pytest.raises(Rejected, match="256"):
        service.post_event(EventIn(user="x" * 300, item=3))
    assert len(service.log) == 0


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


def test_sigkill_loses_no_acknowledged_event_and_replay_rebuilds_state(server, setup):
    rng = np.random.default_rng(1)
    items = sorted(setup["items"])
    events = [{"user": int(u), "item": int(i), "timestamp": int(time.time()) - 100 + n}
              for n, (u, i) in enumerate(zip(rng.integers(1, 61, 40), rng.choice(items, 40)))]
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda e: _post(server, **e), events))
    assert all(r.status_code == 201 for r in responses)
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
