"""Evaluation protocols side by side (chapter 4.1): a global temporal split repeated at rolling cuts with the
models asked "as of the cut", the same models under leave-one-out, rolling and random splits, and paired
intervals for the differences a text draws from them.

Per-query results travel as DataFrames: one row per query (index: the user, the cluster of the intervals),
one column per model, values 0-based target ranks (or a per-query metric).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from tsrec import prep
from tsrec.evaluate import eval_queries, evaluate
from tsrec.metrics import clustered_mean_ci, per_user_rank_metrics, target_ranks
from tsrec.models.base import Recommender
from tsrec.models.knn import ItemKNN
from tsrec.models.popularity import Popularity, RecentPopularity
from tsrec.queries import QueryBatch, queries_from_frames, seen_mask
from tsrec.splits import Split, random_split

__all__ = ["FOREVER", "PROTOCOLS", "Rolling", "rolling_origin", "frozen_ranks", "knn_rolling_ranks",
           "rolling_ranks", "split_ranks", "per_query", "summary_table", "paired_differences",
           "protocol_ranks", "protocol_table", "protocol_differences", "own_future_share"]

FOREVER = 1e12  # a window longer than any log: RecentPopularity(FOREVER, tiebreak=False) is popularity as of now
PROTOCOLS = ("leave-one-out", "rolling global (returning)", "random split")


@dataclass
class Rolling:
    """A global temporal split repeated at every cut: the encoded events in time order, one query per user
    and cut (the user's first event in [cut, next cut), history = the user's events before the cut) and
    ``targets``, one row per query: user, item, timestamp, cut, returning (has a history)."""

    events: pd.DataFrame
    n_users: int
    n_items: int
    queries: QueryBatch
    targets: pd.DataFrame

    @property
    def returning(self) -> np.ndarray:
        """Bool per query: the user had events before the cut."""
        return self.targets["returning"].to_numpy()

    @property
    def users(self) -> np.ndarray:
        """The user of each query (the cluster of its intervals)."""
        return self.targets["user"].to_numpy()


def rolling_origin(df: pd.DataFrame, start: str, end: str, freq: str) -> Rolling:
    """Cuts at ``pd.date_range(start, end, freq)`` (UTC); the queries of every period between two cuts."""
    enc, user_map, item_map = prep.encode_ids(df)
    enc = prep.time_order(enc, by_user=False).reset_index(drop=True)
    cuts = [int(c.timestamp()) for c in pd.date_range(start, end, freq=freq, tz="UTC")]
    if len(cuts) < 2:
        raise ValueError(f"need at least two cuts between {start} and {end} at {freq!r}")
    ts = enc["timestamp"].to_numpy()
    parts, targets = [], []
    for a, b in zip(cuts[:-1], cuts[1:]):
        past = enc[ts < a]
        first = enc[(ts >= a) & (ts < b)].drop_duplicates("user").sort_values("user")
        if len(first):
            parts.append(queries_from_frames(past, first))
            targets.append(first.assign(cut=a, returning=first["user"].isin(past["user"].unique())))
    if not parts:
        raise ValueError("no events fall between the cuts")
    queries = QueryBatch(np.concatenate([q.users for q in parts]), [x for q in parts for x in q.items],
                         [x for q in parts for x in q.times], np.concatenate([q.now for q in parts]))
    return Rolling(enc, len(user_map), len(item_map), queries, pd.concat(targets, ignore_index=True))


def _targets(roll: Rolling) -> torch.Tensor:
    return torch.as_tensor(roll.targets["item"].to_numpy(copy=True))


def frozen_ranks(model: Recommender, roll: Rolling) -> np.ndarray:
    """0-based target rank of every query for a model of the popularity family asked "as of the cut".

    The model is fitted once on all events and queried with an empty history at ``now = cut - 1``: a
    time-aware model never counts an event after ``now``, so this equals a model trained on the events
    before the cut. Plain ``Popularity`` has no ``now``: pass ``RecentPopularity(FOREVER, tiebreak=False)``.
    """
    if type(model) is Popularity:
        raise TypeError("Popularity ignores `now` and would count the future; "
                        "use RecentPopularity(FOREVER, tiebreak=False)")
    model.fit(roll.events, roll.n_users, roll.n_items)
    cuts, row = np.unique(roll.targets["cut"].to_numpy(), return_inverse=True)
    empty = [np.zeros(0, dtype=np.int64)] * len(cuts)
    with np.errstate(over="ignore"):  # items without events before a cut: a branch np.where discards overflows
        scores = model.score(QueryBatch(np.ones(len(cuts), dtype=np.int64), empty, empty, cuts - 1))
    mask = seen_mask(roll.queries, roll.n_items + 1)
    return target_ranks(scores[torch.as_tensor(row)], _targets(roll), mask).numpy()


def knn_rolling_ranks(half_lives: Sequence[float | None], roll: Rolling, k_neighbors: int = 100
                      ) -> dict[float | None, np.ndarray]:
    """Item-kNN re-fitted at every cut on the events before it; ranks for each history half-life (seconds,
    None = no decay), which only acts when scoring, so the half-lives share each fit."""
    ts, cut_of = roll.events["timestamp"].to_numpy(), roll.targets["cut"].to_numpy()
    mask, target = seen_mask(roll.queries, roll.n_items + 1), _targets(roll)
    out = {h: np.zeros(len(roll.targets), dtype=np.int64) for h in half_lives}
    for c in np.unique(cut_of):
        rows = np.flatnonzero(cut_of == c)  # a cut's queries are contiguous
        past = roll.events[ts < c]
        knn = ItemKNN(k_neighbors).fit(past, roll.n_users, roll.n_items) if len(past) else None
        for h in half_lives:
            if knn is None:  # nothing before the first cut: no similarities, every score 0
                scores = torch.zeros((len(rows), roll.n_items + 1))
            else:
                knn.time_decay_half_life = h
                with np.errstate(over="ignore", under="ignore"):
                    scores = knn.score(roll.queries[rows[0]:rows[-1] + 1])
            out[h][rows] = target_ranks(scores, target[rows], mask[rows]).numpy()
    return out


def rolling_ranks(models: Mapping[str, Recommender], roll: Rolling, knn: bool = True) -> pd.DataFrame:
    """Ranks of every rolling query (index: user) per model: popularity-family models frozen at the cut
    (``Popularity`` by its frozen twin), item-kNNs re-fitted per cut (skipped with ``knn=False``)."""
    cols = {}
    knn_h = {n: m.time_decay_half_life for n, m in models.items() if isinstance(m, ItemKNN)}
    for name, m in models.items():
        if isinstance(m, ItemKNN):
            continue
        cols[name] = frozen_ranks(RecentPopularity(FOREVER, tiebreak=False) if type(m) is Popularity else m, roll)
    if knn and knn_h:
        by_h = knn_rolling_ranks(sorted(set(knn_h.values()), key=lambda h: (h is not None, h or 0)), roll)
        cols |= {n: by_h[h] for n, h in knn_h.items()}
    return pd.DataFrame(cols, index=pd.Index(roll.users, name="user"))[[n for n in models if n in cols]]


def _same_knn(a: ItemKNN, b: ItemKNN) -> bool:
    return (a.k_neighbors, a.shrink, a.similarity, a.alpha) == (b.k_neighbors, b.shrink, b.similarity, b.alpha)


def split_ranks(models: Mapping[str, Recommender], split: Split, stage: str = "test") -> pd.DataFrame:
    """Ranks of every query of ``stage`` (index: user) per model, each fitted on ``split.train`` here;
    item-kNNs that differ only in their history half-life share one fit."""
    cols, users, knn = {}, None, None
    for name, m in models.items():
        if isinstance(m, ItemKNN) and knn is not None and _same_knn(m, knn):
            m.sim, m.n_items = knn.sim, knn.n_items
        else:
            m.fit(split.train, split.n_users, split.n_items)
            knn = m if isinstance(m, ItemKNN) else knn
        with np.errstate(over="ignore", under="ignore"):  # 0.5 ** (negative age) in a branch np.where discards
            _, per = evaluate(m, split, stage, ks=(10,), per_user=True)
        cols[name], users = per["rank"].to_numpy(), per["user"].to_numpy()
    return pd.DataFrame(cols, index=pd.Index(users, name="user"))


def per_query(ranks: pd.DataFrame, metric: str = "HR@10") -> pd.DataFrame:
    """A per-query metric ('HR@10', 'NDCG@10', ...) from a frame of ranks, same shape and index."""
    k = int(metric.split("@")[1])
    return ranks.apply(lambda col: pd.Series(per_user_rank_metrics(col.to_numpy(), k)[metric], index=col.index))


def summary_table(ranks: pd.DataFrame, k: int = 10, reference: str | None = None) -> pd.DataFrame:
    """Per model: HR@k with its 95% half-width (clustered by the index, the user), NDCG@k, queries; with
    ``reference``, also each model's paired HR@k difference to it and that difference's half-width."""
    users = ranks.index.to_numpy()
    rows = {}
    for name, col in ranks.items():
        per = per_user_rank_metrics(col.to_numpy(), k)
        hr, ci = clustered_mean_ci(per[f"HR@{k}"], users) if len(col) > 1 else (float(per[f"HR@{k}"].mean()), np.nan)
        rows[name] = {f"HR@{k}": hr, "HR ±95%": ci, f"NDCG@{k}": float(per[f"NDCG@{k}"].mean()), "queries": len(col)}
    out = pd.DataFrame(rows).T
    if reference is not None:
        d = paired_differences(per_query(ranks, f"HR@{k}"), reference=reference).set_index("A")
        out[f"Δ HR vs {reference}"] = d["A - B"].reindex(out.index).fillna(0.0)
        out["Δ ±95%"] = d["±95%"].reindex(out.index).fillna(0.0)
    return out


def paired_differences(values: pd.DataFrame, pairs: Iterable[tuple[str, str]] | None = None,
                       reference: str | None = None, clusters: Sequence | np.ndarray | None = None) -> pd.DataFrame:
    """Paired mean differences A - B over the same queries, with 95% intervals clustered by ``clusters``
    (default: the index, the user; with one query per user this is the plain paired t-interval).

    Give ``pairs`` (A, B), or ``reference``: every other column against it. Rows are named 'A vs B'.
    """
    if (pairs is None) == (reference is None):
        raise ValueError("give exactly one of pairs or reference")
    if reference is not None:
        pairs = [(c, reference) for c in values.columns if c != reference]
    groups = values.index.to_numpy() if clusters is None else np.asarray(clusters)
    rows = {}
    for a, b in pairs:
        d = values[a].to_numpy(dtype=float) - values[b].to_numpy(dtype=float)
        diff, ci = clustered_mean_ci(d, groups)
        rows[f"{a} vs {b}"] = {"A": a, "B": b, "mean A": float(values[a].mean()), "mean B": float(values[b].mean()),
                               "A - B": diff, "±95%": ci, "excludes 0": bool(abs(diff) > ci)}
    return pd.DataFrame(rows).T.astype({"mean A": float, "mean B": float, "A - B": float, "±95%": float,
                                        "excludes 0": bool})


def own_future_share(split: Split, stage: str = "test") -> float:
    """Mean over the queries of ``stage`` of the share of the user's history that lies after the target."""
    q, _ = eval_queries(split, stage)
    return float(np.mean([(t > now).mean() for t, now in zip(q.times, q.now) if len(t)]))


def protocol_ranks(models: Mapping[str, Recommender], df: pd.DataFrame, loo: Split, roll: Rolling, seed: int = 0,
                   rolling_knn: bool = True, known: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """Ranks of the same models under leave-one-out (``loo``; columns of ``known`` are reused), the rolling
    global split (returning users; item-kNN re-fitted per cut unless ``rolling_knn=False``) and a random
    80/10/10 split of ``df`` (target = the user's earliest test event), by protocol name (``PROTOCOLS``)."""
    reuse = [n for n in models if known is not None and n in known.columns]
    todo = {n: m for n, m in models.items() if n not in reuse}
    parts = ([known[reuse]] if reuse else []) + ([split_ranks(todo, loo)] if todo else [])
    loo_r = pd.concat(parts, axis=1)
    rnd = split_ranks(models, random_split(df, valid_frac=0.1, test_frac=0.1, seed=seed))
    roll_r = rolling_ranks(models, roll, knn=rolling_knn)[roll.returning]
    return dict(zip(PROTOCOLS, (loo_r[list(models)], roll_r, rnd)))


def protocol_table(ranks: Mapping[str, pd.DataFrame], k: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """HR@k of every model (rows, in the first protocol's order; NaN where a protocol skipped one) under every
    protocol (columns), and the 95% half-widths, clustered by user."""
    tabs = {p: summary_table(r, k) for p, r in ranks.items()}
    order = list(next(iter(ranks.values())).columns)
    hr = pd.DataFrame({p: t[f"HR@{k}"] for p, t in tabs.items()}).reindex(order)
    return hr.astype(float), pd.DataFrame({p: t["HR ±95%"] for p, t in tabs.items()}).reindex(order).astype(float)


def protocol_differences(ranks: Mapping[str, pd.DataFrame], pairs: Iterable[tuple[str, str]],
                         metric: str = "HR@10", wide: bool = False) -> pd.DataFrame:
    """``paired_differences`` of ``pairs`` under every protocol that has both models: rows (protocol, 'A vs B');
    ``wide=True`` gives one row per pair and the columns (protocol, 'A - B' / '±95%' / 'excludes 0') instead."""
    pairs = list(pairs)
    out = {}
    for p, r in ranks.items():
        ok = [(a, b) for a, b in pairs if a in r.columns and b in r.columns]
        if ok:
            out[p] = paired_differences(per_query(r, metric), pairs=ok)
    long = pd.concat(out, names=["protocol", "pair"])
    if not wide:
        return long
    table = long[["A - B", "±95%", "excludes 0"]].unstack("protocol").swaplevel(axis=1)
    return table[[p for p in ranks if p in out]].reindex([f"{a} vs {b}" for a, b in pairs])
