"""Tests of tsrec.metrics.rating: RMSE and MAE by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tsrec.metrics import mae, rmse

# --------------------------------------------------------------------------- rating error


def test_rmse_mae_hand_example():
    # errors 1, 0, 2 -> MAE = 1, RMSE = sqrt((1 + 0 + 4)/3)
    assert mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)
    assert rmse(np.array([1, 2, 3]), torch.tensor([2.0, 2.0, 5.0])) == pytest.approx(math.sqrt(5 / 3))
