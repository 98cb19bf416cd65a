"""Chapter 4.1's strongest baselines, tuned as that chapter tunes them: a time-decayed item-kNN and recent
popularity, each with the history half-life / window (seconds) whose validation metric is best, never chosen on
test. Later chapters compare every new model with these (``tune_baselines``, ``earlier_baselines``). Chapter 5's
time-windowed co-visitation and its blend with the kNN are tuned the same way (``tune_covisitation``,
``tune_blend``).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from tsrec.evaluate import validation_value
from tsrec.models.base import Recommender
from tsrec.models.content import Hybrid
from tsrec.models.covisit import CoVisitation
from tsrec.models.knn import ItemKNN
from tsrec.models.popularity import RecentPopularity
from tsrec.splits import Split
from tsrec.times import DAY, HOUR

__all__ = ["BLEND_WEIGHTS", "COVISITATION_GRID", "KNN_HALF_LIVES", "KNN_SIZES", "RECENT_WINDOWS", "TunedBaselines",
           "duration_label", "earlier_baselines", "tune_baselines", "tune_blend", "tune_covisitation", "tune_knn"]

KNN_HALF_LIVES = (2, 5, 10, 30, 60, 180, 900, HOUR, DAY)  # seconds: item-kNN history half-lives tried on validation
KNN_SIZES = (10, 25, 50, 100, 200)  # item-kNN neighbourhood sizes tried with the half-lives by ``tune_knn``
RECENT_WINDOWS = (DAY, 7 * DAY, 30 * DAY, 90 * DAY, 365 * DAY)  # seconds: recent-popularity windows tried
# CoVisitation's settings, searched one at a time starting from each grid's second value (10 s, 20 events, 0.5)
COVISITATION_GRID = {"half_life": (3.0, 10.0, 30.0, 120.0), "window": (5, 20, 50), "backward": (0.0, 0.5, 1.0)}
BLEND_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # weight of the first model in a z-scored two-model blend


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
    return pd.Series({s: validation_value(m, split, metric, target) for s, m in models.items()})


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
    return TunedBaselines(float(v_knn.idxmax()), float(v_recent.idxmax()) if len(v_recent) else float("nan"),
                          grid.rename(f"validation {metric}").to_frame(), k_neighbors)


def tune_knn(split: Split, target: str = "first", knn_half_lives: Sequence[float] = KNN_HALF_LIVES,
             sizes: Sequence[int] = KNN_SIZES, metric: str = "NDCG@10") -> tuple[dict, pd.DataFrame]:
    """The time-decayed item-kNN's neighbourhood size and half-life chosen together on validation (every pair of
    the two grids, fitted on ``split.train``): the chosen ``{"k_neighbors", "time_decay_half_life"}``, whether
    each lies strictly inside its grid, ``every_item`` (k reaches the catalogue), and every pair's validation value.

    Sizes past ``split.n_items`` count as one size, "every item": the largest neighbourhood there is, so choosing
    it is not a grid's edge (no larger size could be tried)."""
    sizes = sorted({min(int(k), split.n_items) for k in sizes})
    rows = []
    for k in sizes:
        tuned = tune_baselines(split, target, knn_half_lives, (), metric, int(k))
        values = tuned.validation.loc["item-kNN half-life"].iloc[:, 0]
        rows += [(int(k), float(h), float(v)) for h, v in values.items()]
    frame = pd.DataFrame(rows, columns=["k_neighbors", "time_decay_half_life", f"validation {metric}"])
    k, h = frame.loc[frame[f"validation {metric}"].idxmax(), ["k_neighbors", "time_decay_half_life"]]
    every = bool(k >= split.n_items)
    inside = bool(min(sizes) < k < max(sizes) or every) and bool(min(knn_half_lives) < h < max(knn_half_lives))
    return {"k_neighbors": int(k), "time_decay_half_life": float(h), "inside_grid": inside, "every_item": every}, frame


def earlier_baselines(split: Split, target: str = "first", knn_half_lives: Sequence[float] = KNN_HALF_LIVES,
                      windows: Sequence[float] = RECENT_WINDOWS, metric: str = "HR@10",
                      k_neighbors: int = 100) -> tuple[dict[str, Recommender], pd.DataFrame]:
    """The two tuned baselines fitted on ``split.train``, by label, and the validation value of every candidate
    (index labelled in reader's units, e.g. '10 s', '30 d')."""
    tuned = tune_baselines(split, target, knn_half_lives, windows, metric, k_neighbors)
    fitted = [m.fit(split.train, split.n_users, split.n_items) for m in (tuned.knn(), tuned.recent())]
    grid = tuned.validation.rename(index=duration_label, level=1)
    return dict(zip(tuned.labels, fitted)), grid


def tune_covisitation(split: Split, target: str = "first", metric: str = "NDCG@10",
                      grid: dict[str, Sequence[float]] = COVISITATION_GRID) -> tuple[dict, pd.DataFrame]:
    """CoVisitation's settings by coordinate search on validation (each setting over its grid, the others held,
    in the grid's order); the chosen settings and the validation value of every setting tried."""
    best = {key: values[min(1, len(values) - 1)] for key, values in grid.items()}
    tried: dict[tuple, float] = {}
    for key, values in grid.items():
        for v in values:
            cand = {**best, key: v}
            sig = tuple(cand[k] for k in grid)
            if sig not in tried:
                model = CoVisitation(**cand).fit(split.history("valid"), split.n_users, split.n_items)
                tried[sig] = _validation({0: model}, split, target, metric)[0]
        row = max((sig for sig in tried if all(s == best[k] for s, k in zip(sig, grid) if k != key)),
                  key=tried.get)
        best = dict(zip(grid, row))
    frame = pd.DataFrame([(*sig, v) for sig, v in tried.items()], columns=[*grid, f"validation {metric}"])
    return best, frame


def tune_blend(first: Recommender, second: Recommender, split: Split, target: str = "first",
               metric: str = "NDCG@10", weights: Sequence[float] = BLEND_WEIGHTS) -> tuple[float, pd.Series]:
    """The weight w of ``first`` in the z-scored blend w * first + (1 - w) * second whose validation ``metric``
    is best (both models are fitted here on ``split.history("valid")``), and every weight's value."""
    hist = split.history("valid")
    for m in (first, second):
        m.fit(hist, split.n_users, split.n_items)
    blends = {float(w): Hybrid([first, second], (w, 1 - w), norm="zscore", fit_models=False).fit(
        hist, split.n_users, split.n_items) for w in weights}
    values = _validation(blends, split, target, metric)
    return float(values.idxmax()), values.rename(f"validation {metric}")
