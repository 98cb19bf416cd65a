"""Exercise checks for chapter 4.2, part 1 (sequence models)."""
from __future__ import annotations

from tsrec.exercises._common import _close, _prediction_note, _report


def ch04_2a_prefix_samples_latest_small(answer: int, valid_quantile: float = 0.8, test_quantile: float = 0.9) -> bool:
    """Ex. 4.2a.1: (prefix, next item) samples a one-sample-per-prefix trainer builds from ML latest-small's events
    before the global test cut (the ``test_quantile`` of time) of chapter 4.2a's split."""
    from tsrec import data, splits

    df = data.load("ml-latest-small").interactions
    q = df["timestamp"].quantile([valid_quantile, test_quantile]).astype("int64").tolist()
    before = splits.temporal_split(df, test_start=q[1], valid_start=q[0]).history("test")
    sizes = before.groupby("user").size()
    expected = int((sizes - 1).clip(lower=0).sum())
    return _report(_close(answer, expected, tol=0.5),
                   "split.history('test') holds every event before the test cut; each user's events after the "
                   "first are one prefix sample each")


def ch04_2a_receptive_field(answer: int, kernel: int = 3, dilations: tuple[int, ...] = (1, 4, 16, 64)) -> bool:
    """Ex. 4.2a.2: how many past events (the current one included) can the last position of a NextItNet with
    ``kernel`` and residual blocks of ``dilations`` see? (Each block has two causal convolutions, d and 2d.)"""
    from torch import nn

    from tsrec.models.sequential import NextItNet

    model = NextItNet(10, kernel=kernel, dilations=tuple(dilations))
    expected = 1 + sum((m.kernel_size[0] - 1) * m.dilation[0] for m in model.modules() if isinstance(m, nn.Conv1d))
    return _report(_close(answer, expected, tol=0.5),
                   "a causal convolution with kernel k and dilation d reaches (k - 1) * d steps further back; "
                   "add them up, plus 1")


def ch04_2a_tisasrec_bucket(answer: int, times: tuple[int, ...] = (0, 60, 60, 600), i: int = 3, j: int = 0,
                            max_interval: int = 256) -> bool:
    """Ex. 4.2a.3: TiSASRec's clipped interval bucket r_ij for one user's event times ``times`` (seconds)."""
    import torch

    from tsrec.models.sequential import TiSASRec

    model = TiSASRec(10, max_len=len(times), max_interval=max_interval)
    t = torch.tensor([list(times)], dtype=torch.long)
    expected = int(model.interval_buckets(t, torch.ones_like(t, dtype=torch.bool))[0, i, j])
    return _report(_close(answer, expected, tol=0.5),
                   "unit r_u = the smallest non-zero gap among events 0..i; "
                   "r_ij = min(floor(|t_i - t_j| / r_u), max_interval)")


def ch04_2a_log_bucket(answer: int, gap_seconds: float = 3600.0) -> bool:
    """Ex. 4.2a.4: the log-interval bucket (``LogIntervalEncoding``) of a gap of ``gap_seconds`` since the
    previous event."""
    import torch

    from tsrec.models.sequential.time_encoding import LogIntervalEncoding

    enc = LogIntervalEncoding(32)
    with torch.no_grad():
        enc.emb.weight.copy_(torch.eye(32))  # one-hot rows: the output says which bucket was looked up
    times = torch.tensor([[0, int(gap_seconds)]])
    out = enc(times, times, torch.ones_like(times, dtype=torch.bool))
    expected = int(out[0, 1].argmax())
    return _report(_close(answer, expected, tol=0.5), "bucket = floor(log2(gap + 1)), clipped to n_buckets - 1")


def ch04_2a_shuffled_knn(answer: float, prediction: float | None = None, half_life_seconds: float = 10.0,
                         seed: int = 0, k_neighbors: int = 100) -> bool:
    """Ex. 4.2a.5 (predict, then run): test NDCG@10 of the time-decayed item-kNN (history half-life
    ``half_life_seconds``) fitted on ML-100K's leave-one-out training events with each user's order shuffled
    (``splits.shuffle_train_order(split, seed)``)."""
    from tsrec import data, splits
    from tsrec.evaluate import evaluate
    from tsrec.models.knn import ItemKNN

    split = splits.shuffle_train_order(splits.leave_one_out(data.load("ml-100k").interactions), seed)
    knn = ItemKNN(k_neighbors, time_decay_half_life=float(half_life_seconds))
    knn.fit(split.train, split.n_users, split.n_items)
    expected = evaluate(knn, split, "test", ks=(10,))["NDCG@10"]
    ok = _report(_close(answer, expected, tol=1e-4),
                 "fit ItemKNN(100, time_decay_half_life=half_life_seconds) on the shuffled split's train and "
                 "take evaluate(knn, shuffled, 'test', ks=(10,))['NDCG@10'] of the full ML-100K split")
    _prediction_note(prediction, expected)
    return ok
