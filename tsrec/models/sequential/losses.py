"""Losses of the sequence models over every real target position: the full softmax, BCE against sampled
negatives (the book's and SASRec's original choice), or a softmax over the target and shared negatives."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from tsrec.models.sequential.base import SequentialRecommender

LOSSES = ("ce", "bce", "sampled_softmax")
DEFAULT_NEGATIVES = {"ce": 0, "bce": 1, "sampled_softmax": 100}


def sequence_loss(model: SequentialRecommender, h: torch.Tensor, targets: torch.Tensor, loss: str,
                  n_negatives: int, generator: torch.Generator) -> torch.Tensor:
    """Mean loss over real target positions (``targets > 0``) of hidden states ``h`` [B, L, D]: full cross-entropy
    over all items, BCE of the target against ``n_negatives`` uniform negatives per position, or a softmax over
    the target and ``n_negatives`` negatives shared by the batch."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    keep = targets > 0
    h, y = h[keep], targets[keep]
    w, b = model.output_weights()
    b = torch.zeros(w.shape[0], device=w.device, dtype=w.dtype) if b is None else b
    if loss == "ce":
        return F.cross_entropy(h @ w[1:].T + b[1:], y - 1)
    pos = (h * w[y]).sum(-1) + b[y]
    if loss == "bce":
        neg = torch.randint(1, model.n_items + 1, (len(y), n_negatives), generator=generator).to(y.device)
        neg_logits = (h.unsqueeze(1) * w[neg]).sum(-1) + b[neg]
        return (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
                + F.binary_cross_entropy_with_logits(neg_logits, torch.zeros_like(neg_logits)))
    neg = torch.randint(1, model.n_items + 1, (n_negatives,), generator=generator).to(y.device)
    neg_logits = (h @ w[neg].T + b[neg]).masked_fill(neg.unsqueeze(0) == y.unsqueeze(1), float("-inf"))
    logits = torch.cat([pos.unsqueeze(1), neg_logits], dim=1)
    return F.cross_entropy(logits, torch.zeros(len(y), dtype=torch.long, device=y.device))
