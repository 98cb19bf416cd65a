"""Tests of tsrec.serve against the REAL server: uvicorn in a subprocess on 127.0.0.1, spoken to over HTTP.

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
import pytest

from tsrec import data, prep
from tsrec.models.knn import ItemKNN
from tsrec.serve import load_model, save_model

REPO = Path(__file__).resolve().parents[1]


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
    split = prep.leave_one_out(inter)
    model = ItemKNN(k_neighbors=20).fit(split.train, split.n_users, split.n_items)
    ckpt = save_model(model, tmp / "knn.pkl", split.item_map, split.user_map,
                      item_counts=np.bincount(split.train["item"], minlength=split.n_items + 1),
                      info={"data": "synthetic"})
    history = tmp / "history.csv"
    inter.to_csv(history, index=False)
    return {"tmp": tmp, "checkpoint": ckpt, "history": history, "items": set(split.item_map.raw.tolist())}


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


def test_model_round_trips_with_its_id_maps(setup):
    served = load_model(setup["checkpoint"])
    assert served.n_items == len(setup["items"]) and served.info["data"] == "synthetic"
    assert served.user_map is not None and served.item_counts is not None


def test_fast_sequence_scorer_equals_model_score():
    import torch

    from tsrec.models.base import QueryBatch
    from tsrec.models.sequential import SASRec
    from tsrec.serve import scorer

    torch.manual_seed(0)
    model = SASRec(30, max_len=8, hidden=16, n_blocks=1).eval()
    batch = QueryBatch(np.array([1, 2]), [np.array([3, 4, 5]), np.array([7])], [np.array([1, 2, 3]), np.array([5])],
                       np.array([10, 10]))
    fast, slow = scorer(model)(batch), model.score(batch).double().numpy()
    np.testing.assert_allclose(fast[:, 1:], slow[:, 1:], rtol=1e-6, atol=1e-6)
    assert np.isneginf(fast[:, 0]).all()


def test_sequence_checkpoint_carries_its_id_maps(tmp_path):
    import torch

    from tsrec.models.base import QueryBatch
    from tsrec.models.sequential import SASRec

    torch.manual_seed(0)
    model = SASRec(4, max_len=4, hidden=8, n_blocks=1).eval()
    items, users = prep.IdMap.fit([10, 20, 30, 40]), prep.IdMap.fit([7, 8])
    path = save_model(model, tmp_path / "sas.pt", items, users, info={"data": "toy"})
    served = load_model(path)
    assert served.item_map.raw.tolist() == [10, 20, 30, 40] and served.user_map.raw.tolist() == [7, 8]
    assert served.item_index(30) == 3 and served.item_index(99) == 0 and served.info == {"data": "toy"}
    batch = QueryBatch(np.array([1]), [np.array([1, 2])], [np.array([1, 2])], np.array([3]))
    torch.testing.assert_close(served.model.score(batch), model.score(batch))


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
    assert lat["count"] >= 3 and 0 < lat["p50_ms"] <= lat["p99_ms"]


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
