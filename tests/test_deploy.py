"""The reverse proxy of docs/deploy.md, run as written with Debian's nginx in front of
`mapapp serve`: HTTPS seen by the app, the client's address not forgeable, idle
clients held by nginx, sign-in limited. Skipped without nginx, except in CI."""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mapapp import accounts
from mapapp.store.geopackage import GeoPackageStore
from tests.servers import free_port, start_server, stop

DOC = Path(__file__).resolve().parent.parent / "docs" / "deploy.md"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def documented_config() -> str:
    """The nginx block of docs/deploy.md, as it is written there."""
    text = DOC.read_text(encoding="utf-8")
    return re.search(r"```nginx\n(.*?)```", text, re.S).group(1)


@pytest.fixture
def proxied(tmp_path, seed_dir):
    """`mapapp serve` behind nginx configured by the documented file; yields the
    HTTPS URL, the HTTP URL and the instance folder."""
    if not os.path.exists(NGINX):
        if os.environ.get("CI"):
            pytest.fail("nginx is required in CI (apt-get install nginx-light)")
        pytest.skip("nginx not installed (apt-get install nginx-light)")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(tmp_path / "key.pem"),
         "-out", str(tmp_path / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    inst = tmp_path / "inst"
    app, app_url = start_server(
        {
            "MAPAPP_INSTANCE_PATH": str(inst),
            "MAPAPP_DATA_DIR": str(seed_dir),
            "MAPAPP_TILES": "none",
            "MAPAPP_TRUSTED_PROXIES": "1",
        }
    )
    https, http = free_port(), free_port()
    site = (
        documented_config()
        .replace("127.0.0.1:8000", app_url.removeprefix("http://"))
        .replace("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;")
        .replace("listen 80;", f"listen 127.0.0.1:{http};")
        .replace("/etc/letsencrypt/live/carte.example.fr/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/letsencrypt/live/carte.example.fr/privkey.pem", str(tmp_path / "key.pem"))
    )  # fmt: skip
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\naccess_log off;\nclient_body_temp_path {tmp_path}/body;\n"
        f"proxy_temp_path {tmp_path}/proxy;\n{site}\n}}\n"
    )
    nginx = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"])
    _wait_for(f"https://localhost:{https}/healthz")
    yield f"https://localhost:{https}", f"http://localhost:{http}", inst
    nginx.terminate()
    nginx.wait(timeout=10)
    stop(app)


CONTEXT = ssl.create_default_context()
CONTEXT.check_hostname = False
CONTEXT.verify_mode = ssl.CERT_NONE  # the test's own self-signed certificate


def _get(url: str, data: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=data, headers=headers or {})
    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=CONTEXT), _NoRedirect()
    )
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _wait_for(url: str) -> None:
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if _get(url)[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("nginx did not start")


def _sign_in(base: str, name: str, password: str, forged: str) -> tuple[int, dict]:
    status, headers, body = _get(base + "/auth/login")
    cookie = headers["Set-Cookie"].split(";")[0]
    token = re.search(rb'name="csrf_token" value="([^"]+)"', body).group(1).decode()
    form = f"name={name}&password={password}&csrf_token={token}".encode()
    status, headers, _body = _get(
        base + "/auth/login",
        form,
        {
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": forged,  # a client pretending to be elsewhere
        },
    )
    return status, headers


def test_the_documented_proxy_serves_https_and_hides_the_app(proxied):
    https, http, _inst = proxied
    assert _get(https + "/healthz")[0] == 200
    status, headers, _ = _get(http + "/embed")
    assert status == 301 and headers["Location"].startswith("https://")
    # HSTS once, from the proxy, on the app's answers and the proxy's own
    assert headers.get("Strict-Transport-Security") is None  # not over http
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=CONTEXT))
    for url in (https + "/healthz", https + "/nowhere"):
        try:
            sent = opener.open(url, timeout=10).headers
        except urllib.error.HTTPError as exc:
            sent = exc.headers
        assert sent.get_all("Strict-Transport-Security") == ["max-age=31536000"]
    page = _get(https + "/share")[2].decode()
    # the address the visitor used, as nginx passes it on ($host: no port)
    assert 'data-embed="https://localhost/embed"' in page


def test_the_app_sees_https_and_the_real_client_address(proxied):
    https, _http, inst = proxied
    store = GeoPackageStore(inst / "mapapp.gpkg", (5.7, 47.0, 6.3, 47.5))
    accounts.create_user(store, "alice", "admin", "long-enough-password")
    status, headers = _sign_in(https, "alice", "long-enough-password", "1.1.1.1")
    assert status == 302 and "Secure" in headers["Set-Cookie"]
    for n in range(accounts.MAX_PER_PAIR):  # five failures, "from" five addresses
        assert _sign_in(https, "alice", "wrong", f"10.0.0.{n}")[0] == 401
    # the forged addresses were not believed: the pair (alice, the client) is locked
    status, _ = _sign_in(https, "alice", "long-enough-password", "10.9.9.9")
    assert status == 429
    store.close()


def test_idle_clients_wait_at_the_proxy(proxied):
    https, _http, _inst = proxied
    port = int(https.rsplit(":", 1)[1])
    idle = []
    for _ in range(150):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"\x16\x03\x01")  # the start of a TLS hello, and nothing more
        idle.append(s)
    try:
        started = time.perf_counter()
        assert _get(https + "/healthz")[0] == 200
        assert time.perf_counter() - started < 3
    finally:
        for s in idle:
            s.close()
