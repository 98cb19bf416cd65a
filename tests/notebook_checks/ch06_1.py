"""Chapter 6.1 (tuning with Optuna, compression): the numbers its text quotes, and values a wrong implementation
would not produce. Runs on the committed default run and on a smoke run (``records["smoke"]``). Latencies are
compared only on the committed default run (its recorded ratios), never in the smoke run."""
from __future__ import annotations

import math

import pytest

from notebook_checks import above as _above
from notebook_checks import below as _below
from notebook_checks import level as _level
from notebook_checks import named as _named


def check(records):
    full = records.get("smoke") is False
    assert "smoke" in records

    # the study: a fixed number of trials, trial 0 the default model, the best one at least as good as it
    assert records["trials"] >= 2 and 0 <= records["trials_pruned"] < records["trials"]
    assert records["best_valid_ndcg"] >= records["default_valid_ndcg"] > 0
    tuned = records["tuned_params"]
    assert set(tuned) == {"hidden", "n_blocks", "dropout", "lr", "max_len", "time_encoding"}
    imp = records["importance"]
    assert set(imp) <= set(tuned) and math.isclose(sum(imp.values()), 1.0, abs_tol=1e-6)

    # retrained over seeds: every NDCG is a real ranking score, above popularity's level on the full split
    for name in ("default", "tuned"):
        for stage in ("valid", "test"):
            mean, half = records[f"{stage}_ndcg[{name}]"]
            assert 0 < mean < 1 and (half is None or half >= 0)
    gain = _named(records, "gain")
    assert gain["validation gain the search reported (seed it saw)"][0] == pytest.approx(
        records["tuned_trial_valid_ndcg"] - records["default_valid_ndcg"])
    assert records["tuned_trial"] != 0 or records["trials"] == 1

    # compression: int8 keeps the count and shrinks the file; pruning keeps the file and removes non-zeros
    comp = _named(records, "comp")
    fp = comp["fp32 (default model)"]
    q8 = comp["int8 dynamic"]
    assert q8["parameters"] == fp["parameters"] and fp["non-zero"] > 0.99 * fp["parameters"]
    assert q8["file KB"] < fp["file KB"]
    assert abs(q8["Δ vs fp32"]) < 0.01                    # int8 changes scores a little, not the ranking much
    p50, p80 = comp["pruned 50%"], comp["pruned 80%"]
    assert p50["parameters"] == p80["parameters"] == fp["parameters"]
    assert p50["non-zero"] < 0.6 * fp["parameters"] and p80["non-zero"] < 0.3 * fp["parameters"]
    assert p80["file KB"] == pytest.approx(fp["file KB"], rel=0.01)   # zeros are still stored densely
    assert comp["pruned 50%"]["NDCG@10"] >= comp["pruned 80%"]["NDCG@10"] - 0.005
    low = next(v for k, v in comp.items() if k.startswith("low-rank") and "fine-tuned" not in k)
    assert low["parameters"] < 0.6 * fp["parameters"]
    assert 0 < records["student_param_share"] <= 0.25
    student = next(v for k, v in comp.items() if k.startswith("distilled student"))
    for row in comp.values():
        assert row["p50 ms"] > 0 and row["p99 ms"] >= row["p50 ms"] and 0 <= row["NDCG@10"] < 1
    parts = records["breakdown"]
    for row in parts.values():
        names = ("input window ms", "linear layers ms", "item scoring ms", "rest of the forward ms")
        assert row["total ms"] == pytest.approx(sum(row[k] for k in names), rel=1e-6)
    assert 0 < records["linear_share_fp32"] < 1
    assert records["amdahl_bound"] == pytest.approx(1 / (1 - records["linear_share_fp32"]))
    assert set(records["pareto_latency"]) <= set(comp) and records["pareto_latency"]
    assert records["exercise:ch06_1_linear_share"] and records["exercise:ch06_1_quarter_rank"]
    assert records["exercise:ch06_1_item_table_pruned"]

    if not full:  # smoke: two seeds, a couple of epochs; nothing about times
        return

    # the bars: int8 within the fp32 interval; the student keeps >= 90% of the teacher with <= 25% of its size
    assert _level([q8["Δ vs fp32"], q8["Δ ±95% (paired)"]])
    assert student["kept"] >= 0.90

    # the numbers the text quotes (committed default run: one thread, a busy two-core machine)
    a = pytest.approx
    assert records["trials"] == 12 and records["trials_pruned"] == 5 and records["trial_epochs_total"] == 85
    assert records["best_trial"] == 0 and records["default_valid_ndcg"] == a(0.1036, abs=5e-5)
    assert records["tuned_trial"] == 11 and records["tuned_trial_valid_ndcg"] == a(0.0981, abs=5e-5)
    assert tuned["hidden"] == 128 and tuned["n_blocks"] == 2 and tuned["time_encoding"] is None
    assert tuned["dropout"] == a(0.30, abs=0.005) and tuned["lr"] == a(3.2e-3, abs=5e-5)
    assert max(imp, key=imp.get) == "lr" and imp["lr"] == a(0.53, abs=0.005) and imp["hidden"] < 0.001
    assert (imp["n_blocks"], imp["max_len"], imp["time_encoding"]) == (a(0.15, abs=0.005), a(0.13, abs=0.005),
                                                                       a(0.12, abs=0.005))
    for key, (m, h) in {"valid_ndcg[default]": (0.1076, 0.0095), "valid_ndcg[tuned]": (0.0935, 0.0138),
                        "test_ndcg[default]": (0.0837, 0.0135), "test_ndcg[tuned]": (0.0759, 0.0104)}.items():
        assert records[key] == [a(m, abs=5e-5), a(h, abs=5e-5)], key
    assert records["params[tuned]"] == 421_376 and records["params[default]"] == 162_656
    assert records["knn_test_ndcg"][0] == a(0.1074, abs=5e-5)
    assert gain["validation gain the search reported (seed it saw)"][0] == a(-0.0055, abs=5e-5)
    fresh = gain["validation gain on fresh seeds"]
    assert fresh == [a(-0.0184, abs=5e-5), a(0.0277, abs=5e-5)] and _level(fresh)
    test_all = gain["test gain, all seeds"]
    assert test_all == [a(-0.0077, abs=5e-5), a(0.0221, abs=5e-5)] and _level(test_all)
    assert gain["test, seed 0 (paired over users)"] == [a(0.0018, abs=5e-5), a(0.0108, abs=5e-5)]
    vs_knn = gain["tuned − item-kNN, test, seed 0"]
    assert vs_knn == [a(-0.0282, abs=5e-5), a(0.0173, abs=5e-5)] and _below(vs_knn)
    assert records["gain_share_surviving_fresh_seeds"] == a(3.3, abs=0.05)

    assert fp["NDCG@10"] == a(0.0774, abs=5e-5) and fp["file KB"] == a(646, abs=0.5) and q8["file KB"] == a(505, abs=0.5)
    assert q8["NDCG@10"] == a(0.0777, abs=5e-5) and (q8["Δ vs fp32"], q8["Δ ±95% (paired)"]) == (a(0.0003, abs=5e-5),
                                                                                                a(0.0004, abs=5e-5))
    assert p50["non-zero"] == 82_080 and p80["non-zero"] == 33_734
    assert _level([p50["Δ vs fp32"], p50["Δ ±95% (paired)"]]) and p50["Δ vs fp32"] == a(-0.0001, abs=5e-5)
    assert _below([p80["Δ vs fp32"], p80["Δ ±95% (paired)"]]) and p80["Δ vs fp32"] == a(-0.0176, abs=5e-5)
    ft80 = comp["pruned 80% + fine-tuned"]
    assert _level([ft80["Δ vs fp32"], ft80["Δ ±95% (paired)"]]) and ft80["Δ vs fp32"] == a(0.0025, abs=5e-5)
    assert low["parameters"] == 82_896 and low["file KB"] == a(334, abs=0.5)
    assert _level([low["Δ vs fp32"], low["Δ ±95% (paired)"]]) and low["Δ vs fp32"] == a(-0.0005, abs=5e-5)
    tuned_rows = [v for k, v in comp.items() if k.endswith("fine-tuned")]
    assert all(_level([r["Δ vs fp32"], r["Δ ±95% (paired)"]]) for r in tuned_rows)
    assert min(r["Δ vs fp32"] for r in tuned_rows) == a(0.0025, abs=5e-5)
    assert max(r["Δ vs fp32"] for r in tuned_rows) == a(0.0059, abs=5e-5)
    ctrl = comp["same student, no distillation"]
    assert student["parameters"] == 31_472 and student["file KB"] == a(133, abs=0.5)
    assert records["student_param_share"] == a(0.19, abs=0.005)
    assert student["NDCG@10"] == a(0.0814, abs=5e-5) and student["kept"] == a(1.05, abs=0.005)
    assert _level([student["Δ vs fp32"], student["Δ ±95% (paired)"]])
    assert ctrl["NDCG@10"] == a(0.0914, abs=5e-5) and _above([ctrl["Δ vs fp32"], ctrl["Δ ±95% (paired)"]])
    assert _below(records["distill_vs_control"]) and records["distill_vs_control"][0] == a(-0.0100, abs=5e-5)

    # times: only the committed run's recorded ratios and values, never a fresh run's
    f32, i8 = parts["fp32 (default model)"], parts["int8 dynamic"]
    assert f32["total ms"] == a(1.12, abs=0.005) and f32["linear layers ms"] == a(0.21, abs=0.005)
    assert f32["rest of the forward ms"] / f32["total ms"] == a(0.71, abs=0.005)
    assert f32["item scoring ms"] < 0.05 and f32["input window ms"] == a(0.09, abs=0.005)
    assert i8["linear layers ms"] / f32["linear layers ms"] == a(2.2, abs=0.05)
    assert records["linear_share_fp32"] == a(0.18, abs=0.005) and records["amdahl_bound"] == a(1.23, abs=0.005)
    batch = "all 943 test users in one call, s"
    assert (f32[batch], i8[batch]) == (a(0.229, abs=5e-4), a(0.201, abs=5e-4))
    assert q8["p50 ms"] == a(1.90, abs=0.005) and fp["p50 ms"] == a(1.67, abs=0.005)
    assert records["int8_speedup_p50"] == a(0.88, abs=0.005) and records["int8_speedup_p50"] < 1.5
    pruned_p50 = [v["p50 ms"] for k, v in comp.items() if k.startswith("pruned")]
    assert (min(pruned_p50), max(pruned_p50)) == (a(1.34, abs=0.005), a(1.91, abs=0.005))
    assert set(records["pareto_latency"]) == {"distilled student (width 16)", "same student, no distillation"}
    assert records["pareto_size"] == ["same student, no distillation"]
