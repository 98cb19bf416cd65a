"""Tests of tsrec.training.tuning: the search space, the pruning callback, a seeded study, its tables."""
from __future__ import annotations

import math

import optuna
import pytest

from tsrec.training import TrainConfig
from tsrec.training import tuning as T

TINY = T.SearchSpace(hidden=(8, 16), n_blocks=(1,), dropout=(0.0, 0.3), lr=(1e-3, 1e-2), max_len=(5, 10),
                     time_encoding=(None, "time2vec_now"))
CFG = TrainConfig(seed=0, epochs=3, patience=2, windows="last", progress=False, device="cpu")
SMALL = {"hidden": 8, "n_blocks": 1, "dropout": 0.1, "lr": 5e-3, "max_len": 10, "time_encoding": None}


def test_defaults_lie_inside_the_default_space():
    space = T.SearchSpace()
    d = T.DEFAULT_PARAMS
    assert d["hidden"] in space.hidden and d["n_blocks"] in space.n_blocks and d["max_len"] in space.max_len
    assert d["time_encoding"] in space.time_encoding
    assert space.dropout[0] <= d["dropout"] <= space.dropout[1] and space.lr[0] <= d["lr"] <= space.lr[1]


def test_build_uses_the_architecture_and_fit_the_learning_rate(split):
    model = T.build(split.n_items, {**SMALL, "time_encoding": "time2vec_now", "n_blocks": 1})
    assert model.max_len == 10 and model.item_emb.weight.shape == (split.n_items + 1, 8)
    assert len(model.blocks) == 1 and model.time_enc is not None
    _, result = T.fit(SMALL, split, CFG)
    assert result.config.lr == pytest.approx(5e-3) and result.config.seed == 0


def test_fit_is_reproducible_with_a_seed(split):
    a = T.fit(SMALL, split, CFG)[1].best_metrics["NDCG@10"]
    b = T.fit(SMALL, split, CFG)[1].best_metrics["NDCG@10"]
    assert a == b


def test_the_pruning_callback_reports_every_epoch_and_raises_when_told(split):
    class Trial:
        def __init__(self, prune_at):
            self.reports, self.attrs, self.prune_at = [], {}, prune_at

        def report(self, value, step):
            self.reports.append((step, value))

        def set_user_attr(self, k, v):
            self.attrs[k] = v

        def should_prune(self):
            return len(self.reports) >= self.prune_at

    keep = Trial(prune_at=99)
    T.fit(SMALL, split, CFG, validate=T.pruning_validator(keep, split))
    assert [s for s, _ in keep.reports] == list(range(1, len(keep.reports) + 1)) and keep.attrs["epochs"] >= 2
    assert all(0.0 <= v <= 1.0 for _, v in keep.reports)
    stop = Trial(prune_at=1)
    with pytest.raises(optuna.TrialPruned):
        T.fit(SMALL, split, CFG, validate=T.pruning_validator(stop, split))
    assert len(stop.reports) == 1


def test_a_seeded_study_starts_from_the_default_and_repeats(split):
    start = {**SMALL, "hidden": 16}
    a = T.tune(split, 4, CFG, TINY, seed=3, startup_trials=2, warmup_epochs=1, start_from=start)
    b = T.tune(split, 4, CFG, TINY, seed=3, startup_trials=2, warmup_epochs=1, start_from=start)
    fa, fb = T.trials_frame(a), T.trials_frame(b)
    assert len(fa) == 4 and fa.loc[0, "hidden"] == 16 and fa.loc[0, "max_len"] == 10
    assert fa.drop(columns=["value", "best so far"]).equals(fb.drop(columns=["value", "best so far"]))
    assert fa["value"].fillna(-1).tolist() == fb["value"].fillna(-1).tolist()
    done = fa[fa["state"] == "COMPLETE"]
    assert a.best_value == pytest.approx(done["value"].max())
    assert fa["best so far"].is_monotonic_increasing
    assert set(fa["state"]) <= {"COMPLETE", "PRUNED"}
    for _, row in fa.iterrows():
        assert TINY.hidden.count(row["hidden"]) == 1 or row["trial"] == 0
        assert TINY.dropout[0] <= row["dropout"] <= TINY.dropout[1] or row["trial"] == 0


def test_importances_name_the_searched_parameters_and_sum_to_one(split):
    study = T.tune(split, 5, CFG, TINY, seed=0, startup_trials=5, start_from=None)
    imp = T.importances(study, seed=0)
    assert set(imp.index) <= set(SMALL) and math.isclose(imp.sum(), 1.0, abs_tol=1e-6)
    assert imp.is_monotonic_decreasing


def test_bad_trial_counts_are_refused(split):
    with pytest.raises(ValueError, match="n_trials"):
        T.tune(split, 0, CFG, TINY)
