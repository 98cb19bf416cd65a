"""Preparation and evaluation protocol: cleaning with a report, time features, id maps, k-core, splits.

Order convention (used everywhere): a user's events are ordered by ``timestamp`` and, within equal
timestamps, by their original row order (a stable sort). ML-100K has many ties, so this choice
changes which item is "last"; it is the choice the book's anchors were measured with.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tsrec.data import INTERACTION_COLUMNS, DataError, require_columns

PAD = 0  # id 0 is padding in every id map; real ids start at 1


# ----------------------------------------------------------------------------- cleaning
@dataclass
class CleanReport:
    """What ``clean`` dropped and why, in the order the checks ran."""

    rows_in: int
    rows_out: int
    dropped: pd.DataFrame  # columns: reason, rows, example

    def __repr__(self) -> str:
        lines = [f"clean: {self.rows_in:,} rows in, {self.rows_out:,} kept"]
        lines += [f"  - {r.reason}: {r.rows:,}" for r in self.dropped.itertuples()]
        return "\n".join(lines)


def clean(df: pd.DataFrame, min_time: int | str = "1990-01-01", max_time: int | str | None = None,
          drop_duplicates: bool = True) -> tuple[pd.DataFrame, CleanReport]:
    """Drop rows with missing/negative ids, NaN or out-of-range timestamps and exact duplicates.

    Returns the cleaned frame (original row order, timestamps as int64) and a report of every drop.
    ``max_time`` defaults to now (a future timestamp is a clock error).
    """
    require_columns(df, INTERACTION_COLUMNS)
    lo = _as_unix(min_time)
    hi = _as_unix(max_time) if max_time is not None else int(pd.Timestamp.now(tz="UTC").timestamp())
    work = df.copy()
    reasons = []

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal work
        n = int(mask.sum())
        example = work.loc[mask].head(1).to_dict("records")[0] if n else None
        reasons.append({"reason": reason, "rows": n, "example": example})
        work = work.loc[~mask]

    for col in ("user", "item"):
        val = work[col]
        bad = val.isna()
        if pd.api.types.is_numeric_dtype(val):
            bad |= pd.to_numeric(val, errors="coerce") < 0
        drop(bad, f"bad {col} id (missing or negative)")
    ts = pd.to_numeric(work["timestamp"], errors="coerce")
    drop(ts.isna() | ~np.isfinite(ts.astype(float)), "timestamp missing or not a number")
    ts = pd.to_numeric(work["timestamp"], errors="coerce")
    drop((ts < lo) | (ts > hi), f"timestamp outside [{pd.Timestamp(lo, unit='s').date()}, "
                                f"{pd.Timestamp(hi, unit='s').date()}] (clock error)")
    work = work.assign(timestamp=pd.to_numeric(work["timestamp"]).astype("int64"))
    if drop_duplicates:
        drop(work.duplicated(keep="first"), "exact duplicate of an earlier row")
    report = CleanReport(len(df), len(work), pd.DataFrame(reasons, columns=["reason", "rows", "example"]))
    return work, report


def _as_unix(t: int | str) -> int:
    if isinstance(t, (int, np.integer)):
        return int(t)
    return int(pd.Timestamp(t, tz="UTC").timestamp())


def check_timestamps(df: pd.DataFrame) -> None:
    """Raise DataError if timestamps are missing or not numbers (call ``clean`` to drop such rows)."""
    require_columns(df, INTERACTION_COLUMNS)
    ts = pd.to_numeric(df["timestamp"], errors="coerce")
    bad = ts.isna()
    if bad.any():
        raise DataError(f"{int(bad.sum())} row(s) have a NaN or non-numeric timestamp (first at position "
                        f"{int(np.flatnonzero(bad.to_numpy())[0])}); run tsrec.prep.clean(df) to drop them")


# ----------------------------------------------------------------------------- ordering and features
def time_order(df: pd.DataFrame, by_user: bool = True) -> pd.DataFrame:
    """Sort by (user,) timestamp with a stable sort, so equal timestamps keep their original row order."""
    check_timestamps(df)
    keys = ["user", "timestamp"] if by_user else ["timestamp"]
    return df.sort_values(keys, kind="stable")


def add_time_features(df: pd.DataFrame, tz: str = "UTC") -> pd.DataFrame:
    """Add calendar and interval features: hour, dayofweek, dt_prev (s since the user's previous event,
    NaN for the first) and item_age (s since the item's first event in this frame)."""
    ordered = time_order(df)
    when = pd.to_datetime(ordered["timestamp"], unit="s", utc=True).dt.tz_convert(tz)
    out = ordered.assign(hour=when.dt.hour.astype("int8"), dayofweek=when.dt.day_of_week.astype("int8"))
    out["dt_prev"] = out.groupby("user", sort=False)["timestamp"].diff()
    out["item_age"] = out["timestamp"] - out.groupby("item")["timestamp"].transform("min")
    return out.loc[df.index]


# ----------------------------------------------------------------------------- ids
@dataclass
class IdMap:
    """Contiguous ids 1..n for raw ids (0 is padding); raw ids are sorted so the map is reproducible."""

    raw: np.ndarray  # raw[i - 1] is the raw id of index i
    _index: dict = field(default_factory=dict, repr=False)

    @classmethod
    def fit(cls, values) -> "IdMap":
        raw = np.sort(pd.unique(pd.Series(values).dropna()))
        return cls(raw, {v: i + 1 for i, v in enumerate(raw.tolist())})

    def __len__(self) -> int:
        return len(self.raw)

    def encode(self, values, unknown: str = "error") -> np.ndarray:
        """Map raw ids to 1..n; unknown ids raise DataError (``unknown="error"``) or become 0 (``"pad"``)."""
        vals = pd.Series(values)
        out = vals.map(self._index)
        if out.isna().any():
            if unknown == "error":
                missing = vals[out.isna()].unique()[:5].tolist()
                raise DataError(f"{int(out.isna().sum())} id(s) not in the map, e.g. {missing}")
            out = out.fillna(PAD)
        return out.to_numpy(dtype=np.int64)

    def decode(self, idx) -> np.ndarray:
        idx = np.asarray(idx)
        if (idx < 1).any() or (idx > len(self.raw)).any():
            raise DataError(f"index out of range 1..{len(self.raw)} (0 is padding)")
        return self.raw[idx - 1]


def encode_ids(df: pd.DataFrame, user_map: IdMap | None = None,
               item_map: IdMap | None = None) -> tuple[pd.DataFrame, IdMap, IdMap]:
    """Replace ``user`` and ``item`` by contiguous ids 1..n; return the frame and both maps."""
    require_columns(df, ("user", "item"))
    user_map = user_map or IdMap.fit(df["user"])
    item_map = item_map or IdMap.fit(df["item"])
    out = df.assign(user=user_map.encode(df["user"]), item=item_map.encode(df["item"]))
    return out, user_map, item_map


def kcore(df: pd.DataFrame, k_user: int = 5, k_item: int = 5, max_rounds: int = 100) -> pd.DataFrame:
    """Repeatedly drop users with < k_user and items with < k_item interactions until both hold."""
    out = df
    for _ in range(max_rounds):
        uc = out["user"].map(out["user"].value_counts())
        ic = out["item"].map(out["item"].value_counts())
        keep = (uc >= k_user) & (ic >= k_item)
        if keep.all():
            return out
        out = out.loc[keep]
    raise DataError(f"k-core did not converge in {max_rounds} rounds")


def user_sequences(df: pd.DataFrame) -> pd.DataFrame:
    """One row per user with arrays ``items`` and ``timestamps`` in time order (ties: row order)."""
    ordered = time_order(df)
    g = ordered.groupby("user", sort=True)
    return pd.DataFrame({"items": g["item"].apply(np.asarray), "timestamps": g["timestamp"].apply(np.asarray)})


# ----------------------------------------------------------------------------- splits
@dataclass
class Split:
    """A train/validation/test split of id-encoded interactions (ids 1..n_users, 1..n_items)."""

    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    n_users: int
    n_items: int
    kind: str
    info: dict = field(default_factory=dict)
    user_map: IdMap | None = None
    item_map: IdMap | None = None

    def items_frame(self, items: pd.DataFrame) -> pd.DataFrame:
        """Item attributes re-indexed by encoded item id (1..n_items), rows in id order; row 0 is padding."""
        require_columns(items, ("item",), what="items")
        if self.item_map is None:
            raise ValueError("this split has no item map")
        by_raw = items.drop_duplicates("item").set_index("item")
        missing = pd.Index(self.item_map.raw).difference(by_raw.index)
        if len(missing):
            raise DataError(f"{len(missing)} item(s) of the interactions lack attributes, e.g. {missing[:5].tolist()}")
        out = by_raw.loc[self.item_map.raw].reset_index()
        out.index = np.arange(1, len(out) + 1)
        return out

    def history(self, stage: str) -> pd.DataFrame:
        """Events a model may see before predicting ``stage``: train for 'valid', train+valid for 'test'."""
        if stage == "valid":
            return self.train
        if stage == "test":
            return pd.concat([self.train, self.valid])
        raise ValueError(f"stage must be 'valid' or 'test', got {stage!r}")

    def targets(self, stage: str) -> pd.DataFrame:
        """Events to predict at ``stage`` ('valid' or 'test')."""
        if stage not in ("valid", "test"):
            raise ValueError(f"stage must be 'valid' or 'test', got {stage!r}")
        return self.valid if stage == "valid" else self.test

    def __repr__(self) -> str:
        return (f"Split({self.kind}: train {len(self.train):,}, valid {len(self.valid):,}, test {len(self.test):,}; "
                f"{self.n_users:,} users, {self.n_items:,} items)")


def _encoded(df: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    require_columns(df, INTERACTION_COLUMNS)
    check_timestamps(df)
    enc, um, im = encode_ids(df)
    return enc.reset_index(drop=True), {"n_users": len(um), "n_items": len(im), "user_map": um, "item_map": im}


def leave_one_out(df: pd.DataFrame, min_history: int = 3) -> Split:
    """Per user: last event -> test, second-to-last -> validation, the rest -> train.

    Events are ordered by timestamp, ties by original row order (stable). Users with fewer than
    ``min_history`` events stay entirely in train. Ids are re-encoded to 1..n (raw ids sorted).
    """
    enc, ids = _encoded(df)
    ordered = time_order(enc)
    pos_from_end = ordered.groupby("user").cumcount(ascending=False)
    size = ordered["user"].map(ordered["user"].value_counts())
    eligible = size >= min_history
    test = ordered[eligible & (pos_from_end == 0)]
    valid = ordered[eligible & (pos_from_end == 1)]
    train = ordered[~(eligible & (pos_from_end <= 1))]
    return Split(train, valid, test, kind="leave-one-out", info={"tie_break": "original row order"}, **ids)


def temporal_split(df: pd.DataFrame, test_start: int | str, valid_start: int | str | None = None) -> Split:
    """Global split by time: events before ``valid_start`` train, [valid_start, test_start) validate,
    from ``test_start`` on test. Test users/items unseen in train remain (cold) and are counted in info."""
    enc, ids = _encoded(df)
    t_test = _as_unix(test_start)
    t_valid = _as_unix(valid_start) if valid_start is not None else t_test
    if t_valid > t_test:
        raise ValueError("valid_start must not be after test_start")
    ordered = time_order(enc, by_user=False)
    ts = ordered["timestamp"]
    train, valid, test = ordered[ts < t_valid], ordered[(ts >= t_valid) & (ts < t_test)], ordered[ts >= t_test]
    seen_users, seen_items = set(train["user"]), set(train["item"])
    info = {"test_start": t_test, "valid_start": t_valid,
            "cold_test_users": int((~test["user"].isin(seen_users)).sum()),
            "cold_test_items": int((~test["item"].isin(seen_items)).sum())}
    return Split(train, valid, test, kind="temporal", info=info, **ids)


def temporal_split_by_share(df: pd.DataFrame, valid_share: float = 0.1, test_share: float = 0.1) -> Split:
    """``temporal_split`` at time quantiles: the last ``test_share`` of events (by time) test, the
    ``valid_share`` before them validate (ML latest-small's benchmark split: 80% / 10% / 10%)."""
    if not (0.0 <= valid_share < 1.0 and 0.0 < test_share < 1.0 and valid_share + test_share < 1.0):
        raise ValueError(f"need 0 <= valid_share, 0 < test_share and valid_share + test_share < 1; "
                         f"got {valid_share!r}, {test_share!r}")
    require_columns(df, INTERACTION_COLUMNS)
    q = df["timestamp"].quantile([1.0 - test_share - valid_share, 1.0 - test_share]).astype("int64").tolist()
    return temporal_split(df, test_start=q[1], valid_start=q[0])


def random_split(df: pd.DataFrame, valid_frac: float = 0.1, test_frac: float = 0.1, seed: int = 0) -> Split:
    """Random split that ignores time: the leaky protocol, kept to demonstrate what leakage does."""
    enc, ids = _encoded(df)
    rng = np.random.default_rng(seed)
    r = rng.random(len(enc))
    test, valid = enc[r < test_frac], enc[(r >= test_frac) & (r < test_frac + valid_frac)]
    train = enc[r >= test_frac + valid_frac]
    return Split(train, valid, test, kind="random", info={"seed": seed}, **ids)


def shuffle_train_order(split: Split, seed: int = 0) -> Split:
    """A copy of ``split`` whose training events keep their items but lose their order within each user.

    The shuffled-order control: a sequence model that scores as well on this split is not using order.
    Each user's training timestamps are permuted among that user's events, then the frame is re-sorted.
    """
    rng = np.random.default_rng(seed)
    train = split.train.copy()
    train["timestamp"] = train.groupby("user")["timestamp"].transform(lambda t: rng.permutation(t.to_numpy()))
    return Split(**{**split.__dict__, "train": train.sort_values(["user", "timestamp"], kind="stable")})
