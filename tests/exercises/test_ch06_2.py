"""Chapter 6.2's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

import pytest
import torch
from opacus.accountants.utils import get_noise_multiplier

from tsrec import data, exercises, splits
from tsrec.analysis import explain as X
from tsrec.config import seed_everything
from tsrec.evaluate import eval_queries
from tsrec.models.sequential import SeqInput
from tsrec.training.privacy import DPSASRec


@pytest.fixture(scope="module")
def setup():
    split = splits.leave_one_out(data.synthetic(n_users=12, n_items=20, events_per_user=12).interactions)
    seed_everything(0)
    model = DPSASRec(split.n_items, max_len=8, hidden=8).eval()
    q, _ = eval_queries(split, "test")
    x = SeqInput.from_queries(q, model.max_len).trim()
    return model, x, model.score(q).argmax(1)


def test_noise_ratio(capsys):
    sigma = [get_noise_multiplier(target_epsilon=4.0, target_delta=1e-4, sample_rate=64 / 471, epochs=e,
                                  accountant="rdp") for e in (10, 20)]
    right = sigma[1] / sigma[0]
    assert right > 1 and exercises.ch06_2_noise_ratio(right, 2.0, 64, range(471), 10, 1e-4)
    assert "Your prediction 2.000" in capsys.readouterr().out
    assert not exercises.ch06_2_noise_ratio(2 ** 0.5, None, 64, range(471), 10, 1e-4)   # the naive sqrt(2) guess


def test_top_event_hours(setup):
    model, x, targets = setup
    item, _, _ = X.integrated_gradients(model, x, targets, n_steps=8)
    j = int(item[2].argmax())
    right = float((x.next_times[2, -1] - x.times[2, j]) / 3600)
    assert exercises.ch06_2_top_event_hours(right, model, x, targets, 2, 8)
    assert not exercises.ch06_2_top_event_hours(right + 5.0, model, x, targets, 2, 8)


def test_recent_deletion(setup):
    model, x, targets = setup
    recency = torch.arange(x.items.shape[1], dtype=torch.float).expand_as(x.items)
    right = float(X.deletion_test(model, x, targets, recency, 3)["top_drop"].mean())
    assert exercises.ch06_2_recent_deletion(right, model, x, targets)
    assert not exercises.ch06_2_recent_deletion(right + 0.5, model, x, targets)
