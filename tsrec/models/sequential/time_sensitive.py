"""The book's own ``TimeSensitiveModel`` (the original's e-commerce project), made to work as a recommender."""
from __future__ import annotations

import torch
from torch import nn

from tsrec.models.sequential.base import SeqInput, SequentialRecommender, _config
from tsrec.models.sequential.layers import run_rnn
from tsrec.times import DAY, EPOCH_WEEKDAY, HOUR


def hour_of_week(times: torch.Tensor) -> torch.Tensor:
    """0..167: day of week (Monday = 0) * 24 + hour of day, UTC."""
    day = torch.div(times, DAY, rounding_mode="floor")
    return ((day + EPOCH_WEEKDAY) % 7) * 24 + torch.div(times % DAY, HOUR, rounding_mode="floor")


class TimeSensitiveModel(SequentialRecommender):
    """The book's ``TimeSensitiveModel`` (the original's e-commerce project), made to work as a recommender.

    As in the text: user + item + time-bucket embeddings are summed, run through a one-layer LSTM and a
    linear layer, initialised uniform(-0.5, 0.5), trained with BCE-with-logits. Changes, because the
    text's code cannot run: the linear layer reads the LSTM state concatenated with the user embedding
    projected to ``hidden_dim`` (which makes its ``hidden_dim * 2`` input meaningful); it outputs one logit
    per item (``output_dim = n_items + 1``) instead of one, and BCE contrasts the next item with sampled
    negatives (the text's labels are never defined); the time bucket is the event's hour of the week (the
    text extracts day of week and hour of day); the undefined ``prepare_data`` helpers are ``tsrec.training``,
    which trains every position of each sequence in mini-batches rather than one full batch per epoch.
    """

    name = "TimeSensitiveModel"
    default_loss = "bce"
    N_TIME_BUCKETS = 7 * 24

    def __init__(self, n_items: int, n_users: int, max_len: int = 200, embedding_dim: int = 64,
                 hidden_dim: int = 128, init_range: float = 0.5):
        super().__init__(_config(locals()))
        self.n_users = int(n_users)
        self.user_embedding = nn.Embedding(n_users + 1, embedding_dim)
        self.item_embedding = nn.Embedding(n_items + 1, embedding_dim, padding_idx=0)
        self.time_embedding = nn.Embedding(self.N_TIME_BUCKETS, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim, num_layers=1, batch_first=True)
        self.user_to_hidden = nn.Linear(embedding_dim, hidden_dim)
        self.fc = nn.Linear(hidden_dim * 2, n_items + 1)
        for emb in (self.user_embedding, self.item_embedding, self.time_embedding, self.fc):
            emb.weight.data.uniform_(-init_range, init_range)
        self.item_embedding.weight.data[0] = 0.0
        self.fc.bias.data.zero_()

    def encode(self, x: SeqInput) -> torch.Tensor:
        if len(x.users) and int(x.users.max()) > self.n_users:
            raise ValueError(f"user id {int(x.users.max())} > n_users={self.n_users} this model was built for")
        mask = x.mask
        user = self.user_embedding(x.users)
        e = user.unsqueeze(1) + self.item_embedding(x.items) + self.time_embedding(hour_of_week(x.times))
        h = run_rnn(self.lstm, e * mask.unsqueeze(-1), mask)
        u = self.user_to_hidden(user).unsqueeze(1).expand(-1, h.shape[1], -1)
        return torch.cat([h, u], dim=-1)

    def output_weights(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        return self.fc.weight, self.fc.bias
