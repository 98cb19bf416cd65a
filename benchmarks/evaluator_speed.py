"""Benchmark: full-ranking evaluation of all ML-100K users over all items (the foundation's < 0.5 s bar).

Prints a markdown table: seconds (median and best of N repeats) for a precomputed score matrix and for a
fitted model, with the thread count. Run: ``.venv/bin/python benchmarks/evaluator_speed.py``.
"""
from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch

import tsrec
from tsrec import data, splits
from tsrec.evaluate import evaluate
from tsrec.models.popularity import Popularity


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    threads = tsrec.set_threads(args.threads)
    split = splits.leave_one_out(data.load("ml-100k").interactions)
    g = torch.Generator().manual_seed(0)
    matrix = torch.randn(split.n_users + 1, split.n_items + 1, generator=g)
    pop = Popularity().fit(split.train, split.n_users, split.n_items)
    evaluate(matrix, split, "test")  # warm-up
    rows = [("score matrix [944 x 1683]", timed(lambda: evaluate(matrix, split, "test"), args.repeats)),
            ("Popularity model", timed(lambda: evaluate(pop, split, "test"), args.repeats))]
    print(f"Full-ranking evaluation, ML-100K test stage: {split.n_users} users x {split.n_items} items, "
          f"seen items masked, HR/NDCG/MRR/AUC/coverage/novelty at k = 5, 10, 20; torch threads = {threads}\n")
    print("| input | median s | best s | repeats |\n|---|---|---|---|")
    for name, ts in rows:
        print(f"| {name} | {np.median(ts):.3f} | {min(ts):.3f} | {len(ts)} |")
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
