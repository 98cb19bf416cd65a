"""Tests of tsrec.data.schema: required columns, reading a user's own file, clear errors."""
from __future__ import annotations

import pandas as pd
import pytest

from tsrec import data


def test_missing_column_and_bad_csv(tmp_path):
    p = tmp_path / "events.csv"
    p.write_text("user,item\n1,2\n")
    with pytest.raises(data.DataError, match=r"lack column\(s\) \['timestamp'\]"):
        data.read_interactions_csv(p)
    with pytest.raises(data.MissingDataError):
        data.read_interactions_csv(tmp_path / "nope.csv")
    with pytest.raises(data.DataError, match="unknown data set"):
        data.load("ml-1m")


def test_require_columns_names_what_is_missing():
    df = pd.DataFrame({"user": [1], "item": [2], "timestamp": [3]})
    data.require_columns(df)
    found = r"found \['user', 'item', 'timestamp'\]"
    with pytest.raises(data.DataError, match=r"events lack column\(s\) \['rating'\].*" + found):
        data.require_columns(df, ("user", "rating"), what="events")
    with pytest.raises(data.DataError, match="must be a pandas DataFrame"):
        data.require_columns({"user": [1]})
    assert issubclass(data.MissingDataError, FileNotFoundError) and issubclass(data.ChecksumError, data.DataError)


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".pkl"])
def test_read_frame_reads_each_file_type(tmp_path, suffix):
    df = pd.DataFrame({"user": [1, 2], "item": [3, 4], "timestamp": [5, 6]})
    path = tmp_path / f"events{suffix}"
    {".csv": lambda p: df.to_csv(p, index=False), ".parquet": df.to_parquet, ".pkl": df.to_pickle}[suffix](path)
    pd.testing.assert_frame_equal(data.read_frame(path), df)
    assert data.read_frame(df) is df


def test_read_frame_errors(tmp_path):
    with pytest.raises(data.MissingDataError, match="does not exist"):
        data.read_frame(tmp_path / "nope.csv")
    (tmp_path / "events.json").write_text("{}")
    with pytest.raises(data.DataError, match="unknown file type"):
        data.read_frame(tmp_path / "events.json")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet")
    with pytest.raises(data.DataError, match="not a readable"):
        data.read_frame(tmp_path / "broken.parquet")
    with pytest.raises(TypeError, match="DataFrame or a path"):
        data.read_frame(42)
