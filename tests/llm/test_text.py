"""Tests of tsrec.llm.text: item text of movies and products, and user histories written for an LM."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec.llm import compact_history, history_to_text, movie_text, product_text

DAY = 86400
T0 = 889_564_200  # Tue 1998-03-10 21:10:00 UTC
MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC


def test_movie_text():
    items = pd.DataFrame(
        {
            "title": ["Star Wars", "Toy Story (1995)", "Heat", "Babe"],
            "year": [1977, 1995, np.nan, 1995.0],
            "genres": ["Action|Sci-Fi", ["Animation", "Comedy"], "(no genres listed)", "Children's Comedy"],
        },
        index=[10, 20, 30, 40],
    )
    out = movie_text(items)
    assert out.tolist() == [
        "Star Wars (1977) — Action, Sci-Fi",
        "Toy Story (1995) — Animation, Comedy",
        "Heat",
        "Babe (1995) — Children's, Comedy",
    ]
    assert out.index.tolist() == [10, 20, 30, 40]
    assert movie_text(pd.DataFrame({"title": ["Fargo"]})).tolist() == ["Fargo"]


def test_product_text():
    full = pd.DataFrame(
        {
            "department": ["GROCERY", "PRODUCE"],
            "product_category": ["SOUP", None],
            "product_type": ["CONDENSED SOUP", "PUMPKINS"],
            "brand": ["National", ""],
        }
    )
    assert product_text(full).tolist() == ["National CONDENSED SOUP — GROCERY > SOUP", "PUMPKINS — PRODUCE"]
    assert product_text(full[["department"]]).tolist() == ["GROCERY", "PRODUCE"]
    with pytest.raises(ValueError):
        product_text(pd.DataFrame({"title": ["x"]}))


def test_history_to_text():
    titles = ["Star Wars (1977) — Action, Sci-Fi", "Babe (1995)", "Heat (1995)", "Fargo (1996)", "Casino (1995)"]
    stamps = [T0 - 2 * DAY, T0, T0, T0 + 90, T0 + 400 * DAY]
    assert history_to_text(titles, stamps).splitlines() == [
        "Sun 21:10: Star Wars (1977) — Action, Sci-Fi",
        "Tue 21:10, 2 days after the previous: Babe (1995)",
        "Tue 21:10, at the same time as the previous: Heat (1995)",
        "Tue 21:11, 1 minute after the previous: Fargo (1996)",
        "Wed 21:10, 1 year after the previous: Casino (1995)",
    ]
    assert history_to_text(titles, stamps, max_items=2, with_date=True).splitlines() == [
        "Tue 1998-03-10 21:11: Fargo (1996)",
        "Wed 1999-04-14 21:10, 1 year after the previous: Casino (1995)",
    ]
    # Out-of-order input is sorted by time; every unit of the interval wording appears.
    gaps = [0, 5, 3 * 3600, 45 * DAY, 61]
    stamps = list(np.cumsum(gaps) + T0)
    lines = history_to_text(["a", "b", "c", "d", "e"][::-1], stamps[::-1]).splitlines()
    assert [line.split(": ")[0].split(", ")[-1] for line in lines[1:]] == [
        "5 seconds after the previous",
        "3 hours after the previous",
        "1 month after the previous",
        "1 minute after the previous",
    ]
    assert history_to_text(["x", "y"], [T0, T0 + 1]).endswith("1 second after the previous: y")
    assert history_to_text(["b", "a"], [T0 + 5, T0], with_time=False) == "a\nb"
    assert history_to_text(["a", "b", "c"], with_time=False, max_items=2) == "b\nc"


def test_compact_history_keeps_dates_and_order():
    text = compact_history(["A", "B", "C"], [MONDAY, MONDAY + 60, MONDAY + 3 * DAY], now=MONDAY + 5 * DAY)
    assert text.splitlines() == ["Today is Sat 2024-01-06.", "On 2024-01-01 (5 days before today):", "- A", "- B",
                                 "On 2024-01-04 (2 days before today):", "- C"]
    assert compact_history(["A", "B", "C"], with_time=False, max_items=2) == "- B\n- C"
    with pytest.raises(ValueError):
        compact_history(["A"], with_time=True)
