"""What a recommender's output gives away about *when* its users are active: an attribute-inference attack.

An attacker who sees only a user's top-k list (or only the time gaps a model reads) trains a classifier to
guess the user's most active time of day. Its cross-validated accuracy, paired per user against always guessing
the commonest block, and the bits its probabilities gain over the block frequencies say how much the seen
output leaks beyond what the frequencies do.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import sparse

from tsrec.metrics import mean_ci
from tsrec.queries import QueryBatch
from tsrec.times import HOUR

C_GRID = (1e-4, 1e-3, 1e-2, 0.1, 1.0)  # the attacker's inverse regularisation strengths, chosen by inner CV

__all__ = ["active_block", "gap_histogram", "inference_accuracy", "last_event_hour", "leak_table", "multi_hot"]


def active_block(frame: pd.DataFrame, block_hours: int = 6) -> pd.Series:
    """Each user's most frequent time-of-day block of ``block_hours`` hours (UTC, block 0 starts at midnight),
    from the ``timestamp`` column; ties go to the earlier block."""
    if 24 % block_hours:
        raise ValueError(f"block_hours must divide 24, got {block_hours}")
    block = (frame["timestamp"].to_numpy() // HOUR % 24 // block_hours).astype(np.int64)
    counts = pd.crosstab(frame["user"].to_numpy(), block)
    return counts.idxmax(axis=1).rename("block")


def multi_hot(lists: Sequence[np.ndarray], n_columns: int) -> sparse.csr_matrix:
    """One row per list, a 1 in each column the list names: the attacker's view of a top-k list or history."""
    rows = np.repeat(np.arange(len(lists)), [len(v) for v in lists])
    cols = np.concatenate([np.asarray(v, np.int64) for v in lists]) if len(lists) else np.zeros(0, np.int64)
    m = sparse.csr_matrix((np.ones(len(cols), np.float32), (rows, cols)), shape=(len(lists), n_columns))
    m.data[:] = 1.0  # an item named twice is still one feature
    return m


def gap_histogram(batch: QueryBatch, max_len: int = 50, bins: Sequence[float] = (60, 600, HOUR, 6 * HOUR, 86400,
                                                                                   7 * 86400)) -> np.ndarray:
    """The share of each user's last ``max_len`` gaps between events in each bin of seconds: what a model's
    log-interval time encoding reads, without the items or the clock."""
    edges = np.asarray(bins, float)
    out = np.zeros((len(batch), len(edges) + 1), np.float32)
    for r, times in enumerate(batch.times):
        gaps = np.diff(np.asarray(times[-(max_len + 1):], float))
        if len(gaps):
            out[r] = np.bincount(np.searchsorted(edges, gaps, side="right"), minlength=len(edges) + 1) / len(gaps)
    return out


def last_event_hour(batch: QueryBatch) -> sparse.csr_matrix:
    """One-hot hour of day (UTC) of each user's latest event: what a log of request times would show."""
    last = [int(t[-1]) // HOUR % 24 if len(t) else 0 for t in batch.times]
    return multi_hot([np.array([h]) for h in last], 24)


def inference_accuracy(features: np.ndarray | sparse.spmatrix, labels: np.ndarray, folds: int = 5,
                       seed: int = 0) -> pd.DataFrame:
    """Per user, out of fold: whether a logistic regression (regularisation chosen by an inner cross-validation)
    guesses ``labels`` right from ``features``, whether the commonest label does (the attacker who sees nothing),
    and the bits the classifier's probability of the true label gains over the label frequencies."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    out = pd.DataFrame({"correct": False, "majority": False, "bits": 0.0}, index=range(len(y)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the weakest regularisations tried may not converge
        warnings.simplefilter("ignore", FutureWarning)  # scikit-learn 1.9's notice about its fitted attributes
        warnings.filterwarnings("ignore", message="The least populated class")  # small samples: rare blocks
        for fit, held in StratifiedKFold(folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y):
            clf = LogisticRegressionCV(Cs=C_GRID, cv=3, max_iter=300).fit(features[fit], y[fit])
            prior = np.bincount(y[fit], minlength=y.max() + 1) / len(fit)
            probs = clf.predict_proba(features[held])
            proba = probs[np.arange(len(held)), np.searchsorted(clf.classes_, y[held])]  # of the true label
            out.loc[held, "correct"] = clf.classes_[probs.argmax(1)] == y[held]
            out.loc[held, "majority"] = y[held] == prior.argmax()
            out.loc[held, "bits"] = np.log2(np.maximum(proba, 1e-12)) - np.log2(np.maximum(prior[y[held]], 1e-12))
    return out


def leak_table(results: dict[str, pd.DataFrame], reference: str) -> pd.DataFrame:
    """One row per attacker view: accuracy and its gain over the majority guess, the bits gained over the label
    frequencies, and the difference in bits from ``reference``'s view, each with a 95% interval paired over users."""
    rows = {}
    ref = results[reference]["bits"].to_numpy(float)
    for name, r in results.items():
        acc, base, bits = (r[c].to_numpy(float) for c in ("correct", "majority", "bits"))
        gain, info, diff = mean_ci(acc - base), mean_ci(bits), mean_ci(bits - ref)
        rows[name] = {"accuracy": acc.mean(), "majority guess": base.mean(), "gain": gain[0],
                      "gain ±95% (paired)": gain[1], "bits per user": info[0], "bits ±95%": info[1],
                      f"bits vs {reference}": diff[0], "±95% (paired)": diff[1]}
    return pd.DataFrame(rows).T
