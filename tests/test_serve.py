"""`mapapp serve` under idle and half-sent connections: it keeps answering."""

from __future__ import annotations

import contextlib
import os
import socket
import time
import urllib.request

import pytest
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
    """``count`` connections sending half a request, 40 from each of the loopback
    addresses 127.0.1.x (one address may open at most server.PER_ADDRESS)."""
    host, port = base.removeprefix("http://").split(":")
    clients = []
    for i in range(count):
        source = (f"127.0.1.{i // 40 + 1}", 0)
        s = socket.create_connection(
            (host, int(port)), timeout=5, source_address=source
        )
        s.sendall(HALF_A_REQUEST)  # and never the rest
        clients.append(s)
    return clients


def _closed(s: socket.socket, wait: float = 2) -> bool:
    """True when the server has closed the connection (it can no longer be read)."""
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


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


def _connect(base: str, source: str = "127.0.0.1") -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), 5, source_address=(source, 0))


def test_slow_headers_are_closed_even_while_they_trickle(tmp_path, seed_dir):
    """Slowloris: a header line every 0.5 s keeps a connection active, but its
    request must be complete within --header-timeout."""
    proc, base = start_server(
        _env(tmp_path, seed_dir), options=("--header-timeout", "2")
    )
    slow = [_connect(base, "127.0.2.1") for _ in range(5)]
    try:
        for s in slow:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        closed, started = set(), time.monotonic()
        while time.monotonic() - started < 6 and len(closed) < len(slow):
            time.sleep(0.5)
            for i, s in enumerate(slow):
                try:
                    s.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    closed.add(i)
        assert len(closed) == len(slow) or all(_closed(s) for s in slow)
        assert time.monotonic() - started < 6
    finally:
        for s in slow:
            s.close()
        stop(proc)


def test_one_address_holds_a_bounded_number_of_connections(tmp_path, seed_dir):
    proc, base = start_server(_env(tmp_path, seed_dir))
    held = [_connect(base, "127.0.3.1") for _ in range(server.PER_ADDRESS)]
    try:
        time.sleep(0.5)
        extra = _connect(base, "127.0.3.1")
        assert _closed(extra)  # closed at once, before it sends anything
        assert not _closed(held[0], wait=0.5)
        other = _connect(base, "127.0.3.2")  # another client is served
        other.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        other.settimeout(5)
        assert other.recv(100).startswith(b"HTTP/1.1 200")
    finally:
        for s in held:
            s.close()
        stop(proc)


@pytest.mark.parametrize(
    "path, size",
    [("/api/layers/coworking/features", 5 * 1024**2), ("/planner/import", 10**9)],
)
def test_big_bodies_are_refused_before_they_are_read(tmp_path, seed_dir, path, size):
    """A body beyond the app's limit is answered 413 from its Content-Length, not
    spooled to disk first (4 such POSTs of 1,000 MB used to write 3.9 GB)."""
    proc, base = start_server(_env(tmp_path, seed_dir))
    client = _connect(base)
    try:
        client.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        client.sendall(b"x" * 1024)
        client.settimeout(5)
        assert client.recv(100).startswith(b"HTTP/1.1 413")
    finally:
        client.close()
        stop(proc)


def test_body_limit_of_the_server_is_the_apps():
    options = server.waitress_options(max_body=51 * 1024**2)
    assert options["max_request_body_size"] == 51 * 1024**2


def test_at_the_connection_limit_slow_connections_make_room(tmp_path, seed_dir):
    """Every slot held by a request still sending its headers: a newcomer is served
    at once (the oldest slow connections are closed), not after the header
    timeout."""
    proc, base = start_server(
        _env(tmp_path, seed_dir), options=("--connection-limit", "30")
    )
    slow = []
    try:
        for _ in range(30):
            s = _connect(base, "127.0.4.1")
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        time.sleep(0.5)
        started = time.perf_counter()
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as r:
            assert r.status == 200
        assert time.perf_counter() - started < 3
        assert sum(_closed(s, wait=0.2) for s in slow) >= 1
    finally:
        for s in slow:
            s.close()
        stop(proc)


@contextlib.contextmanager
def _sending_channel():
    """(a BoundedChannel over one end of a socket pair, the other end to read
    from), both closed after."""
    from waitress.adjustments import Adjustments

    mine, theirs = socket.socketpair()
    try:
        mine.setblocking(False)
        theirs.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        yield (
            server.BoundedChannel(
                _Server(), mine, ("127.0.0.1", 1), Adjustments(), map={}
            ),
            theirs,
        )
    finally:
        mine.close()
        theirs.close()


class _Server:
    """What a waitress channel asks of its server while it sends."""

    active_channels: dict = {}

    def pull_trigger(self):
        pass


def test_large_responses_never_hold_a_thread_and_share_the_main_loop():
    """A worker thread hands its response to the main loop at once whatever its
    size (no high watermark to wait under: a client reading a 500 MB file slowly
    held a thread for as long), and the main loop sends each connection at most
    TURN_BYTES per turn (fifty such clients kept it from /healthz for seconds)."""
    import threading

    options = server.waitress_options()
    assert options["outbuf_high_watermark"] >= 1 << 40
    with _sending_channel() as (channel, theirs):
        assert channel.sendbuf_len >= server.SEND_CHUNK
        body = b"x" * (4 * server.TURN_BYTES)
        channel._turn_left = server.TURN_BYTES  # a turn of the main loop
        first = channel.send(body)
        assert 0 < first <= server.TURN_BYTES
        assert channel.send(body[first:]) == 0  # this turn's share is sent
        sent_from_thread = []
        worker = threading.Thread(
            target=lambda: sent_from_thread.append(channel.send(body))
        )
        channel._turn_left = server.TURN_BYTES
        worker.start()
        worker.join()
        assert sent_from_thread == [0]  # a worker thread leaves it to the loop


@pytest.mark.parametrize("where", ["disk", "memory"])
def test_response_files_are_sent_without_copies_a_share_per_turn(
    tmp_path, monkeypatch, where
):
    """A response file is sent by the kernel from the file (sendfile), or from its
    bytes in memory without reading them (waitress read each part twice), and
    still at most TURN_BYTES per turn of the main loop; the bytes arrive whole,
    and after them the next response's."""
    import io

    from waitress.buffers import ReadOnlyFileBasedBuffer

    from mapapp.views.http import _Sent

    data = os.urandom(5 * server.TURN_BYTES + 123)
    if where == "disk":
        path = tmp_path / "body"
        path.write_bytes(data)
        file = _Sent(open(path, "rb"))  # noqa: SIM115 - closed by the channel
    else:
        file = _Sent(io.BytesIO(data))
    calls = {"sendfile": 0, "read": 0}
    real_sendfile = os.sendfile

    def sendfile(*args):
        calls["sendfile"] += 1
        return real_sendfile(*args)

    monkeypatch.setattr(server.os, "sendfile", sendfile)
    real_read = file.read
    monkeypatch.setattr(
        file,
        "read",
        lambda *a: calls.__setitem__("read", calls["read"] + 1) or real_read(*a),
    )
    with _sending_channel() as (channel, theirs):
        body = ReadOnlyFileBasedBuffer(file)
        body.prepare()
        channel.outbufs = [body, *channel.outbufs]
        channel.total_outbufs_len = len(data)
        channel.write_soon(b"next")  # the next response, after the file
        received, turns = b"", 0
        while channel.total_outbufs_len:
            turns += 1
            channel.handle_write()
            part = theirs.recv(16 << 20)
            assert len(part) <= server.TURN_BYTES + len(b"next")
            received += part
        assert received == data + b"next"
        assert turns >= len(data) // server.TURN_BYTES
        assert calls["read"] == 0
        assert calls["sendfile"] == (turns if where == "disk" else 0)
        assert file.closed  # its turn given back once sent


def test_at_the_limit_a_young_half_sent_connection_makes_room():
    """At the connection limit, a connection that began a request and has not
    finished it is closed to make room however young it is (a slowloris client
    reconnecting at once kept every connection under a second old, and a new
    client waited 1.1 s); one just accepted that has not spoken keeps its chance."""
    from types import SimpleNamespace

    now = time.time()

    def channel(age: float, started: float | None):
        return SimpleNamespace(
            requests=[],
            will_close=False,
            creation_time=now - age,
            request_started=started,
            last_activity=now - age,
        )

    silent = channel(0.1, None)
    half_sent = channel(0.2, now - 0.2)
    old_idle = channel(30, None)
    channels = {1: silent, 2: half_sent, 3: old_idle}
    room = SimpleNamespace(
        active_channels=channels, adj=SimpleNamespace(connection_limit=30)
    )
    server._make_room(room)  # a tenth of 30: three at most
    assert half_sent.will_close and old_idle.will_close
    assert not silent.will_close


def test_the_server_keeps_two_malloc_arenas():
    """`mapapp serve` caps glibc's memory pools (M_ARENA_MAX) before its threads
    start: one pool per thread left the server at 1.09 GB with a million
    companies' analyses, 0.76 GB with two."""
    import inspect
    import platform

    from mapapp import cli

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("not glibc")
    assert server.limit_malloc_arenas() is True
    source = inspect.getsource(cli.serve.callback)
    assert source.index("limit_malloc_arenas") < source.index("open_site()")


HOLDING_SERVER = """
import sys
from mapapp import server

def app(environ, start_response):
    if environ["PATH_INFO"] == "/busy":
        start_response("503 Service Unavailable", [("Retry-After", "5")])
        return [b"come back later"]
    if environ["PATH_INFO"] == "/soon":  # held no longer than its Retry-After
        start_response("503 Service Unavailable", [("Retry-After", "1")])
        return [b"in a second"]
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]

wsgi = server.make_server(app, "127.0.0.1", 0, server.waitress_options(threads=1))
print(wsgi.effective_port, flush=True)
wsgi.run()  # the main loop in the main thread, as in `mapapp serve`
"""


def test_a_refusal_is_held_back_without_holding_a_thread():
    """A 503 is sent REFUSAL_HOLD_S after it is decided, so a client that asks
    again at once (ignoring Retry-After) asks about once a second at most; the
    hold takes no thread: with a single thread, /ok answers at once while five
    refusals are held."""
    import http.client
    import subprocess
    import sys
    import threading

    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDING_SERVER], stdout=subprocess.PIPE, text=True
    )

    def call(path):
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read(), time.monotonic() - started
        finally:
            conn.close()

    try:
        port = int(proc.stdout.readline())
        assert call("/ok")[:2] == (200, b"ok")
        refused = []
        askers = [
            threading.Thread(target=lambda: refused.append(call("/busy")))
            for _ in range(5)
        ]
        for t in askers:
            t.start()
        time.sleep(0.3)  # the five are answered, and held
        status, body, seconds = call("/ok")
        assert (status, body) == (200, b"ok")
        assert seconds < 0.5
        for t in askers:
            t.join()
        assert [r[:2] for r in refused] == [(503, b"come back later")] * 5
        hold = server.REFUSAL_HOLD_S
        assert all(hold <= r[2] < hold + 0.5 for r in refused), refused
        status, body, seconds = call("/soon")
        assert (status, body) == (503, b"in a second")
        assert 1 <= seconds < 1.5
    finally:
        proc.kill()
        proc.wait()
