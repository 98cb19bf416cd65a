"""Online learners (chapter 4.3): each scores every item with what it has learned so far, then learns one
more event. ``prequential`` (``tsrec.online.prequential``) drives them test-then-train.

One interface: ``score_many(users, now)`` (or ``score_one``) returns scores ``[B, n_items + 1]`` and
``learn_one(event)`` learns one event; ``predict_one`` is a top-k list with the package's one tie rule.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable

import numpy as np
import pandas as pd
import torch

from tsrec.data import require_columns
from tsrec.metrics import topk_items
from tsrec.models.base import Recommender, Scorer, score_numpy
from tsrec.online.events import Event
from tsrec.online.state import StreamState
from tsrec.times import DAY, WEEK
from tsrec.windows import DecayedVector

__all__ = ["OnlineLearner", "OnlinePopularity", "OnlineItemKNN", "Static", "PeriodicRetrain", "RiverMF"]


class OnlineLearner:
    """Base class: keeps per-user histories (a :class:`StreamState`) and defines the one interface.

    Subclasses implement ``score_many(users, now) -> [B, n_items + 1]`` and ``_learn(event)`` (called
    before the event enters ``self.state``, so ``self.state`` holds only the user's earlier events).
    """

    name = "online"

    def __init__(self, n_items: int, history_len: int | None = None) -> None:
        if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
            raise ValueError(f"n_items must be a positive int, got {n_items!r}")
        self.n_items = int(n_items)
        self.state = StreamState(window_seconds=None, half_life_seconds=None, history_len=history_len)

    def _check_item(self, ev: Event) -> None:
        if not (isinstance(ev.item, (int, np.integer)) and 1 <= ev.item <= self.n_items):
            raise ValueError(f"item {ev.item!r} is not an encoded id in 1..{self.n_items}; "
                             "replay with EventSource(..., encode=True) or encode with tsrec.prep")

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        raise NotImplementedError

    def score_one(self, user: Hashable, now: float) -> np.ndarray:
        """Scores [n_items + 1] for one user at time ``now`` (column 0 is padding)."""
        return self.score_many([user], [now])[0]

    def predict_one(self, user: Hashable, now: float, k: int = 10, exclude_seen: bool = True) -> list:
        """Top-k item ids for ``user`` at ``now`` (items the user has seen excluded)."""
        scores = torch.as_tensor(self.score_one(user, now))[None, :]
        mask = torch.zeros_like(scores, dtype=torch.bool)
        if exclude_seen and self.state.seen(user):
            mask[0, torch.as_tensor(sorted(self.state.seen(user)))] = True
        top = topk_items(scores, mask, min(k, self.n_items))[0]
        return top[top > 0].tolist()

    def learn_one(self, ev: Event) -> None:
        """Learn one event (after it has been predicted)."""
        self._check_item(ev)
        self._learn(ev)
        self.state.update(ev)

    def _learn(self, ev: Event) -> None:
        pass

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_items={self.n_items})"


class OnlinePopularity(OnlineLearner):
    """Time-decayed item counts, updated per event: sum of 0.5 ** ((now - t) / half_life) per item."""

    name = "OnlinePop"

    def __init__(self, n_items: int, half_life_seconds: float = WEEK) -> None:
        super().__init__(n_items, history_len=1)
        self.half_life_seconds = float(half_life_seconds)
        self._dec = DecayedVector(self.n_items, self.half_life_seconds)

    def _learn(self, ev: Event) -> None:
        self._dec.add(ev.item, ev.timestamp)

    def score_one(self, user: Hashable, now: float) -> np.ndarray:
        return self._dec.values(now)

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        return np.stack([self._dec.values(t) for t in now])

    def __repr__(self) -> str:
        return f"OnlinePopularity(half_life_seconds={self.half_life_seconds:g})"


class _SparseRows:
    """Growable sparse rows (one per item) of co-occurrence counts: add one entry in O(1), read a row as arrays."""

    def __init__(self, n: int) -> None:
        self.cols: list[np.ndarray | None] = [None] * (n + 1)
        self.vals: list[np.ndarray | None] = [None] * (n + 1)
        self.size = np.zeros(n + 1, dtype=np.int64)
        self.pos: list[dict | None] = [None] * (n + 1)

    def add(self, i: int, j: int, w: float = 1.0) -> None:
        pos = self.pos[i]
        if pos is None:
            pos = self.pos[i] = {}
            self.cols[i] = np.zeros(8, dtype=np.int64)
            self.vals[i] = np.zeros(8, dtype=np.float64)
        p = pos.get(j)
        if p is None:
            p = pos[j] = int(self.size[i])
            if p == len(self.cols[i]):
                self.cols[i] = np.concatenate([self.cols[i], np.zeros(p, dtype=np.int64)])
                self.vals[i] = np.concatenate([self.vals[i], np.zeros(p, dtype=np.float64)])
            self.cols[i][p] = j
            self.size[i] += 1
        self.vals[i][p] += w

    def row(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        n = int(self.size[i])
        if n == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return self.cols[i][:n], self.vals[i][:n]

    def get(self, i: int, j: int) -> float:
        pos = self.pos[i]
        if pos is None or j not in pos:
            return 0.0
        return float(self.vals[i][pos[j]])


class OnlineItemKNN(OnlineLearner):
    """Item-kNN from incremental co-occurrence counts within each user's recent history.

    On an event (u, i), every distinct item j among u's last ``window`` items gets co(i, j) += 1 and
    co(j, i) += 1. A user's score for item i is the cosine-normalised sum over their last ``window``
    items j of co(i, j) / sqrt(n_i n_j) (weighted by 0.5 ** ((now - t_j) / half_life) if given), plus a
    tiny popularity term so that ties (and users without history) fall back to popular items.
    Counts live in a dense float32 matrix up to ``dense_max_items`` items, else in growable sparse rows.
    """

    name = "OnlineItemKNN"

    def __init__(self, n_items: int, window: int = 20, half_life_seconds: float | None = None,
                 popularity_eps: float = 1e-6, dense_max_items: int = 6000) -> None:
        if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
            raise ValueError(f"window must be a positive int, got {window!r}")
        super().__init__(n_items, history_len=window)
        self.window, self.half_life_seconds, self.eps = int(window), half_life_seconds, float(popularity_eps)
        self.dense = self.n_items <= dense_max_items
        if self.dense:
            self.co = np.zeros((self.n_items + 1, self.n_items + 1), dtype=np.float32)
        else:
            self.co = _SparseRows(self.n_items)
        self.counts = np.zeros(self.n_items + 1, dtype=np.float64)

    def _learn(self, ev: Event) -> None:
        i = int(ev.item)
        recent = self.state.history(ev.user)[0]
        if len(recent):
            js = np.unique(recent)
            js = js[js != i]
            if len(js):
                if self.dense:
                    self.co[i, js] += 1.0
                    self.co[js, i] += 1.0
                else:
                    for j in js.tolist():
                        self.co.add(i, j)
                        self.co.add(j, i)
        self.counts[i] += 1.0

    def _score(self, user: Hashable, now: float) -> np.ndarray:
        items, times = self.state.history(user)
        if len(items):
            if self.half_life_seconds:
                w = np.exp2(-np.clip(now - times, 0, None) / self.half_life_seconds)
            else:
                w = np.ones(len(items))
            js, inv = np.unique(items, return_inverse=True)
            wj = np.zeros(len(js))
            np.maximum.at(wj, inv, w)                               # an item's latest (largest) weight counts
            wj /= np.sqrt(np.maximum(self.counts[js], 1.0))
            if self.dense:
                out = (wj.astype(np.float32) @ self.co[js]).astype(np.float64)
            else:
                out = np.zeros(self.n_items + 1, dtype=np.float64)
                for j, wv in zip(js.tolist(), wj.tolist()):
                    cols, vals = self.co.row(j)
                    if len(cols):
                        out[cols] += wv * vals
            out /= np.sqrt(np.maximum(self.counts, 1.0))
        else:
            out = np.zeros(self.n_items + 1, dtype=np.float64)
        if self.eps:
            out += self.eps * self.counts / (self.counts.max() + 1.0)
        return out

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        return np.stack([self._score(u, t) for u, t in zip(users, now)])

    def score_one(self, user: Hashable, now: float) -> np.ndarray:
        return self._score(user, now)

    def __repr__(self) -> str:
        hl = f", half_life_seconds={self.half_life_seconds:g}" if self.half_life_seconds else ""
        return f"OnlineItemKNN(window={self.window}{hl})"


class Static(OnlineLearner):
    """A Recommender trained once and never updated; it still sees each user's newest history when scoring."""

    name = "Static"

    def __init__(self, model: Scorer, n_items: int | None = None, history_len: int | None = None) -> None:
        if not hasattr(model, "score"):
            raise TypeError(f"model must be a fitted Recommender (with .score), got {type(model).__name__}")
        n = n_items or getattr(model, "n_items", 0)
        super().__init__(n, history_len=history_len)
        self.model = model
        self.name = f"Static({getattr(model, 'name', type(model).__name__)})"

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        return score_numpy(self.model, self.state.query(users, now))

    def __repr__(self) -> str:
        return f"Static({self.model!r})"


class PeriodicRetrain(OnlineLearner):
    """Refits ``factory()`` on every event so far (or the last ``window_seconds``) every ``every_seconds``
    of stream time: the batch-retraining baseline of online learning. ``initial`` events fit the first model."""

    name = "PeriodicRetrain"

    def __init__(self, factory: Callable[[], Recommender], every_seconds: float, n_users: int, n_items: int,
                 initial: pd.DataFrame | None = None, window_seconds: float | None = None,
                 history_len: int | None = None) -> None:
        if not (np.isfinite(every_seconds) and every_seconds > 0):
            raise ValueError(f"every_seconds must be a positive number, got {every_seconds!r}")
        super().__init__(n_items, history_len=history_len)
        self.factory, self.every, self.n_users = factory, float(every_seconds), int(n_users)
        self.window = window_seconds
        self._u: list = []
        self._i: list = []
        self._t: list = []
        self.model: Recommender | None = None
        self.last_fit: float | None = None
        self.n_fits, self.fit_seconds = 0, 0.0
        if initial is not None and len(initial):
            require_columns(initial, ("user", "item", "timestamp"), what="initial")
            init = initial.sort_values("timestamp", kind="stable")
            for u, i, t in zip(init["user"].tolist(), init["item"].tolist(), init["timestamp"].tolist()):
                ev = Event(u, i, int(t))
                self._check_item(ev)
                self._append(ev)
                self.state.update(ev)
            self._refit(int(init["timestamp"].iloc[-1]))
        self.name = f"PeriodicRetrain({getattr(factory(), 'name', 'model')}, every {self.every / DAY:g} d)"

    def _append(self, ev: Event) -> None:
        self._u.append(ev.user)
        self._i.append(ev.item)
        self._t.append(ev.timestamp)

    def _refit(self, now: float) -> None:
        t0 = time.perf_counter()
        frame = pd.DataFrame({"user": self._u, "item": self._i, "timestamp": self._t})
        if self.window is not None:
            frame = frame[frame["timestamp"] > now - self.window]
        self.model = self.factory().fit(frame, self.n_users, self.n_items)
        self.last_fit = now
        self.n_fits += 1
        self.fit_seconds += time.perf_counter() - t0

    def _learn(self, ev: Event) -> None:
        self._append(ev)
        if self.last_fit is None or ev.timestamp - self.last_fit >= self.every:
            self._refit(ev.timestamp)

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        users, now = list(users), list(now)
        if self.model is None:
            return np.zeros((len(users), self.n_items + 1))
        return score_numpy(self.model, self.state.query(users, now))


class RiverMF(OnlineLearner):
    """River's incremental matrix factorisation (``river.reco.BiasedMF`` or ``FunkMF``) on implicit feedback.

    Each event is a positive (y = 1) followed by ``n_negatives`` items drawn uniformly from the items
    seen so far (y = 0), one SGD step each (river's ``learn_one``). Scoring all items reads river's
    latent vectors through a numpy mirror of the touched items, so a query is one matrix-vector product.
    """

    name = "RiverMF"

    def __init__(self, n_items: int, n_factors: int = 16, kind: str = "biased", n_negatives: int = 2,
                 lr: float = 0.05, l2: float = 0.001, seed: int = 0) -> None:
        from river import optim, reco

        super().__init__(n_items, history_len=1)
        if kind not in ("biased", "funk"):
            raise ValueError(f"kind must be 'biased' (river.reco.BiasedMF) or 'funk' (FunkMF), got {kind!r}")
        self.kind, self.n_negatives = kind, int(n_negatives)
        if kind == "biased":
            self.model = reco.BiasedMF(n_factors=n_factors, bias_optimizer=optim.SGD(lr),
                                       latent_optimizer=optim.SGD(lr), l2_bias=l2, l2_latent=l2, seed=seed)
        else:
            self.model = reco.FunkMF(n_factors=n_factors, optimizer=optim.SGD(lr), l2=l2, seed=seed)
        self._I = np.zeros((self.n_items + 1, n_factors))
        self._ib = np.zeros(self.n_items + 1)
        self._known: list[int] = []
        self._is_known = np.zeros(self.n_items + 1, dtype=bool)
        self._rng = np.random.default_rng(seed)
        self.name = f"River{'BiasedMF' if kind == 'biased' else 'FunkMF'}"

    def _mirror(self, item: int) -> None:
        self._I[item] = self.model.i_latents[item]
        if self.kind == "biased":
            self._ib[item] = self.model.i_biases[item]

    def _learn(self, ev: Event) -> None:
        u, i = ev.user, int(ev.item)
        if not self._is_known[i]:
            self._is_known[i] = True
            self._known.append(i)
        self.model.learn_one(u, i, 1.0)
        self._mirror(i)
        if self.n_negatives and len(self._known) > 1:
            for j in self._rng.choice(len(self._known), self.n_negatives).tolist():
                j = self._known[j]
                if j != i:
                    self.model.learn_one(u, j, 0.0)
                    self._mirror(j)

    def _score(self, user: Hashable) -> np.ndarray:
        uvec = self.model.u_latents.get(user)
        s = self._I @ uvec if uvec is not None else np.zeros(self.n_items + 1)
        if self.kind == "biased":
            s = s + self._ib + self.model.u_biases.get(user, 0.0) + self.model.global_mean.get()
        return s

    def score_one(self, user: Hashable, now: float) -> np.ndarray:
        return self._score(user)

    def score_many(self, users: Iterable[Hashable], now: Iterable[float]) -> np.ndarray:
        return np.stack([self._score(u) for u in users])
