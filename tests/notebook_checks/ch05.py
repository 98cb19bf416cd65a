"""Chapter 5 (the case study: the pipeline, the time-text model, ablations, error analysis, LlamaRec's protocol,
the sequence-model zoo and SmolLM2 re-ranking): the numbers its text quotes, and values a wrong implementation
would not produce. Runs on the committed default run and on a smoke run (``records["smoke"]``)."""
from __future__ import annotations

import pytest

from notebook_checks import above as _above
from notebook_checks import below as _below
from notebook_checks import level as _level
from notebook_checks import named as _named

ABLATIONS = ["no time", "no CoVisitation", "no refit", "no text", "shuffled order"]
MODELS = ["popularity", "item-kNN (tuned)", "CoVisitation (tuned)", "CoVisitation + kNN blend", "time-text model"]


def _general(records):
    for key in ("within_minute", "within_hour", "test_from_new_users", "cold_target_share"):
        assert 0 <= records[key] <= 1
    assert records["within_minute"] <= records["within_hour"]
    glob, loo = _named(records, "global"), _named(records, "loo")
    assert sorted(glob) == sorted(MODELS) and sorted(loo) == sorted(MODELS)
    knn = glob["item-kNN (tuned)"]
    assert knn[1] == 0 and knn[2] == 0
    for ndcg, diff, _ in glob.values():   # a difference is the two models' values apart
        assert 0 <= ndcg < 1 and diff == pytest.approx(ndcg - knn[0], abs=1e-9)
    equal, searched = records["global_search"]
    assert searched >= equal  # the search starts from the equal-weight blend
    # the ablation table's full model is the results table's model (same ranks)
    abl = _named(records, "ablation")
    assert set(abl) == {"time-text model", "no time", "no text", "no CoVisitation", "no refit", "shuffled order"}
    assert abl["time-text model"][0] == pytest.approx(glob["time-text model"][0], abs=1e-9)
    # every query falls in one activity group and one gap group (groups of < 2 queries are left out)
    errors = _named(records, "errors")
    for grouping in ("user activity (events so far)", "gap since previous event", "target"):
        n = sum(v[0] for k, v in errors.items() if k.startswith(grouping + "|"))
        assert 0 < n <= records["global_queries"]
    zoo = _named(records, "zoo")
    assert {"LRURec", "SASRec", "time-text + LRURec", "time-text model"} <= set(zoo)
    assert zoo["time-text model"][0] == pytest.approx(loo["time-text model"][0], abs=1e-9) or records["loo_seeds"] > 1
    rerank = _named(records, "rerank")
    assert set(rerank) == {"base", "time", "time+base"} and rerank["base"][1] == 0
    assert records["rerank_users"] >= 1 and 0 <= records["rerank_in_top"] <= 1
    for name in ("burst_share", "covisitation_backward", "cold_ndcg"):
        assert records[f"exercise:ch05_{name}"] is True
    return glob, loo, abl, errors, zoo, rerank


def _benchmark_quotes():
    """Table B of benchmarks/results.md, which the text quotes: a benchmark rerun that moves it fails here."""
    from tsrec.config import REPO_ROOT
    from tsrec.llm.experiments import benchmark_numbers, benchmark_tables

    table = benchmark_tables("B", REPO_ROOT / "benchmarks" / "results.md")[0]
    ndcg = {m: benchmark_numbers(table.loc[m, "NDCG@10"])[0] for m in ("SASRec", "TiSASRec", "Popularity",
                                                                         "ItemKNN(tuned decay)")}
    assert ndcg["SASRec"] == 0.0364 and ndcg["TiSASRec"] == 0.0362
    assert ndcg["Popularity"] < ndcg["TiSASRec"] < ndcg["SASRec"] < ndcg["ItemKNN(tuned decay)"]


def check(records):
    assert "smoke" in records
    _benchmark_quotes()
    glob, loo, abl, errors, zoo, rerank = _general(records)
    if records["smoke"]:
        assert records["n_users"] <= 40
        return
    a = lambda x, d=4: pytest.approx(x, abs=0.6 * 10 ** -d)   # at the printed rounding
    assert records["n_events"] == 100_004 and records["n_users"] == 671
    # 5.1: the facts the design rests on
    assert records["within_minute"] == a(0.833, 3) and records["within_hour"] == a(0.943, 3)
    assert records["test_from_new_users"] == a(0.898, 3) and records["cold_target_share"] == a(0.109, 3)
    # 5.2: settings chosen inside their grids
    assert records["global_inside_grid"] == {"item-kNN": True, "text": True}
    s = records["global_settings"]
    assert s["knn_half_life"] == 10 and s["covisitation"] == {"half_life": 10.0, "window": 50, "backward": 1.0}
    # 5.3, global split: the bar (>= 10% over the tuned kNN, beyond the user-clustered interval)
    assert records["global_queries"] == 9941
    knn, model = glob["item-kNN (tuned)"], glob["time-text model"]
    assert knn[0] == a(0.0455) and model[0] == a(0.0605)
    assert _above(model) and model[1] / knn[0] >= 0.10
    assert glob["CoVisitation (tuned)"][0] == a(0.0529) and _above(glob["CoVisitation (tuned)"])
    assert glob["CoVisitation + kNN blend"][0] == a(0.0561)
    assert _above(records["global_vs_blend"]) and records["global_vs_blend"][0] == a(0.0044)
    # ablations: every idea taken away costs, beyond its interval, except where the text says level
    for name in ABLATIONS:
        assert _below(abl[name]), name
    rel = {name: abl[name][1] / abl["time-text model"][0] for name in ABLATIONS}   # the text's percentages
    assert [round(100 * rel[n]) for n in ABLATIONS] == [-44, -20, -17, -8, -6]
    assert abl["no time"][0] == a(0.0339) and min(rel, key=rel.get) == "no time"
    # where the gain comes from (the error analysis the text quotes)
    burst, cold = errors["gap since previous event|< 1 min"], errors["target|cold (never seen before)"]
    assert burst[0] == 8492 and burst[1] == a(0.0687) and burst[2] == a(0.0511) and _above(burst[-2:])
    assert _level(errors["gap since previous event|1 min - 1 h"][-2:])
    assert cold[0] == 1085 and cold[2] == 0 and cold[1] == a(0.0122) and _above(cold[-2:])
    assert _above(errors["user activity (events so far)|1-20"][-2:])
    assert _level(errors["user activity (events so far)|> 500"][-2:])
    # LlamaRec's protocol: the bar (>= 0.0759, mean of 3 seeds)
    assert records["loo_seeds"] == 3 and records["loo_users"] == 671
    assert loo["time-text model"][0] >= 0.0759 and loo["time-text model"] == [a(0.0901), a(0.0054)]
    assert loo["item-kNN (tuned)"][0] == a(0.0537) and loo["CoVisitation + kNN blend"][0] == a(0.0800)
    assert _above(_named(records, "loo_diff")["time-text model"])
    # the zoo loses to the time-text model; adding LRURec is level
    for name in ("LRURec", "SASRec"):
        assert _below(zoo[name]), name
    assert _level(zoo["time-text + LRURec"]) and zoo["time-text + LRURec"][0] == a(0.0881)
    assert zoo["LRURec"][0] == a(0.0407) and zoo["SASRec"][0] == a(0.0215)
    # SmolLM2-135M re-ranking: lower point estimates, level at 50 users
    assert records["rerank_users"] == 50 and rerank["base"][0] == a(0.0601)
    for order in ("time", "time+base"):
        assert rerank[order][1] < 0 and _level(rerank[order])
