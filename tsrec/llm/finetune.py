"""A pretrained LM as the recommender (TALLRec / LLaRA style): LoRA fine-tuning of a ``GenerativeLM`` on users'
histories written as text, with and without times, to name the next title.

``next_title_examples`` writes the prompts ``llm_rerank`` scores (the same instruction, history text and chat
template), each followed by the title the user really chose next; ``lora_finetune`` trains low-rank adapters
(``peft``) on the title's tokens with the package's one training loop and returns a tuned copy of the LM, which
plugs into ``llm_rerank`` unchanged, so the untuned and the tuned LM score the same candidates of the same users.
"""
from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from tsrec.llm.lm import GenerativeLM
from tsrec.llm.rerank import RERANK_SYSTEM, _prompts, _sample_queries  # the prompts llm_rerank scores
from tsrec.splits import Split
from tsrec.training import TrainConfig, TrainResult
from tsrec.training.loop import run

__all__ = ["LoraSettings", "lora_finetune", "next_title_examples", "title_token_batches",
           "trainable_parameters"]


@dataclass
class LoraSettings:
    """Adapter rank, scaling and the attention projections it adapts; the training epochs, batch and rate."""

    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    targets: tuple[str, ...] = ("q_proj", "v_proj")
    epochs: int = 1
    batch_size: int = 4
    lr: float = 1e-3
    seed: int = 0


def next_title_examples(lm: GenerativeLM, split: Split, titles: pd.Series, users: Sequence[int],
                        stage: str = "valid", variants: Sequence[str] = ("time", "no_time"), max_history: int = 8,
                        system: str | None = RERANK_SYSTEM) -> pd.DataFrame:
    """One row (user, variant, prompt, answer) per user and prompt variant: the history before ``stage``'s
    event written as ``llm_rerank`` writes it, and that event's title as the answer."""
    q, tgt = _sample_queries(split, stage, 0, 0, users)
    title_of = {int(i): str(t) for i, t in titles.items()}
    rows = []
    for variant in variants:
        empty = np.zeros((len(q), 0), dtype=np.int64)
        prompts, _, _ = _prompts(lm, q, empty, title_of, variant == "time", max_history, "compact", system)
        rows += [{"user": int(u), "variant": variant, "prompt": p, "answer": title_of[int(t)]}
                 for u, p, t in zip(q.users, prompts, tgt)]
    return pd.DataFrame(rows)


def title_token_batches(lm: GenerativeLM, examples: pd.DataFrame, batch_size: int, seed: int = 0
                        ) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Shuffled right-padded batches (ids, attention mask, labels); labels are -100 except on the answer's
    tokens, which are tokenised on their own as ``score_candidates`` does, so training and scoring agree."""
    seqs = []
    for prompt, answer in zip(examples["prompt"], examples["answer"]):
        p, a = lm._encode(prompt), lm._continuation(answer, add_eos=False)
        seqs.append((p + a, [-100] * len(p) + a))
    order = np.random.default_rng(seed).permutation(len(seqs))
    out = []
    for s in range(0, len(order), batch_size):
        chunk = [seqs[i] for i in order[s:s + batch_size]]
        width = max(len(ids) for ids, _ in chunk)
        ids = torch.full((len(chunk), width), lm.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(chunk), width), dtype=torch.long)
        labels = torch.full((len(chunk), width), -100, dtype=torch.long)
        for b, (x, y) in enumerate(chunk):
            ids[b, :len(x)], mask[b, :len(x)], labels[b, :len(y)] = torch.tensor(x), 1, torch.tensor(y)
        out.append((ids, mask, labels))
    return out


def lora_finetune(lm: GenerativeLM, examples: pd.DataFrame, settings: LoraSettings | None = None,
                  device: str | None = None) -> tuple[GenerativeLM, TrainResult]:
    """A copy of ``lm`` with LoRA adapters trained (``tsrec.training.loop.run``) to predict each example's answer
    tokens after its prompt (mean cross-entropy per answer token), merged into the weights for fast scoring;
    ``lm`` itself is left untouched."""
    from peft import LoraConfig, get_peft_model

    s = settings or LoraSettings()
    tuned = copy.copy(lm)
    base = copy.deepcopy(lm.model)
    with warnings.catch_warnings():  # peft calls a transformers method that transformers 5 renamed
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        peft_model = get_peft_model(base, LoraConfig(r=s.rank, lora_alpha=s.alpha, lora_dropout=s.dropout,
                                                     target_modules=list(s.targets), task_type="CAUSAL_LM"))
    batches = title_token_batches(lm, examples, s.batch_size, s.seed)
    tuned.trainable = trainable_parameters(peft_model)
    dev = lm.device if device is None else torch.device(device)

    def batch_loss(batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, float]:
        ids, mask, labels = (t.to(dev) for t in batch)
        logits = peft_model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        target = labels[:, 1:]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100), 1.0

    cfg = TrainConfig(epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, optimizer="adamw", grad_clip=1.0,
                      eval_every=1, patience=s.epochs, min_delta=0.0, metric="loss", mode="min", seed=s.seed,
                      device=str(dev), progress=False)
    result = run(peft_model, lambda: batches, batch_loss, cfg)
    tuned.model = peft_model.merge_and_unload().eval()
    tuned.name = f"{lm.name}+LoRA(r={s.rank})"
    return tuned, result


def trainable_parameters(model: torch.nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts of a model."""
    return (sum(p.numel() for p in model.parameters() if p.requires_grad), sum(p.numel() for p in model.parameters()))
