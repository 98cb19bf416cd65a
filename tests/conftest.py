"""Shared fixtures: one torch thread, GPU tests skipped without CUDA (or run on $TSREC_GPU_TEST_DEVICE), data sets
loaded once."""
from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    """One torch thread: the test models are tiny, and on a busy 2-core machine a second thread only waits."""
    import torch

    torch.set_num_threads(1)


def gpu_test_device() -> str:
    """The device the ``gpu`` tests run on: $TSREC_GPU_TEST_DEVICE (``cpu`` in gpu_check.sh's dry run), else cuda."""
    return os.environ.get("TSREC_GPU_TEST_DEVICE") or "cuda"


def pytest_collection_modifyitems(config, items):
    """The chapter smoke runs first, so that two xdist workers share them rather than one finishing them alone;
    gpu tests skipped without CUDA."""
    import torch

    items.sort(key=lambda item: item.get_closest_marker("notebook") is None)   # stable: otherwise in file order
    if torch.cuda.is_available() or gpu_test_device() != "cuda":
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if item.get_closest_marker("gpu") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def gpu_device() -> str:
    return gpu_test_device()


@pytest.fixture(scope="session")
def ml100k():
    from tsrec import data

    return data.load("ml-100k")


@pytest.fixture(scope="session")
def ml100k_loo(ml100k):
    from tsrec import splits

    return splits.leave_one_out(ml100k.interactions)
