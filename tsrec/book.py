"""Notebook harness: record values a chapter computed, read them back, and execute chapters.

``record(name, value)`` shows the value in the notebook as JSON under a tsrec MIME type, so an
executed notebook carries its results; ``read_records(path)`` gets them back for the tests.
``tsrec book run [--chapter 01] [--smoke]`` (``tsrec.cli``) executes chapters in place with papermill.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from tsrec.config import REPO_ROOT

MIME = "application/vnd.tsrec.record+json"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
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
    """Keep ``value`` under ``name`` for the tests; inside Jupyter it is also stored in the cell output."""
    value = _jsonable(value)
    json.dumps(value)  # fail early on something that is not JSON
    RECORDS[name] = value
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain python: keep it in memory only
        return
    if get_ipython() is not None:
        display({MIME: {name: value}, "text/plain": f"recorded {name}"}, raw=True)


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
    """Execute one notebook with papermill (kernel ``python3``); in place unless ``output`` is given.

    The kernel always gets matplotlib's inline backend, so figures land in the notebook even when the calling
    process runs headless with ``MPLBACKEND=Agg`` (which a kernel would otherwise inherit, drawing nothing).
    """
    import papermill as pm

    output = output or path
    backend = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    try:
        pm.execute_notebook(str(path), str(output), parameters=parameters or {}, kernel_name="python3",
                            cwd=str(cwd or path.parent), progress_bar=progress, request_save_on_cell_execute=False)
    finally:
        if backend is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = backend
    return output
