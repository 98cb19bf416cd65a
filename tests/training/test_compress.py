"""Tests of tsrec.training.compress: counts and sizes, int8, pruning, low rank, distillation, the timers.

No test compares two timings: the timers are checked for their shape and sums, never for which is faster.
"""
from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tsrec.config import seed_everything
from tsrec.evaluate import evaluate
from tsrec.models import sequential as S
from tsrec.training import TrainConfig, train
from tsrec.training import compress as C

from .helpers import queries

CFG = TrainConfig(seed=0, epochs=2, patience=2, windows="last", progress=False, device="cpu")


@pytest.fixture(scope="module")
def model(split):
    seed_everything(0)
    m = S.SASRec(split.n_items, max_len=10, hidden=16, time_encoding="time2vec_now")
    train(m, split, CFG)
    return m


def test_parameter_count_and_file_size(model):
    assert C.n_params(model) == sum(p.numel() for p in model.parameters())
    assert C.n_params(model, nonzero=True) <= C.n_params(model)
    assert C.file_bytes(model) > 4 * C.n_params(model)      # float32 values plus the archive's own bytes


def test_int8_keeps_the_count_shrinks_the_linears_and_scores_close(model, split):
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # the library silences torch.ao's notices itself
        q = C.quantize_int8(model)
    assert not any(isinstance(m, nn.Linear) for m in q.modules())
    assert any(isinstance(m, nn.Linear) for m in model.modules())    # the original is untouched
    assert C.n_params(q) == C.n_params(model)
    assert C.file_bytes(q) < C.file_bytes(model)
    b = queries(split)
    s, s8 = model.score(b), q.score(b)
    assert torch.isinf(s8[:, 0]).all()
    assert torch.corrcoef(torch.stack([s[:, 1:].flatten(), s8[:, 1:].flatten()]))[0, 1] > 0.99


def test_magnitude_pruning_zeroes_the_smallest_weights_globally(model):
    for amount in (0.5, 0.8):
        p = C.magnitude_prune(model, amount)
        mats = [m.weight for m in p.modules() if isinstance(m, (nn.Linear, nn.Embedding))]
        total = sum(w.numel() for w in mats)
        zeros = sum(int((w == 0).sum()) for w in mats)
        assert zeros >= round(amount * total)
        kept = torch.cat([w.flatten() for w in mats])
        assert kept[kept != 0].abs().min() >= kept.abs().kthvalue(round(amount * total)).values
        assert not any(hasattr(m, "weight_mask") for m in p.modules())
        assert C.n_params(p) == C.n_params(model) and C.n_params(p, nonzero=True) < C.n_params(model)
    assert C.n_params(model, nonzero=True) > 0.99 * C.n_params(model)    # the original is untouched
    with pytest.raises(ValueError, match="amount"):
        C.magnitude_prune(model, 1.0)


def test_fine_tuning_with_masks_keeps_the_zeros(model, split):
    p = C.magnitude_prune(model, 0.8, keep_masks=True)
    zero_before = [(m.weight == 0).clone() for m in p.modules() if hasattr(m, "weight_mask")]
    train(p, split, CFG)
    C.strip_masks(p)
    zero_after = [(m.weight == 0) for m in p.modules() if isinstance(m, (nn.Linear, nn.Embedding))]
    assert all((a <= b).all() for a, b in zip(zero_before, zero_after))
    mats = sum(m.weight.numel() for m in p.modules() if isinstance(m, (nn.Linear, nn.Embedding)))
    others = C.n_params(p) - mats                                      # biases, norms: never pruned
    assert C.n_params(p, nonzero=True) <= others + round(0.2 * mats)


def test_low_rank_items_is_the_truncated_svd_and_trains(model, split):
    full = model.item_emb.weight.detach()
    lr = C.low_rank_items(model, 4)
    w = lr.item_emb.weight.detach()
    assert w.shape == full.shape and torch.linalg.matrix_rank(w) <= 4
    assert torch.allclose(w[0], torch.zeros_like(w[0]))
    u, s, vh = torch.linalg.svd(full, full_matrices=False)
    assert torch.allclose(w, (u[:, :4] * s[:4]) @ vh[:4], atol=1e-5)
    assert C.n_params(lr) == C.n_params(model) - full.numel() + 4 * (full.shape[0] + full.shape[1])
    idx = torch.tensor([[0, 1, 2]])
    assert torch.allclose(lr.item_emb(idx)[0], torch.stack([torch.zeros(16), w[1], w[2]]), atol=1e-6)
    train(lr, split, CFG)
    assert evaluate(lr, split, "test", ks=(10,))["users"] == split.n_users
    with pytest.raises(ValueError, match="rank"):
        C.low_rank_items(model, 16)


def test_distillation_loss_is_the_kl_plus_cross_entropy():
    torch.manual_seed(0)
    s, t, y = torch.randn(5, 7), torch.randn(5, 7), torch.randint(0, 7, (5,))
    assert C.distillation_loss(s, t, y, alpha=0.0) == pytest.approx(float(F.cross_entropy(s, y)))
    kl = (F.softmax(t / 2, -1) * (F.log_softmax(t / 2, -1) - F.log_softmax(s / 2, -1))).sum(-1).mean() * 4
    assert C.distillation_loss(s, t, y, temperature=2.0, alpha=1.0) == pytest.approx(float(kl), rel=1e-5)
    assert C.distillation_loss(t, t, y, alpha=1.0) == pytest.approx(0.0, abs=1e-6)


def test_distill_trains_the_student_toward_the_teacher(model, split):
    seed_everything(0)
    student = S.SASRec(split.n_items, max_len=10, hidden=8, time_encoding="time2vec_now")
    b = queries(split)
    before = F.kl_div(F.log_softmax(student.score(b)[:, 1:], -1), F.log_softmax(model.score(b)[:, 1:], -1),
                      log_target=True, reduction="batchmean")
    result = C.distill(student, model, split, TrainConfig(seed=0, epochs=4, patience=4, windows="last",
                                                            progress=False, device="cpu", lr=1e-2), alpha=1.0)
    after = F.kl_div(F.log_softmax(student.score(b)[:, 1:], -1), F.log_softmax(model.score(b)[:, 1:], -1),
                     log_target=True, reduction="batchmean")
    assert after < before and len(result.history) == 4 and "NDCG@10" in result.history
    with pytest.raises(ValueError, match="reads"):
        C.distill(S.SASRec(split.n_items, max_len=20, hidden=8), model, split, CFG)


def test_the_timers_time_each_request_and_split_it(model, split):
    b = queries(split)
    lat = C.request_latency(model, b, n=7, warmup=2)
    assert lat.shape == (7,) and (lat > 0).all()
    parts = C.time_breakdown(model, b, n=5, warmup=1)
    names = ("input window ms", "linear layers ms", "item scoring ms", "rest of the forward ms")
    assert set(parts) == {"total ms", *names}
    assert parts["linear layers ms"] > 0 and parts["item scoring ms"] > 0 and parts["input window ms"] > 0
    assert parts["total ms"] == pytest.approx(sum(parts[k] for k in names))
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())   # hooks removed
    q8 = C.quantize_int8(model)
    assert C.time_breakdown(q8, b, n=3, warmup=1)["linear layers ms"] > 0            # int8 layers are timed too
    with pytest.raises(ValueError, match="queries"):
        C.request_latency(model, b[:0], n=1)
    both = C.interleaved_latency({"fp32": model, "int8": q8}, b, n=6, rounds=3)
    assert set(both) == {"fp32", "int8"} and all(v.shape == (6,) and (v > 0).all() for v in both.values())
