"""Tests of tsrec.metrics.intervals: the t-interval of a mean and its cluster-robust version."""
from __future__ import annotations

import math

import numpy as np
import pytest

from tsrec.metrics import clustered_mean_ci, mean_ci

# --------------------------------------------------------------------------- confidence intervals


def test_mean_ci():
    # [1, 2, 3]: mean 2, sd 1, sem 1/sqrt(3), t_{0.975, 2} = 4.302652729749464
    m, h = mean_ci([1.0, 2.0, 3.0])
    assert m == pytest.approx(2.0) and h == pytest.approx(4.302652729749464 / math.sqrt(3))
    m1, h1 = mean_ci(np.array([0.7]))
    assert m1 == pytest.approx(0.7) and math.isnan(h1)
    assert mean_ci([1.0, 2.0, 3.0], 0.9)[1] < h  # narrower at lower confidence


def test_clustered_mean_ci():
    v = np.array([0.1, 0.5, 0.2, 0.9, 0.4])
    # one row per cluster: the ordinary t-interval
    assert clustered_mean_ci(v, np.arange(5)) == pytest.approx(mean_ci(v))
    # each user's rows copied 4 times: 20 rows but still 5 independent users, so the interval of the
    # clustered estimate stays that of 5 values, while the naive one would shrink by about half
    users = np.repeat(np.arange(5), 4)
    m, h = clustered_mean_ci(np.repeat(v, 4), users)
    assert m == pytest.approx(v.mean()) and h == pytest.approx(mean_ci(v)[1])
    assert mean_ci(np.repeat(v, 4))[1] < 0.6 * h
    # by hand: clusters {0, 1} and {2}: residual sums -0.5 and +0.5 around the mean 1, n = 3, G = 2
    m, h = clustered_mean_ci([0.5, 1.0, 1.5], ["a", "a", "b"])
    assert m == pytest.approx(1.0)
    assert h == pytest.approx(12.706204736174698 * math.sqrt(2 * (0.25 + 0.25)) / 3)
    assert math.isnan(clustered_mean_ci([1.0, 2.0], [7, 7])[1])
    with pytest.raises(ValueError, match="one label per value"):
        clustered_mean_ci([1.0, 2.0], [1])
