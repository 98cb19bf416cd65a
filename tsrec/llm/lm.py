"""A small generative LM (default SmolLM2-135M-Instruct from a GGUF file, offline): log-likelihood scoring of
candidate answers, constrained generation over a title trie, and zero-shot labels."""
from __future__ import annotations

import copy
import inspect
import json
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from tsrec import config
from tsrec.llm.locate import DEFAULT_LM, PACKAGED_LMS, local_path, resolve_device, safe_name

TEMPORAL_LABELS = ("seasonal", "event-driven", "evergreen")
DEFAULT_INSTRUCTION = (
    "You are a recommender system. Below is a user's history, oldest first, with when each item "
    "was consumed. Recommend the item the user is most likely to choose next."
)


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
        self.device = resolve_device(device)
        models_dir = Path(cache_dir).expanduser() if cache_dir else config.cache_home() / "models"
        if self.name in PACKAGED_LMS:
            gguf = PACKAGED_LMS[self.name].path()
            source = str(_dequantised_copy(str(gguf.parent), gguf.name, models_dir / self.name, local=True))
            local = True
        else:
            path = local_path(model)
            local = path is not None
            if path is not None and path.is_file():  # a .gguf file given directly
                gguf_file, path = path.name, path.parent
            if gguf_file is not None:
                base = path.name if path is not None else self.name
                target = models_dir / safe_name(f"{base}-{Path(gguf_file).stem}")
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
        with tqdm(total=total, desc="scoring", unit="cand", disable=not config.progress_wanted(show_progress)) as bar:
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
