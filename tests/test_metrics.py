"""Tests of tsrec.metrics: hand-worked numbers, independent references (sklearn, brute force), bad inputs."""
from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from sklearn.metrics import ndcg_score, roc_auc_score

from tsrec.metrics import (
    auc,
    catalog_coverage,
    clustered_mean_ci,
    cosine_distance,
    evaluate_scores,
    intra_list_diversity,
    jaccard_distance,
    mae,
    mean_ci,
    novelty,
    per_user_rank_metrics,
    precision_recall_ndcg,
    rank_metrics,
    rmse,
    target_ranks,
    time_sensitivity,
    time_sensitivity_grouped,
    topk_items,
)

NEG_INF = float("-inf")


def _random_case(seed: int, b: int = 12, n: int = 30, tie_levels: int | None = None, p_seen: float = 0.2):
    """Random scores [b, n+1] (ints in 0..tie_levels-1 for many ties), a seen mask and unseen targets."""
    rng = np.random.default_rng(seed)
    if tie_levels:
        s = rng.integers(0, tie_levels, size=(b, n + 1)).astype(np.float64)
    else:
        s = rng.normal(size=(b, n + 1))
    seen = rng.random((b, n + 1)) < p_seen
    targets = rng.integers(1, n + 1, size=b)
    seen[np.arange(b), targets] = False
    return s, seen, targets


def _brute_topk(s: np.ndarray, seen: np.ndarray | None, k: int) -> np.ndarray:
    """Reference top-k: python sort of candidates by (score desc, id asc), 0-filled."""
    out = np.zeros((s.shape[0], k), dtype=np.int64)
    for u in range(s.shape[0]):
        cand = [i for i in range(1, s.shape[1]) if seen is None or not seen[u, i]]
        best = sorted(cand, key=lambda i: (-s[u, i], i))[:k]
        out[u, : len(best)] = best
    return out


# --------------------------------------------------------------------------- target_ranks


def test_target_ranks_hand_example_masking_and_padding():
    # items 1..5; padding column holds a huge score that must never count.
    s = np.array([[100.0, 0.1, 0.9, 0.5, 0.5, 0.3]])
    # target 3 (0.5): others >= 0.5 are item 2 (0.9) and item 4 (0.5, tie counts against) -> rank 2
    assert target_ranks(s, [3], ties="pessimistic").tolist() == [2]
    # seen item 2 with the highest score is removed -> only item 4 remains ahead -> rank 1
    seen = np.zeros_like(s, dtype=bool)
    seen[0, 2] = True
    assert target_ranks(s, [3], seen, ties="pessimistic").tolist() == [1]
    # masking the target itself is ignored: it is still ranked (rank 1 again, not excluded)
    seen[0, 3] = True
    assert target_ranks(s, [3], seen, ties="pessimistic").tolist() == [1]
    # best item: nothing ahead -> rank 0
    assert target_ranks(s, [2], ties="pessimistic").tolist() == [0]


def test_target_ranks_ties_are_conservative():
    n = 20
    s = torch.ones(3, n + 1)
    r = target_ranks(s, torch.tensor([1, 7, 20]), ties="pessimistic")
    assert r.dtype == torch.long and r.tolist() == [n - 1] * 3  # not 0
    m = rank_metrics(r, ks=(10,))
    assert m["HR@10"] == 0.0 and m["NDCG@10"] == 0.0
    seen = torch.zeros(3, n + 1, dtype=torch.bool)
    seen[:, 2:6] = True  # 4 items masked (none is a target) -> 16 candidates
    assert target_ranks(s, torch.tensor([1, 7, 20]), seen, ties="pessimistic").tolist() == [15] * 3


def test_target_ranks_minus_inf_and_nan():
    s = np.array([[0.0, NEG_INF, 1.0, NEG_INF, 0.5]])
    # target 4 (0.5): only item 2 is ahead; -inf items are behind -> rank 1
    assert target_ranks(s, [4], ties="pessimistic").tolist() == [1]
    # target 1 (-inf): the other -inf item ties (counts against) and both finite ones are ahead -> rank 3
    assert target_ranks(s, [1], ties="pessimistic").tolist() == [3]
    s_nan_pad = s.copy()
    s_nan_pad[0, 0] = np.nan  # padding is ignored entirely
    assert target_ranks(s_nan_pad, [4], ties="pessimistic").tolist() == [1]
    s[0, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        target_ranks(s, [4], ties="pessimistic")


def test_target_ranks_numpy_and_torch_agree_and_match_brute_force():
    s, seen, t = _random_case(0, tie_levels=4)
    r_np = target_ranks(s, t, seen, ties="pessimistic")
    r_t = target_ranks(torch.as_tensor(s).float(), torch.as_tensor(t), torch.as_tensor(seen), ties="pessimistic")
    brute = [sum(1 for i in range(1, s.shape[1]) if i != t[u] and not seen[u, i] and s[u, i] >= s[u, t[u]])
             for u in range(len(t))]
    assert r_np.tolist() == brute == r_t.tolist()


def test_default_ties_follow_item_id_like_topk_lists():
    # constant scores: the target's rank is the number of candidates with a lower id
    s = torch.ones(2, 11)
    assert target_ranks(s, torch.tensor([1, 7])).tolist() == [0, 6]
    assert target_ranks(s, torch.tensor([7]).repeat(2), ties="optimistic").tolist() == [0, 0]
    with pytest.raises(ValueError, match="ties must be one of"):
        target_ranks(s, [1, 2], ties="random")
    # on heavily tied random scores, a target's rank is its position in the top-k list whenever it is listed
    s, seen, t = _random_case(1, tie_levels=3)
    ranks = target_ranks(s, t, seen)
    top = topk_items(s, seen, k=s.shape[1] - 1 - int(seen.sum(1).max()))
    for u in range(len(t)):
        if seen[u, t[u]]:
            continue
        listed = top[u].tolist()
        if t[u] in listed:
            assert listed.index(int(t[u])) == int(ranks[u])


# --------------------------------------------------------------------------- rank_metrics


def test_rank_metrics_hand_example():
    ranks = np.array([0, 1, 4, 12])
    m = rank_metrics(ranks, ks=(5, 1))
    # k=5: hits for ranks 0, 1, 4 -> HR = Recall = 3/4, Precision = 0.75/5 = 0.15
    assert m["HR@5"] == m["Recall@5"] == pytest.approx(0.75)
    assert m["Precision@5"] == pytest.approx(0.15)
    # NDCG = (1/log2(2) + 1/log2(3) + 1/log2(6) + 0) / 4
    assert m["NDCG@5"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(6)) / 4)
    # MRR = (1 + 1/2 + 1/5 + 0) / 4 = 0.425
    assert m["MRR@5"] == pytest.approx(0.425)
    # k=1: only rank 0 hits -> HR = NDCG = MRR = Precision = 1/4
    assert m["HR@1"] == m["NDCG@1"] == m["MRR@1"] == m["Precision@1"] == pytest.approx(0.25)
    per = per_user_rank_metrics(torch.tensor(ranks), 5)
    assert per["MRR@5"].tolist() == pytest.approx([1.0, 0.5, 0.2, 0.0])
    assert all(isinstance(v, float) for v in m.values())


def test_ndcg_matches_sklearn_with_masking():
    s, seen, t = _random_case(1, b=10, n=25)
    ranks = target_ranks(s, t, seen)
    for k in (1, 3, 10):
        ours = per_user_rank_metrics(ranks, k)[f"NDCG@{k}"]
        for u in range(len(t)):
            cand = [i for i in range(1, s.shape[1]) if not seen[u, i]]
            y_true = np.array([[1.0 if i == t[u] else 0.0 for i in cand]])
            ref = ndcg_score(y_true, s[u, cand][None, :], k=k)
            assert ours[u] == pytest.approx(ref, abs=1e-12), (u, k)


# --------------------------------------------------------------------------- AUC


def test_auc_hand_example():
    s = np.array([[9.0, 0.2, 0.5, 0.5, 0.9, 0.1]])
    # target 2 (0.5); negatives 1 (0.2 below), 3 (tie 0.5), 4 (above), 5 (below) -> (1 + 0.5 + 0 + 1)/4
    assert auc(s, [2]) == pytest.approx(2.5 / 4)
    seen = np.zeros_like(s, dtype=bool)
    seen[0, 4] = True  # drop the only better item -> (1 + 0.5 + 1)/3
    assert auc(s, [2], seen) == pytest.approx(2.5 / 3)
    assert auc(np.ones((2, 6)), [1, 5]) == pytest.approx(0.5)  # constant scores: all ties


def test_auc_matches_sklearn_per_user_with_ties_and_masking():
    s, seen, t = _random_case(2, b=15, n=20, tie_levels=5)
    refs = []
    for u in range(len(t)):
        cand = [i for i in range(1, s.shape[1]) if not seen[u, i]]
        refs.append(roc_auc_score([int(i == t[u]) for i in cand], s[u, cand]))
    assert auc(s, t, seen) == pytest.approx(np.mean(refs), abs=1e-12)


# --------------------------------------------------------------------------- topk_items


def test_topk_items_hand_example_ties_mask_and_short_rows():
    s = torch.tensor([[5.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0]])
    # padding (5.0) excluded; 5 and 6 tie at 2.0 -> lower id first; then 2, 3, 4 at 1.0
    assert topk_items(s, k=4).tolist() == [[5, 6, 2, 3]]
    seen = torch.zeros_like(s, dtype=torch.bool)
    seen[0, 5] = True
    assert topk_items(s, seen, k=3).tolist() == [[6, 2, 3]]
    # only 2 candidates left (a -inf candidate still beats masked items) -> trailing 0
    s2 = np.array([[0.0, NEG_INF, 3.0, 1.0]])
    m2 = np.array([[False, False, False, True]])
    assert topk_items(s2, m2, k=3).tolist() == [[2, 1, 0]]


@pytest.mark.parametrize("tie_levels", [None, 3])
def test_topk_items_matches_brute_force(tie_levels):
    s, seen, _ = _random_case(3, b=20, n=30, tie_levels=tie_levels, p_seen=0.3)
    seen[0, 1:] = True
    seen[0, [4, 9]] = False  # a user with only 2 candidates
    s[1, 1:] = NEG_INF  # a user whose candidates are all -inf
    for k in (1, 5, 12):
        assert topk_items(s, seen, k).tolist() == _brute_topk(s, seen, k).tolist()
    assert topk_items(s, None, 7).tolist() == _brute_topk(s, None, 7).tolist()


# --------------------------------------------------------------------------- multi-target


def test_precision_recall_ndcg_hand_example():
    topk = np.array([[3, 1, 7], [2, 4, 6]])
    rel = [{1, 9}, {5}]
    m = precision_recall_ndcg(topk, rel)
    # user 0: one hit at position 1 -> P = 1/3, R = 1/2, DCG = 1/log2(3), IDCG = 1 + 1/log2(3), MRR = 1/2
    assert m["Precision@3"].tolist() == pytest.approx([1 / 3, 0.0])
    assert m["Recall@3"].tolist() == pytest.approx([0.5, 0.0])
    assert m["NDCG@3"][0] == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    assert m["HR@3"].tolist() == [1.0, 0.0]
    assert m["MRR@3"].tolist() == pytest.approx([0.5, 0.0])


def test_precision_recall_ndcg_matches_brute_force():
    rng = np.random.default_rng(4)
    b, k, n = 25, 6, 15
    topk = np.stack([rng.permutation(np.arange(1, n + 1))[:k] for _ in range(b)])
    topk[0, -2:] = 0  # a short list
    rel = [set(rng.choice(np.arange(1, n + 1), size=rng.integers(1, 9), replace=False).tolist()) for _ in range(b)]
    m = precision_recall_ndcg(torch.as_tensor(topk), rel)
    for u in range(b):
        hits = [int(i in rel[u]) for i in topk[u]]
        dcg = sum(h / math.log2(p + 2) for p, h in enumerate(hits))
        idcg = sum(1 / math.log2(p + 2) for p in range(min(len(rel[u]), k)))
        first = next((p for p, h in enumerate(hits) if h), None)
        assert m[f"Precision@{k}"][u] == pytest.approx(sum(hits) / k)
        assert m[f"Recall@{k}"][u] == pytest.approx(sum(hits) / len(rel[u]))
        assert m[f"NDCG@{k}"][u] == pytest.approx(dcg / idcg)
        assert m[f"HR@{k}"][u] == float(any(hits))
        assert m[f"MRR@{k}"][u] == pytest.approx(0.0 if first is None else 1 / (first + 1))


def test_multi_target_single_item_agrees_with_rank_metrics():
    s, seen, t = _random_case(5, b=10, n=20)
    top = topk_items(s, seen, 5)
    multi = precision_recall_ndcg(top, [{int(x)} for x in t])
    single = per_user_rank_metrics(target_ranks(s, t, seen), 5)
    for key in ("Precision@5", "Recall@5", "NDCG@5", "HR@5", "MRR@5"):
        assert multi[key] == pytest.approx(single[key])


# --------------------------------------------------------------------------- rating error


def test_rmse_mae_hand_example():
    # errors 1, 0, 2 -> MAE = 1, RMSE = sqrt((1 + 0 + 4)/3)
    assert mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)
    assert rmse(np.array([1, 2, 3]), torch.tensor([2.0, 2.0, 5.0])) == pytest.approx(math.sqrt(5 / 3))


# --------------------------------------------------------------------------- beyond accuracy

# Toy catalogue: items 1..6 with genres; item 5 has none; padding row 0.
GENRES = [set(), {"A"}, {"A"}, {"B"}, {"A", "B"}, set(), {"B"}]
TOY_TOPK = np.array([[1, 2, 3], [1, 3, 4], [2, 5, 0]])  # the third list has only 2 items


def test_catalog_coverage_toy():
    # distinct recommended {1,2,3,4,5} over 6 items; the 0 slot is not an item
    assert catalog_coverage(TOY_TOPK, 6) == pytest.approx(5 / 6)
    assert catalog_coverage(TOY_TOPK[:1], 6) == pytest.approx(3 / 6)


def test_novelty_toy():
    counts = np.array([0, 8, 4, 2, 1, 0, 3])  # n_users = 8
    # -log2(p): item1 p=1 -> 0, item2 1/2 -> 1, item3 1/4 -> 2, item4 1/8 -> 3, item5 count 0 -> p=1/8 -> 3
    # entries: [0,1,2] + [0,2,3] + [1,3] = 12 over 8 slots -> 1.5
    assert novelty(TOY_TOPK, counts, 8) == pytest.approx(1.5)


def test_jaccard_and_ild_toy():
    dist = jaccard_distance(GENRES)
    # d(1,2) = 0 (same {A}); d(1,3) = 1; d(1,4) = 1 - 1/2; d(2,5) = 1 ({A} vs {}); d(5,5) = 0 (both empty)
    assert dist(np.array([1, 1, 1, 2, 5]), np.array([2, 3, 4, 5, 5])).tolist() == pytest.approx([0, 1, 0.5, 1, 0])
    # list 1: (0 + 1 + 1)/3; list 2: (1 + 0.5 + 0.5)/3; list 3: one pair (2,5) = 1 -> mean (2/3 + 2/3 + 1)/3
    assert intra_list_diversity(TOY_TOPK, dist) == pytest.approx(7 / 9)
    # the same genres as a dense bool matrix and as a sparse matrix give the same distances
    mat = np.array([[g in s for g in "AB"] for s in GENRES])
    a, b = np.array([1, 1, 3, 4, 2]), np.array([4, 3, 6, 6, 5])
    ref = dist(a, b)
    assert jaccard_distance(mat)(a, b) == pytest.approx(ref)
    assert jaccard_distance(sp.csr_matrix(mat.astype(int)))(a, b) == pytest.approx(ref)


def test_cosine_distance_and_ild():
    emb = np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1]], dtype=float)
    dist = cosine_distance(emb)
    c = 1 - 1 / math.sqrt(2)
    # d(1,2) = 0 (parallel); d(1,3) = 1 (orthogonal); d(1,4) = d(3,4) = 1 - cos 45°
    assert dist(np.array([1, 1, 1, 3]), np.array([2, 3, 4, 4])) == pytest.approx([0, 1, c, c])
    # list [1,3,4]: pairs (1,3), (1,4), (3,4) -> (1 + 2c)/3; list [1,2,0]: (1,2) only -> 0
    assert intra_list_diversity(np.array([[1, 3, 4], [1, 2, 0]]), dist) == pytest.approx(((1 + 2 * c) / 3 + 0) / 2)


# --------------------------------------------------------------------------- time sensitivity

TS_T = np.array([0.0, 2.0, 2.0, 5.0])
TS_R = np.array([1.0, 2.0, 4.0, 1.0])
# pairs: |Δr| = 1, 2, 3 over T = 2, 0, 3


def test_time_sensitivity_zero_interval_policies():
    # skip: drop the T=0 pair -> (1/2 + 3/3) / 2 = 0.75
    assert time_sensitivity(TS_R, TS_T) == pytest.approx(0.75)
    # floor at 1: (1/2 + 2/1 + 3/3) / 3 = 3.5/3
    assert time_sensitivity(TS_R, TS_T, "floor", min_interval=1.0) == pytest.approx(3.5 / 3)
    # floor at 2.5 also lifts the interval 2: (1/2.5 + 2/2.5 + 3/3) / 3 = 2.2/3
    assert time_sensitivity(TS_R, TS_T, "floor", min_interval=2.5) == pytest.approx(2.2 / 3)
    with pytest.raises(ValueError, match="index 2"):
        time_sensitivity(TS_R, TS_T, "error")
    # unit = 2 halves every interval: T = 1, 0, 1.5 -> skip: (1/1 + 3/1.5) / 2 = 1.5
    assert time_sensitivity(TS_R, TS_T, unit=2.0) == pytest.approx(1.5)
    # no zero interval: "error" and "skip" agree: (1/2 + 3/3) / 2
    assert time_sensitivity([1.0, 2.0, 5.0], [0.0, 2.0, 5.0], "error") == pytest.approx(0.75)
    # datetimes are read in seconds: Δr = 2 over 4 s
    days = np.array(["2024-01-01T00:00:00", "2024-01-01T00:00:04"], dtype="datetime64[s]")
    assert time_sensitivity([0.0, 2.0], days) == pytest.approx(0.5)


def test_time_sensitivity_bad_inputs():
    with pytest.raises(ValueError, match="NaN"):
        time_sensitivity([1.0, np.nan, 2.0], [0, 1, 2])
    with pytest.raises(ValueError, match="NaN"):
        time_sensitivity([1.0, 2.0, 3.0], [0, np.nan, 2])
    with pytest.raises(ValueError, match="non-decreasing.*t\\[2\\]"):
        time_sensitivity([1.0, 2.0, 3.0], [0, 2, 1])
    with pytest.raises(ValueError, match="non-zero time interval"):
        time_sensitivity([1.0, 2.0, 3.0], [4, 4, 4])
    with pytest.raises(ValueError, match="zero_interval"):
        time_sensitivity(TS_R, TS_T, "ignore")
    with pytest.raises(ValueError, match="min_interval"):
        time_sensitivity(TS_R, TS_T, "floor", min_interval=0.0)
    with pytest.raises(ValueError, match="timestamps has 3"):
        time_sensitivity(TS_R, TS_T[:3])
    with pytest.raises(ValueError, match="at least 2"):
        time_sensitivity([1.0], [0.0])


def test_time_sensitivity_grouped_equals_manual():
    df = pd.DataFrame({
        "user": ["a", "b", "a", "c", "b", "a", "b", "a"],
        "t": [2.0, 10.0, 0.0, 7.0, 11.0, 2.0, 15.0, 5.0],
        "r": [2.0, 0.0, 1.0, 3.0, 2.0, 4.0, 6.0, 1.0],
    })
    # a in time order: t 0,2,2,5 r 1,2,4,1 (the TS_* example; rows 0 and 5 tie at t=2, kept in row order)
    # b: t 10,11,15 r 0,2,6 -> terms 2/1, 4/4; c: one row, no pair
    # skip: terms a: 0.5, 1; b: 2, 1 -> 4.5/4
    assert time_sensitivity_grouped(df, "user", "r", "t") == pytest.approx(4.5 / 4)
    for policy in ("skip", "floor"):
        num = den = 0.0
        for _, g in df.groupby("user"):
            g = g.sort_values("t", kind="mergesort")
            if len(g) < 2:
                continue
            dt = np.diff(g["t"].to_numpy())
            n_pairs = int((dt != 0).sum()) if policy == "skip" else len(dt)
            num += time_sensitivity(g["r"], g["t"], policy) * n_pairs
            den += n_pairs
        assert time_sensitivity_grouped(df, "user", "r", "t", policy) == pytest.approx(num / den)
    with pytest.raises(ValueError, match="group 'a', rows 0 and 5"):
        time_sensitivity_grouped(df, "user", "r", "t", "error")
    bad = df.copy()
    bad.loc[3, "t"] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        time_sensitivity_grouped(bad, "user", "r", "t")
    with pytest.raises(ValueError, match="lacks"):
        time_sensitivity_grouped(df, "item", "r", "t")


# --------------------------------------------------------------------------- confidence intervals


def test_mean_ci():
    # [1, 2, 3]: mean 2, sd 1, sem 1/sqrt(3), t_{0.975, 2} = 4.302652729749464
    m, h = mean_ci([1.0, 2.0, 3.0])
    assert m == pytest.approx(2.0) and h == pytest.approx(4.302652729749464 / math.sqrt(3))
    m1, h1 = mean_ci(np.array([0.7]))
    assert m1 == pytest.approx(0.7) and math.isnan(h1)
    assert mean_ci([1.0, 2.0, 3.0], 0.9)[1] < h  # narrower at lower confidence


def test_clustered_mean_ci():
    v = np.array([0.1, 0.5, 0.2, 0.9, 0.4])
    # one row per cluster: the ordinary t-interval
    assert clustered_mean_ci(v, np.arange(5)) == pytest.approx(mean_ci(v))
    # each user's rows copied 4 times: 20 rows but still 5 independent users, so the interval of the
    # clustered estimate stays that of 5 values, while the naive one would shrink by about half
    users = np.repeat(np.arange(5), 4)
    m, h = clustered_mean_ci(np.repeat(v, 4), users)
    assert m == pytest.approx(v.mean()) and h == pytest.approx(mean_ci(v)[1])
    assert mean_ci(np.repeat(v, 4))[1] < 0.6 * h
    # by hand: clusters {0, 1} and {2}: residual sums -0.5 and +0.5 around the mean 1, n = 3, G = 2
    m, h = clustered_mean_ci([0.5, 1.0, 1.5], ["a", "a", "b"])
    assert m == pytest.approx(1.0)
    assert h == pytest.approx(12.706204736174698 * math.sqrt(2 * (0.25 + 0.25)) / 3)
    assert math.isnan(clustered_mean_ci([1.0, 2.0], [7, 7])[1])
    with pytest.raises(ValueError, match="one label per value"):
        clustered_mean_ci([1.0, 2.0], [1])


# --------------------------------------------------------------------------- evaluate_scores


def test_evaluate_scores_equals_individual_functions():
    s, seen, t = _random_case(6, b=20, n=40, tie_levels=6)
    counts = np.random.default_rng(7).integers(0, 21, size=41)
    emb = np.random.default_rng(8).normal(size=(41, 4))
    dist = cosine_distance(emb)
    out = evaluate_scores(s, t, seen, ks=(1, 5), item_counts=counts, n_users=20, distance=dist)
    expected = rank_metrics(target_ranks(s, t, seen), ks=(1, 5))
    expected["AUC"] = auc(s, t, seen)
    for k in (1, 5):
        top = topk_items(s, seen, k)
        expected[f"coverage@{k}"] = catalog_coverage(top, 40)
        expected[f"novelty@{k}"] = novelty(top, counts, 20)
    expected["ILD@5"] = intra_list_diversity(topk_items(s, seen, 5), dist)  # no ILD@1: a 1-item list has no pair
    assert set(out) == set(expected)
    for key, value in expected.items():
        assert out[key] == pytest.approx(value), key
    assert "novelty@10" not in evaluate_scores(s, t, seen, ks=(10,))


# --------------------------------------------------------------------------- bad inputs

_S = np.zeros((2, 5))
_BAD_INPUTS = [
    (lambda: target_ranks(_S, [1, 2, 3]), "one id per user"),
    (lambda: target_ranks(_S, [0, 2]), "1..4"),
    (lambda: target_ranks(_S, [1.0, 2.0]), "integer"),
    (lambda: target_ranks(_S[0], [1]), "2-D"),
    (lambda: target_ranks(np.zeros((0, 5)), []), "empty"),
    (lambda: target_ranks(_S, [1, 2], np.zeros((2, 4), dtype=bool)), "does not match"),
    (lambda: target_ranks(_S, [1, 2], np.zeros((2, 5))), "bool"),
    (lambda: rank_metrics([0, 1], ks=(0,)), ">= 1"),
    (lambda: rank_metrics([], ks=(5,)), "empty"),
    (lambda: rank_metrics([-1, 2]), ">= 0"),
    (lambda: per_user_rank_metrics([1, 2], k=2.5), ">= 1"),
    (lambda: topk_items(_S, k=0), ">= 1"),
    (lambda: topk_items(_S, k=5), "exceeds"),
    (lambda: precision_recall_ndcg([[1, 2]], [{1}, {2}]), "2 sets but topk has 1"),
    (lambda: precision_recall_ndcg([[1, 2]], [set()]), "no relevant"),
    (lambda: precision_recall_ndcg([[1, 1]], [{1}]), "repeats"),
    (lambda: auc(_S, [1, 2], np.array([[0, 0, 1, 1, 1], [0, 0, 0, 0, 0]], dtype=bool)), "no negative"),
    (lambda: rmse([1, 2], [1, 2, 3]), "y_pred has 3"),
    (lambda: mae([1, np.nan], [1, 2]), "NaN"),
    (lambda: rmse([], []), "empty"),
    (lambda: catalog_coverage([[1, 7]], 5), "n_items"),
    (lambda: novelty([[1, 2]], [0, 3, 9], 4), "n_users"),
    (lambda: intra_list_diversity([[1], [2]], cosine_distance(np.eye(3))), "at least 2"),
    (lambda: cosine_distance(np.eye(3))(np.array([1]), np.array([5])), "0..2"),
    (lambda: mean_ci([]), "empty"),
    (lambda: mean_ci([1.0, 2.0], confidence=1.5), "confidence"),
    (lambda: evaluate_scores(_S, [1, 2], ks=(5,)), "exceeds"),
]


@pytest.mark.parametrize("call,message", _BAD_INPUTS, ids=[m for _, m in _BAD_INPUTS])
def test_bad_inputs_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
