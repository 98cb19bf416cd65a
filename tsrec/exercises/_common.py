"""Helpers shared by the per-chapter exercise checks."""
from __future__ import annotations

import numpy as np


def _report(ok: bool, hint: str) -> bool:
    print("Correct!" if ok else f"Not yet. Hint: {hint}")
    return ok


def _close(a: object, b: object, tol: float = 1e-6) -> bool:
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=tol, rtol=1e-4))
    except (TypeError, ValueError):
        return False
