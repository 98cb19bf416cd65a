"""Rating error: RMSE and MAE of predicted against true ratings."""
from __future__ import annotations

from typing import Any

import numpy as np

from tsrec.metrics.inputs import float_1d


def _pair_1d(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two equally long, non-empty, NaN-free 1-D float arrays."""
    a, b = float_1d(y_true, "y_true"), float_1d(y_pred, "y_pred")
    if a.shape != b.shape:
        raise ValueError(f"y_true has {a.size} values but y_pred has {b.size}")
    if a.size == 0:
        raise ValueError("y_true and y_pred are empty")
    return a, b


def rmse(y_true: Any, y_pred: Any) -> float:
    """Root mean squared rating error: penalises large mistakes more than MAE."""
    a, b = _pair_1d(y_true, y_pred)
    return float(np.sqrt(np.mean((a - b) ** 2)))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute rating error, in rating units."""
    a, b = _pair_1d(y_true, y_pred)
    return float(np.mean(np.abs(a - b)))
