"""tsrec.analysis.pipeline and casestudy: the book's five-step pipeline end to end on synthetic data, the cached
validation that the weight search relies on, and the case study's ablations and error analysis."""
from __future__ import annotations

import numpy as np
import pytest

from tsrec import data
from tsrec.analysis import casestudy as CS
from tsrec.analysis import pipeline as P
from tsrec.evaluate import evaluate
from tsrec.models.content import Hybrid
from tsrec.models.knn import ItemKNN
from tsrec.models.popularity import Popularity

SMALL = dict(knn_half_lives=(60.0, 3600.0, 86400.0), text_half_lives=(3600.0, 86400.0),
             covisitation_grid={"half_life": (60.0, 3600.0), "window": (2, 5), "backward": (0.0, 1.0)},
             n_trials=3, search_queries=50, encoder=None)


@pytest.fixture(scope="module")
def dataset():
    return data.load("synthetic", n_users=40, n_items=30, events_per_user=25)


@pytest.fixture(scope="module", params=P.LABELS)
def run(request, dataset):
    return P.TimeSensitiveModeling(dataset, request.param, P.PipelineConfig(**SMALL))


def test_the_pipeline_runs_end_to_end_and_reports_every_step(run):
    model, report = run
    assert isinstance(model, Hybrid) and model.fit_models
    assert report.cleaning.rows_out == report.cleaning.rows_in  # the synthetic log has nothing to clean
    assert list(report.results.index) == ["popularity", "item-kNN (tuned)", "CoVisitation (tuned)",
                                          "CoVisitation + kNN blend", "time-text model"]
    assert report.results.loc["item-kNN (tuned)", "diff"] == 0
    assert len(report.trials) == SMALL["n_trials"] and report.settings.weights[2] == 0  # no text part
    assert report.settings.knn_half_life in SMALL["knn_half_lives"]
    assert set(report.seconds) == {"features", "train", "optimize", "evaluate"}
    assert 0 <= report.facts["gap_within_minute"] <= report.facts["gap_within_hour"] <= 1
    # the returned model is the table's last row: scoring it again gives the same ranks
    _, again = evaluate(model, report.split, "test", ks=(10,), target=report.target, per_user=True)
    assert np.array_equal(again["rank"].to_numpy(), report.ranks["time-text model"].to_numpy())


def test_cached_validation_of_one_model_is_its_validation_metric(dataset):
    split, target = P.make_split(dataset.interactions, "leave-one-out", P.PipelineConfig())
    knn = ItemKNN(20).fit(split.train, split.n_users, split.n_items)
    pop = Popularity().fit(split.train, split.n_users, split.n_items)
    cache = P.CachedValidation([knn, pop], split, target, n_queries=10_000)
    assert cache.value((1.0, 0.0)) == pytest.approx(evaluate(knn, split, "valid", ks=(10,))["NDCG@10"])
    assert cache.value((0.0, 2.0)) == pytest.approx(evaluate(pop, split, "valid", ks=(10,))["NDCG@10"])
    weights, trials = P.search_weights(cache, n_trials=4)
    assert len(weights) == 2 and trials.iloc[0, :2].tolist() == [1.0, 1.0]  # the equal-weight blend comes first
    assert trials.iloc[:, -1].max() == pytest.approx(cache.value(weights))


def test_settings_build_drops_a_part_and_time():
    s = P.TimeTextSettings({"half_life": 10.0, "window": 5, "backward": 1.0}, 30.0, 60.0, (0.5, 0.3, 0.2))
    text = np.random.default_rng(0).normal(size=(11, 4))
    assert s.build(text, without="text").weights == [0.5, 0.3, 0.0]
    timeless = s.build(text, use_time=False).models
    assert timeless[0].half_life == np.inf and timeless[0].max_gap == np.inf
    assert timeless[1].time_decay_half_life is None and timeless[2].time_decay_half_life is None
    assert len(s.build(None).models) == 2


def test_bad_labels_and_parameters_are_refused(dataset):
    with pytest.raises(ValueError, match="labels must be one of"):
        P.TimeSensitiveModeling(dataset, "random", P.PipelineConfig(**SMALL))
    with pytest.raises(ValueError, match="n_trials"):
        P.TimeSensitiveModeling(dataset, "global", P.PipelineConfig(**{**SMALL, "n_trials": 0}))


def test_error_analysis_groups_cover_every_query_and_ablations_keep_the_queries(run):
    _, report = run
    facts = CS.query_facts(report)
    assert len(facts) == len(report.ranks) and (facts["history"] >= 1).all()
    err = CS.error_analysis(report)
    for grouping in ("user activity (events so far)", "gap since previous event", "target"):
        part = err.loc[grouping]
        assert 0 < part["queries"].sum() <= len(facts)
    abl = CS.ablations(report)
    assert list(abl.index) == ["time-text model", *CS.ABLATIONS]
    assert abl.loc["time-text model", "NDCG@10"] == pytest.approx(report.results.loc["time-text model", "NDCG@10"])
