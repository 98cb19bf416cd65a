"""Splits of a log into train / validation / test: leave-one-out, global temporal, random, shuffled order.

Ids are re-encoded to 1..n (raw ids sorted) and every split keeps its IdMaps. ``Split.history(stage)`` is
what a model may see before predicting ``stage``; ``Split.targets(stage)`` are the events it must predict.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tsrec.data import INTERACTION_COLUMNS, DataError, require_columns
from tsrec.prep import IdMap, check_timestamps, encode_ids, time_order
from tsrec.times import to_seconds


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
    t_test = int(to_seconds(test_start, 'test_start'))
    t_valid = int(to_seconds(valid_start, 'valid_start')) if valid_start is not None else t_test
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
