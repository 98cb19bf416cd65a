"""Test-then-train (prequential) evaluation of an online learner on a replayed stream, and its summaries.

Each event is first predicted (the rank of its item among all items, with the package's one tie rule and
the user's earlier items masked) and only then learned, so no learner can see the event it is asked to
predict. ``over_time`` and ``drift_points`` (ADWIN) show how quality moves along the stream.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from tsrec.config import progress_wanted
from tsrec.metrics import per_user_rank_metrics, target_ranks
from tsrec.online.events import Event, EventSource, as_events, time_bound
from tsrec.online.learners import OnlineLearner

__all__ = ["prequential", "summarize", "compare_online", "over_time", "drift_points", "plot_over_time"]

COLUMNS = ("event", "row", "timestamp", "user", "item", "rank", "candidates", "repeat")


def _check_positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _ranks(scores: np.ndarray, targets: list[int], seen: list[set | None]) -> tuple[np.ndarray, np.ndarray]:
    """0-based rank of each target among items 1..n not in its seen set (the target never masked), and the
    number of candidates, for one batch of predictions."""
    s = torch.as_tensor(np.asarray(scores, dtype=np.float64))
    mask = torch.zeros(s.shape, dtype=torch.bool)
    for row, items in enumerate(seen):
        if items:
            mask[row, torch.as_tensor(list(items), dtype=torch.long)] = True
    t = torch.as_tensor(targets, dtype=torch.long)
    ranks = target_ranks(s, t, mask).numpy()
    masked = mask[:, 1:].sum(1) - mask[torch.arange(len(t)), t].long()
    return ranks, (s.shape[1] - 1 - masked).numpy()


def prequential(stream: EventSource | pd.DataFrame | str | Path | Iterable[Event], learner: OnlineLearner,
                k: int = 10, every: int = 1, start: Any = None, end: Any = None, batch_size: int = 1,
                mask_seen: bool = True, progress: bool = True, max_events: int | None = None) -> pd.DataFrame:
    """Test-then-train: predict each event (rank of its item among all items), then learn it.

    Returns one row per evaluated event: ``event`` (position in the stream), ``row``, ``timestamp``,
    ``user``, ``item``, ``rank`` (0-based, ties by item id), ``candidates``, ``HR@k``, ``NDCG@k`` and
    ``repeat`` (the user had the item before; with ``mask_seen`` their other earlier items are masked,
    the target never is). Every event is learned; only events with ``start <= timestamp < end`` are
    evaluated, and of those every ``every``-th. ``batch_size > 1`` predicts that many consecutive
    events with the state before the first of them, then learns them all (faster for torch models;
    never leaks, but a prediction then misses the batch's earlier events). Torch learners score one
    query at a time: run them with ``torch.set_num_threads(1)``.
    """
    k, every, batch_size = (_check_positive_int(v, n)
                            for v, n in ((k, "k"), (every, "every"), (batch_size, "batch_size")))
    events = as_events(stream)
    lo, hi = time_bound(start), time_bound(end)
    seen: dict[Hashable, set] = {}
    out: dict[str, list] = {c: [] for c in COLUMNS}
    total = len(events) if hasattr(events, "__len__") else None
    if max_events is not None and total is not None:
        total = min(total, max_events)
    bar = tqdm(total=total, desc=f"prequential {getattr(learner, 'name', type(learner).__name__)}",
               disable=not progress_wanted(progress), mininterval=1.0)
    timing = {"predict": 0.0, "learn": 0.0}
    pending: list[tuple[int, Event, bool]] = []

    def flush() -> None:
        todo = [(pos, ev) for pos, ev, ev_eval in pending if ev_eval]
        if todo:
            t0 = time.perf_counter()
            if len(todo) == 1:
                scores = learner.score_one(todo[0][1].user, todo[0][1].timestamp)[None, :]
            else:
                scores = learner.score_many([ev.user for _, ev in todo], [ev.timestamp for _, ev in todo])
            timing["predict"] += time.perf_counter() - t0
            mine = [seen.get(ev.user) for _, ev in todo]
            ranks, cands = _ranks(scores, [int(ev.item) for _, ev in todo], mine if mask_seen else [None] * len(todo))
            for (pos, ev), m, r, c in zip(todo, mine, ranks.tolist(), cands.tolist()):
                for col, v in zip(out, (pos, ev.row, ev.timestamp, ev.user, ev.item, r, c, bool(m) and ev.item in m)):
                    out[col].append(v)
        t0 = time.perf_counter()
        for _, ev, _ in pending:
            learner.learn_one(ev)
            seen.setdefault(ev.user, set()).add(ev.item)
        timing["learn"] += time.perf_counter() - t0
        bar.update(len(pending))
        pending.clear()

    n_in_range = 0
    for pos, ev in enumerate(events):
        if (max_events is not None and pos >= max_events) or (hi is not None and ev.timestamp >= hi):
            break
        in_range = lo is None or ev.timestamp >= lo
        pending.append((pos, ev, in_range and n_in_range % every == 0))
        n_in_range += in_range
        if len(pending) >= batch_size:
            flush()
    if pending:
        flush()
    bar.close()
    res = pd.DataFrame(out).astype({"event": "int64", "row": "int64", "timestamp": "int64", "rank": "int64",
                                    "candidates": "int64", "repeat": "bool"})
    per = per_user_rank_metrics(res["rank"].to_numpy(), k) if len(res) else {f"HR@{k}": [], f"NDCG@{k}": []}
    res[f"HR@{k}"], res[f"NDCG@{k}"] = per[f"HR@{k}"], per[f"NDCG@{k}"]
    res.attrs.update({"learner": getattr(learner, "name", type(learner).__name__), "k": k,
                      "predict_seconds": timing["predict"], "learn_seconds": timing["learn"], "batch_size": batch_size})
    return res


def _metric_columns(results: pd.DataFrame) -> list[str]:
    return [c for c in results.columns if "@" in c]


def summarize(results: pd.DataFrame, skip_repeats: bool = False) -> dict[str, float]:
    """Mean of every metric column over the evaluated events (optionally without repeat events)."""
    r = results[~results["repeat"]] if skip_repeats else results
    if len(r) == 0:
        raise ValueError("no evaluated events to summarise")
    out = {c: float(r[c].mean()) for c in _metric_columns(r)}
    out["events"] = len(r)
    return out


def compare_online(make_stream: Callable[[], Iterable[Event]], learners: dict[str, OnlineLearner],
                   **kwargs) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Run :func:`prequential` for each learner on a fresh stream; a summary table and the per-event results."""
    results, rows = {}, []
    for name, learner in learners.items():
        t0 = time.perf_counter()
        res = prequential(make_stream(), learner, **kwargs)
        results[name] = res
        rows.append({"learner": name, **summarize(res), "seconds": time.perf_counter() - t0})
    return pd.DataFrame(rows).set_index("learner"), results


def over_time(results: pd.DataFrame, freq: str = "W", metrics: list[str] | None = None) -> pd.DataFrame:
    """Mean metrics per calendar period (``freq``: 'D', 'W', 'MS', ... in UTC) with the event count ``n``."""
    metrics = metrics or _metric_columns(results)
    when = pd.to_datetime(results["timestamp"], unit="s", utc=True)
    g = results.assign(_when=when).groupby(pd.Grouper(key="_when", freq=freq))
    out = g[metrics].mean()
    out["n"] = g.size()
    out.index.name = "period"
    return out[out["n"] > 0]


def drift_points(series: pd.Series | np.ndarray | Iterable[float], delta: float = 0.002, clock: int = 32,
                 **adwin_kwargs) -> list:
    """Where ``river.drift.ADWIN`` detects a change in the series' mean: index labels (or positions).

    ADWIN keeps an adaptive window and signals when two sub-windows' means differ more than chance
    allows (confidence ``delta``); detection comes a little after the true change (``clock`` steps).
    """
    from river.drift import ADWIN

    adwin = ADWIN(delta=delta, clock=clock, **adwin_kwargs)
    values = np.asarray(series, dtype=np.float64)
    if np.isnan(values).any():
        raise ValueError("series contains NaN; drop or fill them before looking for drift")
    labels = series.index if isinstance(series, pd.Series) else None
    found = []
    for pos, v in enumerate(values.tolist()):
        adwin.update(v)
        if adwin.drift_detected:
            found.append(labels[pos] if labels is not None else pos)
    return found


def plot_over_time(results: pd.DataFrame | dict[str, pd.DataFrame], metric: str | None = None, freq: str = "W",
                   ax: Any = None, drift: bool = False, min_events: int = 1) -> Any:
    """Line plot of a metric per period for one or several learners; ``drift=True`` marks ADWIN change points
    of the per-event metric with vertical lines. Returns the matplotlib Axes."""
    import matplotlib.pyplot as plt

    runs = results if isinstance(results, dict) else {results.attrs.get("learner", "learner"): results}
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 3.5))
    for name, res in runs.items():
        m = metric or next(c for c in _metric_columns(res) if c.startswith("NDCG"))
        per = over_time(res, freq, [m])
        per = per[per["n"] >= min_events]
        line, = ax.plot(per.index, per[m], marker=".", label=name)
        if drift:
            ordered = res.sort_values("event")
            for ts in drift_points(pd.Series(ordered[m].to_numpy(), index=ordered["timestamp"].to_numpy())):
                ax.axvline(pd.Timestamp(int(ts), unit="s", tz="UTC"), color=line.get_color(), alpha=0.4, ls="--")
        metric = m
    ax.set_ylabel(metric)
    ax.set_xlabel(f"time (per {freq}, UTC)")
    ax.set_title(f"prequential {metric} over time")
    ax.legend()
    return ax
