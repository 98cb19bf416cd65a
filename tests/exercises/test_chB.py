"""Appendix B's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import numpy as np
import torch

from tsrec import data, exercises, splits


def test_sasrec_parameters():
    from tsrec.models.sequential import SASRec

    def count(hidden):
        return sum(p.numel() for p in SASRec(1682, max_len=50, hidden=hidden).parameters())

    assert exercises.chB_sasrec_parameters(count(128))
    assert not exercises.chB_sasrec_parameters(count(64))   # the chapter's own model, printed in B.2


def test_retried_event():
    assert exercises.chB_retried_event(2)                  # the log has no idempotency key: both are kept
    assert not exercises.chB_retried_event(1)


def test_one_horror_film_judges_the_answer_and_reports_the_prediction(tmp_path, capsys):
    from tsrec.metrics import topk_items
    from tsrec.models.sequential import SASRec
    from tsrec.queries import QueryBatch, seen_mask
    from tsrec.serve import save_model

    ml = data.load("ml-100k")
    split = splits.leave_one_out(ml.interactions)
    torch.manual_seed(0)
    model = SASRec(split.n_items, max_len=50, hidden=16, n_blocks=1).eval()
    ckpt = save_model(model, tmp_path / "sasrec.pt", split.item_map, split.user_map)
    # the expected count computed another way: the model scores user 1's history plus the film directly
    inter, horror = ml.interactions, ml.items.set_index("item")["genres"].str.contains("Horror")
    own = inter[inter["user"] == 1].sort_values("timestamp", kind="stable")["item"].tolist()
    film = next(i for i in inter["item"].value_counts().index if horror[i] and i not in set(own))
    enc = np.asarray(split.item_map.encode(own + [film]), dtype=np.int64)
    batch = QueryBatch(np.array([1]), [enc], [np.arange(len(enc))], np.array([len(enc)]))
    with torch.no_grad():
        top = topk_items(model.score(batch), seen_mask(batch, split.n_items + 1), 10)[0].numpy()
    right = int(horror.reindex(split.item_map.decode(top)).sum())
    assert exercises.chB_one_horror_film(right, prediction=3, checkpoint=ckpt)
    assert "Your prediction 3" in capsys.readouterr().out
    assert not exercises.chB_one_horror_film(right + 1, checkpoint=ckpt)


def test_percentile():
    lat = [3.1, 2.9, 3.4, 12.0, 3.0, 2.8, 3.3, 41.5, 3.2, 3.1]
    assert exercises.chB_percentile(12.0 + 0.1 * (41.5 - 12.0))   # position 8.1 of the sorted list
    assert not exercises.chB_percentile(float(np.max(lat)))
