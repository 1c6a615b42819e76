"""Sign-in, sessions, CSRF, and the guard on every planner and state-changing route."""

from __future__ import annotations

import re

import pytest

from mapapp import accounts

PASSWORD = "long-enough-password"


@pytest.fixture
def alice(store):
    accounts.create_user(store, "alice", "planner", PASSWORD)
    return "alice"


def login(client, name="alice", password=PASSWORD, **kwargs):
    page = client.get("/auth/login", **kwargs).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post(
        "/auth/login",
        data={"name": name, "password": password, "csrf_token": token},
        **kwargs,
    )


def csrf_of(client) -> str:
    page = client.get("/planner/").get_data(as_text=True)
    return re.search(r'"csrf":"([^"]+)"', page).group(1)


def test_login_page_in_both_languages(client):
    assert "Connexion des planificateurs" in client.get("/auth/login?lang=fr").get_data(
        as_text=True
    )
    assert "Planner sign-in" in client.get("/auth/login?lang=en").get_data(as_text=True)


def test_sign_in_sets_a_safe_session_cookie(client, alice):
    response = login(client)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/planner/"
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert client.get("/planner/").status_code == 200


def test_session_cookie_is_secure_over_https(app, alice):
    client = app.test_client()
    response = login(client, base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_wrong_password_and_rate_limit(client, alice):
    assert login(client, password="wrong-password").status_code == 401
    for _ in range(accounts.MAX_PER_PAIR):
        login(client, password="wrong-password")
    response = login(client)
    assert response.status_code == 429
    assert "15" in response.get_data(as_text=True)


def test_login_refuses_a_forged_form(client, alice):
    response = client.post("/auth/login", data={"name": "alice", "password": PASSWORD})
    assert response.status_code == 400


def test_next_parameter_cannot_leave_the_site(client, alice):
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/auth/login?next=//evil.example/x",
        data={"name": "alice", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"].endswith("/planner/")


def test_logout_needs_the_csrf_token(client, alice):
    login(client)
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/planner/").status_code == 200
    client.post("/auth/logout", data={"csrf_token": csrf_of(client)})
    assert client.get("/planner/").status_code == 302


def test_session_write_without_csrf_header_is_refused(client, alice):
    login(client)
    body = {"properties": {"desks": 5}}
    r = client.patch(
        "/api/layers/coworking/features/le-numerique",
        json=body,
        headers={"If-Match": '"1"'},
    )
    assert r.status_code == 400
    r = client.patch(
        "/api/layers/coworking/features/le-numerique",
        json=body,
        headers={"If-Match": '"1"', "X-CSRF-Token": csrf_of(client)},
    )
    assert r.status_code == 200


def _session_cookie(client) -> str:
    return client.get_cookie("mapapp_session").value


def test_sign_out_ends_the_session_on_the_server(app, client, alice):
    login(client)
    stolen = _session_cookie(client)  # a copy of the cookie, taken before sign-out
    client.post("/auth/logout", data={"csrf_token": csrf_of(client)})
    replay = app.test_client()
    replay.set_cookie("mapapp_session", stolen)
    assert replay.get("/planner/").status_code == 302
    assert replay.get("/api/layers/coworking/features/le-numerique").status_code == 401


def test_password_change_ends_every_session(app, client, alice, store):
    login(client)
    other = app.test_client()
    login(other)
    accounts.change_password(store, "alice", "a-brand-new-passphrase")
    assert client.get("/planner/").status_code == 302
    assert other.get("/planner/").status_code == 302


def test_recreated_account_inherits_no_session(client, alice, store):
    login(client)
    store.private.remove_user("alice")
    accounts.create_user(store, "alice", "admin", PASSWORD)
    assert client.get("/planner/").status_code == 302


def test_session_cookie_holds_no_user_name(app, client, alice):
    login(client)
    serializer = app.session_interface.get_signing_serializer(app)
    data = serializer.loads(_session_cookie(client))
    assert set(data) == {"sid", "csrf", "_permanent"} and "alice" not in str(data)


def test_removed_user_loses_access(client, alice, store):
    login(client)
    store.private.remove_user("alice")
    assert client.get("/planner/").status_code == 302


def _routes(app):
    """Every (method, path) of the URL map, with sample values for its variables."""
    samples = {
        "name": "coworking",
        "fid": "le-numerique",
        "index": "0",
        "package": "mapapp",
        "filename": "map.js",
        "fmt": "csv",
        "token": "an-upload-token-of-the-wizard",
        "unknown": "nothing/here",
        "cid": "1",
        "z": "13",
        "x": "4232",
        "y": "2872",
    }
    for rule in app.url_map.iter_rules():
        path = rule.rule
        for arg in rule.arguments:
            path = re.sub(rf"<(?:[a-z]+:)?{arg}>", samples[arg], path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule.endpoint, method, path


PUBLIC_GET = {
    "public.index",
    "public.embed",
    "public.share",
    "public.list_view",
    "public.assets",
    "api.healthz",
    "api.openapi",
    "api.layers_index",
    "api.layer_geojson",
    "api.layer_points",
    "api.layer_item",
    "api.search",
    "api.places",  # place search (issue 12): public like the feature search
    "api.place_here",
    "api.layer_points_binary",  # the compact points as bytes (issue 12)
    "api.layer_overview",  # counts per cell of a very large layer (issue 21)
    "api.layer_tile",  # the points of one tile of it (issue 21)
    "auth.login",
    "public.download",
    "public.data",
    "ogc.landing",
    "ogc.conformance",
    "ogc.collections",
    "ogc.collection",
    "ogc.items",
    "ogc.item",
    "ogc.api",
    "ogc.queryables",
    "ogc.schema",
    "ogc.not_found",
    # the public's reports and proposals (issue 23): forms anyone may fill
    "contributions.form",
    "contributions.thanks",
    "contributions.api_form_token",
}
PUBLIC_POST = {
    "auth.login",  # sign-in and sign-out themselves
    "auth.logout",
    "contributions.send",  # the public's contributions, moderated (issue 23)
    "contributions.api_submit",
}


def test_every_other_route_needs_credentials(app):
    client = app.test_client()
    checked = 0
    for endpoint, method, path in _routes(app):
        if (method == "GET" and endpoint in PUBLIC_GET) or (
            method == "POST" and endpoint in PUBLIC_POST
        ):
            continue
        response = client.open(path, method=method, json={})
        assert response.status_code in (401, 403) or (
            response.status_code == 302
            and "/auth/login" in response.headers["Location"]
        ), (endpoint, method, path, response.status_code)
        checked += 1
    assert checked >= 8


def test_public_get_routes_change_nothing(app, store):
    version = store.data_version()
    client = app.test_client()
    for endpoint, method, path in _routes(app):
        if method == "GET" and endpoint in PUBLIC_GET:
            client.get(path)
    assert store.data_version() == version


def test_security_headers_everywhere(client):
    for path in ("/", "/list", "/share", "/auth/login", "/api/layers", "/healthz"):
        headers = client.get(path).headers
        assert "Content-Security-Policy" in headers, path
        assert headers["X-Content-Type-Options"] == "nosniff"
        if path != "/embed":
            assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_workspace_draws_a_large_layer_from_its_compact_arrays(app, client, alice):
    """The planners' map never inlines a layer too large for it (a million
    companies): it loads the published snapshot's compact arrays, as the public
    map does; small layers stay inline."""
    login(client)
    small = client.get("/planner/").get_data(as_text=True)
    assert "/api/layers/companies.bin" not in small
    app.config["INLINE_MAX_FEATURES"] = 5
    site = app.extensions["mapapp.site"]
    site.settings.values["INLINE_MAX_FEATURES"] = 5
    page = client.get("/planner/").get_data(as_text=True)
    version = site.snapshot("companies").version
    assert f"/api/layers/companies.bin?v={version}" in page
    name = site.store.read("companies")["name"].iloc[0]
    assert name in small and name not in page
