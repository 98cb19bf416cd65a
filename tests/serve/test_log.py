"""Tests of tsrec.serve.log: the durable, append-only event log (SQLite in WAL mode), its order and replay."""
from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from tsrec.serve import EventLog


def test_appends_are_committed_in_order_and_replayed(tmp_path):
    log = EventLog(tmp_path / "sub" / "events.sqlite")
    applied = []
    seqs = [log.append(u, i, t, apply=lambda seq, row: applied.append((seq, row[:3])))
            for u, i, t in [(1, 10, 100), ("bob", "x", 101), (1, 11, 99)]]
    assert seqs == [1, 2, 3] and len(log) == 3
    assert applied == [(1, (1, 10, 100)), (2, ("bob", "x", 101)), (3, (1, 11, 99))]
    assert list(log.replay()) == [(1, 1, 10, 100), (2, "bob", "x", 101), (3, 1, 11, 99)]
    with sqlite3.connect(log.path) as other:  # visible to another connection: committed
        assert other.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 3
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    log.close()
    again = EventLog(log.path)
    assert len(again) == 3 and again.append(2, 12, 102) == 4
    again.close()


def test_concurrent_appends_get_distinct_sequence_numbers_applied_in_log_order(tmp_path):
    log = EventLog(tmp_path / "events.sqlite")
    applied = []
    with ThreadPoolExecutor(8) as pool:
        seqs = list(pool.map(lambda n: log.append(n, n, n, apply=lambda seq, row: applied.append(seq)), range(64)))
    assert sorted(seqs) == list(range(1, 65)) and applied == sorted(applied) and len(applied) == 64
    assert {(s, u) for s, u, _, _ in log.replay()} == {(s, n) for n, s in enumerate(seqs)}
    assert 1 <= log.commits <= 64
    log.close()


def test_a_failing_apply_is_reported_but_the_event_stays_logged(tmp_path):
    log = EventLog(tmp_path / "events.sqlite")

    def boom(seq, row):
        raise KeyError("memory update failed")

    with pytest.raises(KeyError):
        log.append(1, 1, 1, apply=boom)
    assert len(log) == 1  # a replay will apply it
    log.close()
