"""Exercise checks for chapter 6.1 (tuning and compression)."""
from __future__ import annotations

from torch import nn

from tsrec.exercises._common import _close, _prediction_note, _report


def ch06_1_linear_share(answer: float, n_items: int = 1682) -> bool:
    """Ex. 6.1.1: share of the default model's parameters in ``nn.Linear`` layers (weights and biases)."""
    from tsrec.training import tuning

    model = tuning.build(n_items, tuning.DEFAULT_PARAMS)
    linear = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters())
    expected = linear / sum(p.numel() for p in model.parameters())
    return _report(_close(answer, expected, tol=1e-4),
                   "sum p.numel() over the parameters of every nn.Linear module (qkv, out, the FFN, Time2Vec's "
                   "projection), divided by all parameters; the item and position embeddings are not Linear")


def ch06_1_quarter_rank(answer: int, n_rows: int = 1683, dim: int = 64, share: float = 0.25) -> bool:
    """Ex. 6.1.2: the largest rank whose two factors of an ``n_rows`` x ``dim`` table hold <= ``share`` of it."""
    import torch

    from tsrec.training.compress import LowRankEmbedding

    def size(r: int) -> int:
        return sum(p.numel() for p in LowRankEmbedding(torch.zeros(n_rows, r), torch.zeros(r, dim)).parameters())

    expected = max(r for r in range(1, dim) if size(r) <= share * n_rows * dim)
    return _report(_close(answer, expected, tol=0.5),
                   "r (rows + dim) parameters against rows x dim; take the largest r that stays under a quarter")


def ch06_1_item_table_pruned(answer: float, prediction: float | None, model: nn.Module, amount: float = 0.8) -> bool:
    """Ex. 6.1.3 (predict, then run): share of the item table's entries that global magnitude pruning at
    ``amount`` sets to zero in ``model``."""
    from tsrec.training.compress import magnitude_prune

    expected = float((magnitude_prune(model, amount).item_emb.weight == 0).float().mean())
    ok = _report(_close(answer, expected, tol=1e-4),
                 "magnitude_prune(teacher, 0.8), then the mean of (pruned.item_emb.weight == 0)")
    _prediction_note(prediction, expected, ".3f")
    return ok
