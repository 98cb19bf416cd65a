"""Parameter profiles of the chapters: papermill overrides of a chapter's ``parameters`` cell for other machines.

A chapter's defaults fit a two-core CPU. The ``gpu`` profile sets ``DEVICE = "cuda"`` in every chapter and,
where a chapter has a natural bigger setting (whole histories instead of the last window, more epochs or seeds,
more probes, all users), that setting too. ``tsrec book run --chapter 04_2a --profile gpu`` passes the
overrides to papermill, so the notebooks stay as they are; ``parameters_for`` refuses an override that names
no parameter of the chapter, so a renamed parameter cannot be skipped without notice.
"""
from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

# Bigger settings per chapter (prefix of the notebook's name) for a CUDA machine; DEVICE is added for all.
GPU: dict[str, dict[str, Any]] = {
    "01": {"TS_USERS": 943},                                       # every ML-100K user's score trajectory
    "02": {"SEEDS": 3, "EPOCHS": 60, "LS_SEEDS": 3, "LS_EPOCHS": 30, "WINDOWS": "all", "RERANK_USERS": 200},
    "04_2a": {"WINDOWS": "all", "MAX_EPOCHS": 60, "PATIENCE": 5, "LS_EPOCHS": 16, "BPR_EPOCHS": 100,
              "ML_MODELS": ["GRU4Rec", "LSTM4Rec", "NextItNet", "SASRec", "TiSASRec", "SASRec+calendar",
                            "SASRec+time2vec", "SASRec+time2vec_now", "SASRec+log_interval", "TimeSensitiveModel",
                            "TimeSensitiveModel+CE", "SASRec (all windows)"],
              "SHUFFLED_MODELS": ["SASRec", "GRU4Rec", "NextItNet"],
              "LS_MODELS": ["GRU4Rec", "SASRec", "TiSASRec", "SASRec+time2vec_now"]},
    "04_2b": {"N_PROBE": 100, "EPOCHS": 30, "GEN_EPOCHS": 30, "PATIENCE": 6},
    "04_3": {"SASREC_EPOCHS": 30},
    "05": {"EPOCHS": 40, "N_TRIALS": 100, "SEARCH_QUERIES": 5000, "RERANK_USERS": 671},  # LRURec, SASRec converge
    "06_1": {"N_TRIALS": 40, "TRIAL_EPOCHS": 30, "MAX_EPOCHS": 60, "SEEDS": [0, 1, 2, 3, 4], "WINDOWS": "all",
             "LATENCY_REQUESTS": 1000},
    "06_2": {"EPOCHS": 40, "EPSILONS": [0.5, 1.0, 2.0, 4.0, 8.0, 16.0], "N_EXPLAIN": 943, "IG_STEPS": 128,
             "FED_CLIENTS": 20, "FED_ROUNDS": 20, "DELETE_KS": [1, 3, 5, 10]},
    "07_1": {"HOUSEHOLDS": 2469},                                  # every Dunnhumby household
    "07_2": {"SASREC_EPOCHS": 20},
    "08": {"TRAIN_USERS": 400, "EVAL_USERS": 300, "N_CANDIDATES": 20, "MAX_HISTORY": 10, "LORA_EPOCHS": 2,
           "SASREC_EPOCHS": 30, "DDP_EPOCHS": 20},
    "B": {"EPOCHS": 50},
    "C": {"EPOCHS": 40, "RANDOM_TIE_SEEDS": 20, "LATENCY_REQUESTS": 2000},
}
PROFILES: dict[str, dict[str, dict[str, Any]]] = {"default": {}, "gpu": GPU}
PROFILE_DEVICE: dict[str, str] = {"gpu": "cuda"}


def chapter_key(path: str | Path) -> str:
    """'04_2a_sequence_models.ipynb' -> '04_2a', 'B_deployment.ipynb' -> 'B': the leading numbered parts."""
    parts = []
    for tok in Path(path).stem.split("_"):
        if not (tok[:1].isdigit() or (len(tok) == 1 and tok.isupper())):
            break
        parts.append(tok)
    return "_".join(parts)


def _parameters_source(path: Path) -> str:
    """The source of the notebook's one cell tagged ``parameters``."""
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    found = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(found) != 1:
        raise ValueError(f"{Path(path).name} has {len(found)} cells tagged 'parameters', expected one")
    return "".join(found[0]["source"])


def notebook_parameters(path: str | Path) -> dict[str, Any]:
    """The names the ``parameters`` cell assigns -> their default values (``None`` where not a plain literal)."""
    out: dict[str, Any] = {}
    for node in ast.parse(_parameters_source(Path(path))).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    try:
                        out[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        out[target.id] = None
    return out


def profile_overrides(path: str | Path, profile: str) -> dict[str, Any]:
    """The overrides ``profile`` gives the chapter at ``path`` (its device, then its bigger settings)."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
    device = {"DEVICE": PROFILE_DEVICE[profile]} if profile in PROFILE_DEVICE else {}
    return {**device, **PROFILES[profile].get(chapter_key(path), {})}


def parameters_for(path: str | Path, profile: str = "default", device: str | None = None,
                   smoke: bool = False) -> dict[str, Any]:
    """Papermill parameters for one run: the profile's overrides, then ``DEVICE = device`` and ``SMOKE``.

    ValueError if a parameter is not one the chapter's ``parameters`` cell defines."""
    params = profile_overrides(path, profile)
    if device is not None:
        params["DEVICE"] = device
    if smoke:
        params["SMOKE"] = True
    unknown = sorted(set(params) - set(notebook_parameters(path))) if params else []
    if unknown:
        raise ValueError(f"{Path(path).name} has no parameter(s) {', '.join(unknown)} (profile {profile!r}); "
                         "update tsrec/profiles.py to the chapter's parameters cell")
    return params
