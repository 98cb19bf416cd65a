"""A seeded synthetic social feed (always labelled synthetic) with planted, known parameters (chapter 7.2).

Users follow authors (preferentially the popular ones), authors post on topics at the hours and weekdays of a
given profile, some posts follow the last one within minutes (posting bursts), a post's appeal has a
power-law tail, its engagements arrive at ages drawn from an exponential decay with a planted half-life, and
on some days a topic trends (its posts of that day get a planted boost). Every planted value is kept in ``Feed.params``
and ``Feed.trends`` so that a chapter can check what a fitted model recovers.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from tsrec.times import DAY, HOUR

__all__ = ["FeedParams", "Feed", "synthetic_feed"]


@dataclass(frozen=True)
class FeedParams:
    """Planted parameters of the synthetic feed (times in seconds; profiles as shares, normalised on use)."""

    n_users: int = 3000
    n_authors: int = 300
    n_topics: int = 10
    days: int = 21
    posts_per_day: float = 250.0
    half_life_seconds: float = 6 * HOUR        # engagement decay of every post
    tail_alpha: float = 1.8                    # P(appeal > x) ~ x ** -alpha
    mean_engagements: float = 20.0             # expected engagements of a post of average appeal
    burst_share: float = 0.25                  # share of posts that follow their author's last post within minutes
    burst_gap_seconds: float = 180.0           # mean gap of such a follow-up
    trend_prob: float = 0.04                   # chance that a topic trends on a day (each topic-day on its own)
    trend_boost: float = 2.0                   # engagement multiplier of a trending topic's posts that day
    growth_per_day: float = 0.0                # log-growth of engagement per day (drift)
    follows_mean: float = 8.0                  # mean number of authors a user follows
    follower_share: float = 0.6                # share of a post's engagements that come from the author's followers
    topic_concentration: float = 0.3           # Dirichlet concentration of users' topic tastes (small = focused)
    hour_profile: tuple[float, ...] = field(default_factory=lambda: tuple([1.0] * 24))
    weekday_profile: tuple[float, ...] = field(default_factory=lambda: tuple([1.0] * 7))
    start: int = 1_500_000_000 - 1_500_000_000 % DAY   # a UTC midnight (2017-07-14)
    seed: int = 0

    def check(self) -> None:
        """ValueError for sizes, shares or profiles that cannot make a feed."""
        for name in ("n_users", "n_authors", "n_topics", "days"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        for name in ("posts_per_day", "half_life_seconds", "tail_alpha", "mean_engagements", "burst_gap_seconds",
                     "trend_boost", "follows_mean", "topic_concentration"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("burst_share", "trend_prob", "follower_share"):
            if not 0.0 <= float(getattr(self, name)) <= 1.0:
                raise ValueError(f"{name} must be a share in [0, 1], got {getattr(self, name)!r}")
        for name, n in (("hour_profile", 24), ("weekday_profile", 7)):
            p = np.asarray(getattr(self, name), dtype=float)
            if p.shape != (n,) or (p < 0).any() or p.sum() <= 0:
                raise ValueError(f"{name} must hold {n} non-negative numbers, not all 0")


@dataclass
class Feed:
    """A synthetic feed: posts (items 1..n), engagement events (user, item, timestamp), the follow graph."""

    posts: pd.DataFrame          # item, author, topic, created, appeal, trending
    events: pd.DataFrame         # user, item, timestamp (time order), follower
    follows: np.ndarray          # bool [n_users + 1, n_authors + 1]: user follows author (row/column 0 unused)
    user_topics: np.ndarray      # [n_users + 1, n_topics] each user's planted topic taste
    trends: pd.DataFrame         # day (UTC midnight, seconds), topic: the planted trending topic-days
    params: FeedParams
    info: dict = field(default_factory=lambda: {"synthetic": True})

    @property
    def n_users(self) -> int:
        return self.params.n_users

    @property
    def n_items(self) -> int:
        return len(self.posts)

    def column(self, name: str) -> np.ndarray:
        """A post attribute indexed by item id ([n_items + 1], row 0 = padding): 'author', 'topic', 'created'."""
        out = np.zeros(self.n_items + 1, dtype=self.posts[name].dtype)
        out[self.posts["item"].to_numpy()] = self.posts[name].to_numpy()
        return out

    def __repr__(self) -> str:
        return (f"Feed(SYNTHETIC: {self.n_users:,} users, {self.params.n_authors:,} authors, {self.n_items:,} posts, "
                f"{len(self.events):,} engagements over {self.params.days} days)")


def _post_times(p: FeedParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Creation times of the primary posts (weekday x hour profile) and, per post, the index it follows or -1."""
    hours = np.asarray(p.hour_profile, float)
    week = np.asarray(p.weekday_profile, float)
    day_idx = np.arange(p.days)
    weekday = ((p.start // DAY + day_idx + 3) % 7)            # 1970-01-01 was a Thursday (weekday 3)
    w = (week / week.mean())[weekday][:, None] * (hours / hours.sum())[None, :]   # [days, 24] expected share
    n = rng.poisson(p.posts_per_day * p.days)
    n_follow = rng.binomial(n, p.burst_share)
    n_primary = max(n - n_follow, 1)
    cells = rng.choice(w.size, size=n_primary, p=(w / w.sum()).ravel())
    t = p.start + (cells // 24) * DAY + (cells % 24) * HOUR + rng.integers(0, HOUR, n_primary)
    parent = rng.integers(0, n_primary, n_follow) if n_primary else np.zeros(0, int)
    return t.astype(np.int64), parent


def _follow_graph(p: FeedParams, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Author popularity (power law) and the users' follows, drawn in proportion to it."""
    pop = rng.pareto(p.tail_alpha, p.n_authors) + 1.0
    pop = pop / pop.sum()
    follows = np.zeros((p.n_users + 1, p.n_authors + 1), dtype=bool)
    k = np.minimum(1 + rng.poisson(max(p.follows_mean - 1.0, 0.0), p.n_users), p.n_authors)
    for u in range(1, p.n_users + 1):
        follows[u, 1 + rng.choice(p.n_authors, size=int(k[u - 1]), replace=False, p=pop)] = True
    return pop, follows


def _posts(p: FeedParams, rng: np.random.Generator, author_pop: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Posts sorted by creation time (ids 1..n) with author, topic, appeal and the trending flag; the trends."""
    t, parent = _post_times(p, rng)
    author = 1 + rng.choice(p.n_authors, size=len(t), p=author_pop)
    main_topic = rng.integers(0, p.n_topics, p.n_authors + 1)
    own = rng.random(len(t)) < 0.7
    topic = np.where(own, main_topic[author], rng.integers(0, p.n_topics, len(t)))
    gaps = 1 + rng.exponential(p.burst_gap_seconds, len(parent)).astype(np.int64)
    t = np.r_[t, t[parent] + gaps]                                   # follow-ups: same author and topic, minutes later
    author, topic = np.r_[author, author[parent]], np.r_[topic, topic[parent]]
    day = (t - p.start) // DAY
    trend_days, trend_topic = np.nonzero(rng.random((p.days, p.n_topics)) < p.trend_prob)
    trending = np.zeros(len(t), dtype=bool)
    for d, k in zip(trend_days, trend_topic):
        trending |= (day == d) & (topic == k)
    appeal = (rng.pareto(p.tail_alpha, len(t)) + 1.0) * (p.tail_alpha - 1.0) / p.tail_alpha if p.tail_alpha > 1 \
        else rng.pareto(p.tail_alpha, len(t)) + 1.0                  # mean 1 when the mean exists
    posts = pd.DataFrame({"created": t, "author": author.astype(np.int64), "topic": topic.astype(np.int64),
                          "appeal": appeal, "trending": trending})
    posts = posts.sort_values("created", kind="stable").reset_index(drop=True)
    posts.insert(0, "item", np.arange(1, len(posts) + 1, dtype=np.int64))
    trends = pd.DataFrame({"day": p.start + trend_days.astype(np.int64) * DAY, "topic": trend_topic.astype(np.int64)})
    return posts, trends


def _engagements(p: FeedParams, rng: np.random.Generator, posts: pd.DataFrame, follows: np.ndarray,
                 tastes: np.ndarray) -> pd.DataFrame:
    """Each post's engagements: a Poisson count, exponential ages (censored at the feed's end), and who."""
    created = posts["created"].to_numpy()
    day = (created - p.start) / DAY
    mean = (p.mean_engagements * posts["appeal"].to_numpy() * np.where(posts["trending"], p.trend_boost, 1.0)
            * np.exp(p.growth_per_day * day))
    n = rng.poisson(mean)
    item = np.repeat(posts["item"].to_numpy(), n)
    ts = np.repeat(created, n) + rng.exponential(p.half_life_seconds / np.log(2.0), n.sum()).astype(np.int64)
    end = p.start + p.days * DAY
    keep = ts < end
    item, ts = item[keep], ts[keep]
    author = posts["author"].to_numpy()[item - 1]
    topic = posts["topic"].to_numpy()[item - 1]
    activity = rng.lognormal(0.0, 1.0, p.n_users + 1)
    activity[0] = 0.0
    by_topic = [np.cumsum(activity * np.r_[0.0, tastes[1:, k]]) for k in range(p.n_topics)]
    followers = [np.flatnonzero(follows[:, a]) for a in range(p.n_authors + 1)]
    fol = (rng.random(len(item)) < p.follower_share) & np.array([len(followers[a]) > 0 for a in author], bool)
    user = np.empty(len(item), dtype=np.int64)
    for k in range(p.n_topics):                                      # non-followers: activity x topic taste
        rows = np.flatnonzero(~fol & (topic == k))
        cum = by_topic[k]
        user[rows] = np.searchsorted(cum, rng.random(len(rows)) * cum[-1], side="right")
    rows = np.flatnonzero(fol)
    pick = rng.random(len(rows))
    user[rows] = [followers[a][int(x * len(followers[a]))] for a, x in zip(author[rows].tolist(), pick.tolist())]
    ev = pd.DataFrame({"user": user, "item": item, "timestamp": ts, "follower": fol})
    ev = ev.drop_duplicates(["user", "item"], keep="first")          # one engagement per user and post
    return ev.sort_values(["timestamp", "item", "user"], kind="stable").reset_index(drop=True)


def synthetic_feed(params: FeedParams | None = None, **overrides) -> Feed:
    """A seeded SYNTHETIC social feed with the planted ``params`` (keyword ``overrides`` replace fields)."""
    p = FeedParams(**{**asdict(params or FeedParams()), **overrides})
    p.check()
    rng = np.random.default_rng(p.seed)
    author_pop, follows = _follow_graph(p, rng)
    tastes = np.zeros((p.n_users + 1, p.n_topics))
    tastes[1:] = rng.dirichlet(np.full(p.n_topics, p.topic_concentration), p.n_users)
    posts, trends = _posts(p, rng, author_pop)
    events = _engagements(p, rng, posts, follows, tastes)
    return Feed(posts, events, follows, tastes, trends, p)
