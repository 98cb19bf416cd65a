"""Tests of tsrec.metrics.ranking: hand-worked numbers, independent references (sklearn, brute force), one tie rule."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import ndcg_score, roc_auc_score

from tsrec.metrics import ranking as R

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


# --------------------------------------------------------------------------- R.target_ranks


def test_target_ranks_hand_example_masking_and_padding():
    # items 1..5; padding column holds a huge score that must never count.
    s = np.array([[100.0, 0.1, 0.9, 0.5, 0.5, 0.3]])
    # target 3 (0.5): others >= 0.5 are item 2 (0.9) and item 4 (0.5, tie counts against) -> rank 2
    assert R.target_ranks(s, [3], ties="pessimistic").tolist() == [2]
    # seen item 2 with the highest score is removed -> only item 4 remains ahead -> rank 1
    seen = np.zeros_like(s, dtype=bool)
    seen[0, 2] = True
    assert R.target_ranks(s, [3], seen, ties="pessimistic").tolist() == [1]
    # masking the target itself is ignored: it is still ranked (rank 1 again, not excluded)
    seen[0, 3] = True
    assert R.target_ranks(s, [3], seen, ties="pessimistic").tolist() == [1]
    # best item: nothing ahead -> rank 0
    assert R.target_ranks(s, [2], ties="pessimistic").tolist() == [0]


def test_target_ranks_ties_are_conservative():
    n = 20
    s = torch.ones(3, n + 1)
    r = R.target_ranks(s, torch.tensor([1, 7, 20]), ties="pessimistic")
    assert r.dtype == torch.long and r.tolist() == [n - 1] * 3  # not 0
    m = R.rank_metrics(r, ks=(10,))
    assert m["HR@10"] == 0.0 and m["NDCG@10"] == 0.0
    seen = torch.zeros(3, n + 1, dtype=torch.bool)
    seen[:, 2:6] = True  # 4 items masked (none is a target) -> 16 candidates
    assert R.target_ranks(s, torch.tensor([1, 7, 20]), seen, ties="pessimistic").tolist() == [15] * 3


def test_target_ranks_minus_inf_and_nan():
    s = np.array([[0.0, NEG_INF, 1.0, NEG_INF, 0.5]])
    # target 4 (0.5): only item 2 is ahead; -inf items are behind -> rank 1
    assert R.target_ranks(s, [4], ties="pessimistic").tolist() == [1]
    # target 1 (-inf): the other -inf item ties (counts against) and both finite ones are ahead -> rank 3
    assert R.target_ranks(s, [1], ties="pessimistic").tolist() == [3]
    s_nan_pad = s.copy()
    s_nan_pad[0, 0] = np.nan  # padding is ignored entirely
    assert R.target_ranks(s_nan_pad, [4], ties="pessimistic").tolist() == [1]
    s[0, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        R.target_ranks(s, [4], ties="pessimistic")


def test_target_ranks_numpy_and_torch_agree_and_match_brute_force():
    s, seen, t = _random_case(0, tie_levels=4)
    r_np = R.target_ranks(s, t, seen, ties="pessimistic")
    r_t = R.target_ranks(torch.as_tensor(s).float(), torch.as_tensor(t), torch.as_tensor(seen), ties="pessimistic")
    brute = [sum(1 for i in range(1, s.shape[1]) if i != t[u] and not seen[u, i] and s[u, i] >= s[u, t[u]])
             for u in range(len(t))]
    assert r_np.tolist() == brute == r_t.tolist()


def test_default_ties_follow_item_id_like_topk_lists():
    # constant scores: the target's rank is the number of candidates with a lower id
    s = torch.ones(2, 11)
    assert R.target_ranks(s, torch.tensor([1, 7])).tolist() == [0, 6]
    assert R.target_ranks(s, torch.tensor([7]).repeat(2), ties="optimistic").tolist() == [0, 0]
    with pytest.raises(ValueError, match="ties must be one of"):
        R.target_ranks(s, [1, 2], ties="random")
    # on heavily tied random scores, a target's rank is its position in the top-k list whenever it is listed
    s, seen, t = _random_case(1, tie_levels=3)
    ranks = R.target_ranks(s, t, seen)
    top = R.topk_items(s, seen, k=s.shape[1] - 1 - int(seen.sum(1).max()))
    for u in range(len(t)):
        if seen[u, t[u]]:
            continue
        listed = top[u].tolist()
        if t[u] in listed:
            assert listed.index(int(t[u])) == int(ranks[u])


def test_the_three_tie_policies_bracket_the_id_order():
    s, seen, t = _random_case(7, b=30, tie_levels=3)
    by = {p: R.target_ranks(s, t, seen, ties=p) for p in R.TIE_POLICIES}
    assert R.TIE_POLICIES[0] == "item_id"  # the default
    assert (by["optimistic"] <= by["item_id"]).all() and (by["item_id"] <= by["pessimistic"]).all()
    assert (by["optimistic"] < by["pessimistic"]).any()  # there are ties to break
    assert torch.equal(R.target_ranks(s, t, seen), by["item_id"])


def test_ranks_and_auc_is_both_in_one_pass():
    s, seen, t = _random_case(8, b=20, tie_levels=4)
    ranks, a = R.ranks_and_auc(s, t, seen)
    assert torch.equal(ranks, R.target_ranks(s, t, seen)) and a == pytest.approx(R.auc(s, t, seen))
    pessimistic = R.target_ranks(s, t, seen, ties="pessimistic")
    assert torch.equal(R.ranks_and_auc(s, t, seen, ties="pessimistic")[0], pessimistic)


# --------------------------------------------------------------------------- R.rank_metrics


def test_rank_metrics_hand_example():
    ranks = np.array([0, 1, 4, 12])
    m = R.rank_metrics(ranks, ks=(5, 1))
    # k=5: hits for ranks 0, 1, 4 -> HR = Recall = 3/4, Precision = 0.75/5 = 0.15
    assert m["HR@5"] == m["Recall@5"] == pytest.approx(0.75)
    assert m["Precision@5"] == pytest.approx(0.15)
    # NDCG = (1/log2(2) + 1/log2(3) + 1/log2(6) + 0) / 4
    assert m["NDCG@5"] == pytest.approx((1 + 1 / math.log2(3) + 1 / math.log2(6)) / 4)
    # MRR = (1 + 1/2 + 1/5 + 0) / 4 = 0.425
    assert m["MRR@5"] == pytest.approx(0.425)
    # k=1: only rank 0 hits -> HR = NDCG = MRR = Precision = 1/4
    assert m["HR@1"] == m["NDCG@1"] == m["MRR@1"] == m["Precision@1"] == pytest.approx(0.25)
    per = R.per_user_rank_metrics(torch.tensor(ranks), 5)
    assert per["MRR@5"].tolist() == pytest.approx([1.0, 0.5, 0.2, 0.0])
    assert all(isinstance(v, float) for v in m.values())


def test_ndcg_matches_sklearn_with_masking():
    s, seen, t = _random_case(1, b=10, n=25)
    ranks = R.target_ranks(s, t, seen)
    for k in (1, 3, 10):
        ours = R.per_user_rank_metrics(ranks, k)[f"NDCG@{k}"]
        for u in range(len(t)):
            cand = [i for i in range(1, s.shape[1]) if not seen[u, i]]
            y_true = np.array([[1.0 if i == t[u] else 0.0 for i in cand]])
            ref = ndcg_score(y_true, s[u, cand][None, :], k=k)
            assert ours[u] == pytest.approx(ref, abs=1e-12), (u, k)


# --------------------------------------------------------------------------- AUC


def test_auc_hand_example():
    s = np.array([[9.0, 0.2, 0.5, 0.5, 0.9, 0.1]])
    # target 2 (0.5); negatives 1 (0.2 below), 3 (tie 0.5), 4 (above), 5 (below) -> (1 + 0.5 + 0 + 1)/4
    assert R.auc(s, [2]) == pytest.approx(2.5 / 4)
    seen = np.zeros_like(s, dtype=bool)
    seen[0, 4] = True  # drop the only better item -> (1 + 0.5 + 1)/3
    assert R.auc(s, [2], seen) == pytest.approx(2.5 / 3)
    assert R.auc(np.ones((2, 6)), [1, 5]) == pytest.approx(0.5)  # constant scores: all ties


def test_auc_matches_sklearn_per_user_with_ties_and_masking():
    s, seen, t = _random_case(2, b=15, n=20, tie_levels=5)
    refs = []
    for u in range(len(t)):
        cand = [i for i in range(1, s.shape[1]) if not seen[u, i]]
        refs.append(roc_auc_score([int(i == t[u]) for i in cand], s[u, cand]))
    assert R.auc(s, t, seen) == pytest.approx(np.mean(refs), abs=1e-12)


# --------------------------------------------------------------------------- R.topk_items


def test_topk_items_hand_example_ties_mask_and_short_rows():
    s = torch.tensor([[5.0, 0.0, 1.0, 1.0, 1.0, 2.0, 2.0]])
    # padding (5.0) excluded; 5 and 6 tie at 2.0 -> lower id first; then 2, 3, 4 at 1.0
    assert R.topk_items(s, k=4).tolist() == [[5, 6, 2, 3]]
    seen = torch.zeros_like(s, dtype=torch.bool)
    seen[0, 5] = True
    assert R.topk_items(s, seen, k=3).tolist() == [[6, 2, 3]]
    # only 2 candidates left (a -inf candidate still beats masked items) -> trailing 0
    s2 = np.array([[0.0, NEG_INF, 3.0, 1.0]])
    m2 = np.array([[False, False, False, True]])
    assert R.topk_items(s2, m2, k=3).tolist() == [[2, 1, 0]]


@pytest.mark.parametrize("tie_levels", [None, 3])
def test_topk_items_matches_brute_force(tie_levels):
    s, seen, _ = _random_case(3, b=20, n=30, tie_levels=tie_levels, p_seen=0.3)
    seen[0, 1:] = True
    seen[0, [4, 9]] = False  # a user with only 2 candidates
    s[1, 1:] = NEG_INF  # a user whose candidates are all -inf
    for k in (1, 5, 12):
        assert R.topk_items(s, seen, k).tolist() == _brute_topk(s, seen, k).tolist()
    assert R.topk_items(s, None, 7).tolist() == _brute_topk(s, None, 7).tolist()


# --------------------------------------------------------------------------- multi-target


def test_precision_recall_ndcg_hand_example():
    topk = np.array([[3, 1, 7], [2, 4, 6]])
    rel = [{1, 9}, {5}]
    m = R.precision_recall_ndcg(topk, rel)
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
    m = R.precision_recall_ndcg(torch.as_tensor(topk), rel)
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
    top = R.topk_items(s, seen, 5)
    multi = R.precision_recall_ndcg(top, [{int(x)} for x in t])
    single = R.per_user_rank_metrics(R.target_ranks(s, t, seen), 5)
    for key in ("Precision@5", "Recall@5", "NDCG@5", "HR@5", "MRR@5"):
        assert multi[key] == pytest.approx(single[key])
