"""Baskets: a grocery log read as shopping trips, and the next-basket protocol of chapter 7.1.

A line-item log (``user`` = household, ``item`` = product, ``timestamp``, ``basket``) becomes baskets and
repurchase intervals; ``basket_split`` cuts it at two global times (the last weeks test, the weeks before
validation) and every basket after a cut is a query: the household's items before the basket, the basket's
time as ``now``, the basket's products as the targets. Recall@K, NDCG@K and HR@K are computed over the basket,
and separately over its **repeat** items (bought before by the household) and **explore** items (new to it);
a household shops many times in the test weeks, so intervals are clustered by household.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tsrec.data import require_columns
from tsrec.metrics import clustered_mean_ci, precision_recall_ndcg
from tsrec.models.base import Scorer
from tsrec.prep import IdMap
from tsrec.queries import QueryBatch, queries_from_frames
from tsrec.times import DAY, WEEK, to_seconds

__all__ = ["BasketQueries", "BasketSplit", "GROUPS", "basket_split", "basket_queries", "baskets", "evaluate_baskets",
           "interval_summary", "item_hits", "paired_basket", "product_texts", "repurchase_intervals", "results_table",
           "sample_households"]

GROUPS = ("all", "repeat", "explore")
LOG_COLUMNS = ("user", "item", "timestamp", "basket")


def sample_households(df: pd.DataFrame, n: int | None, seed: int = 0) -> pd.DataFrame:
    """The line items of ``n`` households drawn without replacement (seeded); all of them if ``n`` is None."""
    require_columns(df, ("user",), what="transactions")
    users = np.sort(df["user"].unique())
    if n is None or n >= len(users):
        return df
    keep = np.random.default_rng(seed).choice(users, size=int(n), replace=False)
    return df[df["user"].isin(keep)]


def baskets(df: pd.DataFrame) -> pd.DataFrame:
    """One row per basket: household, time (its first line item), line items, quantity and sales value."""
    require_columns(df, LOG_COLUMNS, what="transactions")
    agg = {"user": ("user", "first"), "timestamp": ("timestamp", "min"), "lines": ("item", "size")}
    for col in ("quantity", "sales_value"):
        if col in df:
            agg[col] = (col, "sum")
    return df.groupby("basket", sort=False).agg(**agg).reset_index().sort_values("timestamp", kind="stable")


def repurchase_intervals(df: pd.DataFrame, items: pd.DataFrame | None = None, by: str = "department") -> pd.DataFrame:
    """Days between successive baskets in which a household bought the same product (one row per repurchase),
    with the product's ``by`` attribute when ``items`` is given."""
    require_columns(df, LOG_COLUMNS, what="transactions")
    trips = df.groupby(["user", "item", "basket"], sort=False)["timestamp"].min().reset_index()
    trips = trips.sort_values(["user", "item", "timestamp"], kind="stable")
    same = (trips["user"].to_numpy()[1:] == trips["user"].to_numpy()[:-1]) & \
           (trips["item"].to_numpy()[1:] == trips["item"].to_numpy()[:-1])
    gap = np.diff(trips["timestamp"].to_numpy().astype(np.float64)) / DAY
    out = trips.iloc[1:][same][["user", "item", "timestamp"]].assign(gap_days=gap[same]).reset_index(drop=True)
    if items is not None:
        out[by] = out["item"].map(items.drop_duplicates("item").set_index("item")[by]).fillna("(none)").to_numpy()
    return out


def interval_summary(gaps: pd.DataFrame, by: str = "department", min_count: int = 100) -> pd.DataFrame:
    """Median and quartiles of the repurchase interval (days) per ``by`` group with at least ``min_count`` rows."""
    g = gaps.groupby(by)["gap_days"]
    out = pd.DataFrame({"repurchases": g.size(), "q25": g.quantile(0.25), "median": g.median(),
                        "q75": g.quantile(0.75)})
    return out[out["repurchases"] >= min_count].sort_values("median")


def product_texts(products: pd.DataFrame, item_map: IdMap) -> pd.DataFrame:
    """One row per encoded product id 1..n: a short text from its attributes (department, category, type, brand,
    package size; for a sentence encoder) and its department."""
    cols = ("department", "product_category", "product_type", "brand", "package_size")
    require_columns(products, ("item",) + cols, what="products")
    p = products.drop_duplicates("item").set_index("item").reindex(item_map.decode(np.arange(1, len(item_map) + 1)))
    f = {c: p[c].fillna("").astype(str).str.lower() for c in cols}
    text = f["department"] + ": " + f["product_category"] + ", " + f["product_type"] + " (" + f["brand"] + \
        " brand, " + f["package_size"] + ")"
    return pd.DataFrame({"item": np.arange(1, len(item_map) + 1), "text": text.to_numpy(),
                         "department": p["department"].fillna("(none)").to_numpy()})


@dataclass
class BasketQueries:
    """Next-basket queries: a QueryBatch, each query's target basket (item ids) and its repeat / explore parts."""

    batch: QueryBatch
    targets: list[np.ndarray]
    repeat: list[np.ndarray]
    explore: list[np.ndarray]
    basket: np.ndarray

    def __len__(self) -> int:
        return len(self.batch)

    def part(self, group: str) -> list[np.ndarray]:
        """The relevant items of every query for ``group`` ('all', 'repeat' or 'explore')."""
        if group not in GROUPS:
            raise ValueError(f"group must be one of {GROUPS}, got {group!r}")
        return {"all": self.targets, "repeat": self.repeat, "explore": self.explore}[group]


def basket_queries(events: pd.DataFrame, start: int, end: int) -> BasketQueries:
    """One query per basket with ``start <= time < end``: the household's events before the basket's time."""
    require_columns(events, LOG_COLUMNS, what="events")
    ev = events.sort_values(["user", "timestamp"], kind="stable")
    b = baskets(ev)
    b = b[(b["timestamp"] >= start) & (b["timestamp"] < end)]
    by_basket = ev[ev["basket"].isin(b["basket"])].groupby("basket")["item"].unique()
    q = queries_from_frames(ev, b[["user", "timestamp"]], strictly_before=True)
    batch = QueryBatch(q.users.astype(np.int64), q.items, q.times, q.now.astype(np.int64))
    targets, rep, exp = [], [], []
    for history, basket in zip(batch.items, b["basket"]):
        t = np.sort(by_basket[basket]).astype(np.int64)
        seen = np.isin(t, history)
        targets.append(t)
        rep.append(t[seen])
        exp.append(t[~seen])
    return BasketQueries(batch, targets, rep, exp, b["basket"].to_numpy())


@dataclass
class BasketSplit:
    """Id-encoded line items cut at ``valid_start`` and ``test_start`` (Unix seconds); ids 1..n as in tsrec."""

    events: pd.DataFrame
    valid_start: int
    test_start: int
    end: int
    n_users: int
    n_items: int
    user_map: IdMap
    item_map: IdMap

    def fit_frame(self, stage: str) -> pd.DataFrame:
        """What a model may learn from before ``stage``: the events before its cut ('valid' or 'test')."""
        cut = {"valid": self.valid_start, "test": self.test_start}[stage]
        return self.events[self.events["timestamp"] < cut]

    def queries(self, stage: str) -> BasketQueries:
        """The baskets of the validation weeks or of the test weeks as next-basket queries."""
        lo, hi = {"valid": (self.valid_start, self.test_start), "test": (self.test_start, self.end)}[stage]
        return basket_queries(self.events, lo, hi)

    def __repr__(self) -> str:
        day = lambda t: pd.to_datetime(t, unit="s").strftime("%Y-%m-%d")  # noqa: E731
        return (f"BasketSplit({len(self.events):,} line items, {self.n_users:,} households, {self.n_items:,} "
                f"products; validation from {day(self.valid_start)}, test {day(self.test_start)} to {day(self.end)})")


def basket_split(df: pd.DataFrame, test_weeks: int = 2, valid_weeks: int = 2, min_item_count: int = 1,
                 end: int | str | None = None) -> BasketSplit:
    """Global temporal split: the last ``test_weeks`` test, the ``valid_weeks`` before validation.

    The catalogue is the products with at least ``min_item_count`` line items before the test weeks; other
    line items are dropped from histories and baskets alike (no model could recommend them).
    """
    require_columns(df, LOG_COLUMNS, what="transactions")
    stop = int(df["timestamp"].max()) + 1 if end is None else int(to_seconds(end))
    test_start = stop - int(test_weeks) * WEEK
    valid_start = test_start - int(valid_weeks) * WEEK
    if valid_start <= int(df["timestamp"].min()):
        raise ValueError("the validation and test weeks leave no training data")
    df = df[df["timestamp"] < stop]
    counts = df.loc[df["timestamp"] < test_start, "item"].value_counts()
    keep = df[df["item"].isin(counts.index[counts >= min_item_count])]
    user_map, item_map = IdMap.fit(keep["user"]), IdMap.fit(keep["item"])
    ev = keep.assign(user=user_map.encode(keep["user"]), item=item_map.encode(keep["item"]))
    ev = ev.sort_values(["timestamp", "user"], kind="stable").reset_index(drop=True)
    return BasketSplit(ev, valid_start, test_start, stop, len(user_map), len(item_map), user_map, item_map)


def evaluate_baskets(model: Scorer, bq: BasketQueries, k: int = 10, batch_size: int = 256
                     ) -> tuple[pd.DataFrame, np.ndarray]:
    """Per query Recall/NDCG/HR@k over the basket, its repeat and its explore part (NaN where a part is empty),
    and the top-k lists [n, k]. Bought-before items are NOT masked: buying again is the point."""
    tops = [model.recommend(bq.batch[i:i + batch_size], k=k, exclude_seen=False) for i in range(0, len(bq), batch_size)]
    top = np.concatenate(tops) if tops else np.zeros((0, k), dtype=np.int64)
    out = pd.DataFrame({"user": bq.batch.users, "basket": bq.basket, "n_items": [len(t) for t in bq.targets],
                        "n_repeat": [len(t) for t in bq.repeat], "n_explore": [len(t) for t in bq.explore]})
    for group in GROUPS:
        rel = bq.part(group)
        has = np.array([len(r) > 0 for r in rel], dtype=bool)
        for name in ("Recall", "NDCG", "HR"):
            out[f"{name}@{k}:{group}"] = np.nan
        if has.any():
            m = precision_recall_ndcg(top[has], [r for r, h in zip(rel, has) if h])
            for name in ("Recall", "NDCG", "HR"):
                out.loc[has, f"{name}@{k}:{group}"] = m[f"{name}@{k}"]
    return out, top


def results_table(results: dict[str, pd.DataFrame], metric: str = "Recall@10") -> pd.DataFrame:
    """Mean and 95% household-clustered half-width of ``metric`` per model (rows) and item group (columns)."""
    rows = {}
    for name, r in results.items():
        row = {}
        for group in GROUPS:
            v = r[f"{metric}:{group}"]
            ok = v.notna().to_numpy()
            row[group], row[f"{group} ±"] = (clustered_mean_ci(v.to_numpy()[ok], r["user"].to_numpy()[ok])
                                             if ok.any() else (np.nan, np.nan))
        rows[name] = row
    return pd.DataFrame(rows).T


def paired_basket(a: pd.DataFrame, b: pd.DataFrame, column: str) -> tuple[float, float]:
    """Mean difference a - b of a per-query ``column`` on the same queries, 95% interval clustered by household."""
    if not np.array_equal(a["basket"].to_numpy(), b["basket"].to_numpy()):
        raise ValueError("the two results do not hold the same queries in the same order")
    d = (a[column] - b[column]).to_numpy()
    ok = ~np.isnan(d)
    return clustered_mean_ci(d[ok], a["user"].to_numpy()[ok])


def item_hits(top: np.ndarray, bq: BasketQueries, group: str = "repeat") -> pd.DataFrame:
    """One row per target item of ``group``: its query, household, item id and whether the top-k list holds it."""
    rel = bq.part(group)
    n = np.array([len(r) for r in rel], dtype=np.int64)
    row = np.repeat(np.arange(len(rel)), n)
    item = np.concatenate(rel) if n.sum() else np.zeros(0, dtype=np.int64)
    hit = (top[row] == item[:, None]).any(1) if n.sum() else np.zeros(0, dtype=bool)
    return pd.DataFrame({"query": row, "user": bq.batch.users[row], "item": item, "hit": hit.astype(np.float64)})
