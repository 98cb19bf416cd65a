"""Figures the chapters share: metric bars with intervals, attention maps, time series with marks."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes


def metric_bars(table: pd.DataFrame, metrics: list[str], errors: pd.DataFrame | None = None,
                title: str | None = None, ax: Axes | None = None) -> Axes:
    """Grouped bars: one group per metric, one bar per model (rows of ``table``); optional error bars."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.6 + 1.1 * len(table) * len(metrics) / 2, 3.2))
    width = 0.8 / len(table)
    x = np.arange(len(metrics))
    for i, (name, row) in enumerate(table[metrics].iterrows()):
        err = None if errors is None else errors.loc[name, metrics].to_numpy(dtype=float)
        ax.bar(x + i * width - 0.4 + width / 2, row.to_numpy(dtype=float), width, yerr=err, label=str(name),
               capsize=2)
    ax.set_xticks(x, metrics)
    ax.legend(fontsize=8, ncols=min(4, len(table)), loc="upper left", bbox_to_anchor=(0, -0.12))
    if title:
        ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    return ax


def attention_map(tokens: list[str], weights: np.ndarray, title: str = "", ax: Axes | None = None) -> Axes:
    """Heat map of one attention matrix [T, T] with the tokens on both axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(0.45 * len(tokens) + 1.5, 0.45 * len(tokens) + 1))
    im = ax.imshow(weights, cmap="viridis")
    ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
    ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
    ax.set_xlabel("attended to (key)")
    ax.set_ylabel("token (query)")
    ax.set_title(title)
    plt.colorbar(im, ax=ax, fraction=0.046)
    return ax


def series(data: pd.Series | pd.DataFrame, title: str = "", marks: pd.Series | None = None, ax: Axes | None = None,
           **kw) -> Axes:
    """Line plot of a time series; ``marks`` (a boolean mask) highlights points such as outliers."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 2.8))
    data.plot(ax=ax, lw=1, **kw)
    if marks is not None and isinstance(data, pd.Series):
        ax.scatter(data.index[marks.to_numpy()], data[marks.to_numpy()], color="red", s=14, zorder=3,
                   label="flagged")
        ax.legend()
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return ax
