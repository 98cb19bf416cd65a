"""Clean pages: the committed chapters show a reader only what a reader should read.

No per-value "recorded" lines, no warnings, no stderr streams (progress bars, library chatter), and no path of
the machine that executed them, in the outputs or in the notebook's metadata.
"""
from __future__ import annotations

import json
import re

import pytest

from tsrec import book

NOTEBOOKS = book.chapters()
# Chapters whose committed run predates the clean-page harness (issue 17 open): skipped until re-executed.
AWAITING_REEXECUTION: set[str] = set()
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|root|home|tmp|usr|opt|var|Users|private)/|site-packages|[A-Z]:\\\\")
WARNING = re.compile(r"Warning\b|warnings\.warn")


def output_texts(output: dict) -> list[str]:
    if "text" in output:
        return ["".join(output["text"])]
    data = output.get("data", {})
    return ["".join(v) if isinstance(v, list) else json.dumps(v) for k, v in data.items() if not k.startswith("image/")]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_outputs_are_clean(nb):
    if nb.stem in AWAITING_REEXECUTION:
        pytest.skip(f"{nb.name} awaits re-execution with `make chapter` (issue 17)")
    doc = json.loads(nb.read_text(encoding="utf-8"))
    problems = []
    for i, cell in enumerate(doc["cells"]):
        for out in cell.get("outputs", []):
            if out.get("name") == "stderr":
                problems.append(f"cell {i}: stderr output {''.join(out['text'])[:80]!r}")
                continue
            for text in output_texts(out):
                for pattern, what in ((MACHINE_PATH, "machine path"), (WARNING, "warning"),
                                      (re.compile(r"^recorded \w+", re.M), "per-value record line")):
                    m = pattern.search(text)
                    if m:
                        problems.append(f"cell {i}: {what} {text[max(0, m.start() - 30):m.end() + 30]!r}")
    meta = json.dumps(doc["metadata"]) + json.dumps([c.get("metadata", {}) for c in doc["cells"]])
    for pattern, what in ((MACHINE_PATH, "machine path"), (WARNING, "warning")):
        m = pattern.search(meta)
        if m:
            problems.append(f"metadata: {what} {meta[max(0, m.start() - 40):m.end() + 40]!r}")
    assert not problems, f"{nb.name} (re-execute it with `make chapter CH=...`):\n" + "\n".join(problems[:20])


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_records_are_shown_once_at_the_end(nb):
    if nb.stem in AWAITING_REEXECUTION:
        pytest.skip(f"{nb.name} awaits re-execution with `make chapter` (issue 17)")
    doc = json.loads(nb.read_text(encoding="utf-8"))
    code = [c for c in doc["cells"] if c["cell_type"] == "code"]
    assert "show_records(" in "".join(code[-1]["source"]), "the last code cell must call tsrec.book.show_records()"
    holders = [i for i, c in enumerate(code) if any(book.MIME in o.get("data", {}) for o in c.get("outputs", []))]
    assert holders in ([], [len(code) - 1]), f"records are displayed by code cells {holders}, not only the last"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_text_cites_only_files_in_the_repository(nb):
    """The book's working notes (BOOK.md, ANCHORS.md) live outside the repository; a page links what it has."""
    doc = json.loads(nb.read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in doc["cells"] if c["cell_type"] == "markdown")
    assert not re.search(r"\b(?:BOOK|ANCHORS)\.md\b", text), f"{nb.name} cites a file outside the repository"
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    missing = [link for link in links if "://" not in link and not link.startswith("mailto:")
               and not (nb.parent / link).exists()]
    assert not missing, f"{nb.name} links files that do not exist: {missing}"
