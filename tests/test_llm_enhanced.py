"""Tests of the LLM-enhanced recommenders (tsrec.models.llm_enhanced, llm_generative, llm_rerank).

Tiny planted data; the real offline models (MiniLM, SmolLM2) only where the test is about them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthetic_logs import counting_log
from tsrec import prep
from tsrec.evaluate import eval_queries, evaluate
from tsrec.metrics import topk_items
from tsrec.models.base import QueryBatch, seen_mask
from tsrec.models.llm_enhanced import (
    FUSIONS,
    HybridSASRec,
    breakdown,
    cold_start_report,
    compare_runs,
    hold_out_items,
    init_from_text,
    item_counts,
    item_text_embeddings,
    popularity_groups,
    random_hit_rate,
    text_init_table,
)
from tsrec.models.llm_generative import GenerativeRecommender, ItemVocab, gap_buckets, train_generative
from tsrec.models.llm_rerank import compact_history, label_agreement, popularity_dynamics
from tsrec.models.sequential import SASRec
from tsrec.train import load_checkpoint, save_checkpoint, train

DAY = 86_400
T0 = 1_704_067_200  # 2024-01-01 00:00 UTC


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One thread: on a shared 2-core machine small ops run several times faster than with two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def family_log(n_families: int = 6, per_family: int = 10, n_users: int = 120, length: int = 12,
               seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Users stay inside one 'family' of items; item text = family one-hot + noise. The last two items of
    each family are consumed only as test targets (to be held out as cold). Returns log, text, cold ids."""
    rng = np.random.default_rng(seed)
    n_items = n_families * per_family
    fam = np.repeat(np.arange(n_families), per_family)
    text = np.zeros((n_items + 1, n_families + 2), np.float32)
    text[1:, :n_families] = np.eye(n_families)[fam]
    text[1:, n_families:] = rng.normal(0, 0.1, (n_items, 2))
    cold = np.array([f * per_family + per_family - j for f in range(n_families) for j in (0, 1)])
    rows = []
    for u in range(1, n_users + 1):
        f = u % n_families
        warm = [f * per_family + j + 1 for j in range(per_family - 2)]
        seq = list(rng.choice(warm, length - 1))
        seq.append(int(rng.choice([f * per_family + per_family - 1, f * per_family + per_family])))
        t = T0 + u * 3600 + np.cumsum(rng.integers(60, 7200, length))
        rows += [(u, int(i), int(tt)) for i, tt in zip(seq, t)]
    return pd.DataFrame(rows, columns=["user", "item", "timestamp"]), text, np.sort(cold)


@pytest.fixture(scope="module")
def family():
    log, text, cold = family_log()
    split = prep.leave_one_out(log)
    assert split.n_items == len(text) - 1  # every item occurs, so encoded id = raw id
    return split, text, cold


def small_model(fusion: str, text: np.ndarray, n_items: int, **kw) -> HybridSASRec:
    torch.manual_seed(0)
    return HybridSASRec(n_items, text_dim=text.shape[1], fusion=fusion, max_len=12, hidden=16, n_heads=2,
                        text=text, **kw)


# ----------------------------------------------------------------------------- hybrid
@pytest.mark.parametrize("fusion", FUSIONS)
def test_fusion_shapes_and_padding(family, fusion):
    split, text, _ = family
    m = small_model(fusion, text, split.n_items)
    w, b = m.output_weights()
    assert w.shape == (split.n_items + 1, 16) and b is None
    assert torch.all(w[0] == 0)
    q, _ = eval_queries(split, "test")
    s = m.score(q[:5])
    assert s.shape == (5, split.n_items + 1) and torch.isinf(s[:, 0]).all() and torch.isfinite(s[:, 1:]).all()
    assert "item_emb.text" in dict(m.named_buffers())
    assert not any(n.endswith(".text") for n, _ in m.named_parameters())  # frozen: a buffer, not a parameter


@pytest.mark.parametrize("fusion", FUSIONS)
def test_text_changes_scores_only_for_text_models(family, fusion):
    split, text, _ = family
    m = small_model(fusion, text, split.n_items)
    q, _ = eval_queries(split, "test")
    before = m.score(q[:8])
    m.set_text(np.random.default_rng(1).normal(size=text.shape).astype(np.float32))
    after = m.score(q[:8])
    if fusion == "id":
        assert torch.equal(before, after)
    else:
        assert not torch.allclose(before[:, 1:], after[:, 1:])


def test_text_is_frozen_and_id_twin_is_sasrec_shaped(family):
    split, text, _ = family
    m = small_model("gate", text, split.n_items)
    res = train(m, split, epochs=1, progress=False)
    assert np.allclose(m.item_emb.text[1:].numpy(), text[1:]) and res.best_epoch >= 1
    twin = small_model("id", text, split.n_items)
    sas = SASRec(split.n_items, max_len=12, hidden=16, n_heads=2)
    assert sum(p.numel() for p in twin.parameters()) == sum(p.numel() for p in sas.parameters())


def test_checkpoint_round_trip(family, tmp_path):
    split, text, cold = family
    m = small_model("sum", text, split.n_items).mark_cold(cold[:3])
    path = save_checkpoint(m, tmp_path / "hybrid.pt")
    back = load_checkpoint(path)
    q, _ = eval_queries(split, "test")
    assert isinstance(back, HybridSASRec) and torch.equal(m.score(q[:6]), back.score(q[:6]))
    assert not bool(back.item_emb.has_id[cold[0]])


def test_lm_init_table_equals_the_projection():
    rng = np.random.default_rng(0)
    text = np.vstack([np.zeros((1, 12)), rng.normal(size=(40, 12))]).astype(np.float32)
    table = text_init_table(text, 4, "pca", std=0.05)
    centred = text[1:] - text[1:].mean(0)
    _, _, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    proj = centred @ vt[:4].T
    proj *= 0.05 / proj.std(ddof=1)
    got = table[1:].numpy()
    signs = np.sign((got * proj).sum(0))  # singular vectors are defined up to sign
    assert np.allclose(got, proj * signs, atol=1e-5) and torch.all(table[0] == 0)
    assert abs(float(table[1:].std()) - 0.05) < 1e-6
    m = SASRec(40, max_len=8, hidden=4, n_heads=1)
    returned = init_from_text(m, text, std=0.05)
    assert torch.equal(m.item_emb.weight.data, returned)
    h = HybridSASRec(40, text_dim=12, fusion="gate", max_len=8, hidden=4, n_heads=1, text=text)
    init_from_text(h, text, std=0.05)
    assert torch.equal(h.item_emb.id_emb.weight.data, returned)
    with pytest.raises(ValueError):
        text_init_table(text, 4, "svd-ish")


# ----------------------------------------------------------------------------- cold start
def test_held_out_items_never_appear_in_training(family):
    split, _, cold = family
    held, picked = hold_out_items(split, frac=0.2, seed=3)
    assert len(picked) == round(0.2 * split.n_items)
    assert not held.train["item"].isin(picked).any()
    assert held.test.equals(split.test) and held.valid.equals(split.valid)
    assert held.info["cold_train_events_removed"] == int(split.train["item"].isin(picked).sum())
    given, ids = hold_out_items(split, items=cold)
    assert np.array_equal(ids, cold) and not given.train["item"].isin(cold).any()
    with pytest.raises(ValueError):
        hold_out_items(split, items=[split.n_items + 5])


def test_mark_cold_excludes_items_from_the_softmax(family):
    split, text, cold = family
    m = small_model("gate", text, split.n_items).mark_cold(cold)
    m.train()
    _, b = m.output_weights()
    assert b is not None and bool((b[cold] < -1e3).all()) and float(b[1:].max()) == 0.0
    before = m.item_emb.id_emb.weight[cold].detach().clone()
    held, _ = hold_out_items(split, items=cold)
    train(m, held.train, epochs=1, progress=False)  # no validation: plain training steps
    assert torch.equal(m.item_emb.id_emb.weight[cold], before)  # never a target, never a negative
    m.eval()
    assert m.output_weights()[1] is None
    emb = m.item_emb
    txt = emb.text_part()[cold]
    g = torch.sigmoid(emb.gate(torch.cat([torch.zeros_like(txt), txt], dim=-1)))
    assert torch.allclose(emb.weight[cold], (1 - g) * txt)  # no ID vector: zero in the gate's formula


def test_zero_shot_cold_items_beat_random_on_a_planted_toy(family):
    split, text, cold = family
    held, _ = hold_out_items(split, items=cold)
    m = small_model("text_only", text, split.n_items).mark_cold(cold)
    train(m, held, epochs=15, patience=15, progress=False)
    rep = cold_start_report(m, held, cold, k=5)
    assert rep["n_cold_queries"] == split.test["item"].isin(cold).sum() > 50
    assert np.isfinite(rep["cold_HR@5"]) and rep["cold_HR@5"] > 3 * rep["random_HR@5"]
    assert rep["cold_AUC"] > 0.8
    q, _ = eval_queries(held, "test")
    assert torch.isfinite(m.score(q[:10])[:, cold]).all()
    twin = small_model("id", text, split.n_items).mark_cold(cold)
    train(twin, held, epochs=15, patience=15, progress=False)
    assert rep["cold_HR@5"] > cold_start_report(twin, held, cold, k=5)["cold_HR@5"] + 0.2



def test_text_lifts_rare_items_that_ids_barely_know():
    """The tail mechanism of table H on a planted toy: each family's last two items are rare (2 training events,
    early in two histories) and are every user's test target; their text says which family they belong to. The
    gated hybrid ranks them in the top 5 for nearly everybody, the ID-only twin for a minority."""
    log, text, rare = family_log()
    extra = []
    for item in rare:
        family_users = [u for u in sorted(log["user"].unique()) if u % 6 == (item - 1) // 10][:2]
        for u in family_users:
            extra.append((u, int(item), int(log.loc[log["user"] == u, "timestamp"].min() - 10)))
    log = pd.concat([log, pd.DataFrame(extra, columns=log.columns)], ignore_index=True)
    split = prep.leave_one_out(log)
    counts = item_counts(split.train, split.n_items)
    assert (counts[rare] == 2).all()
    hr5 = {}
    for fusion, kw in (("id", {}), ("gate", {"id_dropout": 0.3})):
        m = small_model(fusion, text, split.n_items, **kw)
        train(m, split, epochs=15, patience=15, progress=False)
        _, frame = evaluate(m, split, "test", ks=(5,), per_user=True)
        table = breakdown(frame, counts, k=5)
        assert table.loc[("popularity", "tail"), "n"] == len(frame)  # every target is a tail item
        hr5[fusion] = table.loc[("popularity", "tail"), "HR@5"]
    assert hr5["gate"] > 0.8 and hr5["gate"] > hr5["id"] + 0.3

def test_id_dropout_trains_items_through_text_alone(family):
    split, text, cold = family
    m = small_model("gate", text, split.n_items, id_dropout=0.5)
    emb = m.item_emb
    m.train()
    torch.manual_seed(1)
    w = emb.weight.detach()
    txt = emb.text_part().detach()
    g0 = torch.sigmoid(emb.gate(torch.cat([torch.zeros_like(txt), txt], dim=-1))).detach()
    dropped = torch.isclose(w, (1 - g0) * txt, atol=1e-7).all(1)[1:]  # rows whose ID part was zeroed
    assert 0.25 < dropped.float().mean() < 0.75
    m.eval()
    assert not torch.isclose(emb.weight, (1 - g0) * txt, atol=1e-7).all(1)[1:].any()  # no dropout at test time
    with pytest.raises(ValueError):
        small_model("gate", text, split.n_items, id_dropout=1.0)
    assert HybridSASRec(5, text_dim=4, fusion="text_only", id_dropout=0.5).item_emb.id_dropout == 0.0


def test_random_hit_rate_matches_a_direct_count(family):
    split, _, _ = family
    q, _ = eval_queries(split, "test")
    expected = np.mean([min(1.0, 10 / (split.n_items - len(set(h.tolist())))) for h in q.items])
    assert random_hit_rate(split, "test", 10) == pytest.approx(expected)


# ----------------------------------------------------------------------------- breakdowns
def test_breakdown_groups_and_values():
    counts = np.array([0, 500, 50, 3, 0, 120])  # item 1 head, 2 torso, 3 tail, 4 cold, 5 head
    assert popularity_groups(counts).tolist()[1:] == ["head", "torso", "tail", "cold", "head"]
    frame = pd.DataFrame({"user": [1, 2, 3, 4, 5, 6], "target": [1, 5, 2, 3, 3, 4], "rank": [0, 20, 1, 0, 9, 3]})
    hist = pd.Series([5, 30, 30, 200, 5, 60], index=[1, 2, 3, 4, 5, 6])
    b = breakdown(frame, counts, hist, cold_items=[4], k=10)
    assert b.loc[("all", "all"), "n"] == 6 and b.loc[("all", "all"), "HR@10"] == pytest.approx(5 / 6)
    assert b.loc[("popularity", "head"), "HR@10"] == pytest.approx(0.5)
    assert b.loc[("popularity", "tail"), "NDCG@10"] == pytest.approx((1 + 1 / np.log2(11)) / 2)
    assert b.loc[("target", "cold"), "n"] == 1 and b.loc[("history", "1-20"), "n"] == 2
    assert b.loc[("history", ">150"), "n"] == 1
    a_runs = [frame, frame.assign(rank=[1, 20, 1, 0, 9, 3])]
    b_runs = [frame.assign(rank=0), frame.assign(rank=0)]
    c = compare_runs(a_runs, b_runs, counts, hist, k=10)
    assert c.loc[("all", "all"), "B"] == pytest.approx(1.0) and c.loc[("all", "all"), "delta"] > 0
    with pytest.raises(ValueError):
        compare_runs(a_runs, b_runs[:1], counts)


# ----------------------------------------------------------------------------- generative


@pytest.fixture(scope="module")
def counting_model():
    split = prep.leave_one_out(counting_log(n_users=60, n_items=60))
    m = GenerativeRecommender(split.n_items, max_len=12, n_embd=32, n_head=2, seed=0)
    res = train_generative(m, split, epochs=25, patience=25, lr=5e-3, progress=False)
    return split, m, res


def test_generative_model_learns_next_item_and_beats_random(counting_model):
    split, m, res = counting_model
    out = evaluate(m, split, "test", ks=(5,))
    assert out["HR@5"] > 0.8 > 3 * random_hit_rate(split, "test", 5)
    assert res.best_epoch >= 1 and len(res.history) >= res.best_epoch


def test_constrained_beam_search_yields_only_valid_unseen_items(counting_model):
    split, m, _ = counting_model
    q, _ = eval_queries(split, "test")
    q = q[:4]
    first, paths = m.recommend_beam(q, k=5, steps=3)
    for b, beams in enumerate(paths):
        seen = set(q.items[b].tolist())
        assert len(beams) == 5
        for items in beams:
            assert len(items) == 3 and len(set(items)) == 3
            assert all(1 <= i <= split.n_items and i not in seen for i in items)
    top1, _ = m.recommend_beam(q, k=5, steps=1)
    s = m.score(q)
    expected = topk_items(s, seen_mask(q, s.shape[1]), 5).numpy()
    assert all(set(a) == set(e) for a, e in zip(top1, expected))  # one step of beam search = masked top-k
    assert (top1[:, 0] == expected[:, 0]).all()


def test_time_tokens_change_the_generative_input():
    items, times = np.array([3, 7, 5]), np.array([T0, T0 + 30, T0 + 2 * DAY])
    timed = GenerativeRecommender(10, time_tokens=True, max_len=8)
    plain = GenerativeRecommender(10, time_tokens=False, max_len=8)
    a = timed.tokens(items, times, now=int(times[-1]) + 3600)
    b = timed.tokens(items, times + np.array([0, 5000, 0]), now=int(times[-1]) + 3600)
    c = timed.tokens(items, times, now=int(times[-1]) + 40 * DAY)
    assert a != b and a != c and len(a) == 2 * len(items) + 1
    assert plain.tokens(items, times, None) == plain.tokens(items, times + 999, None)
    assert gap_buckets(np.array([0, 30, 90, 4000, 100 * DAY])).tolist() == [0, 1, 2, 4, 8]
    # item tokens are a random bijection, not consecutive ids
    v = ItemVocab(200, 10, seed=0)
    tok = v.item_token[1:]
    assert sorted(tok.tolist()) == list(range(12, 212)) and not np.array_equal(tok, np.arange(12, 212))
    assert np.array_equal(v.token_item[tok], np.arange(1, 201))


def test_time_token_model_trains_and_scores():
    split = prep.leave_one_out(counting_log(n_users=20, length=8))
    m = GenerativeRecommender(split.n_items, time_tokens=True, max_len=8, n_embd=16, n_head=2, arch="llama")
    train_generative(m, split, epochs=2, progress=False)
    q, _ = eval_queries(split, "test")
    s = m.score(q[:3])
    assert s.shape == (3, split.n_items + 1) and torch.isfinite(s[:, 1:]).all()
    _, paths = m.recommend_beam(q[:2], k=3, steps=2)
    assert all(len(p) == 2 and p[0] != p[1] for beams in paths for p in beams)


# ----------------------------------------------------------------------------- LLM re-ranking and labels
def test_compact_history_keeps_dates_and_order():
    text = compact_history(["A", "B", "C"], [T0, T0 + 60, T0 + 3 * DAY], now=T0 + 5 * DAY)
    assert text.splitlines() == ["Today is Sat 2024-01-06.", "On 2024-01-01 (5 days before today):", "- A", "- B",
                                 "On 2024-01-04 (2 days before today):", "- C"]
    assert compact_history(["A", "B", "C"], with_time=False, max_items=2) == "- B\n- C"
    with pytest.raises(ValueError):
        compact_history(["A"], with_time=True)


def test_popularity_dynamics_on_planted_items():
    rng = np.random.default_rng(0)
    start, years = T0 - 3 * 365 * DAY, 3
    rows = [(1, int(start + rng.uniform(0, 60) * DAY)) for _ in range(60)]                       # burst at launch
    rows += [(2, int(start + rng.uniform(0, years * 365) * DAY)) for _ in range(60)]             # steady
    dec = [int(pd.Timestamp(f"{y}-12-{d:02d}", tz="UTC").timestamp()) for y in (2021, 2022) for d in range(1, 31)]
    rows += [(3, t) for t in dec]                                                                 # December only
    rows += [(4, int(start + rng.uniform(0, years * 365) * DAY)) for _ in range(600)]             # background
    df = pd.DataFrame(rows, columns=["item", "timestamp"]).assign(user=1)
    dyn = popularity_dynamics(df, min_events=30, horizon_days=180)
    assert dyn.loc[1, "front_load"] > 3 > dyn.loc[2, "front_load"]
    assert dyn.loc[3, "holiday_lift"] > 2 and dyn.loc[2, "holiday_lift"] < 2
    assert dyn.loc[3, "cv_monthly"] > dyn.loc[2, "cv_monthly"]
    labels = pd.DataFrame({"label": ["event-driven", "evergreen", "seasonal"]}, index=[1, 2, 3])
    agree = label_agreement(labels, dyn)
    assert agree.loc["seasonal", "n"] == 1 and agree.loc["event-driven", "front_load"] > 3


@pytest.fixture(scope="module")
def smollm():
    from tsrec.llm import GenerativeLM, no_network

    with no_network() as attempts:
        lm = GenerativeLM(device="cpu")
    assert attempts == []
    return lm


def test_llm_rerank_returns_permutations_of_the_candidates(smollm):
    from tsrec.llm import no_network
    from tsrec.models.llm_rerank import llm_rerank, rerank_metrics
    from tsrec.models.popularity import Popularity

    split = prep.leave_one_out(counting_log(n_users=12, length=6))
    titles = pd.Series({i: name for i, name in zip(range(1, split.n_items + 1),
                                                   ["Toy Story", "Heat", "Casino", "Fargo", "Babe"] * 7)})
    titles = titles + " " + titles.index.astype(str)
    pop = Popularity().fit(split.train, split.n_users, split.n_items)
    with no_network() as attempts:
        res = llm_rerank(smollm, pop, split, titles, n_users=2, n_candidates=5, max_history=3, show_progress=False)
    assert attempts == []
    assert set(res.orders) == {"base", "time", "time+base", "no_time", "no_time+base"}
    for name, per_user in res.orders.items():
        for u, order in per_user.items():
            assert sorted(order.tolist()) == sorted(res.candidates[u].tolist()), name
    assert len(res.frame) == 2 and (res.frame[["base", "time", "no_time"]] <= 5).all().all()
    assert "Today is" in res.prompts["time"] and "Today is" not in res.prompts["no_time"]
    table = rerank_metrics(res, k=3)
    assert table.loc["base", "ΔNDCG@3"] == 0.0 and set(table.index) == set(res.orders)


def test_label_time_sensitivity_with_the_real_lm(smollm):
    from tsrec.llm import TEMPORAL_LABELS
    from tsrec.models.llm_rerank import label_time_sensitivity

    out = label_time_sensitivity(smollm, pd.Series(["Jingle All the Way (1996) — Children, Comedy",
                                                    "Casablanca (1942) — Drama, Romance"], index=[7, 9]),
                                 show_progress=False)
    assert list(out.index) == [7, 9] and set(out["label"]) <= set(TEMPORAL_LABELS)
    probs = out[[f"p_{lab}" for lab in TEMPORAL_LABELS]].to_numpy()
    assert np.allclose(probs.sum(1), 1.0)
    assert (out["label"].to_numpy() == np.array(TEMPORAL_LABELS)[probs.argmax(1)]).all()
    raw = label_time_sensitivity(smollm, pd.Series(["Casablanca (1942) — Drama, Romance"]), calibrate=False,
                                 show_progress=False)
    assert raw.loc[0, "label"] == raw.loc[0, "raw_label"] == out.loc[9, "raw_label"]


class _FixedLM:
    """Stands in for GenerativeLM where only the arithmetic of calibration is under test."""

    def __init__(self, probs: dict[str, list[float]]):
        self.probs = probs

    def chat(self, text: str) -> str:
        return text

    def classify(self, prompt: str, labels):
        key = next(k for k in self.probs if k in prompt)
        p = np.asarray(self.probs[key], float)
        return labels[int(p.argmax())], p


def test_label_calibration_arithmetic():
    from tsrec.models.llm_rerank import label_time_sensitivity

    lm = _FixedLM({"film-a": [0.7, 0.2, 0.1], "film-b": [0.8, 0.05, 0.15], "film-c": [0.6, 0.3, 0.1],
                   "(title not given)": [0.9, 0.05, 0.05]})
    texts = pd.Series(["film-a", "film-b", "film-c"], index=[1, 2, 3])
    labs = ["seasonal", "event-driven", "evergreen"]
    raw = label_time_sensitivity(lm, texts, labs, calibrate=False, show_progress=False)
    assert (raw["label"] == "seasonal").all() and (raw["raw_label"] == "seasonal").all()
    batch = label_time_sensitivity(lm, texts, labs, calibrate="batch", show_progress=False)
    assert batch["label"].tolist() == ["event-driven", "evergreen", "event-driven"]  # p / column mean, argmax
    assert np.allclose(batch.filter(like="p_").sum(1), 1.0)
    null = label_time_sensitivity(lm, texts, labs, calibrate="null", show_progress=False)
    assert null["label"].tolist() == ["event-driven", "evergreen", "event-driven"]
    assert null.loc[1, "p_event-driven"] == pytest.approx((0.2 / 0.05) / (0.7 / 0.9 + 0.2 / 0.05 + 0.1 / 0.05))
    with pytest.raises(ValueError):
        label_time_sensitivity(lm, texts, labs, calibrate="prior", show_progress=False)


def test_item_text_embeddings_with_real_minilm(tmp_path):
    from tsrec.llm import TextEncoder, no_network

    items = pd.DataFrame({"item": [10, 20, 30], "title": ["Heat", "Fargo", "Babe"], "year": [1995, 1996, 1995],
                          "genres": ["Action", "Crime|Drama", "Children"]})
    log = pd.DataFrame({"user": [1, 1, 1, 2, 2, 2], "item": [30, 10, 20, 10, 20, 30],
                        "timestamp": [1, 2, 3, 4, 5, 6]})
    split = prep.leave_one_out(log, min_history=3)
    with no_network() as attempts:
        enc = TextEncoder(device="cpu", cache=tmp_path)
        E = item_text_embeddings(split, items, encoder=enc)
    assert attempts == []
    assert E.shape == (4, enc.dim) and np.all(E[0] == 0) and np.allclose(np.linalg.norm(E[1:], axis=1), 1, atol=1e-5)
    direct = enc.encode(["Heat (1995) — Action"])[0]
    assert np.allclose(E[1], direct, atol=1e-6)  # encoded id 1 = raw item 10
    assert item_counts(split.train, split.n_items).tolist() == [0, 1, 0, 1]
