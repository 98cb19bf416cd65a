"""Chapter 5's case study around the pipeline: the data facts behind the model's design, its ablations, and where
it wins and loses (by user activity, gap since the previous event, item age, cold or warm target)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.analysis.pipeline import COMPONENTS, PipelineReport, evaluate_model, gaps_since_previous, paired_table
from tsrec.evaluate import eval_queries
from tsrec.metrics import clustered_mean_ci, mean_ci, per_user_rank_metrics
from tsrec.models.base import Recommender
from tsrec.splits import shuffle_train_order

__all__ = ["ABLATIONS", "GAP_BINS", "ablations", "error_analysis", "gaps_since_previous", "new_users_per_year",
           "query_facts"]

ABLATIONS = ("no time", "no text", "no CoVisitation", "no refit", "shuffled order")
GAP_BINS = (0, 60, 3600, 86400, np.inf)  # seconds since the user's previous event: burst, session, day, longer
GAP_LABELS = ("< 1 min", "1 min - 1 h", "1 h - 1 d", "> 1 d")


def new_users_per_year(interactions: pd.DataFrame) -> pd.Series:
    """How many users rated for the first time in each calendar year (UTC)."""
    first = interactions.groupby("user")["timestamp"].min()
    return pd.to_datetime(first, unit="s").dt.year.value_counts().sort_index().rename("new users")


def query_facts(report: PipelineReport) -> pd.DataFrame:
    """Per test query (in the ranks' order): the user's events so far, the gap since the previous one, the target
    item's age (days since its first event in the data seen before test; NaN when it has none before the query)
    and whether it is warm (some event of it precedes the query)."""
    split = report.split
    queries, targets = eval_queries(split, "test", report.target)
    first_seen = split.history("test").groupby("item")["timestamp"].min()
    last = np.array([t[-1] if len(t) else np.nan for t in queries.times], dtype=float)
    born = pd.Series(targets).map(first_seen).to_numpy(dtype=float)
    age = np.where(born <= queries.now, (queries.now - born) / 86400.0, np.nan)
    return pd.DataFrame({"user": queries.users, "history": [len(x) for x in queries.items],
                         "gap": queries.now - last, "item_age_days": age, "warm": ~np.isnan(age)})


def _groups(facts: pd.DataFrame) -> dict[str, pd.Series]:
    activity = pd.cut(facts["history"], [0, 20, 100, 500, np.inf], labels=["1-20", "21-100", "101-500", "> 500"])
    gap = pd.cut(facts["gap"], list(GAP_BINS), labels=list(GAP_LABELS), right=False)
    age = pd.cut(facts["item_age_days"], [-np.inf, 30, 365, 5 * 365, np.inf],
                 labels=["< 30 d", "30 d - 1 y", "1 - 5 y", "> 5 y"])  # cold targets fall in no group
    return {"user activity (events so far)": activity, "gap since previous event": gap, "target item age": age,
            "target": pd.Categorical(np.where(facts["warm"], "warm (seen before)", "cold (never seen before)"))}


def error_analysis(report: PipelineReport, model: str = "time-text model", reference: str = "item-kNN (tuned)",
                   k: int = 10) -> pd.DataFrame:
    """NDCG@k of ``model`` and ``reference`` per group of test queries, with the paired difference's 95% interval
    (clustered by user on the global split); one row per (grouping, group)."""
    facts = query_facts(report)
    ranks = report.ranks
    a = per_user_rank_metrics(ranks[model].to_numpy(), k)[f"NDCG@{k}"]
    b = per_user_rank_metrics(ranks[reference].to_numpy(), k)[f"NDCG@{k}"]
    rows = []
    for grouping, labels in _groups(facts).items():
        for group in pd.Categorical(labels).categories:
            sel = np.asarray(labels == group)
            if sel.sum() < 2:
                continue
            users = facts["user"].to_numpy()[sel]
            d, h = clustered_mean_ci(a[sel] - b[sel], users) if report.target == "all" else mean_ci(a[sel] - b[sel])
            rows.append({"grouping": grouping, "group": group, "queries": int(sel.sum()),
                         model: float(a[sel].mean()), reference: float(b[sel].mean()), "diff": d, "ci": h})
    return pd.DataFrame(rows).set_index(["grouping", "group"])


def ablations(report: PipelineReport) -> pd.DataFrame:
    """The chosen model with one idea taken away, each refitted and scored on test like the full model: no time
    weights, no text part, no CoVisitation part, no refit (fitted on train only), training order shuffled."""
    split, settings, text = report.split, report.settings, report.text
    variants: dict[str, tuple[Recommender, object]] = {
        "no time": (settings.build(text, use_time=False), split),
        "no text": (settings.build(text, without="text"), split),
        "no CoVisitation": (settings.build(text, without=COMPONENTS[0]), split),
        "shuffled order": (settings.build(text), shuffle_train_order(split, seed=0)),
    }
    ranks = report.ranks[["user", "target", "time-text model"]].copy()
    for label, (model, data) in variants.items():
        model.fit(data.history("test"), split.n_users, split.n_items)
        ranks[label] = evaluate_model({label: model}, data, report.target, fit=False)[label].to_numpy()
    no_refit = settings.build(text).fit(split.train, split.n_users, split.n_items)
    ranks["no refit"] = evaluate_model({"no refit": no_refit}, split, report.target, fit=False)["no refit"].to_numpy()
    return paired_table(ranks[["user", "target", "time-text model", *ABLATIONS]], "time-text model",
                        clustered=report.target == "all")
