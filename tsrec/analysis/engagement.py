"""What engagement data show (chapter 7.2): decay with a post's age, bursts, heavy tails, cycles and drift.

``fit_half_life`` is the maximum-likelihood half-life of an exponential decay from engagement ages censored
where observation stops; ``tail_fit`` the power-law exponent above a threshold (the Hill estimator, with the
log-log CCDF for the plot); ``bursts`` flags periods far above their rolling median (a Hampel filter);
``engagement_by`` and ``yearly_drift`` compare posts with the month they were posted in. ``feed_parameters``
turns what real posts show into the planted parameters of ``tsrec.data.feed``.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from tsrec.metrics import mean_ci
from tsrec.timeseries import outliers_hampel, seasonal_profile

__all__ = ["fit_half_life", "decay_curve", "tail_fit", "ccdf", "bursts", "posting_gaps", "relative_engagement",
           "engagement_by", "yearly_drift", "feed_parameters"]


def _ages(ages: np.ndarray, horizons: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(ages, dtype=np.float64)
    h = np.full_like(a, np.inf) if horizons is None else np.broadcast_to(np.asarray(horizons, np.float64), a.shape)
    if a.size == 0:
        raise ValueError("no engagement ages to fit")
    if (a < 0).any() or np.isnan(a).any() or (h < a).any():
        raise ValueError("ages must be >= 0 and at most their horizons (the age at which observation stops)")
    return a, h


def fit_half_life(ages: np.ndarray, horizons: np.ndarray | None = None) -> float:
    """Maximum-likelihood half-life (seconds) of exponential engagement ages, each censored at its horizon.

    An engagement at age ``a`` of a post observed up to age ``T`` has density ``l exp(-l a) / (1 - exp(-l T))``:
    without the denominator, posts near the end of the log (short ``T``) would bias the half-life down.
    """
    from scipy.optimize import minimize_scalar

    a, h = _ages(ages, horizons)
    scale = float(a.mean()) + 1.0

    def nll(log_rate: float) -> float:
        lam = math.exp(log_rate) / scale
        cens = -np.expm1(-lam * h)                              # 1 - exp(-l T), = 1 for T = inf
        return float(-(np.log(lam) - lam * a - np.log(cens)).sum())

    res = minimize_scalar(nll, bounds=(-12.0, 8.0), method="bounded", options={"xatol": 1e-7})
    return math.log(2.0) * scale / math.exp(res.x)


def decay_curve(ages: np.ndarray, bin_seconds: float, max_age: float, n_posts: int) -> pd.DataFrame:
    """Engagements per post per second of age, in bins of ``bin_seconds`` up to ``max_age`` (for a plot)."""
    a = np.asarray(ages, dtype=np.float64)
    edges = np.arange(0.0, max_age + bin_seconds, bin_seconds)
    counts, _ = np.histogram(a, edges)
    return pd.DataFrame({"age": (edges[:-1] + edges[1:]) / 2, "rate": counts / (bin_seconds * max(n_posts, 1)),
                         "n": counts})


def ccdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The empirical complementary CDF: sorted distinct positive values x and P(X >= x)."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    v = v[v > 0]
    x, first = np.unique(v, return_index=True)
    return x, 1.0 - first / len(v)


def tail_fit(values: np.ndarray, quantile: float = 0.9) -> dict[str, float]:
    """Power-law tail P(X >= x) ~ x ** -alpha above the ``quantile`` (Hill estimator), with a 95% interval
    (alpha / sqrt(n) asymptotic) and the least-squares slope of the log-log CCDF over the same tail."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v) & (v > 0)]
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    xmin = float(np.quantile(v, quantile))
    tail = v[v >= xmin]
    if len(tail) < 10 or np.all(tail == xmin):
        raise ValueError("too few distinct values in the tail to fit")
    alpha = len(tail) / float(np.log(tail / xmin).sum())
    x, p = ccdf(tail)
    slope = float(np.polyfit(np.log(x), np.log(p), 1)[0])
    return {"alpha": alpha, "alpha_ci": 1.96 * alpha / math.sqrt(len(tail)), "xmin": xmin,
            "n_tail": int(len(tail)), "loglog_slope": -slope}


def bursts(counts: pd.Series, window: int = 15, n_sigmas: float = 3.0) -> pd.Series:
    """True where a count lies ``n_sigmas`` robust deviations above its centred rolling median (Hampel)."""
    s = pd.Series(counts, dtype="float64")
    med = s.rolling(window, center=True, min_periods=1).median()
    return outliers_hampel(s, window, n_sigmas) & (s > med)


def posting_gaps(timestamps: np.ndarray, short_seconds: float = 600.0) -> dict[str, float]:
    """Gaps between consecutive posts: coefficient of variation (1 for a Poisson process), short-gap share."""
    g = np.diff(np.sort(np.asarray(timestamps, dtype=np.float64)))
    if len(g) < 2:
        raise ValueError("need at least three posts")
    return {"cv": float(g.std() / g.mean()), "short_share": float((g < short_seconds).mean()),
            "median_gap": float(np.median(g))}


def relative_engagement(posts: pd.DataFrame, value: str = "likes") -> pd.Series:
    """log(value + 1) minus the mean of it over the posts of the same calendar month (drift removed)."""
    month = pd.to_datetime(posts["timestamp"], unit="s").dt.to_period("M")
    lv = np.log1p(posts[value].astype("float64"))
    return lv - lv.groupby(month).transform("mean")


def engagement_by(posts: pd.DataFrame, by: str = "hour", value: str = "likes") -> pd.DataFrame:
    """Mean log-engagement relative to the post's month, per posting hour or weekday (UTC), with 95% intervals."""
    if by not in ("hour", "dayofweek"):
        raise ValueError(f"by must be 'hour' or 'dayofweek', got {by!r}")
    when = pd.to_datetime(posts["timestamp"], unit="s")
    key = when.dt.hour if by == "hour" else when.dt.day_of_week
    rel = relative_engagement(posts, value)
    rows = {k: (*mean_ci(g.to_numpy()), len(g)) if len(g) > 1 else (float(g.mean()), np.nan, len(g))
            for k, g in rel.groupby(key.to_numpy())}
    out = pd.DataFrame.from_dict(rows, orient="index", columns=["log_rel", "ci", "n"])
    out.index.name = by
    return out


def yearly_drift(posts: pd.DataFrame, value: str = "likes") -> pd.DataFrame:
    """Posts, median engagement and its growth over the previous year, per calendar year."""
    year = pd.to_datetime(posts["timestamp"], unit="s").dt.year
    g = posts.groupby(year.to_numpy())[value]
    out = pd.DataFrame({"posts": g.size(), "median": g.median(), "mean": g.mean()})
    out["growth"] = out["median"] / out["median"].shift(1)
    out.index.name = "year"
    return out


def feed_parameters(posts: pd.DataFrame, value: str = "likes") -> dict[str, object]:
    """Planted parameters for ``tsrec.data.feed.FeedParams`` from real posts: hour and weekday profiles of
    posting, the short-gap share (posting bursts), the share of engagement-burst days and their median boost,
    the tail exponent of engagement relative to its month, and the median log-growth of engagement per day."""
    hours = seasonal_profile(posts, "hour")
    week = seasonal_profile(posts, "dayofweek")
    rel = np.exp(relative_engagement(posts, value))
    when = pd.to_datetime(posts["timestamp"], unit="s")
    daily = pd.Series(rel.to_numpy(), index=when).resample("D").mean().dropna()
    hot = bursts(daily)
    boost = float((daily / daily.rolling(15, center=True, min_periods=1).median())[hot].median()) if hot.any() else 1.0
    med = posts.groupby(when.dt.to_period("M").to_numpy())[value].median()
    growth = float(np.median(np.diff(np.log(med[med > 0].to_numpy())))) / 30.44
    return {"hour_profile": tuple(hours.tolist()), "weekday_profile": tuple(week.tolist()),
            "burst_share": posting_gaps(posts["timestamp"].to_numpy())["short_share"],
            "trend_prob": float(hot.mean()), "trend_boost": max(boost, 1.0),
            "tail_alpha": tail_fit(rel.to_numpy())["alpha"], "growth_per_day": growth}
