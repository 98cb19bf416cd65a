"""Exercise checks for chapter 7.2 (the social-media feed; every feed here is SYNTHETIC)."""
from __future__ import annotations

import numpy as np

from tsrec.exercises._common import _close, _prediction_note, _report
from tsrec.times import DAY, HOUR


def ch07_2_naive_half_life(answer: float, days: int = 3, seed: int = 1) -> bool:
    """Ex. 7.2.1: ln 2 times the mean engagement age (hours) of ``synthetic_feed(days=days, seed=seed)``."""
    from tsrec.data.feed import synthetic_feed

    feed = synthetic_feed(days=days, seed=seed)
    ages = feed.events["timestamp"].to_numpy() - feed.column("created")[feed.events["item"].to_numpy()]
    return _report(_close(answer, np.log(2.0) * ages.mean() / HOUR, tol=1e-4),
                   "ages = event timestamp - the post's created time (feed.column('created')), in hours; "
                   "answer = ln(2) * their mean")


def ch07_2_feed_tail(answer: float, tail_alpha: float = 2.0, days: int = 7, seed: int = 2) -> bool:
    """Ex. 7.2.2: tail_fit alpha of the engagements per post (posts with >= 1) of a heavier-tailed feed."""
    from tsrec.analysis.engagement import tail_fit
    from tsrec.data.feed import synthetic_feed

    feed = synthetic_feed(tail_alpha=tail_alpha, days=days, seed=seed)
    counts = np.bincount(feed.events["item"].to_numpy(), minlength=feed.n_items + 1)[1:]
    return _report(_close(answer, tail_fit(counts[counts > 0])["alpha"], tol=1e-6),
                   "counts = np.bincount(feed.events['item'])[1:], keep counts > 0, E.tail_fit(counts)['alpha']")


def ch07_2_top10_age(answer: float, days: int = 5, seed: int = 3, cut_day: int = 4, user: int = 1) -> bool:
    """Ex. 7.2.3: median age (hours) of FreshVelocity's (6 h) top-10 for ``user`` at the start of ``cut_day``."""
    import pandas as pd

    from tsrec.data.feed import synthetic_feed
    from tsrec.models.freshness import FreshVelocity
    from tsrec.queries import queries_from_frames

    feed = synthetic_feed(days=days, seed=seed)
    cut = feed.params.start + cut_day * DAY
    before = feed.events[feed.events["timestamp"] < cut]
    model = FreshVelocity(feed.column("created"), 6 * HOUR).fit(before, feed.n_users, feed.n_items)
    top = model.recommend(queries_from_frames(before, pd.DataFrame({"user": [user], "timestamp": [cut]})), k=10)[0]
    return _report(_close(answer, np.median(cut - feed.column("created")[top]) / HOUR, tol=1e-4),
                   "fit on events with timestamp < cut, one query (user 1, now = cut) with queries_from_frames, "
                   "recommend(k=10), then the median of (cut - created) of those posts, in hours")


def ch07_2_follower_share(answer: float, prediction: float | None = None, follower_share: float = 0.3,
                          days: int = 5, seed: int = 4) -> bool:
    """Ex. 7.2.4 (predict, then run): FollowTopic's fitted follower_share on a feed planted with ``follower_share``."""
    from tsrec.data.feed import synthetic_feed
    from tsrec.models.freshness import FollowTopic

    feed = synthetic_feed(follower_share=follower_share, days=days, seed=seed)
    model = FollowTopic(feed.column("created"), feed.column("author"), feed.column("topic"), feed.follows, 6 * HOUR)
    expected = model.fit(feed.events, feed.n_users, feed.n_items).follower_share
    ok = _report(_close(answer, expected, tol=1e-6),
                 "FollowTopic(created, author, topic, follows, 6 * HOUR).fit(feed.events, n_users, n_items)"
                 ".follower_share")
    _prediction_note(prediction, answer)
    if ok:
        print("Above the planted share: engagements drawn by topic taste also land on followers now and then.")
    return ok
