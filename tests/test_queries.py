"""Tests of tsrec.queries: left padding, QueryBatch rows, queries from frames and from every event, seen masks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec.data import DataError
from tsrec.queries import QueryBatch, event_queries, left_pad, queries_from_frames, seen_mask

T0 = 1_704_067_200


def _batch() -> QueryBatch:
    return QueryBatch(np.array([7, 8, 9]), [np.array([3, 1, 2]), np.array([], dtype=np.int64), np.array([5])],
                      [np.array([10, 20, 30]), np.array([], dtype=np.int64), np.array([40])],
                      np.array([35, 50, 45]))


def test_left_pad_keeps_the_last_values_right_aligned():
    out = left_pad([[1, 2, 3], [4], [], np.array([5, 6, 7, 8])], 3)
    assert out.dtype == np.int64 and out.tolist() == [[1, 2, 3], [0, 0, 4], [0, 0, 0], [6, 7, 8]]
    assert left_pad([[1], [2, 3]]).tolist() == [[0, 1], [2, 3]]  # width = the longest
    assert left_pad([]).shape == (0, 0) and left_pad([[1, 2]], 0).shape == (1, 0)


def test_querybatch_rows_by_slice_and_by_integer_positions():
    q = _batch()
    assert len(q) == 3 and len(q[1:]) == 2 and q[1:].users.tolist() == [8, 9]
    picked = q[np.array([2, 0])]
    assert picked.users.tolist() == [9, 7] and picked.now.tolist() == [45, 35]
    assert [x.tolist() for x in picked.items] == [[5], [3, 1, 2]]
    assert [x.tolist() for x in picked.times] == [[40], [10, 20, 30]]
    assert q[[1, 1]].users.tolist() == [8, 8] and len(q[np.array([], dtype=np.int64)]) == 0


def test_padded_windows():
    items, times = _batch().padded(2)
    assert items.dtype == times.dtype == torch.int64
    assert items.tolist() == [[1, 2], [0, 0], [0, 5]] and times.tolist() == [[20, 30], [0, 0], [0, 40]]


def test_queries_from_frames_orders_history_by_time_with_ties_in_row_order():
    history = pd.DataFrame({"user": [2, 1, 1, 1, 3], "item": [9, 4, 6, 5, 8], "timestamp": [5, 30, 10, 10, 1]})
    targets = pd.DataFrame({"user": [1, 4, 2], "timestamp": [99, 98, 97], "item": [1, 1, 1]})
    q = queries_from_frames(history, targets)
    assert q.users.tolist() == [1, 4, 2] and q.now.tolist() == [99, 98, 97]
    assert [x.tolist() for x in q.items] == [[6, 5, 4], [], [9]]
    assert [x.tolist() for x in q.times] == [[10, 10, 30], [], [5]]
    with pytest.raises(DataError, match="targets lack"):
        queries_from_frames(history, targets.drop(columns="timestamp"))


def test_event_queries_one_per_later_event_of_a_user():
    events = pd.DataFrame({"user": [1, 2, 1, 1, 2], "item": [10, 20, 11, 12, 21], "timestamp": [1, 2, 3, 3, 9]})
    q, items = event_queries(events)
    # user 1: events 11 and 12 (the tie keeps row order); user 2: event 21; first events are never queries
    assert q.users.tolist() == [1, 1, 2] and items.tolist() == [11, 12, 21] and q.now.tolist() == [3, 3, 9]
    assert [x.tolist() for x in q.items] == [[10], [10, 11], [20]]
    assert [x.tolist() for x in q.times] == [[1], [1, 3], [2]]
    q2, items2 = event_queries(events, is_query=np.array([False, False, False, True, True]))
    assert items2.tolist() == [12, 21] and [x.tolist() for x in q2.items] == [[10, 11], [20]]
    with pytest.raises(ValueError, match="one flag per event"):
        event_queries(events, is_query=np.ones(3, bool))


def test_seen_mask_marks_history_and_padding():
    mask = seen_mask(_batch(), 7)
    assert mask.dtype == torch.bool and mask.shape == (3, 7)
    assert [np.flatnonzero(r).tolist() for r in mask.numpy()] == [[0, 1, 2, 3], [0], [0, 5]]
