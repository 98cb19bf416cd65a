"""How each item's popularity actually moved in time (chapter 2.1), to check what an LM says about items."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from tsrec.metrics import mean_ci
from tsrec.times import DAY

__all__ = ["popularity_dynamics", "label_agreement"]


def popularity_dynamics(interactions: pd.DataFrame, min_events: int = 30, months: tuple[int, ...] = (11, 12, 1),
                        horizon_days: float = 365.0, release_year: pd.Series | None = None) -> pd.DataFrame:
    """How each item's ratings moved in time, relative to all ratings (so site-wide changes cancel):

    ``front_load``: share of its ratings within ``horizon_days`` of its first one, divided by the share of
    all ratings after that day that fall in the same window (> 1: a burst after its arrival on the site);
    ``holiday_lift``: share of its ratings in ``months`` over the share of all ratings in those months;
    ``cv_monthly``: coefficient of variation of its monthly share of all ratings (volatility).
    With ``release_year`` (item -> year): ``first_year_share``, the share of its ratings dated in the release
    year or the next (NaN for items released before the data begin), and ``age_median``, the median years
    from release to rating. Only items with at least ``min_events`` ratings and a full horizon are kept.
    """
    df = interactions[["item", "timestamp"]].copy()
    ts = pd.to_datetime(df["timestamp"], unit="s", utc=True)
    df["month"] = ts.dt.month.to_numpy()
    df["year"] = ts.dt.year.to_numpy()
    df["period"] = ts.dt.tz_localize(None).dt.to_period("M").astype(str).to_numpy()
    t_all = np.sort(df["timestamp"].to_numpy())
    end, horizon = int(t_all[-1]), int(horizon_days * DAY)
    first_data_year = int(df["year"].min())
    holiday_all = df["month"].isin(months).mean()
    per_month = df.groupby("period").size()
    counts = df.groupby("item").size()
    keep = counts.index[counts >= min_events]
    g = df[df["item"].isin(keep)].groupby("item")
    first = g["timestamp"].min()
    keep = first.index[first + horizon <= end]
    rows = []
    for item in keep:
        sub = df.loc[g.indices[item]]
        t0 = int(first[item])
        in_h = (sub["timestamp"] < t0 + horizon).mean()
        lo, hi = np.searchsorted(t_all, [t0, t0 + horizon], side="left")
        all_h = (hi - lo) / max(len(t_all) - lo, 1)
        since = per_month.index[per_month.index >= sub["period"].min()]
        share = (sub.groupby("period").size() / per_month).reindex(since).fillna(0.0)
        row = {"item": item, "n": len(sub), "first": t0, "front_load": in_h / all_h,
               "holiday_lift": sub["month"].isin(months).mean() / holiday_all,
               "cv_monthly": float(share.std(ddof=0) / share.mean()) if share.mean() > 0 else np.nan}
        if release_year is not None:
            year = release_year.get(item, np.nan)
            ok = pd.notna(year)
            row["age_median"] = float(np.median(sub["year"] - year)) if ok else np.nan
            row["first_year_share"] = (float((sub["year"] <= year + 1).mean())
                                       if ok and year >= first_data_year else np.nan)
        rows.append(row)
    return pd.DataFrame(rows).set_index("item")


def label_agreement(labels: pd.DataFrame, dynamics: pd.DataFrame,
                    measures: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean ± 95% interval of each measured dynamic per LM label (items in both frames), with counts."""
    joined = labels[["label"]].join(dynamics, how="inner")
    measures = measures or [c for c in ("front_load", "holiday_lift", "cv_monthly", "first_year_share", "age_median")
                            if c in dynamics.columns]
    rows = []
    for label, sub in joined.groupby("label"):
        row = {"label": label, "n": len(sub)}
        for m in measures:
            v = sub[m].dropna().to_numpy()
            row[m], row[f"{m} ±"] = mean_ci(v) if len(v) >= 2 else ((float(v.mean()) if len(v) else np.nan), np.nan)
        rows.append(row)
    return pd.DataFrame(rows).set_index("label")
