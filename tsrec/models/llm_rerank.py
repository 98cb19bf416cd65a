"""A pretrained LLM on top of a recommender (chapter 2.1): re-ranking with time-aware prompts, and labelling
items as seasonal / event-driven / evergreen, checked against how their popularity actually moved.

``llm_rerank`` takes the top-N of any recommender, asks a causal LM (default SmolLM2-135M-Instruct, offline)
how likely each candidate title is as the next item given the user's history — written with dates and
gaps (``history_to_text(with_time=True)``) or as bare titles — and re-orders the candidates by that
log-likelihood, optionally calibrated by the same title's likelihood with an empty history (so titles
the LM likes regardless of the user do not win). ``label_time_sensitivity`` asks the LM for a label per
item; ``popularity_dynamics`` measures front-loading, holiday concentration and month-to-month volatility
from the ratings, each relative to the whole catalogue, and ``label_agreement`` sets one against the other.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from tsrec.metrics import mean_ci

__all__ = [
    "RERANK_INSTRUCTION",
    "RERANK_SYSTEM",
    "compact_history",
    "RerankResult",
    "llm_rerank",
    "rerank_metrics",
    "TIME_LABEL_PROMPT",
    "label_time_sensitivity",
    "popularity_dynamics",
    "label_agreement",
]

RERANK_SYSTEM = "You recommend movies."
RERANK_INSTRUCTION = ("Here is what a user watched, oldest first{when}. "
                      "Name the one movie the user will most likely watch next.")
NULL_HISTORY = "(nothing yet)"


@dataclass
class RerankResult:
    """Per-user outcome: ``frame`` (user, target, base_rank in the full ranking, and the target's 0-based
    position in each order, ``n_candidates`` when absent), the candidate lists and each order, timings."""

    frame: pd.DataFrame
    candidates: dict[int, np.ndarray]
    orders: dict[str, dict[int, np.ndarray]]
    seconds: dict[str, float]
    n_candidates: int
    prompts: dict[str, str] = field(default_factory=dict)  # one example prompt per variant


def compact_history(titles: Sequence[str], timestamps: Sequence[int] | None = None, now: int | None = None,
                    with_time: bool = True, max_items: int = 8) -> str:
    """The last ``max_items`` titles, oldest first, one per line; with time, grouped under a line per day
    ('On 1997-10-24 (141 days before today):') after 'Today is <date>.' — the dates and gaps of
    ``history_to_text`` in about a third of its tokens, which a 135M-parameter LM on a CPU needs."""
    titles = [str(t) for t in titles][-max_items:] if max_items else [str(t) for t in titles]
    if not with_time:
        return "\n".join(f"- {t}" for t in titles)
    if timestamps is None or now is None:
        raise ValueError("compact_history needs timestamps and now when with_time=True")
    times = np.asarray(timestamps, dtype=np.int64)[-len(titles):]
    day = lambda t: pd.Timestamp(int(t), unit="s", tz="UTC")  # noqa: E731
    today = day(now)
    lines, current = [f"Today is {today:%a %Y-%m-%d}."], None
    for title, t in zip(titles, times):
        d = day(t)
        if current is None or d.date() != current:
            ago = (today.normalize() - d.normalize()).days
            when = "today" if ago == 0 else ("yesterday" if ago == 1 else f"{ago} days before today")
            lines.append(f"On {d:%Y-%m-%d} ({when}):")
            current = d.date()
        lines.append(f"- {title}")
    return "\n".join(lines)


def _positions(order: np.ndarray, target: int, n: int) -> int:
    hit = np.flatnonzero(order == target)
    return int(hit[0]) if len(hit) else n


def llm_rerank(lm, model, split, titles: pd.Series, n_users: int = 200, n_candidates: int = 20,
               max_history: int = 8, variants: Sequence[str] = ("time", "no_time"), calibrate: bool = False,
               normalise: bool = True, stage: str = "test", seed: int = 0, users: Sequence[int] | None = None,
               batch_size: int = 20, history_style: str = "compact", system: str | None = RERANK_SYSTEM,
               show_progress: bool = True) -> RerankResult:
    """Re-rank ``model``'s top ``n_candidates`` (seen items masked) for a random subsample of ``n_users``
    users with a ``GenerativeLM`` (``lm``), once per prompt variant ("time": dates and gaps; "no_time":
    titles only). ``titles`` maps encoded item id -> title. Scores are per-token mean log-likelihoods of each
    title (summed if not ``normalise``), minus the title's log-likelihood after an empty history if
    ``calibrate`` (pointwise mutual information; off by default, as the LM's prior for famous titles is itself a
    popularity signal that calibration would remove).
    The history is written by ``compact_history`` (``history_style="compact"``) or ``tsrec.llm.history_to_text``
    with dates (``"lines"``: about three times the tokens).
    Orders ``"base"``, every variant, and ``"<variant>+base"`` (Borda: sum of both positions, base breaks ties).
    """
    from tsrec import llm as L
    from tsrec.evaluate import eval_queries
    from tsrec.metrics import target_ranks, topk_items
    from tsrec.models.base import QueryBatch, seen_mask

    if history_style not in ("compact", "lines"):
        raise ValueError(f"history_style must be 'compact' or 'lines', got {history_style!r}")
    bad = [v for v in variants if v not in ("time", "no_time")]
    if bad:
        raise ValueError(f"variants must be 'time' or 'no_time', got {bad}")
    queries, targets = eval_queries(split, stage)
    if users is None:
        rng = np.random.default_rng(seed)
        rows = np.sort(rng.choice(len(queries), size=min(n_users, len(queries)), replace=False))
    else:
        rows = np.flatnonzero(np.isin(queries.users, np.asarray(users)))
    q = QueryBatch(queries.users[rows], [queries.items[i] for i in rows], [queries.times[i] for i in rows],
                   queries.now[rows])
    tgt = targets[rows]
    t0 = time.perf_counter()
    with torch.inference_mode():
        scores = torch.as_tensor(model.score(q)).float()
    mask = seen_mask(q, scores.shape[1])
    base_rank = target_ranks(scores, torch.as_tensor(tgt), mask).numpy()
    cands = topk_items(scores, mask, n_candidates).numpy()
    seconds = {"base": time.perf_counter() - t0}
    title_of = {int(i): str(t) for i, t in titles.items()}

    frame = pd.DataFrame({"user": q.users, "target": tgt, "base_rank": base_rank})
    frame["base"] = [_positions(c, t, n_candidates) for c, t in zip(cands, tgt)]
    orders: dict[str, dict[int, np.ndarray]] = {"base": {int(u): c for u, c in zip(q.users, cands)}}
    prompts_seen: dict[str, str] = {}
    for variant in variants:
        t1 = time.perf_counter()
        with_time = variant == "time"
        instruction = RERANK_INSTRUCTION.format(when=", with dates" if with_time else "")
        prompts, cand_titles = [], []
        for items, times, now, row in zip(q.items, q.times, q.now, cands):
            hist = [title_of[int(i)] for i in items]
            if history_style == "compact":
                text = compact_history(hist, times, int(now), with_time=with_time, max_items=max_history)
            else:
                text = L.history_to_text(hist, times if with_time else None, with_time=with_time,
                                         max_items=max_history, with_date=with_time)
            prompts.append(lm.prompt(text, instruction=instruction, system=system))
            cand_titles.append([title_of[int(i)] for i in row if i > 0])
        lp = lm.score_candidates(prompts, cand_titles, batch_size=batch_size, normalise=normalise,
                                 show_progress=show_progress)
        if calibrate:
            unique = sorted({t for ts in cand_titles for t in ts})
            null_prompt = lm.prompt(NULL_HISTORY, instruction=instruction, system=system)
            null = dict(zip(unique, lm.score_candidates([null_prompt], [unique], batch_size=batch_size,
                                                        normalise=normalise, show_progress=False)[0]))
            lp = [s - np.array([null[t] for t in ts]) for s, ts in zip(lp, cand_titles)]
        seconds[variant] = time.perf_counter() - t1
        prompts_seen[variant] = prompts[0]
        orders[variant], orders[f"{variant}+base"] = {}, {}
        pos, pos_b = [], []
        for u, row, s, t in zip(q.users, cands, lp, tgt):
            row = row[row > 0]
            lm_order = np.lexsort((np.arange(len(row)), -s))  # LM score, then base position
            lm_pos = np.empty(len(row), int)
            lm_pos[lm_order] = np.arange(len(row))
            borda = np.lexsort((np.arange(len(row)), lm_pos + np.arange(len(row))))
            orders[variant][int(u)], orders[f"{variant}+base"][int(u)] = row[lm_order], row[borda]
            pos.append(_positions(row[lm_order], t, n_candidates))
            pos_b.append(_positions(row[borda], t, n_candidates))
        frame[variant], frame[f"{variant}+base"] = pos, pos_b
    return RerankResult(frame, orders["base"], orders, seconds, n_candidates, prompts_seen)


def rerank_metrics(result: RerankResult, k: int = 10) -> pd.DataFrame:
    """HR@k and NDCG@k (mean ± 95% interval over the users) of every order, and the paired difference of
    each order from the base order's, on the same users."""
    rows = []
    f = result.frame
    cols = [c for c in f.columns if c not in ("user", "target", "base_rank")]
    base_hr = (f["base"].to_numpy() < k).astype(float)
    base_nd = base_hr / np.log2(f["base"].to_numpy() + 2.0)
    for c in cols:
        p = f[c].to_numpy()
        hr = (p < k).astype(float)
        nd = hr / np.log2(p + 2.0)
        row = {"order": c}
        row[f"HR@{k}"], row[f"HR@{k} ±"] = mean_ci(hr)
        row[f"NDCG@{k}"], row[f"NDCG@{k} ±"] = mean_ci(nd)
        row[f"ΔNDCG@{k}"], row[f"ΔNDCG@{k} ±"] = mean_ci(nd - base_nd)
        rows.append(row)
    return pd.DataFrame(rows).set_index("order")


# ----------------------------------------------------------------------------- time-sensitivity labels
TIME_LABEL_PROMPT = (
    "Classify how the audience of this movie depends on time.\n"
    "seasonal: watched mostly at one time of year, such as Christmas, Halloween or summer.\n"
    "event-driven: watched mostly right after its release or around a news event, then quickly forgotten.\n"
    "evergreen: a classic watched steadily year after year.\n\n"
    "Movie: {text}\nAnswer with one word: seasonal, event-driven or evergreen."
)


def label_time_sensitivity(lm, texts: pd.Series, labels: Sequence[str] | None = None,
                           template: str = TIME_LABEL_PROMPT, calibrate: bool | str = "null",
                           null_text: str = "(title not given)", show_progress: bool = True) -> pd.DataFrame:
    """Zero-shot label per item text with ``lm.classify``: the label and the softmax over the labels
    (columns ``p_<label>``), indexed like ``texts``.

    A small LM prefers some answers whatever the question, so each label's probability is divided by a prior
    before normalising: ``calibrate="null"`` (or True) uses its probability for a content-free movie
    (``null_text``; contextual calibration, Zhao et al., ICML 2021), ``"batch"`` its mean probability over all
    ``texts`` (batch calibration, Zhou et al., ICLR 2024: every label is then equally likely on average, so
    the label says which items lean towards it more than the others do), False/None none.
    ``raw_label`` keeps the uncalibrated answer.
    """
    from tsrec.llm import TEMPORAL_LABELS

    if calibrate is True:
        calibrate = "null"
    if calibrate not in (False, None, "null", "batch"):
        raise ValueError(f"calibrate must be 'null', 'batch' or False, got {calibrate!r}")
    labels = list(labels or TEMPORAL_LABELS)
    raw, probs = [], []
    for text in tqdm(texts.tolist(), desc="labelling", unit="item", disable=not show_progress):
        label, p = lm.classify(lm.chat(template.format(text=text)), labels)
        raw.append(label)
        probs.append(p)
    probs = np.array(probs, dtype=np.float64).reshape(len(raw), len(labels))
    if calibrate == "null":
        probs = probs / lm.classify(lm.chat(template.format(text=null_text)), labels)[1]
    elif calibrate == "batch" and len(raw):
        probs = probs / probs.mean(0, keepdims=True)
    probs = probs / probs.sum(1, keepdims=True) if len(raw) else probs
    frame = pd.DataFrame(probs, index=texts.index, columns=[f"p_{lab}" for lab in labels])
    frame.insert(0, "raw_label", raw)
    frame.insert(0, "label", np.array(labels, dtype=object)[probs.argmax(1)] if len(raw) else [])
    return frame


def popularity_dynamics(interactions: pd.DataFrame, min_events: int = 30, months: tuple[int, ...] = (11, 12, 1),
                        horizon_days: float = 365.0, release_year: pd.Series | None = None) -> pd.DataFrame:
    """How each item's ratings moved in time, relative to all ratings (so site-wide changes cancel):

    ``front_load``: share of its ratings within ``horizon_days`` of its first one, divided by the share of
    all ratings after that day that fall in the same window (> 1: a burst after its arrival on the site);
    ``holiday_lift``: share of its ratings in ``months`` over the share of all ratings in those months;
    ``cv_monthly``: coefficient of variation of its monthly share of all ratings (volatility).
    With ``release_year`` (item -> year): ``first_year_share``, the share of its ratings dated in the release
    year or the next (NaN for items released before the data begin), and ``age_median``, the median years
    from release to rating. Only items with at least ``min_events`` ratings and a full horizon are kept.
    """
    df = interactions[["item", "timestamp"]].copy()
    ts = pd.to_datetime(df["timestamp"], unit="s", utc=True)
    df["month"] = ts.dt.month.to_numpy()
    df["year"] = ts.dt.year.to_numpy()
    df["period"] = ts.dt.tz_localize(None).dt.to_period("M").astype(str).to_numpy()
    t_all = np.sort(df["timestamp"].to_numpy())
    end, horizon = int(t_all[-1]), int(horizon_days * 86400)
    first_data_year = int(df["year"].min())
    holiday_all = df["month"].isin(months).mean()
    per_month = df.groupby("period").size()
    counts = df.groupby("item").size()
    keep = counts.index[counts >= min_events]
    g = df[df["item"].isin(keep)].groupby("item")
    first = g["timestamp"].min()
    keep = first.index[first + horizon <= end]
    rows = []
    for item in keep:
        sub = df.loc[g.indices[item]]
        t0 = int(first[item])
        in_h = (sub["timestamp"] < t0 + horizon).mean()
        lo, hi = np.searchsorted(t_all, [t0, t0 + horizon], side="left")
        all_h = (hi - lo) / max(len(t_all) - lo, 1)
        since = per_month.index[per_month.index >= sub["period"].min()]
        share = (sub.groupby("period").size() / per_month).reindex(since).fillna(0.0)
        row = {"item": item, "n": len(sub), "first": t0, "front_load": in_h / all_h,
               "holiday_lift": sub["month"].isin(months).mean() / holiday_all,
               "cv_monthly": float(share.std(ddof=0) / share.mean()) if share.mean() > 0 else np.nan}
        if release_year is not None:
            year = release_year.get(item, np.nan)
            ok = pd.notna(year)
            row["age_median"] = float(np.median(sub["year"] - year)) if ok else np.nan
            row["first_year_share"] = (float((sub["year"] <= year + 1).mean())
                                       if ok and year >= first_data_year else np.nan)
        rows.append(row)
    return pd.DataFrame(rows).set_index("item")


def label_agreement(labels: pd.DataFrame, dynamics: pd.DataFrame,
                    measures: Sequence[str] | None = None) -> pd.DataFrame:
    """Mean ± 95% interval of each measured dynamic per LM label (items in both frames), with counts."""
    joined = labels[["label"]].join(dynamics, how="inner")
    measures = measures or [c for c in ("front_load", "holiday_lift", "cv_monthly", "first_year_share", "age_median")
                            if c in dynamics.columns]
    rows = []
    for label, sub in joined.groupby("label"):
        row = {"label": label, "n": len(sub)}
        for m in measures:
            v = sub[m].dropna().to_numpy()
            row[m], row[f"{m} ±"] = mean_ci(v) if len(v) >= 2 else ((float(v.mean()) if len(v) else np.nan), np.nan)
        rows.append(row)
    return pd.DataFrame(rows).set_index("label")
