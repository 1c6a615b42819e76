"""Heavy builds of large layers in worker processes, never in the server's own.

Building what a large layer serves (its map arrays, its list index, its downloads,
its analysis columns) means single pandas, GEOS and JSON calls over a million rows,
each holding Python's interpreter lock for up to seconds: built in a thread, they
stop every other request of the server meanwhile (``/healthz`` answered after 3.6 s
at 1,000,000 companies), and the memory they took stays with the server. Built here,
in a process of their own, the server's threads only wait for the result (a wait that
holds no lock), and the build's peak memory goes back to the system with its process.

A :class:`Workers` pool runs at most ``at_once`` builds together (the heavy-work gate
of :mod:`mapapp.cache` decides who gets a turn). Its processes come from a fork
server that imported the app once, so a new process starts in milliseconds; each
process does one build and ends (``max_tasks_per_child``), so no build inherits
another's memory. A job is a module-level function called as ``job(site, *args)``
with a :class:`~mapapp.site.Site` of the worker's own over the same settings; its
result comes back pickled (numpy arrays and packed texts, not Python objects per
feature) or as files it wrote (``DiskBodies``).

Small layers are built in the thread that asks, as before: a process costs more than
their build (``WORKER_MIN_FEATURES``).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .errors import Busy

log = logging.getLogger(__name__)

# the fork server imports the site (pandas, GeoPandas, GDAL bindings...) once; each
# worker is a fork of it, ready at once and sharing those pages with its siblings
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["mapapp.site"])


class WorkerLost(Busy):
    """A worker process ended before its build did (killed for memory, say): the
    request is told to come back, and the next build gets a new pool."""


class Workers:
    """A pool of worker processes for the heavy builds of one site's large layers
    (see the module docstring), at most ``at_once`` processes."""

    def __init__(self, settings, at_once: int = 2):
        self.settings = settings
        self.at_once = max(1, int(at_once))
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def wanted(self, features: int) -> bool:
        """Whether a layer of ``features`` features is built in a worker: from
        WORKER_MIN_FEATURES on (a negative value: never)."""
        least = int(self.settings.values.get("WORKER_MIN_FEATURES", 50_000))
        return 0 <= least <= features

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.at_once,
                    mp_context=_CONTEXT,
                    max_tasks_per_child=1,
                    initializer=_start_worker,
                )
            return self._pool

    def run(self, job: Callable[..., Any], *args: Any) -> Any:
        """``job(site, *args)`` in a worker process; its result (or its error)."""
        pool = self._executor()
        try:
            return pool.submit(_run, self.settings, job, args).result()
        except BrokenProcessPool as exc:
            with self._lock:  # the next build starts a new pool
                if self._pool is pool:
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            log.error("a worker process ended during %s", job.__name__)
            raise WorkerLost(
                "the server could not finish preparing this data "
                "(a worker process ended): ask again in a moment",
                retry_after=10,
            ) from exc

    def close(self) -> None:
        """End the worker processes (those building finish first)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


# A build is background work: a worker runs at a lower priority than the server,
# so on a machine whose cores are all busy (a build, and a crowd of requests) the
# server's threads get the processor first; the build takes the time they leave.
WORKER_NICENESS = 10


def _start_worker() -> None:
    """In a new worker: yield the processor to the server, and end with it."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not allowed here: the build competes as an equal
        pass
    _die_with_parent()


def _die_with_parent() -> None:
    """In a new worker: end with the server. A worker's parent is the fork
    server, which ends once no process holds its "alive" pipe open; each worker
    is handed that pipe too, so an idle worker (waiting on a queue it also holds
    open) and the fork server kept each other alive after the server was killed.
    The worker lets go of the pipe, so the fork server ends with the server, and
    asks to be killed when its parent ends."""
    from multiprocessing import forkserver

    alive = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)
    if alive is not None:
        try:
            os.close(alive)
        except OSError:
            pass
        forkserver._forkserver._forkserver_alive_fd = None
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the build ends on its own
        pass
    if os.getppid() == 1:  # the fork server ended before the call above
        os._exit(0)


def _run(settings, job: Callable[..., Any], args: tuple) -> Any:
    """In the worker: open a site over the same settings, run the job, close."""
    from .site import Site

    site = Site(settings, in_worker=True)
    try:
        return job(site, *args)
    finally:
        site.close()
