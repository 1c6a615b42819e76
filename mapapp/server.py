"""How ``mapapp serve`` runs waitress: bounded, so idle clients cannot stop it.

Waitress answers from one event loop and a pool of worker threads. A connection
costs a file descriptor, not a thread, until its request is complete; but waitress
stops accepting once ``connection_limit`` connections are open (100 by default) and
keeps an idle one for ``channel_timeout`` seconds (120 by default), so about a
hundred clients sending half a request each used to stop the server for two minutes.
The defaults here accept many more connections (file descriptors allowing: the
process's soft limit is raised towards the hard one), close idle ones sooner, and
use ``poll`` rather than ``select`` (which fails past 1024 descriptors).

An idle timeout does not stop a client that sends a header line every few seconds
(slowloris): each connection must finish its request line and headers within
``HEADER_TIMEOUT_S`` of its first byte, and its body within ``BODY_TIMEOUT_S``,
or it is closed; one address holds at most ``PER_ADDRESS`` connections (when no
proxy is trusted: behind one, every connection comes from the proxy, which limits
its clients itself). A body is refused beyond ``max_request_body_size``, set from
the app's own largest (the upload limit), so waitress never spools a gigabyte to
disk before the app says 413.

This is not a substitute for a reverse proxy in production (docs/deploy.md): nginx
buffers requests and limits connections per client before they reach the app.
"""

from __future__ import annotations

import copy
import ctypes
import errno
import heapq
import logging
import os
import resource
import sys
import threading
import time

from waitress.buffers import ReadOnlyFileBasedBuffer
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.task import WSGITask
from waitress.wasyncore import _DISCONNECTED

from .limits import MAX_JSON_BODY

log = logging.getLogger(__name__)

THREADS = 8
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT_S = 30
HEADER_TIMEOUT_S = 10  # from a request's first byte to the end of its headers
BODY_TIMEOUT_S = 300  # from a request's first byte to the end of its body (uploads)
PER_ADDRESS = 50  # connections open at once from one client address (no proxy)
MAX_HEADER_BYTES = 64 * 1024  # request line and headers
# Only the admin's upload page takes a file; any other body is refused by waitress
# beyond a JSON feature's limit, before it is read (path as the app sees it).
UPLOAD_PATH = "/planner/import"
SMALL_BODY = MAX_JSON_BODY + 64 * 1024
SWITCH_INTERVAL_S = 0.001  # Python's default is 5 ms
SPARE_DESCRIPTORS = 64  # for the store, logs, uploads and GDAL's temporary files
# waitress makes a worker thread wait while more than this is left to send on its
# connection (16 MB by default): a whole-layer GeoJSON or download of a large layer
# (50 to 500 MB, always a file streamed with wsgi.file_wrapper) then held a thread
# for as long as its client took to read it, and eight downloads held them all
# (/healthz waited 2-4 s behind them). The bodies over 16 MB this app sends are
# such files, sent by the main loop from disk without holding memory; the bodies it
# makes in memory are bounded by its own limits (an OGC page, a map page: a few MB)
# and beyond ``outbuf_overflow`` (1 MB) waitress spools them to a temporary file.
OUTBUF_HIGH_WATERMARK = 1 << 40
TURN_BYTES = 64 * 1024  # what one connection may send per turn of the main loop
SEND_CHUNK = 64 * 1024  # read from a response file at once
# A refusal (503: the server is busy building or sending, a query ran out of time)
# is sent this long after it is decided (or after its Retry-After, if shorter). A
# client told to come back (Retry-After) that asks again at once, over and over,
# had its refusals cost the server nothing but its own time: 200 such clients
# asked 600 times a second while a million companies' map data was built, and
# the server's threads, busy refusing them, answered /healthz after 456 ms (p99);
# held 1 s, after up to 198 ms; held 2 s (and the loop woken when a hold ends),
# after 114-131 ms. Held here,
# each such client asks at most about once every two seconds; the hold takes no
# thread (the main loop keeps the response until its time), and a browser that
# honours Retry-After loses nothing.
REFUSAL_HOLD_S = 2.0

MALLOC_ARENAS = 2  # glibc's memory pools for the server's threads (default: 8 per core)


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let glibc's malloc keep at most ``arenas`` pools for this process's threads
    (``M_ARENA_MAX``, as the ``MALLOC_ARENA_MAX`` variable does); True if it took.

    By default each thread that allocates while another does gets a pool of its
    own, and memory freed in a pool stays with it: with a million companies, the
    scenarios and dossiers of three planners while another one edits left the
    server at 1.09 GB, 0.80 GB with two pools, for the same work (the interpreter
    lock lets one thread allocate at a time anyway)."""
    try:
        return ctypes.CDLL("libc.so.6").mallopt(-8, int(arenas)) == 1  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: its own allocator decides
        return False


def raise_file_limit(wanted: int) -> int:
    """Raise this process's soft limit of open files towards ``wanted`` (at most the
    hard limit); return the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    return soft


def waitress_options(
    threads: int = THREADS,
    connection_limit: int = CONNECTION_LIMIT,
    channel_timeout: int = CHANNEL_TIMEOUT_S,
    trusted_proxies: int = 0,
    max_body: int = 1024 * 1024,
    header_timeout: int = HEADER_TIMEOUT_S,
) -> dict:
    """waitress.serve() options for these limits, the connection limit cut to the
    file descriptors this process may open.

    Waitress removes ``X-Forwarded-*`` headers by default; with trusted proxies
    (``MAPAPP_TRUSTED_PROXIES``) they are passed on, and the app reads exactly that
    many hops of them (werkzeug's ProxyFix, in ``create_app``)."""
    available = raise_file_limit(connection_limit + SPARE_DESCRIPTORS)
    return {
        "clear_untrusted_proxy_headers": trusted_proxies <= 0,
        "threads": threads,
        "connection_limit": max(
            1, min(connection_limit, available - SPARE_DESCRIPTORS)
        ),
        "channel_timeout": channel_timeout,
        # idle and slow connections are looked for this often (waitress: 30 s)
        "cleanup_interval": max(1, min(5, channel_timeout // 2, header_timeout // 2)),
        "max_request_body_size": max_body,
        "max_request_header_size": MAX_HEADER_BYTES,
        "outbuf_high_watermark": OUTBUF_HIGH_WATERMARK,
        "asyncore_use_poll": True,
        "ident": "mapapp",
    }


class BoundedParser(HTTPRequestParser):
    """A request whose body limit depends on its path: the upload page's is the
    server's, any other's :data:`SMALL_BODY` (413 at once from its Content-Length)."""

    def parse_header(self, header_plus):
        super().parse_header(header_plus)
        if not self.path.rstrip("/").endswith(UPLOAD_PATH):
            adj = copy.copy(self.adj)
            adj.max_request_body_size = min(SMALL_BODY, adj.max_request_body_size)
            self.adj = adj


def _file_descriptor(file) -> int | None:
    """The descriptor of a response file on disk (None: bytes in memory)."""
    try:
        return file.fileno()
    except (AttributeError, OSError, ValueError):
        return None


class HoldingTask(WSGITask):
    """A response that is held back (:data:`REFUSAL_HOLD_S`) when it is a 503."""

    def write(self, data):
        if not self.wrote_header and self.status[:3] == "503":
            hold = getattr(self.channel, "hold", None)
            if hold is not None:  # before any byte of it is queued
                hold(min(REFUSAL_HOLD_S, _retry_after(self.response_headers)))
        super().write(data)


class _Waker:
    """Wakes a server's main loop when a hold ends (otherwise it would sleep in its
    poll until the next event, or a second): one thread for every hold."""

    def __init__(self):
        self._due: list[tuple[float, int, object]] = []
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None

    def at(self, when: float, server) -> None:
        with self._changed:
            heapq.heappush(self._due, (when, id(server), server))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mapapp-waker", daemon=True
                )
                self._thread.start()
            self._changed.notify()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._due:
                    self._changed.wait()
                when, _, server = self._due[0]
                left = when - time.monotonic()
                if left > 0:
                    self._changed.wait(left)
                    continue
                heapq.heappop(self._due)
            try:
                server.pull_trigger()
            except Exception:  # a server closed meanwhile: nothing to wake
                log.debug("no loop to wake", exc_info=True)


_WAKER = _Waker()


def _retry_after(headers) -> float:
    """A response's Retry-After in seconds (at least 1; inf when absent or a date)."""
    for name, value in headers:
        if name.lower() == "retry-after":
            try:
                return max(1.0, float(value))
            except ValueError:
                break
    return float("inf")


class BoundedChannel(HTTPChannel):
    """A waitress connection that notes when the request it is receiving began,
    and sends at most :data:`TURN_BYTES` of its response each time the main loop
    comes to it.

    Waitress's main loop sends every response from one thread, each connection
    until its socket takes no more: fifty clients reading whole-layer files over
    a fast link kept that thread sending for seconds per round, and a request
    arriving meanwhile (``/healthz``) waited 1.5 s for its turn to be read and
    answered. A bounded share per turn lets the loop come back to it at once;
    chunks of :data:`SEND_CHUNK` (not the socket's 16 kB buffer size) keep the
    Python work per byte small. Worker threads never send: they hand the
    response to the loop and are free for the next request."""

    parser_class = BoundedParser
    task_class = HoldingTask
    request_started: float | None = None
    _turn_left = 0
    _held_until = 0.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sendbuf_len = max(self.sendbuf_len, SEND_CHUNK)

    def hold(self, seconds: float) -> None:
        """Send nothing on this connection for ``seconds`` (a refusal's hold)."""
        self._held_until = time.monotonic() + seconds
        _WAKER.at(self._held_until, self.server)

    def writable(self):
        # held: not polled for writing (the loop would turn without sending);
        # the waker wakes the loop when the hold ends, and it sends
        if self._held_until and time.monotonic() < self._held_until:
            return False
        self._held_until = 0.0
        return super().writable()

    def handle_write(self):
        self._turn_left = TURN_BYTES
        super().handle_write()

    def _flush_some(self, do_close=True):
        # waitress's loop, with a response file sent from without a copy
        sent = 0
        while True:
            outbuf = self.outbufs[0]
            left = outbuf.__len__()
            while left > 0:
                num_sent = self._send_from(outbuf, do_close)
                if not num_sent:
                    break
                left -= num_sent
                sent += num_sent
                self.total_outbufs_len -= num_sent
            if left > 0 or len(self.outbufs) == 1:
                break  # the socket is full, the turn is spent, or all is sent
            done = self.outbufs.pop(0)
            try:
                done.close()
            except Exception:
                self.logger.exception("Unexpected error when closing an outbuf")
        if sent:
            self.last_activity = time.time()
        return bool(sent)

    def _send_from(self, outbuf, do_close: bool) -> int:
        """Send the next part of ``outbuf`` and move past it; the bytes sent.

        A response file (``wsgi.file_wrapper``) is sent by the kernel from the
        file itself (``sendfile``), or from its bytes in memory without a copy:
        waitress reads each part of it twice (once to send it, once to skip it),
        which made reading the larger part of the main loop's time while fifty
        clients downloaded a layer."""
        if isinstance(outbuf, ReadOnlyFileBasedBuffer):
            file = outbuf.file
            memory = getattr(file, "memory", None)
            fd = None if memory is not None else _file_descriptor(file)
            if fd is not None or memory is not None:
                if not self._may_send():
                    return 0
                offset = file.tell()
                size = min(outbuf.remain, self._turn_left)
                if fd is not None:
                    num_sent = self._sendfile(fd, offset, size, do_close)
                else:
                    num_sent = super().send(
                        memory()[offset : offset + size], do_close=do_close
                    )
                if num_sent:
                    file.seek(offset + num_sent)
                    outbuf.remain -= num_sent
                    self._turn_left -= num_sent
                return num_sent
        num_sent = self.send(outbuf.get(self.sendbuf_len), do_close=do_close)
        if num_sent:
            outbuf.skip(num_sent, True)
        return num_sent

    def _sendfile(self, fd: int, offset: int, size: int, do_close: bool) -> int:
        try:
            return os.sendfile(self.socket.fileno(), fd, offset, size)
        except OSError as why:
            if why.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                return 0
            if why.errno in _DISCONNECTED:
                if do_close:
                    self.handle_close()
                return 0
            raise

    def _may_send(self) -> bool:
        # a worker thread flushing its response itself would send as long as the
        # client reads (holding the thread): the main loop sends it; and each
        # connection sends at most its share of the loop's turn
        return (
            threading.current_thread() is threading.main_thread()
            and self._turn_left > 0
        )

    def send(self, data, do_close=True):
        if threading.current_thread() is not threading.main_thread():
            # a worker thread flushing its response itself would send as long as
            # the client reads (holding the thread): the main loop sends it
            return 0
        if self._turn_left <= 0:
            return 0  # this turn's share is sent: the others' turn
        sent = super().send(data[: self._turn_left], do_close=do_close)
        self._turn_left -= sent
        return sent

    def received(self, data):
        waiting = self.request is not None
        result = super().received(data)
        if self.request is None:
            self.request_started = None
        elif not waiting or self.request_started is None:
            self.request_started = time.time()  # waitress's clock
        return result


def _close_slow(server, now: float, header_s: float, body_s: float) -> None:
    """Mark for closing the connections whose request is too slow to arrive."""
    for channel in list(server.active_channels.values()):
        request, began = channel.request, getattr(channel, "request_started", None)
        if request is None or began is None or request.completed:
            continue
        limit = body_s if request.headers_finished else header_s
        if now - began > limit:
            channel.will_close = True


class _PerAddress:
    """Counts the open connections of each client address on one server."""

    def __init__(self, limit: int):
        self.limit, self.open = limit, {}
        self.lock = threading.Lock()  # closes may come from worker threads

    def admit(self, channel) -> bool:
        host = channel.addr[0] if isinstance(channel.addr, tuple) else channel.addr
        with self.lock:
            count = self.open.get(host, 0)
            if count >= self.limit:
                return False
            self.open[host] = count + 1
        channel._mapapp_host = host
        return True

    def leave(self, channel) -> None:
        host = getattr(channel, "_mapapp_host", None)
        if host is None:
            return
        channel._mapapp_host = None
        with self.lock:
            left = self.open.get(host, 1) - 1
            if left > 0:
                self.open[host] = left
            else:
                self.open.pop(host, None)


def make_server(
    app,
    host: str,
    port: int,
    options: dict,
    header_timeout: float = HEADER_TIMEOUT_S,
    body_timeout: float = BODY_TIMEOUT_S,
    per_address: int | None = PER_ADDRESS,
):
    """A waitress server with ``options`` whose connections must send their request
    in time (headers, then body) and, with ``per_address``, at most that many
    connections open from one address (None: no such limit, behind a proxy)."""
    from waitress import create_server

    # a thread answering /healthz waits for the interpreter lock behind one that
    # computes (a spatial filter, a map build) up to this long at each step
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    wsgi = create_server(app, host=host, port=port, **options)
    servers = getattr(wsgi, "map", None)
    targets = (
        [wsgi]
        if servers is None
        else [v for v in servers.values() if hasattr(v, "maintenance")]
    )
    for target in targets:
        _bound(target, header_timeout, body_timeout, per_address)
    return wsgi


def _bound(target, header_s: float, body_s: float, per_address: int | None) -> None:
    counter = _PerAddress(per_address) if per_address else None

    class Channel(BoundedChannel):
        def __init__(self, server, sock, addr, adj, map=None):  # noqa: A002
            super().__init__(server, sock, addr, adj, map)
            if counter is not None and not counter.admit(self):
                self.will_close = True  # closed by the loop before it reads
                self.close()

        def del_channel(self, map=None):  # noqa: A002 - every way of closing
            if counter is not None:
                counter.leave(self)
            super().del_channel(map)

    target.channel_class = Channel
    sweep = target.maintenance

    def maintenance(now):
        sweep(now)
        _close_slow(target, now, header_s, body_s)

    target.maintenance = maintenance
    accepts = target.readable

    def readable():
        # at the connection limit, the connections that hold a slot without a
        # request at work (idle, or still sending headers) make room, the oldest
        # first, rather than every newcomer waiting for them
        if target.accepting and len(target._map) >= target.adj.connection_limit:
            _make_room(target)
        return accepts()

    target.readable = readable


EVICT_SHARE = 10  # at the connection limit, close 1/EVICT_SHARE of the connections


def _make_room(server) -> None:
    """Mark for closing the oldest connections with no request being answered."""
    # a connection accepted within the last second that has not spoken yet is left
    # its chance; one that began a request and has not finished it is not, however
    # young: a slowloris client reconnecting at once kept every connection younger
    # than a second, and no room was made for a second (a new client waited 1.1 s)
    recent = time.time() - 1
    idle = [
        channel
        for channel in list(server.active_channels.values())  # a copy: workers close
        if not channel.requests
        and not channel.will_close
        and (
            channel.creation_time < recent
            or getattr(channel, "request_started", None) is not None
        )
    ]
    if not idle:
        return

    def since(channel) -> float:  # idle since, or sending its request since
        began = getattr(channel, "request_started", None)
        return channel.last_activity if began is None else began

    idle.sort(key=since)
    for channel in idle[: max(1, server.adj.connection_limit // EVICT_SHARE)]:
        channel.will_close = True
