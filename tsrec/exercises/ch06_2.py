"""Exercise checks for chapter 6.2 (privacy and interpretability)."""
from __future__ import annotations

from collections.abc import Collection

import torch
from torch import nn

from tsrec.exercises._common import _close, _prediction_note, _report
from tsrec.models.sequential import SeqInput


def ch06_2_noise_ratio(answer: float, prediction: float | None, batch_size: int, members: Collection, epochs: int,
                       delta: float, epsilon: float = 4.0) -> bool:
    """Ex. 6.2.1 (predict, then run): how much more noise DP-SGD needs for the same ε over twice the epochs,
    at the sample rate of ``batch_size`` among ``members``."""
    from opacus.accountants.utils import get_noise_multiplier

    def sigma(e: int) -> float:
        return get_noise_multiplier(target_epsilon=epsilon, target_delta=delta, sample_rate=batch_size / len(members),
                                    epochs=e, accountant="rdp")

    expected = sigma(2 * epochs) / sigma(epochs)
    ok = _report(_close(answer, expected, tol=1e-3),
                 "opacus.accountants.utils.get_noise_multiplier at ε = 4 for 2 × EPOCHS and for EPOCHS, "
                 "sample rate DP_BATCH / members; divide the first by the second")
    _prediction_note(prediction, expected, ".3f")
    return ok


def ch06_2_top_event_hours(answer: float, model: nn.Module, x: SeqInput, targets: torch.Tensor, row: int,
                           n_steps: int) -> bool:
    """Ex. 6.2.2: hours between the request and the history event with the largest integrated-gradient
    attribution to the recommended item, for window ``row`` of ``x``."""
    from tsrec.analysis.explain import integrated_gradients

    one = SeqInput(*(t[row:row + 1] for t in (x.users, x.items, x.times, x.next_times)))
    item_attr, _, _ = integrated_gradients(model, one, targets[row:row + 1], n_steps=n_steps)
    j = int(item_attr[0].argmax())
    expected = float((one.next_times[0, -1] - one.times[0, j]) / 3600)
    return _report(_close(answer, expected, tol=1e-3),
                   "take argmax of the user's item attributions (item_attr[i]) as the event j, then "
                   "(x.next_times[i, -1] - x.times[i, j]) / 3600: the last position's next time is the request")


def ch06_2_recent_deletion(answer: float, model: nn.Module, x: SeqInput, targets: torch.Tensor, k: int = 3) -> bool:
    """Ex. 6.2.3: mean score drop of the recommended item when the ``k`` latest history events (the last
    one kept) are deleted."""
    from tsrec.analysis.explain import deletion_test

    recency = torch.arange(x.items.shape[1], dtype=torch.float).expand_as(x.items)
    expected = float(deletion_test(model, x, targets, recency, k)["top_drop"].mean())
    return _report(_close(answer, expected, tol=1e-4),
                   "rank positions by recency (their index: later = larger) and pass that as the attributions "
                   "of deletion_test; average its top_drop column")
