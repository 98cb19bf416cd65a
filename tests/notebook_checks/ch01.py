"""Chapter 1: values a wrong data split, metric or model would not produce (smoke parameters)."""
from __future__ import annotations

import math


def check(r: dict) -> None:
    # protocol anchors (computed independently in tests/test_evaluate.py and the book's notes)
    assert round(r["pop_valid_hr10"], 4) == 0.0742
    assert round(r["pop_test_hr10"], 4) == 0.0859 and round(r["pop_test_ndcg10"], 4) == 0.0449
    assert round(r["pop_test_hr10_item_id_ties"], 4) == 0.0498
    assert 0.74 < r["tie_share"] < 0.78 and 0.40 < r["last_two_tie_share"] < 0.48
    # recommender types: collaborative filtering beats popularity, which beats genres alone
    nd = {k[len("ndcg10["):-1]: v for k, v in r.items() if k.startswith("ndcg10[")}
    assert nd["ItemKNN"] > nd["Popularity"] > nd["Content (genres)"]
    assert nd["Content (LM text)"] > nd["Content (genres)"]
    assert r["coverage10[ItemKNN]"] > 1.5 * r["coverage10[Popularity]"]
    assert nd["Hybrid"] > nd["Popularity"]
    # the book's objective beats the global mean on future ratings
    assert r["rmse_biased_mf"] < r["rmse_global_mean"] < 1.3
    # worked example: NDCG@3 of ranks (1, 5, 2)
    assert math.isclose(r["toy_ndcg3"], (1 / math.log2(3) + 1 / math.log2(4)) / 3, rel_tol=1e-6)
    # TS: one-second gaps dominate when only exact zeros are skipped; a one-minute floor caps them
    for m in ("Popularity", "ItemKNN"):
        assert r[f"ts_skip[{m}]"] > 2 * r[f"ts_floor[{m}]"] > 0
    # a real tokenizer and attention, and neighbours that make sense
    assert r["n_tokens_star_wars"] > 12 and abs(r["attention_row_sum"] - 1) < 1e-4
    assert any("Return of the Jedi" in t or "Empire Strikes Back" in t for t in r["star_wars_neighbours"])
