"""tsrec.references: the table loads and is checked; usage is found in chapter text and code, not in outputs."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from tsrec import references

CSV_HEADER = "key,section,authors,title,venue,year,what,terms,package\n"


def test_the_book_table_loads_with_unique_keys_and_known_sections():
    refs = references.load_references()
    assert refs["key"].is_unique and set(refs["section"]) <= set(references.SECTIONS)
    papers = refs[refs["section"] == "paper"]
    assert papers["year"].notna().all() and (papers["venue"] != "").all()


@pytest.mark.parametrize("row, message", [
    ("a,book,X,T,V,2020,w,t,\n", "unknown sections"),
    ("a,paper,,T,V,2020,w,t,\n", "lack a title or authors"),
    ("a,paper,X,T,V,2020,w,t,\na,paper,Y,U,V,2021,w,t,\n", "duplicate keys"),
])
def test_bad_tables_get_a_clear_error(tmp_path, row, message):
    path = tmp_path / "refs.csv"
    path.write_text(CSV_HEADER + row, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        references.load_references(path)


def _notebook(path, source, output="", name="01_x.ipynb"):
    cell = {"cell_type": "code", "source": [source], "metadata": {}, "outputs": [{"output_type": "stream",
            "name": "stdout", "text": [output]}], "execution_count": 1}
    (path / name).write_text(json.dumps({"cells": [cell]}), encoding="utf-8")
    return path / name


def test_usage_reads_sources_as_whole_words_and_skips_outputs_and_appendix_a(tmp_path):
    nbs = [_notebook(tmp_path, "model = SASRec(n)", "TiSASRec printed"),
           _notebook(tmp_path, "TiSASRec()", name="A_r.ipynb"),
           _notebook(tmp_path, "x = 'mySASRec' ; GRU4Recs", name="02_y.ipynb")]
    texts = references.chapter_texts(nbs)
    assert set(texts) == {"01", "02"}
    refs = pd.DataFrame({"key": ["kang", "li", "hidasi"], "terms": ["SASRec", "TiSASRec", "GRU4Rec"]})
    assert references.usage(refs, texts).to_dict() == {"kang": ["01"], "li": [], "hidasi": []}


def test_short_authors_and_versions():
    assert references.short_authors("A, B, C, D, E, F, G") == "A, B, C et al."
    assert references.short_authors("A, B") == "A, B"
    assert references.installed_version("pandas") == pd.__version__
    assert references.installed_version("no-such-dist-xyz") is None and references.installed_version("") is None
