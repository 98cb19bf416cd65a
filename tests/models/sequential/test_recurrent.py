"""Tests of tsrec.models.sequential.recurrent and layers.run_rnn: left padding never enters the RNN state."""
from __future__ import annotations

import torch
from torch import nn

from tsrec.models import sequential as S

from .helpers import make, random_input


def test_run_rnn_equals_running_each_unpadded_sequence_alone():
    torch.manual_seed(0)
    rnn = nn.GRU(3, 4, batch_first=True)
    x = torch.randn(3, 6, 3)
    mask = torch.tensor([[False, False, True, True, True, True], [True] * 6, [False] * 5 + [True]])
    out = S.run_rnn(rnn, x, mask)
    for b in range(3):
        alone, _ = rnn(x[b:b + 1, mask[b]])
        torch.testing.assert_close(out[b, mask[b]], alone[0], atol=1e-6, rtol=1e-6)


def test_lstm4rec_is_gru4rec_with_an_lstm_cell():
    gru, lstm = make(S.GRU4Rec), make(S.LSTM4Rec)
    assert isinstance(gru.rnn, nn.GRU) and isinstance(lstm.rnn, nn.LSTM) and lstm.name == "LSTM4Rec"
    x = random_input()
    assert lstm.eval().encode(x).shape == gru.eval().encode(x).shape == (*x.items.shape, 16)
