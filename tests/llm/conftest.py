"""The two real default models, loaded once for all tests of tsrec.llm, from local files only.

No test here may reach the network: pytest-socket (``--allow-hosts`` in pyproject.toml) fails any connection
to a host other than this machine, so a model that tried the Hugging Face hub would fail the test using it.
"""
from __future__ import annotations

import pytest

from tsrec.llm import GenerativeLM, TextEncoder


@pytest.fixture(scope="session")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> TextEncoder:
    """The default encoder on CPU, with a private embedding cache so cache hits are this run's own."""
    return TextEncoder(device="cpu", cache=tmp_path_factory.mktemp("embeddings"))


@pytest.fixture(scope="session")
def lm() -> GenerativeLM:
    """The default generative LM on CPU (dequantised once into the shared cache_home())."""
    return GenerativeLM(device="cpu")
