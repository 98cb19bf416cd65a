"""Why a sequence model recommends what it does, and whether the explanation is true.

Integrated gradients (Captum's ``LayerIntegratedGradients``) split one recommended item's score between the
history's item embeddings and its time-encoding vectors, against an all-zero baseline (the padding vector);
the last block's attention gives a second read-out. ``deletion_test`` checks the attributions are faithful:
removing the top-attributed events must lower the score more than removing as many random ones. The loss-
threshold membership attack asks whether a model's losses tell its training users from others. Text read-outs:
how close in item text the attributed events are to the recommendation, and a prompt that asks a language model
to word an explanation from the attributed events only.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsrec.models.sequential import SeqInput

__all__ = ["Writer", "delete_positions", "deletion_test", "explain_in_words", "explanation_prompt",
           "history_similarity", "integrated_gradients", "last_attention", "membership_auc", "named_titles",
           "target_scores", "text_similarity", "top_positions"]


def target_scores(model: nn.Module, x: SeqInput, targets: torch.Tensor) -> torch.Tensor:
    """Score of each row's ``targets`` item at the last position, [B]."""
    with torch.no_grad():
        return model.logits(model.encode(x)[:, -1]).gather(1, targets.view(-1, 1)).squeeze(1)


def _zeroed_scores(model: nn.Module, x: SeqInput, targets: torch.Tensor, layers: list[nn.Module]) -> torch.Tensor:
    """Target scores with the outputs of ``layers`` set to zero: the point integrated gradients start from."""
    hooks = [layer.register_forward_hook(lambda m, args, out: out * 0) for layer in layers]
    try:
        return target_scores(model, x, targets)
    finally:
        for h in hooks:
            h.remove()


def integrated_gradients(model: nn.Module, x: SeqInput, targets: torch.Tensor, n_steps: int = 32
                         ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Integrated-gradient attributions [B, L] of each target's score to every history position's item
    embedding and time-encoding vector (summed over dimensions), from zero vectors at every position, and
    the completeness error [B]: score minus the zero-vector score minus all attributions."""
    from captum.attr import LayerIntegratedGradients

    model.eval()

    def forward(items: torch.Tensor, times: torch.Tensor, next_times: torch.Tensor) -> torch.Tensor:
        users = torch.zeros(len(items), dtype=torch.long)
        return model.logits(model.encode(SeqInput(users, items, times, next_times))[:, -1])

    layers = [model.item_emb] + ([model.time_enc] if model.time_enc is not None else [])
    base = (torch.zeros_like(x.items), x.times, x.next_times)  # padding items: zero item and time vectors
    with warnings.catch_warnings():
        # Captum warns that one layer might feed the other; the item table and the time encoding are parallel
        warnings.filterwarnings("ignore", message="Multiple layers provided")
        lig = LayerIntegratedGradients(forward, layers)
        attrs = lig.attribute((x.items, x.times, x.next_times), baselines=base, target=targets, n_steps=n_steps)
    attrs = attrs if isinstance(attrs, list) else [attrs]
    item_attr = attrs[0].sum(-1).detach() * x.mask
    time_attr = attrs[1].sum(-1).detach() * x.mask if len(attrs) > 1 else torch.zeros_like(item_attr)
    error = target_scores(model, x, targets) - _zeroed_scores(model, x, targets, layers)
    return item_attr, time_attr, error - item_attr.sum(1) - time_attr.sum(1)


def last_attention(model: nn.Module, x: SeqInput) -> torch.Tensor:
    """The last transformer block's attention weights from the last position over the history, [B, L]
    (averaged over heads; padding gets zero)."""
    attn, seen = model.blocks[-1].attn, {}
    hook = attn.register_forward_pre_hook(lambda m, args: seen.update(x=args[0], allowed=args[1]))
    try:
        model.eval()
        with torch.no_grad():
            model.encode(x)
            q, k, _ = attn.qkv(seen["x"]).chunk(3, dim=-1)
            B, L, D = q.shape
            H = attn.heads
            q, k = (t.view(B, L, H, D // H).transpose(1, 2) for t in (q, k))
            s = (q[:, :, -1:] @ k.transpose(-1, -2)).squeeze(2) / (D // H) ** 0.5
            s = s.masked_fill(~seen["allowed"][:, -1].unsqueeze(1), float("-inf"))
            return s.softmax(-1).mean(1)
    finally:
        hook.remove()


def delete_positions(x: SeqInput, drop: torch.Tensor) -> SeqInput:
    """The windows with the positions where ``drop`` [B, L] is True removed, the rest kept in order and
    left-padded again (the last position, the request, is never dropped)."""
    drop = drop.clone()
    drop[:, -1] = False
    keep = x.mask & ~drop
    # a stable sort on "kept" moves the kept positions to the right end in their order
    order = torch.sort(keep.long(), dim=1, stable=True).indices
    items, times, nxt = (torch.where(keep, t, 0).gather(1, order) for t in (x.items, x.times, x.next_times))
    return SeqInput(x.users, items, times, nxt)


def deletion_test(model: nn.Module, x: SeqInput, targets: torch.Tensor, attributions: torch.Tensor, k: int,
                  seed: int = 0) -> pd.DataFrame:
    """Per row: the target's score, and its drop when the ``k`` history positions with the largest
    attribution are deleted, and when ``k`` random history positions are (the last event never)."""
    g = torch.Generator().manual_seed(seed)
    hist = x.mask.clone()
    hist[:, -1] = False
    attr = attributions.masked_fill(~hist, float("-inf"))
    top = torch.zeros_like(hist)
    top.scatter_(1, attr.topk(k, dim=1).indices, True)
    noise = torch.rand(hist.shape, generator=g).masked_fill(~hist, -1.0)
    rand = torch.zeros_like(hist)
    rand.scatter_(1, noise.topk(k, dim=1).indices, True)
    base = target_scores(model, x, targets)
    top_drop = base - target_scores(model, delete_positions(x, top & hist), targets)
    rand_drop = base - target_scores(model, delete_positions(x, rand & hist), targets)
    return pd.DataFrame({"score": base.numpy(), "top_drop": top_drop.numpy(), "random_drop": rand_drop.numpy(),
                         "history": hist.sum(1).numpy()})


def membership_auc(member_losses: np.ndarray, other_losses: np.ndarray) -> tuple[float, np.ndarray]:
    """The loss-threshold attack's ROC AUC (a lower loss means "member"; 0.5 = it cannot tell) and each
    member's share of non-members with a higher loss (ties half), whose mean is the AUC (for an interval)."""
    m, o = np.asarray(member_losses, float), np.asarray(other_losses, float)
    o_sorted = np.sort(o)
    higher = len(o) - np.searchsorted(o_sorted, m, side="right")
    ties = np.searchsorted(o_sorted, m, side="right") - np.searchsorted(o_sorted, m, side="left")
    per_member = (higher + 0.5 * ties) / len(o)
    return float(per_member.mean()), per_member


class Writer(Protocol):
    """What ``explain_in_words`` needs of a language model (``tsrec.llm.GenerativeLM`` has both)."""

    def chat(self, user: str, system: str | None = None) -> str: ...

    def generate(self, prompt: str, max_new_tokens: int = 64) -> str: ...


def top_positions(attributions: torch.Tensor, x: SeqInput, k: int) -> torch.Tensor:
    """The ``k`` real history positions with the largest attribution per row, largest first, [B, k]."""
    return attributions.masked_fill(~x.mask, float("-inf")).topk(k, dim=1).indices


def history_similarity(item_vectors: np.ndarray, x: SeqInput, targets: torch.Tensor) -> torch.Tensor:
    """Cosine similarity [B, L] of each history event's item text to the row's target (unit vectors in,
    padding's zero vector gives 0): the ranking of a "because you watched something like it" explanation."""
    vec = torch.as_tensor(item_vectors)
    return (vec[x.items] @ vec[targets].unsqueeze(-1)).squeeze(-1)


def text_similarity(item_vectors: np.ndarray, x: SeqInput, targets: torch.Tensor, attributions: torch.Tensor,
                    k: int, seed: int = 0) -> pd.DataFrame:
    """Per row: the mean cosine similarity (item text, unit vectors) between the target and its ``k`` top-
    attributed history events, and between the target and ``k`` random history events (the same draw size)."""
    sim = history_similarity(item_vectors, x, targets)
    noise = torch.rand(x.mask.shape, generator=torch.Generator().manual_seed(seed)).masked_fill(~x.mask, -1.0)
    top, rand = top_positions(attributions, x, k), noise.topk(k, dim=1).indices
    return pd.DataFrame({"top": sim.gather(1, top).mean(1).numpy(), "random": sim.gather(1, rand).mean(1).numpy()})


def explanation_prompt(recommended: str, reasons: Sequence[tuple[str, float]]) -> str:
    """A request for one sentence that explains ``recommended`` from the attributed events only: each reason
    is (title, hours before the request)."""
    def when(hours: float) -> str:
        return f"{hours * 60:.0f} minutes ago" if hours < 1 else (f"{hours:.0f} hours ago" if hours < 48
                                                                   else f"{hours / 24:.0f} days ago")
    listed = "; ".join(f'"{t}" ({when(h)})' for t, h in reasons)
    return (f"A film recommender suggests \"{recommended}\" to a viewer. The films in the viewer's history that "
            f"weighed most in this suggestion are: {listed}. In one short sentence addressed to the viewer, "
            f"explain why \"{recommended}\" is suggested, naming only these films.")


def _forms(title: str) -> set[str]:
    """How a sentence may write a MovieLens title, in lower case and without its year: as stored ('godfather,
    the') and with the trailing article moved back ('the godfather')."""
    stored = re.sub(r"\s*\(\d{4}\)\s*$", "", str(title)).strip()
    return {stored.lower(), re.sub(r"^(.*), (The|A|An|Les|La|Il|Le|Das)$", r"\2 \1", stored).lower()}


def named_titles(sentence: str, titles: Sequence[str], min_chars: int = 5) -> list[str]:
    """The distinct ``titles`` a generated sentence names (case-insensitive, year ignored, the article either
    way). Titles shorter than ``min_chars`` are skipped ('Heat' would match by accident), and so is a title that
    is only part of a longer one named ('High Noon' inside '3 Ninjas: High Noon At Mega Mountain')."""
    text = sentence.lower()
    found: dict[str, str] = {}
    for t in titles:
        for form in _forms(t):
            if len(form) >= min_chars and form in text:
                found.setdefault(form, t)
    named = [t for form, t in found.items() if not any(form != other and form in other for other in found)]
    return list(dict.fromkeys(named))


def explain_in_words(lm: Writer, titles: pd.Series, x: SeqInput, targets: torch.Tensor, attributions: torch.Tensor,
                     rows: Sequence[int], k: int = 3, max_new_tokens: int = 60) -> pd.DataFrame:
    """For each of ``rows``: the prompt's ``k`` top-attributed events, ``lm``'s one-line explanation (a
    ``GenerativeLM``: ``chat`` and greedy ``generate``), and which films the line names: the recommendation,
    an attributed event, or a film the prompt never gave (unsupported). ``titles`` is indexed by item id."""
    top = top_positions(attributions, x, k)
    out = []
    for r in rows:
        pos = top[r].tolist()
        hours = ((x.next_times[r, -1] - x.times[r, pos]) / 3600).tolist()
        given = [titles[int(x.items[r, p])] for p in pos]
        recommended = titles[int(targets[r])]
        line = lm.generate(lm.chat(explanation_prompt(recommended, list(zip(given, hours)))), max_new_tokens)
        line = line.strip().split("\n")[0]
        named = named_titles(line, list(titles))
        out.append({"recommended": recommended, "attributed": given, "sentence": line,
                    "names recommended": recommended in named, "names attributed": any(t in named for t in given),
                    "unsupported": [t for t in named if t != recommended and t not in given]})
    return pd.DataFrame(out)
