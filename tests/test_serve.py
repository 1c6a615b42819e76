"""`mapapp serve` under idle and half-sent connections: it keeps answering."""

from __future__ import annotations

import socket
import time
import urllib.request

from click.testing import CliRunner

from mapapp import server
from mapapp.cli import main
from tests.servers import start_server, stop

HALF_A_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


def _env(tmp_path, seed_dir) -> dict[str, str]:
    return {
        "MAPAPP_INSTANCE_PATH": str(tmp_path / "inst"),
        "MAPAPP_DATA_DIR": str(seed_dir),
        "MAPAPP_TILES": "none",
    }


def _idle_clients(base: str, count: int) -> list[socket.socket]:
    host, port = base.removeprefix("http://").split(":")
    clients = []
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=5)
        s.sendall(HALF_A_REQUEST)  # and never the rest
        clients.append(s)
    return clients


def test_healthz_answers_while_150_idle_connections_are_open(tmp_path, seed_dir):
    proc, base = start_server(_env(tmp_path, seed_dir))  # the default options
    clients = _idle_clients(base, 150)
    try:
        started = time.perf_counter()
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
            assert r.status == 200
        assert time.perf_counter() - started < 2
    finally:
        for s in clients:
            s.close()
        stop(proc)


def test_idle_connections_are_closed_after_the_channel_timeout(tmp_path, seed_dir):
    proc, base = start_server(
        _env(tmp_path, seed_dir), options=("--channel-timeout", "2")
    )
    clients = _idle_clients(base, 20)
    try:
        time.sleep(5)  # the timeout, and the next sweep for idle connections
        closed = 0
        for s in clients:
            s.settimeout(2)
            try:
                closed += s.recv(1) == b""
            except ConnectionResetError:
                closed += 1
            except TimeoutError:
                pass  # still open
        assert closed == len(clients)
    finally:
        for s in clients:
            s.close()
        stop(proc)


def test_connection_limit_follows_the_file_limit():
    options = server.waitress_options(connection_limit=10**6)
    assert options["asyncore_use_poll"] is True
    assert options["connection_limit"] < 10**6


def test_serve_options_are_documented_and_checked(runner: CliRunner):
    result = runner.invoke(main, ["serve", "--help"])
    assert (
        "--connection-limit" in result.output and "--channel-timeout" in result.output
    )
    bad = runner.invoke(main, ["serve", "--threads", "0"])
    assert bad.exit_code == 2
