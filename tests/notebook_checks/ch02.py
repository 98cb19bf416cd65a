"""Chapter 2 (LLMs in recommender systems): values a wrong implementation would not produce, and the numbers the
prose quotes.

Holds for the smoke parameters (4 re-ranked users, 2 epochs, one seed) and for the defaults; where the two differ
the check branches on ``smoke``. Benchmark figures the text quotes are read from benchmarks/llm_results.md by the
chapter and asserted here, so a rerun of the benchmark that moves them fails until the prose is updated.
"""
from __future__ import annotations

import math

import pytest


def _by(records: dict, prefix: str) -> dict:
    return {k[len(prefix) + 1:-1]: v for k, v in records.items() if k.startswith(prefix + "[")}


def _beyond(mean: float, half: float) -> bool:
    """The interval mean ± half excludes zero."""
    return half == half and abs(mean) > half


def check_benchmark_quotes(r: dict) -> None:
    """The benchmark figures the prose quotes (tables D, F, G, H of benchmarks/llm_results.md)."""
    approx = lambda xs: pytest.approx(xs, abs=1e-9)  # noqa: E731 — the file's 4-decimal figures, exactly
    assert r["bench_d[ID-only]"] == approx([0.0832, 0.0093])
    assert r["bench_d[LM-init]"] == approx([0.0964, 0.0079, 0.0131, 0.0127, 0.0076])  # "+0.0131, about 16%"
    assert 0.15 < 0.0131 / 0.0832 < 0.17
    assert _beyond(0.0131, 0.0127) and _beyond(0.0131, 0.0076)  # "beyond both its intervals"
    assert r["bench_d[gated text+ID]"] == approx([0.0834, 0.0201, 0.0001, 0.0132, 0.0073])
    f = _by(r, "bench_f_ndcg10")
    assert f["GPT-2, item tokens only"] == approx([0.0780, 0.0082])
    assert f["GPT-2 + time-gap tokens"] == approx([0.0767, 0.0056])  # time tokens below items only
    assert abs(0.0767 - 0.0780) < min(0.0056, 0.0082)  # "−0.0013, smaller than either interval over seeds"
    g = _by(r, "bench_rerank_ndcg10")
    assert g == approx({"base": 0.0975, "time": 0.0840, "time+base": 0.0877, "no_time": 0.0817,
                        "no_time+base": 0.0870})
    assert max(v for k, v in g.items() if k != "base") < g["base"]  # every LLM order below the base on 200 users
    assert g["time"] - g["no_time"] == pytest.approx(0.002, abs=5e-4)  # "0.002 above it in the benchmark"
    # "a difference of 0.010-0.016": the smallest and largest gaps below the base order
    assert g["base"] - max(v for k, v in g.items() if k != "base") == approx(0.0098)
    assert g["base"] - min(g.values()) == approx(0.0158)
    h = _by(r, "bench_h")
    assert h["ID-only"]["all NDCG@10"][0] == approx(0.0153) and h["LM-init"]["all NDCG@10"][0] == approx(0.0271)
    assert h["LM-init"]["Δ all vs ID-only (± seeds / ± users)"] == approx([0.0118, 0.0051, 0.0025])
    assert h["LM-init"]["Δ tail vs ID-only (± seeds / ± users)"] == approx([0.0, 0.0008, 0.0011])
    assert 0.7 < 0.0118 / 0.0153 < 0.8  # "raises it by about three quarters"
    e = _by(r, "bench_e")  # table E: the gated hybrids never put a held-out item in their top 10
    assert e["gated text+ID"]["cold HR@10"] == approx([0.0, 0.0]) and e["ID twin"]["cold HR@10"] == approx([0.0, 0.0])
    assert e["text only"]["cold HR@10"] == approx([0.0648, 0.1213]) and e["gated text+ID"]["cold AUC"] == approx([0.832])
    warm = {m: e[m]["warm NDCG@10"][0] for m in e}  # gated highest warm accuracy; text only below the ID twin
    assert max(warm, key=warm.get) == "gated text+ID" and warm["text only"] < warm["ID twin"]
    assert max(e, key=lambda m: e[m]["cold AUC"][0]) == "gated text+ID"
    gated = h["gated + ID dropout"]
    assert gated["tail NDCG@10"][0] == approx(0.0073) and h["ID-only"]["tail NDCG@10"][0] == approx(0.0017)
    assert gated["Δ tail vs ID-only (± seeds / ± users)"] == approx([0.0056, 0.0051, 0.0023])
    assert gated["Δ all vs ID-only (± seeds / ± users)"] == approx([0.0040, 0.0109, 0.0019])


def check(r: dict) -> None:
    smoke = r["smoke"]
    check_benchmark_quotes(r)
    pop = r["pop_test_ndcg10"]
    knn = r["knn_name"]
    assert knn.startswith("item-kNN, time-decayed (h = ")
    base_nd, base_hr = _by(r, "baseline_ndcg10"), _by(r, "baseline_hr10")
    assert all(0 <= base_nd[b] <= base_hr[b] <= 1 for b in base_nd)
    if not smoke:  # the smoke run sees 150 users; the full split's anchors (chapters 1 and 4.1) are fixed
        assert abs(pop - 0.0449) < 1e-3 and abs(r["pop_test_hr10"] - 0.0859) < 1e-3
        assert knn == "item-kNN, time-decayed (h = 10 s)"
        assert base_nd[knn] == pytest.approx(0.1074, abs=5e-4) and base_hr[knn] == pytest.approx(0.1919, abs=5e-4)
        assert base_nd["recent popularity (30 d window)"] == pytest.approx(0.0468, abs=5e-4)

    # hybrid: the item table that starts from (or is fused with) MiniLM text beats popularity even after two
    # epochs; a model whose text part were ignored or mis-aligned with the item ids would not
    hyb = _by(r, "hybrid_ndcg10")
    assert {"ID-only", "LM-init", "gated text+ID", knn} <= set(hyb)
    assert hyb[knn] == pytest.approx(base_nd[knn])
    if smoke:
        assert r["sasrec_lminit_test_ndcg10"] == pytest.approx(hyb["LM-init"])  # one seed: the same run
    else:
        assert hyb["LM-init"] > pop and hyb["gated text+ID"] > pop
        assert hyb["ID-only"] > pop  # trained to convergence, plain SASRec beats popularity too
    for v in ("LM-init", "gated text+ID", knn):
        d, d_seeds, d_users = r[f"hybrid_delta[{v}]"]
        assert d == pytest.approx(hyb[v] - hyb["ID-only"], abs=1e-9) and d_users > 0
        assert (d_seeds is None or math.isnan(d_seeds)) if smoke else d_seeds > 0
    assert _by(r, "delta_ndcg10").keys()  # the breakdown ran
    lm_knn = r["lminit_minus_knn"]
    assert lm_knn[0] == pytest.approx(hyb["LM-init"] - hyb[knn], abs=1e-9)
    if not smoke:  # the prose (c24, summary): the printed 4-decimal figures and the interval relations they state
        a4 = lambda x: pytest.approx(x, abs=5e-5)  # noqa: E731 — printed to 4 decimals
        assert hyb["ID-only"] == a4(0.0888) and hyb["LM-init"] == a4(0.0976) and hyb[knn] == a4(0.1074)
        assert max(hyb, key=hyb.get) == knn  # "the highest NDCG@10 of the table"
        d, d_seeds, d_users = r["hybrid_delta[LM-init]"]
        assert [d, d_seeds, d_users] == a4([0.0087, 0.0611, 0.0084])
        assert d > 0 and _beyond(d, d_users) and not _beyond(d, d_seeds)  # beyond the users' interval only
        g = r["hybrid_delta[gated text+ID]"]
        assert g == a4([0.0008, 0.0003, 0.0087]) and not _beyond(g[0], g[2])  # "level with the twin"
        k = r[f"hybrid_delta[{knn}]"]
        assert k == a4([0.0186, 0.0306, 0.0163]) and _beyond(k[0], k[2]) and not _beyond(k[0], k[1])
        rp = r["hybrid_delta[recent popularity (30 d window)]"]
        assert rp[0] == a4(-0.0421) and rp[0] < 0 and _beyond(rp[0], rp[1]) and _beyond(rp[0], rp[2])
        assert lm_knn == a4([-0.0098, 0.0305, 0.0157])  # LM-init below the kNN, inside both intervals
        assert lm_knn[0] < 0 and not _beyond(lm_knn[0], lm_knn[1]) and not _beyond(lm_knn[0], lm_knn[2])
        # the breakdown: of the 14 non-cold group differences exactly two lie beyond their users' interval
        dn, dci = _by(r, "delta_ndcg10"), _by(r, "delta_ndcg10_ci_users")
        beyond = {k for k in dci if not k.endswith("[cold") and _beyond(dn[k], dci[k])}
        assert len([k for k in dci if not k.endswith("[cold")]) == 14
        assert beyond == {"LM-init][>150", "gated text+ID][torso"}
        assert [dn["LM-init][>150"], dci["LM-init][>150"]] == a4([0.0150, 0.0145])
        assert [dn["gated text+ID][torso"], dci["gated text+ID][torso"]] == a4([0.0127, 0.0107])
        assert [dn["LM-init][tail"], dci["LM-init][tail"]] == a4([-0.0015, 0.0187])
        assert [dn["gated text+ID][tail"], dci["gated text+ID][tail"]] == a4([-0.0072, 0.0145])

    # re-ranking: every order is a permutation of the same candidates; re-ordering the top-N cannot change
    # whether the target is among them, so no order's HR@10 exceeds the share of targets inside the top-N,
    # and the base order's HR@10 equals the full ranking's HR@10 on the same users
    assert r["rerank_permutations_ok"] is True
    assert r["rerank_users"] >= 2
    assert set(r["rerank_seconds_per_user"]) == {"base", "time", "no_time"}
    nd, hr = _by(r, "rerank_ndcg10"), _by(r, "rerank_hr10")
    assert set(nd) == set(hr) == {"base", "time", "no_time", "time+base", "no_time+base"}
    assert all(0.0 <= v <= h + 1e-12 for v, h in zip(nd.values(), hr.values()))  # NDCG@10 <= HR@10 per order
    assert max(hr.values()) <= r["rerank_in_candidates"] + 1e-12
    assert abs(hr["base"] - r["rerank_base_full_hr10"]) < 1e-12
    deltas = _by(r, "rerank_delta")
    assert deltas["base"][0] == 0
    for order, (d, half) in deltas.items():
        assert d == pytest.approx(nd[order] - nd["base"], abs=1e-9)
        if not smoke and order != "base":  # "every LLM order below SASRec's, every Δ inside its interval (±0.07-0.11)"
            assert d < 0 and abs(d) < half and 0.065 < half < 0.115
    if not smoke:
        assert r["rerank_users"] == 40 and r["rerank_in_candidates"] == pytest.approx(0.300, abs=5e-4)  # "30%"
        llm = {o: v[0] for o, v in deltas.items() if o != "base"}  # "from −0.059 (Borda, no dates) to −0.105"
        assert max(llm, key=llm.get) == "no_time+base" and llm["no_time+base"] == pytest.approx(-0.059, abs=5e-4)
        assert min(llm, key=llm.get) == "time" and llm["time"] == pytest.approx(-0.105, abs=5e-4)
        assert nd["time"] - nd["no_time"] == pytest.approx(-0.011, abs=5e-4)  # "0.011 below the one without"

    # time-sensitivity labels: a proper distribution over the three labels, from the real LM; the raw answers
    # collapse onto one label, batch calibration spreads them (each label's mean probability is equalised)
    assert r["label_probs_ok"] is True
    counts = r["lm_label_counts"]
    assert set(counts) <= {"seasonal", "event-driven", "evergreen"} and sum(counts.values()) >= 2
    assert sum(counts.values()) == sum(r["lm_raw_label_counts"].values())
    assert len(counts) >= 2
    assert all(x < 1.2 for x in r["holiday_title_lifts"])  # MovieLens ratings do not show the holidays
    if not smoke:
        assert len(r["lm_raw_label_counts"]) == 1  # "every movie the same label"
        rho, p = r["label_rho[MiniLM][first_year_share]"]
        assert rho == pytest.approx(-0.26, abs=5e-3) and p == pytest.approx(0.12, abs=5e-3)  # "ρ about −0.26, p = 0.12"
        rho, p = r["label_rho[MiniLM][age_median]"]
        assert rho == pytest.approx(0.12, abs=5e-3) and p == pytest.approx(0.37, abs=5e-3)  # "ρ about +0.12, p = 0.37"
        assert len(r["label_rho[MiniLM][first_year_share]"]) == 2 and len(_by(r, "label_rho")) == 6  # "one of six"
        for measure in ("age_median", "first_year_share"):
            assert r[f"label_rho[SmolLM2][{measure}]"][1] > 0.2  # "p-values far above 0.05"

    # transfer: held-out items never in training; through text they are found far above chance
    assert r["cold_items_in_train"] == 0
    assert r["cold_n_queries"] >= 1
    cold, auc = _by(r, "cold_hr10"), _by(r, "cold_auc")
    rand = r["cold_random_hr10"]
    assert all(0 <= v <= 1 for v in list(cold.values()) + list(auc.values())) and 0 < rand < 1
    if not smoke:  # "about ten times more often than chance", "never in the top-10" for the gated hybrids
        assert r["cold_n_queries"] >= 30
        assert 10 / 1682 <= rand < 0.01  # k / (items not yet seen), averaged over the cold queries
        assert cold["ID twin"] < cold["text only"] and cold["ID twin"] <= 0.02  # an untrained ID vector rarely ranks
        assert cold["text only"] > 3 * rand
        # AUC over all candidates is steadier than HR@10 on ~100 queries: through text the unseen items rank high
        assert auc["text only"] > 0.65 and auc["MiniLM similarity (no training)"] > 0.6
        assert auc["gated + ID dropout"] > 0.65
        assert 9 < cold["text only"] / rand < 11  # "about ten times"
        warm = _by(r, "warm_ndcg10")
        assert max(warm, key=warm.get) == "gated + ID dropout" and warm["text only"] < warm["ID twin"]
        assert max(auc, key=auc.get) == "gated + ID dropout"  # "higher than any other model by AUC"
        assert cold["MiniLM similarity (no training)"] - r["cold_hr10_ci[MiniLM similarity (no training)]"] < rand
        assert cold["text only"] - r["cold_hr10_ci[text only]"] > rand
        assert cold["gated + ID dropout"] == 0

    # the tail on ML latest-small split by time: every test event is a query, so thousands of targets are tail
    # (<= 10 training events) or cold (none); an ID-only model cannot rank a cold item it never trained on
    n = _by(r, "ls_n")
    assert n["all"] == sum(n.get(g, 0) for g in ("head", "torso", "tail", "cold"))
    ls_nd = _by(r, "ls_ndcg10")
    if not smoke:  # the smoke run sees 60 users
        assert n["tail"] > 1000 and n["cold"] > 1000
        assert ls_nd["ID-only][cold"] < 0.002
    assert r["ls_knn_name"].startswith("item-kNN, time-decayed (h = ")
    for v in ("LM-init", "gated + ID dropout", r["ls_knn_name"]):
        assert abs(r[f"ls_delta_ndcg10[{v}][tail]"] - (ls_nd[f"{v}][tail"] - ls_nd["ID-only][tail"])) < 1e-9
        half = r[f"ls_delta_ci_users[{v}][tail]"]  # a real (clustered) interval, 0 only if nothing differs
        assert half > 0 or (smoke and half == 0 and r[f"ls_delta_ndcg10[{v}][tail]"] == 0)
    if not smoke:  # c30: the printed 4-decimal figures and the interval relations they state (one seed)
        a4 = lambda x: pytest.approx(x, abs=5e-5)  # noqa: E731
        kn = r["ls_knn_name"]
        assert kn == "item-kNN, time-decayed (h = 1 min)" and n["tail"] > 2000 and n["cold"] > n["tail"]
        dl = lambda v, g: [r[f"ls_delta_ndcg10[{v}][{g}]"], r[f"ls_delta_ci_users[{v}][{g}]"]]  # noqa: E731
        assert ls_nd["LM-init][all"] == a4(0.0277) and ls_nd["ID-only][all"] == a4(0.0119)
        assert 2 < ls_nd["LM-init][all"] / ls_nd["ID-only][all"] < 2.5  # "more than doubles"
        for v, g, want in [("LM-init", "all", [0.0159, 0.0037]), ("LM-init", "head", [0.0693, 0.0186]),
                           ("LM-init", "torso", [0.0166, 0.0051]), ("LM-init", "tail", [0.0017, 0.0015]),
                           ("gated + ID dropout", "tail", [0.0070, 0.0032]),
                           ("gated + ID dropout", "all", [0.0107, 0.0035]),
                           (kn, "all", [0.0222, 0.0047]), (kn, "tail", [0.0011, 0.0010])]:
            d, half = dl(v, g)
            assert [d, half] == a4(want) and d > 0 and _beyond(d, half), (v, g)
        assert ls_nd["ID-only][tail"] == 0  # "a twin that put no tail target in its top 10"
        assert ls_nd[f"{kn}][all"] == a4(0.0340) and ls_nd[f"{kn}][all"] == max(
            ls_nd[f"{v}][all"] for v in ("ID-only", "LM-init", "gated + ID dropout", kn))  # the highest overall
        assert dl("gated + ID dropout", "tail")[0] > dl(kn, "tail")[0]  # "the gated model's +0.0070 is larger"

    # generative: beats a random ranking by far (and popularity when trained with the default budget);
    # constrained decoding yields only valid, unseen, distinct items and equals the masked top-k for one step
    gen_nd, gen_hr = _by(r, "gen_ndcg10"), _by(r, "gen_hr10")
    gpt = ("GPT-2 (items only)", "GPT-2 + time tokens")
    assert gen_nd["Popularity"] == pytest.approx(pop) and gen_nd[knn] == pytest.approx(base_nd[knn])
    if not smoke:
        assert all(gen_hr[g] > 3 * r["gen_random_hr10"] for g in gpt)
        assert max(gen_nd[g] for g in gpt) > pop
        assert min(gen_nd[g] for g in gpt) > pop
        assert max(gen_nd[g] for g in gpt) < gen_nd[knn]  # "both below the time-decayed item-kNN"
    d_mean, d_half = r["gen_time_minus_items_ndcg10"]  # paired over users: its interval must be a real one
    assert abs(d_mean - (gen_nd["GPT-2 + time tokens"] - gen_nd["GPT-2 (items only)"])) < 1e-6 and 0 < d_half < 0.1
    if not smoke:
        assert not _beyond(d_mean, d_half)  # "level with the items-only one"
        assert [d_mean, d_half] == pytest.approx([-0.0016, 0.0117], abs=5e-5)
        assert gen_nd["GPT-2 (items only)"] == pytest.approx(0.0761, abs=5e-5)
        assert gen_nd["SASRec ID-only (seed 0)"] - gen_nd["GPT-2 (items only)"] == pytest.approx(0.0103, abs=1e-4)
        assert gen_nd[knn] - gen_nd["GPT-2 (items only)"] == pytest.approx(0.0313, abs=1e-4)
        assert gen_nd["GPT-2 + time tokens"] < gen_nd["GPT-2 (items only)"]  # "lower still"
    assert r["beam_valid_unseen"] is True and r["beam_equals_topk"] is True

    # the worked solutions of the exercises pass their checks
    # (the smoke run's 150 users give other answers where the check computes on all of ML-100K)
    for ex in ("gate_fusion", "gap_token") + (() if smoke else ("random_hit_rate", "pca_share", "cold_events")):
        assert r[f"exercise:ch02_{ex}"] is True
