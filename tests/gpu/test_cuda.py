"""The gpu test tier (``pytest -m gpu tests/gpu tests/training``): the same computation on CUDA and on the CPU.

Skipped without CUDA (tests/conftest.py). benchmarks/gpu_check.sh runs it on a CUDA machine; its ``--dry-run``
sets TSREC_GPU_TEST_DEVICE=cpu, so that every test also runs here, comparing the CPU with itself.
"""
from __future__ import annotations

import copy
import importlib
import math
import re

import pytest
import torch

from tsrec import book, data, splits
from tsrec.config import seed_everything
from tsrec.models import sequential as S
from tsrec.models.sequential.losses import sequence_loss
from tsrec.profiles import chapter_key, parameters_for
from tsrec.training import TrainConfig, optimizer_step, train

# Chapters smoke-run on both devices, and record names whose values may move more than ATOL/RTOL between them:
# CUDA draws its own dropout masks, so trained models differ by a few of the smoke run's queries; epoch counts,
# ratios of two small metrics, arg-maxes over models and groups of a few users move more. The rest must agree.
SMOKE_CHAPTERS = {"04_2a": r"epoch|^where\[|kept|best_sequence_model"}
ATOL, RTOL = 0.05, 0.25


def flatten(value: object, prefix: str | None = None) -> dict[str, object]:
    """Records (nested dicts and lists) as one dict: 'name[key][0]' -> leaf value."""
    def sub(key: object) -> str:
        return str(key) if prefix is None else f"{prefix}[{key}]"

    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flatten(item, sub(key)).items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in flatten(item, sub(i)).items()}
    return {prefix or "": value}


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def disagreements(ref: dict, other: dict, loose: str = r"(?!)", atol: float = ATOL, rtol: float = RTOL) -> list[str]:
    """Records of ``other`` that differ from ``ref``: numbers beyond atol + rtol * |ref|, anything else when not
    equal, names only one of them has. Names matching ``loose`` need only exist in both."""
    a, b = flatten(ref), flatten(other)
    out = [f"{k}: only in {'the CPU run' if k in a else 'the device run'}" for k in sorted(set(a) ^ set(b))]
    for k in sorted(set(a) & set(b)):
        x, y = a[k], b[k]
        if re.search(loose, k):
            continue
        if _number(x) and _number(y):
            if math.isnan(x) != math.isnan(y) or abs(x - y) > atol + rtol * abs(x):
                out.append(f"{k}: {x!r} on the CPU, {y!r} on the device")
        elif type(x) is not type(y) or x != y:
            out.append(f"{k}: {x!r} on the CPU, {y!r} on the device")
    return out


def test_disagreements_finds_what_differs():
    ref = {"ml[NDCG@10][SASRec]": 0.05, "best epoch": 3, "names": ["a", "b"], "flag": True, "gone": 1}
    same = {"ml[NDCG@10][SASRec]": 0.09, "best epoch": 9, "names": ["a", "b"], "flag": True, "gone": 1}
    assert disagreements(ref, same, loose="epoch") == []
    far = {**same, "ml[NDCG@10][SASRec]": 0.2, "names": ["a", "c"], "flag": 1.0, "new": 0}
    del far["gone"]
    found = disagreements(ref, far, loose="epoch")
    assert [f.split(":")[0] for f in found] == ["gone", "new", "flag", "ml[NDCG@10][SASRec]", "names[1]"]


def _batch(n_items: int, rows: int = 16, length: int = 10) -> tuple[S.SeqInput, torch.Tensor]:
    """A fixed left-padded batch of item windows, their times and next-item targets."""
    g = torch.Generator().manual_seed(0)
    items = torch.randint(1, n_items + 1, (rows, length), generator=g)
    items[: rows // 4, : length // 3] = 0
    times = 880_000_000 + torch.cumsum(torch.randint(0, 3 * 3600, (rows, length), generator=g), dim=1)
    next_times = torch.cat([times[:, 1:], times[:, -1:] + 60], dim=1)
    targets = torch.randint(1, n_items + 1, (rows, length), generator=g).masked_fill(items == 0, 0)
    return S.SeqInput(torch.arange(1, rows + 1), items, times, next_times), targets


def _one_step(model: torch.nn.Module, x: S.SeqInput, targets: torch.Tensor, device: str) -> tuple[float, dict]:
    """One SGD step of ``model`` on ``device``: the loss, then every gradient and parameter (on the CPU)."""
    model = model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = sequence_loss(model, model.encode(x.to(device)), targets.to(device), "ce", 0, torch.Generator())
    optimizer_step(model, opt, loss, grad_clip=1.0)
    return loss.item(), {n: (p.grad.cpu(), p.detach().cpu()) for n, p in model.named_parameters()}


@pytest.mark.gpu
@pytest.mark.parametrize("name", ["SASRec", "TiSASRec", "SASRec+time2vec"])
def test_a_training_step_agrees_with_the_cpu(name, gpu_device):
    seed_everything(0)
    kind, _, enc = name.partition("+")
    model = getattr(S, kind)(40, max_len=10, hidden=32, dropout=0.0, **({"time_encoding": enc} if enc else {}))
    x, targets = _batch(40)
    loss_cpu, cpu = _one_step(copy.deepcopy(model), x, targets, "cpu")
    loss_dev, dev = _one_step(copy.deepcopy(model), x, targets, gpu_device)
    assert loss_dev == pytest.approx(loss_cpu, rel=1e-4)
    for n, (grad, param) in cpu.items():
        torch.testing.assert_close(dev[n][0], grad, atol=1e-5, rtol=1e-3, msg=f"gradient of {n}")
        torch.testing.assert_close(dev[n][1], param, atol=1e-5, rtol=1e-4, msg=f"{n} after the step")


@pytest.fixture(scope="module")
def synthetic_split() -> splits.Split:
    return splits.leave_one_out(data.synthetic(n_users=40, n_items=30, events_per_user=15).interactions)


def _train(split: splits.Split, device: str, amp: bool = False) -> tuple[list[float], float]:
    seed_everything(0)
    model = S.SASRec(split.n_items, max_len=10, hidden=32, dropout=0.0)
    res = train(model, split, TrainConfig(epochs=4, patience=4, progress=False, device=device, amp=amp))
    assert next(model.parameters()).device.type == device
    return res.history["loss"].tolist(), res.best_metrics["NDCG@10"]


@pytest.mark.gpu
def test_a_short_training_run_agrees_with_the_cpu(synthetic_split, gpu_device):
    """Without dropout only rounding differs: the loss curve and validation NDCG@10 of four epochs agree."""
    loss_cpu, ndcg_cpu = _train(synthetic_split, "cpu")
    loss_dev, ndcg_dev = _train(synthetic_split, gpu_device)
    assert loss_dev == pytest.approx(loss_cpu, rel=1e-3)
    assert ndcg_dev == pytest.approx(ndcg_cpu, abs=0.02)


@pytest.mark.gpu
def test_bf16_autocast_trains_about_as_well_as_fp32(synthetic_split, gpu_device):
    """TrainConfig(amp=True): bfloat16 forward passes on CUDA stay close to fp32; on the CPU nothing changes."""
    loss32, ndcg32 = _train(synthetic_split, gpu_device)
    loss16, ndcg16 = _train(synthetic_split, gpu_device, amp=True)
    if gpu_device == "cuda":
        assert loss16 == pytest.approx(loss32, rel=0.05) and ndcg16 == pytest.approx(ndcg32, abs=0.05)
    else:
        assert (loss16, ndcg16) == (loss32, ndcg32)


@pytest.mark.gpu
@pytest.mark.notebook
@pytest.mark.parametrize("key", list(SMOKE_CHAPTERS))
def test_chapter_smoke_run_on_the_device_agrees_with_the_cpu(key, gpu_device, tmp_path):
    path = book.chapters(key)[0]
    checks = importlib.import_module(f"notebook_checks.ch{chapter_key(path)}")
    records = []
    for i, device in enumerate(("cpu", gpu_device)):
        (tmp_path / f"{i}-{device}").mkdir()
        out = book.execute(path, tmp_path / f"{i}-{device}" / path.name,
                           parameters_for(path, device=device, smoke=True), cwd=path.parent, progress=False)
        records.append(book.read_records(out))
        assert records[-1].get("smoke") is True
        checks.check(records[-1])
    found = disagreements(*records, SMOKE_CHAPTERS[key])
    assert not found, f"{len(found)} records differ between the CPU and {gpu_device}:\n" + "\n".join(found[:30])
