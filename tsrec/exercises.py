"""Check functions for the exercises at the end of each chapter: they say whether an answer is right.

The expected answers are computed with tsrec itself, never typed in, so a check stays true to the code.
"""
from __future__ import annotations

import math

import numpy as np


def _report(ok: bool, hint: str) -> bool:
    print("Correct!" if ok else f"Not yet. Hint: {hint}")
    return ok


def _close(a, b, tol: float = 1e-6) -> bool:
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=tol, rtol=1e-4))
    except (TypeError, ValueError):
        return False


# ----------------------------------------------------------------------------- chapter 1
def ch01_ndcg(answer: float, rank: int = 3, k: int = 10) -> bool:
    """Ex. 1.1: NDCG@k of one user whose single target sits at 0-based ``rank``."""
    from tsrec.metrics import rank_metrics

    return _report(_close(answer, rank_metrics([rank], ks=(k,))[f"NDCG@{k}"]),
                   "NDCG = 1 / log2(rank + 2) for a hit with a 0-based rank, 0 beyond k")


def ch01_coverage(answer: float, lists=((1, 2, 3), (2, 3, 4), (1, 2, 5)), n_items: int = 10) -> bool:
    """Ex. 1.2: catalogue coverage of the given top-3 lists over ``n_items`` items."""
    from tsrec.metrics import catalog_coverage

    return _report(_close(answer, catalog_coverage(np.array(lists), n_items)),
                   "count the distinct items over all lists and divide by the catalogue size")


def ch01_time_sensitivity(answer: float, scores=(0.2, 0.5, 0.5, 0.9), hours=(0, 2, 2, 6)) -> bool:
    """Ex. 1.3: the TS score of a score series at the given times (hours), zero intervals skipped."""
    from tsrec.metrics import time_sensitivity

    expected = time_sensitivity(np.array(scores), np.array(hours, dtype=float), zero_interval="skip")
    return _report(_close(answer, expected), "pairs with a zero interval are dropped from both the sum and N")


def ch01_popularity_tiebreak(answer: float) -> bool:
    """Ex. 1.4: popularity's test HR@10 on ML-100K when timestamp ties are ordered by item id instead of file row."""
    import torch

    from tsrec import data, prep
    from tsrec.evaluate import evaluate

    df = data.load("ml-100k").interactions.sort_values(["timestamp", "item"], kind="stable")
    split = prep.leave_one_out(df)
    pop = torch.as_tensor(np.bincount(split.train["item"], minlength=split.n_items + 1), dtype=torch.float32)
    expected = evaluate(pop, split, "test", ks=(10,))["HR@10"]
    return _report(_close(answer, expected, tol=5e-4),
                   "sort by (timestamp, item) with a stable sort, split, count training items, evaluate HR@10")


# ----------------------------------------------------------------------------- chapter 3
def ch03_weekday_share(answer: float, weekday: int = 2) -> bool:
    """Ex. 3.1: share of ML-100K activity on ``weekday`` (0 = Monday, 2 = Wednesday) in the UTC weekly profile."""
    from tsrec import data
    from tsrec.timeseries import seasonal_profile

    expected = seasonal_profile(data.load("ml-100k").interactions, "dayofweek").loc[weekday]
    return _report(_close(answer, expected, tol=5e-4),
                   "tsrec.timeseries.seasonal_profile(df, 'dayofweek') gives shares indexed 0 = Monday")


def ch03_daily_cycle_strength(answer: float) -> bool:
    """Ex. 3.2: STL seasonal strength (period 24) of ML-100K's hourly event counts."""
    from tsrec import data
    from tsrec.timeseries import decompose, event_counts, seasonal_strength

    hourly = event_counts(data.load("ml-100k").interactions, "h")
    return _report(_close(answer, seasonal_strength(decompose(hourly, 24)), tol=5e-3),
                   "count events per hour with event_counts(df, 'h'), decompose with period 24, then seasonal_strength")


def ch03_hampel_days(answer: int, window: int = 15, n_sigmas: float = 3.0) -> bool:
    """Ex. 3.3: days of the ML-100K daily count series flagged by a Hampel filter (window, n_sigmas)."""
    from tsrec import data
    from tsrec.timeseries import event_counts, outliers_hampel

    daily = event_counts(data.load("ml-100k").interactions, "D")
    expected = int(outliers_hampel(daily, window=window, n_sigmas=n_sigmas).sum())
    return _report(_close(answer, expected, tol=0.5),
                   "event_counts(df, 'D') then outliers_hampel(daily, window=15, n_sigmas=3).sum()")


def ch03_clean_rows(answer: int, n_clock: int = 100, n_copies: int = 500) -> bool:
    """Ex. 3.4: rows ``prep.clean`` keeps after the last ``n_clock`` timestamps are set to 0 and the
    first ``n_copies`` rows are appended again as exact copies."""
    import pandas as pd

    from tsrec import data, prep

    df = data.load("ml-100k").interactions.copy()
    df.iloc[-n_clock:, df.columns.get_loc("timestamp")] = 0
    dirty = pd.concat([df, df.iloc[:n_copies]], ignore_index=True)
    expected = len(prep.clean(dirty)[0])
    return _report(_close(answer, expected, tol=0.5),
                   "a timestamp of 0 is before 1990 (a clock error) and each appended copy is an exact duplicate")


# ----------------------------------------------------------------------------- chapter 4.1
def ch04_1_decay_weight(answer: float, age_days: float = 3.0, half_life_days: float = 7.0) -> bool:
    """Ex. 4.1.1: the decay weight of an event ``age_days`` old with a half-life of ``half_life_days``."""
    from tsrec.windows import decay_weights

    expected = float(decay_weights(age_days * 86_400, half_life_days * 86_400))
    return _report(_close(answer, expected), "w = 0.5 ** (age / half_life), both in the same unit")


def ch04_1_window_count(answer: int, title: str = "Titanic", now: str = "1998-01-18 23:59:59",
                        window_days: float = 7.0) -> bool:
    """Ex. 4.1.2: ratings of ``title`` on ML-100K in the window (now - window_days, now]."""
    from tsrec import data
    from tsrec.windows import recent_popularity

    ml = data.load("ml-100k")
    item = ml.items.loc[ml.items["title"] == title, "item"].iloc[0]
    counts = recent_popularity(ml.interactions, now, window_days * 86_400)
    return _report(_close(answer, counts.get(item, 0), tol=0.5),
                   "tsrec.windows.recent_popularity(df, now, window_seconds) counts t in (now - window, now], UTC")


def ch04_1_future_share(answer: float) -> bool:
    """Ex. 4.1.3: leave-one-out on ML-100K: the median over test events of the share of all training events
    that are later than the test event."""
    from tsrec import data, prep

    split = prep.leave_one_out(data.load("ml-100k").interactions)
    train_t = np.sort(split.train["timestamp"].to_numpy())
    later = len(train_t) - np.searchsorted(train_t, split.test["timestamp"].to_numpy(), side="right")
    expected = float(np.median(later / len(train_t)))
    return _report(_close(answer, expected, tol=1e-3),
                   "count training timestamps strictly greater than each test timestamp, divide by the training size")


def ch04_1_decayed_pop_hr(answer: float, half_life_days: float = 14.0) -> bool:
    """Ex. 4.1.4: test HR@10 of DecayedPopularity with a half-life of ``half_life_days`` on ML-100K leave-one-out."""
    from tsrec import data, prep
    from tsrec.evaluate import evaluate
    from tsrec.models.popularity import DecayedPopularity

    split = prep.leave_one_out(data.load("ml-100k").interactions)
    model = DecayedPopularity(half_life_days * 86_400).fit(split.train, split.n_users, split.n_items)
    expected = evaluate(model, split, "test", ks=(10,))["HR@10"]
    return _report(_close(answer, expected, tol=5e-4),
                   "fit DecayedPopularity(half_life_seconds) on split.train and call tsrec.evaluate.evaluate on 'test'")


# ----------------------------------------------------------------------------- chapter 4.3
def _ml100k_prequential_ndcg(half_life_days: float, every: int = 10) -> float:
    """NDCG@10 of OnlinePopularity(half_life_days) on ML-100K, every ``every``-th event from the median time."""
    from tsrec import data
    from tsrec import stream as S

    src = S.EventSource(data.load("ml-100k").interactions, encode=True)
    start = int(src.frame["timestamp"].median())
    res = S.prequential(src, S.OnlinePopularity(src.n_items, half_life_days * 86_400), k=10, every=every,
                        start=start, progress=False)
    return S.summarize(res)["NDCG@10"]


def ch04_3_rank(answer: int, scores=(0.0, 0.5, 0.9, 0.5, 0.2, 0.9), target: int = 3, exclude=(2,)) -> bool:
    """Ex. 4.3.1: 0-based rank of ``target`` among items 1..n (``exclude`` masked, ties by item id)."""
    from tsrec.stream import rank_of

    expected = rank_of(np.asarray(scores, dtype=float), target, np.asarray(exclude, dtype=np.int64))[0]
    return _report(_close(answer, expected, tol=0.5),
                   "count unmasked items 1..n with a higher score, plus those with an equal score and a lower id; "
                   "item 0 (padding) and masked items never count")


def ch04_3_decayed_titanic(answer: float, half_life_days: float = 1.0) -> bool:
    """Ex. 4.3.2: Titanic's decayed popularity (half-life ``half_life_days``) as of ML-100K's last event."""
    from tsrec import data
    from tsrec.windows import decayed_popularity

    ml = data.load("ml-100k")
    item = ml.items.loc[ml.items["title"] == "Titanic", "item"].iloc[0]
    inter = ml.interactions
    pop = decayed_popularity(inter, int(inter["timestamp"].max()), half_life_days * 86_400)
    return _report(_close(answer, pop.get(item, 0.0), tol=1e-6),
                   "sum 0.5 ** ((now - t) / half_life) over Titanic's ratings, now = the log's last timestamp")


def ch04_3_prequential_ndcg(answer: float, half_life_days: float = 7.0, every: int = 10) -> bool:
    """Ex. 4.3.3: prequential NDCG@10 of OnlinePopularity on ML-100K (every 10th event from the median time)."""
    expected = _ml100k_prequential_ndcg(half_life_days, every)
    return _report(_close(answer, expected, tol=1e-6),
                   "EventSource(df, encode=True); prequential(src, OnlinePopularity(src.n_items, 7 * 86400), every=10, "
                   "start=median timestamp); summarize(...)['NDCG@10']")


def ch04_3_best_half_life(answer: float, candidates=(1 / 24, 1.0, 7.0, 30.0, 365.0), every: int = 10) -> bool:
    """Ex. 4.3.4: the half-life (days) among ``candidates`` with the best prequential NDCG@10 (protocol of 4.3.3)."""
    scores = {d: _ml100k_prequential_ndcg(d, every) for d in candidates}
    best = max(scores, key=scores.get)
    return _report(_close(answer, best, tol=1e-3),
                   "run exercise 3's protocol for each candidate half-life and keep the best NDCG@10")


# ----------------------------------------------------------------------------- appendix B
def chB_sasrec_parameters(answer: int, n_items: int = 1682, max_len: int = 50, hidden: int = 64) -> bool:
    """Ex. B.1: parameters of the SASRec that ``tsrec train --model sasrec`` builds for ML-100K (its defaults)."""
    from tsrec.models.sequential import SASRec

    expected = sum(p.numel() for p in SASRec(n_items, max_len=max_len, hidden=hidden).parameters())
    return _report(_close(answer, expected, tol=0.5),
                   "build tsrec.models.sequential.SASRec(1682, max_len=50, hidden=64) and sum p.numel() over parameters()")


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
                   "the request is well-formed JSON but its content cannot be used: see the table of bad requests in B.3")


def chB_percentile(answer: float, latencies=(3.1, 2.9, 3.4, 12.0, 3.0, 2.8, 3.3, 41.5, 3.2, 3.1), q: float = 90) -> bool:
    """Ex. B.3: the q-th percentile of the latencies (numpy's default linear interpolation)."""
    expected = float(np.percentile(np.asarray(latencies, dtype=float), q))
    return _report(_close(answer, expected, tol=1e-6),
                   "np.percentile(latencies, 90): sort, position 0.9 * (n - 1), interpolate between neighbours")


# ----------------------------------------------------------------------------- chapter 2
def ch02_gate_fusion(answer: float, id_value: float = 0.4, text_value: float = -0.2, gate_logit: float = 0.0) -> bool:
    """Ex. 2.1: one coordinate of a gated item vector, g * id + (1 - g) * text with g = sigmoid(gate_logit)."""
    g = 1.0 / (1.0 + math.exp(-gate_logit))
    return _report(_close(answer, g * id_value + (1 - g) * text_value),
                   "g = sigmoid(gate logit) weighs the ID part, 1 - g the projected text part")


def ch02_random_hit_rate(answer: float, n_items: int = 1682, n_seen: int = 50, k: int = 10) -> bool:
    """Ex. 2.2: HR@k of a uniformly random ranking for a user who has seen ``n_seen`` of ``n_items`` items."""
    return _report(_close(answer, min(1.0, k / (n_items - n_seen))),
                   "seen items are masked, so the target is one of n_items - n_seen candidates; k of them are shown")


def ch02_pca_share(answer: float, hidden: int = 64) -> bool:
    """Ex. 2.3: share of the variance of ML-100K's MiniLM item-text embeddings (centred) kept by the top
    ``hidden`` principal components, i.e. by the LM-initialised ID table of a hidden-``hidden`` SASRec."""
    from tsrec import data, prep
    from tsrec.models.llm_enhanced import item_text_embeddings

    ml = data.load("ml-100k")
    split = prep.leave_one_out(ml.interactions)
    E = item_text_embeddings(split, ml.items)[1:].astype(np.float64)
    s = np.linalg.svd(E - E.mean(0), compute_uv=False) ** 2
    return _report(_close(answer, s[:hidden].sum() / s.sum(), tol=2e-3),
                   "centre the embeddings, take squared singular values, divide the top-k sum by the total")


def ch02_cold_events(answer: int, frac: float = 0.05, seed: int = 0) -> bool:
    """Ex. 2.4: training events removed from ML-100K leave-one-out by ``hold_out_items(split, frac, seed=seed)``."""
    from tsrec import data, prep
    from tsrec.models.llm_enhanced import hold_out_items

    split = prep.leave_one_out(data.load("ml-100k").interactions)
    held, _ = hold_out_items(split, frac=frac, seed=seed)
    return _report(_close(answer, len(split.train) - len(held.train), tol=0.5),
                   "hold_out_items draws items in proportion to their training count and drops all their "
                   "training events")


def ch02_gap_token(answer: int, seconds: float = 5400) -> bool:
    """Ex. 2.5: the gap bucket (0 = same second) the generative model's time tokens give a gap of ``seconds``."""
    from tsrec.models.llm_generative import gap_buckets

    return _report(_close(answer, int(gap_buckets(np.array([seconds]))[0]), tol=0.5),
                   "buckets: <1 s, <1 min, <10 min, <1 h, <6 h, <1 day, <1 week, <30 days, <1 year, more")
