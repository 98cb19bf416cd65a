"""Text for language models: item descriptions (movies, products) and users' histories with their times."""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tsrec.times import DAY, HOUR, MINUTE, YEAR, to_seconds


def _present(value: Any) -> bool:
    """True for a usable cell: not None/NaN and not an empty string."""
    if value is None:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    if value is pd.NA or value is pd.NaT:
        return False
    return str(value).strip() != ""


def _genre_list(value: Any) -> list[str]:
    """Genres from a list, 'Action|Sci-Fi', 'Action, Sci-Fi' or RecBole's 'Action Sci-Fi'.

    MovieLens' '(no genres listed)' gives no genres.
    """
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        items = [str(v).strip() for v in value if _present(v)]
    elif _present(value) and str(value).strip().lower() != "(no genres listed)":
        text = str(value)
        items = [g.strip() for g in re.split(r"[|,]" if re.search(r"[|,]", text) else r"\s+", text)]
    else:
        items = []
    return [g for g in items if g and g.lower() != "(no genres listed)"]


def movie_text(items: pd.DataFrame) -> pd.Series:
    """'Star Wars (1977) — Action, Sci-Fi' per movie from title, optional year and optional genres."""
    if "title" not in items.columns:
        raise ValueError("movie_text needs a 'title' column")
    has_year, has_genres = "year" in items.columns, "genres" in items.columns
    texts = []
    for row in items.itertuples(index=False):
        title = str(row.title).strip()
        year = getattr(row, "year") if has_year else None
        if _present(year):
            year_text = str(int(float(year))) if re.fullmatch(r"\d+(\.0*)?", str(year)) else str(year).strip()
            if not title.endswith(f"({year_text})"):  # MovieLens titles often carry the year already
                title = f"{title} ({year_text})"
        genres = _genre_list(getattr(row, "genres")) if has_genres else []
        texts.append(f"{title} — {', '.join(genres)}" if genres else title)
    return pd.Series(texts, index=items.index, name="text", dtype=object)


def product_text(items: pd.DataFrame) -> pd.Series:
    """'Brand Type — Department > Category' per product from whichever of those columns exist."""
    cols = [c for c in ("department", "product_category", "product_type", "brand") if c in items.columns]
    if not cols:
        raise ValueError("product_text needs at least one of department, product_category, product_type, brand")
    texts = []
    for row in items[cols].itertuples(index=False):
        cell = {c: str(getattr(row, c)).strip() for c in cols if _present(getattr(row, c))}
        head = " ".join(cell[c] for c in ("brand", "product_type") if c in cell)
        path = " > ".join(cell[c] for c in ("department", "product_category") if c in cell)
        texts.append(" — ".join(p for p in (head, path) if p))
    return pd.Series(texts, index=items.index, name="text", dtype=object)


_UNITS = (("year", YEAR), ("month", 30 * DAY), ("day", DAY), ("hour", HOUR), ("minute", MINUTE))


def _interval_words(seconds: float) -> str:
    """'2 days' style wording of a gap, in the largest whole unit (months are 30 days, years 365)."""
    seconds = int(seconds)
    for unit, size in _UNITS:
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def history_to_text(
    titles: Sequence[str],
    timestamps: Sequence[Any] | None = None,
    with_time: bool = True,
    max_items: int = 20,
    with_date: bool = False,
) -> str:
    """Serialise the last ``max_items`` interactions, oldest first, one line each, with UTC time and gaps.

    A line reads 'Tue 21:10, 2 days after the previous: <title>' ('Tue 1998-03-10 21:10, ...' with
    ``with_date``); ``with_time=False`` lists the titles only.
    """
    titles = [str(t) for t in titles]
    if timestamps is None:
        if with_time:
            raise ValueError("history_to_text needs timestamps when with_time=True")
        secs = [0.0] * len(titles)  # titles are taken to be in chronological order
    elif len(timestamps) != len(titles):
        raise ValueError(f"{len(titles)} titles but {len(timestamps)} timestamps")
    else:
        secs = [to_seconds(t, "timestamp") for t in timestamps]
    order = sorted(range(len(titles)), key=lambda i: secs[i])  # stable: ties keep their given order
    if max_items:
        order = order[-max_items:]
    if not with_time:
        return "\n".join(titles[i] for i in order)
    lines, previous = [], None
    for i in order:
        when = dt.datetime.fromtimestamp(secs[i], tz=dt.timezone.utc)
        stamp = when.strftime("%a %Y-%m-%d %H:%M" if with_date else "%a %H:%M")
        if previous is None:
            lines.append(f"{stamp}: {titles[i]}")
        else:
            gap = secs[i] - previous
            rel = "at the same time as the previous" if gap < 1 else f"{_interval_words(gap)} after the previous"
            lines.append(f"{stamp}, {rel}: {titles[i]}")
        previous = secs[i]
    return "\n".join(lines)


def compact_history(titles: Sequence[str], timestamps: Sequence[int] | None = None, now: int | None = None,
                    with_time: bool = True, max_items: int = 8) -> str:
    """The last ``max_items`` titles, oldest first, one per line; with time, grouped under a line per day
    ('On 1997-10-24 (141 days before today):') after 'Today is <date>.' — the dates and gaps of
    ``history_to_text`` in about a third of its tokens, which a 135M-parameter LM on a CPU needs."""
    titles = [str(t) for t in titles][-max_items:] if max_items else [str(t) for t in titles]
    if not with_time:
        return "\n".join(f"- {t}" for t in titles)
    if timestamps is None or now is None:
        raise ValueError("compact_history needs timestamps and now when with_time=True")
    times = np.asarray(timestamps, dtype=np.int64)[-len(titles):]
    day = lambda t: pd.Timestamp(int(t), unit="s", tz="UTC")  # noqa: E731
    today = day(now)
    lines, current = [f"Today is {today:%a %Y-%m-%d}."], None
    for title, t in zip(titles, times):
        d = day(t)
        if current is None or d.date() != current:
            ago = (today.normalize() - d.normalize()).days
            when = "today" if ago == 0 else ("yesterday" if ago == 1 else f"{ago} days before today")
            lines.append(f"On {d:%Y-%m-%d} ({when}):")
            current = d.date()
        lines.append(f"- {title}")
    return "\n".join(lines)
