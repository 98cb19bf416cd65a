"""The experiments of the LLM chapters (2 and 4.2b) as functions a notebook cell can call.

``sasrec_variant`` builds the SASRec twins that differ only in their item table (IDs, text-initialised IDs,
text fused with IDs, text alone); ``earlier_baselines`` (from ``tsrec.analysis.baselines``) fits the strongest
baselines of chapter 4.1 (time-decayed item-kNN, recent popularity) with their half-life and window chosen on
validation;
``paired_difference`` and ``grouped_contrasts`` give paired intervals (clustered by user where a user has many
queries, Bonferroni-widened for a family of post-hoc contrasts); ``benchmark_tables`` reads the tables of
``benchmarks/llm_results.md`` so a chapter prints the benchmark figures its text quotes.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from tsrec.analysis import compare_runs
from tsrec.analysis.baselines import KNN_HALF_LIVES, RECENT_WINDOWS, earlier_baselines
from tsrec.config import REPO_ROOT
from tsrec.metrics import clustered_mean_ci, mean_ci, per_user_rank_metrics
from tsrec.models.sequential import HybridSASRec, SASRec, init_from_text

__all__ = ["BENCHMARK_FILE", "KNN_HALF_LIVES", "RECENT_WINDOWS", "SASREC_VARIANTS", "benchmark_numbers",
           "benchmark_tables", "earlier_baselines", "grouped_contrasts", "paired_difference", "sasrec_variant",
           "seed_comparison"]

BENCHMARK_FILE = REPO_ROOT / "benchmarks" / "llm_results.md"
_FUSION = {"gated text+ID": "gate", "text only": "text_only", "summed text+ID": "sum", "ID twin": "id"}
SASREC_VARIANTS = ("ID-only", "LM-init", "gated + ID dropout", *_FUSION)


def sasrec_variant(variant: str, n_items: int, text: np.ndarray, max_len: int = 50, id_dropout: float = 0.3,
                   seed: int = 0) -> nn.Module:
    """A fresh SASRec of the named variant (``SASREC_VARIANTS``), seeded, so that twins differ only in their item
    table: random IDs, IDs initialised from the text's principal components, or a hybrid over frozen ``text``."""
    if variant not in SASREC_VARIANTS:
        raise ValueError(f"variant must be one of {SASREC_VARIANTS}, got {variant!r}")
    torch.manual_seed(seed)
    if variant in ("ID-only", "LM-init"):
        model = SASRec(n_items, max_len=max_len)
        if variant == "LM-init":
            init_from_text(model, text)
        return model
    fusion, drop = ("gate", id_dropout) if variant == "gated + ID dropout" else (_FUSION[variant], 0.0)
    return HybridSASRec(n_items, text_dim=np.shape(text)[1], fusion=fusion, max_len=max_len, text=text,
                        id_dropout=drop)


def _aligned_metric(a: pd.DataFrame, b: pd.DataFrame, k: int, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-query ``metric@k`` of two per-query frames (user, target, rank) that list the same queries in order."""
    if len(a) != len(b) or not (a["user"].to_numpy() == b["user"].to_numpy()).all():
        raise ValueError("the two runs must list the same queries in the same order")
    name = f"{metric}@{k}"
    return (per_user_rank_metrics(a["rank"].to_numpy(), k)[name], per_user_rank_metrics(b["rank"].to_numpy(), k)[name])


def paired_difference(a: pd.DataFrame, b: pd.DataFrame, k: int = 10, metric: str = "NDCG",
                      confidence: float = 0.95) -> tuple[float, float]:
    """Mean of B minus A over the same queries and its interval half-width: paired over users, and clustered
    by user when a user has several queries (their queries are not independent)."""
    va, vb = _aligned_metric(a, b, k, metric)
    users = a["user"].to_numpy()
    if len(np.unique(users)) == len(users):
        return mean_ci(vb - va, confidence)
    return clustered_mean_ci(vb - va, users, confidence)


def grouped_contrasts(runs: dict[str, pd.DataFrame], contrasts: Sequence[tuple[str, str, str]], groups: np.ndarray,
                      k: int = 10, metric: str = "NDCG") -> pd.DataFrame:
    """Paired difference of each contrast (B, A, label) within each group of queries: n, B - A, its 95% interval,
    and the interval widened for the whole family (Bonferroni over contrasts x groups), the honest one when the
    group was picked after looking at the results."""
    cats = getattr(groups, "categories", None)  # a pandas Categorical keeps its own order
    labels = list(cats) if cats is not None else list(pd.unique(np.asarray(groups, dtype=object)))
    groups = np.asarray(groups, dtype=object)
    family = len(contrasts) * len(labels)
    rows = {}
    for b, a, label in contrasts:
        va, vb = _aligned_metric(runs[a], runs[b], k, metric)
        for g in labels:
            d = (vb - va)[groups == g]
            mean, half = mean_ci(d) if len(d) >= 2 else (float(d.mean()) if len(d) else np.nan, np.nan)
            wide = mean_ci(d, 1 - 0.05 / family)[1] if len(d) >= 2 else np.nan
            rows[(label, g)] = {"n": len(d), f"{metric}@{k} difference": mean, "95% ±": half,
                                f"± (Bonferroni, {family} contrasts)": wide}
    return pd.DataFrame(rows).T.rename_axis(["contrast", "group"])


def seed_comparison(runs: dict[str, Sequence[pd.DataFrame]], reference: str, counts: np.ndarray, k: int = 10
                    ) -> pd.DataFrame:
    """One row per model: HR@k and NDCG@k (mean over seeds, NDCG's 95% interval over seeds) and its NDCG@k
    minus the ``reference`` model's, with 95% intervals over seeds and over users (``compare_runs``).

    ``runs[name]`` lists a model's per-query frames, one per seed; a deterministic model may give one frame,
    which stands for every seed (its own interval over seeds is then 0).
    """
    n_seeds = len(runs[reference])
    rows = {}
    for name, frames in runs.items():
        fixed = len(frames) == 1 and n_seeds > 1  # a deterministic model: the same run stands for every seed
        frames = list(frames) * n_seeds if fixed else list(frames)
        per_seed = [per_user_rank_metrics(f["rank"].to_numpy(), k) for f in frames]
        nd = [float(p[f"NDCG@{k}"].mean()) for p in per_seed]
        row = {"seeds": len(runs[name]), f"HR@{k}": float(np.mean([p[f"HR@{k}"].mean() for p in per_seed])),
               f"NDCG@{k}": float(np.mean(nd)), f"NDCG@{k} ± (seeds)": 0.0 if fixed else mean_ci(nd)[1]}
        if name != reference:
            t = compare_runs(runs[reference], frames, counts, k=k).loc[("all", "all")]
            row |= {f"Δ vs {reference}": t["delta"], "Δ ± (seeds)": t["delta ± (seeds)"],
                    "Δ ± (users)": t["delta ± (users)"]}
        rows[name] = row
    return pd.DataFrame(rows).T


def benchmark_tables(section: str, path: str | Path = BENCHMARK_FILE) -> list[pd.DataFrame]:
    """The markdown tables under the heading '## <section>.' of the benchmark's results file, as frames of text
    indexed by their first column, so a chapter prints the benchmark figures its text quotes."""
    text = Path(path).read_text(encoding="utf-8")
    found = re.search(rf"^## {re.escape(section)}\..*?(?=^## |\Z)", text, flags=re.M | re.S)
    if found is None:
        raise KeyError(f"no section '## {section}.' in {Path(path).name}")
    tables, rows = [], []
    for line in found.group(0).splitlines() + [""]:
        if line.startswith("|"):
            rows.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif rows:
            body = [r for r in rows[2:] if len(r) == len(rows[0])]
            tables.append(pd.DataFrame(body, columns=rows[0]).set_index(rows[0][0]))
            rows = []
    return tables


def benchmark_numbers(cell: str) -> list[float]:
    """Every number in a benchmark cell, in order ('+0.0131 ± 0.0127 / ± 0.0076' -> [0.0131, 0.0127, 0.0076])."""
    return [float(x.replace(",", "")) for x in re.findall(r"[-+−]?\d[\d,]*\.?\d*", str(cell).replace("−", "-"))]
