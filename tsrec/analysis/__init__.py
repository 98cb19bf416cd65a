"""Analysis of results beyond one number: where a model wins and loses (``breakdown``), cold-start items
(``coldstart``), how item popularity moves in time (``dynamics``), evaluation protocols side by side with
paired intervals (``protocols``), chapter 4.1's tuned recency baselines that later chapters compare with
(``baselines``), what real posts show about engagement (``engagement``) and common pitfalls, measured
(``pitfalls``)."""
from tsrec.analysis.breakdown import breakdown, compare_runs, history_lengths, popularity_groups
from tsrec.analysis.coldstart import cold_start_report, hold_out_items, item_counts, random_hit_rate
from tsrec.analysis.dynamics import label_agreement, popularity_dynamics
from tsrec.analysis.protocols import (
    Rolling,
    frozen_ranks,
    own_future_share,
    paired_differences,
    per_query,
    protocol_differences,
    protocol_ranks,
    protocol_table,
    rolling_origin,
    rolling_ranks,
    split_ranks,
    summary_table,
)

__all__ = ["breakdown", "cold_start_report", "compare_runs", "history_lengths", "hold_out_items", "item_counts",
           "label_agreement", "popularity_dynamics", "popularity_groups", "random_hit_rate"]
__all__ += ["Rolling", "frozen_ranks", "own_future_share", "paired_differences", "per_query", "protocol_differences",
            "protocol_ranks", "protocol_table", "rolling_origin", "rolling_ranks", "split_ranks", "summary_table"]
