"""Exercise checks for chapter 8."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tsrec.exercises._common import _close, _prediction_note, _report

_LM = {}


def _lm():  # noqa: ANN202 - the default GenerativeLM, loaded once per process
    from tsrec.llm import GenerativeLM

    if "lm" not in _LM:
        _LM["lm"] = GenerativeLM(device="cpu")
    return _LM["lm"]


def _ml100k_split():  # noqa: ANN202
    from tsrec import data, splits

    ml = data.load("ml-100k")
    return ml, splits.leave_one_out(ml.interactions)


def ch08_lora_parameters(answer: int, rank: int = 4,
                         targets: Sequence[str] = ("q_proj", "k_proj", "v_proj", "o_proj")) -> bool:
    """Ex. 8.1: trainable parameters of rank-``rank`` LoRA on ``targets`` of the default LM (counted by peft)."""
    import copy
    import warnings

    from peft import LoraConfig, get_peft_model

    from tsrec.llm.finetune import trainable_parameters

    with warnings.catch_warnings():  # peft calls a transformers method that transformers 5 renamed
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        model = get_peft_model(copy.deepcopy(_lm().model), LoraConfig(r=rank, lora_alpha=2 * rank,
                                                                      target_modules=list(targets)))
    expected = trainable_parameters(model)[0]
    return _report(_close(answer, expected, tol=0.5),
                   "sum rank * (in_features + out_features) over every q/k/v/o projection of every layer")


def ch08_ddp_steps(answer: int, world_size: int = 4, batch_size: int = 64, max_len: int = 50) -> bool:
    """Ex. 8.2: optimiser steps per epoch of each DDP process (the smallest shard's batch count)."""
    import torch

    from tsrec.training import LengthBuckets, SequenceDataset
    from tsrec.training.distributed import shard_users

    _, split = _ml100k_split()
    counts = []
    for rank in range(world_size):
        ds = SequenceDataset(shard_users(split.train, rank, world_size), max_len)
        counts.append(len(LengthBuckets((ds.items > 0).sum(1), batch_size // world_size, torch.Generator())))
    return _report(_close(answer, min(counts), tol=0.5),
                   "count each shard's training windows, divide by the per-process batch (rounding up), take the min")


def ch08_time_tokens(answer: float, prediction: float | None = None, users: Sequence[int] = (1, 2, 3),
                     max_history: int = 6) -> bool:
    """Ex. 8.3 (predict, then run): mean extra prompt tokens of the time variant over ``users``' test prompts."""
    from tsrec.llm.finetune import next_title_examples

    ml, split = _ml100k_split()
    lm = _lm()
    ex = next_title_examples(lm, split, split.items_frame(ml.items)["title"], [int(u) for u in users], stage="test",
                             max_history=max_history)
    n = ex.assign(n=[len(lm._encode(p)) for p in ex["prompt"]]).pivot(index="user", columns="variant", values="n")
    expected = float(np.mean(n["time"] - n["no_time"]))
    _prediction_note(prediction, answer, ".1f")
    return _report(_close(answer, expected, tol=1e-6),
                   "tokenise each user's 'time' and 'no_time' test prompt with lm._encode, subtract, average")
