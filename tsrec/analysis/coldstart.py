"""Cold start measured (chapter 2.2): items held out of training, and how well a model finds them anyway."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from tsrec.evaluate import eval_queries, evaluate
from tsrec.metrics import mean_ci, per_user_rank_metrics
from tsrec.models.base import Scorer
from tsrec.splits import Split

__all__ = ["item_counts", "hold_out_items", "random_hit_rate", "cold_start_report"]


def item_counts(interactions: pd.DataFrame, n_items: int) -> np.ndarray:
    """Training events per encoded item id, length n_items + 1 (index 0 = padding = 0)."""
    return np.bincount(interactions["item"].to_numpy(), minlength=n_items + 1)


def hold_out_items(split: Split, frac: float = 0.05, weighting: str = "popularity", seed: int = 0,
                   items: Sequence[int] | None = None) -> tuple[Split, np.ndarray]:
    """A copy of ``split`` whose training part has no event of the held-out items, and their ids.

    Items are drawn without replacement among items with training events, with probability proportional
    to their training count (``weighting="popularity"``: the cold set then looks like what users consume,
    and enough test targets are cold to measure) or uniformly; or given as ``items``. Validation and test
    events are kept: they are never trained on (validation only selects the epoch) and a cold item a user
    consumed may stand in the history, where a text model can still represent it.
    """
    counts = item_counts(split.train, split.n_items)
    if items is None:
        if not 0.0 < frac < 1.0:
            raise ValueError(f"frac must be in (0, 1), got {frac!r}")
        pool = np.flatnonzero(counts[1:]) + 1
        if weighting == "popularity":
            p = counts[pool] / counts[pool].sum()
        elif weighting == "uniform":
            p = None
        else:
            raise ValueError(f"weighting must be 'popularity' or 'uniform', got {weighting!r}")
        n = max(1, int(round(frac * split.n_items)))
        cold = np.sort(np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False, p=p))
    else:
        cold = np.unique(np.asarray(items, dtype=np.int64))
        if len(cold) and (cold.min() < 1 or cold.max() > split.n_items):
            raise ValueError(f"held-out item ids must lie in 1..{split.n_items}")
    train = split.train[~split.train["item"].isin(cold)]
    info = {**split.info, "cold_items": len(cold), "cold_train_events_removed": int(len(split.train) - len(train))}
    out = Split(train, split.valid, split.test, split.n_users, split.n_items, split.kind, info,
                split.user_map, split.item_map)
    return out, cold


def random_hit_rate(split: Split, stage: str = "test", k: int = 10, users: Sequence[int] | None = None) -> float:
    """Expected HR@k of a uniformly random ranking: mean over queries of k / (items not masked as seen)."""
    queries, _ = eval_queries(split, stage)
    keep = np.ones(len(queries), bool) if users is None else np.isin(queries.users, np.asarray(users))
    n_seen = np.array([len(np.unique(h)) for h in queries.items])[keep]
    return float(np.mean(np.minimum(1.0, k / (split.n_items - n_seen))))


def cold_start_report(model: Scorer, split: Split, cold_items: Sequence[int] | np.ndarray, k: int = 10,
                      stage: str = "test") -> dict[str, float]:
    """HR@k, NDCG@k and AUC (share of candidates ranked below the target; 0.5 for a random ranking), with 95%
    intervals over users, on the queries whose target is a held-out item, beside the random HR@k for the same
    queries; plus the same metrics on the warm queries."""
    _, frame = evaluate(model, split, stage, ks=(k,), per_user=True)
    cold = np.isin(frame["target"].to_numpy(), np.asarray(cold_items))
    out: dict[str, float] = {"n_cold_queries": int(cold.sum()), "n_warm_queries": int((~cold).sum())}
    per = per_user_rank_metrics(frame["rank"].to_numpy(), k)
    queries, _ = eval_queries(split, stage)
    n_seen = np.array([len(np.unique(h)) for h in queries.items])
    per["AUC"] = 1.0 - frame["rank"].to_numpy() / np.maximum(split.n_items - n_seen - 1, 1)  # random: 0.5
    for part, sel in (("cold", cold), ("warm", ~cold)):
        for m in (f"HR@{k}", f"NDCG@{k}", "AUC"):
            if sel.sum() >= 2:
                mean, half = mean_ci(per[m][sel])
            else:
                mean, half = (float(per[m][sel].mean()) if sel.any() else float("nan")), float("nan")
            out[f"{part}_{m}"], out[f"{part}_{m}_ci"] = mean, half
    out[f"random_HR@{k}"] = random_hit_rate(split, stage, k, frame.loc[cold, "user"].to_numpy())
    return out
