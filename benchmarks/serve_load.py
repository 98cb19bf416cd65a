"""Benchmark: the HTTP service under load, on loopback only, with a bounded run time.

1. latency: GET /users/{u}/recommendations with one request in flight (p50/p99, requests/s);
2. mixed load: 8 writers post events and 8 readers ask for recommendations at the same time, for a bounded
   time; read and write latency p50/p99, and every acknowledged event looked up in the log;
3. durability under load: 8 concurrent producers post 1,000 events each; the server is SIGKILLed
   mid-stream and restarted; every event is then looked up in the SQLite log: sent, acknowledged,
   found in the log, and acknowledged-but-lost (must be 0).
Prints a markdown table. The model is an ML-100K one: ``--checkpoint`` or one trained here
(``--model sasrec`` by default, a short training run: latency, not accuracy, is measured).

Run: ``.venv/bin/python benchmarks/serve_load.py`` (add ``--quick`` for a smoke run).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``tsrec serve`` in a subprocess on 127.0.0.1 (same port across restarts)."""

    def __init__(self, checkpoint: Path, db: Path, log: Path, history: str, threads: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [sys.executable, "-m", "tsrec.cli", "serve", "--checkpoint", str(checkpoint), "--db", str(db),
                    "--port", str(self.port), "--history", history, "--threads", str(threads),
                    "--write-rate", "off"]  # the producers stand for many clients but share one address
        self.log = log
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180.0) -> float:
        t0 = time.perf_counter()
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen(self.cmd, cwd=REPO, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"server not up after {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)


def make_checkpoint(args: argparse.Namespace, out: Path) -> Path:
    """Train the benchmark's ML-100K model with ``tsrec train`` (a short run) unless one is given."""
    if args.checkpoint:
        return Path(args.checkpoint)
    cmd = [sys.executable, "-m", "tsrec.cli", "train", "--data", "ml-100k", "--model", args.model, "--out", str(out),
           "--epochs", str(args.train_epochs), "--max-len", "50", "--quiet"]
    print(f"training: {' '.join(cmd[2:])}", file=sys.stderr)
    subprocess.run(cmd, cwd=REPO, check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    return out


def latency_phase(url: str, users: np.ndarray, n: int, seconds: float, k: int) -> dict:
    """Sequential GETs (one in flight, one keep-alive connection) for at most ``n`` requests or ``seconds``.

    The client is the standard library's http.client: a lighter client than httpx, so that less of the
    two shared cores goes to measuring.
    """
    import http.client

    rng = np.random.default_rng(0)
    host, port = url.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)

    def get(path: str) -> bytes:
        conn.request("GET", path)
        r = conn.getresponse()
        body = r.read()
        if r.status != 200:
            raise RuntimeError(f"GET {path}: {r.status} {body[:200]!r}")
        return body

    for u in rng.choice(users, 50):                           # warm-up
        get(f"/users/{u}/recommendations?k={k}")
    lat = []
    t_start = time.perf_counter()
    for u in rng.choice(users, n):
        t0 = time.perf_counter()
        get(f"/users/{u}/recommendations?k={k}")
        lat.append(time.perf_counter() - t0)
        if time.perf_counter() - t_start > seconds:
            break
    wall = time.perf_counter() - t_start
    server = json.loads(get("/metrics"))["latency"]["recommendations"]
    floor = []
    for _ in range(min(n, 500)):                              # the HTTP floor: a route that computes nothing
        t0 = time.perf_counter()
        get("/health")
        floor.append(time.perf_counter() - t0)
    conn.close()
    ms, fl = np.array(lat) * 1000, np.array(floor) * 1000
    return {"n": len(ms), "p50": float(np.percentile(ms, 50)), "p99": float(np.percentile(ms, 99)),
            "max": float(ms.max()), "rps": len(ms) / wall, "server_p50": server.get("p50_ms"),
            "server_p99": server.get("p99_ms"), "floor_p50": float(np.percentile(fl, 50)),
            "floor_p99": float(np.percentile(fl, 99))}


def load_phase(server: Server, users: np.ndarray, items: np.ndarray, producers: int, per_producer: int,
               kill_fraction: float, deadline: float) -> dict:
    """Concurrent producers post unique events; at ``kill_fraction`` of acknowledgements the server is
    SIGKILLed and restarted. Returns what was sent and acknowledged, and the restart time."""
    total = producers * per_producer
    base_ts = int(time.time()) - 10_000_000                      # unique timestamps, all in the past
    acked: list[tuple] = []
    sent: list[tuple] = []
    errors = {"no_response": 0, "rejected": 0}
    post_lat: list[float] = []
    lock = threading.Lock()
    n_acked = [0]
    kill_info: dict = {}
    up = threading.Event()
    up.set()

    def producer(p: int) -> None:
        rng = np.random.default_rng(100 + p)
        with httpx.Client(base_url=server.url, timeout=10) as c:
            for i in range(per_producer):
                if time.perf_counter() > deadline:
                    return
                ev = {"user": int(rng.choice(users)), "item": int(rng.choice(items)),
                      "timestamp": base_ts + p * 1_000_000 + i}
                key = (ev["user"], ev["item"], ev["timestamp"])
                with lock:
                    sent.append(key)
                up.wait(timeout=max(0.0, deadline - time.perf_counter()))
                t0 = time.perf_counter()
                try:
                    r = c.post("/events", json=ev)
                except httpx.HTTPError:
                    with lock:
                        errors["no_response"] += 1
                    while not up.is_set() or _down(c):
                        if time.perf_counter() > deadline:
                            return
                        time.sleep(0.05)
                    continue
                dt = time.perf_counter() - t0
                with lock:
                    if r.status_code == 201:
                        acked.append(key)
                        post_lat.append(dt)
                        n_acked[0] += 1
                    else:
                        errors["rejected"] += 1

    def killer() -> None:
        target = int(kill_fraction * total)
        while n_acked[0] < target and time.perf_counter() < deadline:
            time.sleep(0.005)
        kill_info["acked_at_kill"] = n_acked[0]
        up.clear()
        server.kill(signal.SIGKILL)
        kill_info["restart_s"] = server.start()
        up.set()

    threads = [threading.Thread(target=producer, args=(p,)) for p in range(producers)]
    k = threading.Thread(target=killer)
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    k.start()
    for t in threads:
        t.join()
    k.join()
    wall = time.perf_counter() - t0
    ms = np.array(post_lat) * 1000
    return {"sent": sent, "acked": acked, **errors, **kill_info, "wall": wall,
            "post_p50": float(np.percentile(ms, 50)), "post_p99": float(np.percentile(ms, 99)),
            "post_rate": len(acked) / max(wall - kill_info.get("restart_s", 0.0), 1e-9)}


class _Connection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: a load generator as light as the standard
    library's http.client, so that less of the two shared cores goes to measuring than with httpx."""

    def __init__(self, url: str) -> None:
        self.host, port = url.rsplit("//", 1)[1].split(":")
        self.port, self.reader, self.writer = int(port), None, None

    async def request(self, method: str, path: str, body: bytes = b"") -> int:
        """Send one request and read the whole answer; returns the status code."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        self.writer.write((head + ("Content-Type: application/json\r\n" if body else "") + "\r\n").encode() + body)
        lines = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        length = next(int(h.split(":", 1)[1]) for h in lines[1:] if h.lower().startswith("content-length:"))
        await self.reader.readexactly(length)
        return int(lines[0].split()[1])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def _paced_client(url: str, rate: float, first: float, stop: float, request) -> list[tuple]:
    """One client on its own connection: ``request(connection, i)`` at ``rate`` per second from ``first`` until
    ``stop`` (no catching up after a stall); returns (sent at, seconds, status, i) per request."""
    out, slot, i = [], first, 0
    conn = _Connection(url)
    try:
        while time.perf_counter() < stop:
            slot = max(slot + 1.0 / rate, time.perf_counter() - 1.0 / rate)
            delay = slot - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            t0 = time.perf_counter()
            status = await request(conn, i)
            out.append((t0, time.perf_counter() - t0, status, i))
            i += 1
    finally:
        await conn.close()
    return out


def mixed_phase(url: str, users: np.ndarray, items: np.ndarray, writers: int, readers: int, seconds: float,
                k: int, read_rate: float, write_rate: float, warmup: float = 2.0) -> dict:
    """Writers and readers at once for ``seconds``, each client on its own connection and paced at its rate
    (a bounded load: the server is not driven past what it serves, so latency is service, not queueing).
    One asyncio event loop drives every client, so the load generator's own threads do not add to the tail.
    Latencies count from ``warmup`` seconds on (connections opened, the server's worker threads started);
    every acknowledged event counts for durability."""
    base_ts = int(time.time()) - 20_000_000
    u_rng = [np.random.default_rng(900 + q) for q in range(readers)]
    w_rng = [np.random.default_rng(500 + w) for w in range(writers)]
    events = {}

    def writer(w: int):
        async def post(c: _Connection, i: int) -> int:
            ev = {"user": int(w_rng[w].choice(users)), "item": int(w_rng[w].choice(items)),
                  "timestamp": base_ts + w * 10**6 + i}
            events[(w, i)] = (ev["user"], ev["item"], ev["timestamp"])
            return await c.request("POST", "/events", json.dumps(ev).encode())
        return post

    def reader(q: int):
        async def get(c: _Connection, _i: int) -> int:
            return await c.request("GET", f"/users/{int(u_rng[q].choice(users))}/recommendations?k={k}")
        return get

    start = time.perf_counter()

    async def run() -> list:
        stop = start + seconds
        clients = [_paced_client(url, write_rate, start + w / (writers * write_rate), stop, writer(w))
                   for w in range(writers)]
        clients += [_paced_client(url, read_rate, start + q / (readers * read_rate), stop, reader(q))
                    for q in range(readers)]
        return await asyncio.gather(*clients)

    done = asyncio.run(run())
    warm = start + warmup
    reads = [t for client in done[writers:] for sent, t, status, _ in client if status == 200 and sent >= warm]
    writes = [(sent, t, events[(w, i)]) for w, client in enumerate(done[:writers]) for sent, t, status, i in client
              if status == 201]
    failed = sum(status != 200 for client in done[writers:] for _, _, status, _ in client)
    failed += sum(status != 201 for client in done[:writers] for _, _, status, _ in client)
    r_ms, w_ms = np.array(reads) * 1000, np.array([t for sent, t, _ in writes if sent >= warm]) * 1000
    return {"reads": len(r_ms), "writes": len(w_ms), "failed": failed, "acked": [ev for _, _, ev in writes],
            "read_p50": float(np.percentile(r_ms, 50)), "read_p99": float(np.percentile(r_ms, 99)),
            "write_p50": float(np.percentile(w_ms, 50)), "write_p99": float(np.percentile(w_ms, 99)),
            "reads_per_s": len(r_ms) / (seconds - warmup), "writes_per_s": len(w_ms) / (seconds - warmup)}


def _down(c: httpx.Client) -> bool:
    try:
        return c.get("/health", timeout=1.0).status_code != 200
    except httpx.HTTPError:
        return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", default=None, help="an ML-100K checkpoint (default: train one here)")
    ap.add_argument("--model", default="sasrec", help="model to train when no checkpoint is given")
    ap.add_argument("--train-epochs", type=int, default=2)
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--latency-seconds", type=float, default=30.0)
    ap.add_argument("--producers", type=int, default=8)
    ap.add_argument("--events", type=int, default=1000, help="events per producer")
    ap.add_argument("--kill-at", type=float, default=0.4, help="fraction of events acknowledged before SIGKILL")
    ap.add_argument("--mixed-seconds", type=float, default=30.0, help="length of the mixed read/write phase")
    ap.add_argument("--readers", type=int, default=8, help="readers of the mixed phase (writers: --producers)")
    ap.add_argument("--read-rate", type=float, default=20.0, help="GETs per second per reader in the mixed phase")
    ap.add_argument("--write-rate", type=float, default=10.0, help="POSTs per second per writer in the mixed phase")
    ap.add_argument("--max-seconds", type=float, default=300.0, help="bound on the load phase")
    ap.add_argument("--threads", type=int, default=1, help="torch threads of the server")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="small run: 300 requests, 8 x 100 events")
    args = ap.parse_args()
    if args.quick:
        args.requests, args.events, args.latency_seconds, args.mixed_seconds = 300, 100, 10.0, 5.0

    from tsrec import data

    load0 = os.getloadavg()[0]
    inter = data.load("ml-100k").interactions
    users, items = np.unique(inter["user"]), np.unique(inter["item"])
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ckpt = make_checkpoint(args, tmp / "model.ckpt")
        server = Server(ckpt, tmp / "events.sqlite", tmp / "server.log", "ml-100k", args.threads)
        start_s = server.start()
        try:
            health = httpx.get(server.url + "/health").json()
            lat = latency_phase(server.url, users, args.requests, args.latency_seconds, args.k)
            mixed = mixed_phase(server.url, users, items, args.producers, args.readers, args.mixed_seconds, args.k,
                                args.read_rate, args.write_rate)
            load = load_phase(server, users, items, args.producers, args.events, args.kill_at,
                              time.perf_counter() + args.max_seconds)
            after = httpx.get(server.url + "/health").json()
        finally:
            server.kill(signal.SIGTERM)
        with sqlite3.connect(tmp / "events.sqlite") as conn:
            logged = set(conn.execute("SELECT user, item, timestamp FROM events").fetchall())
    sent, acked = set(load["sent"]), set(load["acked"])
    mixed_lost = set(mixed["acked"]) - logged
    lost = (acked - logged) | mixed_lost
    unacked_logged = (sent - acked) & logged
    rows = [
        ("model", f"{health['model']} ({health['items']} items, {health['events']:,} history events)"),
        ("machine", f"{os.cpu_count()} CPU cores (load average {load0:.1f} at start, {os.getloadavg()[0]:.1f} at end), "
                    f"server torch threads {args.threads}"),
        ("server start (s)", f"{start_s:.1f}"),
        ("GET recommendations: requests", f"{lat['n']:,}"),
        ("GET latency p50 / p99 / max (ms, client)", f"{lat['p50']:.2f} / {lat['p99']:.2f} / {lat['max']:.1f}"),
        ("GET latency p50 / p99 (ms, in server)", f"{lat['server_p50']} / {lat['server_p99']}"),
        ("GET requests/s (1 in flight)", f"{lat['rps']:.0f}"),
        ("GET /health p50 / p99 (ms, HTTP floor)", f"{lat['floor_p50']:.2f} / {lat['floor_p99']:.2f}"),
        ("mixed: writers x POST/s + readers x GET/s, seconds",
         f"{args.producers} x {args.write_rate:g} + {args.readers} x {args.read_rate:g}, {args.mixed_seconds:g}"),
        ("mixed: GET p50 / p99 (ms, client, after a 2 s warm-up)",
         f"{mixed['read_p50']:.2f} / {mixed['read_p99']:.2f}"),
        ("mixed: POST p50 / p99 (ms, client, after a 2 s warm-up)",
         f"{mixed['write_p50']:.2f} / {mixed['write_p99']:.2f}"),
        ("mixed: GETs/s and POSTs/s", f"{mixed['reads_per_s']:.0f} and {mixed['writes_per_s']:.0f}"),
        ("mixed: failed requests", f"{mixed['failed']}"),
        ("mixed: acknowledged / lost", f"{len(mixed['acked']):,} / **{len(mixed_lost)}**"),
        ("producers x events", f"{args.producers} x {args.events:,}"),
        ("events sent", f"{len(sent):,}"),
        ("events acknowledged (201)", f"{len(acked):,}"),
        ("no response (killed mid-request) / rejected", f"{load['no_response']} / {load['rejected']}"),
        ("acknowledged when SIGKILLed", f"{load.get('acked_at_kill', 'n/a'):,}"),
        ("restart with replay (s)", f"{load.get('restart_s', float('nan')):.1f}"),
        ("events found in the log", f"{len(sent & logged):,}"),
        ("acknowledged but lost", f"**{len(acked - logged)}**"),
        ("unacknowledged but logged (answer lost in the kill)", f"{len(unacked_logged)}"),
        ("POST latency p50 / p99 (ms, 8 producers)", f"{load['post_p50']:.1f} / {load['post_p99']:.1f}"),
        ("POST events/s acknowledged", f"{load['post_rate']:.0f}"),
        ("events in memory after restart", f"{after['events']:,}"),
    ]
    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
