"""The windowed-feature job of ``tsrec.online`` / ``tsrec.windows`` expressed for Apache Flink (PyFlink, Table API).

Run with the separate Flink environment (``make flink-env``)::

    .venv-flink/bin/python flink/windowed_features.py --input events.csv --output out/ \
        --window 7D --step 1D --tumble W --half-life 7D --max-delay 1D

Input: a CSV file, or a folder of CSV files (read in parallel), without a header, with the columns
``row,user,item,timestamp`` (``row`` a unique integer id echoed in the output, ``timestamp`` Unix seconds);
lines starting with ``#`` are comments (write the header as ``# row,user,item,timestamp``). The lines may
arrive out of time order: event time comes from ``timestamp``, and the watermark trails the largest
timestamp seen by ``--max-delay``. An event later than that is *late* and is dropped by Flink.

Output folder, one sub-folder of Flink part files per table, and (unless ``--no-merge``) each table merged
into one CSV with a header, rows in no particular order:

* ``events.csv``: one row per event, the state after all events up to and including its timestamp (all
  events with equal timestamps see each other, as Flink's RANGE over-windows define it):
  ``item_window_count`` events of the item in ``(t - window, t]``; ``user_window_count`` events of the user
  in ``(t - window, t]``; ``item_decayed`` = sum over the item's events ``t' <= t`` of ``0.5 ** ((t - t') /
  half_life)``. These are ``tsrec.online.StreamState``'s ``window_counts`` and ``decayed`` values (and
  the same window count from a ``StreamState`` keyed by user) read after each group of equal timestamps.
* ``tumbling.csv``: ``window_start,item,count``, events per item in ``[start, start + tumble)``, windows
  aligned in UTC (``W`` = weeks starting Monday) = ``tsrec.windows.tumbling_counts``.
* ``sliding.csv``: ``window_end,item,count``, events per item in ``(end - window, end]`` for ends on the UTC
  ``step`` grid = ``tsrec.windows.sliding_counts`` (Flink also emits the windows that end after the last
  event, which ``sliding_counts`` leaves out).

Times are whole seconds, so the right-closed windows of tsrec are Flink's left-closed ones shifted by one
second (HOP offset of 1 s; RANGE of ``window - 1`` s). The decayed sum is computed as
``2 ** (-(t - r) / h) * sum 2 ** ((t' - r) / h)`` for a fixed reference ``r`` (``--decay-reference``,
default: the first data line's timestamp), as ``tsrec.windows.DecayedCounter`` does; it is exact up to
floating-point rounding while ``|t - r|`` stays under about 1,000 half-lives. ``--mode batch`` runs the
same SQL as a Flink batch job (Flink sorts the bounded input: no watermark, no late events).
"""
from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import sys
import time
from pathlib import Path

DAY = 86_400
MONDAY_ORIGIN = 4 * DAY  # 1970-01-05, the first Monday after the epoch (tsrec.timeseries' week origin)
_UNITS = {"s": 1, "min": 60, "h": 3_600, "D": DAY, "W": 7 * DAY}
EVENT_COLUMNS = ("row", "user", "item", "timestamp")
OUTPUTS = {
    "events": ("row", "user", "item", "timestamp", "item_window_count", "user_window_count", "item_decayed"),
    "tumbling": ("window_start", "item", "count"),
    "sliding": ("window_end", "item", "count"),
}


class JobError(ValueError):
    """Bad arguments or input, reported before Flink starts."""


def parse_duration(text: str | int, allow_zero: bool = False) -> tuple[int, int]:
    """(length, origin) in seconds of '90s', '15min', '12h', '7D', 'W' (7 days from Monday) or a plain int.

    The same fixed-size calendar bins as tsrec.timeseries: only 'W' has an origin (Monday), others start
    at the Unix epoch.
    """
    if isinstance(text, int) or str(text).strip().isdigit():
        value = int(text)
        if value < (0 if allow_zero else 1):
            raise JobError(f"a duration must be at least 1 second, got {text!r}")
        return value, 0
    m = re.fullmatch(r"\s*(\d*)\s*(s|min|h|D|W)\s*", str(text))
    if not m:
        raise JobError(f"duration {text!r} not understood; use e.g. 90s, 15min, 12h, 7D, W or whole seconds")
    n = int(m.group(1) or 1)
    if n < (0 if allow_zero else 1):
        raise JobError(f"a duration must be positive, got {text!r}")
    unit = m.group(2)
    return n * _UNITS[unit], (MONDAY_ORIGIN if unit == "W" and n == 1 else 0)


def interval(seconds: int) -> str:
    """A Flink SQL DAY TO SECOND interval literal for a whole number of seconds >= 0."""
    if seconds < 0:
        raise JobError(f"negative interval {seconds}")
    d, rest = divmod(int(seconds), DAY)
    h, rest = divmod(rest, 3_600)
    m, s = divmod(rest, 60)
    return f"INTERVAL '{d} {h:02d}:{m:02d}:{s:02d}' DAY({max(2, len(str(d)))}) TO SECOND"


def _quoted(path: Path) -> str:
    """A path as a Flink SQL string literal."""
    return "'" + path.as_posix().replace("'", "''") + "'"


def _data_files(path: Path) -> list[Path]:
    files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith((".", "_"))) \
        if path.is_dir() else [path]
    if not files:
        raise JobError(f"{path} holds no input files")
    return files


def first_timestamp(path: Path) -> int:
    """Timestamp of the first data line of the (first) input file; checks the column layout on the way."""
    for file in _data_files(path):
        with open(file, encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                fields = line.split(",")
                if len(fields) != 4 or not re.fullmatch(r"-?\d+", fields[3].strip()) \
                        or not re.fullmatch(r"-?\d+", fields[0].strip()):
                    raise JobError(f"{file}: first data line {line[:80]!r} is not 'row,user,item,timestamp' "
                                   "with integer row and timestamp (Unix seconds); a header must be a "
                                   "comment: '# row,user,item,timestamp'")
                return int(fields[3])
    raise JobError(f"{path} holds no data lines")


def build_statements(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(sink table, SELECT) pairs of the three outputs, for one StatementSet (one Flink job, one scan)."""
    window, _ = parse_duration(args.window)
    step, step_origin = parse_duration(args.step)
    tumble, tumble_origin = parse_duration(args.tumble)
    half_life, _ = parse_duration(args.half_life)
    if window % step:
        raise JobError(f"--window ({window} s) must be a whole number of --step ({step} s) so that "
                       "window ends lie on the step grid")
    ref = int(args.decay_reference)
    epoch = "CAST(TIMESTAMP '1970-01-01 00:00:00' AS TIMESTAMP(3))"  # window bounds are TIMESTAMP(3), UTC here
    # Per event: three over-windows (two keyed by item, one by user), joined back on the row id. In streaming
    # mode they are ordered by the event-time attribute, and the interval join on equal rowtimes lets Flink
    # drop join state as the watermark passes; batch mode orders by the plain seconds (its RANGE is numeric).
    batch = args.mode == "batch"
    order, bound = ("ts", str(window - 1)) if batch else ("rowtime", interval(window - 1))
    same_time = "" if batch else " AND a.rowtime BETWEEN {0}.rowtime AND {0}.rowtime"
    item_window = f"""
        SELECT row_id, user_id, item_id, ts, rowtime, COUNT(*) OVER (PARTITION BY item_id ORDER BY {order}
            RANGE BETWEEN {bound} PRECEDING AND CURRENT ROW) AS item_window_count
        FROM events"""
    user_window = f"""
        SELECT row_id, rowtime, COUNT(*) OVER (PARTITION BY user_id ORDER BY {order}
            RANGE BETWEEN {bound} PRECEDING AND CURRENT ROW) AS user_window_count
        FROM events"""
    exponent = f"CAST(ts - {ref} AS DOUBLE) / {float(half_life)!r}"
    item_decay = f"""
        SELECT row_id, rowtime, POWER(2.0E0, -({exponent})) * SUM(POWER(2.0E0, {exponent})) OVER (
            PARTITION BY item_id ORDER BY {order} RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            AS item_decayed
        FROM events"""
    per_event = f"""
        SELECT a.row_id, a.user_id, a.item_id, a.ts, a.item_window_count, b.user_window_count, c.item_decayed
        FROM ({item_window}) a
        JOIN ({user_window}) b ON a.row_id = b.row_id{same_time.format("b")}
        JOIN ({item_decay}) c ON a.row_id = c.row_id{same_time.format("c")}"""
    tumbling = f"""
        SELECT TIMESTAMPDIFF(SECOND, {epoch}, window_start) AS window_start, item_id, COUNT(*) AS cnt
        FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(rowtime), {interval(tumble)}, {interval(tumble_origin % tumble)}))
        GROUP BY window_start, window_end, item_id"""
    # tsrec's (end - window, end] on whole seconds is [end - window + 1, end + 1): Flink's [start, start + window)
    # with the grid shifted by one second; the reported end is shifted back.
    sliding = f"""
        SELECT TIMESTAMPDIFF(SECOND, {epoch}, window_end) - 1 AS window_end, item_id, COUNT(*) AS cnt
        FROM TABLE(HOP(TABLE events, DESCRIPTOR(rowtime), {interval(step)}, {interval(window)},
                       {interval((step_origin + 1) % step)}))
        GROUP BY window_start, window_end, item_id"""
    return [("events_out", per_event), ("tumbling_out", tumbling), ("sliding_out", sliding)]


def run(args: argparse.Namespace) -> dict:
    """Build the tables, run the job to completion, merge the part files; returns timings (seconds)."""
    src, out_dir = Path(args.input).resolve(), Path(args.output).resolve()
    if not src.exists():
        raise JobError(f"{src} does not exist")
    if args.decay_reference is None:
        args.decay_reference = first_timestamp(src)
    else:
        first_timestamp(src)  # layout check only
    parse_duration(args.max_delay, allow_zero=True)
    statements = build_statements(args)  # validates the durations before the JVM starts
    ours = [out_dir / name for folder in OUTPUTS for name in (folder, f"{folder}.csv")]
    found = [p for p in ours if p.exists()]
    if found and not args.overwrite:
        raise JobError(f"{found[0]} exists; pass --overwrite to replace the job's outputs in {out_dir}")
    for path in found:                                   # only the job's own outputs, never the whole folder
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    from pyflink.table import EnvironmentSettings, TableEnvironment

    settings = EnvironmentSettings.in_batch_mode() if args.mode == "batch" else EnvironmentSettings.in_streaming_mode()
    env = TableEnvironment.create(settings)
    conf = env.get_config()
    conf.set("table.local-time-zone", "UTC")
    conf.set("parallelism.default", str(args.parallelism))
    conf.set("pipeline.name", "tsrec windowed features")
    delay, _ = parse_duration(args.max_delay, allow_zero=True)
    env.execute_sql(f"""
        CREATE TABLE events (
            row_id BIGINT, user_id STRING, item_id STRING, ts BIGINT,
            rowtime AS TO_TIMESTAMP_LTZ(ts * 1000, 3),
            WATERMARK FOR rowtime AS rowtime - {interval(delay)}
        ) WITH ('connector' = 'filesystem', 'path' = {_quoted(src)}, 'format' = 'csv',
                'csv.allow-comments' = 'true')""")
    sinks = {
        "events_out": ("events", "row_id BIGINT, user_id STRING, item_id STRING, ts BIGINT, "
                                 "item_window_count BIGINT, user_window_count BIGINT, item_decayed DOUBLE"),
        "tumbling_out": ("tumbling", "window_start BIGINT, item_id STRING, cnt BIGINT"),
        "sliding_out": ("sliding", "window_end BIGINT, item_id STRING, cnt BIGINT"),
    }
    for table, (folder, schema) in sinks.items():
        env.execute_sql(f"""CREATE TABLE {table} ({schema}) WITH ('connector' = 'filesystem',
            'path' = {_quoted(out_dir / folder)}, 'format' = 'csv')""")
    stmts = env.create_statement_set()
    for table, query in statements:
        stmts.add_insert_sql(f"INSERT INTO {table} {query}")
    if args.explain:
        print(stmts.explain())
    t_plan = time.perf_counter()
    stmts.execute().wait()
    t_job = time.perf_counter()
    if not args.no_merge:
        for folder, columns in OUTPUTS.items():
            merge_parts(out_dir / folder, out_dir / f"{folder}.csv", columns)
    return {"startup_s": t_plan - t0, "job_s": t_job - t_plan, "total_s": time.perf_counter() - t0}


def merge_parts(folder: Path, target: Path, columns: tuple[str, ...]) -> int:
    """Concatenate Flink's committed part files (hidden in-progress files are skipped) under a header."""
    parts = sorted(p for p in glob.glob(str(folder / "**" / "part-*"), recursive=True)
                   if not os.path.basename(p).startswith("."))
    n = 0
    with open(target, "w", encoding="utf-8") as out:
        out.write(",".join(columns) + "\n")
        for part in parts:
            with open(part, encoding="utf-8") as fh:
                for line in fh:
                    out.write(line)
                    n += 1
    return n


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", required=True,
                   help="CSV file or folder: row,user,item,timestamp (no header; '#' comments)")
    p.add_argument("--output", required=True, help="output folder (events/, tumbling/, sliding/ and merged CSVs)")
    p.add_argument("--window", default="7D", help="sliding and per-event window length (default 7D)")
    p.add_argument("--step", default="1D", help="sliding window step; ends lie on this UTC grid (default 1D)")
    p.add_argument("--tumble", default="W", help="tumbling window size; W = weeks from Monday (default W)")
    p.add_argument("--half-life", default="7D", help="half-life of the decayed popularity (default 7D)")
    p.add_argument("--decay-reference", type=int, default=None,
                   help="reference time r of the decayed sums (default: the first data line's timestamp)")
    p.add_argument("--max-delay", default="1D",
                   help="watermark delay: how far out of order events may arrive (default 1D)")
    p.add_argument("--parallelism", type=int, default=1, help="Flink parallelism (default 1)")
    p.add_argument("--mode", choices=("streaming", "batch"), default="streaming",
                   help="streaming (watermarks, the default) or batch (Flink sorts the bounded input; no late events)")
    p.add_argument("--overwrite", action="store_true", help="replace the job's outputs already in --output")
    p.add_argument("--no-merge", action="store_true", help="keep only Flink's part files")
    p.add_argument("--explain", action="store_true", help="print Flink's plan before running")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.parallelism < 1:
        print("error: --parallelism must be >= 1", file=sys.stderr)
        return 2
    try:
        timings = run(args)
    except JobError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(" ".join(f"{k}={v:.2f}" for k, v in timings.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
