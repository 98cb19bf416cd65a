"""Chapter 1: values a wrong data split, metric or model would not produce, and the numbers its prose quotes."""
from __future__ import annotations

import math


def _pair(r: dict, a: str, b: str) -> dict:
    return r[f"paired[{a}|{b}]"]


def check(r: dict) -> None:
    smoke = r.get("smoke") is True
    # the data and the protocol anchors (computed independently in tests/test_evaluate.py)
    assert r["data_shape"] == [100_000, 943, 1_682] and r["data_span"] == ["1997-09-20", "1998-04-22"]
    assert round(r["pop_valid_hr10"], 4) == 0.0742
    assert round(r["pop_test_hr10"], 4) == 0.0859 and round(r["pop_test_ndcg10"], 4) == 0.0449
    assert round(r["pop_test_hr10_item_id_ties"], 4) == 0.0498
    assert 0.74 < r["tie_share"] < 0.78 and 0.40 < r["last_two_tie_share"] < 0.48
    d, h = r["pop_tiebreak_paired_diff"]                   # "+0.036 ± 0.013": the tie-break alone is real
    assert (round(d, 3), round(h, 3)) == (0.036, 0.013) and abs(d) > h
    assert math.isclose(d, r["pop_test_hr10"] - r["pop_test_hr10_item_id_ties"], abs_tol=1e-9)

    # recommender types: point estimates in the order the table shows
    nd = {k[len("ndcg10["):-1]: v for k, v in r.items() if k.startswith("ndcg10[")}
    assert nd["ItemKNN"] > nd["Popularity"] > nd["Content (genres)"]
    assert nd["Content (LM text)"] > nd["Content (genres)"]
    assert r["coverage10[ItemKNN]"] > 1.5 * r["coverage10[Popularity]"]
    assert min(r[f"coverage10[{m}]"] for m in nd) == r["coverage10[Popularity]"]
    assert round(r["hr10[ItemKNN]"], 3) == 0.102                   # exercise 4 quotes it
    # ... and the paired intervals the prose words its claims by (same 943 users, 95%)
    p = _pair(r, "Popularity", "Content (LM text)")
    assert (round(p["dHR@10"], 3), round(p["± HR@10"], 3)) == (0.065, 0.020) and p["real"]
    assert (p["hits only a"], p["hits only b"]) == (80, 19)
    p = _pair(r, "ItemKNN", "Popularity")
    assert (round(p["dHR@10"], 3), round(p["± HR@10"], 3)) == (0.016, 0.021) and not p["real"]
    assert (p["hits only a"], p["hits only b"]) == (60, 45) and abs(p["dNDCG@10"]) < p["± NDCG@10"]
    p = _pair(r, "Hybrid", "ItemKNN")
    assert (round(p["dHR@10"], 3), round(p["± HR@10"], 3)) == (0.004, 0.009) and not p["real"]
    assert (p["hits only a"], p["hits only b"]) == (11, 7) and abs(p["dNDCG@10"]) < p["± NDCG@10"]
    assert math.isclose(p["dHR@10"], r["hr10[Hybrid]"] - r["hr10[ItemKNN]"], abs_tol=1e-9)   # 4 hits of 943
    p = _pair(r, "Content (LM text)", "Content (genres)")
    assert (round(p["dHR@10"], 3), round(p["± HR@10"], 3)) == (0.004, 0.012) and not p["real"]

    # the book's objective against the global mean on future ratings (interval clustered by user)
    assert r["rmse_biased_mf"] < r["rmse_global_mean"] < 1.3
    assert r["mf_test_ratings"] == [2_875, 22_015] and r["mf_test_users"] == 104
    if not smoke:
        assert (round(r["rmse_global_mean"], 3), round(r["rmse_biased_mf"], 3)) == (1.156, 1.101)
        assert (round(r["mae"]["global mean"], 3), round(r["mae"]["biased MF"], 3)) == (0.981, 0.864)
        g, hw = r["mf_gain_absolute_error"]
        assert (round(g, 3), round(hw, 3)) == (0.118, 0.054) and g > hw            # real
        g, hw = r["mf_gain_squared_error"]
        assert (round(g, 3), round(hw, 3)) == (0.125, 0.131) and g < hw            # not shown

    # worked example: NDCG@3 of ranks (1, 5, 2)
    assert math.isclose(r["toy_ndcg3"], (1 / math.log2(3) + 1 / math.log2(4)) / 3, rel_tol=1e-6)
    # TS: one-second gaps dominate when only exact zeros are skipped; a one-minute floor caps them, about six-fold
    for m in ("Popularity", "ItemKNN"):
        assert r[f"ts_skip[{m}]"] > 2 * r[f"ts_floor[{m}]"] > 0
        assert math.isclose(r[f"ts_skip_over_floor[{m}]"], r[f"ts_skip[{m}]"] / r[f"ts_floor[{m}]"])
        if not smoke:
            assert 5.5 < r[f"ts_skip_over_floor[{m}]"] < 6.5
    if not smoke:
        assert [round(r[k], 1) for k in ("ts_skip[Popularity]", "ts_floor[Popularity]", "ts_skip[ItemKNN]",
                                          "ts_floor[ItemKNN]")] == [49.2, 7.8, 35.5, 5.8]

    # a real tokenizer and attention, and neighbours that make sense
    assert r["n_tokens_star_wars"] == 19 and abs(r["attention_row_sum"] - 1) < 1e-4
    toks = r["star_wars_tokens"]
    assert toks[0] == "[CLS]" and toks[-1] == "[SEP]" and "sci" in toks and "fi" in toks
    f = r["encoder_facts"]
    assert (round(f["parameters"] / 1e6, 1), f["layers"], f["dim"]) == (22.7, 6, 384)
    assert any("Return of the Jedi" in t or "Empire Strikes Back" in t for t in r["star_wars_neighbours"])
    # the PCA map: 2 of 384 axes keep about a tenth of the variance; comedies at one end, drama in the middle,
    # action, crime, horror and adventure at the other
    v = r["pca_variance"]
    assert [round(x, 3) for x in v] == [0.053, 0.049] and round(sum(v), 3) == 0.102
    c = r["pca_pc1_centre"]
    side = 1 if c["Comedy"] > c["Drama"] else -1
    assert all(side * (c[g] - c["Drama"]) < 0 for g in ("Action", "Crime", "Horror", "Adventure"))
    assert side * (c["Comedy"] - c["Drama"]) > 0.1

    # the exercises' worked solutions pass their own checks
    for name in ("ndcg", "coverage", "time_sensitivity", "knn_tiebreak"):
        assert r[f"exercise:ch01_{name}"] is True, name
