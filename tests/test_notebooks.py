"""Every chapter notebook: its structure, its committed records, and a smoke run with papermill.

Each chapter ``chapters/<stem>.ipynb`` has ``tests/notebook_checks/ch<prefix>.py`` with ``check(records)``,
asserting values a wrong implementation would not produce. The check runs twice: on the records the committed
notebook holds (its default-parameter run, so the branches for full runs are exercised and the numbers the
prose quotes are guarded) and on a fresh smoke run.
"""
from __future__ import annotations

import importlib
import json

import pytest

from tsrec import book
from tsrec.profiles import chapter_key

NOTEBOOKS = book.chapters()
IDS = [p.stem for p in NOTEBOOKS]


def test_there_are_chapters():
    assert NOTEBOOKS, "no chapter notebooks found in chapters/"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_structure(nb):
    doc = json.loads(nb.read_text(encoding="utf-8"))
    assert doc["metadata"]["kernelspec"]["name"] == "python3"
    cells = doc["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).lstrip().startswith("# ")
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell must be tagged 'parameters'"
    src = "".join(params[0]["source"])
    for name in ("SMOKE", "SEED", "DEVICE"):
        assert f"{name} =" in src, f"parameters cell lacks {name}"
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    assert "seed_everything(" in code
    assert any(c["cell_type"] == "code" and c.get("outputs") for c in cells), "committed without outputs"
    md = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown").lower()
    assert "summary" in md and "exercise" in md


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_committed_records(nb):
    """The chapter's check on what its committed default run recorded (no execution)."""
    checks = importlib.import_module(f"notebook_checks.ch{chapter_key(nb)}")
    records = book.read_records(nb)
    assert records, "the committed notebook holds no records: execute it with `make chapter`"
    assert records.get("smoke") is not True, "the committed outputs come from a smoke run; run `make chapter`"
    checks.check(records)


@pytest.mark.notebook
@pytest.mark.parametrize("nb", NOTEBOOKS, ids=IDS)
def test_smoke_run(nb, tmp_path, monkeypatch):
    checks = importlib.import_module(f"notebook_checks.ch{chapter_key(nb)}")
    monkeypatch.setenv("TSREC_THREADS", "1")  # the kernel inherits it: tiny runs, and robust on a busy machine
    out = book.execute(nb, tmp_path / nb.name, {"SMOKE": True}, cwd=nb.parent, progress=False)
    records = book.read_records(out)
    assert records, "the notebook recorded nothing"
    checks.check(records)
