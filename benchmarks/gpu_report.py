"""benchmarks/gpu_check.sh's report: the machine, each step's status and seconds, and what the steps produced.

  python benchmarks/gpu_report.py --work DIR --out benchmarks/gpu_results.md --device cuda --seconds 412 [--dry-run]

DIR is gpu_check.sh's working folder: steps.tsv (step, status, seconds), each step's log, table-a.md and
table-a-amp.md from benchmarks/run.py, and chapter/ with the chapter it executed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHAPTER = "04_2a_sequence_models.ipynb"


def machine() -> list[str]:
    """Python, torch, CUDA and the GPU's name, as bullet lines."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (CPU only)"
    mem = f", {torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB" if torch.cuda.is_available() else ""
    return [f"- GPU: {gpu}{mem}", f"- torch {torch.__version__} (CUDA {torch.version.cuda or '–'}), Python "
            f"{platform.python_version()}, {os.cpu_count()} CPU cores"]


def steps(work: Path) -> list[str]:
    """The steps as a markdown table."""
    rows = [line.split("\t") for line in (work / "steps.tsv").read_text().splitlines() if line.strip()]
    return ["| step | status | seconds |", "|---|---|---|", *(f"| {n} | {s} | {t} |" for n, s, t in rows)]


def tail(path: Path, n: int = 1) -> str:
    """The last ``n`` non-empty lines of a log ('–' when there is none)."""
    if not path.exists():
        return "–"
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return "\n".join(lines[-n:]) or "–"


def table(path: Path) -> list[str]:
    """benchmarks/run.py's output without its title line."""
    if not path.exists():
        return ["(not produced: see the step's status above)"]
    lines = [line for line in path.read_text().splitlines() if not line.startswith("# Benchmark results")]
    while lines and not lines[0].strip():
        lines.pop(0)
    return ["#" + line if line.startswith("## ") else line for line in lines]      # under this report's headings


def chapter(work: Path) -> list[str]:
    """The executed chapter's parameters, its NDCG@10 records and whether its check passes."""
    nb = work / "chapter" / CHAPTER
    if not nb.exists():
        return ["(not executed to the end: see the step's status above)"]
    sys.path.insert(0, str(HERE.parent / "tests"))
    from tsrec import book

    params = json.loads(nb.read_text())["metadata"].get("papermill", {}).get("parameters", {})
    records = book.read_records(nb)
    try:
        import notebook_checks.ch04_2a as checks

        checks.check(records)
        verdict = "passes"
    except Exception as e:  # the check is written for the default parameters: a bigger run may leave its bounds
        verdict = f"does not pass ({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})"
    out = [f"parameters: `{json.dumps(params)}`; {len(records)} records; the chapter's check "
           f"(tests/notebook_checks/ch04_2a.py, written for the default run) {verdict}.", "",
           "| record | value |", "|---|---|"]
    out += [f"| `{k}` | {v:.4f} |" for k, v in records.items()
            if k.startswith("ml[NDCG@10]") and isinstance(v, (int, float))]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--seconds", type=int, default=0)
    ap.add_argument("--dry-run", action="store_true")
    args = ap.parse_args()
    work = Path(args.work)
    kind = ("a DRY RUN on the CPU at smoke settings (bash benchmarks/gpu_check.sh --dry-run): it checks the script, "
            "not the GPU" if args.dry_run else "bash benchmarks/gpu_check.sh on a CUDA machine")
    parts = ["# GPU check", "", f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {kind}; "
             f"{args.seconds} s in all.", "", *machine(), "", *steps(work), "",
             "## The gpu test tier (CUDA against the CPU)", "", f"device {args.device}: "
             f"`{tail(work / 'gpu-tests.log')}`", "",
             "## Benchmark table A", "", *table(work / "table-a.md"), "",
             "## Chapter 04_2a with its gpu profile", "", *chapter(work), "",
             "## SASRec with bf16 autocast (TrainConfig(amp=True))", "", *table(work / "table-a-amp.md"), ""]
    Path(args.out).write_text("\n".join(parts), encoding="utf-8")
    print(f"results -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
