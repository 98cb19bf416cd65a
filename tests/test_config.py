"""Tests of tsrec.config: where files live, threads, seeds and the device, each overridable from the environment."""
from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from tsrec import config


def test_homes_follow_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("TSREC_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("TSREC_CACHE", str(tmp_path / "c"))
    assert config.data_home() == tmp_path / "d" and config.cache_home() == tmp_path / "c"
    monkeypatch.delenv("TSREC_DATA")
    monkeypatch.delenv("TSREC_CACHE")
    assert config.data_home() == config.REPO_ROOT / "datasets" / "cache"  # in the repository
    assert config.cache_home() == config.REPO_ROOT / "artifacts"


def test_set_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert config.set_threads(1) == 1
        monkeypatch.setenv("TSREC_THREADS", "2")
        assert config.set_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_seed_everything_seeds_python_numpy_and_torch():
    draws = []
    for _ in range(2):
        assert config.seed_everything(11) == 11
        draws.append((random.random(), np.random.rand(), torch.rand(1).item()))
    assert draws[0] == draws[1]


def test_device(monkeypatch):
    monkeypatch.setenv("TSREC_DEVICE", "cpu")
    assert config.device() == torch.device("cpu") and config.device("auto") == torch.device("cpu")
    assert config.device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            config.device("cuda")


def test_progress_bars_follow_tqdm_disable(monkeypatch):
    from tsrec.config import progress_wanted

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert progress_wanted(True) and not progress_wanted(False)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert not progress_wanted(True)
