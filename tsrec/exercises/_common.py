"""Helpers shared by the per-chapter exercise checks."""
from __future__ import annotations

import inspect

import numpy as np

from tsrec.book import record


def _report(ok: bool, hint: str) -> bool:
    """Print the verdict, and record it under ``exercise:<check name>`` so a chapter's check sees its solutions pass."""
    record(f"exercise:{inspect.stack()[1].function}", bool(ok))
    print("Correct!" if ok else f"Not yet. Hint: {hint}")
    return ok


def _close(a: object, b: object, tol: float = 1e-6) -> bool:
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=tol, rtol=1e-4))
    except (TypeError, ValueError):
        return False


def _prediction_note(prediction: float | None, answer: float, fmt: str = ".4f") -> None:
    """Say how far the reader's prediction, written down before running the code, was from the computed answer."""
    try:
        off = float(prediction) - float(answer)
    except (TypeError, ValueError):  # no prediction written down, or no answer computed yet
        return
    rel = f" ({abs(off) / abs(float(answer)):.0%} of the answer)" if float(answer) else ""
    print(f"Your prediction {float(prediction):{fmt}}, your computed answer {float(answer):{fmt}}: "
          f"off by {off:+{fmt}}{rel}")
