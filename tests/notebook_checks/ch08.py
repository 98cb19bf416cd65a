"""Chapter 8 (a LoRA-tuned SmolLM2 as the recommender; SASRec trained with DDP under torchrun): the numbers its
text quotes, and values a wrong implementation would not produce. Runs on the committed default run and on a
smoke run (``records["smoke"]``); timings are only checked for their order, never against a budget."""
from __future__ import annotations

import pytest

from notebook_checks import level as _level
from notebook_checks import named as _named


def check(records):
    full = records.get("smoke") is False
    assert "smoke" in records

    # the fine-tuning never sees an evaluation user; rank-8 adapters on q_proj and v_proj of SmolLM2-135M's 30
    # layers: 8 * ((576 + 576) + (576 + 192)) * 30 parameters
    assert records["lm_users_disjoint"] is True
    assert records["lora_trainable"] == 460_800
    assert records["lora_examples"] == 2 * records["lm_train_users"]
    nd = _named(records, "lm_ndcg10")
    assert set(nd) == {"SASRec", "untuned LM, time", "untuned LM, no time", "LoRA LM, time", "LoRA LM, no time"}
    assert all(0 <= m <= 1 and h >= 0 for m, h in nd.values())
    diff = _named(records, "lm_diff")
    assert len(diff) == 6
    cpu = records["lm_cpu_seconds_per_user"]
    assert cpu["untuned LM"] > 0 and cpu["LoRA LM"] > 0

    # DDP: one and two processes under torchrun, the same users evaluated
    assert records["ddp_world_sizes"] == [1, 2]
    one, two = records["ddp_ndcg10"]
    assert 0 < one < 1 and 0 < two < 1
    assert all(records[f"exercise:ch08_{n}"] for n in ("lora_parameters", "ddp_steps", "time_tokens"))
    if not full:
        return
    assert records["lm_train_users"] == 32 and records["lm_eval_users"] == 30
    assert records["lm_in_candidates"] == pytest.approx(0.17, abs=0.005)
    for name, value in (("SASRec", 0.059), ("LoRA LM, time", 0.098), ("LoRA LM, no time", 0.108)):
        assert nd[name][0] == pytest.approx(value, abs=0.0005)
    assert cpu["LoRA LM"] == pytest.approx(0.8, abs=0.4)
    # every interval contains zero: level with the untuned LM and with SASRec; the time text neither way
    for name, (d, h) in (("LoRA − untuned (time)", (0.005, 0.020)), ("LoRA − untuned (no time)", (0.024, 0.026)),
                         ("LoRA (time) − SASRec", (0.039, 0.053)), ("time text effect, LoRA", (-0.009, 0.012)),
                         ("time text effect, untuned", (0.009, 0.014))):
        assert _level(diff[name]) and diff[name][0] == pytest.approx(d, abs=0.0005)
        assert diff[name][1] == pytest.approx(h, abs=0.0005)
    assert one == pytest.approx(0.0743, abs=0.00005) and two == pytest.approx(0.0775, abs=0.00005)
    assert records["ddp_ci_single"][1] == pytest.approx(0.0133, abs=0.00005)
    assert _level(records["ddp_diff"]) and records["ddp_diff"][0] == pytest.approx(0.0031, abs=0.00005)
    assert records["ddp_diff"][1] == pytest.approx(0.0099, abs=0.00005)
    assert records["ddp_seconds_per_epoch"][1] < records["ddp_seconds_per_epoch"][0]
