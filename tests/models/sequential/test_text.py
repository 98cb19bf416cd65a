"""Tests of tsrec.models.sequential.text: HybridSASRec (frozen item text + learned IDs), cold items, LM-initialised
ID tables. Planted toy: users stay in one item family and the text says which family an item belongs to."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from synthetic_logs import family_log
from tsrec import splits
from tsrec.analysis import breakdown, hold_out_items, item_counts
from tsrec.evaluate import eval_queries, evaluate
from tsrec.models.sequential import FUSIONS, HybridSASRec, SASRec, init_from_text, text_init_table
from tsrec.training import load_checkpoint, save_checkpoint, train


@pytest.fixture(scope="module")
def family():
    log, text, cold = family_log()
    split = splits.leave_one_out(log)
    assert split.n_items == len(text) - 1  # every item occurs, so encoded id = raw id
    return split, text, cold


def small_model(fusion: str, text: np.ndarray, n_items: int, **kw) -> HybridSASRec:
    torch.manual_seed(0)
    return HybridSASRec(n_items, text_dim=text.shape[1], fusion=fusion, max_len=12, hidden=16, n_heads=2,
                        text=text, **kw)


@pytest.mark.parametrize("fusion", FUSIONS)
def test_fusion_shapes_and_padding(family, fusion):
    split, text, _ = family
    m = small_model(fusion, text, split.n_items)
    w, b = m.output_weights()
    assert w.shape == (split.n_items + 1, 16) and b is None
    assert torch.all(w[0] == 0)
    q, _ = eval_queries(split, "test")
    s = m.score(q[:5])
    assert s.shape == (5, split.n_items + 1) and torch.isneginf(s[:, 0]).all() and torch.isfinite(s[:, 1:]).all()
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


def test_checkpoint_round_trip_keeps_text_and_cold_items(family, tmp_path):
    split, text, cold = family
    m = small_model("sum", text, split.n_items).mark_cold(cold[:3])
    path = save_checkpoint(m, tmp_path / "hybrid.pt")
    back = load_checkpoint(path)
    q, _ = eval_queries(split, "test")
    assert isinstance(back, HybridSASRec) and torch.equal(m.score(q[:6]), back.score(q[:6]))
    assert not bool(back.item_emb.has_id[cold[0]]) and bool(back.item_emb.has_id[cold[3]])


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
    with pytest.raises(ValueError, match="cold item ids"):
        m.mark_cold([split.n_items + 1])


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
    split = splits.leave_one_out(log)
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
