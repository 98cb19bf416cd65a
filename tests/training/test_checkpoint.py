"""Tests of tsrec.training.checkpoint: every registered model round-trips and scores identically; foreign,
old or unknown files are refused with a clear error."""
from __future__ import annotations

import pytest
import torch

from tsrec.data import DataError
from tsrec.models import sequential as S
from tsrec.models.generative import GenerativeRecommender
from tsrec.models.mf import BPRMF
from tsrec.training import FORMAT_VERSION, MODELS, load_checkpoint, save_checkpoint, train
from tsrec.training.checkpoint import FORMAT

from .helpers import queries, small


def test_the_registry_lists_every_torch_recommender_but_the_rating_models():
    assert set(MODELS) == {"GRU4Rec", "LSTM4Rec", "NextItNet", "SASRec", "TiSASRec", "TimeSensitiveModel",
                           "HybridSASRec", "LRURec", "GenerativeRecommender", "BPRMF"}
    assert all(MODELS[name].__name__ == name for name in MODELS)


@pytest.mark.parametrize("cls, kw", [(S.SASRec, {"time_encoding": "time2vec_now"}), (S.TiSASRec, {}),
                                     (S.NextItNet, {"dilations": (1, 2)}), (S.TimeSensitiveModel, {}),
                                     (S.LRURec, {})])
def test_checkpoint_round_trip_scores_identically(split, tmp_path, cls, kw):
    model = small(cls, split, **kw)
    train(model, split, epochs=1, progress=False)
    path = save_checkpoint(model, tmp_path / "ck" / "model.pt", extra={"note": "test", "valid": 0.5})
    loaded = load_checkpoint(path)
    assert type(loaded) is cls and loaded.config == model.config and not loaded.training
    assert loaded.train_config["epochs"] == 1 and loaded.checkpoint_extra == {"note": "test", "valid": 0.5}
    torch.testing.assert_close(model.score(queries(split)), loaded.score(queries(split)), rtol=0, atol=0)


@pytest.mark.parametrize("build", [lambda s: BPRMF(s.n_users, s.n_items, dim=4, seed=3),
                                   lambda s: GenerativeRecommender(s.n_items, time_tokens=True, max_len=6, n_embd=16,
                                                                   n_head=2, seed=1)],
                         ids=["BPRMF", "GenerativeRecommender"])
def test_non_sequence_models_round_trip_too(split, tmp_path, build):
    model = build(split)
    train(model, split.train, epochs=1, progress=False)
    loaded = load_checkpoint(save_checkpoint(model, tmp_path / "m.pt"))
    assert type(loaded) is type(model) and loaded.config == model.config
    torch.testing.assert_close(model.score(queries(split)), loaded.score(queries(split)), rtol=0, atol=0)


def test_foreign_old_and_unknown_checkpoints_are_refused(split, tmp_path):
    model = small(S.GRU4Rec, split)
    good = torch.load(save_checkpoint(model, tmp_path / "good.pt"), weights_only=True)
    assert good["format"] == FORMAT and good["version"] == FORMAT_VERSION and good["class"] == "GRU4Rec"
    torch.save({"class": "GRU4Rec", "state_dict": {}}, tmp_path / "untagged.pt")
    with pytest.raises(DataError, match="not a tsrec checkpoint"):
        load_checkpoint(tmp_path / "untagged.pt")
    torch.save({**good, "version": FORMAT_VERSION + 1}, tmp_path / "newer.pt")
    with pytest.raises(DataError, match="format version"):
        load_checkpoint(tmp_path / "newer.pt")
    torch.save({**good, "class": "Nope"}, tmp_path / "bad.pt")
    with pytest.raises(DataError, match="unknown model class"):
        load_checkpoint(tmp_path / "bad.pt")
    torch.save({**good, "n_items": good["n_items"] + 1}, tmp_path / "mismatch.pt")
    with pytest.raises(DataError, match="n_items"):
        load_checkpoint(tmp_path / "mismatch.pt")


def test_only_registered_classes_are_saved(tmp_path):
    class Custom(S.GRU4Rec):
        pass

    with pytest.raises(ValueError, match="not a registered model class"):
        save_checkpoint(Custom(5, max_len=4, hidden=8), tmp_path / "custom.pt")
