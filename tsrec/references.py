"""Appendix A's resources: papers, code, tools and data (``chapters/references.csv``) and where the book uses each.

``usage`` scans every chapter notebook (its markdown and code) for a reference's search terms, so the "used in"
column is computed from the chapters as they are, never typed in; ``installed_version`` reads the version a tool
has in this environment.
"""
from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

import pandas as pd

from tsrec.book import CHAPTERS_DIR, chapters
from tsrec.profiles import chapter_key

REFERENCES_CSV = CHAPTERS_DIR / "references.csv"
SECTIONS = ("paper", "code", "tool", "data")
COLUMNS = ("key", "section", "authors", "title", "venue", "year", "what", "terms", "package")
APPENDIX = "A"  # the appendix that lists everything is not counted as a use


def load_references(path: str | Path = REFERENCES_CSV) -> pd.DataFrame:
    """The reference table, checked: known columns and sections, unique keys, a title and authors on every row."""
    refs = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = set(COLUMNS) - set(refs.columns)
    if missing:
        raise ValueError(f"{Path(path).name} lacks columns {sorted(missing)}: expected {list(COLUMNS)}")
    bad = sorted(set(refs["section"]) - set(SECTIONS))
    if bad:
        raise ValueError(f"{Path(path).name}: unknown sections {bad}; use one of {SECTIONS}")
    dupes = refs["key"][refs["key"].duplicated()].tolist()
    if dupes:
        raise ValueError(f"{Path(path).name}: duplicate keys {dupes}; every key must be unique")
    empty = refs.loc[(refs["title"] == "") | (refs["authors"] == ""), "key"].tolist()
    if empty:
        raise ValueError(f"{Path(path).name}: rows {empty} lack a title or authors")
    refs["year"] = pd.to_numeric(refs["year"], errors="coerce").astype("Int64")
    return refs


def chapter_texts(notebooks: list[Path] | None = None) -> dict[str, str]:
    """Chapter key -> the chapter's markdown and code joined (outputs left out), appendix A excluded."""
    texts = {}
    for path in notebooks if notebooks is not None else chapters():
        key = chapter_key(path)
        if key == APPENDIX:
            continue
        cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
        texts[key] = "\n".join("".join(c["source"]) for c in cells)
    return texts


def _pattern(term: str) -> re.Pattern[str]:
    """A term as a whole word (or word prefix for terms ending in a non-word character), case-insensitive."""
    tail = r"\b" if term[-1:].isalnum() else ""
    return re.compile(r"(?<![\w-])" + re.escape(term) + tail, re.IGNORECASE)


def usage(refs: pd.DataFrame, texts: dict[str, str]) -> pd.Series:
    """Reference key -> the chapters (keys, in book order) whose text mentions any of its ``;``-separated terms."""
    found = {}
    for key, terms in zip(refs["key"], refs["terms"]):
        patterns = [_pattern(t.strip()) for t in terms.split(";") if t.strip()]
        found[key] = [ch for ch, text in texts.items() if any(p.search(text) for p in patterns)]
    return pd.Series(found, name="used_in")


def installed_version(package: str) -> str | None:
    """The version of a distribution installed here, or None when it is not installed."""
    try:
        return metadata.version(package) if package else None
    except metadata.PackageNotFoundError:
        return None


def short_authors(authors: str, most: int = 6) -> str:
    """'A, B, C, ...' with more than ``most`` names cut to the first three and 'et al.'."""
    names = [a.strip() for a in authors.split(",")]
    return authors if len(names) <= most else ", ".join(names[:3]) + " et al."


def table(refs: pd.DataFrame, section: str, texts: dict[str, str]) -> pd.DataFrame:
    """One section as the appendix shows it: who, what, where published, what for, and the chapters using it."""
    part = refs[refs["section"] == section].copy()
    part["used_in"] = usage(part, texts).reindex(part["key"]).tolist()
    out = pd.DataFrame({
        "reference": [f"{short_authors(a)} ({'' if pd.isna(y) else y}). “{t}”. {v}."
                      for a, y, t, v in zip(part["authors"], part["year"], part["title"], part["venue"])],
        "what it is for": part["what"],
        "used in": [", ".join(u) if u else "—" for u in part["used_in"]]})
    if section in ("tool", "code"):
        out.insert(2, "installed", [installed_version(p) or "—" for p in part["package"]])
    out.index = part["key"].tolist()
    return out
