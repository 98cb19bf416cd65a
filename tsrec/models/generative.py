"""Generative recommendation (chapter 2.2): a small GPT-2 (or Llama) trained from scratch on item tokens.

Each item is one token of a private vocabulary; the model reads a user's history as a token sequence and
the next item is its next token (``tsrec.training`` trains it). With ``time_tokens=True`` a token for the
(log-bucketed) gap before each event is interleaved — ``[BOS, i1, g2, i2, ..., gn, in, g_now]`` — so the model
also reads how long ago things happened and when the request comes. Scores for ``tsrec.evaluate`` are the
next-token logits over the item tokens; ``recommend_beam`` decodes with constrained beam search (only valid,
unseen item tokens).

Item token ids are a random permutation, not the item ids in order: with item ids written as text for a
pretrained tokenizer (P5), consecutive ids share sub-tokens and leak neighbourhood (Rua et al. 2023); with
one atomic token per item the order carries no signal, and a random map makes sure of it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tsrec.models.base import Scorer
from tsrec.queries import QueryBatch, left_pad
from tsrec.times import DAY, HOUR, MINUTE, WEEK, YEAR

__all__ = ["GAP_EDGES", "gap_buckets", "ItemVocab", "GenerativeRecommender"]

# Gap buckets (seconds): same second, < 1 min, < 10 min, < 1 h, < 6 h, < 1 day, < 1 week, < 30 days, < 1 year, more.
GAP_EDGES = (1, MINUTE, 10 * MINUTE, HOUR, 6 * HOUR, DAY, WEEK, 30 * DAY, YEAR)
SCORE_CHUNK = 256
MAX_STEPS = 8  # future items recommend_beam may decode


def gap_buckets(gaps: np.ndarray | torch.Tensor, edges: tuple[int, ...] = GAP_EDGES) -> np.ndarray:
    """Bucket index 0..len(edges) of each gap in seconds (negative gaps count as 0)."""
    g = np.maximum(np.asarray(gaps, dtype=np.int64), 0)
    return np.searchsorted(np.asarray(edges), g, side="right")


@dataclass
class ItemVocab:
    """Token ids: 0 = PAD, 1 = BOS, then gap tokens, then item tokens in a random order (seeded)."""

    n_items: int
    n_gaps: int
    seed: int = 0

    def __post_init__(self) -> None:
        perm = np.random.default_rng(self.seed).permutation(self.n_items)
        self.item_token = np.concatenate([[0], 2 + self.n_gaps + perm]).astype(np.int64)  # item id -> token
        self.token_item = np.zeros(self.size, dtype=np.int64)  # token -> item id (0 = not an item)
        self.token_item[self.item_token[1:]] = np.arange(1, self.n_items + 1)

    PAD, BOS = 0, 1

    @property
    def size(self) -> int:
        return 2 + self.n_gaps + self.n_items

    def gap_token(self, bucket: np.ndarray) -> np.ndarray:
        return 2 + np.asarray(bucket, dtype=np.int64)

    def item_tokens(self) -> torch.Tensor:
        """Token of items 1..n in id order (index i - 1 -> item i)."""
        return torch.from_numpy(self.item_token[1:])


class GenerativeRecommender(nn.Module, Scorer):
    """A causal LM over item (and optional gap) tokens, built from a transformers config, trained from scratch."""

    name = "GenerativeRec"

    def __init__(self, n_items: int, time_tokens: bool = False, max_len: int = 50, n_layer: int = 2,
                 n_embd: int = 64, n_head: int = 2, dropout: float = 0.1, arch: str = "gpt2", seed: int = 0):
        nn.Module.__init__(self)
        from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

        if n_items < 1 or max_len < 1:
            raise ValueError("n_items and max_len must be >= 1")
        self.n_items, self.max_len, self.time_tokens = int(n_items), int(max_len), bool(time_tokens)
        self.config = {"n_items": n_items, "time_tokens": time_tokens, "max_len": max_len, "n_layer": n_layer,
                       "n_embd": n_embd, "n_head": n_head, "dropout": dropout, "arch": arch, "seed": seed}
        self.train_config: dict = {}
        self.vocab = ItemVocab(n_items, len(GAP_EDGES) + 1, seed)
        n_pos = ((2 * max_len + 2) if time_tokens else (max_len + 1)) + 2 * MAX_STEPS  # room for beam search
        torch.manual_seed(seed)
        if arch == "gpt2":
            cfg = GPT2Config(vocab_size=self.vocab.size, n_positions=n_pos, n_embd=n_embd, n_layer=n_layer,
                             n_head=n_head, resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout,
                             bos_token_id=ItemVocab.BOS, eos_token_id=ItemVocab.BOS, pad_token_id=ItemVocab.PAD)
            self.lm = GPT2LMHeadModel(cfg)
        elif arch == "llama":
            cfg = LlamaConfig(vocab_size=self.vocab.size, hidden_size=n_embd, intermediate_size=2 * n_embd,
                              num_hidden_layers=n_layer, num_attention_heads=n_head, num_key_value_heads=n_head,
                              max_position_embeddings=n_pos, attention_dropout=dropout, tie_word_embeddings=True,
                              bos_token_id=ItemVocab.BOS, eos_token_id=ItemVocab.BOS, pad_token_id=ItemVocab.PAD)
            self.lm = LlamaForCausalLM(cfg)
        else:
            raise ValueError(f"arch must be 'gpt2' or 'llama', got {arch!r}")
        self.arch = arch
        self.register_buffer("item_tok", self.vocab.item_tokens(), persistent=False)

    # -- token sequences -----------------------------------------------------------------------
    def tokens(self, items: np.ndarray, times: np.ndarray, now: int | None = None) -> list[int]:
        """Token ids of one history (last ``max_len`` events), ending with the gap to ``now`` if time tokens."""
        items, times = np.asarray(items)[-self.max_len:], np.asarray(times)[-self.max_len:]
        toks = self.vocab.item_token[items]
        if not self.time_tokens:
            return [ItemVocab.BOS, *toks.tolist()]
        if now is None:
            raise ValueError("time tokens need the request time 'now'")
        gaps = np.diff(np.concatenate([times[:1], times, [now]]))[1:]  # gap before events 2..n, then to now
        out = [ItemVocab.BOS]
        for j, tok in enumerate(toks):
            if j > 0:
                out.append(int(self.vocab.gap_token(gap_buckets(gaps[j - 1]))))
            out.append(int(tok))
        out.append(int(self.vocab.gap_token(gap_buckets(gaps[-1]))))
        return out

    @staticmethod
    def padded(seqs: list[list[int]], device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded token ids and their attention mask [B, T] (tokens are never 0, the padding token)."""
        ids = torch.from_numpy(left_pad(seqs))
        return ids.to(device), (ids != ItemVocab.PAD).long().to(device)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Logits [B, T, vocab] of left-padded sequences (positions counted from each row's first token)."""
        pos = (mask.cumsum(1) - 1).clamp(min=0)
        return self.lm(input_ids=ids, attention_mask=mask, position_ids=pos).logits

    def _query_tokens(self, batch: QueryBatch) -> list[list[int]]:
        return [self.tokens(it, tm, int(now)) for it, tm, now in zip(batch.items, batch.times, batch.now)]

    # -- Recommender ---------------------------------------------------------------------------
    def score(self, batch: QueryBatch) -> torch.Tensor:
        """Next-token logits over the item tokens as scores [B, n_items + 1] (column 0 = -inf)."""
        device = next(self.parameters()).device
        was = self.training
        self.eval()
        out = torch.empty(len(batch), self.n_items + 1)
        seqs = self._query_tokens(batch)
        with torch.no_grad():
            for s in range(0, len(seqs), SCORE_CHUNK):
                ids, mask = self.padded(seqs[s:s + SCORE_CHUNK], device)
                logits = self.forward(ids, mask)[:, -1]
                out[s:s + len(ids), 1:] = logits[:, self.item_tok].float().cpu()
        self.train(was)
        out[:, 0] = float("-inf")
        return out

    @torch.no_grad()
    def recommend_beam(self, batch: QueryBatch, k: int = 10, steps: int = 1, num_beams: int | None = None,
                       exclude_seen: bool = True) -> tuple[np.ndarray, list[list[list[int]]]]:
        """Constrained beam search with transformers' ``generate``: each step may only emit an item token
        (not seen, not already in the beam; between items, with time tokens, only a gap token).

        Returns the first item of the ``k`` best distinct item paths per query [B, k] (0 where fewer exist)
        and those paths (``steps`` future items each). With ``steps=1`` this is the masked top-k of ``score``;
        with more steps first items may repeat across paths.
        """
        if not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps must be in 1..{MAX_STEPS}, got {steps}")
        device = next(self.parameters()).device
        self.eval()
        num_beams = max(k, num_beams or k)
        if self.time_tokens and steps > 1:  # beams differing only in gap tokens repeat the same items
            num_beams *= 3
        seqs = self._query_tokens(batch)
        n_new = steps if not self.time_tokens else 2 * steps - 1
        item_set = set(self.vocab.item_token[1:].tolist())
        all_items = self.vocab.item_token[1:]
        gap_tokens = self.vocab.gap_token(np.arange(self.vocab.n_gaps)).tolist()
        firsts, paths = np.zeros((len(seqs), k), dtype=np.int64), []
        for b, seq in enumerate(seqs):
            ids, mask = self.padded([seq], device)
            start = ids.shape[1]
            history = np.asarray(batch.items[b], dtype=np.int64)
            seen = set(self.vocab.item_token[history].tolist()) if exclude_seen else set()
            base = [t for t in all_items.tolist() if t not in seen]

            def allowed(_row: int, sequence: torch.Tensor) -> list[int]:
                new = sequence[start:].tolist()
                if self.time_tokens and new and new[-1] in item_set:
                    return gap_tokens
                used = set(new)
                return [t for t in base if t not in used] if used else base

            out = self.lm.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n_new, min_new_tokens=n_new,
                                   num_beams=num_beams, num_return_sequences=num_beams, do_sample=False,
                                   prefix_allowed_tokens_fn=allowed, pad_token_id=ItemVocab.PAD,
                                   eos_token_id=None, early_stopping=True)
            unique: dict[tuple[int, ...], None] = {}
            for row in out:  # best first; keep each item path once
                unique.setdefault(tuple(int(self.vocab.token_item[t]) for t in row[start:].tolist() if t in item_set))
            beams = [list(p) for p in unique][:k]
            firsts[b, :len(beams)] = [p[0] for p in beams]
            paths.append(beams)
        return firsts, paths
