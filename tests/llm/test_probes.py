"""Tests of tsrec.llm.probes with a stand-in language model: answer keys from the calendar, chance levels,
intervals, and the scoring of candidate answers."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tsrec.llm.probes import SEASON_OF_MONTH, SEASONS, WEEKDAYS, score_probes, time_probes, wilson


class EchoLM:
    """chat() returns the question; score_candidates() prefers, per question, the candidate ``pick`` chooses."""

    def __init__(self, pick=None):
        self.pick = pick or (lambda prompt, cands: 0)

    def chat(self, user, system=None):
        return user

    def score_candidates(self, prompts, candidates, batch_size=16, normalise=False, add_eos=False,
                         show_progress=True):
        assert add_eos  # "Sun" must not win by being a prefix of "Sunday"
        out = []
        for p, cands in zip(prompts, candidates):
            s = np.zeros(len(cands))
            s[self.pick(p, cands)] = 1.0
            out.append(s)
        return out


DAYS = pd.date_range("1996-01-01", "2016-12-31", freq="3D")
MOVIES = pd.DataFrame({"title": ["Godfather, The", "Star Wars", "Titanic", "Fargo", "Casablanca", "Heat", "Heat"],
                       "year": [1972, 1977, 1997, 1996, 1942, 1995, 1986]})


@pytest.fixture(scope="module")
def probes():
    return time_probes(EchoLM(), DAYS, MOVIES, n=40, seed=1)


def test_answer_keys_come_from_the_calendar(probes):
    assert set(probes) == {"weekday", "weekday after a gap", "later date", "season", "days between",
                           "movie order (titles)", "movie order (with years)"}
    w = probes["weekday"]
    for d, a in zip(w["dates"], w["answer"]):
        assert dt.date.fromisoformat(d).strftime("%A") == WEEKDAYS[a]
    assert w["chance"] == pytest.approx(1 / 7)
    later = probes["later date"]
    for p, a, c in zip(later["prompts"], later["answer"], later["candidates"]):
        assert c[a] == max(c) and c[0] != c[1] and c[0] in p
    for p, a in zip(probes["season"]["prompts"], probes["season"]["answer"]):
        month = pd.Timestamp(p.split("season is ")[1].split(" in?")[0]).month
        assert SEASONS[SEASON_OF_MONTH[month]] == SEASONS[a]
    for p, a, c in zip(probes["days between"]["prompts"], probes["days between"]["answer"],
                       probes["days between"]["candidates"]):
        x, y = (pd.Timestamp(s) for s in p.split("from ")[1].split("?")[0].split(" to "))
        assert int(c[a]) == (y - x).days and len(set(c)) == 4 and all(10 <= int(v) <= 30 for v in c)


def test_movie_pairs_are_apart_and_titles_natural(probes):
    t, y = probes["movie order (titles)"], probes["movie order (with years)"]
    assert t["answer"].tolist() == y["answer"].tolist() and t["chance"] == 0.5
    assert all('"Heat' not in p for p in t["prompts"])  # ambiguous titles are left out
    for p, a in zip(y["prompts"], y["answer"]):
        ya, yb = (int(s) for s in p.replace(")", "(").split("(")[1::2][:2])
        assert abs(ya - yb) >= 10 and a == (0 if ya < yb else 1)


def test_too_few_days_is_an_error():
    with pytest.raises(ValueError):
        time_probes(EchoLM(), DAYS[:5], MOVIES, n=10)


def test_wilson_interval():
    lo, hi = wilson(39, 50)
    assert 0 < lo < 39 / 50 < hi < 1
    assert wilson(0, 20)[0] == pytest.approx(0.0, abs=1e-12) and wilson(0, 20)[1] > 0.1


def test_scoring_a_model_that_always_says_the_first_candidate(probes):
    table = score_probes(EchoLM(), probes)
    w = table.loc["weekday"]
    acc = float(np.mean(probes["weekday"]["answer"] == 0))
    assert w["accuracy"] == pytest.approx(acc) and w["most frequent answer"] == "Monday" and w["its share"] == 1.0
    k = round(acc * 40)
    assert w["p (> chance)"] == pytest.approx(stats.binomtest(k, 40, 1 / 7, alternative="greater").pvalue)
    assert w["95% low"] <= w["accuracy"] <= w["95% high"]
    assert (probes["weekday"]["pred"] == 0).all()


def test_scoring_an_oracle():
    answers = {}

    def oracle(prompt, cands):
        return answers[prompt]

    pr = time_probes(EchoLM(), DAYS, MOVIES, n=20, seed=2)
    pr = {"later date": pr["later date"]}
    answers.update(dict(zip(pr["later date"]["prompts"], pr["later date"]["answer"])))
    table = score_probes(EchoLM(oracle), pr)
    assert table.loc["later date", "accuracy"] == 1.0 and table.loc["later date", "p (> chance)"] < 1e-5
