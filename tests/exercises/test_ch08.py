"""Chapter 8's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import numpy as np

from tsrec import data, exercises, splits
from tsrec.exercises.ch08 import _lm
from tsrec.llm.finetune import next_title_examples
from tsrec.training import SequenceDataset
from tsrec.training.distributed import shard_users


def test_lora_parameters():
    right = sum(4 * (m.in_features + m.out_features) for name, m in _lm().model.named_modules()
                if name.split(".")[-1] in ("q_proj", "k_proj", "v_proj", "o_proj"))
    assert exercises.ch08_lora_parameters(right)
    assert not exercises.ch08_lora_parameters(right // 2)   # q and v only, or the wrong rank


def test_ddp_steps():
    split = splits.leave_one_out(data.load("ml-100k").interactions)
    steps = [int(np.ceil(len(SequenceDataset(shard_users(split.train, r, 4), 50)) / 16)) for r in range(4)]
    assert exercises.ch08_ddp_steps(min(steps))
    assert not exercises.ch08_ddp_steps(int(np.ceil(len(SequenceDataset(split.train, 50)) / 64)) * 4)


def test_time_tokens():
    ml = data.load("ml-100k")
    split = splits.leave_one_out(ml.interactions)
    lm = _lm()
    ex = next_title_examples(lm, split, split.items_frame(ml.items)["title"], [1, 2, 3], stage="test", max_history=6)
    n = {v: np.array([len(lm._encode(p)) for p in g["prompt"]]) for v, g in ex.groupby("variant")}
    right = float((n["time"] - n["no_time"]).mean())
    assert exercises.ch08_time_tokens(right, users=(1, 2, 3))
    assert not exercises.ch08_time_tokens(right + 5, users=(1, 2, 3))
