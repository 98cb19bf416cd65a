"""The test suite's network guard: pytest-socket (``--allow-hosts`` in pyproject.toml) fails a test that opens a
connection to any host but this machine, in the test and in the fixtures it uses; loopback stays open (the
served app and papermill's kernels talk over it). The LM and encoder tests rely on it to prove they are offline."""
from __future__ import annotations

import socket

import pytest
from pytest_socket import SocketConnectBlockedError

pytestmark = pytest.mark.filterwarnings("ignore:A test tried to use socket:UserWarning")

REMOTE = ("93.184.216.34", 80)  # example.com's old address: never reached, the guard refuses first


@pytest.fixture(scope="module")
def remote_attempt_in_a_fixture():
    """What a fixture (say, one loading a model from a hub) meets when it tries the network."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(REMOTE)
        except SocketConnectBlockedError as e:
            return e
    return None


def test_the_guard_is_configured_for_loopback_only(pytestconfig):
    hosts = set(pytestconfig.getoption("--allow-hosts").split(","))
    assert hosts == {"127.0.0.1", "localhost", "::1"}
    assert not pytestconfig.getoption("--disable-socket")  # loopback sockets must keep working


def test_a_remote_connection_fails_the_test():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(SocketConnectBlockedError):
        sock.connect(REMOTE)
    with pytest.raises(SocketConnectBlockedError, match="93.184.216.34"):
        socket.create_connection(REMOTE, timeout=1)


def test_fixtures_are_guarded_too(remote_attempt_in_a_fixture):
    assert isinstance(remote_attempt_in_a_fixture, SocketConnectBlockedError)


def test_loopback_connections_still_work():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5) as client:
            conn, _ = server.accept()
            with conn:
                client.sendall(b"ping")
                assert conn.recv(4) == b"ping"
