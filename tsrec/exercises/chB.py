"""Exercise checks for appendix B."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tsrec.exercises._common import _close, _report

if TYPE_CHECKING:
    from fastapi import FastAPI


def _prediction_note(prediction: float | None, expected: float) -> None:
    """Say how far the reader's prediction, written down before running the code, was from the right answer."""
    if prediction is None:
        return
    print(f"Your prediction {prediction:g}; the answer {expected:g}: off by {float(prediction) - float(expected):+g}")


def chB_sasrec_parameters(answer: int, n_items: int = 1682, max_len: int = 50, hidden: int = 128) -> bool:
    """Ex. B.1: parameters of the SASRec that ``tsrec train --model sasrec --hidden 128`` builds for ML-100K."""
    from tsrec.models.sequential import SASRec

    expected = sum(p.numel() for p in SASRec(n_items, max_len=max_len, hidden=hidden).parameters())
    return _report(_close(answer, expected, tol=0.5),
                   f"build tsrec.models.sequential.SASRec({n_items}, max_len={max_len}, hidden={hidden}) and sum "
                   "p.numel() over parameters()")


def _tiny_app(db_path: Path) -> FastAPI:
    """A service over a two-item popularity model, for checks that need the HTTP routes."""
    import pandas as pd

    from tsrec.models.popularity import Popularity
    from tsrec.serve import create_app

    train = pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 2], "timestamp": [0, 1, 2]})
    return create_app(Popularity().fit(train, 2, 2), item_ids=[10, 20], db_path=db_path)


def chB_retried_event(answer: int, posts: int = 2) -> bool:
    """Ex. B.2: events in a new user's history after the same POST /events body was sent ``posts`` times (a
    client that retries after losing the answer), each acknowledged with 201."""
    import tempfile
    import time

    from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory() as tmp, TestClient(_tiny_app(Path(tmp) / "events.sqlite")) as client:
        body = {"user": "retrying-client", "item": 10, "timestamp": int(time.time()) - 60}
        codes = [client.post("/events", json=body).status_code for _ in range(posts)]
        expected = client.get("/users/retrying-client/recommendations").json()["history"]
    assert codes == [201] * posts, codes
    return _report(_close(answer, expected, tol=0.5),
                   "post the same body twice and read 'history' from GET /users/<user>/recommendations: does the "
                   "log know that the second POST is a retry?")


def chB_one_horror_film(answer: int, prediction: int | None = None, checkpoint: str | Path | None = None,
                        user: int = 1, k: int = 10) -> bool:
    """Ex. B.3 (predict, then run): horror films in ``user``'s top ``k`` (ML-100K history, the model in
    ``checkpoint``) after one event of the most-rated horror film the user has not rated is posted."""
    import tempfile

    from tsrec import data
    from tsrec.serve import EventIn, EventLog, Service, load_model

    if checkpoint is None:
        raise ValueError("pass checkpoint=<the .pt file that `tsrec train` wrote>")
    ml = data.load("ml-100k")
    inter, horror = ml.interactions, ml.items.set_index("item")["genres"].str.contains("Horror")
    seen = set(inter.loc[inter["user"] == user, "item"])
    film = next(i for i in inter["item"].value_counts().index if horror.get(i, False) and i not in seen)
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(load_model(checkpoint), EventLog(Path(tmp) / "events.sqlite")).load(inter)
        service.post_event(EventIn(user=user, item=int(film)))
        expected = int(horror.reindex(service.recommend(user, k)["items"]).sum())
        service.log.close()
    ok = _report(_close(answer, expected, tol=0.5),
                 "post the film with Service.post_event, then count the Horror genre among recommend(1, 10)['items']")
    _prediction_note(prediction, expected)
    return ok


def chB_percentile(answer: float, latencies: tuple = (3.1, 2.9, 3.4, 12.0, 3.0, 2.8, 3.3, 41.5, 3.2, 3.1),
                   q: float = 90) -> bool:
    """Ex. B.4: the q-th percentile of the latencies (numpy's default linear interpolation)."""
    expected = float(np.percentile(np.asarray(latencies, dtype=float), q))
    return _report(_close(answer, expected, tol=1e-6),
                   "np.percentile(latencies, 90): sort, position 0.9 * (n - 1), interpolate between neighbours")
