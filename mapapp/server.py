"""How ``mapapp serve`` runs waitress: bounded, so idle clients cannot stop it.

Waitress answers from one event loop and a pool of worker threads. A connection
costs a file descriptor, not a thread, until its request is complete; but waitress
stops accepting once ``connection_limit`` connections are open (100 by default) and
keeps an idle one for ``channel_timeout`` seconds (120 by default), so about a
hundred clients sending half a request each used to stop the server for two minutes.
The defaults here accept many more connections (file descriptors allowing: the
process's soft limit is raised towards the hard one), close idle ones sooner, and
use ``poll`` rather than ``select`` (which fails past 1024 descriptors).

This is not a substitute for a reverse proxy in production (docs/deploy.md): nginx
buffers requests and limits connections per client before they reach the app.
"""

from __future__ import annotations

import resource

THREADS = 8
CONNECTION_LIMIT = 1000
CHANNEL_TIMEOUT_S = 30
SPARE_DESCRIPTORS = 64  # for the store, logs, uploads and GDAL's temporary files


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
        # idle connections are looked for this often (waitress: every 30 s)
        "cleanup_interval": max(1, min(30, channel_timeout // 2)),
        "asyncore_use_poll": True,
        "ident": "mapapp",
    }
