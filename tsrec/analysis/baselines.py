"""Chapter 4.1's strongest baselines, tuned as that chapter tunes them: a time-decayed item-kNN and recent
popularity, each with the history half-life / window (seconds) whose validation metric is best, never chosen on
test. Later chapters compare every new model with these (``tune_baselines``, ``earlier_baselines``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from tsrec.evaluate import evaluate
from tsrec.models.base import Recommender
from tsrec.models.knn import ItemKNN
from tsrec.models.popularity import RecentPopularity
from tsrec.splits import Split
from tsrec.times import DAY, HOUR

__all__ = ["KNN_HALF_LIVES", "RECENT_WINDOWS", "TunedBaselines", "duration_label", "earlier_baselines",
           "tune_baselines"]

KNN_HALF_LIVES = (2, 5, 10, 30, 60, 180, 900, HOUR, DAY)  # seconds: item-kNN history half-lives tried on validation
RECENT_WINDOWS = (DAY, 7 * DAY, 30 * DAY, 90 * DAY, 365 * DAY)  # seconds: recent-popularity windows tried


def duration_label(seconds: float) -> str:
    """A duration in the unit a reader would use: '3 min', '6 h', '30 d'."""
    if seconds < 60:
        return f"{seconds:g} s"
    if seconds < HOUR:
        return f"{seconds / 60:g} min"
    return f"{seconds / HOUR:g} h" if seconds < DAY else f"{seconds / DAY:g} d"


@dataclass(frozen=True)
class TunedBaselines:
    """The half-life and window chosen on validation, every candidate's validation value, and fresh models."""

    knn_half_life: float
    recent_window: float
    validation: pd.DataFrame  # index: (family, seconds); column: the validation metric
    k_neighbors: int = 100

    @property
    def labels(self) -> tuple[str, str]:
        """How tables name the two chosen models."""
        return (f"item-kNN, time-decayed (h = {duration_label(self.knn_half_life)})",
                f"recent popularity ({duration_label(self.recent_window)} window)")

    def knn(self) -> ItemKNN:
        """A fresh (unfitted) item-kNN with the chosen history half-life."""
        return ItemKNN(self.k_neighbors, time_decay_half_life=float(self.knn_half_life))

    def recent(self) -> RecentPopularity:
        """A fresh (unfitted) recent popularity with the chosen window."""
        return RecentPopularity(float(self.recent_window))

    def chosen_inside_grid(self) -> dict[str, bool]:
        """Whether each choice lies strictly inside its grid (a choice at an edge asks for a wider grid)."""
        out = {}
        for family, value in (("item-kNN half-life", self.knn_half_life), ("recent-popularity window",
                                                                          self.recent_window)):
            grid = self.validation.loc[family].index
            out[family] = bool(min(grid) < value < max(grid))
        return out


def _validation(models: dict[float, Recommender], split: Split, target: str, metric: str) -> pd.Series:
    ks = (int(metric.split("@")[1]),)
    return pd.Series({s: float(evaluate(m, split, "valid", ks=ks, target=target)[metric]) for s, m in models.items()})


def tune_baselines(split: Split, target: str = "first", knn_half_lives: Sequence[float] = KNN_HALF_LIVES,
                   windows: Sequence[float] = RECENT_WINDOWS, metric: str = "HR@10",
                   k_neighbors: int = 100) -> TunedBaselines:
    """Fit both families on ``split.train`` over their grids and choose each on the validation ``metric``."""
    base = ItemKNN(k_neighbors).fit(split.train, split.n_users, split.n_items)
    knn: dict[float, Recommender] = {}
    for h in knn_half_lives:
        m = ItemKNN(k_neighbors, time_decay_half_life=float(h))
        m.sim, m.n_items = base.sim, base.n_items  # the half-life acts only when scoring: share one fit
        knn[float(h)] = m
    recent = {float(w): RecentPopularity(float(w)).fit(split.train, split.n_users, split.n_items) for w in windows}
    v_knn, v_recent = _validation(knn, split, target, metric), _validation(recent, split, target, metric)
    grid = pd.concat({"item-kNN half-life": v_knn, "recent-popularity window": v_recent})
    return TunedBaselines(float(v_knn.idxmax()), float(v_recent.idxmax()),
                          grid.rename(f"validation {metric}").to_frame(), k_neighbors)


def earlier_baselines(split: Split, target: str = "first", knn_half_lives: Sequence[float] = KNN_HALF_LIVES,
                      windows: Sequence[float] = RECENT_WINDOWS, metric: str = "HR@10",
                      k_neighbors: int = 100) -> tuple[dict[str, Recommender], pd.DataFrame]:
    """The two tuned baselines fitted on ``split.train``, by label, and the validation value of every candidate
    (index labelled in reader's units, e.g. '10 s', '30 d')."""
    tuned = tune_baselines(split, target, knn_half_lives, windows, metric, k_neighbors)
    fitted = [m.fit(split.train, split.n_users, split.n_items) for m in (tuned.knn(), tuned.recent())]
    grid = tuned.validation.rename(index=duration_label, level=1)
    return dict(zip(tuned.labels, fitted)), grid
