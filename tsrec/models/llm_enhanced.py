"""LLM-enhanced sequence recommenders (chapter 2.2): text + ID hybrids, LM-initialised embeddings, cold items.

``HybridSASRec`` is SASRec whose item table fuses a learned ID embedding with a projection of a FROZEN
text embedding (all-MiniLM-L6-v2 of ``movie_text``) by a gate or a sum, or uses the text alone; the same
fused table is the output layer. Because the text tower maps any item text into the model's space, items
never seen in training can be scored zero-shot (transfer learning / cold start): ``hold_out_items`` builds
such a split and ``cold_start_report`` measures it. ``text_init_table`` / ``init_from_text`` give the
other classic combination, an ID table initialised from a projection of the text embeddings.
``breakdown`` and ``compare_runs`` split per-user results by target popularity, history length and
coldness, with 95% intervals over users and over seeds. The generative recommender lives in
``tsrec.models.llm_generative``, LLM re-ranking and time-sensitivity labels in ``tsrec.models.llm_rerank``.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from tsrec.metrics import clustered_mean_ci, mean_ci, per_user_rank_metrics
from tsrec.models.sequential import SASRec
from tsrec.prep import Split

__all__ = [
    "FUSIONS",
    "FusedItemEmbedding",
    "HybridSASRec",
    "item_text_embeddings",
    "text_init_table",
    "init_from_text",
    "hold_out_items",
    "cold_start_report",
    "random_hit_rate",
    "item_counts",
    "popularity_groups",
    "history_lengths",
    "breakdown",
    "compare_runs",
]

FUSIONS = ("gate", "sum", "text_only", "id")
EXCLUDED_LOGIT = -1e4  # bias of items excluded from training: softmax weight e^-10000 = 0, gradient 0


# ----------------------------------------------------------------------------- item text
def item_text_embeddings(split: Split, items: pd.DataFrame, encoder=None,
                         text_fn: Callable[[pd.DataFrame], pd.Series] | None = None,
                         show_progress: bool = False) -> np.ndarray:
    """Text embeddings [n_items + 1, d] aligned with the split's encoded ids (row 0 = padding = zeros).

    ``text_fn`` turns the aligned items frame into one string per item (default ``tsrec.llm.movie_text``);
    ``encoder`` defaults to ``tsrec.llm.TextEncoder()`` (all-MiniLM-L6-v2, offline, cached on disk).
    """
    from tsrec import llm

    frame = split.items_frame(items)
    texts = (text_fn or llm.movie_text)(frame)
    enc = encoder if encoder is not None else llm.TextEncoder()
    vecs = enc.encode(texts.tolist(), show_progress=show_progress)
    return np.vstack([np.zeros((1, vecs.shape[1]), np.float32), vecs]).astype(np.float32)


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


# ----------------------------------------------------------------------------- cold start
def item_counts(interactions: pd.DataFrame, n_items: int) -> np.ndarray:
    """Training events per encoded item id, length n_items + 1 (index 0 = padding = 0)."""
    return np.bincount(interactions["item"].to_numpy(), minlength=n_items + 1)


def hold_out_items(split: Split, frac: float = 0.05, weighting: str = "popularity", seed: int = 0,
                   items: Sequence[int] | None = None) -> tuple[Split, np.ndarray]:
    """A copy of ``split`` whose training part has no event of the held-out items, and their ids.

    Items are drawn without replacement among items with training events, with probability proportional
    to their training count (``weighting="popularity"``: the cold set then looks like what users consume,
    and enough test targets are cold to measure) or uniformly; or given as ``items``. Validation and test
    events are kept: they are never trained on (validation only selects the epoch) and a cold item a user
    consumed may stand in the history, where a text model can still represent it.
    """
    counts = item_counts(split.train, split.n_items)
    if items is None:
        if not 0.0 < frac < 1.0:
            raise ValueError(f"frac must be in (0, 1), got {frac!r}")
        pool = np.flatnonzero(counts[1:]) + 1
        if weighting == "popularity":
            p = counts[pool] / counts[pool].sum()
        elif weighting == "uniform":
            p = None
        else:
            raise ValueError(f"weighting must be 'popularity' or 'uniform', got {weighting!r}")
        n = max(1, int(round(frac * split.n_items)))
        cold = np.sort(np.random.default_rng(seed).choice(pool, size=min(n, len(pool)), replace=False, p=p))
    else:
        cold = np.unique(np.asarray(items, dtype=np.int64))
        if len(cold) and (cold.min() < 1 or cold.max() > split.n_items):
            raise ValueError(f"held-out item ids must lie in 1..{split.n_items}")
    train = split.train[~split.train["item"].isin(cold)]
    info = {**split.info, "cold_items": len(cold), "cold_train_events_removed": int(len(split.train) - len(train))}
    out = Split(train, split.valid, split.test, split.n_users, split.n_items, split.kind, info,
                split.user_map, split.item_map)
    return out, cold


def random_hit_rate(split: Split, stage: str = "test", k: int = 10, users: Sequence[int] | None = None) -> float:
    """Expected HR@k of a uniformly random ranking: mean over queries of k / (items not masked as seen)."""
    from tsrec.evaluate import eval_queries

    queries, _ = eval_queries(split, stage)
    keep = np.ones(len(queries), bool) if users is None else np.isin(queries.users, np.asarray(users))
    n_seen = np.array([len(np.unique(h)) for h in queries.items])[keep]
    return float(np.mean(np.minimum(1.0, k / (split.n_items - n_seen))))


def cold_start_report(model, split: Split, cold_items: Sequence[int] | np.ndarray, k: int = 10,
                      stage: str = "test") -> dict[str, float]:
    """HR@k, NDCG@k and AUC (share of candidates ranked below the target; 0.5 for a random ranking), with 95%
    intervals over users, on the queries whose target is a held-out item, beside the random HR@k for the same
    queries; plus the same metrics on the warm queries."""
    from tsrec.evaluate import eval_queries, evaluate

    _, frame = evaluate(model, split, stage, ks=(k,), per_user=True)
    cold = np.isin(frame["target"].to_numpy(), np.asarray(cold_items))
    out: dict[str, float] = {"n_cold_queries": int(cold.sum()), "n_warm_queries": int((~cold).sum())}
    per = per_user_rank_metrics(frame["rank"].to_numpy(), k)
    queries, _ = eval_queries(split, stage)
    n_seen = np.array([len(np.unique(h)) for h in queries.items])
    per["AUC"] = 1.0 - frame["rank"].to_numpy() / np.maximum(split.n_items - n_seen - 1, 1)  # random: 0.5
    for part, sel in (("cold", cold), ("warm", ~cold)):
        for m in (f"HR@{k}", f"NDCG@{k}", "AUC"):
            if sel.sum() >= 2:
                mean, half = mean_ci(per[m][sel])
            else:
                mean, half = (float(per[m][sel].mean()) if sel.any() else float("nan")), float("nan")
            out[f"{part}_{m}"], out[f"{part}_{m}_ci"] = mean, half
    out[f"random_HR@{k}"] = random_hit_rate(split, stage, k, frame.loc[cold, "user"].to_numpy())
    return out


# ----------------------------------------------------------------------------- breakdowns
def popularity_groups(counts: np.ndarray, tail_max: int = 10, head_min: int = 100) -> np.ndarray:
    """'cold' (0 training events), 'tail' (1..tail_max), 'torso', 'head' (>= head_min) per item id."""
    counts = np.asarray(counts)
    out = np.where(counts >= head_min, "head", np.where(counts > tail_max, "torso", "tail")).astype(object)
    out[counts == 0] = "cold"
    return out


def history_lengths(split: Split, stage: str = "test") -> pd.Series:
    """Number of events each user has before ``stage`` (train for 'valid', train + valid for 'test')."""
    return split.history(stage).groupby("user").size()


def _length_group(n: np.ndarray, edges: Sequence[int]) -> np.ndarray:
    labels, lo = [], 1
    for e in edges:
        labels.append(f"{lo}-{e}")
        lo = e + 1
    labels.append(f">{edges[-1]}")
    return np.array(labels, dtype=object)[np.searchsorted(np.asarray(edges), n, side="left")]


def _group_columns(per_user: pd.DataFrame, counts: np.ndarray, hist_len: pd.Series | None,
                   cold_items: Sequence[int] | None, tail_max: int, head_min: int,
                   length_edges: Sequence[int]) -> dict[str, np.ndarray]:
    """Group label of every row, per dimension (popularity of the target, history length, cold target)."""
    target = per_user["target"].to_numpy()
    groups = {"popularity": popularity_groups(counts, tail_max, head_min)[target]}
    if hist_len is not None:
        n = hist_len.reindex(per_user["user"].to_numpy()).fillna(0).to_numpy().astype(int)
        groups["history"] = _length_group(n, length_edges)
    if cold_items is not None:
        groups["target"] = np.where(np.isin(target, np.asarray(cold_items)), "cold", "warm").astype(object)
    return groups


def _ci(v: np.ndarray, users: np.ndarray | None = None) -> tuple[float, float]:
    """Mean and 95% half-width; with ``users``, clustered by user (a temporal split tests a user many times)."""
    if len(v) < 2:
        return (float(v.mean()) if len(v) else float("nan")), float("nan")
    return mean_ci(v) if users is None else clustered_mean_ci(v, users)


def breakdown(per_user: pd.DataFrame, counts: np.ndarray, hist_len: pd.Series | None = None,
              cold_items: Sequence[int] | None = None, k: int = 10, tail_max: int = 10, head_min: int = 100,
              length_edges: Sequence[int] = (20, 50, 150)) -> pd.DataFrame:
    """HR@k and NDCG@k with 95% intervals over users, by target popularity (``counts`` = training events per
    item; tail <= ``tail_max``, head >= ``head_min``), by history length and by cold/warm target.

    ``per_user`` is the frame of ``tsrec.evaluate.evaluate(..., per_user=True)`` (user, target, rank).
    One row per (dimension, group) plus ('all', 'all').
    """
    per = per_user_rank_metrics(per_user["rank"].to_numpy(), k)
    users = per_user["user"].to_numpy()
    dims = {"all": np.array(["all"] * len(per_user), dtype=object),
            **_group_columns(per_user, counts, hist_len, cold_items, tail_max, head_min, length_edges)}
    rows = []
    for dim, labels in dims.items():
        for g in _ordered(np.unique(labels)):
            sel = labels == g
            row = {"dimension": dim, "group": g, "n": int(sel.sum())}
            for m in (f"HR@{k}", f"NDCG@{k}"):
                row[m], row[f"{m} ±"] = _ci(per[m][sel], users[sel])
            rows.append(row)
    return pd.DataFrame(rows).set_index(["dimension", "group"])


_ORDER = {"all": 0, "head": 1, "torso": 2, "tail": 3, "cold": 4, "warm": 5}


def _ordered(groups: np.ndarray) -> list:
    def key(g: str) -> tuple:
        if g in _ORDER:
            return (0, _ORDER[g], 0)
        if g.startswith(">"):
            return (1, 0, 10**9)
        return (1, 0, int(g.split("-")[0]))

    return sorted(groups.tolist(), key=key)


def compare_runs(runs_a: Sequence[pd.DataFrame], runs_b: Sequence[pd.DataFrame], counts: np.ndarray,
                 hist_len: pd.Series | None = None, cold_items: Sequence[int] | None = None, k: int = 10,
                 metric: str = "NDCG", tail_max: int = 10, head_min: int = 100,
                 length_edges: Sequence[int] = (20, 50, 150)) -> pd.DataFrame:
    """Model B minus model A per group, over seeds (``runs_*[s]`` = per-user frames of seed s, same users).

    Columns: A and B (mean over seeds of the group metric, ± its 95% t-interval over seeds), delta with its
    interval over seeds (per-seed differences) and over users (per-query differences averaged over seeds,
    a paired and usually tighter interval, clustered by user when a user has several queries), and n queries.
    """
    if len(runs_a) != len(runs_b) or not runs_a:
        raise ValueError("runs_a and runs_b need the same, non-zero number of seeds")
    name = f"{metric}@{k}"
    base = runs_a[0][["user", "target"]].reset_index(drop=True)
    mats = []
    for runs in (runs_a, runs_b):
        cols = []
        for f in runs:
            f = f.reset_index(drop=True)
            if not (f["user"].to_numpy() == base["user"].to_numpy()).all():
                raise ValueError("all runs must list the same users in the same order")
            cols.append(per_user_rank_metrics(f["rank"].to_numpy(), k)[name])
        mats.append(np.stack(cols, 1))  # [users, seeds]
    a, b = mats
    dims = {"all": np.array(["all"] * len(base), dtype=object),
            **_group_columns(base, counts, hist_len, cold_items, tail_max, head_min, length_edges)}
    rows = []
    for dim, labels in dims.items():
        for g in _ordered(np.unique(labels)):
            sel = labels == g
            sa, sb = a[sel].mean(0), b[sel].mean(0)  # per-seed group metric
            row = {"dimension": dim, "group": g, "n": int(sel.sum())}
            row["A"], row["A ±"] = _ci(sa)
            row["B"], row["B ±"] = _ci(sb)
            row["delta"], row["delta ± (seeds)"] = _ci(sb - sa)
            row["delta ± (users)"] = _ci((b[sel] - a[sel]).mean(1), base["user"].to_numpy()[sel])[1]
            rows.append(row)
    return pd.DataFrame(rows).set_index(["dimension", "group"])
