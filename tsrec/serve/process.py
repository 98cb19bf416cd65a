"""``tsrec serve`` as a child process: start it on a local port, wait until ``/health`` answers, stop it for sure.

Appendix B talks to the real server as a reader would, over HTTP; this helper owns the process, so that a failed
cell, a timeout or the end of the kernel never leaves a server behind: ``stop`` is idempotent (SIGTERM, then
SIGKILL if the server hangs), ``guard()`` stops it when the block raises, ``atexit`` stops it at interpreter exit,
and on Linux the child also gets SIGTERM when the process that started it dies.
"""
from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx

__all__ = ["ServerProcess", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on right now (the OS picks it)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """Linux only (run in the child before exec): SIGTERM the child when the thread that started it ends."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class ServerProcess:
    """``python -m tsrec serve --checkpoint ... --db ...`` in a subprocess on ``host``; ``args`` are further
    ``tsrec serve`` options (e.g. ``("--history", "auto")``); stdout and stderr go to the file ``log``."""

    def __init__(self, checkpoint: str | Path, db: str | Path, log: str | Path, args: Sequence[str] = (),
                 host: str = "127.0.0.1", port: int | None = None, env: Mapping[str, str] | None = None,
                 cwd: str | Path | None = None) -> None:
        self.host, self.port = host, port or free_port(host)
        self.url = f"http://{host}:{self.port}"
        self.args = ["--checkpoint", str(checkpoint), "--db", str(db), "--host", host, "--port", str(self.port),
                     *map(str, args)]
        self.cmd = [sys.executable, "-m", "tsrec", "serve", *self.args]
        self.log, self.env, self.cwd = Path(log), {**os.environ, **(env or {})}, cwd
        self.proc: subprocess.Popen | None = None
        self._log_file: IO[bytes] | None = None
        atexit.register(self.stop)

    @property
    def running(self) -> bool:
        """Whether the server process exists and has not exited."""
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        """The end of the server's output (for error messages)."""
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def start(self, timeout: float = 180.0, poll: float = 0.1) -> float:
        """Start the server and wait until ``GET /health`` answers 200; returns the seconds that took.
        RuntimeError (with the end of the server's log, the process stopped) if it exits or is not up in time."""
        if self.running:
            raise RuntimeError(f"the server is already running at {self.url}")
        t0 = time.perf_counter()
        self._log_file = open(self.log, "ab")
        self.proc = subprocess.Popen(self.cmd, stdout=self._log_file, stderr=subprocess.STDOUT, env=self.env,
                                     cwd=self.cwd, preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        while time.perf_counter() - t0 < timeout:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=1.0).status_code == 200:
                    return time.perf_counter() - t0
            except httpx.HTTPError:
                pass
            time.sleep(poll)
        self.stop()
        raise RuntimeError(f"the server was not up after {timeout:g} s:\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int | None:
        """Send ``sig`` (SIGTERM: uvicorn finishes the requests in flight and closes the log), wait, SIGKILL if it
        hangs; returns the exit status (-15: ended by SIGTERM), None if never started. Safe to call twice."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return self.proc.returncode

    @contextlib.contextmanager
    def guard(self) -> Iterator[ServerProcess]:
        """Around code that talks to the server: if it raises, the server is stopped before the error propagates."""
        try:
            yield self
        except BaseException:
            self.stop()
            raise

    def __enter__(self) -> ServerProcess:
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped" if self.proc is not None else "not started"
        return f"ServerProcess({self.url}, {state})"
