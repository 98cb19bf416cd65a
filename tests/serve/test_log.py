"""Tests of tsrec.serve.log: the durable, append-only event log (SQLite in WAL mode), its order and replay."""
from __future__ import annotations

import sqlite3
import threading
import time
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


def test_an_event_that_cannot_be_stored_fails_alone_even_inside_a_shared_commit(tmp_path):
    log = EventLog(tmp_path / "events.sqlite")
    gate = threading.Event()
    original = log._commit

    sizes = []

    def slow_first_commit(batch):                  # hold the first commit so that the others queue up behind it
        gate.wait(5)
        sizes.append(len(batch))
        return original(batch)

    log._commit = slow_first_commit
    good = [(u, 10 + u, 1_000 + u) for u in range(1, 13)]
    bad = [(10**30, 99, 2_000)] * 4                # past SQLite's 64-bit integers: fails at INSERT
    with ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(log.append, *row) for row in [x for pair in zip(good, bad + [None] * 8) for x in pair
                                                              if x is not None]]
        time.sleep(0.3)
        gate.set()
        outcomes = [(f.exception(timeout=30), None if f.exception() else f.result()) for f in futures]
    errors = [e for e, _ in outcomes if e is not None]
    assert len(errors) == len(bad) and all(isinstance(e, OverflowError) for e in errors), errors
    logged = {row[1:] for row in log.replay()}
    assert logged == set(good) and len(logged) == len(good)
    assert max(sizes) > 2                          # good and bad events were in one attempted commit
    log.close()
