"""Promotions and coupons in Complete Journey (chapter 7.1): how much of what households buy is promoted, whether
a household buys its regular products more often in the weeks they are promoted at its store (paired within the
household-product), and when the coupons of a campaign are redeemed. A promotion is a time-bound event known
before its week starts (the mailer is printed ahead), so a recommender may use it without seeing the future.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from tsrec.data import require_columns
from tsrec.metrics import clustered_mean_ci
from tsrec.models.basket import main_store
from tsrec.prep import IdMap

__all__ = ["campaign_summary", "promoted_share", "promotion_calendar", "promotion_flags", "promotion_response",
           "redemption_timing"]


def _keys(frame: pd.DataFrame) -> np.ndarray:
    """One int64 per (item, store, week): product ids < 2^40, stores < 2^16, weeks < 2^6."""
    return ((frame["item"].to_numpy(np.int64) << 22) | (frame["store"].to_numpy(np.int64) << 6)
            | frame["week"].to_numpy(np.int64))


def promotion_flags(events: pd.DataFrame, promotions: pd.DataFrame) -> pd.DataFrame:
    """``on_display`` and ``in_mailer`` of each row of ``events`` (columns item, store, week): whether its product
    was promoted in that store that week (False where the promotions table has no row; a product-store-week listed
    twice counts as promoted if either row says so)."""
    require_columns(events, ["item", "store", "week"], what="events")
    require_columns(promotions, ["item", "store", "week", "on_display", "in_mailer"], what="promotions")
    keys = _keys(promotions)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    unique = sorted_keys[starts]
    wanted = _keys(events)
    pos = np.minimum(np.searchsorted(unique, wanted), len(unique) - 1)
    found = unique[pos] == wanted if len(unique) else np.zeros(len(events), bool)
    out = {}
    for flag in ("on_display", "in_mailer"):
        per_key = np.logical_or.reduceat(promotions[flag].to_numpy(bool)[order], starts) if len(unique) else []
        values = np.zeros(len(events), bool)
        values[found] = np.asarray(per_key)[pos[found]]
        out[flag] = values
    return pd.DataFrame(out, index=events.index)


def promoted_share(lines: pd.DataFrame, promotions: pd.DataFrame) -> pd.Series:
    """Share of line items bought on display, in the mailer, on either, with a loyalty-card discount, with a
    coupon."""
    flags = promotion_flags(lines, promotions)
    return pd.Series({"on display": flags["on_display"].mean(), "in the mailer": flags["in_mailer"].mean(),
                      "display or mailer": (flags["on_display"] | flags["in_mailer"]).mean(),
                      "loyalty-card discount": (lines["retail_disc"] > 0).mean(),
                      "coupon": (lines["coupon_disc"] > 0).mean()}, name="share of line items")


def promotion_response(lines: pd.DataFrame, promotions: pd.DataFrame, min_weeks: int = 2) -> pd.DataFrame:
    """Does a household buy a product it buys regularly more often in the weeks the product is promoted at its
    main store? For every household-product bought in >= ``min_weeks`` distinct weeks, over the weeks the
    household shopped: the share of weeks with a purchase when promoted and when not, paired within the
    household-product, 95% interval clustered by household. Association, not cause: promotions follow the
    season too."""
    require_columns(lines, ["user", "item", "store", "week", "basket"], what="lines")
    store = main_store(lines)
    bought = lines[["user", "item", "week"]].drop_duplicates()
    regular = bought.groupby(["user", "item"]).size()
    regular = regular[regular >= min_weeks].reset_index()[["user", "item"]]
    active = lines[["user", "week"]].drop_duplicates()
    grid = regular.merge(active, on="user")  # every week the household shopped, for each regular product
    grid["store"] = store.reindex(grid["user"]).to_numpy()
    flags = promotion_flags(grid, promotions)
    hit = grid[["user", "item", "week"]].merge(bought.assign(hit=True), how="left", on=["user", "item", "week"])
    hit = hit["hit"].astype("boolean").fillna(False).to_numpy(bool)
    rows = {}
    for name, promoted in (("display or mailer", flags["on_display"] | flags["in_mailer"]),
                           ("on display", flags["on_display"]), ("in the mailer", flags["in_mailer"])):
        f = pd.DataFrame({"user": grid["user"], "item": grid["item"], "promoted": promoted.to_numpy(), "hit": hit})
        rates = f.pivot_table(index=["user", "item"], columns="promoted", values="hit", aggfunc="mean").dropna()
        if True not in rates or False not in rates or len(rates) < 2:
            continue
        diff = (rates[True] - rates[False]).to_numpy()
        mean, half = clustered_mean_ci(diff, rates.index.get_level_values("user").to_numpy())
        rows[name] = {"household-products": len(rates), "households": rates.index.get_level_values(0).nunique(),
                      "P(buy | not promoted)": float(rates[False].mean()),
                      "P(buy | promoted)": float(rates[True].mean()),
                      "difference": mean, "± 95%": half}
    return pd.DataFrame.from_dict(rows, orient="index")


def promotion_calendar(promotions: pd.DataFrame, lines: pd.DataFrame, item_map: IdMap
                       ) -> tuple[dict[tuple[int, int], np.ndarray], np.ndarray]:
    """What ``PromotionBoost`` reads: the promoted products (ids of ``item_map``) of each (store, week), display or
    mailer, and the first second of each study week (the earliest line item of that week in ``lines``)."""
    require_columns(lines, ["timestamp", "week"], what="lines")
    starts = lines.groupby("week")["timestamp"].min().sort_index()
    if not (starts.index.to_numpy() == np.arange(1, len(starts) + 1)).all():
        raise ValueError("lines must hold every study week 1..n to date the weeks")
    raw = promotions["item"].to_numpy(np.int64)
    promoted_row = (promotions["on_display"] | promotions["in_mailer"]).to_numpy(bool)
    on = promotions[np.isin(raw, np.asarray(item_map.raw, dtype=np.int64)) & promoted_row]
    frame = pd.DataFrame({"store": on["store"].to_numpy(np.int64), "week": on["week"].to_numpy(np.int64),
                          "item": item_map.encode(on["item"])}).drop_duplicates()
    frame = frame.sort_values(["store", "week", "item"], kind="stable")
    key = frame["store"].to_numpy() * 64 + frame["week"].to_numpy()
    cuts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, np.int64)
    items = np.split(frame["item"].to_numpy(np.int64), cuts[1:])
    promoted = {(int(k // 64), int(k % 64)): v for k, v in zip(key[cuts], items)}
    return promoted, starts.to_numpy(np.int64)


def campaign_summary(campaigns: pd.DataFrame, redemptions: pd.DataFrame) -> pd.DataFrame:
    """Per campaign type: campaigns, median length (days), households targeted, redemptions, and the share of
    targeted household-campaign pairs that redeemed at least one coupon."""
    require_columns(campaigns, ["campaign_id", "user", "campaign_type", "start_date", "end_date"], what="campaigns")
    pairs = campaigns.drop_duplicates(["campaign_id", "user"])
    redeemed = redemptions.drop_duplicates(["campaign_id", "user"]).assign(redeemed=True)
    pairs = pairs.merge(redeemed[["campaign_id", "user", "redeemed"]], on=["campaign_id", "user"], how="left")
    pairs["redeemed"] = pairs["redeemed"].astype("boolean").fillna(False).astype(bool)
    length = (pairs["end_date"] - pairs["start_date"]).dt.days
    pairs = pairs.assign(length_days=length)
    per_campaign = pairs.drop_duplicates("campaign_id")
    counts = redemptions.merge(per_campaign[["campaign_id", "campaign_type"]], on="campaign_id")
    out = pd.DataFrame({
        "campaigns": per_campaign.groupby("campaign_type")["campaign_id"].size(),
        "median length (days)": per_campaign.groupby("campaign_type")["length_days"].median(),
        "households targeted": pairs.groupby("campaign_type").size(),
        "redemptions": counts.groupby("campaign_type").size(),
        "share of targets redeeming": pairs.groupby("campaign_type")["redeemed"].mean()})
    return out.fillna({"redemptions": 0}).astype({"redemptions": int})


def redemption_timing(campaigns: pd.DataFrame, redemptions: pd.DataFrame) -> pd.DataFrame:
    """Each redemption with the days since its campaign started and the share of the campaign elapsed (0 = the
    first day, 1 = the last); redemptions outside the campaign's dates keep their values (below 0 or above 1)."""
    dates = campaigns.drop_duplicates("campaign_id")[["campaign_id", "campaign_type", "start_date", "end_date"]]
    out = redemptions.merge(dates, on="campaign_id", how="inner", validate="many_to_one")
    days = (out["redemption_date"] - out["start_date"]).dt.days
    span = (out["end_date"] - out["start_date"]).dt.days.clip(lower=1)
    return out.assign(days_since_start=days, share_elapsed=days / span)
