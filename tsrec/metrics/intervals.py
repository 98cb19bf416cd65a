"""Confidence intervals: a Student-t interval over seeds or users, and a cluster-robust one when a user has
many queries (a global temporal split tests each user many times, and those queries are not independent)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from tsrec.metrics.inputs import float_1d


def mean_ci(values: Any, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of the Student-t confidence interval over seeds or users (half-width nan if n = 1)."""
    from scipy import stats

    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    v = float_1d(values, "values")
    if v.size == 0:
        raise ValueError("values is empty")
    if v.size == 1:
        return float(v[0]), float("nan")
    sem = v.std(ddof=1) / math.sqrt(v.size)
    return float(v.mean()), float(stats.t.ppf(0.5 + confidence / 2.0, v.size - 1) * sem)


def clustered_mean_ci(values: Any, clusters: Any, confidence: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of a cluster-robust t-interval: rows of the same cluster (e.g. the many test
    events of one user in a temporal split) are not independent, so the variance is summed per cluster first.

    With one row per cluster this equals ``mean_ci``; with G clusters it uses G / (G - 1) * sum_g r_g^2 / n^2,
    r_g = the cluster's summed residuals, and G - 1 degrees of freedom (half-width nan if G = 1).
    """
    from scipy import stats

    if not (0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    v = float_1d(values, "values")
    c = np.asarray(clusters)
    if c.shape != v.shape:
        raise ValueError(f"clusters must have one label per value: {c.shape} vs {v.shape}")
    if v.size == 0:
        raise ValueError("values is empty")
    labels, inverse = np.unique(c, return_inverse=True)
    g = len(labels)
    mean = float(v.mean())
    if g == 1:
        return mean, float("nan")
    resid = np.bincount(inverse, weights=v - mean, minlength=g)
    sem = math.sqrt(g / (g - 1) * float((resid ** 2).sum())) / v.size
    return mean, float(stats.t.ppf(0.5 + confidence / 2.0, g - 1) * sem)
