"""Tests of tsrec.models.sequential.losses: the three losses over real target positions, by hand."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tsrec.models import sequential as S


@pytest.fixture
def case():
    torch.manual_seed(0)
    model = S.SASRec(6, max_len=3, hidden=4)
    h = torch.randn(2, 3, 4)
    targets = torch.tensor([[0, 2, 5], [1, 3, 6]])
    return model, h, targets


def test_cross_entropy_loss_is_full_softmax_over_real_items(case):
    model, h, targets = case
    got = S.sequence_loss(model, h, targets, "ce", 0, torch.Generator())
    keep = targets > 0
    logits = h[keep] @ model.item_emb.weight[1:].T
    torch.testing.assert_close(got, F.cross_entropy(logits, targets[keep] - 1))


def test_bce_contrasts_each_target_with_its_sampled_negatives(case):
    model, h, targets = case
    got = S.sequence_loss(model, h, targets, "bce", 2, torch.Generator().manual_seed(5))
    keep = targets > 0
    hh, y, w = h[keep], targets[keep], model.item_emb.weight
    neg = torch.randint(1, 7, (len(y), 2), generator=torch.Generator().manual_seed(5))
    pos = (hh * w[y]).sum(-1)
    negl = (hh.unsqueeze(1) * w[neg]).sum(-1)
    want = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos)) + F.binary_cross_entropy_with_logits(
        negl, torch.zeros_like(negl))
    torch.testing.assert_close(got, want)


def test_sampled_softmax_never_counts_the_target_as_its_own_negative(case):
    model, h, _ = case
    w, hh, target = model.item_emb.weight, h[:1], torch.tensor([[0, 0, 2]])
    # seed 1 draws item 2, the target itself: masked, the softmax has the target alone and the loss is 0
    assert torch.randint(1, 7, (1,), generator=torch.Generator().manual_seed(1)).item() == 2
    same = S.sequence_loss(model, hh, target, "sampled_softmax", 1, torch.Generator().manual_seed(1))
    assert float(same.detach()) == 0.0
    # seed 0 draws item 3: a two-way softmax of the target against it
    assert torch.randint(1, 7, (1,), generator=torch.Generator().manual_seed(0)).item() == 3
    other = S.sequence_loss(model, hh, target, "sampled_softmax", 1, torch.Generator().manual_seed(0))
    logits = torch.stack([h[0, 2] @ w[2], h[0, 2] @ w[3]])
    torch.testing.assert_close(other, F.cross_entropy(logits[None], torch.zeros(1, dtype=torch.long)))
    with pytest.raises(ValueError, match="loss must be one of"):
        S.sequence_loss(model, h, target.expand(2, 3), "hinge", 1, torch.Generator())
    assert set(S.DEFAULT_NEGATIVES) == set(S.LOSSES)
