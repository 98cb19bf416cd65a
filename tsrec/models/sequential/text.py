"""Item text in a sequence model (chapter 2.2): text + ID hybrids, and ID tables initialised from text.

``HybridSASRec`` is SASRec whose item table fuses a learned ID embedding with a projection of a FROZEN
text embedding (e.g. all-MiniLM-L6-v2 of each item's text) by a gate or a sum, or uses the text alone; the
same fused table is the output layer. Because the text tower maps any item text into the model's space,
items never seen in training can be scored zero-shot (transfer learning / cold start).
``text_init_table`` / ``init_from_text`` give the other classic combination, an ID table initialised from
a projection of the text embeddings.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tsrec.models.sequential.attention import SASRec

__all__ = ["FUSIONS", "FusedItemEmbedding", "HybridSASRec", "text_init_table", "init_from_text"]

FUSIONS = ("gate", "sum", "text_only", "id")
EXCLUDED_LOGIT = -1e4  # bias of items excluded from training: softmax weight e^-10000 = 0, gradient 0


def _as_table(text: np.ndarray | torch.Tensor, n_items: int) -> torch.Tensor:
    """A float32 [n_items + 1, d] tensor with a zero padding row, or ValueError."""
    t = torch.as_tensor(np.asarray(text) if not isinstance(text, torch.Tensor) else text.detach().cpu(),
                        dtype=torch.float32).clone()
    if t.ndim != 2 or t.shape[0] != n_items + 1:
        raise ValueError(f"text embeddings must be [n_items + 1 = {n_items + 1}, d], got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise ValueError("text embeddings contain NaN or inf")
    t[0] = 0.0
    return t


# ----------------------------------------------------------------------------- hybrid model
class FusedItemEmbedding(nn.Module):
    """Item table mixing a learned ID embedding with a linear projection of frozen text vectors.

    Behaves like ``nn.Embedding`` (``forward(ids)``, ``.weight``), so a sequence model's input and output
    layers share it. ``fusion``: "gate" (g * id + (1 - g) * text, g = sigmoid(W [id; text] + b) per item
    and dimension), "sum" (id + text), "text_only" (no ID embedding at all) or "id" (the ID-only twin).
    Items marked cold (``has_id`` False) have no trained ID vector: it counts as zero, so they are represented
    through their text alone, on the same scale as the others (for the gate, (1 - g) * text).
    ``id_dropout`` p: while training, each item's ID vector is zeroed with probability p per step, so the
    model also learns to rank items seen through their text alone, as a cold item will be (DropoutNet,
    Volkovs et al., NeurIPS 2017); without it a gate trained only on items with IDs learns to lean on them.
    """

    def __init__(self, n_items: int, hidden: int, text_dim: int, fusion: str = "gate", id_dropout: float = 0.0):
        super().__init__()
        if fusion not in FUSIONS:
            raise ValueError(f"fusion must be one of {FUSIONS}, got {fusion!r}")
        if not 0.0 <= id_dropout < 1.0:
            raise ValueError(f"id_dropout must be in [0, 1), got {id_dropout!r}")
        self.fusion, self.n_items, self.hidden = fusion, int(n_items), int(hidden)
        self.id_dropout = float(id_dropout) if fusion in ("gate", "sum") else 0.0
        self.id_emb = nn.Embedding(n_items + 1, hidden, padding_idx=0) if fusion != "text_only" else None
        self.text_proj = nn.Linear(text_dim, hidden) if fusion != "id" else None
        self.gate = nn.Linear(2 * hidden, hidden) if fusion == "gate" else None
        self.register_buffer("text", torch.zeros(n_items + 1, text_dim))  # frozen: never a parameter
        self.register_buffer("has_id", torch.ones(n_items + 1, dtype=torch.bool))
        self.register_buffer("excluded", torch.zeros(n_items + 1, dtype=torch.bool))

    def set_text(self, text: np.ndarray | torch.Tensor) -> None:
        """Load the frozen text vectors [n_items + 1, text_dim] (row 0 is forced to zero)."""
        t = _as_table(text, self.n_items)
        if t.shape[1] != self.text.shape[1]:
            raise ValueError(f"text_dim is {self.text.shape[1]}, got vectors of size {t.shape[1]}")
        self.text.copy_(t.to(self.text.device))

    def text_part(self) -> torch.Tensor:
        """Projected text vectors [n_items + 1, hidden] (padding row zero)."""
        return self.text_proj(self.text)

    @property
    def weight(self) -> torch.Tensor:
        """The fused table [n_items + 1, hidden]; row 0 (padding) is zero."""
        if self.fusion == "id":
            table = self.id_emb.weight
        else:
            txt = self.text_part()
            if self.fusion == "text_only":
                table = txt
            else:
                keep = self.has_id
                if self.training and self.id_dropout > 0:  # train some items as if cold, through text alone
                    keep = keep & (torch.rand(keep.shape, device=keep.device) >= self.id_dropout)
                ids = self.id_emb.weight * keep.unsqueeze(1).to(txt.dtype)  # a cold item has no ID vector: 0
                if self.fusion == "sum":
                    table = ids + txt
                else:
                    g = torch.sigmoid(self.gate(torch.cat([ids, txt], dim=-1)))
                    table = g * ids + (1.0 - g) * txt
        pad = torch.ones(table.shape[0], 1, dtype=table.dtype, device=table.device)
        pad[0] = 0.0
        return table * pad

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(ids, self.weight)


class HybridSASRec(SASRec):
    """SASRec with a ``FusedItemEmbedding`` (frozen LM text + learned IDs) shared by input and output.

    ``fusion="id"`` is the ID-only twin (plain SASRec behaviour through the same code path). Call
    ``set_text`` (or pass ``text``) before training. ``mark_cold(items)`` removes items from training
    (their logits get a -1e4 bias while training, so they are neither targets nor negatives) and sets their
    ID vectors to zero, so they are scored zero-shot through their text. ``id_dropout`` (gate and sum only):
    see ``FusedItemEmbedding``.
    """

    name = "HybridSASRec"

    def __init__(self, n_items: int, text_dim: int = 384, fusion: str = "gate", max_len: int = 200,
                 hidden: int = 64, n_blocks: int = 2, n_heads: int = 1, dropout: float = 0.2,
                 attn_dropout: float = 0.0, ffn_mult: int = 1, time_encoding: str | None = None,
                 text: np.ndarray | torch.Tensor | None = None, id_dropout: float = 0.0):
        super().__init__(n_items, max_len=max_len, hidden=hidden, n_blocks=n_blocks, n_heads=n_heads,
                         dropout=dropout, attn_dropout=attn_dropout, ffn_mult=ffn_mult, time_encoding=time_encoding)
        self.config = {"n_items": n_items, "text_dim": text_dim, "fusion": fusion, "max_len": max_len,
                       "hidden": hidden, "n_blocks": n_blocks, "n_heads": n_heads, "dropout": dropout,
                       "attn_dropout": attn_dropout, "ffn_mult": ffn_mult, "time_encoding": time_encoding,
                       "id_dropout": id_dropout}
        self.fusion = fusion
        self.item_emb = FusedItemEmbedding(n_items, hidden, text_dim, fusion, id_dropout)
        self.init_weights()
        if text is not None:
            self.set_text(text)

    def set_text(self, text: np.ndarray | torch.Tensor) -> HybridSASRec:
        """Load the frozen item text vectors [n_items + 1, text_dim]."""
        self.item_emb.set_text(text)
        return self

    def mark_cold(self, items: Sequence[int] | np.ndarray) -> HybridSASRec:
        """Treat ``items`` as unseen: excluded from the training softmax, represented by text only."""
        idx = torch.as_tensor(np.asarray(items, dtype=np.int64), device=self.item_emb.has_id.device)
        if len(idx) and (int(idx.min()) < 1 or int(idx.max()) > self.n_items):
            raise ValueError(f"cold item ids must lie in 1..{self.n_items}")
        self.item_emb.has_id[idx] = False
        self.item_emb.excluded[idx] = True
        return self

    def output_weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        w = self.item_emb.weight
        if self.training and bool(self.item_emb.excluded.any()):
            return w, self.item_emb.excluded.to(w.dtype) * EXCLUDED_LOGIT
        return w, None


# ----------------------------------------------------------------------------- LM-initialised IDs
def text_init_table(text: np.ndarray | torch.Tensor, hidden: int, method: str = "pca", std: float = 0.02,
                    seed: int = 0) -> torch.Tensor:
    """An initial ID table [n + 1, hidden] from text vectors: PCA (top ``hidden`` components of the centred
    vectors) or a Gaussian random projection, rescaled so the real rows have standard deviation ``std``."""
    t = torch.as_tensor(np.asarray(text) if not isinstance(text, torch.Tensor) else text.detach().cpu(),
                        dtype=torch.float64)
    if t.ndim != 2 or t.shape[0] < 2:
        raise ValueError(f"text must be [n_items + 1, d], got {tuple(t.shape)}")
    real = t[1:] - t[1:].mean(0, keepdim=True)
    if method == "pca":
        if hidden > min(real.shape):
            raise ValueError(f"PCA needs hidden <= min(n_items, d) = {min(real.shape)}, got {hidden}")
        _, _, vh = torch.linalg.svd(real, full_matrices=False)
        proj = real @ vh[:hidden].T
    elif method == "random":
        g = torch.Generator().manual_seed(seed)
        proj = real @ torch.randn(real.shape[1], hidden, generator=g, dtype=torch.float64)
    else:
        raise ValueError(f"method must be 'pca' or 'random', got {method!r}")
    proj = proj * (std / proj.std().clamp(min=1e-12))
    return torch.cat([torch.zeros(1, hidden, dtype=torch.float64), proj]).float()


def init_from_text(model: nn.Module, text: np.ndarray | torch.Tensor, method: str = "pca", std: float = 0.02,
                   seed: int = 0) -> torch.Tensor:
    """Overwrite a model's ID item table (``model.item_emb``, or the ID part of a fused one) with
    ``text_init_table`` and return the table; training then fine-tunes it like any embedding."""
    emb = model.item_emb
    target = emb.id_emb if isinstance(emb, FusedItemEmbedding) else emb
    if not isinstance(target, nn.Embedding):
        raise ValueError(f"{type(model).__name__} has no ID embedding table to initialise")
    table = text_init_table(text, target.embedding_dim, method=method, std=std, seed=seed)
    if table.shape[0] != target.num_embeddings:
        raise ValueError(f"text has {table.shape[0]} rows, the item table {target.num_embeddings}")
    with torch.no_grad():
        target.weight.copy_(table.to(target.weight.device))
    return table
