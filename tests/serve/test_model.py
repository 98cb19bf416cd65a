"""Tests of tsrec.serve.model: a model saved with its id maps and loaded back, as a pickle or a checkpoint."""
from __future__ import annotations

import os
import pickle

import numpy as np
import pytest
import torch

from tsrec import data, prep, splits
from tsrec.models.knn import ItemKNN
from tsrec.models.sequential import SASRec
from tsrec.queries import QueryBatch
from tsrec.serve import ServedModel, as_served, load_model, save_model


def test_recommender_round_trips_with_its_id_maps(tmp_path):
    split = splits.leave_one_out(data.synthetic().interactions)
    model = ItemKNN(k_neighbors=20).fit(split.train, split.n_users, split.n_items)
    path = save_model(model, tmp_path / "knn.pkl", split.item_map, split.user_map,
                      item_counts=np.bincount(split.train["item"], minlength=split.n_items + 1),
                      info={"data": "synthetic"})
    with pytest.raises(data.DataError, match="--allow-pickle"):
        load_model(path)                                        # a pickle runs code: only when asked for
    served = load_model(path, allow_pickle=True)
    assert served.n_items == split.n_items and served.info["data"] == "synthetic"
    assert served.user_map.raw.tolist() == split.user_map.raw.tolist() and served.item_counts is not None
    q = QueryBatch(np.array([1]), [np.array([1, 2])], [np.array([1, 2])], np.array([3]))
    torch.testing.assert_close(served.model.score(q), model.score(q))


def test_sequence_checkpoint_carries_its_id_maps(tmp_path):
    torch.manual_seed(0)
    model = SASRec(4, max_len=4, hidden=8, n_blocks=1).eval()
    items, users = prep.IdMap.fit([10, 20, 30, 40]), prep.IdMap.fit([7, 8])
    path = save_model(model, tmp_path / "sas.pt", items, users, info={"data": "toy"})
    served = load_model(path)
    assert served.item_map.raw.tolist() == [10, 20, 30, 40] and served.user_map.raw.tolist() == [7, 8]
    assert served.item_index(30) == 3 and served.item_index(99) == 0 and served.info == {"data": "toy"}
    assert served.user_index(8) == 2 and served.user_index(9) == 0 and served.name == "SASRec"
    batch = QueryBatch(np.array([1]), [np.array([1, 2])], [np.array([1, 2])], np.array([3]))
    torch.testing.assert_close(served.model.score(batch), model.score(batch))


def test_bad_files_and_missing_id_maps_are_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "nope.pt")
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(data.DataError, match="neither a tsrec checkpoint"):
        load_model(tmp_path / "junk.pkl", allow_pickle=True)
    model = SASRec(3, max_len=4, hidden=8, n_blocks=1)
    with pytest.raises(ValueError, match="no item id map"):
        as_served(model)
    served = as_served(model, item_ids=["a", "b", "c"])
    assert isinstance(served, ServedModel) and served.item_index("b") == 2 and served.user_map is None
    with pytest.raises(ValueError, match="unique"):
        as_served(model, item_ids=["a", "a", "c"])
    with pytest.raises(ValueError, match="item map has 2 ids"):
        as_served(model, item_ids=["a", "b"])


def test_no_code_runs_from_a_checkpoint_and_damaged_ones_are_refused(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (tmp_path / "model.pt").write_bytes(pickle.dumps({"format": "tsrec.served-model/1", "model": Evil()}))
    torch.save({"state_dict": Evil()}, tmp_path / "zipped.pt")            # torch's zip format, code inside
    for name in ("model.pt", "zipped.pt"):
        with pytest.raises(data.DataError, match="not a (readable )?tsrec checkpoint"):
            load_model(tmp_path / name)
    assert not marker.exists()

    torch.manual_seed(0)
    model = SASRec(4, max_len=4, hidden=8, n_blocks=1)
    good = save_model(model, tmp_path / "sas.pt", prep.IdMap.fit([1, 2, 3, 4]))
    payload = good.read_bytes()
    (tmp_path / "truncated.pt").write_bytes(payload[: len(payload) // 2])
    with pytest.raises(data.DataError, match="not a readable tsrec checkpoint"):
        load_model(tmp_path / "truncated.pt")
    with torch.no_grad():
        model.item_emb.weight[2, 0] = float("nan")
    save_model(model, tmp_path / "nan.pt", prep.IdMap.fit([1, 2, 3, 4]))
    with pytest.raises(data.DataError, match="NaN or inf"):
        load_model(tmp_path / "nan.pt")
    ckpt = torch.load(good, weights_only=True)
    ckpt["state_dict"]["item_emb.weight"][1, 0] += 1.0                     # edited after saving
    torch.save(ckpt, tmp_path / "edited.pt")
    with pytest.raises(data.DataError, match="sha256"):
        load_model(tmp_path / "edited.pt")
    assert load_model(good).model.checkpoint_versions["torch"] == str(torch.__version__)
