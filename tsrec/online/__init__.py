"""Real time (chapter 4.3): events replayed in time order, the state a live system keeps, online learners,
and test-then-train evaluation.

``events`` (``Event``, ``EventSource``), ``state`` (``StreamState``), ``learners`` (online popularity and
item-kNN, river's MF, static and periodically retrained models), ``sequence`` (a sequence model fine-tuned on
the stream), ``prequential`` (the test-then-train loop, summaries over time, drift).
"""
from tsrec.online.events import Event, EventSource, as_events, time_bound
from tsrec.online.learners import OnlineItemKNN, OnlineLearner, OnlinePopularity, PeriodicRetrain, RiverMF, Static
from tsrec.online.prequential import compare_online, drift_points, over_time, plot_over_time, prequential, summarize
from tsrec.online.sequence import OnlineSequenceModel
from tsrec.online.state import StreamState

__all__ = ["Event", "EventSource", "OnlineItemKNN", "OnlineLearner", "OnlinePopularity", "OnlineSequenceModel",
           "PeriodicRetrain", "RiverMF", "Static", "StreamState", "as_events", "compare_online", "drift_points",
           "over_time", "plot_over_time", "prequential", "summarize", "time_bound"]
