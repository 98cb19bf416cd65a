"""Data loaders, checksums and clear errors on bad files."""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from tsrec import data
from tsrec.config import data_home


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


def _copy_dataset(tmp_path, name):
    src = data_home() / name
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def test_checksum_mismatch_is_reported(tmp_path):
    dst = _copy_dataset(tmp_path, "ml-100k")
    with open(dst / "ml-100k.inter", "ab") as f:
        f.write(b"1\t2\t3\t4\n")
    with pytest.raises(data.ChecksumError, match="make data"):
        data.load_movielens_100k(root=tmp_path)


def test_missing_file_is_reported(tmp_path):
    dst = _copy_dataset(tmp_path, "ml-100k")
    (dst / "ml-100k.item").unlink()
    with pytest.raises(data.MissingDataError, match="ml-100k.item is missing"):
        data.load_movielens_100k(root=tmp_path)


def test_malformed_atomic_file(tmp_path):
    bad = tmp_path / "x.inter"
    bad.write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t2\t3\tnot-a-time\n")
    raw = data._read_atomic(bad, ["user_id", "item_id", "rating", "timestamp"])
    with pytest.raises(data.DataError, match="non-numeric value 'not-a-time' on data line 1"):
        data._to_int(raw["timestamp"], bad, "timestamp")
    bad.write_text("user_id:token\titem_id:token\n1\t2\t3\t4\t5\n")
    with pytest.raises(data.DataError, match="malformed"):
        data._read_atomic(bad, ["user_id", "item_id"])


def test_missing_column_and_bad_csv(tmp_path):
    p = tmp_path / "events.csv"
    p.write_text("user,item\n1,2\n")
    with pytest.raises(data.DataError, match=r"lack column\(s\) \['timestamp'\]"):
        data.read_interactions_csv(p)
    with pytest.raises(data.MissingDataError):
        data.read_interactions_csv(tmp_path / "nope.csv")
    with pytest.raises(data.DataError, match="unknown data set"):
        data.load("ml-1m")


def test_synthetic_is_seeded_and_has_planted_effects():
    a, b = data.synthetic(seed=3), data.synthetic(seed=3)
    pd.testing.assert_frame_equal(a.interactions, b.interactions)
    assert not a.interactions.equals(data.synthetic(seed=4).interactions)
    when = pd.to_datetime(a.interactions["timestamp"], unit="s")
    per_day = when.dt.day_of_week.value_counts(normalize=True).sort_index()
    assert per_day[[5, 6]].mean() > 1.5 * per_day[[0, 1, 2, 3, 4]].mean()  # weekends x2 planted
    assert when.dt.hour.between(18, 22).mean() > 0.4                       # evening peak planted
    inter = a.interactions
    launch = a.items.set_index("item")["launch_day"]
    day = (inter["timestamp"] - a.info["start"]) // 86400
    assert (day.to_numpy() >= launch.loc[inter["item"]].to_numpy()).all()  # no event before launch
    for u in a.info["repeaters"][:5]:                                       # weekly repeat cycle planted
        mine = inter[inter.user == u]
        fav = a.info["favourites"][u]
        t = np.sort(mine.loc[mine["item"] == fav, "timestamp"].to_numpy()) / 86400
        pair_gaps = (t[None, :] - t[:, None])[np.triu_indices(len(t), 1)]
        planted = (56 - a.items.set_index("item").loc[fav, "launch_day"]) // 7 - 1
        assert np.isclose(pair_gaps, a.info["repeat_period_days"], atol=0.05).sum() >= planted
