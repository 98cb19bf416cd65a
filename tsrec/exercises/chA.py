"""Exercise checks for appendix A (resources): answers computed from the reference table and the chapters."""
from __future__ import annotations

from tsrec.exercises._common import _prediction_note, _report
from tsrec.references import chapter_texts, installed_version, load_references, usage


def _paper_usage() -> dict[str, list[str]]:
    refs = load_references()
    papers = refs[refs["section"] == "paper"]
    return usage(papers, chapter_texts()).to_dict()


def chA_most_used_paper(answer: str) -> bool:
    """Ex. A.1: the key of the paper that the most chapters mention (any of the tied keys counts)."""
    used = _paper_usage()
    most = max(len(v) for v in used.values())
    best = sorted(k for k, v in used.items() if len(v) == most)
    return _report(answer in best, "count, for each paper row, the chapters usage() returns and take the largest")


def chA_tools_installed(answer: int, prediction: float | None = None) -> bool:
    """Ex. A.2 (predict, then run): how many rows of the 'tool' section are installed in this environment."""
    refs = load_references()
    expected = int(sum(installed_version(p) is not None for p in refs.loc[refs["section"] == "tool", "package"]))
    _prediction_note(prediction, answer, fmt=".0f")
    return _report(answer == expected, "call installed_version(package) for each tool row and count the non-None")


def chA_chapters_without_llm_papers(answer: list[str]) -> bool:
    """Ex. A.3: chapters (keys) that mention none of the LLM-for-recommendation papers."""
    refs = load_references()
    llm = refs[refs["key"].isin(["hou2022", "bao2023", "harte2023", "yue2023", "liao2024"])]
    used = usage(llm, chapter_texts())
    with_llm = {ch for chapters in used for ch in chapters}
    expected = sorted(set(chapter_texts()) - with_llm)
    return _report(sorted(answer) == expected, "take every chapter key from chapter_texts() and drop those that "
                   "usage() lists for the five LLM papers")
