"""benchmarks/gpu_bundle.py (`make gpu-bundle`) and benchmarks/gpu_check.sh, without a network or a GPU."""
from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("gpu_bundle", REPO / "benchmarks" / "gpu_bundle.py")
gpu_bundle = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_bundle)


def test_the_bundle_is_pinned_as_requirements_txt_and_carries_no_torch():
    pins = gpu_bundle.read_pins()
    project = gpu_bundle.read_pins(REPO / "requirements.txt")
    assert pins and "torch" not in pins and "numpy" not in pins
    assert {name: version for name, version in pins.items() if project.get(name) != version} == {}


def test_the_download_is_python_312_manylinux_wheels_without_dependencies(tmp_path):
    cmd = gpu_bundle.download_command(tmp_path)
    assert {"--no-deps", "--only-binary=:all:"} <= set(cmd)
    assert cmd[cmd.index("--python-version") + 1] == "3.12" and cmd[cmd.index("--dest") + 1] == str(tmp_path)
    platforms = {cmd[i + 1] for i, a in enumerate(cmd) if a == "--platform"}
    assert {"manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"} <= platforms
    assert gpu_bundle.wheel_name(Path("pure_eval-0.2.4-py3-none-any.whl")) == "pure-eval"


def test_gpu_check_is_valid_bash_with_a_dry_run():
    script = REPO / "benchmarks" / "gpu_check.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    proc = subprocess.run(["bash", str(script), "--bogus"], capture_output=True, text=True)
    assert proc.returncode == 2 and "--dry-run" in proc.stderr
