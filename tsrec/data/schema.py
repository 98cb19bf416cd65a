"""The canonical schema every loader returns, its errors, and reading a user's own file of interactions.

Interactions: ``user``, ``item``, ``timestamp`` (int64 Unix seconds, UTC) and ``rating`` or ``quantity``
where the source has them; rows keep the source file's order, which is the documented tie-break for
equal timestamps. Items: ``item`` plus text fields.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

INTERACTION_COLUMNS = ("user", "item", "timestamp")


class DataError(ValueError):
    """A data file or frame is missing, corrupt or lacks what a step needs; the message says how to fix it."""


class ChecksumError(DataError):
    """A fetched file does not have the sha256 recorded in its data-set card."""


class MissingDataError(DataError, FileNotFoundError):
    """A data file has not been fetched yet."""


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


def require_columns(df: pd.DataFrame, columns: tuple[str, ...] | list[str] = INTERACTION_COLUMNS,
                    what: str = "interactions") -> None:
    """Raise DataError naming the missing columns (and the ones present) if any are absent."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(f"{what} lack column(s) {missing}; required {list(columns)}, found {list(df.columns)}. "
                        f"Rename your columns to the canonical schema (user, item, timestamp).")


def read_frame(data: pd.DataFrame | str | Path) -> pd.DataFrame:
    """A DataFrame as is, or a CSV / parquet / pickle file read into one (clear error otherwise)."""
    if isinstance(data, pd.DataFrame):
        return data
    if not isinstance(data, (str, Path)):
        raise TypeError(f"data must be a DataFrame or a path to a .csv/.parquet/.pkl file, got {type(data).__name__}")
    path = Path(data)
    if not path.exists():
        raise MissingDataError(f"{path} does not exist")
    compressed = path.suffix.lower() in (".gz", ".xz", ".zip")
    suffix = "".join(path.suffixes[-2:]).lower() if compressed else path.suffix.lower()
    try:
        if suffix.startswith(".csv"):
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix.startswith(".pkl") or suffix.startswith(".pickle"):
            return pd.read_pickle(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError, ValueError) as e:
        raise DataError(f"{path} is not a readable {suffix or 'data'} file ({str(e)[:200]}); save it as UTF-8 with a "
                        "header row user,item,timestamp (Unix seconds)") from e
    raise DataError(f"{path}: unknown file type {path.suffix!r}; use .csv, .parquet or .pkl")


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
