"""`mapapp serve` in another process, for the tests that need a real server apart
(GDAL clients, SIGKILL, several app processes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_environment(clean: bool) -> dict[str, str]:
    """This process's environment, without the ``MAPAPP_*`` variables if ``clean``."""
    if not clean:
        return dict(os.environ)
    return {k: v for k, v in os.environ.items() if not k.startswith("MAPAPP_")}


def start_server(
    env: dict[str, str],
    threads: int = 8,
    clean: bool = False,
    options: tuple[str, ...] = (),
    port: int | None = None,
) -> tuple[subprocess.Popen, str]:
    """Start `mapapp serve` (with more ``options``, on ``port`` or a free one) with
    ``env`` added to the environment (to one without any ``MAPAPP_*`` variable when
    ``clean``); wait until it answers /healthz and return (process, base URL)."""
    chosen = port
    said = ""
    for _attempt in range(3):  # a free port taken meanwhile by another test: again
        port = chosen or free_port()
        log = tempfile.TemporaryFile()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mapapp",
                "serve",
                "--port",
                str(port),
                "--threads",
                str(threads),
                *options,
            ],
            env={**base_environment(clean), **env},
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                log.close()
                return proc, base
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        proc.kill()
        proc.wait()
        log.seek(0)
        said = log.read()[-2000:].decode("utf-8", "replace")
        log.close()
        if chosen:
            break
    raise RuntimeError(f"mapapp serve did not start: {said}")


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)
