"""Tests of tsrec.models.sequential.convolutional: NextItNet's receptive field is that of its dilations."""
from __future__ import annotations

import torch

from tsrec.models import sequential as S

from .helpers import N_ITEMS, random_input


def test_nextitnet_sees_exactly_its_receptive_field():
    """One block of kernel 3, dilations 1 then 2, sees positions i - 6 .. i: an earlier change never arrives."""
    torch.manual_seed(0)
    model = S.NextItNet(N_ITEMS, max_len=12, hidden=16, dilations=(1,), dropout=0.0).eval()
    x = random_input(B=1, L=12, pad=0)
    changed = S.SeqInput(x.users, x.items.clone(), x.times, x.next_times)
    changed.items[0, 2] = changed.items[0, 2] % N_ITEMS + 1
    with torch.no_grad():
        a, b = model.encode(x)[0], model.encode(changed)[0]
    differs = [not torch.allclose(a[i], b[i]) for i in range(12)]
    assert differs == [False, False] + [True] * 7 + [False] * 3  # positions 2 .. 8 = 2 + (3 - 1) * (1 + 2)
