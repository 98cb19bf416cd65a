"""Model compression of a sequence recommender, each step measured: size, CPU scoring latency, and quality.

Dynamic int8 quantisation of the linear layers (``torch.ao.quantization.quantize_dynamic``), global magnitude
pruning of the weight matrices (``torch.nn.utils.prune``, optionally fine-tuned with the masks kept), knowledge
distillation into a smaller model from the teacher's full-item softmax, and a low-rank item-embedding table (a
truncated SVD of the trained one). ``request_latency`` times one query at a time, as a live service is asked;
``time_breakdown`` says how much of a request the linear layers take, the part that int8 can speed up.
"""
from __future__ import annotations

import copy
import io
import time
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import prune

from tsrec.config import device as pick_device
from tsrec.evaluate import validator
from tsrec.models.sequential import SeqInput, SequentialRecommender
from tsrec.queries import QueryBatch
from tsrec.splits import Split
from tsrec.training.loop import TrainConfig, TrainResult, run
from tsrec.training.recipes import recipe_for

__all__ = ["LowRankEmbedding", "distill", "distillation_loss", "file_bytes", "interleaved_latency", "low_rank_items",
           "magnitude_prune", "n_params", "quantize_int8", "request_latency", "strip_masks", "time_breakdown"]


def _weight_of(module: nn.Module) -> torch.Tensor | None:
    """The weight matrix of a float or dynamically quantised linear layer (dequantised), else None."""
    w = getattr(module, "weight", None)
    if callable(w):  # torch.ao's quantised Linear keeps packed weights behind a method
        w = w()
        return w.dequantize() if w.is_quantized else w
    return None


def n_params(model: nn.Module, nonzero: bool = False) -> int:
    """Parameters of ``model``, counting a quantised layer's packed weights as parameters too; ``nonzero``
    counts only the entries that are not zero (what pruning removes)."""
    count = (lambda t: int((t != 0).sum())) if nonzero else (lambda t: t.numel())
    total = sum(count(p.detach()) for name, p in model.named_parameters() if not name.endswith("_orig"))
    for module in model.modules():
        if hasattr(module, "weight_mask"):  # a pruned layer still carrying its mask: count weight, not weight_orig
            total += count(module.weight.detach())
        w = _weight_of(module)
        if w is not None:
            bias = module.bias()
            total += count(w) + (count(bias.detach()) if bias is not None else 0)
    return int(total)


def file_bytes(model: nn.Module) -> int:
    """Bytes of ``torch.save(model.state_dict())``: what a checkpoint of the weights takes on disk."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


def quantize_int8(model: nn.Module) -> nn.Module:
    """A copy of ``model`` (on the CPU) whose ``nn.Linear`` layers hold int8 weights and quantise their inputs
    on the fly; embeddings, LayerNorms and the item-scoring product stay float32."""
    with warnings.catch_warnings():
        # torch 2.13 announces that torch.ao.quantization moves to torchao; the eager dynamic API still works
        # and is the one the book teaches, so its deprecation notices are silenced here, and only they
        warnings.filterwarnings("ignore", message=r"torch\.ao\.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor", category=UserWarning)
        return torch.ao.quantization.quantize_dynamic(copy.deepcopy(model).cpu().eval(), {nn.Linear},
                                                      dtype=torch.qint8)


def _prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """The weight matrices of every Linear and Embedding layer (item table included; biases and norms not)."""
    return [(m, "weight") for m in model.modules() if isinstance(m, (nn.Linear, nn.Embedding))]


def magnitude_prune(model: nn.Module, amount: float, keep_masks: bool = False) -> nn.Module:
    """A copy of ``model`` with the ``amount`` share of its weight-matrix entries of smallest magnitude set to zero,
    ranked over all matrices at once (global L1 pruning). ``keep_masks`` leaves the masks on, so that fine-tuning
    keeps the zeros; ``strip_masks`` makes them permanent."""
    if not 0.0 <= amount < 1.0:
        raise ValueError(f"amount must be in [0, 1), got {amount!r}")
    pruned = copy.deepcopy(model)
    prune.global_unstructured(_prunable(pruned), pruning_method=prune.L1Unstructured, amount=float(amount))
    return pruned if keep_masks else strip_masks(pruned)


def strip_masks(model: nn.Module) -> nn.Module:
    """Make ``model``'s pruning permanent: the masked weights become plain parameters (zeros stay zeros)."""
    for module in model.modules():
        if hasattr(module, "weight_mask"):
            prune.remove(module, "weight")
    return model


class LowRankEmbedding(nn.Module):
    """An item table stored as two factors, E = A B (A [n, rank], B [rank, dim]): ``weight`` and lookups behave
    like ``nn.Embedding``'s, so a sequence model's input and output layers use it unchanged (row 0, padding, is
    zero in A and stays so: a lookup of 0 is masked, and no loss reads its score)."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor):
        super().__init__()
        self.a, self.b = nn.Parameter(a.clone()), nn.Parameter(b.clone())
        with torch.no_grad():
            self.a[0] = 0.0

    @property
    def weight(self) -> torch.Tensor:
        return self.a @ self.b

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return (self.a[idx] @ self.b) * (idx != 0).unsqueeze(-1)


def low_rank_items(model: SequentialRecommender, rank: int) -> SequentialRecommender:
    """A copy of ``model`` whose item table is replaced by its best rank-``rank`` approximation (truncated SVD)."""
    table = model.item_emb.weight.detach()
    if not 1 <= rank < min(table.shape):
        raise ValueError(f"rank must be in 1..{min(table.shape) - 1}, got {rank!r}")
    u, s, vh = torch.linalg.svd(table, full_matrices=False)
    small = copy.deepcopy(model)
    small.item_emb = LowRankEmbedding(u[:, :rank] * s[:rank], vh[:rank])
    return small


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, targets: torch.Tensor,
                      temperature: float = 2.0, alpha: float = 0.5) -> torch.Tensor:
    """alpha * T^2 * KL(teacher || student) over softened full-item softmaxes, plus (1 - alpha) * the
    cross-entropy of the true next items (Hinton et al. 2015); logits [N, n_items] and 0-based targets [N]."""
    t = float(temperature)
    soft = F.kl_div(F.log_softmax(student_logits / t, -1), F.log_softmax(teacher_logits / t, -1),
                    log_target=True, reduction="batchmean") * t * t
    return alpha * soft + (1.0 - alpha) * F.cross_entropy(student_logits, targets)


def distill(student: SequentialRecommender, teacher: SequentialRecommender, split: Split, config: TrainConfig,
            temperature: float = 2.0, alpha: float = 0.5) -> TrainResult:
    """Train ``student`` on ``split.train`` with the one training loop, every target position's loss mixing the
    teacher's full-item softmax (soft targets) with the true next item; early stopping on validation NDCG@10."""
    if student.max_len > teacher.max_len:
        raise ValueError(f"the student reads {student.max_len} events, more than the teacher's {teacher.max_len}")
    recipe = recipe_for(student)
    cfg = config.resolved(recipe.defaults(student, split.train, config))
    cfg.check()
    batches, _ = recipe.build(student, split.train, cfg)
    teacher.eval().to(pick_device(cfg.device))

    def batch_loss(batch: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, float]:
        users, items, times, next_times, targets = batch
        device = next(student.parameters()).device
        x = SeqInput(users, items, times, next_times).trim().to(device)
        targets = targets[:, -x.items.shape[1]:].to(device)
        keep = targets > 0
        with torch.no_grad():
            t_logits = teacher.logits(teacher.encode(x)[keep])[:, 1:]
        s_logits = student.logits(student.encode(x)[keep])[:, 1:]
        return distillation_loss(s_logits, t_logits, targets[keep] - 1, temperature, alpha), int(keep.sum())

    return run(student, batches, batch_loss, cfg, validator(split, ks=(10,)), columns=recipe.columns)


def request_latency(model: Any, queries: QueryBatch, n: int = 200, warmup: int = 20) -> np.ndarray:
    """Seconds to score each of the first ``n`` queries alone (one request, all items), after ``warmup``
    untimed requests: a live service's per-request latency, with its Python overhead."""
    if len(queries) == 0:
        raise ValueError("no queries to time")
    rows = np.arange(n + warmup) % len(queries)
    out = np.empty(n)
    with torch.inference_mode():
        for j, i in enumerate(rows):
            q = queries[[int(i)]]
            t0 = time.perf_counter()
            model.score(q)
            if j >= warmup:
                out[j - warmup] = time.perf_counter() - t0
    return out


def _hooked(model: nn.Module, kinds: tuple[type, ...], spent: list[float]) -> list[Any]:
    """Forward hooks adding the wall time of every module of ``kinds`` to ``spent[0]``."""
    start: dict[int, float] = {}

    def before(module: nn.Module, args: Any) -> None:
        start[id(module)] = time.perf_counter()

    def after(module: nn.Module, args: Any, out: Any) -> None:
        spent[0] += time.perf_counter() - start[id(module)]

    leaves = [m for m in model.modules() if isinstance(m, kinds)]
    return [h for m in leaves for h in (m.register_forward_pre_hook(before), m.register_forward_hook(after))]


def time_breakdown(model: SequentialRecommender, queries: QueryBatch, n: int = 100, warmup: int = 10
                   ) -> dict[str, float]:
    """Where a request's time goes, median milliseconds per request: making the padded input window, the linear
    layers (float or int8, timed by hooks), the item-scoring product h E^T over all items, and the rest of the
    forward pass (embedding look-ups, attention, norms, activations, Python); medians resist a busy machine."""
    linear = [0.0]
    kinds = (nn.Linear, torch.ao.nn.quantized.dynamic.Linear)
    rows = np.arange(n + warmup) % len(queries)
    h = torch.zeros(1, model.output_weights()[0].shape[1])
    parts = np.zeros((n, 4))  # total, input window, linear layers, item scoring
    with torch.inference_mode():
        for i in rows[:warmup]:
            model.score(queries[[int(i)]])
        hooks = _hooked(model, kinds, linear)
        for j, i in enumerate(rows[warmup:]):
            q = queries[[int(i)]]
            linear[0] = 0.0
            t0 = time.perf_counter()
            model.score(q)
            t1 = time.perf_counter()
            SeqInput.from_queries(q, model.max_len).trim()
            t2 = time.perf_counter()
            model.logits(h)
            parts[j] = (t1 - t0, t2 - t1, linear[0], time.perf_counter() - t2)
        for hook in hooks:
            hook.remove()
    tot, inp, lin, sc = np.median(parts, axis=0) * 1e3
    return {"total ms": tot, "input window ms": inp, "linear layers ms": lin, "item scoring ms": sc,
            "rest of the forward ms": tot - inp - lin - sc}


def interleaved_latency(models: dict[str, Any], queries: QueryBatch, n: int = 200, rounds: int = 5
                        ) -> dict[str, np.ndarray]:
    """``request_latency`` of several models in ``rounds`` alternating rounds of ``n // rounds`` requests each, so
    that a change in the machine's load falls on every model alike; seconds per request, by model."""
    per_round = max(1, n // rounds)
    out: dict[str, list[np.ndarray]] = {name: [] for name in models}
    for r in range(rounds):
        for name, model in models.items():
            out[name].append(request_latency(model, queries[np.roll(np.arange(len(queries)), -r * per_round)],
                                             per_round, warmup=5))
    return {name: np.concatenate(v) for name, v in out.items()}
