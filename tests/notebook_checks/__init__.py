"""Per-chapter checks of the values a smoke run records (see tests/test_notebooks.py).

The interval tests the chapters' prose relies on, for a recorded paired difference ``[..., d, half_width]``:
``above`` (the interval lies above 0: "beats"), ``below`` and ``level`` (it contains 0).
"""
from __future__ import annotations


def above(d_ci) -> bool:
    return d_ci[-2] - d_ci[-1] > 0


def below(d_ci) -> bool:
    return d_ci[-2] + d_ci[-1] < 0


def level(d_ci) -> bool:
    return abs(d_ci[-2]) <= d_ci[-1]


def named(records, prefix) -> dict:
    """The records ``prefix[name]`` as {name: value}."""
    return {k[len(prefix) + 1:-1]: v for k, v in records.items() if k.startswith(prefix + "[")}
