"""BPR-MF (Rendle et al. 2009): matrix factorisation for implicit feedback, trained on ranked pairs.

Scores are p_u . q_i; training (``tsrec.training``) draws (user, seen item, random unseen item) triples and
minimises the BPR loss -log sigma(x_ui - x_uj) with an L2 penalty on the rows used. Defaults were chosen on
ML-100K leave-one-out validation (benchmarks/results.md).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tsrec.models.base import Scorer, check_batch_users
from tsrec.queries import QueryBatch

__all__ = ["BPRMF"]


class BPRMF(nn.Module, Scorer):
    """Matrix factorisation with the BPR loss; user and item tables ``[n + 1, dim]`` (row 0 = padding)."""

    name = "BPR-MF"

    def __init__(self, n_users: int, n_items: int, dim: int = 64, reg: float = 3e-3, init_std: float = 0.1,
                 seed: int = 0) -> None:
        nn.Module.__init__(self)
        for name, v in (("n_users", n_users), ("n_items", n_items), ("dim", dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if reg < 0:
            raise ValueError(f"reg must be >= 0, got {reg!r}")
        self.config = {"n_users": int(n_users), "n_items": int(n_items), "dim": int(dim), "reg": float(reg),
                       "init_std": float(init_std), "seed": int(seed)}
        self.n_users, self.n_items, self.dim, self.reg = int(n_users), int(n_items), int(dim), float(reg)
        g = torch.Generator().manual_seed(int(seed))
        self.user_emb = nn.Parameter(torch.randn(n_users + 1, dim, generator=g) * init_std)
        self.item_emb = nn.Parameter(torch.randn(n_items + 1, dim, generator=g) * init_std)
        self.train_config: dict = {}

    def bpr_loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        """Mean of -log sigma(p_u . (q_i - q_j)) over the triples, plus reg * the squared norms of the rows used."""
        pu, qi, qj = self.user_emb[users], self.item_emb[pos], self.item_emb[neg]
        x = (pu * (qi - qj)).sum(1)
        loss = -torch.nn.functional.logsigmoid(x).mean()
        return loss + self.reg * (pu.pow(2).sum() + qi.pow(2).sum() + qj.pow(2).sum()) / len(users)

    def score(self, batch: QueryBatch) -> torch.Tensor:
        u = check_batch_users(batch.users, self.n_users)
        with torch.no_grad():
            s = self.user_emb[torch.as_tensor(u, device=self.user_emb.device)] @ self.item_emb.T
        s = s.float().cpu()
        s[:, 0] = float("-inf")
        return s

    def extra_repr(self) -> str:
        return f"n_users={self.n_users}, n_items={self.n_items}, dim={self.dim}, reg={self.reg:g}"
