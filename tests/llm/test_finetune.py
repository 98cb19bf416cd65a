"""LoRA fine-tuning of the default LM: the training text is llm_rerank's prompt plus the true title, only the
title's tokens are trained, a few steps lower the loss on them, the tuned copy plugs into llm_rerank, and the
original LM is left untouched."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec.llm.finetune import LoraSettings, lora_finetune, next_title_examples, title_token_batches
from tsrec.llm.rerank import llm_rerank
from tsrec.models.popularity import Popularity
from tsrec.splits import leave_one_out


@pytest.fixture(scope="module")
def toy():
    rows = [(u, i, 1_000_000 + 86_400 * k) for u in range(1, 7) for k, i in enumerate([1, 2, 3, 4, (u % 3) + 5])]
    split = leave_one_out(pd.DataFrame(rows, columns=["user", "item", "timestamp"]))
    names = ["Toy Story", "Heat", "Fargo", "Casino", "Babe", "Clueless", "Braveheart"]
    titles = pd.Series(names[: split.n_items], index=np.arange(1, split.n_items + 1))
    return split, titles


def test_examples_are_rerank_prompts_with_the_true_title(lm, toy):
    split, titles = toy
    ex = next_title_examples(lm, split, titles, [1, 2], stage="valid", max_history=3)
    assert len(ex) == 4 and set(ex["variant"]) == {"time", "no_time"}
    assert ex.loc[ex["variant"] == "time", "prompt"].str.contains("days before today|today").all()
    assert not ex.loc[ex["variant"] == "no_time", "prompt"].str.contains("today").any()
    valid = split.valid.set_index("user")["item"]
    assert ex["answer"].tolist()[:2] == [titles[valid[1]], titles[valid[2]]]


def test_batches_train_only_the_answer_tokens(lm, toy):
    split, titles = toy
    ex = next_title_examples(lm, split, titles, [1, 2, 3], max_history=3)
    for ids, mask, labels in title_token_batches(lm, ex, batch_size=4):
        assert ids.shape == mask.shape == labels.shape
        for b in range(len(ids)):
            taught = labels[b][labels[b] != -100]
            assert len(taught) > 0 and (mask[b][labels[b] != -100] == 1).all()
    n_answer = sum(len(lm._continuation(a, add_eos=False)) for a in ex["answer"])
    assert sum(int((lab != -100).sum()) for _, _, lab in title_token_batches(lm, ex, 4)) == n_answer


def test_lora_lowers_the_loss_and_plugs_into_rerank(lm, toy):
    split, titles = toy
    ex = next_title_examples(lm, split, titles, [1, 2, 3], max_history=3)
    before = {k: v.clone() for k, v in lm.model.state_dict().items() if "q_proj" in k}
    tuned, res = lora_finetune(lm, ex, LoraSettings(rank=2, epochs=3, batch_size=6, lr=3e-3))
    assert res.history["loss"].iloc[-1] < res.history["loss"].iloc[0]
    assert 0 < tuned.trainable[0] < tuned.trainable[1] / 100
    assert all(torch.equal(v, lm.model.state_dict()[k]) for k, v in before.items())    # the original untouched
    pop = Popularity().fit(split.train, split.n_users, split.n_items)
    rr = llm_rerank(tuned, pop, split, titles, users=[4, 5, 6], n_candidates=4, show_progress=False)
    assert len(rr.frame) == 3 and rr.frame["time"].between(0, 4).all()
