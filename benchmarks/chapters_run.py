"""Benchmark: execute chapters (default or smoke parameters) and report wall seconds and peak memory.

Each chapter runs in its own papermill process; peak RSS is that process tree's largest (kernel included,
from getrusage of the reaped children). Run: ``.venv/bin/python benchmarks/chapters_run.py [--smoke] [prefix]``;
``--committed`` only lists how long the committed run of each chapter took (papermill's metadata; nothing
executed, no memory figure).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CODE = """
import resource, sys, time
from pathlib import Path
from tsrec import book
t0 = time.time()
book.execute(Path(sys.argv[1]), Path(sys.argv[2]), {"SMOKE": True} if sys.argv[3] == "1" else None, progress=False)
print(time.time() - t0, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("prefix", nargs="?", default=None)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--committed", action="store_true", help="the committed runs' durations, nothing executed")
    args = ap.parse_args()
    from tsrec.book import chapters

    if args.committed:
        print("| chapter | committed run started (UTC) | seconds |\n|---|---|---|")
        for nb in chapters(args.prefix):
            meta = json.loads(nb.read_text(encoding="utf-8"))["metadata"].get("papermill", {})
            print(f"| {nb.stem} | {str(meta.get('start_time', '-'))[:16]} | {meta.get('duration') or 0:.0f} |")
        return

    print("| chapter | parameters | seconds | peak RSS MB |\n|---|---|---|---|")
    for nb in chapters(args.prefix):
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / nb.name
            res = subprocess.run([sys.executable, "-c", CODE, str(nb), str(out), "1" if args.smoke else "0"],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                print(f"| {nb.stem} | failed | - | - |\n{res.stderr[-1500:]}")
                continue
            secs, rss = map(float, res.stdout.split()[-2:])
            print(f"| {nb.stem} | {'smoke' if args.smoke else 'default'} | {secs:.0f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
