"""The synthetic feed: seeded, labelled synthetic, and its planted parameters show in what it generates."""
from __future__ import annotations

import numpy as np
import pytest

from tsrec.data.feed import Feed, FeedParams, synthetic_feed
from tsrec.times import DAY, HOUR


@pytest.fixture(scope="module")
def feed() -> Feed:
    return synthetic_feed(n_users=400, n_authors=40, days=6, posts_per_day=120, seed=3)


def test_seeded_and_labelled(feed):
    again = synthetic_feed(n_users=400, n_authors=40, days=6, posts_per_day=120, seed=3)
    assert feed.events.equals(again.events) and feed.posts.equals(again.posts)
    assert not synthetic_feed(n_users=400, n_authors=40, days=6, posts_per_day=120, seed=4).events.equals(feed.events)
    assert feed.info["synthetic"] is True and "SYNTHETIC" in repr(feed)


def test_ids_order_and_bounds(feed):
    posts, ev = feed.posts, feed.events
    assert (posts["item"].to_numpy() == np.arange(1, len(posts) + 1)).all()
    assert (np.diff(posts["created"]) >= 0).all(), "post ids follow creation time"
    assert ev["user"].between(1, feed.n_users).all() and ev["item"].between(1, feed.n_items).all()
    assert (np.diff(ev["timestamp"]) >= 0).all()
    created = feed.column("created")
    assert (ev["timestamp"].to_numpy() >= created[ev["item"].to_numpy()]).all(), "no engagement before its post"
    assert (ev["timestamp"] < feed.params.start + feed.params.days * DAY).all()
    assert not ev.duplicated(["user", "item"]).any(), "one engagement per user and post"
    assert feed.follows.shape == (feed.n_users + 1, feed.params.n_authors + 1) and not feed.follows[0].any()


def test_planted_half_life_and_follower_share(feed):
    ev = feed.events
    ages = ev["timestamp"].to_numpy() - feed.column("created")[ev["item"].to_numpy()]
    old = feed.column("created")[ev["item"].to_numpy()] < feed.params.start + 3 * DAY   # barely censored
    assert np.median(ages[old]) == pytest.approx(feed.params.half_life_seconds, rel=0.15)  # median of Exp = half-life
    followed = feed.follows[ev["user"].to_numpy(), feed.column("author")[ev["item"].to_numpy()]]
    assert (followed[ev["follower"].to_numpy()]).all(), "the follower channel draws followers only"
    assert ev["follower"].mean() == pytest.approx(feed.params.follower_share, abs=0.06)


def test_trends_boost_their_topic_days():
    f = synthetic_feed(n_users=300, n_authors=30, days=8, posts_per_day=200, trend_prob=0.2, trend_boost=5.0, seed=1)
    n = np.bincount(f.events["item"], minlength=f.n_items + 1)[1:]
    hot = f.posts["trending"].to_numpy()
    assert len(f.trends) > 0 and hot.any()
    assert n[hot].mean() > 2.5 * n[~hot].mean()
    day = (f.posts["created"] - f.params.start) // DAY
    planted = {(int((d - f.params.start) // DAY), int(k)) for d, k in zip(f.trends["day"], f.trends["topic"])}
    assert {(int(d), int(k)) for d, k in zip(day[hot], f.posts["topic"][hot])} <= planted


def test_hour_profile_is_followed():
    profile = np.zeros(24)
    profile[[9, 10]] = 1.0
    f = synthetic_feed(n_users=100, n_authors=10, days=3, hour_profile=tuple(profile), burst_share=0.0, seed=0)
    hours = (f.posts["created"] % DAY) // HOUR
    assert set(hours.unique()) <= {9, 10}


def test_bad_parameters_fail():
    with pytest.raises(ValueError, match="follower_share"):
        synthetic_feed(follower_share=1.5)
    with pytest.raises(ValueError, match="hour_profile"):
        synthetic_feed(hour_profile=(1.0, 2.0))
    with pytest.raises(ValueError, match="n_users"):
        FeedParams(n_users=0).check()
