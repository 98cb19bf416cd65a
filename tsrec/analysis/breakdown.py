"""Where a model wins and loses: per-query results split by target popularity, history length and coldness,
with 95% intervals over users (clustered when a user has many queries) and over seeds."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from tsrec.metrics import clustered_mean_ci, mean_ci, per_user_rank_metrics
from tsrec.splits import Split

__all__ = ["popularity_groups", "history_lengths", "breakdown", "compare_runs"]


def popularity_groups(counts: np.ndarray, tail_max: int = 10, head_min: int = 100) -> np.ndarray:
    """'cold' (0 training events), 'tail' (1..tail_max), 'torso', 'head' (>= head_min) per item id."""
    counts = np.asarray(counts)
    out = np.where(counts >= head_min, "head", np.where(counts > tail_max, "torso", "tail")).astype(object)
    out[counts == 0] = "cold"
    return out


def history_lengths(split: Split, stage: str = "test") -> pd.Series:
    """Number of events each user has before ``stage`` (train for 'valid', train + valid for 'test')."""
    return split.history(stage).groupby("user").size()


def _length_group(n: np.ndarray, edges: Sequence[int]) -> np.ndarray:
    labels, lo = [], 1
    for e in edges:
        labels.append(f"{lo}-{e}")
        lo = e + 1
    labels.append(f">{edges[-1]}")
    return np.array(labels, dtype=object)[np.searchsorted(np.asarray(edges), n, side="left")]


def _group_columns(per_user: pd.DataFrame, counts: np.ndarray, hist_len: pd.Series | None,
                   cold_items: Sequence[int] | None, tail_max: int, head_min: int,
                   length_edges: Sequence[int]) -> dict[str, np.ndarray]:
    """Group label of every row, per dimension (popularity of the target, history length, cold target)."""
    target = per_user["target"].to_numpy()
    groups = {"popularity": popularity_groups(counts, tail_max, head_min)[target]}
    if hist_len is not None:
        n = hist_len.reindex(per_user["user"].to_numpy()).fillna(0).to_numpy().astype(int)
        groups["history"] = _length_group(n, length_edges)
    if cold_items is not None:
        groups["target"] = np.where(np.isin(target, np.asarray(cold_items)), "cold", "warm").astype(object)
    return groups


def _ci(v: np.ndarray, users: np.ndarray | None = None) -> tuple[float, float]:
    """Mean and 95% half-width; with ``users``, clustered by user (a temporal split tests a user many times)."""
    if len(v) < 2:
        return (float(v.mean()) if len(v) else float("nan")), float("nan")
    return mean_ci(v) if users is None else clustered_mean_ci(v, users)


def breakdown(per_user: pd.DataFrame, counts: np.ndarray, hist_len: pd.Series | None = None,
              cold_items: Sequence[int] | None = None, k: int = 10, tail_max: int = 10, head_min: int = 100,
              length_edges: Sequence[int] = (20, 50, 150)) -> pd.DataFrame:
    """HR@k and NDCG@k with 95% intervals over users, by target popularity (``counts`` = training events per
    item; tail <= ``tail_max``, head >= ``head_min``), by history length and by cold/warm target.

    ``per_user`` is the frame of ``tsrec.evaluate.evaluate(..., per_user=True)`` (user, target, rank).
    One row per (dimension, group) plus ('all', 'all').
    """
    per = per_user_rank_metrics(per_user["rank"].to_numpy(), k)
    users = per_user["user"].to_numpy()
    dims = {"all": np.array(["all"] * len(per_user), dtype=object),
            **_group_columns(per_user, counts, hist_len, cold_items, tail_max, head_min, length_edges)}
    rows = []
    for dim, labels in dims.items():
        for g in _ordered(np.unique(labels)):
            sel = labels == g
            row = {"dimension": dim, "group": g, "n": int(sel.sum())}
            for m in (f"HR@{k}", f"NDCG@{k}"):
                row[m], row[f"{m} ±"] = _ci(per[m][sel], users[sel])
            rows.append(row)
    return pd.DataFrame(rows).set_index(["dimension", "group"])


_ORDER = {"all": 0, "head": 1, "torso": 2, "tail": 3, "cold": 4, "warm": 5}


def _ordered(groups: np.ndarray) -> list:
    def key(g: str) -> tuple:
        if g in _ORDER:
            return (0, _ORDER[g], 0)
        if g.startswith(">"):
            return (1, 0, 10**9)
        return (1, 0, int(g.split("-")[0]))

    return sorted(groups.tolist(), key=key)


def compare_runs(runs_a: Sequence[pd.DataFrame], runs_b: Sequence[pd.DataFrame], counts: np.ndarray,
                 hist_len: pd.Series | None = None, cold_items: Sequence[int] | None = None, k: int = 10,
                 metric: str = "NDCG", tail_max: int = 10, head_min: int = 100,
                 length_edges: Sequence[int] = (20, 50, 150)) -> pd.DataFrame:
    """Model B minus model A per group, over seeds (``runs_*[s]`` = per-user frames of seed s, same users).

    Columns: A and B (mean over seeds of the group metric, ± its 95% t-interval over seeds), delta with its
    interval over seeds (per-seed differences) and over users (per-query differences averaged over seeds,
    a paired and usually tighter interval, clustered by user when a user has several queries), and n queries.
    """
    if len(runs_a) != len(runs_b) or not runs_a:
        raise ValueError("runs_a and runs_b need the same, non-zero number of seeds")
    name = f"{metric}@{k}"
    base = runs_a[0][["user", "target"]].reset_index(drop=True)
    mats = []
    for runs in (runs_a, runs_b):
        cols = []
        for f in runs:
            f = f.reset_index(drop=True)
            if not (f["user"].to_numpy() == base["user"].to_numpy()).all():
                raise ValueError("all runs must list the same users in the same order")
            cols.append(per_user_rank_metrics(f["rank"].to_numpy(), k)[name])
        mats.append(np.stack(cols, 1))  # [users, seeds]
    a, b = mats
    dims = {"all": np.array(["all"] * len(base), dtype=object),
            **_group_columns(base, counts, hist_len, cold_items, tail_max, head_min, length_edges)}
    rows = []
    for dim, labels in dims.items():
        for g in _ordered(np.unique(labels)):
            sel = labels == g
            sa, sb = a[sel].mean(0), b[sel].mean(0)  # per-seed group metric
            row = {"dimension": dim, "group": g, "n": int(sel.sum())}
            row["A"], row["A ±"] = _ci(sa)
            row["B"], row["B ±"] = _ci(sb)
            row["delta"], row["delta ± (seeds)"] = _ci(sb - sa)
            row["delta ± (users)"] = _ci((b[sel] - a[sel]).mean(1), base["user"].to_numpy()[sel])[1]
            rows.append(row)
    return pd.DataFrame(rows).set_index(["dimension", "group"])
