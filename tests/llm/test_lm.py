"""Tests of tsrec.llm.lm with the real default LM (SmolLM2-135M-Instruct, offline): candidate scores against a
plain forward pass, constrained generation against those scores, and zero-shot labels."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from tsrec import llm
from tsrec.llm import GenerativeLM, history_to_text

DAY = 86400
T0 = 889_564_200  # Tue 1998-03-10 21:10:00 UTC
HISTORY = ["Star Wars (1977) — Action, Sci-Fi", "The Empire Strikes Back (1980) — Action, Sci-Fi"]


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
    with pytest.raises(ValueError, match="one candidate list per prompt"):
        lm.score_candidates(prompts, candidates[:1], show_progress=False)


def test_end_of_turn_is_scored_with_add_eos(lm: GenerativeLM):
    prompt = lm.chat("Name a fruit.")
    plain = lm.score_candidates([prompt], [["Apple"]], show_progress=False)[0][0]
    closed = lm.score_candidates([prompt], [["Apple"]], add_eos=True, show_progress=False)[0][0]
    ids = lm.tokenizer(prompt + "Apple", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        last = torch.log_softmax(lm.model(input_ids=torch.tensor([ids])).logits[0, -1].float(), -1)
    assert closed == pytest.approx(plain + float(last[lm.eos_token_id]), abs=1e-3)


def test_sensible_answer_is_more_likely(lm: GenerativeLM):
    prompt = lm.chat("What is the capital of France? Answer with one word.")
    for normalise in (False, True):
        paris, nonsense = lm.score_candidates(
            [prompt], [["Paris", "Purple dishwasher gravel"]], normalise=normalise, show_progress=False
        )[0]
        assert paris > nonsense + 1.0


def test_prompt_and_free_generation(lm: GenerativeLM):
    history = history_to_text(HISTORY, [T0, T0 + 3 * DAY])
    allowed = ["Return of the Jedi (1983)", "Babe (1995)", "Toy Story (1995)", "Toy Story 2 (1999)"]
    prompt = lm.prompt(history, allowed)
    assert "Tue 21:10" in prompt and "- Babe (1995)" in prompt and prompt.endswith("assistant\n")
    assert "Candidates:" not in lm.prompt(history)
    text = lm.generate(prompt, max_new_tokens=8)
    assert isinstance(text, str) and text
    assert lm.generate(prompt, max_new_tokens=8) == text  # greedy: the same answer every time


@pytest.mark.parametrize("allowed", [
    ["Return of the Jedi (1983)", "Babe (1995)", "Toy Story (1995)", "Toy Story 2 (1999)"],
    ["Heat (1995)", "Casino (1995)", "Clueless (1995)"],
    ["Fargo", "Fargo (1996)", "Babe"],  # one title is a prefix of another: the trie must end at EOS
])
def test_constrained_generation_finds_the_most_likely_allowed_title(lm: GenerativeLM, allowed, monkeypatch):
    """With as many beams as titles the search is exhaustive, so its answer is the title of highest per-token
    log-likelihood, end of turn included (beam search's length normalisation); and it is found by the search
    itself, never by the fallback that scores every title afterwards."""
    prompt = lm.prompt(history_to_text(HISTORY, [T0, T0 + 3 * DAY]), allowed)
    expected = lm.score_candidates([prompt], [allowed], add_eos=True, normalise=True, show_progress=False)[0]

    def no_fallback(*args, **kwargs):
        raise AssertionError("generate_constrained fell back to scoring the allowed titles")

    monkeypatch.setattr(lm, "score_candidates", no_fallback)
    assert lm.generate_constrained(prompt, allowed, num_beams=len(allowed)) == allowed[int(np.argmax(expected))]
    for beams in (1, 2):  # a narrower search may miss the best title, but still ends on an allowed one by itself
        assert lm.generate_constrained(prompt, allowed, num_beams=beams) in allowed
    monkeypatch.undo()
    with pytest.raises(ValueError, match="at least one"):
        lm.generate_constrained(prompt, [])


def test_classify_is_the_softmax_over_complete_answers(lm: GenerativeLM):
    prompt = lm.chat("Is 'Christmas tree lights' seasonal, event-driven or evergreen? Answer with one word.")
    label, probs = lm.classify(prompt, list(llm.TEMPORAL_LABELS))
    assert label in llm.TEMPORAL_LABELS and probs.shape == (3,)
    assert probs.sum() == pytest.approx(1.0) and probs[llm.TEMPORAL_LABELS.index(label)] == probs.max()
    scores = lm.score_candidates([prompt], [list(llm.TEMPORAL_LABELS)], add_eos=True, show_progress=False)[0]
    np.testing.assert_allclose(probs, np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum(), atol=1e-9)
