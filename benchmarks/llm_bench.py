"""The LLM part of the benchmark (issue 4's bars): what the offline language models add, with seeds and intervals.

Tables (markdown, also written to ``benchmarks/llm_results.md``), D-G on ML-100K leave-one-out, H on ML latest-small
split by time; full ranking, seen items masked:
  D. Hybrid: SASRec ID-only vs LM-initialised item table vs gated text+ID fusion (all-MiniLM-L6-v2 item text),
     overall and per target-popularity group (tail = <= 10 training events), mean ± 95% interval over seeds, and
     the difference from the ID-only twin with a paired per-user interval;
  E. Cold start: 5% of the items held out of training, scored zero-shot through their text, HR@10 on the test
     users whose target is held out, against the random expectation;
  F. Generative: a small GPT-2 trained from a config on item tokens, with and without time-gap tokens;
  G. Cost: encoding the 1,682 item texts (first time, then from the cache) on 1 thread; SmolLM2 re-ranking of
     200 users x 20 candidates (2 threads by default), per prompt variant;
  H. The tail where there is one: ML latest-small, global temporal split, every test event a query (about 2,200
     tail and 2,300 cold targets): ID-only vs LM-init vs gated text+ID with ID dropout, per popularity group,
     intervals over seeds and over users (clustered by user).

  .venv/bin/python benchmarks/llm_bench.py          # default (about 45 min on 2 CPU cores)
  .venv/bin/python benchmarks/llm_bench.py --quick  # tiny settings: a smoke test of the script
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
VARIANTS = ("ID-only", "LM-init", "gated text+ID")
TAIL_VARIANTS = ("ID-only", "LM-init", "gated + ID dropout")  # table H (ML latest-small, split by time)
ID_DROPOUT = 0.3  # share of ID vectors zeroed per training step in "gated + ID dropout" (DropoutNet)


def _md(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join([df.index.name or ""] + cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for idx, row in df.iterrows():
        lines.append("| " + " | ".join([str(idx)] + [_fmt(v) for v in row]) + " |")
    return "\n".join(lines)


def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return "–" if not np.isfinite(v) else f"{v:.4f}"
    return str(v)


def _pm(mean: float, half: float) -> str:
    return f"{mean:.4f}" + (f" ± {half:.4f}" if np.isfinite(half) else "")


def _half(half: float) -> str:
    return f"{half:.4f}" if np.isfinite(half) else "–"


def _ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and 95% t-interval half-width over seeds (nan half-width for one seed)."""
    from tsrec.metrics import mean_ci

    values = np.asarray(values, dtype=float)
    return mean_ci(values) if len(values) > 1 else (float(values[0]), float("nan"))


def build(variant: str, n_items: int, text: np.ndarray, seed: int, max_len: int = 50):
    """A fresh model per variant name (the same SASRec architecture, reading the last ``max_len`` events)."""
    import torch

    from tsrec.models.sequential import HybridSASRec, SASRec, init_from_text

    torch.manual_seed(seed)
    if variant == "ID-only":
        return SASRec(n_items, max_len=max_len)
    if variant == "LM-init":
        m = SASRec(n_items, max_len=max_len)
        init_from_text(m, text, seed=seed)
        return m
    if variant == "gated + ID dropout":
        return HybridSASRec(n_items, fusion="gate", text=text, max_len=max_len, id_dropout=ID_DROPOUT)
    fusion = {"gated text+ID": "gate", "text only": "text_only", "ID twin": "id"}[variant]
    return HybridSASRec(n_items, fusion=fusion, text=text, max_len=max_len)


def fit(model, split, seed: int, max_seconds: float, epochs: int, eval_target: str = "first"):
    from tsrec.training import TrainConfig, train

    return train(model, split, TrainConfig(seed=seed, max_seconds=max_seconds, epochs=epochs, progress=False,
                                           eval_target=eval_target))


def table_hybrid(split, text, seeds, args) -> tuple[str, object]:
    from tsrec.analysis import compare_runs, history_lengths, item_counts, popularity_groups
    from tsrec.evaluate import evaluate

    counts = item_counts(split.train, split.n_items)
    groups = popularity_groups(counts)[split.test.sort_values("user")["item"].to_numpy()]
    runs, tests, secs = {v: [] for v in VARIANTS}, {v: [] for v in VARIANTS}, {v: [] for v in VARIANTS}
    best_model = None
    for seed in seeds:
        for v in VARIANTS:
            t0 = time.perf_counter()
            m = build(v, split.n_items, text, seed, args.max_len)
            fit(m, split, seed, args.max_seconds, args.epochs)
            metrics, frame = evaluate(m, split, "test", ks=(10,), per_user=True)
            runs[v].append(frame.sort_values("user").reset_index(drop=True))
            tests[v].append(metrics)
            secs[v].append(time.perf_counter() - t0)
            if v == "LM-init" and seed == seeds[0]:
                best_model = m
            print(f"  D {v} seed {seed}: NDCG@10 {metrics['NDCG@10']:.4f} ({secs[v][-1]:.0f} s)", file=sys.stderr)
    hist = history_lengths(split, "test")
    cmps = {v: compare_runs(runs["ID-only"], runs[v], counts, hist, k=10) for v in VARIANTS[1:]}
    tail_key = ("popularity", "tail")
    rows = []
    for v in VARIANTS:
        nd = np.array([t["NDCG@10"] for t in tests[v]])
        hr = np.array([t["HR@10"] for t in tests[v]])
        row = {"variant": v, "seeds": len(nd), "HR@10": _pm(*_ci(hr)), "NDCG@10": _pm(*_ci(nd))}
        cmp = cmps[VARIANTS[1]] if v == "ID-only" else cmps[v]
        side = "A" if v == "ID-only" else "B"
        row["tail NDCG@10"] = _pm(cmp.loc[tail_key, side], cmp.loc[tail_key, f"{side} ±"])
        for g, key in (("all", ("all", "all")), ("tail", tail_key)):
            r = cmp.loc[key]
            row[f"Δ {g} vs ID-only (± seeds / ± users)"] = "–" if v == "ID-only" else (
                f"{r['delta']:+.4f} ± {r['delta ± (seeds)']:.4f} / ± {r['delta ± (users)']:.4f}")
        row["s per run"] = f"{np.mean(secs[v]):.0f}"
        rows.append(row)
    n_tail = int((groups == "tail").sum())
    title = (f"## D. Hybrid text + ID SASRec vs its ID-only twin (test; {n_tail} of {len(groups)} test targets are "
             f"tail items, <= 10 training events)")
    return title + "\n\n" + _md(pd.DataFrame(rows).set_index("variant").fillna("–")) + "\n", best_model


def table_temporal_tail(seeds, args) -> str:
    """H: the tail where there is one. ML latest-small split globally by time (last 10% of events test, the 10%
    before validate), every test event a query: thousands of tail targets instead of ML-100K's 44."""
    from tsrec import data, splits
    from tsrec.analysis import compare_runs, item_counts
    from tsrec.evaluate import evaluate
    from tsrec.llm import item_text_embeddings

    ls = data.load("ml-latest-small")
    split = splits.temporal_split_by_share(ls.interactions, 0.1, 0.1)
    text = item_text_embeddings(split, ls.items)
    counts = item_counts(split.train, split.n_items)
    runs, tests, secs = ({v: [] for v in TAIL_VARIANTS} for _ in range(3))
    for seed in seeds:
        for v in TAIL_VARIANTS:
            t0 = time.perf_counter()
            m = build(v, split.n_items, text, seed, args.max_len)
            fit(m, split, seed, args.ls_seconds, args.epochs, eval_target="all")
            metrics, frame = evaluate(m, split, "test", ks=(10,), per_user=True, target="all")
            runs[v].append(frame.reset_index(drop=True))
            tests[v].append(metrics["NDCG@10"])
            secs[v].append(time.perf_counter() - t0)
            print(f"  H {v} seed {seed}: NDCG@10 {metrics['NDCG@10']:.4f} ({secs[v][-1]:.0f} s)", file=sys.stderr)
    groups = ("all", "head", "torso", "tail", "cold")
    cmps = {v: compare_runs(runs["ID-only"], runs[v], counts, None, k=10) for v in TAIL_VARIANTS[1:]}
    first = cmps[TAIL_VARIANTS[1]]
    rows = []
    for v in TAIL_VARIANTS:
        row = {"variant": v, "seeds": len(tests[v])}
        for g in groups:
            key = ("all", "all") if g == "all" else ("popularity", g)
            if key not in first.index:
                continue
            side, cmp = ("A", first) if v == "ID-only" else ("B", cmps[v])
            row[f"{g} NDCG@10"] = _pm(cmp.loc[key, side], cmp.loc[key, f"{side} ±"])
        for g in ("all", "tail"):
            key = ("all", "all") if g == "all" else ("popularity", g)
            r = None if v == "ID-only" else cmps[v].loc[key]
            row[f"Δ {g} vs ID-only (± seeds / ± users)"] = "–" if r is None else (
                f"{r['delta']:+.4f} ± {_half(r['delta ± (seeds)'])} / ± {_half(r['delta ± (users)'])}")
        row["s per run"] = f"{np.mean(secs[v]):.0f}"
        rows.append(row)
    n = {g: int(first.loc[("popularity", g), "n"]) for g in groups[1:] if ("popularity", g) in first.index}
    title = (f"## H. The tail where there is one: ML latest-small split by time (last 10% of events test), every test "
             f"event a query ({len(runs['ID-only'][0]):,} queries from {split.test['user'].nunique()} users: "
             + ", ".join(f"{k} {v:,}" for k, v in n.items())
             + f"); {args.ls_seconds:.0f} s of training per run, validation on every validation event; intervals "
             "over seeds and over users (clustered: a user has many test events)")
    return title + "\n\n" + _md(pd.DataFrame(rows).set_index("variant").fillna("–")) + "\n"


def table_cold(split, text, seeds, args) -> str:
    from tsrec.analysis import cold_start_report, hold_out_items
    from tsrec.models.content import ContentKNN

    rows = []
    for seed in seeds:
        cold_split, cold = hold_out_items(split, frac=0.05, seed=seed)
        for v in ("ID twin", "text only", "gated text+ID"):
            m = build(v, split.n_items, text, seed, args.max_len).mark_cold(cold)
            fit(m, cold_split, seed, args.max_seconds, args.epochs)
            rep = cold_start_report(m, cold_split, cold, k=10)
            rows.append({"model": v, "seed": seed, **rep})
            print(f"  E {v} seed {seed}: cold HR@10 {rep['cold_HR@10']:.4f} vs random {rep['random_HR@10']:.4f}",
                  file=sys.stderr)
        knn = ContentKNN(text).fit(cold_split.train, split.n_users, split.n_items)
        rows.append({"model": "MiniLM item similarity (no training)", "seed": seed,
                     **cold_start_report(knn, cold_split, cold, k=10)})
    df = pd.DataFrame(rows)
    out = []
    for name, g in df.groupby("model", sort=False):
        hr = g["cold_HR@10"].to_numpy()
        out.append({"model": name, "seeds": len(g), "cold queries / seed": f"{g['n_cold_queries'].mean():.0f}",
                    "cold HR@10": _pm(*_ci(hr)),
                    "cold AUC": f"{g['cold_AUC'].mean():.3f}",
                    "random HR@10": f"{g['random_HR@10'].mean():.4f}",
                    "x random": f"{hr.mean() / g['random_HR@10'].mean():.1f}",
                    "warm NDCG@10": f"{g['warm_NDCG@10'].mean():.4f}"})
    return ("## E. Cold start: 5% of the items (drawn by popularity) held out of training, scored zero-shot through "
            "their text (test users whose target is held out; interval over seeds)\n\n"
            + _md(pd.DataFrame(out).set_index("model")) + "\n")


def table_generative(split, seeds, args) -> str:
    from tsrec.evaluate import evaluate
    from tsrec.models.generative import GenerativeRecommender
    from tsrec.models.popularity import Popularity
    from tsrec.training import train

    rows = []
    for tt in (False, True):
        nd, hr, secs = [], [], []
        for seed in seeds:
            t0 = time.perf_counter()
            g = GenerativeRecommender(split.n_items, time_tokens=tt, max_len=args.max_len, seed=seed)
            train(g, split, epochs=args.gen_epochs, seed=seed, progress=False)
            res = evaluate(g, split, "test", ks=(10,))
            nd.append(res["NDCG@10"]), hr.append(res["HR@10"]), secs.append(time.perf_counter() - t0)
        rows.append({"model": "GPT-2 + time-gap tokens" if tt else "GPT-2, item tokens only", "seeds": len(nd),
                     "HR@10": _pm(*_ci(hr)), "NDCG@10": _pm(*_ci(nd)),
                     "s per run": f"{np.mean(secs):.0f}"})
        print(f"  F time_tokens={tt}: NDCG@10 {np.mean(nd):.4f}", file=sys.stderr)
    pop = evaluate(Popularity().fit(split.train, split.n_users, split.n_items), split, "test", ks=(10,))
    rows.append({"model": "Popularity", "seeds": 1, "HR@10": f"{pop['HR@10']:.4f}", "NDCG@10": f"{pop['NDCG@10']:.4f}",
                 "s per run": "0"})
    return ("## F. Generative: GPT-2 (transformers, built from a config, trained from scratch on item tokens), "
            "next item = top of the item-token distribution\n\n" + _md(pd.DataFrame(rows).set_index("model")) + "\n")


def encode_timing() -> dict:
    """Child process, 1 thread, empty cache: seconds to encode all item texts, then again from the cache."""
    import tsrec
    from tsrec import data, llm

    tsrec.set_threads(1)
    ml = data.load("ml-100k")
    texts = llm.movie_text(ml.items).tolist()
    out = {"texts": len(texts)}
    t0 = time.perf_counter()
    enc = llm.TextEncoder()
    out["load_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    enc.encode(texts, show_progress=False)
    out["first_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    llm.TextEncoder().encode(texts, show_progress=False)
    out["cached_s"] = time.perf_counter() - t0  # a new encoder object: the embeddings come from disk
    return out


def table_cost(split, model, args) -> str:
    import json

    import torch

    from tsrec import llm
    from tsrec.llm import llm_rerank, rerank_metrics

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TSREC_CACHE": tmp, "OMP_NUM_THREADS": "1"}
        res = subprocess.run([sys.executable, __file__, "--encode-child"], capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    enc = json.loads(res.stdout.strip().splitlines()[-1])
    torch.set_num_threads(args.rerank_threads)
    from tsrec import data

    titles = split.items_frame(data.load("ml-100k").items)["title"]
    lm = llm.GenerativeLM()
    rr = llm_rerank(lm, model, split, titles, n_users=args.rerank_users, n_candidates=20,
                    variants=("time", "no_time"), seed=0, show_progress=False)
    tab = rerank_metrics(rr, k=10)
    lines = ["## G. Cost of the language models (CPU)\n",
             "| step | setting | seconds |", "|---|---|---|",
             f"| load all-MiniLM-L6-v2 | 1 thread | {enc['load_s']:.1f} |",
             f"| encode {enc['texts']:,} item texts, first time | 1 thread, empty cache | {enc['first_s']:.1f} |",
             f"| the same from the disk cache | 1 thread, new encoder object | {enc['cached_s']:.2f} |"]
    for v in ("time", "no_time"):
        lines.append(f"| SmolLM2-135M re-ranks {len(rr.frame)} users x 20 candidates, prompt '{v}' | "
                     f"{args.rerank_threads} thread(s) | {rr.seconds[v]:.0f} |")
    lines.append("\nRe-ranking quality on those users (NDCG@10 / HR@10 of each order; base = SASRec LM-init):\n")
    lines.append(_md(tab[["HR@10", "NDCG@10"]].rename_axis("order")))
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 seed, tiny budgets, 10 re-ranked users")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--max-seconds", type=float, default=45.0, help="training budget per SASRec run")
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--max-len", type=int, default=50, help="events of history every model reads")
    ap.add_argument("--gen-epochs", type=int, default=10)
    ap.add_argument("--rerank-users", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1, help="torch threads for training")
    ap.add_argument("--rerank-threads", type=int, default=2, help="torch threads for the LLM re-ranking")
    ap.add_argument("--ls-seconds", type=float, default=90.0, help="training budget per run in table H")
    ap.add_argument("--tables", default="DEFGH")
    ap.add_argument("--out", default=str(HERE / "llm_results.md"))
    ap.add_argument("--encode-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.encode_child:
        import json

        print(json.dumps(encode_timing()))
        return
    import tsrec
    from tsrec import data, splits
    from tsrec.llm import item_text_embeddings

    seeds = [int(s) for s in args.seeds.split(",")]
    if args.quick:
        seeds, args.max_seconds, args.epochs, args.gen_epochs, args.rerank_users = [0], 5.0, 2, 2, 10
        args.ls_seconds = 5.0
    tsrec.set_threads(args.threads)
    tsrec.seed_everything(seeds[0])
    ml = data.load("ml-100k")
    split = splits.leave_one_out(ml.interactions)
    text = item_text_embeddings(split, ml.items)
    t0 = time.perf_counter()
    parts = [f"# LLM benchmark results\n\nML-100K leave-one-out, full ranking, seen items masked; seeds {seeds}; "
             f"training budget {args.max_seconds:.0f} s per SASRec run (last {args.max_len} events) on {args.threads} "
             f"thread(s); generative models {args.gen_epochs} epochs.\n"]
    model = None
    if "D" in args.tables or "G" in args.tables:
        text_d, model = table_hybrid(split, text, seeds, args)
        if "D" in args.tables:
            parts.append(text_d)
            print(parts[-1], flush=True)
    if "E" in args.tables:
        parts.append(table_cold(split, text, seeds, args))
        print(parts[-1], flush=True)
    if "F" in args.tables:
        parts.append(table_generative(split, seeds, args))
        print(parts[-1], flush=True)
    if "G" in args.tables:
        parts.append(table_cost(split, model, args))
        print(parts[-1], flush=True)
    if "H" in args.tables:
        parts.append(table_temporal_tail(seeds, args))
        print(parts[-1], flush=True)
    parts.append(f"total wall time {time.perf_counter() - t0:.0f} s")
    print(parts[-1])
    if not args.quick:
        Path(args.out).write_text("\n".join(parts) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
