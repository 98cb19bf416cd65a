"""Chapter 4.2, part 1 (sequence models): values a wrong implementation would not produce."""
from __future__ import annotations

import math

import pytest


def _table(records, prefix):
    """{model: value} from records named ``prefix[model]``."""
    return {k[len(prefix) + 1:-1]: v for k, v in records.items() if k.startswith(prefix + "[")}


def check(records):
    smoke = records["smoke"]

    # time in the two logs: ML-100K is mostly ties within short sessions; latest-small has more long gaps
    tie_ml, tie_ls = records["gaps[ML-100K][gap = 0 s (tie)]"], records["gaps[ML latest-small][gap = 0 s (tie)]"]
    assert tie_ml > 0.4 and tie_ml > tie_ls + 0.1
    assert records["gaps[ML latest-small][gap > 1 day]"] > records["gaps[ML-100K][gap > 1 day]"]
    assert records["gaps[ML-100K][median user span (h)]"] < 24
    assert records["tisasrec_r0_share_ml100k"] > 0.3          # TiSASRec's interval is 0 for many pairs on ML-100K
    # at initialisation every time encoding is about as loud as the item embedding it is added to (Time2Vec's
    # log-time is scaled for that; of raw log-seconds it would start several times louder)
    for enc in ("time2vec", "time2vec_now", "log_interval", "calendar"):
        assert 0.3 < records[f"time_over_item_norm[{enc}]"] < 2

    # training on all positions: one window per user against one sample per prefix
    assert records["prefix_samples"] > 50 * records["windows"]
    if not smoke:
        assert records["windows"] == 943
        assert records["prefix_samples"] == 100_000 - 3 * 943  # = 97,171, RecBole's samples per epoch (ANCHORS.md)

    # causality: changing the last event moves no earlier position; changing the first moves the last
    assert records["causal_max_leak"] < 1e-5
    assert records["causal_min_reach"] > 1e-7
    # only time2vec_now's earlier positions follow the last event's *time* (its request time, by design)
    movers, models = set(records["causal_time_movers"]), set(records["causal_models"])
    assert movers <= {"SASRec+time2vec_now"}
    assert ("SASRec+time2vec_now" in models) == ("SASRec+time2vec_now" in movers)

    # the comparison on ML-100K: sane metrics and intervals for every model
    ndcg, hr, ci = _table(records, "ml[NDCG@10]"), _table(records, "ml[HR@10]"), _table(records, "ml[NDCG@10 ±95%]")
    assert {"Popularity", "BPR-MF", "GRU4Rec", "NextItNet", "SASRec", "TiSASRec", "TimeSensitiveModel"} <= set(ndcg)
    for name in ndcg:
        assert 0.0 <= ndcg[name] <= hr[name] <= 1.0, name
        assert ci[name] is None or (math.isfinite(ci[name]) and ci[name] >= 0.0), name
    assert any(k.startswith("SASRec+") for k in ndcg)          # at least one time encoding was trained
    assert set(_table(records, "shuffled_ndcg")) and all(0.0 <= v <= 1.0 for v in _table(records, "shuffled_ndcg").values())
    ls = _table(records, "ls[NDCG@10]")
    assert {"Popularity", "BPR-MF", "SASRec"} <= set(ls) and records["ls_queries"] > 100

    if smoke:
        return
    # default settings: popularity reproduces the anchors of ANCHORS.md (identical split)
    assert ndcg["Popularity"] == pytest.approx(0.0449, abs=5e-4)
    assert hr["Popularity"] == pytest.approx(0.0859, abs=5e-4)
    # SASRec beats popularity beyond the paired interval; BPR-MF beats popularity
    d, half = records["ml_diff[SASRec − Popularity]"]
    assert d > half > 0
    assert ndcg["BPR-MF"] > ndcg["Popularity"]
    assert ndcg["SASRec"] > 1.3 * ndcg["Popularity"]
    # the shuffled-order control: SASRec loses a clear part of its score without the order of histories
    assert _table(records, "shuffled_ndcg")["SASRec"] < ndcg["SASRec"] - 0.01
    # the book's model, made to work, stays clearly below a plain LSTM reading the same histories
    d, half = records["ml_diff[TimeSensitiveModel − LSTM4Rec]"]
    assert d < -half < 0
    # on latest-small's global split the test has thousands of queries, most from users new after the cut
    assert records["ls_queries"] > 3000
