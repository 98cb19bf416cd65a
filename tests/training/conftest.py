"""A small synthetic leave-one-out split for the training tests."""
from __future__ import annotations

import pytest

from tsrec import data, splits


@pytest.fixture(scope="package")
def split() -> splits.Split:
    return splits.leave_one_out(data.synthetic(n_users=30, n_items=25, events_per_user=15).interactions)
