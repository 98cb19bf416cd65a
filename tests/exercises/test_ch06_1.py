"""Chapter 6.1's exercise checks accept a right answer and reject a wrong one."""
from __future__ import annotations

from torch import nn

from tsrec import exercises
from tsrec.models import sequential as S
from tsrec.training import compress as C
from tsrec.training import tuning as T


def test_linear_share():
    model = T.build(1682, T.DEFAULT_PARAMS)
    linear = sum(p.numel() for m in model.modules() if isinstance(m, nn.Linear) for p in m.parameters())
    right = linear / sum(p.numel() for p in model.parameters())
    assert 0.1 < right < 0.6 and exercises.ch06_1_linear_share(right)
    weights_only = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    assert not exercises.ch06_1_linear_share(weights_only / 10 / sum(p.numel() for p in model.parameters()))


def test_quarter_rank():
    assert exercises.ch06_1_quarter_rank(15)            # 15 * 1747 = 26,205 <= 26,928; 16 * 1747 = 27,952 is over
    assert not exercises.ch06_1_quarter_rank(16)
    assert not exercises.ch06_1_quarter_rank(...)


def test_item_table_pruned(capsys):
    model = S.SASRec(30, max_len=5, hidden=8)
    right = float((C.magnitude_prune(model, 0.8).item_emb.weight == 0).float().mean())
    assert exercises.ch06_1_item_table_pruned(right, 0.5, model)
    assert "Your prediction 0.500" in capsys.readouterr().out
    assert not exercises.ch06_1_item_table_pruned(0.8 if abs(right - 0.8) > 1e-3 else 0.5, None, model)
