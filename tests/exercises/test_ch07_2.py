"""Chapter 7.2's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec import exercises
from tsrec.analysis.engagement import fit_half_life, tail_fit
from tsrec.data.feed import synthetic_feed
from tsrec.models.freshness import FollowTopic, FreshVelocity
from tsrec.queries import queries_from_frames
from tsrec.times import DAY, HOUR


def test_naive_half_life():
    f = synthetic_feed(days=3, seed=1)
    ages = f.events["timestamp"].to_numpy() - f.column("created")[f.events["item"].to_numpy()]
    right = float(np.log(2) * ages.mean() / HOUR)
    assert exercises.ch07_2_naive_half_life(right)
    end = f.params.start + 3 * DAY
    censored = fit_half_life(ages, end - f.column("created")[f.events["item"].to_numpy()]) / HOUR
    assert not exercises.ch07_2_naive_half_life(censored)      # the censored fit is a different number
    assert not exercises.ch07_2_naive_half_life(right * 3600)  # seconds instead of hours


def test_feed_tail():
    f = synthetic_feed(tail_alpha=2.0, days=7, seed=2)
    counts = np.bincount(f.events["item"], minlength=f.n_items + 1)[1:]
    assert exercises.ch07_2_feed_tail(tail_fit(counts[counts > 0])["alpha"])
    assert not exercises.ch07_2_feed_tail(tail_fit(counts + 1)["alpha"])   # every post, +1


def test_top10_age():
    f = synthetic_feed(days=5, seed=3)
    cut = f.params.start + 4 * DAY
    before = f.events[f.events["timestamp"] < cut]
    model = FreshVelocity(f.column("created"), 6 * HOUR).fit(before, f.n_users, f.n_items)
    top = model.recommend(queries_from_frames(before, pd.DataFrame({"user": [1], "timestamp": [cut]})), k=10)[0]
    ages = (cut - f.column("created")[top]) / HOUR
    assert exercises.ch07_2_top10_age(float(np.median(ages)))
    assert not exercises.ch07_2_top10_age(float(np.mean(ages)) + 1.0)


def test_follower_share(capsys):
    f = synthetic_feed(follower_share=0.3, days=5, seed=4)
    m = FollowTopic(f.column("created"), f.column("author"), f.column("topic"), f.follows, 6 * HOUR)
    right = m.fit(f.events, f.n_users, f.n_items).follower_share
    assert right > 0.3
    assert exercises.ch07_2_follower_share(right, prediction=0.3)
    assert "Your prediction" in capsys.readouterr().out
    assert not exercises.ch07_2_follower_share(0.3)
