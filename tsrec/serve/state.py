"""What the service keeps in memory: users' histories fed from the log, recent popularity for cold start,
and a window of request latencies."""
from __future__ import annotations

import bisect
import threading
from collections import deque
from typing import Any

import numpy as np

__all__ = ["LiveState", "Latency"]


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


class Latency:
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
