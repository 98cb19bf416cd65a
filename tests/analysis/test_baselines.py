"""tsrec.analysis.baselines: chapter 4.1's baselines chosen on validation, fresh models with the choice."""
from __future__ import annotations

import pytest

from synthetic_logs import counting_log
from tsrec import splits
from tsrec.analysis.baselines import (
    TunedBaselines,
    duration_label,
    earlier_baselines,
    tune_baselines,
    tune_blend,
    tune_covisitation,
    tune_knn,
)
from tsrec.evaluate import evaluate
from tsrec.models.covisit import CoVisitation
from tsrec.models.knn import ItemKNN
from tsrec.models.popularity import Popularity, RecentPopularity


@pytest.fixture(scope="module")
def split():
    return splits.leave_one_out(counting_log(n_users=30, n_items=20, length=8))


def test_duration_labels():
    assert [duration_label(s) for s in (2, 90, 7200, 30 * 86400)] == ["2 s", "1.5 min", "2 h", "30 d"]


def test_knn_sizes_past_the_catalogue_count_once_as_every_item(split):
    chosen, frame = tune_knn(split, knn_half_lives=(10, 60, 3600), sizes=(5, 10, 40, 80))
    assert sorted(frame["k_neighbors"].unique()) == [5, 10, split.n_items]  # 40 and 80 both mean all 20 items
    best = frame.loc[frame.iloc[:, 2].idxmax()]
    assert chosen["k_neighbors"] == best["k_neighbors"]
    assert chosen["time_decay_half_life"] == best["time_decay_half_life"]
    assert chosen["every_item"] == (chosen["k_neighbors"] == split.n_items)
    # only sizes past the catalogue: one size, every item, the largest there is, so not a grid's edge
    chosen, frame = tune_knn(split, knn_half_lives=(10, 60, 3600), sizes=(40, 80))
    assert frame["k_neighbors"].unique().tolist() == [split.n_items] and chosen["every_item"]
    assert chosen["inside_grid"] == (chosen["time_decay_half_life"] == 60)


def test_the_choice_is_the_best_validation_value_and_fresh_models_carry_it(split):
    tuned = tune_baselines(split, knn_half_lives=(10, 60, 3600), windows=(3600, 86400, 30 * 86400))
    assert isinstance(tuned, TunedBaselines)
    v = tuned.validation.iloc[:, 0]
    assert v["item-kNN half-life"].max() == v["item-kNN half-life"][tuned.knn_half_life]
    assert v["recent-popularity window"].max() == v["recent-popularity window"][tuned.recent_window]
    knn, recent = tuned.knn(), tuned.recent()
    assert isinstance(knn, ItemKNN) and knn.time_decay_half_life == tuned.knn_half_life
    assert isinstance(recent, RecentPopularity)
    # a fresh model fitted on train reproduces the validation value the choice was made on
    fitted = knn.fit(split.train, split.n_users, split.n_items)
    assert evaluate(fitted, split, "valid", ks=(10,))["HR@10"] == pytest.approx(v["item-kNN half-life"].max())
    inside = tuned.chosen_inside_grid()
    assert inside["item-kNN half-life"] == (tuned.knn_half_life == 60)


def test_earlier_baselines_labels_match_the_tuned_choice(split):
    chosen, grid = earlier_baselines(split, knn_half_lives=(60, 3600), windows=(86400, 30 * 86400))
    tuned = tune_baselines(split, knn_half_lives=(60, 3600), windows=(86400, 30 * 86400))
    assert list(chosen) == list(tuned.labels)
    assert set(grid.index.get_level_values(1)) == {"1 min", "1 h", "1 d", "30 d"}


def test_covisitation_search_keeps_the_best_validation_setting(split):
    grid = {"half_life": (60.0, 3600.0, 86400.0), "window": (1, 3), "backward": (0.0, 1.0)}
    best, tried = tune_covisitation(split, grid=grid)
    assert len(tried) == 3 + 1 + 1  # the second and third settings re-use the held best point once
    col = tried.columns[-1]
    assert tried[col].max() == pytest.approx(tried.set_index(list(grid)).loc[tuple(best.values()), col])
    model = CoVisitation(**best).fit(split.train, split.n_users, split.n_items)
    assert evaluate(model, split, "valid", ks=(10,))["NDCG@10"] == pytest.approx(tried[col].max())


def test_blend_weight_is_the_validation_best_and_the_ends_are_the_single_models(split):
    w, values = tune_blend(ItemKNN(10), Popularity(), split, weights=(0.0, 0.5, 1.0))
    assert values[w] == values.max()
    knn = ItemKNN(10).fit(split.train, split.n_users, split.n_items)
    assert values[1.0] == pytest.approx(evaluate(knn, split, "valid", ks=(10,))["NDCG@10"])
