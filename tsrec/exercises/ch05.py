"""Exercise checks for chapter 5 (the case study's pipeline)."""
from __future__ import annotations

from tsrec.analysis.casestudy import query_facts
from tsrec.analysis.pipeline import PipelineReport
from tsrec.evaluate import evaluate
from tsrec.exercises._common import _close, _prediction_note, _report
from tsrec.metrics import per_user_rank_metrics
from tsrec.models.covisit import CoVisitation


def ch05_burst_share(answer: float, report: PipelineReport) -> bool:
    """Ex. 5.1: share of the test queries less than a minute after the user's previous event."""
    expected = float((query_facts(report)["gap"] < 60).mean())
    return _report(_close(answer, expected, tol=1e-6),
                   "CS.query_facts(report)['gap'] is each query's gap in seconds: the mean of (gap < 60)")


def ch05_covisitation_backward(answer: float, report: PipelineReport, backward: float = 0.5) -> bool:
    """Ex. 5.2: test NDCG@10 of CoVisitation with the chosen settings but ``backward``, refitted on train +
    validation."""
    split = report.split
    model = CoVisitation(**{**report.settings.covisitation, "backward": backward})
    model.fit(split.history("test"), split.n_users, split.n_items)
    expected = float(evaluate(model, split, "test", ks=(10,), target=report.target)["NDCG@10"])
    return _report(_close(answer, expected, tol=1e-6),
                   "fit on split.history('test') (train + validation), then evaluate on 'test' with ks=(10,)")


def ch05_cold_ndcg(answer: float, prediction: float | None, report: PipelineReport) -> bool:
    """Ex. 5.3 (predict, then run): the time-text model's NDCG@10 on the test queries whose target is cold."""
    cold = ~query_facts(report)["warm"].to_numpy()
    ranks = report.ranks["time-text model"].to_numpy()[cold]
    expected = float(per_user_rank_metrics(ranks, 10)["NDCG@10"].mean()) if cold.any() else float("nan")
    ok = _report(bool(cold.any()) and _close(answer, expected, tol=1e-6),
                 "select the rows of report.ranks where query_facts(report)['warm'] is False, then "
                 "M.per_user_rank_metrics(ranks, 10)['NDCG@10'].mean()")
    _prediction_note(prediction, expected)
    return ok
