"""Chapter 4.2, part 1 (sequence models): values a wrong implementation would not produce, and the numbers the
prose quotes (default run)."""
from __future__ import annotations

import math

import pytest

KNN = "ItemKNN (time-decayed)"
BASELINES = {"Popularity", "Recent popularity", KNN, "BPR-MF"}


def _table(records, prefix):
    """{model: value} from records named ``prefix[model]``."""
    return {k[len(prefix) + 1:-1]: v for k, v in records.items() if k.startswith(prefix + "[")}


def _clear(pair):
    """A paired difference [d, half-width] whose 95% interval excludes zero."""
    d, half = pair
    return abs(d) > half


def check(records):
    smoke = records["smoke"]
    assert all(v is True for k, v in records.items() if k.startswith("exercise:")), "a solution cell fails its check"
    assert len([k for k in records if k.startswith("exercise:")]) >= 5

    # time in the two logs: ML-100K is mostly ties within short sessions; latest-small has more long gaps
    tie_ml, tie_ls = records["gaps[ML-100K][gap = 0 s (tie)]"], records["gaps[ML latest-small][gap = 0 s (tie)]"]
    assert tie_ml > 0.4 and tie_ml > tie_ls + 0.1
    assert records["gaps[ML latest-small][gap > 1 day]"] > records["gaps[ML-100K][gap > 1 day]"]
    assert records["gaps[ML-100K][median user span (h)]"] < 24
    assert records["tisasrec_r0_share_ml100k"] > 0.3          # TiSASRec's interval is 0 for many pairs on ML-100K
    # at initialisation every time encoding is about as loud as the item embedding it is added to; Time2Vec without
    # its scaling (raw log-seconds, no 1/sqrt(k)) would start several times louder
    for enc in ("time2vec", "time2vec_now", "log_interval", "calendar"):
        assert 0.3 < records[f"time_over_item_norm[{enc}]"] < 2
    for enc in ("time2vec", "time2vec_now"):
        assert records[f"unscaled_over_item_norm[{enc}]"] > 2.5 * records[f"time_over_item_norm[{enc}]"]
    assert records["log1p_year"] == pytest.approx(17.27, abs=0.01)

    # training on all positions: far fewer windows than prefix samples; the RecBole anchors are printed
    windows = records["windows"]
    assert records["prefix_samples"] > 20 * windows["last"] and windows["all"] > windows["last"]
    s_epoch = records["anchor_recbole_s_per_epoch"]
    assert len(s_epoch) >= 2 and round(min(s_epoch.values())) == 102 and round(max(s_epoch.values())) == 151

    # causality: changing the last event moves no earlier position; changing the first moves the last
    assert records["causal_max_leak"] < 1e-5
    assert records["causal_min_reach"] > 1e-7
    # only time2vec_now's earlier positions follow the last event's *time* (its request time, by design)
    movers, models = set(records["causal_time_movers"]), set(records["causal_models"])
    assert movers <= {"SASRec+time2vec_now"}
    assert ("SASRec+time2vec_now" in models) == ("SASRec+time2vec_now" in movers)

    # the comparison on ML-100K: sane metrics and intervals for every model, the recency baselines included
    ndcg, hr, ci = _table(records, "ml[NDCG@10]"), _table(records, "ml[HR@10]"), _table(records, "ml[NDCG@10 ±95%]")
    assert BASELINES | {"GRU4Rec", "NextItNet", "SASRec", "TiSASRec", "TimeSensitiveModel"} <= set(ndcg)
    for name in ndcg:
        assert 0.0 <= ndcg[name] <= hr[name] <= 1.0, name
        assert ci[name] is None or (math.isfinite(ci[name]) and ci[name] >= 0.0), name
    epochs_run, best = _table(records, "ml[epochs run]"), _table(records, "ml[best epoch]")
    for name in set(ndcg) - BASELINES:                         # epoch counts and early stopping, no time budget
        assert 1 <= best[name] <= epochs_run[name], name
    assert any(k.startswith("SASRec+") for k in ndcg)          # at least one time encoding was trained
    for fam in ("Recent popularity", KNN):
        assert records[f"chosen_seconds[{fam}]"] > 0
    diffs = _table(records, "ml_diff")
    assert {f"{n} − {KNN}" for n in set(ndcg) - BASELINES} <= set(diffs)   # every sequence model against item-kNN
    where = _table(records, "where")
    assert set(where) == {"0 s (same second)", "1 s – 1 min", "1 min – 1 h", "> 1 h"}
    assert sum(w["test users"] for w in where.values()) == records["ml_queries"]
    assert set(_table(records, "shuffled_ndcg")) and all(0.0 <= v <= 1.0 for v in _table(records, "shuffled_ndcg").values())
    ls = _table(records, "ls[NDCG@10]")
    assert BASELINES | {"SASRec"} <= set(ls) and records["ls_queries"] > 100

    if smoke:
        return
    _check_default_run(records, ndcg, hr, diffs, where, ls)


def _q(value, printed):
    """``value`` rounds to the printed figure (four decimals)."""
    return value == pytest.approx(printed, abs=5e-5)


def _check_default_run(records, ndcg, hr, diffs, where, ls):
    """The numbers of the default run that the prose quotes, and the interval relations it states."""
    assert records["windows"]["last"] == 943 and records["windows"]["all"] == 3564
    assert records["prefix_samples"] == 100_000 - 3 * 943  # = 97,171, RecBole's samples per epoch
    # popularity reproduces the anchors of benchmarks/anchors.md (identical split)
    assert ndcg["Popularity"] == pytest.approx(0.0449, abs=5e-4)
    assert hr["Popularity"] == pytest.approx(0.0859, abs=5e-4)
    # the recency baselines are chosen inside their grids: 30 days and 10 seconds, as in chapter 4.1
    assert records[f"chosen_inside_grid[{KNN}]"] is True and records[f"chosen_seconds[{KNN}]"] == 10
    assert records["chosen_seconds[Recent popularity]"] == 30 * 86400
    quoted = {"Popularity": 0.0449, "Recent popularity": 0.0468, KNN: 0.1074, "BPR-MF": 0.0564, "GRU4Rec": 0.0630,
              "LSTM4Rec": 0.0433, "NextItNet": 0.0763, "SASRec": 0.0864, "TiSASRec": 0.0908,
              "SASRec (all windows)": 0.0911, "TimeSensitiveModel": 0.0515}
    for name, value in quoted.items():
        assert _q(ndcg[name], value), name
    assert records[f"ml[NDCG@10 ±95%][{KNN}]"] == pytest.approx(0.0159, abs=5e-5)
    assert max(v for v in _table(records, "ml[epochs run]").values() if v is not None and v == v) < 20
    assert records["ml[best epoch][LSTM4Rec]"] == 1 and records["ml[epochs run][LSTM4Rec]"] == 4
    # paired differences as quoted, and what the prose says of their intervals
    beyond = {"SASRec − ItemKNN (time-decayed)": -0.0210, "SASRec − Popularity": 0.0416,
              "SASRec − Recent popularity": 0.0396, "SASRec − BPR-MF": 0.0300, "NextItNet − Popularity": 0.0314,
              "GRU4Rec − Popularity": 0.0181, "SASRec+log_interval − SASRec": -0.0132}
    inside = {"SASRec (all windows) − ItemKNN (time-decayed)": -0.0164, "TiSASRec − ItemKNN (time-decayed)": -0.0166,
              "SASRec (all windows) − SASRec": 0.0046, "TiSASRec − SASRec": 0.0044,
              "SASRec+time2vec_now − SASRec": -0.0019, "TimeSensitiveModel − Popularity": 0.0066,
              "TimeSensitiveModel − LSTM4Rec": 0.0082}
    for group, clear in ((beyond, True), (inside, False)):
        for key, value in group.items():
            assert _q(diffs[key][0], value) and _clear(diffs[key]) is clear, key
    others = [n for n in ndcg if n not in BASELINES | {"SASRec (all windows)", "TiSASRec"}]
    assert all(_clear(diffs[f"{n} − {KNN}"]) and diffs[f"{n} − {KNN}"][0] < 0 for n in others)
    # where item-kNN wins: the same-second group, beyond the interval; the other groups inside
    same = where["0 s (same second)"]
    assert same["test users"] == 415 and _q(same["SASRec − kNN"], -0.0415)
    assert _q(same["SASRec (all windows) − kNN"], -0.0322) and records["best_sequence_model"] == "SASRec (all windows)"
    assert -same["SASRec − kNN"] > same["SASRec − kNN ±95%"]
    assert -same["SASRec (all windows) − kNN"] > same["SASRec (all windows) − kNN ±95%"]
    for g in ("1 s – 1 min", "1 min – 1 h", "> 1 h"):
        for name in ("SASRec", "SASRec (all windows)"):
            assert abs(where[g][f"{name} − kNN"]) < where[g][f"{name} − kNN ±95%"], (g, name)
    # the shuffled-order control
    shuf, sd = _table(records, "shuffled_ndcg"), _table(records, "shuffled_diff")
    assert _q(shuf["SASRec"], 0.0419) and _q(shuf["GRU4Rec"], 0.0432)
    for key, value, clear in (("SASRec (shuffled) − SASRec", -0.0446, True), ("GRU4Rec (shuffled) − GRU4Rec", -0.0198, True),
                              ("SASRec (shuffled) − Popularity", -0.0030, False),
                              ("SASRec (shuffled) − BPR-MF", -0.0146, True), ("GRU4Rec (shuffled) − BPR-MF", -0.0133, True)):
        assert _q(sd[key][0], value) and _clear(sd[key]) is clear, key
    # latest-small's global split: thousands of queries, most from users new after the cut
    assert records["ls_queries"] == 9941
    for name, value in {"Popularity": 0.0174, "Recent popularity": 0.0175, KNN: 0.0455, "BPR-MF": 0.0018,
                        "SASRec": 0.0155, "TiSASRec": 0.0171, "SASRec+time2vec_now": 0.0183}.items():
        assert _q(ls[name], value), name
    lsd = _table(records, "ls_diff")
    for key, value, clear in ((f"{KNN} − Popularity", 0.0281, True), (f"SASRec − {KNN}", -0.0301, True),
                              (f"TiSASRec − {KNN}", -0.0285, True), (f"SASRec+time2vec_now − {KNN}", -0.0273, True),
                              ("SASRec − Popularity", -0.0019, False), ("SASRec+time2vec_now − Popularity", 0.0009, False),
                              ("TiSASRec − Popularity", -0.0003, False), ("BPR-MF − Popularity", -0.0156, True),
                              ("TiSASRec − SASRec", 0.0016, True), ("SASRec+time2vec_now − SASRec", 0.0028, True)):
        assert _q(lsd[key][0], value) and _clear(lsd[key]) is clear, key
