"""Appendix A (resources): the reference table is whole, real-shaped and used; the data verify by checksum."""
from __future__ import annotations

# the papers the issue names; each must be listed with a year
NAMED_PAPERS = {"kang2018": 2018, "li2020": 2020, "koren2009": 2009, "hidasi2016": 2016, "sun2019": 2019,
                "hou2022": 2022, "bao2023": 2023, "yue2023": 2023, "zhai2024": 2024, "harte2023": 2023,
                "krichene2020": 2020, "ji2023": 2023, "klenitskiy2023": 2023}
CORE = ("kang2018", "li2020", "hidasi2016", "rendle2009", "yue2023", "harte2023", "krichene2020", "ding2005")
PEERS = ("recbole", "river", "flink")
UNTRACEABLE = ("Large-scale Language Modeling in Recommender Systems", "TimeVarying User Interest Model",
               "Dynamic Recommendation with Temporal Attention")


def check(records):
    assert all(v is True for k, v in records.items() if k.startswith("exercise:")), "a solution cell fails its check"
    assert len([k for k in records if k.startswith("exercise:")]) >= 3
    n = records["n_by_section"]
    assert n["paper"] >= 30 and n["code"] >= 5 and n["tool"] >= 12 and n["data"] >= 4
    years = records["paper_years"]
    for key, year in NAMED_PAPERS.items():
        assert years.get(key) == year, (key, years.get(key))
    assert all(1990 <= y <= 2026 for y in years.values())
    used = records["paper_used_in"]
    assert set(used) == set(records["paper_keys"])
    for key in CORE:                                   # a core paper the chapters stop using is a broken page
        assert used[key], f"{key} is used by no chapter"
    assert set(records["papers_unused"]) == {k for k, v in used.items() if not v}
    assert sum(records["papers_per_chapter"].values()) == sum(len(v) for v in used.values())
    for key in PEERS:
        assert records["code_used_in"][key] != "—", key
    assert {"01", "02", "03", "04_3", "B"} <= set(records["chapters_scanned"]) and "A" not in records["chapters_scanned"]
    # tools: installed at their pins (TensorFlow is listed as not used, so not installed)
    versions = records["tool_versions"]
    assert versions["tensorflow"] == "—" and versions["pytorch"].startswith("2.")
    assert sum(v != "—" for v in versions.values()) == len(versions) - 1
    assert records["data_files_verified"] == {"ml-100k": 3, "ml-latest-small": 2, "complete-journey": 8}
    assert records["package_modules"] >= 50 and records["package_longest_module"] <= 450
    assert not any(t in str(records) for t in UNTRACEABLE)
