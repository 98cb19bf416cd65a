"""Benchmark: compressing chapter 6.1's SASRec (Time2Vec of the gap to the request) on ML-100K, every variant measured.

Rows: the float32 model; dynamic int8 quantisation of its linear layers; global magnitude pruning at 50% and 80%,
without and with fine-tuning; a low-rank (SVD) item table, without and with fine-tuning; a distilled student of
width 16 and the same student trained without the teacher. Columns: parameters, non-zero parameters, file size
(``torch.save`` of the state dict), test NDCG@10 with its 95% interval over users and the paired difference to
float32, per-request CPU latency p50/p99 (one request at a time, one thread), the time to score every test user in
one call, and the peak resident memory of a fresh process that loads the model and scores every test user (and
of the same process without a model: the floor of Python, torch, pandas and the data). Prints a markdown table
and writes it to ``benchmarks/compression_results.md``.

  .venv/bin/python benchmarks/compression.py            # the defaults (about 4 minutes on two quiet cores)
  .venv/bin/python benchmarks/compression.py --quick    # 120 users, 2 epochs: a smoke run of the script
"""
from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make_split(quick: bool, seed: int = 0):
    """ML-100K, leave-one-out by time; ``quick`` keeps 120 random users (as the chapter's smoke run)."""
    from tsrec import data, splits

    ml = data.load("ml-100k").interactions
    if quick:
        ml = ml[ml["user"].isin(np.random.default_rng(seed).choice(ml["user"].unique(), 120, replace=False))]
    return splits.leave_one_out(ml)


def child(path: str, quick: bool) -> None:
    """Load the pickled model at ``path`` (or none for "-"), score every test user once, print the peak RSS (MB)."""
    import torch

    from tsrec.config import set_threads
    from tsrec.evaluate import eval_queries

    set_threads(1)
    queries, _ = eval_queries(make_split(quick), "test")
    if path != "-":
        model = torch.load(path, weights_only=False)
        with torch.inference_mode():
            model.score(queries)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_mb(path: str, quick: bool) -> float:
    """Peak RSS (MB) of a fresh process that loads the model at ``path`` and scores every test user."""
    out = subprocess.run([sys.executable, __file__, "child", path] + (["--quick"] if quick else []),
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def variants(split, epochs: int, finetune: int, seed: int = 0) -> dict:
    """The teacher and its compressed versions, trained as chapter 6.1 trains them."""
    import tsrec
    from tsrec.training import TrainConfig, train
    from tsrec.training import compress as C
    from tsrec.training import tuning as T

    def cfg(n):
        return TrainConfig(seed=seed, epochs=n, patience=3, windows="last", progress=False, device="cpu")

    teacher, _ = T.fit(T.DEFAULT_PARAMS, split, cfg(epochs))
    out = {"fp32 (default model)": teacher, "int8 dynamic": C.quantize_int8(teacher)}
    for amount in (0.5, 0.8):
        out[f"pruned {amount:.0%}"] = C.magnitude_prune(teacher, amount)
        masked = C.magnitude_prune(teacher, amount, keep_masks=True)
        train(masked, split, cfg(finetune))
        out[f"pruned {amount:.0%} + fine-tuned"] = C.strip_masks(masked)
    out["low-rank items (r=16)"] = C.low_rank_items(teacher, 16)
    low = C.low_rank_items(teacher, 16)
    train(low, split, cfg(finetune))
    out["low-rank items (r=16) + fine-tuned"] = low
    small = {**T.DEFAULT_PARAMS, "hidden": 16}
    tsrec.seed_everything(seed)
    student = T.build(split.n_items, small)
    C.distill(student, teacher, split, cfg(epochs), temperature=2.0, alpha=0.5)
    out["distilled student (width 16)"] = student
    out["same student, no distillation"] = T.fit(small, split, cfg(epochs))[0]
    return out


def measure(models: dict, split, requests: int, quick: bool) -> list[dict]:
    """One row of the table per model."""
    import torch

    from tsrec import metrics as M
    from tsrec.config import set_threads
    from tsrec.evaluate import eval_queries, evaluate
    from tsrec.training import compress as C

    set_threads(1)
    queries, _ = eval_queries(split, "test")

    def ndcg(m):
        _, per = evaluate(m, split, "test", ks=(10,), per_user=True)
        return M.per_user_rank_metrics(per["rank"].to_numpy(), 10)["NDCG@10"]

    base = ndcg(models["fp32 (default model)"])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, m in models.items():
            m = m.cpu().eval()
            per = ndcg(m)
            lat = C.request_latency(m, queries, requests) * 1e3
            t0 = time.perf_counter()
            with torch.inference_mode():
                m.score(queries)
            batch_s = time.perf_counter() - t0
            path = str(Path(tmp) / "model.pt")
            torch.save(m, path)
            rows.append({"model": name, "params": C.n_params(m), "non-zero": C.n_params(m, nonzero=True),
                         "file KB": C.file_bytes(m) / 1024, "ndcg": M.mean_ci(per), "diff": M.mean_ci(per - base),
                         "p50": np.percentile(lat, 50), "p99": np.percentile(lat, 99), "batch s": batch_s,
                         "peak MB": peak_mb(path, quick)})
    return rows


def table(rows: list[dict], floor_mb: float) -> str:
    head = ("| model | parameters | non-zero | file KB | NDCG@10 (±95%) | Δ vs fp32 (paired ±95%) | p50 ms | p99 ms "
            "| all test users, s | peak RSS MB (above floor) |")
    lines = [head, "|" + " --- |" * 10]
    for r in rows:
        lines.append(f"| {r['model']} | {r['params']:,} | {r['non-zero']:,} | {r['file KB']:.0f} | "
                     f"{r['ndcg'][0]:.4f} ± {r['ndcg'][1]:.4f} | {r['diff'][0]:+.4f} ± {r['diff'][1]:.4f} | "
                     f"{r['p50']:.2f} | {r['p99']:.2f} | {r['batch s']:.3f} | {r['peak MB']:.0f} "
                     f"({r['peak MB'] - floor_mb:+.0f}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="120 users, 2 epochs: a smoke run")
    parser.add_argument("--epochs", type=int, default=20, help="at most this many epochs (early stopping)")
    parser.add_argument("--finetune", type=int, default=4, help="fine-tuning epochs after pruning / low rank")
    parser.add_argument("--requests", type=int, default=500, help="requests timed per model")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the table (default: benchmarks/compression_results.md, not with --quick)")
    args = parser.parse_args()
    import tsrec

    tsrec.set_threads(1)
    t0 = time.perf_counter()
    split = make_split(args.quick)
    epochs, finetune = (2, 1) if args.quick else (args.epochs, args.finetune)
    models = variants(split, epochs, finetune)
    floor = peak_mb("-", args.quick)
    rows = measure(models, split, 50 if args.quick else args.requests, args.quick)
    load = " / ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    text = (f"# Compression of chapter 6.1's SASRec on ML-100K\n\n"
            f"Measured on {time.strftime('%Y-%m-%d')} with `benchmarks/compression.py`"
            f"{' --quick' if args.quick else ''} ({platform.processor() or platform.machine()}, torch "
            f"{__import__('torch').__version__}, one torch thread; load average at the end {load}; "
            f"{time.perf_counter() - t0:.0f} s in all). Test split: leave-one-out by time, full ranking, seen items "
            f"masked, {len(split.test)} users; the teacher and the students trained at most {epochs} epochs with "
            f"early stopping, fine-tuning {finetune} epochs. Latency: one request at a time, "
            f"{50 if args.quick else args.requests} requests. Peak RSS: a fresh process loading the pickled model and "
            f"scoring every test user in one call; the floor (the same process without a model) is "
            f"{floor:.0f} MB.\n\n" + table(rows, floor) + "\n")
    print(text)
    out = args.out or (None if args.quick else HERE / "compression_results.md")
    if out is not None:
        out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "child":
        child(sys.argv[2], "--quick" in sys.argv)
    else:
        main()
