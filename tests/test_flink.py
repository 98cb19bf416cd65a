"""The optional Flink path (flink/): the PyFlink job and tsrec's embedded runner give identical features.

The Flink test needs Java and the separate environment ``.venv-flink`` (``make flink-env``); without them it
is skipped with the reason. The other tests check the job's argument handling without starting Flink.
"""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tsrec.times import calendar_step, window_seconds

REPO = Path(__file__).resolve().parents[1]
DAY = 86_400
MONDAY = 1_704_067_200  # 2024-01-01 00:00 UTC


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"flink_{name}", REPO / "flink" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


compare = _load("compare")
job = _load("windowed_features")


def _flink_missing() -> str | None:
    """Why the Flink job cannot run here, or None."""
    if shutil.which("java") is None:
        return "java not found on PATH (PyFlink needs Java 17)"
    python = compare.FLINK_PYTHON
    if not python.exists():
        return f"{python} not found; create it with `make flink-env` (or set TSREC_FLINK_PYTHON)"
    probe = subprocess.run([str(python), "-c", "import pyflink"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"pyflink does not import with {python}: {probe.stderr.strip()[-200:]}"
    return None


def _stream(n: int = 3_000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """A seeded event log (5-minute clock, so many equal timestamps, plus runs of exact ties) and an arrival
    order in which each event comes up to 6 hours late."""
    rng = np.random.default_rng(seed)
    t = MONDAY + 300 * rng.integers(0, 40 * DAY // 300, n)
    t[10:400:4] = t[9:399:4]                                       # more ties, across users and items
    items = np.minimum(rng.zipf(1.4, n), 120)                      # a popular head and a long tail
    frame = pd.DataFrame({"user": rng.integers(1, 150, n), "item": items, "timestamp": t.astype("int64")})
    arrival = np.argsort(t + rng.integers(0, 6 * 3_600, n), kind="stable")
    return frame, arrival


def test_durations_match_tsrec_bins():
    for text in ("90s", "15min", "h", "12h", "D", "7D", "W"):
        assert job.parse_duration(text) == calendar_step(text), text
        assert job.parse_duration(text)[0] == window_seconds(text)
    assert job.parse_duration("3600") == (3_600, 0)
    assert job.interval(7 * DAY - 1) == "INTERVAL '6 23:59:59' DAY(2) TO SECOND"
    assert job.interval(400 * DAY + 61) == "INTERVAL '400 00:01:01' DAY(3) TO SECOND"
    with pytest.raises(job.JobError, match="not understood"):
        job.parse_duration("1 week")


def test_job_rejects_a_plain_header_and_bad_windows_before_starting_flink(tmp_path):
    frame, _ = _stream(20)
    plain = tmp_path / "plain.csv"
    frame.assign(row=np.arange(len(frame)))[["row", "user", "item", "timestamp"]].to_csv(plain, index=False)
    proc = subprocess.run([sys.executable, str(compare.JOB), "--input", str(plain), "--output", str(tmp_path / "o")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "a header must be a comment" in proc.stderr
    good = compare.write_events(frame, tmp_path / "good.csv")
    proc = subprocess.run([sys.executable, str(compare.JOB), "--input", str(good), "--output", str(tmp_path / "o"),
                           "--window", "36h", "--step", "D"], capture_output=True, text=True)
    assert proc.returncode == 2 and "whole number of --step" in proc.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("mode", ["streaming", "batch"])
def test_flink_job_equals_embedded_runner(tmp_path, mode):
    reason = _flink_missing()
    if reason:
        pytest.skip(reason)
    frame, arrival = _stream()
    assert (np.diff(frame["timestamp"].to_numpy()[arrival]) < 0).sum() > 500       # really out of order
    assert frame["timestamp"].duplicated().sum() > 300                              # and full of ties
    csv = compare.write_events(frame, tmp_path / "events.csv", arrival=arrival)
    opts = dict(window="7D", step="1D", tumble="W", half_life="2D")
    # streaming: event time with a watermark 12 h behind (arrivals are up to 6 h late), parallelism 2 so the
    # keyed over-windows and window aggregates are spread over two subtasks; batch: Flink sorts the input
    compare.run_flink(csv, tmp_path / "out", timeout=600, mode=mode, max_delay="12h",
                      parallelism=2 if mode == "streaming" else 1, **opts)
    got = compare.read_flink(tmp_path / "out", last_timestamp=int(frame["timestamp"].max()), step=opts["step"])
    ref = compare.embedded_features(frame, **opts)
    assert len(got["events"]) == len(frame)                                          # no event was late
    assert ref["events"]["item_window_count"].max() > 20 and ref["sliding"]["count"].max() > 20
    compare.assert_same(got, ref)

