"""The planted synthetic stream (items fade after launch, weekly habits) shared by the tests of tsrec.online."""
from __future__ import annotations

import pytest

from tsrec import data
from tsrec.online import EventSource


@pytest.fixture(scope="package")
def synth_source() -> EventSource:
    return EventSource(data.synthetic().interactions, encode=True)
