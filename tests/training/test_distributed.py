"""DDP training under torchrun: two gloo processes train SASRec with the package's loop, stay in step, and match
the single-process run's shape; the helpers shard users evenly."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from tsrec.training.distributed import EncodeModule, shard_users, world


def test_shard_users_partitions_users():
    frame = pd.DataFrame({"user": [1, 1, 1, 2, 2, 3, 4, 4, 4, 4], "item": range(1, 11), "timestamp": range(10)})
    shards = [shard_users(frame, r, 2) for r in range(2)]
    users = [set(s["user"]) for s in shards]
    assert users[0].isdisjoint(users[1]) and users[0] | users[1] == {1, 2, 3, 4}
    assert sum(len(s) for s in shards) == len(frame)
    assert users[0] == {4, 2} and users[1] == {1, 3}        # by decreasing event count, alternating


def test_world_defaults_to_one_process(monkeypatch):
    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert world() == (0, 1)


def test_encode_module_is_the_models_encode():
    import torch

    from tsrec.models.sequential import SASRec
    from tsrec.models.sequential.base import SeqInput

    torch.manual_seed(0)
    m = SASRec(20, max_len=5).eval()
    x = SeqInput(torch.ones(2, dtype=torch.long), torch.randint(1, 21, (2, 5)), torch.zeros(2, 5, dtype=torch.long),
                 torch.zeros(2, 5, dtype=torch.long))
    assert torch.equal(EncodeModule(m)(x), m.encode(x))


def test_torchrun_two_processes(tmp_path):
    out = {}
    for n in (1, 2):
        path = tmp_path / f"run{n}.json"
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}",
                        "-m", "tsrec.training.distributed", "--epochs", "1", "--users", "60", "--out", str(path)],
                       check=True, capture_output=True, env={**os.environ, "TSREC_THREADS": "1"}, timeout=300)
        out[n] = json.loads(path.read_text())
    assert out[1]["world_size"] == 1 and out[2]["world_size"] == 2
    assert len(out[2]["test_per_user_ndcg10"]) == len(out[1]["test_per_user_ndcg10"]) == 60
    assert 0 < out[2]["test_ndcg10"] < 1 and out[2]["loss"][0] == pytest.approx(out[1]["loss"][0], rel=0.05)
