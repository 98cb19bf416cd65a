"""The book's benchmark: every model on the same splits, several seeds, mean and 95% interval, time and memory.

Tables (markdown, also written to ``benchmarks/results.md``):
  A. ML-100K, leave-one-out by time (ties in file-row order), full ranking, seen items masked (the book's
     protocol) and, beside it, not masked (RecBole's protocol for sequential models; benchmarks/anchors.md);
  B. ML latest-small, global temporal split (last 10% of time = test, the 10% before = validation);
  C. shuffled-order control: the sequence models trained on ML-100K with each user's training order shuffled.
Each model runs in its own process so that its peak RSS is its own. Deterministic models run once. Sequence
models train until validation NDCG@10 stops improving (patience 20, at most ``--epochs``), so a busy machine
takes longer but prints the same numbers; ``--max-seconds`` adds an optional wall-clock cap.

  .venv/bin/python benchmarks/run.py            # default settings
  .venv/bin/python benchmarks/run.py --quick    # a few models, 3 epochs: a smoke test of the script
  python3 benchmarks/run.py --tables A --device cuda --amp --out /tmp/a.md   # table A on a GPU, bf16 autocast
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
import pandas as pd

HERE = Path(__file__).resolve().parent
KS = (10,)
MAX_LEN = 50  # sequence models read a user's last 50 events, as in the RecBole anchor runs (anchors.md)
RECBOLE_SASREC = "SASRec(RecBole setup)"  # RecBole's dropouts (0.5, attention 0.5) and protocol: epoch chosen
# on unmasked validation, the early-stopped model scored (no refit)
RECBOLE_PROTOCOL = (RECBOLE_SASREC,)  # rows trained and selected as RecBole does, not as the book does
SEQUENTIAL = ("SASRec", RECBOLE_SASREC, "TiSASRec", "SASRec+time2vec", "GRU4Rec", "LSTM4Rec", "NextItNet",
              "TimeSensitiveModel")
TUNED_KNN = "ItemKNN(tuned decay)"  # size and half-life chosen on validation over a grid (tsrec.analysis.baselines)
TUNED_HALF_LIVES = (2, 5, 10, 30, 60, 180, 900, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)  # seconds
TUNED_SIZES = (25, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800)  # neighbourhood sizes; past n_items = every item
CLASSIC = ("Popularity", "RecentPopularity(7d)", "DecayedPopularity(30d)", "ItemKNN", "ItemKNN(decay 1h)", TUNED_KNN,
           "BPR-MF")


def make_split(dataset: str, shuffled: bool = False, seed: int = 0):
    """The benchmark's splits: ML-100K leave-one-out, ML latest-small global temporal split."""
    from tsrec import data, splits

    if dataset == "ml-100k":
        split = splits.leave_one_out(data.load("ml-100k").interactions)
    elif dataset == "ml-latest-small":
        split = splits.temporal_split_by_share(data.load("ml-latest-small").interactions, 0.1, 0.1)
    else:
        raise ValueError(dataset)
    if shuffled:  # same items per user, order within each user's training history randomised
        split = splits.shuffle_train_order(split, seed)
    return split


def build(name: str, split, seed: int):
    """A fresh, unfitted model by benchmark name."""
    from tsrec.models import sequential as S
    from tsrec.models.knn import ItemKNN
    from tsrec.models.mf import BPRMF
    from tsrec.models.popularity import DecayedPopularity, Popularity, RecentPopularity
    from tsrec.times import DAY as day
    from tsrec.times import HOUR as hour

    n, L = split.n_items, MAX_LEN
    return {
        "Popularity": lambda: Popularity(),
        "RecentPopularity(7d)": lambda: RecentPopularity(7 * day),
        "DecayedPopularity(30d)": lambda: DecayedPopularity(30 * day),
        "ItemKNN": lambda: ItemKNN(k_neighbors=100),
        "ItemKNN(decay 1h)": lambda: ItemKNN(k_neighbors=50, time_decay_half_life=hour),
        TUNED_KNN: lambda: None,  # built in run_one once validation has chosen its settings
        "BPR-MF": lambda: BPRMF(split.n_users, n, seed=seed),
        "SASRec": lambda: S.SASRec(n, max_len=L),
        RECBOLE_SASREC: lambda: S.SASRec(n, max_len=L, dropout=0.5, attn_dropout=0.5),
        "TiSASRec": lambda: S.TiSASRec(n, max_len=L),
        "SASRec+time2vec": lambda: S.SASRec(n, max_len=L, time_encoding="time2vec"),
        "GRU4Rec": lambda: S.GRU4Rec(n, max_len=L),
        "LSTM4Rec": lambda: S.LSTM4Rec(n, max_len=L),
        "NextItNet": lambda: S.NextItNet(n, max_len=L),
        "TimeSensitiveModel": lambda: S.TimeSensitiveModel(n, split.n_users, max_len=L),
    }[name]()


def run_one(name: str, dataset: str, seed: int, shuffled: bool, max_seconds: float | None, epochs: int,
            device: str | None = None, amp: bool = False, refit: bool = True) -> dict:
    """Fit and evaluate one model with one seed (sequence models on ``device``); returns metrics and timings.

    A trained model (sequence models, BPR-MF) is early-stopped on validation, then (``refit``) trained afresh on
    train + validation for the chosen number of epochs, as the other models are fitted on train + validation."""
    import tsrec
    from tsrec.analysis.baselines import duration_label, tune_knn
    from tsrec.evaluate import evaluate, validator
    from tsrec.models.knn import ItemKNN
    from tsrec.training import TrainConfig, train

    tsrec.seed_everything(seed)
    split = make_split(dataset, shuffled, seed)
    model = build(name, split, seed)
    t0 = time.perf_counter()
    out = {"model": name, "seed": seed}
    if name in SEQUENTIAL or name == "BPR-MF":
        # leave-one-out validates on each user's one next item; the temporal split on every validation event
        target = "first" if split.kind == "leave-one-out" else "all"
        where = dict(device=device, amp=amp) if name in SEQUENTIAL else {}  # BPR-MF stays on the CPU
        # RecBole's setup picks its epoch on validation with seen items not masked, as RecBole does (anchors.md)
        recbole = name in RECBOLE_PROTOCOL
        unmasked = validator(split, target, KS, mask_seen=False) if recbole else None
        res = train(model, split, TrainConfig(seed=seed, progress=False, max_seconds=max_seconds, epochs=epochs,
                                              eval_target=target, **where), validate=unmasked)
        out.update(best_epoch=res.best_epoch, seconds_to_best=res.seconds_to_best,
                   seconds_per_epoch=res.seconds_per_epoch, valid_NDCG10=res.best_metrics.get("NDCG@10"))
        if refit and not recbole:  # the same data before test as the classic models: train + validation
            # for validation's epoch count; RecBole's setup scores its early-stopped model, as RecBole does
            tsrec.seed_everything(seed)
            model = build(name, split, seed)
            train(model, split.history("test"), TrainConfig(seed=seed, progress=False, epochs=max(1, res.best_epoch),
                                                            **where))
    else:
        if name == TUNED_KNN:  # neighbourhood size and half-life chosen on validation, then fitted like the rest
            chosen, _ = tune_knn(split, "first" if split.kind == "leave-one-out" else "all", TUNED_HALF_LIVES,
                                 TUNED_SIZES)
            k, half_life = chosen["k_neighbors"], chosen["time_decay_half_life"]
            model = ItemKNN(k, time_decay_half_life=half_life)
            edge = "" if chosen["inside_grid"] else " (grid edge)"
            out["chosen"] = f"k {'all' if chosen['every_item'] else k}, h {duration_label(half_life)}{edge}"
        model.fit(split.history("test"), split.n_users, split.n_items)
        out.update(seconds_to_best=time.perf_counter() - t0)
    test = evaluate(model, split, "test", ks=KS, target="all")  # "all" only matters for the temporal split
    out.update({k: test[k] for k in ("HR@10", "NDCG@10", "MRR@10", "coverage@10")}, fit_s=time.perf_counter() - t0)
    if dataset == "ml-100k":  # RecBole's protocol for its sequential models: seen items not masked
        raw = evaluate(model, split, "test", ks=KS, mask_seen=False)
        out.update({f"unmasked {k}": raw[k] for k in ("HR@10", "NDCG@10")})
    return out


def worker(args) -> None:
    """Child process: all seeds of one model; prints one JSON line per seed, then the peak RSS."""
    import tsrec

    tsrec.set_threads(args.threads)
    for seed in args.seeds_list:
        print(json.dumps(run_one(args.worker, args.dataset, seed, args.shuffled, args.max_seconds, args.epochs,
                                 args.device, args.amp, not args.no_refit)), flush=True)
    print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}), flush=True)


def summarise(rows: list[dict], rss: dict[str, float]) -> pd.DataFrame:
    """Mean and 95% t-interval over seeds per model, plus timings and memory."""
    from tsrec.metrics import mean_ci

    df = pd.DataFrame(rows)
    if df.empty:
        raise SystemExit("every model of this table failed: see the errors above")
    out = []
    for name, g in df.groupby("model", sort=False):
        row = {"model": name, "seeds": len(g)}
        for m in ("HR@10", "NDCG@10", "MRR@10", "coverage@10", "unmasked HR@10", "unmasked NDCG@10"):
            if m not in g:
                continue
            mean, half = mean_ci(g[m].to_numpy()) if len(g) > 1 else (float(g[m].iloc[0]), float("nan"))
            row[m] = f"{mean:.4f}" + (f" ± {half:.4f}" if np.isfinite(half) else "")
            row[f"_{m}"], row[f"_{m}_ci"] = mean, half
        row["s to best"] = f"{g['seconds_to_best'].mean():.1f}"
        row["s / epoch"] = f"{g['seconds_per_epoch'].mean():.2f}" if "seconds_per_epoch" in g and g[
            "seconds_per_epoch"].notna().any() else "–"
        has_best = "best_epoch" in g and g["best_epoch"].notna().any()
        row["best epoch"] = f"{g['best_epoch'].mean():.0f}" if has_best else "–"
        row["chosen on validation"] = g["chosen"].iloc[0] if "chosen" in g and g["chosen"].notna().any() else "–"
        row["peak RSS MB"] = f"{rss.get(name, float('nan')):.0f}"
        out.append(row)
    return pd.DataFrame(out)


def to_markdown(table: pd.DataFrame) -> str:
    cols = [c for c in table.columns if not c.startswith("_")]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in table[cols].itertuples(index=False)]
    return "\n".join(lines)


def run_table(models, dataset: str, seeds: list[int], shuffled: bool, args) -> pd.DataFrame:
    rows, rss = [], {}
    for name in models:
        use = seeds if name in SEQUENTIAL or name == "BPR-MF" else seeds[:1]
        cmd = [sys.executable, __file__, "--worker", name, "--dataset", dataset, "--seeds", ",".join(map(str, use)),
               "--epochs", str(args.epochs)]
        cmd += ["--max-seconds", str(args.max_seconds)] if args.max_seconds else []
        cmd += ["--threads", str(args.threads)] if args.threads else []
        cmd += ["--shuffled"] if shuffled else []
        cmd += ["--device", args.device] if args.device else []
        cmd += ["--amp"] if args.amp else []
        cmd += ["--no-refit"] if args.no_refit else []
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            print(f"  {name}: FAILED\n{res.stderr[-2000:]}", file=sys.stderr)
            continue
        for line in res.stdout.splitlines():
            rec = json.loads(line)
            if "peak_rss_mb" in rec:
                rss[name] = rec["peak_rss_mb"]
            else:
                rows.append(rec)
        print(f"  {dataset}{' (shuffled)' if shuffled else ''} {name}: {time.perf_counter() - t0:.0f} s",
              file=sys.stderr)
    return summarise(rows, rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a few models, 1 seed, tiny budgets")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--max-seconds", type=float, default=None, help="optional wall-clock cap per sequence-model run")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--models", default=None, help="comma-separated subset of the models (in every table asked for)")
    ap.add_argument("--tables", default="ABC", help="which tables to run, e.g. A")
    ap.add_argument("--device", default=None, help="where the sequence models train: cpu, cuda, auto (default: "
                                                   "$TSREC_DEVICE, then CUDA, then the CPU); BPR-MF stays on the CPU")
    ap.add_argument("--amp", action="store_true", help="bfloat16 autocast for the sequence models (CUDA only)")
    ap.add_argument("--no-refit", action="store_true", help="score trained models (sequence models, BPR-MF) as "
                                                            "early-stopped on train only (default: refit on train + "
                                                            "validation first)")
    ap.add_argument("--out", default=None, help="markdown file for the tables (default benchmarks/results.md; "
                                                "with --quick, only when given)")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--dataset", default="ml-100k", help=argparse.SUPPRESS)
    ap.add_argument("--shuffled", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.seeds_list = [int(s) for s in args.seeds.split(",")]
    if args.worker:
        return worker(args)
    if args.quick:
        args.seeds_list, args.epochs = [0], 3
        plan = [("A", "ml-100k", ("Popularity", "ItemKNN", TUNED_KNN, "SASRec"), False),
                ("B", "ml-latest-small", ("Popularity", "ItemKNN(decay 1h)", "SASRec"), False),
                ("C", "ml-100k", ("SASRec",), True)]
    else:
        plan = [("A", "ml-100k", CLASSIC + SEQUENTIAL, False),
                ("B", "ml-latest-small", ("Popularity", "RecentPopularity(7d)", "ItemKNN", "ItemKNN(decay 1h)",
                                          TUNED_KNN, "BPR-MF", "SASRec", "TiSASRec"), False),
                ("C", "ml-100k", ("SASRec", "GRU4Rec"), True)]
    titles = {"A": "A. ML-100K, leave-one-out by time, full ranking, test; seen items masked (the book's protocol) "
                   "and not masked (RecBole's, for its sequential models)",
              "B": "B. ML latest-small, global temporal split (test = last 10% of time; every test event predicted "
                 "from all earlier events of its user, models not updated)",
              "C": "C. Shuffled-order control, ML-100K (each user's training order randomised)"}
    plan = [p for p in plan if p[0] in args.tables]
    if args.models:
        keep = args.models.split(",")
        plan = [(k, d, tuple(m for m in ms if m in keep), sh) for k, d, ms, sh in plan]
        plan = [p for p in plan if p[2]]
    t0 = time.perf_counter()
    budget = f"at most {args.max_seconds:.0f} s" if args.max_seconds else "no wall-clock cap"
    amp = (" with bf16 autocast" if str(args.device).startswith("cuda") else " (--amp: no effect off CUDA)") \
        if args.amp else ""
    where = f", sequence models on {args.device}{amp}" if args.device else ""
    refit = ("scored as fitted on train only" if args.no_refit else
             "then trained afresh on train + validation for that many epochs and scored on test")
    parts = [f"# Benchmark results\n\nseeds {args.seeds_list}, sequence models early-stopped on validation "
             f"NDCG@10 (at most {args.epochs} epochs, {budget}), {refit}; classic models fitted on train + "
             f"validation; mean ± 95% t-interval over seeds (deterministic models: one run){where}.\n"]
    for key, dataset, models, shuffled in plan:
        table = run_table(models, dataset, args.seeds_list, shuffled, args)
        parts.append(f"## {titles[key]}\n\n{to_markdown(table)}\n")
        print(parts[-1], flush=True)
    parts.append(f"total wall time {time.perf_counter() - t0:.0f} s")
    print(parts[-1])
    out = args.out or (None if args.quick else HERE / "results.md")
    if out:
        Path(out).write_text("\n".join(parts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
