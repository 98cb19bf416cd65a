"""The embedded side of the Flink comparison: tsrec's own runner on the same events, and a timing run.

Runs with the main environment (``.venv``, which has tsrec); it starts the Flink job
(``flink/windowed_features.py``) as a subprocess of ``.venv-flink/bin/python``. ``embedded_features``
computes the three tables the Flink job writes with tsrec code only: ``tsrec.online.EventSource`` and
``StreamState`` replayed event by event (per-event features, read after each group of equal timestamps),
``tsrec.windows.tumbling_counts`` and ``sliding_counts``. ``python flink/compare.py`` times both on all
ML-100K events and checks that they agree.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
JOB = REPO / "flink" / "windowed_features.py"
# the Flink environment's python (`make flink-env`); TSREC_FLINK_PYTHON points elsewhere
FLINK_PYTHON = Path(os.environ.get("TSREC_FLINK_PYTHON", REPO / ".venv-flink" / "bin" / "python"))
KEYS = {"events": ["row"], "tumbling": ["window_start", "item"], "sliding": ["window_end", "item"]}


def write_events(frame: pd.DataFrame, path: str | Path, arrival: np.ndarray | None = None) -> Path:
    """Write ``frame`` (user, item, timestamp) as the job's input: '# row,user,item,timestamp' then one line
    per event, ``row`` = position in ``frame`` (EventSource's row), lines in ``arrival`` order (default: as is)."""
    path = Path(path)
    out = pd.DataFrame({"row": np.arange(len(frame)), "user": frame["user"].to_numpy(),
                        "item": frame["item"].to_numpy(), "timestamp": frame["timestamp"].to_numpy(dtype="int64")})
    if arrival is not None:
        out = out.iloc[np.asarray(arrival)]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("# row,user,item,timestamp\n")
        out.to_csv(fh, index=False, header=False)
    return path


def _seconds(index: pd.Series | pd.DatetimeIndex) -> np.ndarray:
    """Unix seconds of UTC datetimes (whatever their pandas resolution)."""
    return np.asarray((pd.DatetimeIndex(index) - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1), dtype="int64")


def embedded_features(frame: pd.DataFrame, window: str = "7D", step: str = "1D", tumble: str = "W",
                      half_life: str = "7D") -> dict[str, pd.DataFrame]:
    """The Flink job's three tables computed in-process by tsrec (sorted by their keys)."""
    from tsrec import online as S
    from tsrec import windows as W

    window_s = W._window_seconds(window)
    half_life_s = W._window_seconds(half_life, "half_life")
    source = S.EventSource(frame)
    by_item = S.StreamState(window_seconds=window_s, half_life_seconds=half_life_s)
    by_user = S.StreamState(window_seconds=window_s, half_life_seconds=None)  # keyed by user: user as the "item"
    rows: list[tuple] = []
    group: list = []

    def flush() -> None:                                   # state after the whole group of equal timestamps
        for ev in group:
            rows.append((ev.row, ev.user, ev.item, ev.timestamp, by_item.window_counts[ev.item],
                         by_user.window_counts[ev.user], by_item.decayed.value(ev.item, ev.timestamp)))
        group.clear()

    for ev in source:
        if group and ev.timestamp != group[0].timestamp:
            flush()
        by_item.update(ev)
        by_user.update(ev._replace(item=ev.user))
        group.append(ev)
    flush()
    events = pd.DataFrame(rows, columns=["row", "user", "item", "timestamp", "item_window_count",
                                         "user_window_count", "item_decayed"])
    tumbling = W.tumbling_counts(frame, freq=tumble)
    tumbling["window_start"] = _seconds(tumbling["window_start"])
    sliding = W.sliding_counts(frame, window=window, step=step)
    sliding["window_end"] = _seconds(sliding["window_end"])
    out = {"events": events, "tumbling": tumbling, "sliding": sliding}
    return {name: _sorted(df, name) for name, df in out.items()}


def _sorted(df: pd.DataFrame, name: str) -> pd.DataFrame:
    return df.sort_values(KEYS[name], kind="stable", ignore_index=True)


def read_flink(out_dir: str | Path, last_timestamp: int | None = None, step: str = "1D") -> dict[str, pd.DataFrame]:
    """The Flink job's merged CSVs, sorted by their keys. With ``last_timestamp``, sliding windows ending after
    the first ``step`` grid point at or after it are dropped (Flink emits them; tsrec.windows does not)."""
    out = {name: pd.read_csv(Path(out_dir) / f"{name}.csv") for name in KEYS}
    if last_timestamp is not None:
        from tsrec.times import calendar_step

        size, origin = calendar_step(step)
        last_end = last_timestamp + (origin - last_timestamp) % size
        out["sliding"] = out["sliding"][out["sliding"]["window_end"] <= last_end]
    return {name: _sorted(df, name) for name, df in out.items()}


def run_flink(events_csv: str | Path, out_dir: str | Path, python: str | Path = FLINK_PYTHON,
              timeout: float = 1_800, **options: object) -> tuple[float, str]:
    """Run the Flink job as a subprocess; returns (wall seconds, its last output line). Options become
    ``--name value`` flags (underscores as dashes)."""
    cmd = [str(python), str(JOB), "--input", str(events_csv), "--output", str(out_dir), "--overwrite"]
    for key, value in options.items():
        cmd += [f"--{key.replace('_', '-')}", str(value)]
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"))
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"Flink job failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    lines = proc.stdout.strip().splitlines()
    return wall, lines[-1] if lines else ""


def assert_same(flink: dict[str, pd.DataFrame], embedded: dict[str, pd.DataFrame], rtol: float = 1e-9) -> None:
    """Row-by-row equality of every table (counts exactly; the decayed sum up to ``rtol``)."""
    for name, ref in embedded.items():
        got = flink[name]
        assert len(got) == len(ref), f"{name}: Flink has {len(got)} rows, tsrec {len(ref)}"
        exact = [c for c in ref.columns if c != "item_decayed"]
        pd.testing.assert_frame_equal(got[exact].astype("int64"), ref[exact].astype("int64"), obj=name)
        if "item_decayed" in ref:
            np.testing.assert_allclose(got["item_decayed"].to_numpy(), ref["item_decayed"].to_numpy(), rtol=rtol,
                                       err_msg=f"{name}: item_decayed")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Time the Flink job against tsrec's embedded runner on ML-100K.")
    p.add_argument("--dataset", default="ml-100k")
    p.add_argument("--workdir", default="artifacts/flink")
    p.add_argument("--parallelism", type=int, default=1)
    p.add_argument("--mode", choices=("streaming", "batch"), default="streaming")
    args = p.parse_args(argv)
    from tsrec import data

    frame = data.load(args.dataset).interactions[["user", "item", "timestamp"]].reset_index(drop=True)
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    # arrival order = time order; the raw file order of ML-100K is far more shuffled than any watermark delay
    csv = write_events(frame, work / "events.csv", arrival=np.argsort(frame["timestamp"].to_numpy(), kind="stable"))
    t0 = time.perf_counter()
    ref = embedded_features(frame)
    t_embedded = time.perf_counter() - t0
    wall, job_line = run_flink(csv, work / "out", parallelism=args.parallelism, mode=args.mode)
    got = read_flink(work / "out", last_timestamp=int(frame["timestamp"].max()))
    assert_same(got, ref)
    rows = {k: len(v) for k, v in ref.items()}
    print(f"{args.dataset}: {len(frame):,} events; tables {rows}; identical")
    print(f"embedded (tsrec, in-process): {t_embedded:.1f} s")
    print(f"Flink ({args.mode}, parallelism {args.parallelism}): {wall:.1f} s wall incl. JVM start ({job_line})")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
