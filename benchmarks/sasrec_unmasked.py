"""Why tsrec's SASRec was weaker than RecBole's on RecBole's own protocol (seen items not masked), and what fixed it.

ML-100K, the identical leave-one-out split of benchmarks/speed_vs_recbole.py, the last 50 events, one torch
thread; every variant picks its epoch on *unmasked* validation NDCG@10 (as RecBole does) and reports test
NDCG@10 on both protocols. Variants: which part of each history trains (the last window of 51 events, as tsrec
did before 2026-12-02, or windows over the whole history, as RecBole's one-sample-per-prefix does) and the
dropout (tsrec's default 0.2 or RecBole's 0.5); RecBole's full configuration (2 heads, inner size 256,
attention dropout 0.5, lr 1e-3) as a further row.

  .venv/bin/python benchmarks/sasrec_unmasked.py --seeds 0            # about 30 min on 2 quiet cores
"""
from __future__ import annotations

import argparse
import json
import sys
import time

VARIANTS = {  # name: (SASRec keyword arguments, TrainConfig keyword arguments)
    "last window, dropout 0.2": ({}, {"windows": "last"}),
    "last window, dropout 0.5": ({"dropout": 0.5}, {"windows": "last"}),
    "last window, RecBole's configuration": ({"n_heads": 2, "dropout": 0.5, "attn_dropout": 0.5, "ffn_mult": 4},
                                             {"windows": "last", "lr": 1e-3}),
    "whole history, dropout 0.2 (tsrec's default)": ({}, {"windows": "all"}),
    "whole history, dropout 0.5 (RecBole's)": ({"dropout": 0.5}, {"windows": "all"}),
    "whole history, dropout 0.5, attention dropout 0.5": ({"dropout": 0.5, "attn_dropout": 0.5}, {"windows": "all"}),
}


def run(name: str, seed: int) -> dict:
    import tsrec
    from tsrec import data, splits
    from tsrec.evaluate import evaluate, validator
    from tsrec.models.sequential import SASRec
    from tsrec.training import TrainConfig, train

    model_kw, train_kw = VARIANTS[name]
    split = splits.leave_one_out(data.load("ml-100k").interactions)
    tsrec.seed_everything(seed)
    model = SASRec(split.n_items, max_len=50, **model_kw)
    t0 = time.perf_counter()
    res = train(model, split, TrainConfig(seed=seed, progress=False, **train_kw),
                validate=validator(split, ks=(10,), mask_seen=False))
    raw, masked = (evaluate(model, split, "test", ks=(10,), mask_seen=m) for m in (False, True))
    return {"variant": name, "seed": seed, "best epoch": res.best_epoch, "s": time.perf_counter() - t0,
            "unmasked HR@10": raw["HR@10"], "unmasked NDCG@10": raw["NDCG@10"], "masked NDCG@10": masked["NDCG@10"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--variants", default=";".join(VARIANTS), help="semicolon-separated subset (names hold commas)")
    args = ap.parse_args()
    import tsrec

    tsrec.set_threads(1)
    print("| variant | seed | best epoch | seconds | unmasked HR@10 | unmasked NDCG@10 | masked NDCG@10 |")
    print("|---|---|---|---|---|---|---|")
    for name in args.variants.split(";"):
        for seed in map(int, args.seeds.split(",")):
            r = run(name, seed)
            print(json.dumps(r), file=sys.stderr)
            print(f"| {name} | {seed} | {r['best epoch']} | {r['s']:.0f} | {r['unmasked HR@10']:.4f} | "
                  f"{r['unmasked NDCG@10']:.4f} | {r['masked NDCG@10']:.4f} |", flush=True)
    print("\nRecBole 1.2.1 SASRec on the identical split (benchmarks/anchors.md): unmasked test HR@10 0.1336, "
          "NDCG@10 0.0630")


if __name__ == "__main__":
    main()
