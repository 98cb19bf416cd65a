"""Exercise checks for chapter 4.2b (how an LLM sees time; LLM-based sequence models)."""
from __future__ import annotations

import datetime as dt

import numpy as np

from tsrec.exercises._common import _close, _prediction_note, _report
from tsrec.times import DAY


def ch04_2b_token_count(answer: int, text: str = "Wed 1998-04-22 23:10, 3 days after the previous") -> bool:
    """Ex. 4.2b.1: the number of SmolLM2 tokens of ``text`` (no special tokens)."""
    from tsrec import llm

    expected = len(llm.GenerativeLM().tokenizer(text, add_special_tokens=False)["input_ids"])
    return _report(_close(answer, expected, tol=0.5),
                   "lm.tokenizer(text, add_special_tokens=False)['input_ids']; SmolLM2 gives every digit its own token")


def ch04_2b_gap_bucket(answer: int, seconds: float = 3 * 3600) -> bool:
    """Ex. 4.2b.2: the gap-token bucket of a gap of ``seconds`` (0 = same second)."""
    from tsrec.models.generative import gap_buckets

    expected = int(gap_buckets(np.array([seconds]))[0])
    return _report(_close(answer, expected, tol=0.5),
                   "count the GAP_EDGES that are <= the gap: np.searchsorted(GAP_EDGES, gap, side='right')")


def ch04_2b_log_bucket(answer: int, seconds: float = 2 * DAY) -> bool:
    """Ex. 4.2b.3: the LogIntervalEncoding bucket (floor(log2(1 + gap)), at most 31) of a gap of ``seconds``."""
    import torch

    from tsrec.models.sequential.time_encoding import LogIntervalEncoding

    enc = LogIntervalEncoding(dim=1)
    with torch.no_grad():  # identity table: the encoding of the second event is its bucket id
        enc.emb.weight.copy_(torch.arange(enc.n_buckets, dtype=torch.float32).unsqueeze(1))
        times = torch.tensor([[0, int(seconds)]])
        out = enc(times, times, torch.ones_like(times, dtype=torch.bool))
    expected = int(out[0, 1, 0])
    return _report(_close(answer, expected, tol=0.5), "floor(log2(gap_seconds + 1)), clipped to 31")


def ch04_2b_first_weekday(answer: str) -> bool:
    """Ex. 4.2b.4: the weekday (e.g. 'Monday', UTC) of the first rating of ML-100K."""
    from tsrec import data

    t = int(data.load("ml-100k").interactions["timestamp"].min())
    expected = dt.datetime.fromtimestamp(t, tz=dt.timezone.utc).strftime("%A")
    ok = isinstance(answer, str) and answer.strip().lower()[:3] == expected.lower()[:3]
    return _report(ok, "pd.to_datetime(ts.min(), unit='s').day_name(); timestamps are Unix seconds, UTC")


def ch04_2b_guess_pvalue(answer: float, n: int = 50, k: int = 19, n_candidates: int = 4) -> bool:
    """Ex. 4.2b.5: P(at least ``k`` of ``n`` right) for uniform guessing among ``n_candidates`` answers."""
    from scipy import stats

    expected = float(stats.binom.sf(k - 1, n, 1.0 / n_candidates))
    return _report(_close(answer, expected, tol=1e-4),
                   "a binomial tail: scipy.stats.binom.sf(k - 1, n, 1 / n_candidates)")


def ch04_2b_long_gap_share(answer: float, prediction: float | None = None, dataset: str = "ml-latest-small",
                           seconds: float = DAY) -> bool:
    """Ex. 4.2b.6 (predict, then run): share of the leave-one-out test targets of ``dataset`` that come more than
    ``seconds`` after the user's previous event; says how far the prediction was."""
    from tsrec import data, splits
    from tsrec.evaluate import eval_queries

    queries, _ = eval_queries(splits.leave_one_out(data.load(dataset).interactions), "test")
    gaps = np.array([now - t[-1] for now, t in zip(queries.now, queries.times)])
    expected = float((gaps > seconds).mean())
    ok = _report(_close(answer, expected, tol=1e-4),
                 "eval_queries(split, 'test') gives each query's history times and its request time `now`; "
                 "compare now - (last history time) with one day in seconds")
    if ok:
        _prediction_note(prediction, expected)
    return ok
