"""Chapter 6.2 (DP-SGD, membership attack, FedAvg, the active-hour attack, integrated gradients, faithfulness,
text explanations): the numbers its text
quotes, and properties a wrong implementation would not have. Runs on the committed default run and on a smoke
run (``records["smoke"]``)."""
from __future__ import annotations

import math

import pytest

from notebook_checks import above as _above
from notebook_checks import below as _below
from notebook_checks import level as _level


def _pair(row, key, half):
    return (row[key], row[half])


def _general(records):
    dp = {k[3:-1]: v for k, v in records.items() if k.startswith("dp[")}
    eps_rows = {k: v for k, v in dp.items() if k.startswith("DP ε=")}
    assert len(eps_rows) >= 3 and {"non-private", "clipped, no noise", "item-kNN (time-decayed)"} <= set(dp)
    # each run reaches its ε (never more), and a smaller ε takes more noise
    by_eps = sorted(eps_rows.values(), key=lambda r: r["ε"])
    for name, row in eps_rows.items():
        assert row["ε"] <= float(name[5:]) + 1e-6 and row["ε"] > 0.9 * float(name[5:])
    sigmas = [r["noise σ"] for r in by_eps]
    assert all(a > b > 0 for a, b in zip(sigmas, sigmas[1:]))
    assert dp["clipped, no noise"]["noise σ"] == 0 and dp["clipped, no noise"]["ε"] is None  # inf -> JSON null
    for name, row in dp.items():
        assert 0 <= row["NDCG@10"] < 1 and row["±95%"] >= 0
        if name != "item-kNN (time-decayed)":
            assert 0 <= row["attack AUC"] <= 1
    assert dp["non-private"]["Δ vs non-private"] == 0
    assert records["delta"] == pytest.approx(0.1 / records["n_members"])
    assert 0 <= records["fed_auc"][0] <= 1 and len(records["fed_rounds"]) >= 1
    assert records["fed_ndcg"][0] == pytest.approx(records["fed_rounds"][-1])
    # integrated gradients are complete; attributions and the deletion test are well formed
    assert records["ig_error_median"] < 1e-3 * max(1.0, abs(records["score_median"]))
    assert 0 < records["time_share"][0] < 1
    assert -1 <= records["chosen_corr"] <= 1
    faith = {k[6:-1]: v for k, v in records.items() if k.startswith("faith[")}
    assert len(faith) == 6
    for row in faith.values():
        assert row["top − random"] == pytest.approx(row["score drop, top-k"] - row["score drop, random k"], abs=1e-6)
    for name in ("noise_ratio", "top_event_hours", "recent_deletion"):
        assert records[f"exercise:ch06_2_{name}"] is True
    leak = {k[5:-1]: v for k, v in records.items() if k.startswith("leak[")}
    assert set(leak) == {"top-10, time encoding", "top-10, no time encoding", "history items", "history time gaps",
                         "hour of the latest event"}
    for row in leak.values():
        assert 0 <= row["accuracy"] <= 1 and row["gain"] == pytest.approx(row["accuracy"] - row["majority guess"])
    assert leak["top-10, no time encoding"]["bits vs top-10, no time encoding"] == 0
    control = leak["hour of the latest event"]   # the positive control: the attacker can use a real signal
    assert _above((control["gain"], control["gain ±95% (paired)"])) and _above((control["bits per user"], control["bits ±95%"]))
    text = {int(k[5:-1]): v for k, v in records.items() if k.startswith("text[")}
    assert len(text) >= 1
    for row in text.values():
        assert -1 <= row["similarity, random"] <= 1 and -1 <= row["similarity, top-attributed"] <= 1
        assert row["top − random"] == pytest.approx(row["similarity, top-attributed"] - row["similarity, random"], abs=1e-5)
    n = records["sentences"]
    for count, lo, hi in records["audit"].values():
        assert 0 <= count <= n and lo <= count / n <= hi
    return dp, faith, leak, text


def check(records):
    assert "smoke" in records
    dp, faith, leak, text = _general(records)
    if records["smoke"]:
        assert records["n_users"] <= 150
        return
    a = lambda x, d=4: pytest.approx(x, abs=0.6 * 10 ** -d)   # at the printed rounding, loose enough for a rerun
    assert records["n_members"] == 471 and records["n_users"] == 943 and records["delta"] == pytest.approx(2.1e-4, abs=6e-6)
    np_, clip, knn = dp["non-private"], dp["clipped, no noise"], dp["item-kNN (time-decayed)"]
    e1, e4, e16 = dp["DP ε=1"], dp["DP ε=4"], dp["DP ε=16"]
    assert np_["NDCG@10"] == a(0.0495) and np_["±95%"] == a(0.0102)
    assert np_["attack AUC"] == a(0.996, 3) and np_["AUC ±95%"] == a(0.001, 3)
    assert clip["NDCG@10"] == a(0.0644) and clip["attack AUC"] == a(0.886, 3) and clip["AUC ±95%"] == a(0.010, 3)
    assert (clip["Δ vs non-private"], clip["Δ ±95% (paired)"]) == (a(0.0149), a(0.0097))
    assert _above(_pair(clip, "Δ vs non-private", "Δ ±95% (paired)"))
    for row, sigma, ndcg, auc, d, h in ((e16, 0.81, 0.0428, 0.505, -0.0067, 0.0139),
                                        (e4, 1.80, 0.0410, 0.504, -0.0085, 0.0136)):
        assert row["noise σ"] == a(sigma, 2) and row["NDCG@10"] == a(ndcg) and row["attack AUC"] == a(auc, 3)
        assert row["AUC ±95%"] == a(0.026, 3) and abs(row["attack AUC"] - 0.5) <= row["AUC ±95%"]  # at chance
        assert (row["Δ vs non-private"], row["Δ ±95% (paired)"]) == (a(d), a(h))
        assert _level(_pair(row, "Δ vs non-private", "Δ ±95% (paired)"))
        assert _below(_pair(row, "Δ vs clipped", "Δc ±95%"))
    assert (e16["Δ vs clipped"], e16["Δc ±95%"]) == (a(-0.0216), a(0.0147))
    assert (e4["Δ vs clipped"], e4["Δc ±95%"]) == (a(-0.0234), a(0.0143))
    assert e1["noise σ"] == a(5.43, 2) and e1["NDCG@10"] == a(0.0072)
    assert (e1["Δ vs non-private"], e1["Δ ±95% (paired)"]) == (a(-0.0423), a(0.0111))
    assert _below(_pair(e1, "Δ vs non-private", "Δ ±95% (paired)"))
    assert knn["NDCG@10"] == a(0.0957) and knn["±95%"] == a(0.0151)
    assert (knn["Δ vs non-private"], knn["Δ ±95% (paired)"]) == (a(0.0462), a(0.0156))
    assert all(knn["NDCG@10"] > r["NDCG@10"] for n, r in dp.items() if n != "item-kNN (time-decayed)")
    # noise costs "about a third" of the clipped model's quality at ε = 16 and 4
    assert all(0.25 < 1 - r["NDCG@10"] / clip["NDCG@10"] < 0.4 for r in (e16, e4))
    # over three training seeds (benchmarks/privacy_results.md): seed 0 is this run; ε = 16 and 4 lose for real,
    # clipping's gain is inside its interval
    bench = {k[9:-1]: v for k, v in records.items() if k.startswith("bench_dp[")}
    seeds = "per seed NDCG@10"
    for name in ("non-private", "DP ε=1", "DP ε=4", "DP ε=16", "clipped, no noise"):
        assert len(bench[name][seeds]) == 3 and bench[name][seeds][0] == a(dp[name]["NDCG@10"])
    nd, dl, au = "NDCG@10 (± seeds)", "Δ vs non-private (± seeds)", "attack AUC (± seeds)"
    assert bench["non-private"][nd] == [a(0.0534), a(0.0084)] and bench["non-private"][au] == [a(0.995, 3), a(0.003, 3)]
    for name, m, d in (("DP ε=16", [0.0431, 0.0032], [-0.0103, 0.0079]), ("DP ε=4", [0.0419, 0.0035], [-0.0115, 0.0078])):
        assert bench[name][nd] == [a(x) for x in m] and bench[name][dl] == [a(x) for x in d] and _below(bench[name][dl])
        assert 0.15 < -d[0] / bench["non-private"][nd][0] < 0.25   # "about a fifth"
    assert bench["DP ε=1"][dl] == [a(-0.0401), a(0.0126)] and _below(bench["DP ε=1"][dl])
    assert bench["clipped, no noise"][dl] == [a(0.0109), a(0.0112)] and _level(bench["clipped, no noise"][dl])
    assert bench["clipped, no noise"][au] == [a(0.882, 3), a(0.009, 3)]
    assert [bench[f"DP ε={e}"][au][0] for e in (1, 4, 16)] == [a(0.512, 3), a(0.505, 3), a(0.505, 3)]
    # FedAvg
    assert records["fed_ndcg"] == [a(0.0502), a(0.0107)] and records["fed_gap"] == [a(0.0006), a(0.0136)]
    assert _level(records["fed_gap"])
    assert records["fed_rounds"][0] == a(0.014, 3) and records["fed_rounds"][-1] > records["fed_rounds"][-2]
    assert records["fed_auc"] == [a(0.561, 3), a(0.024, 3)] and _above([records["fed_auc"][0] - 0.5, records["fed_auc"][1]])
    # interpretability
    assert records["explained_users"] == 300 and records["score_median"] == a(5.66, 2)
    assert records["ig_error_median"] < 1e-5   # quoted as "to within 6·10⁻⁷": float precision
    assert records["time_share"] == [a(0.225, 3), a(0.009, 3)]
    assert records["chosen_user"] == 2 and records["chosen_corr"] == a(-0.16, 2)
    ig = {k: faith[f"{k},integrated gradients"] for k in (1, 3, 5)}
    att = {k: faith[f"{k},attention"] for k in (1, 3, 5)}
    assert ig[1]["score drop, top-k"] == a(0.426, 3) and ig[1]["score drop, random k"] == a(0.308, 3)
    for k, d, h in ((1, 0.119, 0.037), (3, 0.209, 0.046), (5, 0.357, 0.063)):
        assert (ig[k]["top − random"], ig[k]["paired ±95%"]) == (a(d, 3), a(h, 3))
        assert _above((ig[k]["top − random"], ig[k]["paired ±95%"]))          # the faithfulness bar
    for k, d, h in ((1, -0.008, 0.037), (3, -0.059, 0.040), (5, -0.048, 0.063)):
        assert (att[k]["top − random"], att[k]["paired ±95%"]) == (a(d, 3), a(h, 3))
    assert _level((att[1]["top − random"], att[1]["paired ±95%"])) and _level((att[5]["top − random"], att[5]["paired ±95%"]))
    assert _below((att[3]["top − random"], att[3]["paired ±95%"]))
    assert math.isfinite(records["chosen_corr"])
    # what the time features leak (quoted at the printed rounding)
    t, nt, hist, gaps, ctl = (leak[k] for k in ("top-10, time encoding", "top-10, no time encoding", "history items",
                                                "history time gaps", "hour of the latest event"))
    assert t["majority guess"] == a(0.413, 3) and t["accuracy"] == a(0.4125) and nt["accuracy"] == a(0.4125)
    assert (t["gain"], t["gain ±95% (paired)"]) == (a(0.0), a(0.0)) and (t["bits per user"], t["bits ±95%"]) == (a(0.0), a(0.0001))
    assert (nt["bits per user"], nt["bits ±95%"]) == (a(-0.0004), a(0.0025))
    assert (t["bits vs top-10, no time encoding"], t["±95% (paired)"]) == (a(0.0004), a(0.0024))
    assert _level((t["bits vs top-10, no time encoding"], t["±95% (paired)"]))
    assert (hist["gain"], hist["gain ±95% (paired)"]) == (a(0.0), a(0.0029))
    assert (hist["bits per user"], hist["bits ±95%"]) == (a(0.0001), a(0.0039))
    assert (gaps["bits per user"], gaps["bits ±95%"]) == (a(-0.0028), a(0.0025)) and _below((gaps["bits per user"], gaps["bits ±95%"]))
    assert ctl["accuracy"] == a(0.777, 3) and (ctl["gain"], ctl["gain ±95% (paired)"]) == (a(0.365, 3), a(0.040, 3))
    assert (ctl["bits per user"], ctl["bits ±95%"]) == (a(0.80, 2), a(0.08, 2))
    # text neighbours
    assert text[1]["similarity, top-attributed"] == a(0.389, 3) and text[1]["similarity, random"] == a(0.350, 3)
    for k, d, h in ((1, 0.039, 0.017), (3, 0.019, 0.009), (5, 0.012, 0.007)):
        assert (text[k]["top − random"], text[k]["±95% (paired)"]) == (a(d, 3), a(h, 3))
        assert _above((text[k]["top − random"], text[k]["±95% (paired)"]))
    drop = {k: (text[k]["deleting text neighbours: drop − random drop"], text[k]["±95% (paired) "]) for k in (1, 3, 5)}
    assert drop[1] == (a(0.008, 3), a(0.030, 3)) and drop[3] == (a(0.013, 3), a(0.035, 3)) and drop[5] == (a(0.063, 3), a(0.051, 3))
    assert _level(drop[1]) and _level(drop[3]) and _above(drop[5]) and drop[5][0] < ig[5]["top − random"]
    # SmolLM2's sentences
    assert records["sentences"] == 12
    audit = records["audit"]
    assert audit["names recommended"] == [8, a(0.39, 2), a(0.86, 2)] and audit["names attributed"] == [11, a(0.65, 2), a(0.99, 2)]
    assert audit["names a film it was not given"] == [0, 0.0, a(0.24, 2)]
