"""`make lab` serves the chapters: JupyterLab started with the Makefile's own command (plus a free port) prints
its URL on 127.0.0.1 with the token it made, refuses a request without the token, hands a chapter out through the
REST API, and stops."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHAPTER = "01_basics.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab_command() -> list[str]:
    """The command `make lab` runs (`make -n`), with this interpreter; built by hand where make is missing."""
    if shutil.which("make"):
        proc = subprocess.run(["make", "-n", "-s", "lab", f"PY={sys.executable}"], cwd=REPO, capture_output=True,
                              text=True, timeout=30)
        lines = [ln for ln in proc.stdout.splitlines() if "jupyter lab" in ln]
        if proc.returncode == 0 and lines:
            return shlex.split(lines[-1])
    root = ["--allow-root"] if os.getuid() == 0 else []
    return [sys.executable, "-m", "jupyter", "lab", "--ip", "127.0.0.1", "--no-browser", "--notebook-dir", "chapters",
            *root]


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


@pytest.fixture
def lab(tmp_path):
    """A running JupyterLab (the Makefile's command) on a free port; its token read from the URL it prints."""
    port = _free_port()
    cmd = [*_lab_command(), "--port", str(port), "--ServerApp.port_retries=0"]
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    log = (tmp_path / "lab.log").open("w+")
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    url = re.compile(re.escape(base) + r"/lab\?token=([0-9a-f]{32,})")
    try:
        deadline, token = time.monotonic() + 60, None
        while True:
            log.seek(0)
            printed = log.read()
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}: {' '.join(cmd)}\n{printed[-3000:]}")
            found = url.search(printed)
            token = found.group(1) if found else None
            try:
                if token and _get(f"{base}/api/status", token)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not print its URL and answer within 60 s:\n{printed[-3000:]}")
            time.sleep(0.25)
        yield {"base": base, "token": token, "proc": proc, "cmd": cmd}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def test_lab_serves_a_chapter_through_the_rest_api(lab):
    base, token = lab["base"], lab["token"]
    if os.getuid() == 0:
        assert "--allow-root" in lab["cmd"]                       # `make lab` as root
    assert "127.0.0.1" in lab["cmd"] and "--no-browser" in lab["cmd"]

    status, body = _get(f"{base}/api/contents/{CHAPTER}?content=1", token)
    assert status == 200, body[:500]
    model = json.loads(body)
    assert model["type"] == "notebook" and model["name"] == CHAPTER
    first = "".join(model["content"]["cells"][0]["source"])
    assert first.startswith("# ") and "第1章" in first            # the chapter, with its Chinese title

    listing = json.loads(_get(f"{base}/api/contents/", token)[1])
    assert CHAPTER in {item["name"] for item in listing["content"]}   # the notebook dir is chapters/
    assert _get(f"{base}/api/contents/{CHAPTER}")[0] == 403      # no token, no notebook
    status, page = _get(f"{base}/lab?token={token}")
    assert status == 200 and b"JupyterLab" in page               # the lab app itself is served

    lab["proc"].send_signal(signal.SIGTERM)
    assert lab["proc"].wait(timeout=15) is not None
    with pytest.raises(OSError):
        _get(f"{base}/api/status", token)
