"""Tests of tsrec.analysis.explain: integrated gradients, attention read-out, deletion, the membership AUC."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec import data, splits
from tsrec.analysis import explain as X
from tsrec.config import seed_everything
from tsrec.evaluate import eval_queries
from tsrec.models.sequential import SASRec, SeqInput
from tsrec.training import TrainConfig, train


@pytest.fixture(scope="module")
def setup():
    split = splits.leave_one_out(data.synthetic(n_users=30, n_items=25, events_per_user=15).interactions)
    seed_everything(0)
    model = SASRec(split.n_items, max_len=10, hidden=16, time_encoding="log_interval")
    train(model, split.train, TrainConfig(seed=0, epochs=3, windows="last", progress=False))
    q, _ = eval_queries(split, "test")
    x = SeqInput.from_queries(q, model.max_len).trim()
    targets = model.score(q).argmax(1)
    return model, x, targets


def test_integrated_gradients_are_complete_and_zero_on_padding(setup):
    model, x, targets = setup
    item, time_, error = X.integrated_gradients(model, x, targets, n_steps=64)
    assert item.shape == x.items.shape == time_.shape and error.shape == (len(x.items),)
    assert (item[~x.mask] == 0).all() and (time_[~x.mask] == 0).all()
    assert time_.abs().sum() > 0
    score = X.target_scores(model, x, targets)
    assert error.abs().max() < 0.05 * score.abs().max() + 1e-3  # attributions add up to the score difference


def test_last_attention_is_a_distribution_over_real_events(setup):
    model, x, _ = setup
    a = X.last_attention(model, x)
    assert a.shape == x.items.shape and torch.allclose(a.sum(1), torch.ones(len(a)), atol=1e-5)
    assert (a[~x.mask] == 0).all()


def test_delete_positions_keeps_order_and_left_padding():
    x = SeqInput(torch.zeros(1, dtype=torch.long), torch.tensor([[0, 5, 6, 7, 8]]), torch.tensor([[0, 1, 2, 3, 4]]),
                 torch.tensor([[0, 2, 3, 4, 9]]))
    y = X.delete_positions(x, torch.tensor([[False, False, True, False, True]]))  # the last is never deleted
    assert y.items.tolist() == [[0, 0, 5, 7, 8]] and y.times.tolist() == [[0, 0, 1, 3, 4]]
    assert y.next_times.tolist() == [[0, 0, 2, 4, 9]]


def test_deletion_test_of_an_attribution_that_is_the_true_effect_beats_random(setup):
    model, x, targets = setup
    # "attribution" = each event's measured effect when deleted alone: the top ones must hurt most
    base = X.target_scores(model, x, targets)
    effect = torch.zeros(x.items.shape)
    for j in range(x.items.shape[1] - 1):
        drop = torch.zeros_like(x.mask)
        drop[:, j] = True
        effect[:, j] = base - X.target_scores(model, X.delete_positions(x, drop & x.mask), targets)
    t = X.deletion_test(model, x, targets, effect, 1)
    assert (t["top_drop"] >= t["random_drop"] - 1e-5).all()
    assert len(t) == len(x.items) and (t["history"].to_numpy() == (x.mask.sum(1) - 1).numpy()).all()


def test_membership_auc():
    assert X.membership_auc([1.0, 2.0], [3.0, 4.0])[0] == 1.0      # members' losses all lower
    assert X.membership_auc([3.0, 4.0], [1.0, 2.0])[0] == 0.0
    assert X.membership_auc([1.0, 1.0], [1.0, 1.0])[0] == 0.5       # ties count half
    rng = np.random.default_rng(0)
    m, o = rng.normal(0, 1, 300), rng.normal(0.5, 1, 200)
    auc, per = X.membership_auc(m, o)
    pairs = (m[:, None] < o[None, :]).mean()
    assert auc == pytest.approx(pairs) and per.mean() == pytest.approx(auc)


def test_text_similarity_ranks_the_attributed_events_by_their_text(setup):
    _, x, targets = setup
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(int(x.items.max()) + 26, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    vecs[0] = 0
    sim = X.history_similarity(vecs, x, targets)
    assert sim.shape == x.items.shape and (sim[~x.mask] == 0).all()
    t = X.text_similarity(vecs, x, targets, sim.masked_fill(~x.mask, -2), 2)  # attributed = the most similar
    assert (t["top"] >= t["random"] - 1e-6).all() and (t["top"] > t["random"]).any()
    assert X.top_positions(sim, x, 1).shape == (len(x.items), 1)


def test_named_titles_undoes_movielens_titles_and_skips_parts_and_short_ones():
    titles = ["Godfather, The (1972)", "High Noon (1952)", "3 Ninjas: High Noon At Mega Mountain (1998)",
              "Heat (1995)", "Fargo (1996)", "Crow, The (1994)"]
    line = 'Because you loved "3 Ninjas: High Noon At Mega Mountain" and The Godfather, watch Heat or "Crow, The".'
    assert X.named_titles(line, titles) == ["Godfather, The (1972)", "3 Ninjas: High Noon At Mega Mountain (1998)",
                                            "Crow, The (1994)"]
    prompt = X.explanation_prompt("Fargo (1996)", [("Heat (1995)", 0.5), ("High Noon (1952)", 30.0),
                                                   ("Godfather, The (1972)", 100.0)])
    assert "30 minutes ago" in prompt and "30 hours ago" in prompt and "4 days ago" in prompt


def test_explain_in_words_audits_what_the_sentence_names(setup):
    _, x, targets = setup
    assert int(x.items.max()) < 98

    class Echo:  # a stand-in language model: names the first attributed film and one the prompt never gave
        def chat(self, user, system=None):
            return user

        def generate(self, prompt, max_new_tokens=64):
            return f"You watched {prompt.split(chr(34))[3]}, so try Unrelated Film.\nsecond line"

    import pandas as pd
    titles = pd.Series({i: f"Film {i:03d} title" for i in range(1, 100)})
    titles[98], titles[99] = "The Recommended One", "Unrelated Film"
    attr = torch.arange(x.items.shape[1], dtype=torch.float).expand_as(x.items)
    words = X.explain_in_words(Echo(), titles, x, torch.full_like(targets, 98), attr, [0, 1], k=2)
    assert len(words) == 2 and words["names attributed"].all() and not words["names recommended"].any()
    assert words["unsupported"].tolist() == [["Unrelated Film"]] * 2 and "second" not in words["sentence"][0]
