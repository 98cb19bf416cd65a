"""Notebook harness: record values a chapter computed, read them back, and execute chapters.

``record(name, value)`` keeps a value the chapter computed, silently; ``show_records()`` (a chapter's last
cell) shows them all in one collapsed table and stores them as JSON under a tsrec MIME type, so an executed
notebook carries its results; ``read_records(path)`` gets them back for the tests.
``tsrec book run [--chapter 01] [--smoke] [--profile gpu]`` (``tsrec.cli``, ``tsrec.profiles``) executes chapters
in place with papermill, with progress bars off and papermill's metadata free of machine paths.
"""
from __future__ import annotations

import html
import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from tsrec.config import REPO_ROOT

MIME = "application/vnd.tsrec.record+json"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# What a papermill kernel inherits: inline figures even from a headless caller (which a kernel would otherwise
# inherit as MPLBACKEND=Agg, drawing nothing), and no progress bars in the committed pages.
KERNEL_ENV = {"MPLBACKEND": INLINE_BACKEND, "TQDM_DISABLE": "1", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
CHAPTERS_DIR = REPO_ROOT / "chapters"
RECORDS: dict[str, object] = {}


def _jsonable(value: Any) -> Any:
    """Convert numpy/pandas/torch scalars and containers to plain JSON types (NaN becomes None)."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (np.generic,)):
        return value.item()
    return value


def record(name: str, value: Any) -> None:
    """Keep ``value`` under ``name`` for the chapter's check; ``show_records`` writes them all out at the end."""
    value = _jsonable(value)
    json.dumps(value)  # fail early on something that is not JSON
    RECORDS[name] = value


def _short(value: object, width: int = 72) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= width else text[:width - 1] + "…"


def show_records(check: str = "") -> None:
    """Display every recorded value once: a collapsed table for the reader, JSON for the tests."""
    from IPython.display import display

    title = f"{len(RECORDS)} numbers recorded for the chapter's check{f' ({check})' if check else ''}"
    rows = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td><code>{html.escape(_short(v))}</code></td></tr>"
                   for k, v in RECORDS.items())
    display({MIME: dict(RECORDS), "text/plain": title,
             "text/html": f"<details><summary>{html.escape(title)}</summary><table>{rows}</table></details>"},
            raw=True)


def read_records(path: str | Path) -> dict[str, object]:
    """All values recorded in an executed notebook, by name (later records win)."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    out: dict[str, object] = {}
    for cell in nb.get("cells", []):
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            if MIME in data:
                out.update(data[MIME])
    return out


def chapters(pattern: str | None = None) -> list[Path]:
    """Chapter notebooks in order; ``pattern`` selects by prefix, e.g. '01' or '04_1'."""
    found = sorted(CHAPTERS_DIR.glob("[0-9A-Z]*.ipynb"))
    if pattern:
        found = [p for p in found if p.name.startswith(pattern)]
        if not found:
            raise SystemExit(f"no chapter matches {pattern!r} in {CHAPTERS_DIR}")
    return found


def execute(path: Path, output: Path | None = None, parameters: dict | None = None, cwd: Path | None = None,
            progress: bool = True) -> Path:
    """Execute one notebook with papermill (kernel ``python3``, environment ``KERNEL_ENV``); in place unless
    ``output`` is given."""
    import papermill as pm

    output = output or path
    saved = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)
    try:
        pm.execute_notebook(str(path), str(output), parameters=parameters or {}, kernel_name="python3",
                            cwd=str(cwd or path.parent), progress_bar=progress, request_save_on_cell_execute=False)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    _drop_machine_paths(output)
    return output


def _drop_machine_paths(path: Path) -> None:
    """Keep only file names in papermill's metadata, so a committed notebook names no directory of this machine."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    meta = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):
        if meta.get(key):
            meta[key] = Path(meta[key]).name
    nbformat.write(nb, str(path))
