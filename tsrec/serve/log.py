"""The durable event log of the service: append-only SQLite in WAL mode, synced before an event is acknowledged."""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["EventLog"]


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
        commit, in log order, before any later event's (so memory follows the log exactly).

        Events waiting at the same time share one commit; if that commit fails, each is retried in a
        transaction of its own, so one event that cannot be stored never fails another client's event.
        """
        p = _Pending((user, item, int(timestamp), time.time()), apply)
        with self._qlock:
            self._queue.append(p)
        with self._wlock:
            if not p.done:
                with self._qlock:
                    batch, self._queue = self._queue, []
                try:
                    self._commit(batch)
                except Exception:  # noqa: BLE001 - retried one by one: each event gets its own outcome
                    for q in batch:
                        try:
                            self._commit([q])
                        except Exception as e:  # noqa: BLE001 - this event's own failure, for its own caller
                            q.error, q.seq = e, None
                for q in batch:
                    try:
                        if q.error is None and q.apply is not None:
                            q.apply(q.seq, q.row)
                    except Exception as e:  # noqa: BLE001 - logged but not applied: a replay will apply it
                        q.error = e
                    finally:
                        q.done = True
        if p.error is not None:
            raise p.error
        return int(p.seq)

    def _commit(self, batch: list[_Pending]) -> None:
        """Insert the batch in one transaction, synced at COMMIT; rolled back whole on any error."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for q in batch:
                q.seq = self.conn.execute("INSERT INTO events (user, item, timestamp, received) VALUES (?, ?, ?, ?)",
                                          q.row).lastrowid
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.commits += 1

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
