"""What a live system keeps while events arrive: windowed and decayed item counts, and users' histories."""
from __future__ import annotations

from collections import Counter, deque
from collections.abc import Hashable, Iterable

import numpy as np

from tsrec import times
from tsrec.online.events import Event
from tsrec.queries import QueryBatch
from tsrec.windows import DecayedCounter

__all__ = ["StreamState"]


class StreamState:
    """What a live system keeps, updated per event: counts in a sliding window, decayed popularity, histories.

    ``window_counts`` holds events per item in ``(now - window, now]`` (the convention of
    ``tsrec.windows``), ``decayed`` is a :class:`tsrec.windows.DecayedCounter`, and each user keeps
    their events (all, or the last ``history_len``) plus the set of items they have seen. Pass
    ``window_seconds=None`` or ``half_life_seconds=None`` to switch a part off. Time must not go back.
    """

    def __init__(self, window_seconds: float | str | None = times.WEEK, half_life_seconds: float | None = times.WEEK,
                 history_len: int | None = None) -> None:
        self.window = None if window_seconds is None else times.window_seconds(window_seconds, "window_seconds")
        self.decayed = None if half_life_seconds is None else DecayedCounter(half_life_seconds)
        if history_len is not None and (isinstance(history_len, bool) or int(history_len) < 1):
            raise ValueError(f"history_len must be a positive int or None, got {history_len!r}")
        self.history_len = history_len
        self.window_counts: Counter = Counter()
        self.item_counts: Counter = Counter()
        self._window_events: deque[tuple[int, Hashable]] = deque()
        self._items: dict[Hashable, deque] = {}
        self._times: dict[Hashable, deque] = {}
        self._seen: dict[Hashable, set] = {}
        self.now: float | None = None
        self.n_events = 0

    def advance(self, t: float) -> None:
        """Move the clock to ``t`` (no earlier than the last time) and drop events that left the window."""
        if self.now is not None and t < self.now:
            raise ValueError(f"time went backwards: {t} is before the last time {self.now}; "
                             "feed events sorted by timestamp (EventSource does)")
        self.now = t
        if self.window is not None:
            edge = t - self.window
            q, counts = self._window_events, self.window_counts
            while q and q[0][0] <= edge:
                _, item = q.popleft()
                counts[item] -= 1
                if counts[item] == 0:
                    del counts[item]

    def update(self, ev: Event) -> None:
        """Add one event to every part of the state."""
        t = ev.timestamp
        self.advance(t)
        if self.window is not None:
            self._window_events.append((t, ev.item))
            self.window_counts[ev.item] += 1
        if self.decayed is not None:
            self.decayed.update(ev.item, t)
        self.item_counts[ev.item] += 1
        items = self._items.get(ev.user)
        if items is None:
            items = self._items[ev.user] = deque(maxlen=self.history_len)
            self._times[ev.user] = deque(maxlen=self.history_len)
            self._seen[ev.user] = set()
        items.append(ev.item)
        self._times[ev.user].append(t)
        self._seen[ev.user].add(ev.item)
        self.n_events += 1

    def window_array(self, n_items: int) -> np.ndarray:
        """Window counts as an int64 array over item ids 0..n_items (0 = padding)."""
        out = np.zeros(n_items + 1, dtype=np.int64)
        if self.window_counts:
            keys = np.fromiter(self.window_counts.keys(), dtype=np.int64, count=len(self.window_counts))
            out[keys] = np.fromiter(self.window_counts.values(), dtype=np.int64, count=len(self.window_counts))
        return out

    def history(self, user: Hashable) -> tuple[np.ndarray, np.ndarray]:
        """The user's kept items and times, oldest first (empty arrays for an unknown user)."""
        items = self._items.get(user)
        if items is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.fromiter(items, dtype=np.int64, count=len(items)), \
            np.fromiter(self._times[user], dtype=np.int64, count=len(items))

    def seen(self, user: Hashable) -> set:
        """Every item the user has interacted with (empty set for an unknown user)."""
        return self._seen.get(user, set())

    @property
    def users(self) -> list:
        return list(self._items)

    def query(self, users: Iterable[Hashable], now: Iterable[float]) -> QueryBatch:
        """A QueryBatch of the users' kept histories at request times ``now`` (for a Recommender)."""
        users = list(users)
        hist = [self.history(u) for u in users]
        return QueryBatch(np.asarray(users), [h[0] for h in hist], [h[1] for h in hist],
                          np.asarray(list(now), dtype=np.int64))

    def __repr__(self) -> str:
        return f"StreamState({self.n_events:,} events, {len(self._items):,} users, now={self.now})"
