"""Rating models trained on the book's objective: biased MF and timeSVD++, both ``nn.Module`` s.

``BiasedMF`` (Koren, Bell & Volinsky 2009) and ``TimeSVDpp`` (Koren, KDD 2009) predict ratings and minimise
exactly the original's J(theta) = 1/2 sum (y - y_hat)^2 + lambda sum theta^2, with the global mean mu fixed to
the training mean (it is not a parameter, so it is not shrunk). ``prepare(train)`` sets the data-dependent
constants and the initial parameters; ``tsrec.training.train`` minimises J (full batch by default) with early
stopping on validation RMSE. They score all items by predicted rating, so they can be ranked too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike
from torch import nn

from tsrec.metrics import mae, rmse
from tsrec.models.base import Scorer, check_batch_users, check_fitted, check_interactions
from tsrec.queries import QueryBatch
from tsrec.times import DAY

__all__ = ["RatingModel", "BiasedMF", "TimeSVDpp"]


class RatingModel(nn.Module, Scorer):
    """Shared machinery: parameters theta, the book's objective J, predictions at a time, RMSE and MAE."""

    name = "rating-model"
    objective_metric = ("RMSE", "min")  # what validation minimises in tsrec.training

    def __init__(self, n_users: int, n_items: int, dim: int = 32, reg: float = 1.0, init_std: float = 0.1,
                 seed: int = 0, clip: bool = True) -> None:
        nn.Module.__init__(self)
        for name, v in (("n_users", n_users), ("n_items", n_items)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not isinstance(dim, (int, np.integer)) or dim < 0:
            raise ValueError(f"dim must be an int >= 0, got {dim!r}")
        if reg < 0:
            raise ValueError(f"reg must be >= 0, got {reg!r}")
        self.n_users, self.n_items, self.dim, self.reg = int(n_users), int(n_items), int(dim), float(reg)
        self.init_std, self.seed, self.clip = float(init_std), int(seed), bool(clip)
        self.params = nn.ParameterDict()
        self.mu: float | None = None

    @property
    def device(self) -> torch.device:
        return next(iter(self.params.values())).device if len(self.params) else torch.device("cpu")

    # ---------------------------------------------------------------- to implement
    def _init_params(self, train: pd.DataFrame, g: torch.Generator) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _prepare(self, train: pd.DataFrame) -> None:
        """Precompute data-dependent constants (time bins, user mean dates, implicit sets)."""

    def _forward(self, u: torch.Tensor, i: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def prepare(self, train: pd.DataFrame) -> RatingModel:
        """Fix mu to the training mean, set the constants of ``train`` and draw the initial parameters (seeded)."""
        check_interactions(train, self.n_users, self.n_items, rating=True)
        y = train["rating"].to_numpy(dtype=np.float64)
        self.mu = float(y.mean())
        self.rating_range = (float(y.min()), float(y.max()))
        self._prepare(train)
        g = torch.Generator().manual_seed(self.seed)
        self.params = nn.ParameterDict({k: nn.Parameter(v) for k, v in self._init_params(train, g).items()})
        return self

    def loss(self, u: torch.Tensor, i: torch.Tensor, t: torch.Tensor, y: torch.Tensor, share: float = 1.0
             ) -> torch.Tensor:
        """1/2 sum (y - y_hat)^2 over a batch + lambda * share * sum theta^2, ``share`` = the batch's share of all
        ratings: over one epoch the batches sum to J(theta)."""
        return 0.5 * (y - self._forward(u, i, t)).pow(2).sum() + self.reg * share * self.penalty()

    # ---------------------------------------------------------------- helpers
    def _randn(self, g: torch.Generator, *shape: int, seen: np.ndarray | None = None) -> torch.Tensor:
        """Small random rows; rows of padding and of ids absent from training start (and stay) at 0.

        Their optimum under J is exactly 0 (only the penalty touches them); starting there also avoids the
        jitter around 0 that Adam's sign-like steps would otherwise leave on cold users and items.
        """
        x = torch.randn(*shape, generator=g) * self.init_std
        x[0] = 0.0
        if seen is not None:
            x[torch.as_tensor(~seen)] = 0.0
        return x

    def _seen(self, train: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Bool masks of users and items that occur in the training frame."""
        su = np.zeros(self.n_users + 1, dtype=bool)
        si = np.zeros(self.n_items + 1, dtype=bool)
        su[train["user"].to_numpy(dtype=np.int64)] = True
        si[train["item"].to_numpy(dtype=np.int64)] = True
        return su, si

    def tensors(self, df: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        check_interactions(df, self.n_users, self.n_items, rating=True, what="ratings")
        d = self.device
        return (torch.tensor(df["user"].to_numpy(dtype=np.int64), device=d),
                torch.tensor(df["item"].to_numpy(dtype=np.int64), device=d),
                torch.tensor(df["timestamp"].to_numpy(dtype=np.float64), device=d),
                torch.tensor(df["rating"].to_numpy(dtype=np.float32), device=d))

    def penalty(self) -> torch.Tensor:
        """sum theta^2 over every learned parameter (mu is fixed, not learned)."""
        return sum(p.pow(2).sum() for p in self.params.values())

    def objective(self, df: pd.DataFrame) -> torch.Tensor:
        """The book's J(theta) = 1/2 sum (y - y_hat)^2 + lambda sum theta^2 on ``df`` (unclipped predictions)."""
        check_fitted(self, "mu")
        u, i, t, y = self.tensors(df)
        return 0.5 * (y - self._forward(u, i, t)).pow(2).sum() + self.reg * self.penalty()

    # ---------------------------------------------------------------- prediction
    def _check_ids(self, users: ArrayLike, items: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        check_fitted(self, "mu")
        u = check_batch_users(np.atleast_1d(np.asarray(users)), self.n_users)
        i = np.atleast_1d(np.asarray(items))
        if i.dtype.kind not in "iu" or ((i < 1) | (i > self.n_items)).any():
            raise ValueError(f"item ids must be integers in 1..{self.n_items} (encoded with the training IdMap)")
        if len(u) != len(i):
            raise ValueError(f"users and items must have the same length, got {len(u)} and {len(i)}")
        return u, i.astype(np.int64)

    def predict(self, users: ArrayLike, items: ArrayLike, times: ArrayLike | None = None,
                history: pd.DataFrame | None = None) -> np.ndarray:
        """Predicted ratings for (user, item[, time]) pairs, clipped to the training rating range if ``clip``.

        ``history`` (user, item, timestamp; no ratings needed) is the log a live system has seen since
        training; models with implicit feedback (TimeSVDpp) use each user's items from before each time.
        """
        u, i = self._check_ids(users, items)
        t = self._times(times, len(u))
        with torch.no_grad():
            p = self._predict_tensor(torch.as_tensor(u, device=self.device), torch.as_tensor(i, device=self.device),
                                     torch.as_tensor(t, device=self.device), history)
        out = p.double().cpu().numpy()
        return np.clip(out, *self.rating_range) if self.clip else out

    def _predict_tensor(self, u: torch.Tensor, i: torch.Tensor, t: torch.Tensor,
                        history: pd.DataFrame | None) -> torch.Tensor:
        return self._forward(u, i, t)

    def _times(self, times: ArrayLike | None, n: int) -> np.ndarray:
        if times is None:
            return np.zeros(n, dtype=np.float64)
        t = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if len(t) != n or np.isnan(t).any():
            raise ValueError(f"times must be {n} numbers without NaN")
        return t

    def rating_metrics(self, df: pd.DataFrame, history: pd.DataFrame | None = None) -> dict[str, float]:
        """RMSE and MAE of the predictions on a frame with user, item, timestamp, rating (``history``: see predict)."""
        check_interactions(df, self.n_users, self.n_items, rating=True, what="ratings")
        pred = self.predict(df["user"].to_numpy(), df["item"].to_numpy(), df["timestamp"].to_numpy(), history=history)
        y = df["rating"].to_numpy(dtype=np.float64)
        return {"RMSE": rmse(y, pred), "MAE": mae(y, pred)}

    def score(self, batch: QueryBatch) -> torch.Tensor:
        """Predicted rating of every item for each query at its time ``now`` (column 0 = padding, -inf)."""
        check_fitted(self, "mu")
        u = check_batch_users(batch.users, self.n_users)
        ut = torch.as_tensor(u, device=self.device)
        now = torch.as_tensor(np.asarray(batch.now, dtype=np.float64), device=self.device)
        with torch.no_grad():
            s = self._score_matrix(ut, now, batch)
        s = s.float().cpu()
        s[:, 0] = float("-inf")
        return s

    def _score_matrix(self, u: torch.Tensor, now: torch.Tensor, batch: QueryBatch) -> torch.Tensor:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"dim={self.dim}, reg={self.reg:g}"



class BiasedMF(RatingModel):
    """y_hat = mu + b_u + b_i + p_u . q_i (Koren, Bell & Volinsky 2009), minimising the book's J(theta)."""

    name = "BiasedMF"

    def _init_params(self, train: pd.DataFrame, g: torch.Generator) -> dict[str, torch.Tensor]:
        su, si = self._seen(train)
        return {"b_u": torch.zeros(self.n_users + 1), "b_i": torch.zeros(self.n_items + 1),
                "P": self._randn(g, self.n_users + 1, self.dim, seen=su),
                "Q": self._randn(g, self.n_items + 1, self.dim, seen=si)}

    def _forward(self, u: torch.Tensor, i: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        p = self.params
        return self.mu + p["b_u"][u] + p["b_i"][i] + (p["P"][u] * p["Q"][i]).sum(-1)

    def _score_matrix(self, u: torch.Tensor, now: torch.Tensor, batch: QueryBatch) -> torch.Tensor:
        p = self.params
        return self.mu + p["b_u"][u][:, None] + p["b_i"][None, :] + p["P"][u] @ p["Q"].T


class TimeSVDpp(RatingModel):
    """timeSVD++ (Koren, KDD 2009), simplified: drifting user bias, time-binned item bias, SVD++ implicit term.

    y_hat(u, i, t) = mu + b_u + alpha_u dev_u(t) + b_i + b_{i,Bin(t)} + q_i . (p_u + |N(u)|^-1/2 sum_{j in N(u)} y_j)
    with dev_u(t) = sign(t - t_u) |t - t_u|^beta in days (t_u = the user's mean training date) and
    ``n_bins`` equal-width bins over the training period (later times fall in the last bin). N(u) are the
    user's training items (``predict``) or the query's history (``score``): never items from after ``now``.
    Left out from the paper: the day-specific user bias b_{u,t} and c_u(t) scaling, and time-varying p_u(t)
    (useless for days never seen in training, which is every test day under a global time split).
    ``dev_clip`` holds dev_u(t) at its value on the user's first/last training day outside their training
    period: extrapolated years ahead, the power law would let the bias drift on with no rating to support it.
    """

    name = "timeSVD++"

    def __init__(self, n_users: int, n_items: int, dim: int = 32, reg: float = 1.0, n_bins: int = 30,
                 beta: float = 0.4, dev_clip: bool = True, **kwargs) -> None:
        super().__init__(n_users, n_items, dim=dim, reg=reg, **kwargs)
        if not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
            raise ValueError(f"n_bins must be a positive int, got {n_bins!r}")
        self.n_bins, self.beta, self.dev_clip = int(n_bins), float(beta), bool(dev_clip)

    def _prepare(self, train: pd.DataFrame) -> None:
        ts = train["timestamp"].to_numpy(dtype=np.float64)
        self.t_min, self.t_max = float(ts.min()), float(ts.max())
        users = train["user"].to_numpy(dtype=np.int64)
        cnt = np.bincount(users, minlength=self.n_users + 1).astype(np.float64)
        days = ts / DAY
        mean_day = np.bincount(users, weights=days, minlength=self.n_users + 1) / np.maximum(cnt, 1.0)
        first_day = np.full(self.n_users + 1, np.inf)
        last_day = np.full(self.n_users + 1, -np.inf)
        np.minimum.at(first_day, users, days)
        np.maximum.at(last_day, users, days)
        self._first_day = torch.as_tensor(np.where(cnt > 0, first_day, 0.0), device=self.device)
        self._last_day = torch.as_tensor(np.where(cnt > 0, last_day, 0.0), device=self.device)
        self._has_user = torch.as_tensor(cnt > 0, device=self.device)
        self._mean_day = torch.as_tensor(mean_day, device=self.device)
        # normalised implicit-feedback matrix N [n_users + 1, n_items + 1], rows scaled by |N(u)|^-1/2
        pairs = np.unique(users * (self.n_items + 1) + train["item"].to_numpy(dtype=np.int64))
        self._implicit = self._implicit_matrix(pairs // (self.n_items + 1), pairs % (self.n_items + 1),
                                               self.n_users + 1)
        self._train_log = train[["user", "item", "timestamp"]].copy()

    def _implicit_matrix(self, rows: np.ndarray, cols: np.ndarray, n_rows: int) -> torch.Tensor:
        n_per = np.bincount(rows, minlength=n_rows).astype(np.float64)
        vals = 1.0 / np.sqrt(n_per[rows])
        idx = torch.as_tensor(np.vstack([rows, cols]), dtype=torch.long)
        m = torch.sparse_coo_tensor(idx, torch.as_tensor(vals, dtype=torch.float32), (n_rows, self.n_items + 1),
                                    check_invariants=False)
        return m.coalesce().to(self.device)

    def _init_params(self, train: pd.DataFrame, g: torch.Generator) -> dict[str, torch.Tensor]:
        nu, ni = self.n_users + 1, self.n_items + 1
        su, si = self._seen(train)
        return {"b_u": torch.zeros(nu), "alpha_u": torch.zeros(nu), "b_i": torch.zeros(ni),
                "b_i_bin": torch.zeros(ni, self.n_bins), "P": self._randn(g, nu, self.dim, seen=su),
                "Q": self._randn(g, ni, self.dim, seen=si), "Y": self._randn(g, ni, self.dim, seen=si)}

    def time_bin(self, t: torch.Tensor) -> torch.Tensor:
        """Bin of each time: equal-width over the training period, clamped to the first/last bin outside it."""
        width = max(self.t_max - self.t_min, 1.0) / self.n_bins
        return ((t - self.t_min) / width).floor().clamp(0, self.n_bins - 1).long()

    def dev(self, u: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """dev_u(t) = sign(t - t_u) |t - t_u|^beta (days); 0 for users without training ratings.

        With ``dev_clip`` t is first clamped to the user's training period, so after it the user's bias stays
        at its last learned level instead of drifting on along a power law fitted to other days.
        """
        day = t / DAY
        if self.dev_clip:
            day = torch.minimum(torch.maximum(day, self._first_day[u]), self._last_day[u])
        d = day - self._mean_day[u]
        out = torch.sign(d) * d.abs().pow(self.beta)
        return torch.where(self._has_user[u], out, torch.zeros_like(out)).float()

    def _forward(self, u: torch.Tensor, i: torch.Tensor, t: torch.Tensor, z: torch.Tensor | None = None
                 ) -> torch.Tensor:
        p = self.params
        if z is None:
            z = torch.sparse.mm(self._implicit, p["Y"])[u]           # |N(u)|^-1/2 sum_j y_j, for each row
        bias = (self.mu + p["b_u"][u] + p["alpha_u"][u] * self.dev(u, t) + p["b_i"][i]
                + p["b_i_bin"][i, self.time_bin(t)])
        return bias + (p["Q"][i] * (p["P"][u] + z)).sum(-1)

    def _score_matrix(self, u: torch.Tensor, now: torch.Tensor, batch: QueryBatch) -> torch.Tensor:
        """Every item at each query's ``now``, with N(u) = the query's history (what a live system knows then)."""
        p, B, n = self.params, len(batch), self.n_items + 1
        lens = np.array([len(x) for x in batch.items], dtype=np.int64)
        if lens.sum():
            rows = np.repeat(np.arange(B), lens)
            pairs = np.unique(rows * n + np.concatenate(batch.items).astype(np.int64))
            z = torch.sparse.mm(self._implicit_matrix(pairs // n, pairs % n, B), p["Y"])
        else:
            z = torch.zeros(B, self.dim, device=self.device)
        user_part = self.mu + p["b_u"][u] + p["alpha_u"][u] * self.dev(u, now)          # [B]
        item_part = p["b_i"][None, :] + p["b_i_bin"][:, self.time_bin(now)].T           # [B, n]
        return user_part[:, None] + item_part + (p["P"][u] + z) @ p["Q"].T

    def predict(self, users: ArrayLike, items: ArrayLike, times: ArrayLike | None = None,
                history: pd.DataFrame | None = None) -> np.ndarray:
        """Predicted ratings at Unix ``times`` (required: the model is time-dependent).

        Without ``history`` N(u) is the user's training items; with it, N(u, t) = the user's distinct items in
        training + history with timestamp < t, so users who arrived after training are folded in without
        refitting (never with items from t or later).
        """
        if times is None:
            raise ValueError("TimeSVDpp.predict needs times (Unix seconds), one per (user, item) pair")
        return super().predict(users, items, times, history=history)

    def _predict_tensor(self, u: torch.Tensor, i: torch.Tensor, t: torch.Tensor,
                        history: pd.DataFrame | None) -> torch.Tensor:
        if history is None:
            return self._forward(u, i, t)
        return self._forward(u, i, t, z=self.implicit_as_of(u.cpu().numpy(), t.cpu().numpy(), history))

    def implicit_as_of(self, users: np.ndarray, times: np.ndarray, history: pd.DataFrame) -> torch.Tensor:
        """[n, dim] |N(u, t)|^-1/2 sum_{j in N(u, t)} y_j with N(u, t) = distinct items of u before t
        (train + history)."""
        check_interactions(history, self.n_users, self.n_items, what="history")
        cols = ["user", "item", "timestamp"]
        log = pd.concat([self._train_log, history[cols]], ignore_index=True)
        log = log.sort_values(["user", "timestamp"], kind="stable").drop_duplicates(["user", "item"], keep="first")
        lu = log["user"].to_numpy(dtype=np.int64)
        lt = log["timestamp"].to_numpy(dtype=np.int64)
        Y = self.params["Y"].detach().double().cpu().numpy()
        csum = np.vstack([np.zeros((1, self.dim)), np.cumsum(Y[log["item"].to_numpy(dtype=np.int64)], axis=0)])
        t0, span = int(lt.min()), int(lt.max() - lt.min()) + 2
        keys = lu * span + (lt - t0)                                   # sorted: by user, then time
        q = np.ceil(np.asarray(times, dtype=np.float64)).astype(np.int64)   # t_j < t  <=>  t_j < ceil(t)
        start = np.searchsorted(keys, users * span, side="left")
        stop = np.searchsorted(keys, users * span + np.clip(q - t0, 0, span - 1), side="left")
        n = (stop - start).astype(np.float64)
        z = (csum[stop] - csum[start]) / np.sqrt(np.maximum(n, 1.0))[:, None]
        return torch.as_tensor(z, dtype=torch.float32, device=self.device)
