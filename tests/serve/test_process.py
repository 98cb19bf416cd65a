"""Tests of tsrec.serve.process: the real ``tsrec serve`` started as a child process, waited for, and stopped."""
from __future__ import annotations

import signal
import socket

import httpx
import numpy as np
import pytest
import torch

from tsrec import data, splits
from tsrec.models.sequential import SASRec
from tsrec.serve import ServerProcess, free_port, save_model


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("process")
    split = splits.leave_one_out(data.synthetic().interactions)
    torch.manual_seed(0)
    model = SASRec(split.n_items, max_len=8, hidden=16, n_blocks=1).eval()
    return save_model(model, tmp / "sasrec.pt", split.item_map, split.user_map,
                      item_counts=np.bincount(split.train["item"], minlength=split.n_items + 1))


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
    assert 0 < port < 65536


def test_start_waits_for_health_and_stop_leaves_no_process(checkpoint, tmp_path):
    srv = ServerProcess(checkpoint, tmp_path / "events.sqlite", tmp_path / "server.log", args=("--threads", "1"))
    assert srv.stop() is None and not srv.running and "not started" in repr(srv)
    seconds = srv.start()
    assert seconds > 0 and srv.running and srv.cmd[1:4] == ["-m", "tsrec", "serve"]
    h = httpx.get(srv.url + "/health", timeout=5).json()
    assert h["status"] == "ok" and h["model"] == "SASRec"
    with pytest.raises(RuntimeError, match="already running"):
        srv.start()
    code = srv.stop()
    assert code in (0, -signal.SIGTERM) and not srv.running and srv.proc.poll() is not None
    assert srv.stop() == code                                         # idempotent
    assert "tsrec serve: SASRec" in srv.log_tail()
    with pytest.raises(httpx.HTTPError):
        httpx.get(srv.url + "/health", timeout=2)


def test_context_manager_and_guard_stop_the_server(checkpoint, tmp_path):
    with ServerProcess(checkpoint, tmp_path / "events.sqlite", tmp_path / "server.log") as srv:
        assert srv.running
        with pytest.raises(ZeroDivisionError), srv.guard():
            1 / 0
        assert not srv.running                                        # the failing block stopped it
    assert srv.proc.poll() is not None


def test_a_server_that_exits_raises_with_its_log(tmp_path):
    srv = ServerProcess(tmp_path / "missing.pt", tmp_path / "events.sqlite", tmp_path / "server.log")
    with pytest.raises(RuntimeError, match="does not exist"):
        srv.start()
    assert not srv.running and srv.proc.returncode == 2


def test_a_server_not_up_in_time_is_stopped(checkpoint, tmp_path):
    srv = ServerProcess(checkpoint, tmp_path / "events.sqlite", tmp_path / "server.log")
    with pytest.raises(RuntimeError, match="not up after"):
        srv.start(timeout=0.01)
    assert not srv.running and srv.proc.poll() is not None
