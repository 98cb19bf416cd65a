"""What a language model knows about time (chapter 4.2b): probe questions whose answers are computed, never
typed in, and their scoring by the log-likelihood of each candidate answer.

``time_probes`` writes the question sets from real rating days and real release years — weekday of a date,
weekday after a gap, the later of two dates, season of a date, days between two dates, which of two movies
came out first (with and without the years in the text) — with the answer key from the calendar.
``score_probes`` asks a ``GenerativeLM`` (any object with ``chat`` and ``score_candidates``) and reports each
accuracy beside its chance level with a Wilson interval and a one-sided binomial p-value, and the accuracy with
the model's prior preference for some answers removed.
"""
from __future__ import annotations

import re
from typing import Any, Protocol, Sequence

import numpy as np
import pandas as pd

__all__ = ["SEASONS", "SEASON_OF_MONTH", "WEEKDAYS", "score_probes", "time_probes", "wilson"]

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SEASONS = ["winter", "spring", "summer", "autumn"]
# northern hemisphere; months where astronomical and meteorological seasons agree
SEASON_OF_MONTH = {1: 0, 2: 0, 4: 1, 5: 1, 7: 2, 8: 2, 10: 3, 11: 3}
TWO_WAY_LABELLED = ("later date", "days between")  # probes whose answers are not fixed labels


class ChatLM(Protocol):
    """What the probes need of a language model (``tsrec.llm.GenerativeLM`` has both)."""

    def chat(self, user: str, system: str | None = None) -> str: ...

    def score_candidates(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]], batch_size: int = 16,
                         normalise: bool = False, add_eos: bool = False, show_progress: bool = True
                         ) -> list[np.ndarray]: ...


def _natural(title: str) -> str:
    """'Godfather, The' -> 'The Godfather' (MovieLens moves the article to the end)."""
    return re.sub(r"^(.*), (The|A|An)$", r"\2 \1", title)


def _probe(prompts: list[str], cands: list[list[str]], answer: Sequence[int], **extra: Any) -> dict:
    return {"prompts": prompts, "candidates": cands, "answer": np.asarray(answer),
            "chance": float(np.mean([1 / len(c) for c in cands])), **extra}


def _calendar_probes(lm: ChatLM, days: np.ndarray, n: int, rng: np.random.Generator) -> dict[str, dict]:
    """Weekday, weekday after a gap, later date, season and days between, from real rating days."""
    def draw(months: list[int] | None = None) -> pd.DatetimeIndex:
        pool = days if months is None else days[pd.DatetimeIndex(days).month.isin(months)]
        return pd.DatetimeIndex(rng.choice(pool, size=n, replace=False))

    def ask(question: str, hint: str) -> str:
        return lm.chat(f"{question} {hint}")

    out = {}
    d = draw()
    out["weekday"] = _probe([ask(f"What day of the week was {x:%Y-%m-%d}?", "Answer with the day only.") for x in d],
                            [WEEKDAYS] * n, [WEEKDAYS.index(x.day_name()) for x in d],
                            dates=[f"{x:%Y-%m-%d}" for x in d])
    start, gap = rng.integers(0, 7, n), rng.integers(1, 7, n)
    out["weekday after a gap"] = _probe(
        [ask(f"Something happened on a {WEEKDAYS[s]}. Something else happened {g} day{'s' if g > 1 else ''} later. "
             "On which day of the week did the second thing happen?", "Answer with the day only.")
         for s, g in zip(start, gap)], [WEEKDAYS] * n, (start + gap) % 7)
    a, b = draw(), draw()
    b = b.where(a != b, b + pd.Timedelta(days=1))  # two different dates, always the same number of tokens
    out["later date"] = _probe(
        [ask(f"Which date is later: {x:%Y-%m-%d} or {y:%Y-%m-%d}?", "Answer with the date only.")
         for x, y in zip(a, b)],
        [[f"{x:%Y-%m-%d}", f"{y:%Y-%m-%d}"] for x, y in zip(a, b)], (b > a).astype(int))
    d = draw(list(SEASON_OF_MONTH))
    out["season"] = _probe([ask(f"In the northern hemisphere, which season is {x.day} {x:%B %Y} in?",
                                "Answer with one word.") for x in d],
                           [SEASONS] * n, [SEASON_OF_MONTH[x.month] for x in d])
    a, gap = draw(), rng.integers(10, 31, n)
    cands, answer = [], []
    for g in gap:  # the answer and 3 distractors, all 10..30 days
        opts = [int(g), *rng.choice([v for v in range(10, 31) if v != g], 3, replace=False).tolist()]
        rng.shuffle(opts)
        cands.append([str(v) for v in opts])
        answer.append(opts.index(int(g)))
    out["days between"] = _probe(
        [ask(f"How many days are there from {x:%Y-%m-%d} to {(x + pd.Timedelta(days=int(g))):%Y-%m-%d}?",
             "Answer with a number.") for x, g in zip(a, gap)], cands, answer)
    return out


def _movie_probes(lm: ChatLM, movies: pd.DataFrame, n: int, rng: np.random.Generator, min_years: int
                  ) -> dict[str, dict]:
    """Which of two movies came out first, with titles only and with the release years written next to them."""
    movies = movies.dropna(subset=["year"])
    movies = movies[~movies["title"].duplicated(keep=False)]
    years = movies["year"].astype(int).to_numpy()
    pairs = []
    while len(pairs) < n:
        i, j = rng.choice(len(movies), 2, replace=False)
        if abs(years[i] - years[j]) >= min_years:
            pairs.append((i, j))
    out = {}
    for with_year in (False, True):
        prompts, answer = [], []
        for i, j in pairs:
            (ta, ya), (tb, yb) = [(_natural(movies["title"].iloc[k]), years[k]) for k in (i, j)]
            na, nb = (f"{ta} ({ya})", f"{tb} ({yb})") if with_year else (ta, tb)
            prompts.append(lm.chat(f'Was the movie "{na}" released before the movie "{nb}"? Answer yes or no.'))
            answer.append(0 if ya < yb else 1)
        out["movie order (with years)" if with_year else "movie order (titles)"] = _probe(
            prompts, [["Yes", "No"]] * n, answer)
    return out


def time_probes(lm: ChatLM, days: Sequence, movies: pd.DataFrame, n: int = 50, seed: int = 0, min_years: int = 10
                ) -> dict[str, dict]:
    """Seven probe sets of ``n`` questions each, keyed by name: prompts (through ``lm.chat``), candidate answers,
    the index of the right one, and the chance level. ``days``: dates to ask about (e.g. real rating days);
    ``movies``: a frame with ``title`` and ``year`` (pairs at least ``min_years`` apart)."""
    rng = np.random.default_rng(seed)
    days = np.sort(pd.DatetimeIndex(pd.to_datetime(np.asarray(days))).normalize().unique().to_numpy())
    if len(days) < n:
        raise ValueError(f"need at least n = {n} distinct days, got {len(days)}")
    return _calendar_probes(lm, days, n, rng) | _movie_probes(lm, movies, n, rng, min_years)


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion k / n (95% by default): honest near 0 and 1, unlike p ± z·se."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def score_probes(lm: ChatLM, probes: dict[str, dict]) -> pd.DataFrame:
    """Each probe's accuracy (the highest-likelihood candidate, end-of-turn token included) beside its chance
    level, Wilson interval and one-sided binomial p-value, the most frequent answer and its share, and the
    accuracy with each candidate's mean log-likelihood over the probe removed ("calibrate before use",
    Zhao et al. 2021: no labels used, only the model's prior for some answers). Stores ``pred`` in each probe."""
    from scipy import stats

    rows = []
    for name, p in probes.items():
        S = np.vstack(lm.score_candidates(p["prompts"], p["candidates"], add_eos=True, show_progress=False))
        pred = S.argmax(1)
        pred_cal = (S - S.mean(0, keepdims=True)).argmax(1)
        k, n = int((pred == p["answer"]).sum()), len(pred)
        labels = pd.Series(pred if name in TWO_WAY_LABELLED else [c[i] for c, i in zip(p["candidates"], pred)])
        counts = labels.value_counts()
        lo, hi = wilson(k, n)
        rows.append({"probe": name, "n": n, "chance": p["chance"], "accuracy": k / n, "95% low": lo, "95% high": hi,
                     "p (> chance)": stats.binomtest(k, n, p["chance"], alternative="greater").pvalue,
                     "most frequent answer": str(counts.index[0]), "its share": counts.iloc[0] / n,
                     "accuracy, prior removed": float((pred_cal == p["answer"]).mean())})
        p["pred"] = pred
    return pd.DataFrame(rows).set_index("probe")
