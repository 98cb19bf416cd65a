"""Sentence embeddings from a pretrained encoder (default all-MiniLM-L6-v2, offline), cached on disk."""
from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from tsrec import config
from tsrec.llm.locate import DEFAULT_ENCODER, PACKAGED_ENCODERS, local_path, resolve_device, safe_name


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
        self.device = resolve_device(device)
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        if self.name in PACKAGED_ENCODERS:
            source: str = str(PACKAGED_ENCODERS[self.name].path())
            local, key = True, self.name
        else:
            path = local_path(model)
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
        self.cache_path = cache_dir / f"{safe_name(key)}-len{self.max_length}.sqlite" if cache_dir else None
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
        quiet = not config.progress_wanted(show_progress) or len(starts) < 2
        for s in tqdm(starts, desc="encoding", unit="batch", disable=quiet):
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
