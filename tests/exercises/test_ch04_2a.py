"""Chapter 4.2a's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

from tsrec import data, exercises, splits


def test_prefix_samples_latest_small():
    df = data.load("ml-latest-small").interactions
    q = df["timestamp"].quantile([0.8, 0.9]).astype("int64").tolist()
    before = df[df["timestamp"] < q[1]]                   # every event before the test cut, counted another way
    right = len(before) - before["user"].nunique()
    assert exercises.ch04_2a_prefix_samples_latest_small(right)
    assert not exercises.ch04_2a_prefix_samples_latest_small(len(before))    # each user's first event is no target


def test_receptive_field():
    assert exercises.ch04_2a_receptive_field(1 + 2 * (1 + 2 + 4 + 8 + 16 + 32 + 64 + 128))
    assert not exercises.ch04_2a_receptive_field(1 + 1 + 4 + 16 + 64)       # dilations summed, not steps


def test_tisasrec_bucket():
    assert exercises.ch04_2a_tisasrec_bucket(600 // 60)   # r_u = 60 s, the smallest non-zero gap
    assert not exercises.ch04_2a_tisasrec_bucket(600 // 540)


def test_log_bucket():
    assert exercises.ch04_2a_log_bucket(11)                # 2 ** 11 <= 3601 < 2 ** 12
    assert not exercises.ch04_2a_log_bucket(12)


def test_shuffled_knn_judges_the_answer_and_reports_the_prediction(capsys):
    from tsrec.evaluate import evaluate
    from tsrec.models.knn import ItemKNN

    split = splits.leave_one_out(data.load("ml-100k").interactions)
    shuffled = splits.shuffle_train_order(split, 0)
    ndcg = {}
    for name, sp in (("in order", split), ("shuffled", shuffled)):
        knn = ItemKNN(100, time_decay_half_life=10).fit(sp.train, sp.n_users, sp.n_items)
        ndcg[name] = evaluate(knn, sp, "test", ks=(10,))["NDCG@10"]
    assert abs(ndcg["in order"] - ndcg["shuffled"]) > 1e-3
    assert exercises.ch04_2a_shuffled_knn(ndcg["shuffled"], prediction=0.05, half_life_seconds=10)
    assert "Your prediction 0.0500" in capsys.readouterr().out
    assert not exercises.ch04_2a_shuffled_knn(ndcg["in order"], half_life_seconds=10)   # the unshuffled split
