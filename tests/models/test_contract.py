"""The one contract every model of tsrec keeps, checked on every model the package has.

Each case is fitted on the same tiny seeded log (CPU, one or two epochs for the torch models, which become
Recommenders through ``tsrec.training.Trained``) and must: score a batch of queries as floats
``[B, n_items + 1]`` with column 0 ``-inf`` and no NaN; be ranked by ``tsrec.evaluate.evaluate`` without a
seen item ever entering a top-k list; and give identical scores when fitted twice with the same seed.
"""
from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable

import numpy as np
import pytest
import torch

import tsrec.models
from synthetic_logs import counting_log
from tsrec import evaluate as evaluation
from tsrec import metrics, splits
from tsrec.models import sequential as S
from tsrec.models.base import Recommender, Scorer
from tsrec.models.basket import BuyAgain, PromotionBoost, RepeatExplore
from tsrec.models.basket_ranker import TimeAwareBasket
from tsrec.models.content import ContentKNN, Hybrid
from tsrec.models.covisit import CoVisitation
from tsrec.models.freshness import FollowTopic, FreshVelocity
from tsrec.models.generative import GenerativeRecommender
from tsrec.models.knn import ItemKNN
from tsrec.models.mf import BPRMF
from tsrec.models.popularity import DecayedPopularity, Popularity, RecentPopularity
from tsrec.models.rating import BiasedMF, TimeSVDpp
from tsrec.queries import seen_mask
from tsrec.times import DAY, HOUR
from tsrec.training import MODELS, Trained

K = 10
TRAIN = {"epochs": 2, "batch_size": 8, "device": "cpu", "seed": 0}


def _features(n_items: int, dim: int = 6, seed: int = 0) -> np.ndarray:
    """Seeded item vectors [n_items + 1, dim] with a zero padding row (genres or text stand-ins)."""
    f = np.random.default_rng(seed).normal(size=(n_items + 1, dim)).astype(np.float32)
    f[0] = 0.0
    return f


def _feed_graph(n_users: int, n_items: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded authors [n_items + 1], topics [n_items + 1] and follows [n_users + 1, 5] for the feed models."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 5, n_items + 1), rng.integers(0, 3, n_items + 1), rng.random((n_users + 1, 5)) < 0.4


def _torch(build: Callable[[int, int], torch.nn.Module], **overrides) -> Trained:
    return Trained(build, **{**TRAIN, **overrides})


# name -> (the model classes the case covers, a factory of a fresh unfitted Recommender for the split)
CASES: dict[str, tuple[tuple[type, ...], Callable[[splits.Split], Recommender]]] = {
    "Popularity": ((Popularity,), lambda s: Popularity()),
    "RecentPopularity": ((RecentPopularity,), lambda s: RecentPopularity(6 * HOUR)),
    "DecayedPopularity": ((DecayedPopularity,), lambda s: DecayedPopularity(HOUR)),
    "ItemKNN": ((ItemKNN,), lambda s: ItemKNN(k_neighbors=10)),
    "ItemKNN-decay": ((ItemKNN,), lambda s: ItemKNN(k_neighbors=10, time_decay_half_life=DAY)),
    "CoVisitation": ((CoVisitation,), lambda s: CoVisitation(window=5, max_gap=DAY, half_life=HOUR)),
    "ContentKNN": ((ContentKNN,), lambda s: ContentKNN(_features(s.n_items), time_decay_half_life=DAY)),
    "FreshVelocity": ((FreshVelocity,), lambda s: FreshVelocity(np.zeros(s.n_items + 1), DAY)),
    "FollowTopic": ((FollowTopic,),
                    lambda s: FollowTopic(np.zeros(s.n_items + 1), *_feed_graph(s.n_users, s.n_items), DAY)),
    "BuyAgain": ((BuyAgain,), lambda s: BuyAgain(beta=1.0)),
    "RepeatExplore": ((RepeatExplore,), lambda s: RepeatExplore(BuyAgain(0.0), ItemKNN(k_neighbors=10), n_explore=2,
                                                                k=10)),
    "PromotionBoost": ((PromotionBoost,), lambda s: PromotionBoost(
        BuyAgain(0.0), {(7, 1): np.array([1, 2]), (7, 2): np.array([3])}, np.array([0, 10 * DAY]),
        np.full(s.n_users + 1, 7), weight=1.0)),
    "TimeAwareBasket": ((TimeAwareBasket,), lambda s: TimeAwareBasket(_features(s.n_items), label_window=6 * HOUR,
                                                                      negative_rate=0.5)),
    "LRURec": ((S.LRURec,), lambda s: _torch(lambda nu, ni: S.LRURec(ni, max_len=8, hidden=8))),
    "Hybrid": ((Hybrid,), lambda s: Hybrid([Popularity(), ItemKNN(k_neighbors=10)], weights=(0.3, 0.7))),
    "GRU4Rec": ((S.GRU4Rec,), lambda s: _torch(lambda nu, ni: S.GRU4Rec(ni, max_len=8, hidden=8))),
    "LSTM4Rec": ((S.LSTM4Rec,), lambda s: _torch(lambda nu, ni: S.LSTM4Rec(ni, max_len=8, hidden=8))),
    "NextItNet": ((S.NextItNet,), lambda s: _torch(lambda nu, ni: S.NextItNet(ni, max_len=8, hidden=8,
                                                                              dilations=(1, 2)))),
    "SASRec": ((S.SASRec,), lambda s: _torch(lambda nu, ni: S.SASRec(ni, max_len=8, hidden=8, n_blocks=1,
                                                                     time_encoding="time2vec_now"))),
    "TiSASRec": ((S.TiSASRec,), lambda s: _torch(lambda nu, ni: S.TiSASRec(ni, max_len=8, hidden=8, n_blocks=1))),
    "DPSASRec": ((S.DPSASRec,), lambda s: _torch(lambda nu, ni: S.DPSASRec(ni, max_len=8, hidden=8, n_blocks=1))),
    "TimeSensitiveModel": ((S.TimeSensitiveModel,),
                           lambda s: _torch(lambda nu, ni: S.TimeSensitiveModel(ni, nu, max_len=8, embedding_dim=8,
                                                                                hidden_dim=8))),
    "HybridSASRec": ((S.HybridSASRec,),
                     lambda s: _torch(lambda nu, ni: S.HybridSASRec(ni, text_dim=6, max_len=8, hidden=8, n_blocks=1,
                                                                    text=_features(ni)))),
    "GenerativeRecommender": ((GenerativeRecommender,),
                              lambda s: _torch(lambda nu, ni: GenerativeRecommender(ni, time_tokens=True, max_len=8,
                                                                                    n_layer=1, n_embd=16, n_head=2))),
    "BPRMF": ((BPRMF,), lambda s: _torch(lambda nu, ni: BPRMF(nu, ni, dim=8, seed=0))),
    "BiasedMF": ((BiasedMF,), lambda s: _torch(lambda nu, ni: BiasedMF(nu, ni, dim=4, seed=0))),
    "TimeSVDpp": ((TimeSVDpp,), lambda s: _torch(lambda nu, ni: TimeSVDpp(nu, ni, dim=4, n_bins=3, seed=0))),
}

# learns from the log whether bought items come back; on the counting log they never do, so it ranks them last
LEARNS_REPEATS = {"TimeAwareBasket"}
BASES = {"SequentialRecommender", "RatingModel"}  # shared machinery, not models of their own


def model_classes() -> set[type]:
    """Every public model class of tsrec.models: Recommenders and torch Scorers, bases left out."""
    found = set()
    for info in pkgutil.walk_packages(tsrec.models.__path__, "tsrec.models."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and obj.__module__ == module.__name__ and issubclass(obj, Scorer)
                    and not inspect.isabstract(obj) and not name.startswith("_") and name not in BASES):
                found.add(obj)
    return found


@pytest.fixture(scope="module")
def split() -> splits.Split:
    log = counting_log(n_users=16, n_items=24, length=9, seed=3)
    log["rating"] = np.random.default_rng(3).integers(1, 6, len(log)).astype(np.float32)
    return splits.leave_one_out(log)


def test_every_model_class_and_every_registered_model_has_a_contract_case():
    covered = {cls for classes, _ in CASES.values() for cls in classes}
    assert {MODELS[name] for name in MODELS} <= covered, "a registered model has no contract case"
    assert model_classes() == covered, f"models without a case: {model_classes() - covered}"


def _fitted(case: str, split: splits.Split) -> Recommender:
    model = CASES[case][1](split)
    assert isinstance(model, Recommender)
    assert model.fit(split.train, split.n_users, split.n_items) is model
    return model


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_contract(case, split, monkeypatch):
    model = _fitted(case, split)
    queries, _ = evaluation.eval_queries(split, "test")

    # scores: floats [B, n_items + 1], column 0 = -inf, no NaN
    scores = model.score(queries)
    assert isinstance(scores, torch.Tensor) and scores.is_floating_point()
    assert scores.shape == (len(queries), split.n_items + 1)
    assert torch.isneginf(scores[:, 0]).all(), "column 0 (padding) must be -inf"
    assert not torch.isnan(scores).any()

    # the evaluator never puts an item of the query's history into a top-k list
    lists = []

    def spy(s, mask=None, k=10):
        top = real_topk(s, mask, k)
        lists.append(top)
        return top

    real_topk = metrics.topk_items
    monkeypatch.setattr(metrics, "topk_items", spy)
    out = evaluation.evaluate(model, split, "test", ks=(K,))
    monkeypatch.undo()
    top = torch.cat(lists).numpy()
    assert top.shape == (len(queries), K) and out["users"] == len(queries)
    for row, history in zip(top, queries.items):
        assert not set(row.tolist()) & set(history.tolist()), "a seen item was ranked into the top-k"
        assert 0 not in row and len(set(row.tolist())) == K  # enough unseen items for a full list
    assert all(np.isfinite(out[key]) for key in (f"HR@{K}", f"NDCG@{K}", "AUC"))
    unmasked = metrics.topk_items(scores, None, K).numpy()  # not vacuous: unmasked, seen items would be listed
    assert any(set(row.tolist()) & set(h.tolist()) for row, h in zip(unmasked, queries.items)) or \
        case in LEARNS_REPEATS
    # ... and neither does the model's own recommend
    recs = model.recommend(queries, k=K)
    np.testing.assert_array_equal(recs, metrics.topk_items(scores, seen_mask(queries, scores.shape[1]), K).numpy())

    # determinism: a second fit with the same seed scores identically
    again = _fitted(case, split).score(queries)
    torch.testing.assert_close(again, scores, rtol=0, atol=0)
