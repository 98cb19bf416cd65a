"""Appendix C (common problems, each answered by running it): the numbers its answers quote, and values a wrong
implementation would not produce. Runs on the committed default run and on a smoke run (``records["smoke"]``);
timings are only checked to be positive, never compared."""
from __future__ import annotations

import pytest

from notebook_checks import above as _above
from notebook_checks import below as _below
from notebook_checks import level as _level
from notebook_checks import named as _named


def check(records):
    full = records.get("smoke") is False
    assert "smoke" in records
    ex = {k: v for k, v in records.items() if k.startswith("exercise:")}
    assert len(ex) >= 4 and all(v is True for v in ex.values()), ex

    # C.1 learning curves: three sizes of the same model, each trained by the one loop for the same epochs
    curve, params, early = _named(records, "curve"), _named(records, "parameters"), _named(records, "early")
    names = ["too small", "right-sized", "too large"]
    assert set(curve) == set(names) == set(early)
    assert params["too small"] < params["right-sized"] < params["too large"]
    for n in names:
        c, e = curve[n], early[n]
        assert 1 <= c["best epoch"] == e["best epoch"] and e["stops at (patience 3)"] >= 1
        assert c["valid NDCG, best epoch"] >= c["valid NDCG, last epoch"] - 1e-12   # the best epoch is the best
        assert 0 < c["valid NDCG, best epoch"] < 1 and c["loss, last epoch"] > 0
        assert e["best - last"] == pytest.approx(e["test NDCG, best epoch"] - e["test NDCG, last epoch"], abs=1e-9)
    size = _named(records, "size_diff")
    assert _below(size["too small vs right-sized"])

    # C.2 leakage: a random split flatters both models, by far more than the interval
    leak = _named(records, "leak")
    for m in ("Popularity", "ItemKNN"):
        assert _above(leak[m]) and leak[m][0] > 2 * leak[m][1]
    assert records["random_own_future_share"] > 0.5
    # ties: the book's rule reproduces the anchors (benchmarks/anchors.md); the order alone moves test HR@10
    tie = _named(records, "tie_pop")
    assert tie["file row"]["test HR@10"] == pytest.approx(0.0859, abs=5e-5)
    assert tie["file row"]["test NDCG@10"] == pytest.approx(0.0449, abs=5e-5)
    assert tie["item id"]["test HR@10"] == pytest.approx(0.0498, abs=5e-5)
    assert tie["item id, descending"]["test HR@10"] == pytest.approx(0.1135, abs=5e-5)
    ties, last_ties = records["tie_shares"]
    assert ties == pytest.approx(0.758, abs=5e-4) and last_ties == pytest.approx(0.440, abs=5e-4)
    td = _named(records, "tie_diff")
    assert _below(td["item id vs file row"]) and _above(td["item id, descending vs file row"])
    # duplicates: popularity moves, item-kNN (binary) does not, clean() restores the clean model exactly
    dup = _named(records, "dup_diff")
    assert dup["ItemKNN, duplicated vs ItemKNN, clean"][2] == 0.0
    assert dup["Popularity, after clean() vs Popularity, clean"][2] == 0.0
    assert dup["Popularity, duplicated vs Popularity, clean"][2] < 0
    assert records["dup_rows_added"] == records["dup_rows_dropped"] > 0
    assert records["dup_same_target_share"] == pytest.approx(0.1039, abs=5e-4)
    # popularity counted once per batch: fewer events counted, ties at the top, a much worse list at 2048
    bp = _named(records, "batch_pop")
    exact, b256, b2048 = bp["per event (Popularity)"], bp["once per batch of 256"], bp["once per batch of 2048"]
    assert exact["test HR@10"] == pytest.approx(0.0859, abs=5e-5) and exact["events counted"] == 1.0
    assert 1.0 > b256["events counted"] > b2048["events counted"] and b2048["items tied at the top count"] > 10
    assert b2048["test HR@10"] == pytest.approx(0.0392, abs=5e-5) and b2048["top-10 shared with Popularity"] <= 2
    bd = _named(records, "batch_pop_diff")
    assert _below(bd["once per batch of 2048 vs per event (Popularity)"])
    assert _level(bd["once per batch of 256 vs per event (Popularity)"])

    # C.3 state: positive sizes; a dense co-occurrence row per item (float32) is the largest item part
    state = _named(records, "state")
    assert len(state) == 4 and all(v["bytes per user"] > 0 and v["bytes per item"] > 0 for v in state.values())
    knn = next(v for k, v in state.items() if k.startswith("OnlineItemKNN"))
    pop = next(v for k, v in state.items() if k.startswith("OnlinePopularity"))
    assert knn["bytes per item"] > 100 * pop["bytes per item"] and pop["bytes per item"] < 20
    lat = _named(records, "latency")
    assert len(lat) == 4 and all(all(x > 0 for x in v.values()) for v in lat.values())   # timings: positive only
    for v in lat.values():
        assert v["update p99 µs"] >= v["update p50 µs"] and v["request p99 ms"] >= v["request p50 ms"]
    # staleness: the user's own history must be live; popularity can wait
    st = {k: v for k, v in records.items() if k.startswith("stale[")}
    assert st["stale[popularity counts][per event]"][1:] == [0.0, 0.0]
    hist = [v for k, v in st.items() if k.startswith("stale[user history") and "behind" in k]
    assert len(hist) == 2 and all(_below(v) for v in hist)
    if full:   # the numbers the prose quotes (default run)
        assert curve["too small"]["fit NDCG, last epoch"] == pytest.approx(0.065, abs=0.01)
        assert curve["too small"]["valid NDCG, last epoch"] == pytest.approx(0.063, abs=0.01)
        assert curve["too large"]["fit NDCG, last epoch"] > 4 * curve["too large"]["valid NDCG, last epoch"]
        assert curve["too large"]["valid NDCG, best epoch"] - curve["too large"]["valid NDCG, last epoch"] > 0.01
        assert curve["too large"]["best epoch"] <= 5
        assert _level([early["right-sized"]["best - last"], early["right-sized"]["±95%"]])
        assert _level([early["too large"]["best - last"], early["too large"]["±95%"]])
        assert leak["ItemKNN"][:2] == pytest.approx([0.3873, 0.1014], abs=5e-4)
        assert tie["random"]["test HR@10"] == pytest.approx(0.0795, abs=5e-4)
        assert records["dup_rows_added"] == 19_953
        assert _level(st["stale[popularity counts][hourly]"]) and _level(st["stale[popularity counts][daily]"])
        assert st["stale[user history (item-kNN)][20 events behind]"][1] == pytest.approx(-0.0396, abs=5e-4)
        assert knn["bytes per item"] == pytest.approx(6744, rel=0.01) and pop["bytes per item"] == pytest.approx(8.1, abs=0.1)
        assert early["right-sized"]["stops at (patience 3)"] == 12 < early["right-sized"]["best epoch"] == 14
