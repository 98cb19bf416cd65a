"""Tests of tsrec.data.loaders: the book's data sets in the canonical schema, and clear errors on bad files."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tsrec import data
from tsrec.data import loaders


def test_ml100k_shape_and_schema(ml100k):
    df = ml100k.interactions
    assert list(df.columns[:3]) == ["user", "item", "timestamp"]
    assert len(df) == 100_000 and df["user"].nunique() == 943 and df["item"].nunique() == 1682
    assert df["timestamp"].dtype == np.int64
    assert pd.Timestamp(df["timestamp"].min(), unit="s").date().isoformat() == "1997-09-20"
    assert len(ml100k.items) == 1682 and {"title", "year", "genres"} <= set(ml100k.items.columns)
    star = ml100k.items.set_index("item").loc[50]
    assert star["title"] == "Star Wars" and star["year"] == 1977 and "Sci-Fi" in star["genres"]
    assert df.iloc[0].tolist()[:3] == [196, 242, 881250949]  # file row order kept


def test_latest_small_and_complete_journey():
    ml = data.load("ml-latest-small")
    assert len(ml.interactions) == 100_004 and ml.interactions["user"].nunique() == 671
    years = pd.to_datetime(ml.interactions["timestamp"], unit="s").dt.year
    assert years.min() == 1995 and years.max() == 2016
    cj = data.load("complete-journey")
    assert len(cj.interactions) == 1_469_307 and cj.interactions["user"].nunique() == 2469
    assert {"department", "brand", "product_category", "product_type"} <= set(cj.items.columns)
    posts = data.load_social_posts()
    assert len(posts) == 20_761 and posts["timestamp"].is_monotonic_increasing


def test_missing_file_is_reported(tmp_path, copy_dataset):
    dst = copy_dataset(tmp_path, "ml-100k")
    (dst / "ml-100k.item").unlink()
    with pytest.raises(data.MissingDataError, match="ml-100k.item is missing"):
        data.load_movielens_100k(root=tmp_path)


def test_malformed_atomic_file(tmp_path):
    bad = tmp_path / "x.inter"
    bad.write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t2\t3\tnot-a-time\n")
    raw = loaders._read_atomic(bad, ["user_id", "item_id", "rating", "timestamp"])
    with pytest.raises(data.DataError, match="non-numeric value 'not-a-time' on data line 1"):
        loaders._to_int(raw["timestamp"], bad, "timestamp")
    bad.write_text("user_id:token\titem_id:token\n1\t2\t3\t4\t5\n")
    with pytest.raises(data.DataError, match="malformed"):
        loaders._read_atomic(bad, ["user_id", "item_id"])
