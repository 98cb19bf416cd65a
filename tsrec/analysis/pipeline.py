"""Chapter 5's pipeline: the book's pseudo-code ``TimeSensitiveModeling(data, labels, parameters)`` made real.

    preprocessData -> createTimeSeriesFeatures -> trainModel -> evaluateModel -> optimizeModel -> return model

The model it fits is the chapter's time-aware, text-aware recommender: a z-scored blend of three scorers that
each look at time in their own way, with weights searched on validation (``TimeTextSettings``):

    s(u, j) = w_c z(CoVisitation) + w_k z(time-decayed item-kNN) + w_t z(time-decayed MiniLM text profile)

Every setting is chosen on validation; the chosen model is then refitted on train + validation (the data seen
before test) and scored once on test, next to popularity, chapter 4.1's tuned item-kNN and the CoVisitation + kNN
blend.
"""
from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch

from tsrec import prep, splits
from tsrec.analysis.baselines import COVISITATION_GRID, KNN_HALF_LIVES, tune_baselines, tune_covisitation
from tsrec.data import Dataset
from tsrec.evaluate import eval_queries, evaluate, validation_value
from tsrec.metrics import clustered_mean_ci, mean_ci, per_user_rank_metrics, target_ranks
from tsrec.models.base import Recommender
from tsrec.models.content import ContentKNN, Hybrid, normalise_scores
from tsrec.models.covisit import CoVisitation
from tsrec.models.knn import ItemKNN
from tsrec.models.popularity import Popularity
from tsrec.queries import seen_mask
from tsrec.splits import Split

__all__ = ["BLEND_GRID", "COMPONENTS", "CachedValidation", "LABELS", "PipelineConfig", "PipelineReport",
           "TimeSensitiveModeling", "TimeTextSettings", "comparison_models", "create_time_series_features",
           "evaluate_model", "gaps_since_previous", "make_split", "optimize_model", "paired_table", "preprocess_data",
           "search_weights", "train_model"]

COMPONENTS = ("CoVisitation", "item-kNN", "text")  # the blend's parts, in the order of its weights
LABELS = ("global", "leave-one-out")  # which events are the targets: the last share of time, or each user's last
TEXT_HALF_LIVES = (3.0, 10.0, 60.0, 600.0, 3600.0)  # seconds: the text profile's history half-lives tried on validation
BLEND_GRID = tuple(np.round(np.linspace(0, 1, 11), 2))  # CoVisitation's weight in the baseline blend with the kNN


@dataclass(frozen=True)
class PipelineConfig:
    """The pipeline's ``parameters``: cleaning, the split, the grids searched on validation and the search budget.

    ``encoder=None`` leaves the text part out; ``use_time=False`` removes every time weight (the no-time
    ablation); ``refit=False`` scores test with the models fitted on train only.
    """

    min_time: str = "1990-01-01"
    kcore: int = 0  # keep users and items with at least this many events (0: keep all; LlamaRec uses 5)
    valid_share: float = 0.1
    test_share: float = 0.1
    metric: str = "NDCG@10"
    knn_half_lives: tuple[float, ...] = KNN_HALF_LIVES
    covisitation_grid: dict = field(default_factory=lambda: dict(COVISITATION_GRID))
    text_half_lives: tuple[float, ...] = TEXT_HALF_LIVES
    n_trials: int = 40  # Optuna trials of the blend-weight search
    search_queries: int = 2000  # validation queries (sampled) whose scores the weight search caches
    encoder: str | None = "all-MiniLM-L6-v2"
    use_time: bool = True
    refit: bool = True
    seed: int = 0

    def check(self) -> None:
        """ValueError naming the first setting out of range."""
        if not isinstance(self.n_trials, int) or self.n_trials < 1:
            raise ValueError(f"n_trials must be an int >= 1, got {self.n_trials!r}")
        if not isinstance(self.search_queries, int) or self.search_queries < 10:
            raise ValueError(f"search_queries must be an int >= 10, got {self.search_queries!r}")
        if not self.metric.startswith(("NDCG@", "HR@")):
            raise ValueError(f"metric must be 'NDCG@k' or 'HR@k', got {self.metric!r}")


@dataclass(frozen=True)
class TimeTextSettings:
    """What validation chose for the three parts, and the blend's weights (CoVisitation, item-kNN, text)."""

    covisitation: dict
    knn_half_life: float
    text_half_life: float
    weights: tuple[float, float, float] = (1.0, 1.0, 1.0)
    k_neighbors: int = 100

    def components(self, text: np.ndarray | None, use_time: bool = True) -> list[Recommender]:
        """Fresh (unfitted) parts; without time every history event weighs the same and no gap is too long."""
        cov = self.covisitation if use_time else {**self.covisitation, "half_life": math.inf, "max_gap": math.inf}
        parts: list[Recommender] = [CoVisitation(**cov),
                                    ItemKNN(self.k_neighbors, time_decay_half_life=self.knn_half_life if use_time
                                            else None)]
        if text is not None:
            parts.append(ContentKNN(text, self.text_half_life if use_time else None))
        return parts

    def build(self, text: np.ndarray | None, use_time: bool = True, without: str | None = None) -> Hybrid:
        """The chapter's model (unfitted); ``without`` one of COMPONENTS drops that part (an ablation)."""
        parts = self.components(text, use_time)
        weights = [0.0 if name == without else w for name, w in zip(COMPONENTS, self.weights)][:len(parts)]
        return Hybrid(parts, weights, norm="zscore")


@dataclass
class PipelineReport:
    """What each step did: cleaning, the split, the case's facts, the validation of every setting tried, the
    weight search's trials, the test table (with paired intervals against the tuned kNN) and per-query ranks."""

    cleaning: prep.CleanReport
    split: Split
    target: str
    facts: dict
    tuning: dict[str, pd.DataFrame]
    settings: TimeTextSettings
    trials: pd.DataFrame
    results: pd.DataFrame
    ranks: pd.DataFrame  # one row per test query: user, target, and each model's rank (column per model)
    text: np.ndarray | None = None  # the MiniLM item vectors the text part used
    seconds: dict[str, float] = field(default_factory=dict)


def preprocess_data(data: Dataset, parameters: PipelineConfig) -> tuple[pd.DataFrame, prep.CleanReport]:
    """preprocessData: drop broken rows (``prep.clean``) and, when asked, keep a k-core."""
    frame, report = prep.clean(data.interactions, min_time=parameters.min_time)
    if parameters.kcore:
        frame = prep.kcore(frame, parameters.kcore, parameters.kcore)
    return frame, report


def make_split(frame: pd.DataFrame, labels: str, parameters: PipelineConfig) -> tuple[Split, str]:
    """The split whose targets are the labels, and the evaluation target ('all' events or each user's 'first')."""
    if labels == "global":
        return splits.temporal_split_by_share(frame, parameters.valid_share, parameters.test_share), "all"
    if labels == "leave-one-out":
        return splits.leave_one_out(frame), "first"
    raise ValueError(f"labels must be one of {LABELS}, got {labels!r}")


def gaps_since_previous(interactions: pd.DataFrame) -> pd.Series:
    """Seconds between each event and the same user's previous one (first events left out)."""
    log = interactions.sort_values(["user", "timestamp"], kind="stable")
    return log.groupby("user")["timestamp"].diff().dropna().rename("gap (s)")


def create_time_series_features(split: Split, items: pd.DataFrame, parameters: PipelineConfig,
                                show_progress: bool = False) -> tuple[np.ndarray | None, dict]:
    """createTimeSeriesFeatures: MiniLM item-text vectors (None without an encoder) and the facts that shape the
    model: how soon a user's next event follows the previous one, and how many targets training never saw."""
    text = None
    if parameters.encoder is not None:
        from tsrec.llm import TextEncoder, item_text_embeddings

        text = item_text_embeddings(split, items, TextEncoder(parameters.encoder), show_progress=show_progress)
    gaps = gaps_since_previous(pd.concat([split.train, split.valid, split.test]))
    known = set(split.history("test")["item"])
    facts = {"gap_within_minute": float((gaps <= 60).mean()), "gap_within_hour": float((gaps <= 3600).mean()),
             "cold_target_share": float((~split.test["item"].isin(known)).mean()),
             "new_user_share": float((~split.test["user"].isin(set(split.history("test")["user"]))).mean())}
    return text, facts


def train_model(split: Split, text: np.ndarray | None, target: str, parameters: PipelineConfig
                ) -> tuple[TimeTextSettings, dict[str, pd.DataFrame]]:
    """trainModel: fit each part on train and choose its settings on validation (the kNN's and the text
    profile's half-lives over their grids, CoVisitation's by coordinate search); every value tried."""
    metric = parameters.metric
    knn = tune_baselines(split, target, parameters.knn_half_lives, windows=(), metric=metric)
    cov, cov_tried = tune_covisitation(split, target, metric, parameters.covisitation_grid)
    text_tried = pd.Series(dtype=float)
    if text is not None:
        hist = split.history("valid")
        text_tried = pd.Series({h: validation_value(ContentKNN(text, h).fit(hist, split.n_users, split.n_items), split,
                                                    metric, target) for h in parameters.text_half_lives})
    settings = TimeTextSettings(cov, knn.knn_half_life,
                                float(text_tried.idxmax()) if len(text_tried) else TEXT_HALF_LIVES[0])
    return settings, {"item-kNN": knn.validation.loc["item-kNN half-life"], "CoVisitation": cov_tried,
                      "text": text_tried.rename(f"validation {metric}").to_frame()}


class CachedValidation:
    """Z-scored scores of fitted ``models`` for ``n_queries`` sampled validation queries, computed once, so that
    the validation value of any blend of them costs one weighted sum."""

    def __init__(self, models: Sequence[Recommender], split: Split, target: str, n_queries: int = 2000,
                 metric: str = "NDCG@10", seed: int = 0) -> None:
        queries, targets = eval_queries(split, "valid", target)
        rows = np.sort(np.random.default_rng(seed).choice(len(queries), min(n_queries, len(queries)), replace=False))
        batch = queries[rows]
        self.targets = torch.as_tensor(targets[rows], dtype=torch.long)
        self.mask = seen_mask(batch, split.n_items + 1)
        with torch.inference_mode():
            self.scores = [normalise_scores(torch.as_tensor(m.score(batch)).float(), ~self.mask).float()
                           for m in models]
        self.metric, self.k = metric, int(metric.split("@")[1])

    def value(self, weights: Sequence[float]) -> float:
        """Mean validation metric of the blend sum_i weights[i] * z_i."""
        total = sum(w * s for w, s in zip(weights, self.scores))
        ranks = target_ranks(total, self.targets, self.mask)
        return float(per_user_rank_metrics(ranks, self.k)[self.metric].mean())


def search_weights(cache: CachedValidation, n_trials: int = 40, seed: int = 0) -> tuple[tuple, pd.DataFrame]:
    """Blend weights (each in [0, 1]) chosen by an Optuna TPE study on cached validation scores; the first trial
    is the equal-weight blend. The best weights and every trial (weights and validation value)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    names = [f"w{i}" for i in range(len(cache.scores))]
    study.enqueue_trial(dict.fromkeys(names, 1.0))
    study.optimize(lambda t: cache.value([t.suggest_float(n, 0.0, 1.0) for n in names]), n_trials=n_trials)
    frame = pd.DataFrame([{**t.params, f"validation {cache.metric}": t.value} for t in study.trials])
    return tuple(float(study.best_params[n]) for n in names), frame


def optimize_model(split: Split, text: np.ndarray | None, target: str, settings: TimeTextSettings,
                   parameters: PipelineConfig) -> tuple[TimeTextSettings, pd.DataFrame, pd.Series]:
    """optimizeModel: search the blend's weights on validation (parts fitted on train); on the same cached
    queries, the weight w of the CoVisitation + kNN baseline blend (w, 1 - w) over BLEND_GRID."""
    hist = split.history("valid")
    parts = [m.fit(hist, split.n_users, split.n_items) for m in settings.components(text, parameters.use_time)]
    cache = CachedValidation(parts, split, target, parameters.search_queries, parameters.metric, parameters.seed)
    weights, trials = search_weights(cache, parameters.n_trials, parameters.seed)
    trials.columns = [*COMPONENTS[:len(parts)], trials.columns[-1]]
    blend = pd.Series({w: cache.value((w, 1 - w)) for w in BLEND_GRID}, name=f"validation {parameters.metric}")
    return replace(settings, weights=(*weights, 0.0)[:3]), trials, blend


def evaluate_model(models: dict[str, Recommender], split: Split, target: str, stage: str = "test",
                   fit: bool = True) -> pd.DataFrame:
    """evaluateModel: each model's rank of every ``stage`` target (fitted first on what precedes the stage)."""
    out = None
    for label, m in models.items():
        if fit:
            m.fit(split.history(stage), split.n_users, split.n_items)
        _, pq = evaluate(m, split, stage, ks=(10,), target=target, per_user=True)
        out = pq.rename(columns={"rank": label}) if out is None else out.assign(**{label: pq["rank"].to_numpy()})
    return out


def comparison_models(settings: TimeTextSettings, text: np.ndarray | None, blend_weight: float,
                      use_time: bool = True) -> dict[str, Recommender]:
    """The test table's models, unfitted: popularity, the tuned kNN, CoVisitation, their blend with
    CoVisitation's weight ``blend_weight``, and the time-text model."""
    cov, knn = settings.components(None)
    return {"popularity": Popularity(), "item-kNN (tuned)": knn, "CoVisitation (tuned)": cov,
            "CoVisitation + kNN blend": Hybrid(settings.components(None), (blend_weight, 1 - blend_weight),
                                               norm="zscore"),
            "time-text model": settings.build(text, use_time)}


def paired_table(ranks: pd.DataFrame, reference: str, clustered: bool, k: int = 10) -> pd.DataFrame:
    """NDCG@k and HR@k of every model column of ``ranks`` and its paired difference in NDCG@k to ``reference``
    (95% interval over queries, clustered by user when ``clustered``)."""
    users = ranks["user"].to_numpy()
    ndcg = {c: per_user_rank_metrics(ranks[c].to_numpy(), k) for c in ranks.columns if c not in ("user", "target")}
    rows = []
    for label, m in ndcg.items():
        diff = m[f"NDCG@{k}"] - ndcg[reference][f"NDCG@{k}"]
        d, h = clustered_mean_ci(diff, users) if clustered else mean_ci(diff)
        rows.append({"model": label, f"NDCG@{k}": float(m[f"NDCG@{k}"].mean()), f"HR@{k}": float(m[f"HR@{k}"].mean()),
                     "diff": d, "ci": h, "relative": d / float(ndcg[reference][f"NDCG@{k}"].mean())})
    return pd.DataFrame(rows).set_index("model")


def TimeSensitiveModeling(data: Dataset, labels: str, parameters: PipelineConfig | None = None,  # noqa: N802
                          show_progress: bool = False) -> tuple[Hybrid, PipelineReport]:
    """The book's pseudo-code: preprocessData, createTimeSeriesFeatures, trainModel, evaluateModel,
    optimizeModel; returns the fitted model (refitted on the data seen before test) and the report.

    ``data`` holds interactions and item text; ``labels`` says which events are the targets ("global": every
    event of the last share of time, predicted from all earlier events; "leave-one-out": each user's last);
    ``parameters`` is one ``PipelineConfig``."""
    parameters = parameters or PipelineConfig()
    parameters.check()
    clock = {"start": time.perf_counter()}
    frame, cleaning = preprocess_data(data, parameters)
    split, target = make_split(frame, labels, parameters)
    text, facts = create_time_series_features(split, data.items, parameters, show_progress)
    clock["features"] = time.perf_counter()
    settings, tuning = train_model(split, text, target, parameters)
    clock["train"] = time.perf_counter()
    settings, trials, blend = optimize_model(split, text, target, settings, parameters)
    clock["optimize"] = time.perf_counter()
    models = comparison_models(settings, text, float(blend.idxmax()), parameters.use_time)
    model = models["time-text model"]
    stage_history = split.history("test") if parameters.refit else split.train
    for m in models.values():
        m.fit(stage_history, split.n_users, split.n_items)
    ranks = evaluate_model(models, split, target, fit=False)
    results = paired_table(ranks, "item-kNN (tuned)", clustered=target == "all")
    clock["evaluate"] = time.perf_counter()
    seconds = {step: clock[step] - clock[prev] for prev, step in
               zip(["start", "features", "train", "optimize"], ["features", "train", "optimize", "evaluate"])}
    tuning["blend"] = blend.to_frame()
    return model, PipelineReport(cleaning, split, target, facts, tuning, settings, trials, results, ranks, text,
                                 seconds)
