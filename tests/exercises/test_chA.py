"""Appendix A's exercise checks accept the computed answer and reject a wrong one."""
from __future__ import annotations

from tsrec import references
from tsrec.exercises import chA


def _used():
    refs = references.load_references()
    return references.usage(refs[refs["section"] == "paper"], references.chapter_texts())


def test_most_used_paper():
    used = _used()
    assert chA.chA_most_used_paper(used.map(len).idxmax())
    assert not chA.chA_most_used_paper(used.map(len).idxmin())


def test_tools_installed():
    refs = references.load_references()
    n = sum(references.installed_version(p) is not None for p in refs.loc[refs["section"] == "tool", "package"])
    assert chA.chA_tools_installed(n, prediction=3)
    assert not chA.chA_tools_installed(n + 1)


def test_chapters_without_llm_papers():
    refs = references.load_references()
    texts = references.chapter_texts()
    llm = references.usage(refs[refs["key"].isin(["hou2022", "bao2023", "harte2023", "yue2023", "liao2024"])], texts)
    right = sorted(set(texts) - {ch for chapters in llm for ch in chapters})
    assert chA.chA_chapters_without_llm_papers(right)
    assert not chA.chA_chapters_without_llm_papers(right + ["not-a-chapter"])
