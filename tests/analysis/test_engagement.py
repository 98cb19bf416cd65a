"""Engagement analysis: half-life fitting under censoring, tails, bursts, cycles, drift, planted parameters."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tsrec.analysis import engagement as E
from tsrec.times import DAY, HOUR


def test_fit_half_life_recovers_an_exponential_even_when_censored():
    rng = np.random.default_rng(0)
    h = 6 * HOUR
    ages = rng.exponential(h / math.log(2), 20000)
    assert E.fit_half_life(ages) == pytest.approx(h, rel=0.03)
    horizon = rng.uniform(0.2, 3.0, len(ages)) * h            # observation stops early for many
    keep = ages <= horizon
    fitted = E.fit_half_life(ages[keep], horizon[keep])
    naive = math.log(2) * ages[keep].mean()
    assert fitted == pytest.approx(h, rel=0.05)
    assert naive < 0.7 * h, "ignoring censoring biases the half-life down"


def test_fit_half_life_rejects_bad_input():
    with pytest.raises(ValueError):
        E.fit_half_life(np.array([]))
    with pytest.raises(ValueError):
        E.fit_half_life(np.array([5.0, 1.0]), np.array([2.0, 2.0]))   # an age beyond its horizon


def test_tail_fit_recovers_a_pareto_exponent():
    rng = np.random.default_rng(1)
    x = rng.pareto(2.5, 50000) + 1.0
    fit = E.tail_fit(x)
    assert abs(fit["alpha"] - 2.5) < 2 * fit["alpha_ci"] + 0.05
    assert fit["loglog_slope"] == pytest.approx(2.5, rel=0.15)
    assert fit["n_tail"] == pytest.approx(5000, rel=0.01)
    xs, p = E.ccdf(np.array([1.0, 2.0, 2.0, 4.0]))
    np.testing.assert_allclose(xs, [1, 2, 4])
    np.testing.assert_allclose(p, [1.0, 0.75, 0.25])


def test_bursts_flag_spikes_above_the_median_only():
    s = pd.Series(np.full(40, 10.0))
    s.iloc[::3] += 1.0
    s.iloc[20], s.iloc[30] = 60.0, 0.0
    flagged = E.bursts(s, window=7)
    assert flagged.iloc[20] and not flagged.iloc[30] and flagged.sum() == 1


def test_posting_gaps_and_decay_curve():
    t = np.r_[0, 60, 120, 10000, 20000, 20060]
    g = E.posting_gaps(t)
    assert g["short_share"] == pytest.approx(3 / 5) and g["cv"] > 1
    curve = E.decay_curve(np.array([10.0, 20.0, 70.0]), 50.0, 100.0, n_posts=2)
    assert curve["n"].tolist() == [2, 1] and curve["rate"].iloc[0] == pytest.approx(2 / (50 * 2))


def _posts(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    t = 1_420_070_400 + np.sort(rng.integers(0, 2 * 365 * DAY, n))
    hour = (t % DAY) // HOUR
    likes = np.exp(rng.normal(5, 1, n) + 0.5 * (hour == 12) + np.log(2.0) * (t - t[0]) / (365 * DAY)).astype(int)
    return pd.DataFrame({"timestamp": t, "likes": likes})


def test_cycles_and_drift_show_what_was_planted():
    posts = _posts()
    by_hour = E.engagement_by(posts, "hour")
    assert by_hour["log_rel"].idxmax() == 12 and by_hour.loc[12, "log_rel"] - by_hour["log_rel"].drop(12).mean() > 0.3
    assert E.relative_engagement(posts).abs().mean() < 1.0
    drift = E.yearly_drift(posts)
    assert drift["growth"].iloc[1] == pytest.approx(2.0, rel=0.25)
    with pytest.raises(ValueError):
        E.engagement_by(posts, "minute")


def test_feed_parameters_fit_the_feed():
    from tsrec.data.feed import FeedParams

    params = E.feed_parameters(_posts())
    FeedParams(**params).check()
    assert params["hour_profile"][12] == pytest.approx(1 / 24, rel=0.3)
    assert params["growth_per_day"] == pytest.approx(math.log(2) / 365, rel=0.5)
    assert 0 <= params["trend_prob"] < 0.2 and params["trend_boost"] >= 1.0
