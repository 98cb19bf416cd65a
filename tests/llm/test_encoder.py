"""Tests of tsrec.llm.encoder with the real default encoder (all-MiniLM-L6-v2, offline), and the item text
embeddings built from it (``tsrec.llm.item_text_embeddings``)."""
from __future__ import annotations

import uuid

import numpy as np
import pandas as pd
import pytest

from tsrec import splits
from tsrec.analysis import item_counts
from tsrec.llm import TextEncoder, item_text_embeddings, product_text


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


def test_item_text_embeddings_with_real_minilm(encoder: TextEncoder):
    items = pd.DataFrame({"item": [10, 20, 30], "title": ["Heat", "Fargo", "Babe"], "year": [1995, 1996, 1995],
                          "genres": ["Action", "Crime|Drama", "Children"]})
    log = pd.DataFrame({"user": [1, 1, 1, 2, 2, 2], "item": [30, 10, 20, 10, 20, 30],
                        "timestamp": [1, 2, 3, 4, 5, 6]})
    split = splits.leave_one_out(log, min_history=3)
    E = item_text_embeddings(split, items, encoder=encoder)
    assert E.shape == (4, encoder.dim) and np.all(E[0] == 0)
    assert np.allclose(np.linalg.norm(E[1:], axis=1), 1, atol=1e-5)
    direct = encoder.encode(["Heat (1995) — Action", "Babe (1995) — Children"], show_progress=False)
    assert np.allclose(E[1], direct[0], atol=1e-6) and np.allclose(E[3], direct[1], atol=1e-6)  # ids 1, 3 = 10, 30
    assert item_counts(split.train, split.n_items).tolist() == [0, 1, 0, 1]
    products = pd.DataFrame({"item": [10, 20, 30], "department": ["GROCERY", "PRODUCE", "DELI"]})
    P = item_text_embeddings(split, products, encoder=encoder, text_fn=product_text)
    assert np.allclose(P[2], encoder.encode(["PRODUCE"], show_progress=False)[0], atol=1e-6)
