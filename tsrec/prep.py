"""Preparation: cleaning with a report, time order and features, id maps, k-core, per-user sequences.

Order convention (used everywhere): a user's events are ordered by ``timestamp`` and, within equal
timestamps, by their original row order (a stable sort). ML-100K has many ties, so this choice
changes which item is "last"; it is the choice the book's anchors were measured with.
"""
from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tsrec.data import INTERACTION_COLUMNS, DataError, require_columns
from tsrec.times import to_seconds

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
    lo = int(to_seconds(min_time, 'min_time'))
    hi = int(to_seconds(max_time, 'max_time')) if max_time is not None else int(pd.Timestamp.now(tz="UTC").timestamp())
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
    def fit(cls, values: Iterable[Hashable]) -> IdMap:
        raw = np.sort(pd.unique(pd.Series(values).dropna()))
        return cls(raw, {v: i + 1 for i, v in enumerate(raw.tolist())})

    def __len__(self) -> int:
        return len(self.raw)

    def encode(self, values: Iterable[Hashable], unknown: str = "error") -> np.ndarray:
        """Map raw ids to 1..n; unknown ids raise DataError (``unknown="error"``) or become 0 (``"pad"``)."""
        vals = pd.Series(values)
        out = vals.map(self._index)
        if out.isna().any():
            if unknown == "error":
                missing = vals[out.isna()].unique()[:5].tolist()
                raise DataError(f"{int(out.isna().sum())} id(s) not in the map, e.g. {missing}")
            out = out.fillna(PAD)
        return out.to_numpy(dtype=np.int64)

    def decode(self, idx: np.ndarray | Sequence[int]) -> np.ndarray:
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
