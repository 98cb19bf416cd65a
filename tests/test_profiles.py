"""tsrec.profiles and ``tsrec book run --profile/--device/--out``: a chapter's overrides, without executing it."""
from __future__ import annotations

import json

import pytest

from tsrec import book, cli, profiles

NOTEBOOKS = book.chapters()


def test_chapter_key():
    assert profiles.chapter_key("chapters/04_2a_sequence_models.ipynb") == "04_2a"
    assert profiles.chapter_key("01_basics.ipynb") == "01"
    assert profiles.chapter_key("B_deployment.ipynb") == "B"


def test_every_gpu_profile_names_an_existing_chapter():
    keys = {profiles.chapter_key(p) for p in NOTEBOOKS}
    assert set(profiles.GPU) <= keys


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_gpu_profile_sets_parameters_the_chapter_has_to_other_values(nb):
    defaults = profiles.notebook_parameters(nb)
    params = profiles.parameters_for(nb, "gpu")          # raises on a name the parameters cell lacks
    assert params["DEVICE"] == "cuda" and "SMOKE" not in params
    for name, value in params.items():
        assert value != defaults[name], f"{nb.name}: the gpu profile's {name} is the default"
    assert profiles.parameters_for(nb) == {}             # the default profile changes nothing


def test_device_and_smoke_come_after_the_profile():
    nb = book.chapters("04_2a")[0]
    params = profiles.parameters_for(nb, "gpu", device="cpu", smoke=True)
    assert params["DEVICE"] == "cpu" and params["SMOKE"] is True and params["WINDOWS"] == "all"


def _notebook(tmp_path, source: str):
    cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]}, "source": source, "outputs": [],
            "execution_count": None}
    path = tmp_path / "09_test.ipynb"
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_unknown_names_and_profiles_are_refused(tmp_path, monkeypatch):
    nb = _notebook(tmp_path, "SMOKE = False  # tiny\nSEED, DEVICE = 0, 'auto'\nDEVICE = 'auto'\nX = [1, 2]\nY = f(3)\n")
    assert profiles.notebook_parameters(nb) == {"SMOKE": False, "DEVICE": "auto", "X": [1, 2], "Y": None}
    assert profiles.parameters_for(nb, "gpu") == {"DEVICE": "cuda"}      # a chapter with no bigger settings
    monkeypatch.setitem(profiles.GPU, "09", {"EPOCHS": 10})
    with pytest.raises(ValueError, match="no parameter.*EPOCHS"):
        profiles.parameters_for(nb, "gpu")
    with pytest.raises(ValueError, match="unknown profile"):
        profiles.parameters_for(nb, "tpu")


def test_book_run_passes_the_profile_to_papermill(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(book, "execute", lambda path, out, params: calls.append((path.name, out, params)))
    args = ["book", "run", "--chapter", "04_2a", "--profile", "gpu", "--device", "cpu", "--smoke",
            "--out", str(tmp_path)]
    assert cli.main(args) == 0
    (name, out, params), = calls
    assert name.startswith("04_2a") and out == tmp_path / name
    assert params == {**profiles.parameters_for(book.chapters("04_2a")[0], "gpu"), "DEVICE": "cpu", "SMOKE": True}
    assert "WINDOWS='all'" in capsys.readouterr().err
    assert cli.main(["book", "run", "--chapter", "04_2a", "--profile", "huge"]) == 2   # one line, exit status 2
    assert "unknown profile" in capsys.readouterr().err and len(calls) == 1
