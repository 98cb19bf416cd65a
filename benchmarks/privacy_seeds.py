"""Benchmark: chapter 6.2's DP-SGD curve repeated over training seeds, so that its differences carry an interval
over reruns as well as over users.

The data, the members and δ are the chapter's (seed 0); each training seed trains the non-private model, DP-SGD
at every ε and the clipped-without-noise control, exactly as the chapter's defaults do. Per seed: test NDCG@10
over all users and the loss-threshold membership attack's AUC. Printed as markdown (``benchmarks/privacy_results.md``
holds a run): the mean over seeds with a t interval over seeds, and each model's paired difference from the
non-private one of the same seed.

Run: ``.venv/bin/python benchmarks/privacy_seeds.py [--seeds 0,1,2]`` (about 3 minutes a seed on 2 cores).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

EPOCHS, EPSILONS, DELTA_SCALE, DP_BATCH, MAX_GRAD_NORM, MEMBER_SHARE = 20, (1.0, 4.0, 16.0), 0.1, 64, 1.0, 0.5


def one_seed(split, members: set, train_log: pd.DataFrame, delta: float, seed: int) -> dict[str, tuple]:
    """(mean test NDCG@10, membership-attack AUC) of every model trained with ``seed``."""
    import tsrec
    from tsrec import metrics as M
    from tsrec.analysis import explain as X
    from tsrec.evaluate import evaluate
    from tsrec.training import TrainConfig, train
    from tsrec.training import privacy as P

    def scored(model) -> tuple[float, float]:
        _, per = evaluate(model, split, "test", ks=(10,), per_user=True)
        loss = P.user_losses(model, split.train)
        auc = X.membership_auc(loss[loss.index.isin(members)], loss[~loss.index.isin(members)])[0]
        return float(M.per_user_rank_metrics(per["rank"].to_numpy(), 10)["NDCG@10"].mean()), float(auc)

    tsrec.seed_everything(seed)
    public = P.DPSASRec(split.n_items)
    train(public, train_log, TrainConfig(epochs=EPOCHS, windows="last", seed=seed, progress=False, device="cpu"))
    out = {"non-private": scored(public)}
    for eps in [*EPSILONS, None]:
        tsrec.seed_everything(seed)
        model = P.DPSASRec(split.n_items)
        P.train_private(model, train_log, EPOCHS, eps, delta, DP_BATCH, max_grad_norm=MAX_GRAD_NORM, seed=seed)
        out[f"DP ε={eps:g}" if eps is not None else "clipped, no noise"] = scored(model)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2")
    args = ap.parse_args()
    import tsrec
    from tsrec import data, splits
    from tsrec.metrics import mean_ci

    tsrec.set_threads()
    split = splits.leave_one_out(data.load("ml-100k").interactions)
    users = np.random.default_rng(0).permutation(split.train["user"].unique())
    members = set(users[: int(MEMBER_SHARE * len(users))].tolist())
    train_log = split.train[split.train["user"].isin(members)]
    delta = DELTA_SCALE / len(members)
    seeds = [int(s) for s in args.seeds.split(",")]
    t0 = time.perf_counter()
    runs = {s: one_seed(split, members, train_log, delta, s) for s in seeds}
    names = list(runs[seeds[0]])
    print("## A. DP-SGD over training seeds.\n")
    print(f"ML-100K leave-one-out, {len(members)} members of {len(users)} users, δ = {delta:.2e}, {EPOCHS} epochs, "
          f"seeds {seeds}, {time.perf_counter() - t0:.0f} s, {tsrec.set_threads()} torch threads.\n")
    print("| model | NDCG@10 (± seeds) | Δ vs non-private (± seeds) | attack AUC (± seeds) | per seed NDCG@10 |")
    print("|---|---|---|---|---|")
    for name in names:
        ndcg = np.array([runs[s][name][0] for s in seeds])
        auc = np.array([runs[s][name][1] for s in seeds])
        delta_ndcg = ndcg - np.array([runs[s]["non-private"][0] for s in seeds])
        (m, h), (d, dh), (a, ah) = mean_ci(ndcg), mean_ci(delta_ndcg), mean_ci(auc)
        diff = "—" if name == "non-private" else f"{d:+.4f} ± {dh:.4f}"
        print(f"| {name} | {m:.4f} ± {h:.4f} | {diff} | {a:.3f} ± {ah:.3f} | {', '.join(f'{x:.4f}' for x in ndcg)} |")


if __name__ == "__main__":
    main()
