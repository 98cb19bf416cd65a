"""A private copy of a fetched data set, to damage in a test without touching the real one."""
from __future__ import annotations

import shutil

import pytest

from tsrec.config import data_home


@pytest.fixture
def copy_dataset():
    """``copy_dataset(tmp_path, name)`` copies the fetched files of ``name`` to ``tmp_path / name``."""

    def copy(tmp_path, name):
        dst = tmp_path / name
        shutil.copytree(data_home() / name, dst)
        return dst

    return copy
