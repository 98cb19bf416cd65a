"""SASRec against LRURec on LlamaRec's protocol (ML latest-small), for comparison with the published figures.

Protocol (LlamaRec, Yue et al. 2023; benchmarks/anchors.md): every rating an implicit positive, 5-core filter
(users and items), leave-one-out by time (ties in file-row order), full ranking over all items with the user's
seen items masked, sequences of up to 200 events. Each model trains on the training part, validates every epoch
on each user's second-to-last item, stops when validation NDCG@10 has not improved for ``--patience`` epochs and
keeps the best epoch's weights; test histories are train + validation. Every (model, seed, windows) run is its
own process (its peak RSS is its own) and writes one JSON file to ``--work``, so an interrupted benchmark resumes
where it stopped; ``table`` rebuilds benchmarks/llamarec_results.md from whatever runs have finished.

  nice .venv/bin/python benchmarks/llamarec_protocol.py --jobs 2          # every run not done yet, then the table
  .venv/bin/python benchmarks/llamarec_protocol.py table                  # the table from the finished runs
  .venv/bin/python benchmarks/llamarec_protocol.py --quick                # 2 epochs per run: a smoke test
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
WORK = HERE.parent / "artifacts" / "llamarec_protocol"
RESULTS = HERE / "llamarec_results.md"
MAX_LEN = 200
# (model, seed, windows) in the order they run: two seeds of each, the last-window control, then seed 2
RUNS = [("SASRec", 0, "all"), ("LRURec", 0, "all"), ("LRURec", 1, "all"), ("SASRec", 1, "all"),
        ("LRURec", 0, "last"), ("LRURec", 2, "all"), ("SASRec", 2, "all"), ("SASRec", 0, "last")]
# training settings per model: SASRec the package's defaults, LRURec the authors' (AdamW, lr 1e-3, weight
# decay 1e-2, batch 16, gradient norm clipped at 5)
SETTINGS = {"SASRec": {}, "LRURec": {"lr": 1e-3, "weight_decay": 1e-2, "batch_size": 16, "grad_clip": 5.0}}
PUBLISHED = {"SASRec": (0.0522, 0.0993), "LRURec": (0.0705, 0.1426), "LlamaRec": (0.0759, 0.1524)}


def make_split():
    """ML latest-small, 5-core, leave-one-out by time: LlamaRec's preprocessing."""
    from tsrec import data, prep, splits

    return splits.leave_one_out(prep.kcore(data.load("ml-latest-small").interactions, 5, 5))


def build(name: str, n_items: int):
    from tsrec.models.sequential import LRURec, SASRec

    return {"SASRec": lambda: SASRec(n_items, max_len=MAX_LEN), "LRURec": lambda: LRURec(n_items, max_len=MAX_LEN)
            }[name]()


def run_one(name: str, seed: int, windows: str, epochs: int, patience: int) -> dict:
    """Train one model with one seed, evaluate it on test; metrics, per-user ranks, timings, peak RSS."""
    import tsrec
    from tsrec.evaluate import evaluate
    from tsrec.training import TrainConfig, train

    split = make_split()
    tsrec.seed_everything(seed)
    model = build(name, split.n_items)
    cfg = TrainConfig(seed=seed, progress=False, epochs=epochs, patience=patience, windows=windows,
                      **SETTINGS[name])
    t0 = time.perf_counter()
    res = train(model, split, cfg)
    test, per_user = evaluate(model, split, "test", ks=(10,), per_user=True)
    return {"model": name, "seed": seed, "windows": windows, "epochs_run": len(res.history),
            "best_epoch": res.best_epoch, "stopped": res.stopped, "valid_NDCG@10": res.best_metrics["NDCG@10"],
            "NDCG@10": test["NDCG@10"], "Recall@10": test["Recall@10"], "seconds": time.perf_counter() - t0,
            "seconds_per_epoch": res.seconds_per_epoch, "seconds_to_best": res.seconds_to_best,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "users": per_user["user"].tolist(), "ranks": per_user["rank"].tolist(),
            "valid_curve": res.history["NDCG@10"].tolist(), "n_users": split.n_users, "n_items": split.n_items,
            "n_events": len(split.train) + len(split.valid) + len(split.test), "max_epochs": epochs,
            "patience": patience}


def run_file(work: Path, name: str, seed: int, windows: str) -> Path:
    return work / f"{name}_seed{seed}_{windows}.json"


def launch(args: argparse.Namespace) -> None:
    """Run every run not yet in ``args.work``, ``args.jobs`` child processes at a time."""
    args.work.mkdir(parents=True, exist_ok=True)
    todo = [r for r in RUNS if not run_file(args.work, *r).exists() and r[1] < args.seeds]
    running: list[tuple[subprocess.Popen, tuple]] = []
    while todo or running:
        while todo and len(running) < args.jobs:
            name, seed, windows = todo.pop(0)
            cmd = [sys.executable, __file__, "child", name, str(seed), windows, "--epochs", str(args.epochs),
                   "--patience", str(args.patience), "--threads", str(args.threads), "--work", str(args.work)]
            running.append((subprocess.Popen(cmd), (name, seed, windows)))
            print(f"started {name} seed {seed} windows={windows}", flush=True)
        time.sleep(5)
        for proc, spec in list(running):
            if proc.poll() is not None:
                running.remove((proc, spec))
                print(f"finished {spec}: exit {proc.returncode}", flush=True)


def child(args: argparse.Namespace) -> None:
    import tsrec

    tsrec.set_threads(args.threads)
    out = run_one(args.name, args.seed, args.windows, args.epochs, args.patience)
    args.work.mkdir(parents=True, exist_ok=True)
    path = run_file(args.work, args.name, args.seed, args.windows)
    path.write_text(json.dumps(out))
    print(f"{args.name} seed {args.seed} windows={args.windows}: test NDCG@10 {out['NDCG@10']:.4f} "
          f"(best epoch {out['best_epoch']}, {out['seconds']:.0f} s)", flush=True)


def _per_user(run: dict) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    from tsrec.metrics import per_user_rank_metrics

    order = np.argsort(run["users"])
    m = per_user_rank_metrics(np.asarray(run["ranks"])[order], k=10)
    return np.asarray(run["users"])[order], {"NDCG@10": m["NDCG@10"], "Recall@10": m["Recall@10"]}


def _ci(values: np.ndarray) -> str:
    from tsrec.metrics import mean_ci

    mean, half = mean_ci(values)
    return f"{mean:+.4f} [{mean - half:+.4f}, {mean + half:+.4f}]" if np.isfinite(half) else f"{mean:+.4f}"


def _runs_table(runs: list[dict]) -> list[str]:
    lines = ["| model | windows | seed | epochs run (best) | valid NDCG@10 | test NDCG@10 | test Recall@10 | s / epoch "
             "| s to best | s total | peak RSS MB |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        lines.append(f"| {r['model']} | {r['windows']} | {r['seed']} | {r['epochs_run']} ({r['best_epoch']}) | "
                     f"{r['valid_NDCG@10']:.4f} | {r['NDCG@10']:.4f} | {r['Recall@10']:.4f} | "
                     f"{r['seconds_per_epoch']:.1f} | {r['seconds_to_best']:.0f} | {r['seconds']:.0f} | "
                     f"{r['peak_rss_mb']:.0f} |")
    return lines


def _summary(runs: list[dict]) -> list[str]:
    """Mean over seeds (interval over seeds), and the paired LRURec - SASRec difference over users."""
    from tsrec.metrics import mean_ci

    lines = ["| model | windows | seeds | test NDCG@10 (95% CI over seeds) | test Recall@10 | published NDCG@10 / "
             "Recall@10 (2018 snapshot) |", "|---|---|---|---|---|---|"]
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["model"], r["windows"]), []).append(r)
    for (name, windows), g in groups.items():
        cells = []
        for metric in ("NDCG@10", "Recall@10"):
            mean, half = mean_ci([r[metric] for r in g])
            cells.append(f"{mean:.4f}" + (f" ± {half:.4f}" if np.isfinite(half) else ""))
        pub = PUBLISHED.get(name)
        lines.append(f"| {name} | {windows} | {len(g)} | {cells[0]} | {cells[1]} | "
                     f"{f'{pub[0]:.4f} / {pub[1]:.4f}' if pub else '–'} |")
    return lines


def _paired(runs: list[dict], a: tuple[str, str], b: tuple[str, str]) -> list[str]:
    """Per seed both ran: mean per-user difference a - b with its 95% interval over users; then pooled over seeds
    (per-user values averaged over the common seeds first)."""
    by = {(r["model"], r["windows"], r["seed"]): r for r in runs}
    seeds = sorted(s for (m, w, s) in by if (m, w) == a and (*b, s) in by)
    if not seeds:
        return []
    lines, pooled = [], {"NDCG@10": [], "Recall@10": []}
    for s in seeds:
        ua, ma = _per_user(by[(*a, s)])
        ub, mb = _per_user(by[(*b, s)])
        assert np.array_equal(ua, ub), "the two runs were evaluated on different users"
        cells = []
        for metric in ("NDCG@10", "Recall@10"):
            d = ma[metric] - mb[metric]
            pooled[metric].append(d)
            cells.append(_ci(d))
        lines.append(f"| {a[0]} ({a[1]}) − {b[0]} ({b[1]}) | seed {s} | {cells[0]} | {cells[1]} |")
    if len(seeds) > 1:
        lines.append(f"| {a[0]} ({a[1]}) − {b[0]} ({b[1]}) | seeds {', '.join(map(str, seeds))} (pooled) | "
                     f"{_ci(np.mean(pooled['NDCG@10'], 0))} | {_ci(np.mean(pooled['Recall@10'], 0))} |")
    return lines


def table(args: argparse.Namespace) -> str:
    """benchmarks/llamarec_results.md from the finished runs in ``args.work``."""
    runs = [json.loads(p.read_text()) for p in sorted(args.work.glob("*.json"))]
    if not runs:
        raise SystemExit(f"no finished runs in {args.work}")
    order = {spec: i for i, spec in enumerate(RUNS)}
    runs.sort(key=lambda r: order.get((r["model"], r["seed"], r["windows"]), len(RUNS)))
    r0 = runs[0]
    paired = (_paired(runs, ("LRURec", "all"), ("SASRec", "all")) + _paired(runs, ("LRURec", "all"), ("LRURec", "last"))
              + _paired(runs, ("SASRec", "all"), ("SASRec", "last")))
    text = "\n".join([
        "# LlamaRec's protocol: SASRec and LRURec on ML latest-small",
        "",
        "Generated by `benchmarks/llamarec_protocol.py` (do not edit by hand). Data: ML latest-small (the book's 2016",
        f"snapshot), every rating a positive, 5-core: {r0['n_users']:,} users, {r0['n_items']:,} items, "
        f"{r0['n_events']:,} events; leave-one-out by time",
        "(ties in file-row order); full ranking, seen items masked; sequences of up to 200 events; validation NDCG@10",
        f"every epoch, early stopping after {r0['patience']} epochs without improvement (at most "
        f"{r0['max_epochs']}), best",
        "epoch's weights kept. `windows=all`: every event of a long history is a training target once (windows of",
        "201 events every 100 back from the last); `last`: only each user's last 201 training events. SASRec: the",
        "package's defaults (hidden 64, 2 blocks, 1 head, dropout 0.2, AdamW lr 2e-3, batch 32, clip 1). LRURec:",
        "hidden 64, 2 blocks, dropout 0.2, feed-forward 4x, AdamW lr 1e-3, weight decay 1e-2, batch 16, clip 5 (the",
        "authors' settings). One CPU thread per run on a shared 2-core machine (seconds are inflated by other jobs).",
        "The published figures are LlamaRec's, on the 2018 snapshot (610 users), so they are orientation, not a",
        "paired comparison.",
        "",
        "## Mean over seeds",
        "",
        *_summary(runs),
        "",
        "## Paired differences over users (95% t-interval; a difference is real when its interval excludes 0)",
        "",
        "| difference | seeds | test NDCG@10 | test Recall@10 |",
        "|---|---|---|---|",
        *paired,
        "",
        "## Every run",
        "",
        *_runs_table(runs),
        "",
    ])
    RESULTS.write_text(text)
    return text


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", nargs="?", default="all", choices=("all", "table", "child"))
    p.add_argument("name", nargs="?")
    p.add_argument("seed", nargs="?", type=int)
    p.add_argument("windows", nargs="?")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--patience", type=int, default=10)
    p.add_argument("--seeds", type=int, default=3, help="run seeds 0..N-1")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--work", type=Path, default=WORK)
    p.add_argument("--quick", action="store_true", help="2 epochs, seed 0 only, into a scratch folder")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.patience, args.seeds, args.work = 2, 2, 1, args.work.with_name("llamarec_quick")
    if args.command == "child":
        child(args)
        return
    if args.command == "all":
        launch(args)
    if not args.quick:
        print(table(args))


if __name__ == "__main__":
    main()
