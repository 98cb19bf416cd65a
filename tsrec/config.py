"""Run-time settings shared by every chapter: seeds, device, threads and where files live."""
from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

REPO_ROOT = Path(__file__).resolve().parents[1]


def data_home() -> Path:
    """Directory of fetched data sets: $TSREC_DATA, else ``datasets/cache`` in the repository."""
    env = os.environ.get("TSREC_DATA")
    if env:
        return Path(env).expanduser()
    if (REPO_ROOT / "datasets").is_dir():
        return REPO_ROOT / "datasets" / "cache"
    return Path.home() / ".cache" / "tsrec" / "data"


def cache_home() -> Path:
    """Directory for derived artefacts (embeddings, converted models, checkpoints): $TSREC_CACHE."""
    env = os.environ.get("TSREC_CACHE")
    if env:
        return Path(env).expanduser()
    if (REPO_ROOT / "datasets").is_dir():
        return REPO_ROOT / "artifacts"
    return Path.home() / ".cache" / "tsrec" / "artifacts"


def set_threads(n: int | None = None) -> int:
    """Use $TSREC_THREADS or all cores (at most 8) for torch; return the number chosen.

    A small fixed pool keeps a 2-core laptop responsive and makes CPU runs repeatable.
    """
    import torch

    if n is None:
        n = int(os.environ.get("TSREC_THREADS", 0)) or min(8, os.cpu_count() or 1)
    torch.set_num_threads(max(1, n))
    return torch.get_num_threads()


def seed_everything(seed: int = 0, deterministic: bool = True) -> int:
    """Seed python, numpy and torch so that a rerun prints the same numbers (on CPU)."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    return seed


def device(prefer: str | None = None) -> "torch.device":
    """Pick a device: the argument, then $TSREC_DEVICE, then CUDA, then MPS, then CPU.

    ``prefer="auto"`` or ``None`` means choose automatically.
    """
    import torch

    choice = prefer if prefer not in (None, "", "auto") else os.environ.get("TSREC_DEVICE", "auto")
    if choice and choice != "auto":
        dev = torch.device(choice)
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device {choice!r} was asked for but CUDA is not available; use 'cpu' or 'auto'")
        return dev
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def progress_wanted(wanted: bool = True) -> bool:
    """Whether to draw a progress bar: ``wanted`` unless ``TQDM_DISABLE`` is set (as in the book's papermill
    runs), which a bar given an explicit ``disable=`` would otherwise ignore."""
    return bool(wanted) and os.environ.get("TQDM_DISABLE", "").lower() in ("", "0", "false")
