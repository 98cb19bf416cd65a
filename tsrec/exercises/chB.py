"""Exercise checks for appendix B."""
from __future__ import annotations

import numpy as np

from tsrec.exercises._common import _close, _report


def chB_sasrec_parameters(answer: int, n_items: int = 1682, max_len: int = 50, hidden: int = 64) -> bool:
    """Ex. B.1: parameters of the SASRec that ``tsrec train --model sasrec`` builds for ML-100K (its defaults)."""
    from tsrec.models.sequential import SASRec

    expected = sum(p.numel() for p in SASRec(n_items, max_len=max_len, hidden=hidden).parameters())
    return _report(_close(answer, expected, tol=0.5),
                   "build tsrec.models.sequential.SASRec(1682, max_len=50, hidden=64) and sum p.numel() over "
                   "parameters()")


def chB_status_code(answer: int) -> bool:
    """Ex. B.2: the status ``tsrec.serve`` answers to POST /events with a timestamp in milliseconds."""
    import tempfile
    import time
    from pathlib import Path

    import pandas as pd
    from fastapi.testclient import TestClient

    from tsrec.models.popularity import Popularity
    from tsrec.serve import create_app

    train = pd.DataFrame({"user": [1, 1, 2], "item": [1, 2, 2], "timestamp": [0, 1, 2]})
    model = Popularity().fit(train, 2, 2)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(model, item_ids=[10, 20], db_path=Path(tmp) / "events.sqlite")
        with TestClient(app) as client:
            expected = client.post("/events", json={"user": 1, "item": 10,
                                                    "timestamp": int(time.time() * 1000)}).status_code
    return _report(_close(answer, expected, tol=0.5),
                   "the request is well-formed JSON but its content cannot be used: see the table of bad requests "
                   "in B.3")


def chB_percentile(answer: float, latencies: tuple = (3.1, 2.9, 3.4, 12.0, 3.0, 2.8, 3.3, 41.5, 3.2, 3.1),
                   q: float = 90) -> bool:
    """Ex. B.3: the q-th percentile of the latencies (numpy's default linear interpolation)."""
    expected = float(np.percentile(np.asarray(latencies, dtype=float), q))
    return _report(_close(answer, expected, tol=1e-6),
                   "np.percentile(latencies, 90): sort, position 0.9 * (n - 1), interpolate between neighbours")
