"""Contributions of the public: the abuse rules, the privacy rules, the API and the
moderation (mapapp/contributions.py, mapapp/views/contributions.py)."""

from __future__ import annotations

import json
import logging

import pytest

from mapapp import accounts
from mapapp import contributions as core
from tests.views.test_auth import login

EMAIL = "marie.contrib@example.org"
SECRET = "test-secret"  # the app fixture's SECRET_KEY


def token(age: float = 10.0) -> str:
    import time

    return core.form_token(SECRET, time.time() - age)


def report(**extra) -> dict:
    return {
        "layer": "companies",
        "feature_id": "flowbird",
        "kind": "moved",
        "lon": 6.0201,
        "lat": 47.2401,
        "precision": "exact",
        "text": "Déménagé rue de la Convention",
        "email": EMAIL,
        "form_token": token(),
        **extra,
    }


def post(client, body, address="203.0.113.7"):
    return client.post(
        "/api/contributions",
        data=json.dumps(body),
        content_type="application/json",
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.fixture
def planner(client, store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    secret = accounts.new_token(store, "alice")
    headers = {"Authorization": f"Bearer {secret}"}

    def call(method, path, body=None):
        kwargs = {"headers": headers}
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        return getattr(client, method)(path, **kwargs)

    return call


def test_post_stores_a_report_in_the_private_store(client, store):
    r = post(client, report())
    assert r.status_code == 202 and r.json == {"status": "received"}
    [c] = store.private.contributions(("new",))
    assert c["feature_id"] == "flowbird" and c["email"] == EMAIL
    assert c["sender"] != "203.0.113.7"  # only a keyed hash of the address


def test_post_refuses_the_honeypot(client, store):
    assert post(client, report(homepage="http://spam.example")).status_code == 400
    assert store.private.contribution_counts() == {}


@pytest.mark.parametrize("form_token", ["", "123.forged", None])
def test_post_refuses_a_missing_or_forged_form_token(client, store, form_token):
    assert post(client, report(form_token=form_token)).status_code == 400
    assert store.private.contribution_counts() == {}


def test_post_refuses_a_form_filled_too_fast(client, store):
    assert post(client, report(form_token=token(age=0.5))).status_code == 400
    assert store.private.contribution_counts() == {}


def test_post_limits_per_address(client, store):
    statuses = [post(client, report(feature_id=f)).status_code
                for f in ("flowbird", "vix-technology", "ier", "smartesting",
                          "axolis", "flowbird")]  # fmt: skip
    assert statuses == [202] * 5 + [429]
    assert post(client, report(), address="198.51.100.2").status_code == 202


def test_post_limits_overall(app, client, store):
    app.extensions["mapapp.site"].settings.values["CONTRIBUTIONS_PER_HOUR"] = 3
    codes = [post(client, report(), address=f"198.51.100.{i}").status_code
             for i in range(5)]  # fmt: skip
    assert codes == [202, 202, 202, 429, 429]


def test_post_limits_by_forwarded_address_behind_a_proxy(tmp_path, seed_store):
    import shutil

    from mapapp import create_app
    from tests.conftest import SEED

    instance = tmp_path / "proxied"
    instance.mkdir()
    shutil.copyfile(seed_store, instance / "mapapp.gpkg")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance),
                      "DATA_DIR": str(SEED), "TILES": "none", "SECRET_KEY": SECRET,
                      "TRUSTED_PROXIES": 1, "CONTRIBUTIONS_PER_ADDRESS": 1})  # fmt: skip
    client = app.test_client()

    def via(forwarded):
        return client.post("/api/contributions", data=json.dumps(report()),
                           content_type="application/json",
                           headers={"X-Forwarded-For": forwarded})  # fmt: skip

    assert via("192.0.2.1").status_code == 202
    assert via("192.0.2.1").status_code == 429
    assert via("192.0.2.2").status_code == 202
    app.extensions["mapapp.site"].close()


@pytest.mark.parametrize(
    "field, value",
    [("text", "x" * 1001), ("name", "n" * 201), ("email", "a@" + "b" * 300 + ".fr"),
     ("website", "https://" + "w" * 600), ("kind", "hacked"), ("lon", 12.0)],
)  # fmt: skip
def test_post_refuses_values_past_the_limits(client, store, field, value):
    r = post(client, report(**{field: value}))
    assert r.status_code == 400, r.json
    assert store.private.contribution_counts() == {}


def test_post_holds_more_than_two_links_apart(client, store):
    text = "voir http://a.example http://b.example et www.c.example"
    assert post(client, report(text=text)).status_code == 202
    assert store.private.contribution_counts() == {"held": 1}
    post(
        client,
        report(feature_id="ier", text="http://a.example", website="https://b.fr"),
    )
    assert store.private.contribution_counts() == {"held": 1, "new": 1}


def test_post_sets_a_duplicate_apart(client, store):
    post(client, report())
    post(client, report(), address="198.51.100.9")
    assert store.private.contribution_counts() == {"new": 1, "duplicate": 1}


def test_post_answers_the_same_whatever_happens_to_it(client, store):
    """A visitor never learns whether theirs was held, a duplicate or spam."""
    first = post(client, report())
    held = post(client, report(text="http://a http://b http://c"), address="192.0.2.9")
    assert first.json == held.json and first.status_code == held.status_code


def test_post_unknown_or_unpublished_feature_is_not_found(client, store):
    store.update("coworking", "deca-bfc", {"published": False})
    assert post(client, report(feature_id="nowhere")).status_code == 404
    body = report(layer="coworking", feature_id="deca-bfc")
    assert post(client, body).status_code == 404


def test_planner_api_needs_a_sign_in(client):
    assert client.get("/api/contributions").status_code == 401
    assert client.patch("/api/contributions/1", json={}).status_code in (400, 401)


def test_accept_moves_the_feature_and_credits_the_public(client, store, planner):
    post(client, report())
    [c] = planner("get", "/api/contributions").json["contributions"]
    assert c["email"] == EMAIL and "sender" not in c
    r = planner("patch", f"/api/contributions/{c['id']}", {"action": "accept"})
    assert r.status_code == 200, r.json
    feature = store.get("companies", "flowbird")
    assert (feature["geometry"].x, feature["geometry"].y) == (6.0201, 47.2401)
    entry = store.private.history("companies", "flowbird")[0]
    assert entry["author"] == core.AUTHOR
    # the e-mail is nowhere: not in the contribution, the history, the data
    assert store.private.contribution(c["id"])["email"] is None
    assert EMAIL not in json.dumps(store.private.history("companies", "flowbird"))
    for path in ("/api/layers/companies.geojson", "/download/companies.csv",
                 "/download/companies.geojson", "/download/companies.gpkg"):  # fmt: skip
        got = client.get(path)
        assert got.status_code == 200, path
        assert EMAIL.encode() not in got.data
    assert planner("get", f"/api/contributions/{c['id']}").json["email"] is None


def test_accept_with_changes_and_reject_with_a_reason(client, store, planner):
    post(client, report(kind="wrong_name", name="Flowbird SAS"))
    post(client, report(feature_id="ier", kind="other"), address="192.0.2.3")
    first, second = planner("get", "/api/contributions").json["contributions"]
    planner("patch", f"/api/contributions/{first['id']}",
            {"action": "accept", "changes": {"name": "Flowbird"}})  # fmt: skip
    assert store.get("companies", "flowbird")["properties"]["name"] == "Flowbird"
    bad = planner("patch", f"/api/contributions/{second['id']}", {"action": "reject"})
    assert bad.status_code == 400
    ok = planner("patch", f"/api/contributions/{second['id']}",
                 {"action": "reject", "reason": "not_verifiable"})  # fmt: skip
    assert ok.json["status"] == "rejected"
    again = planner("patch", f"/api/contributions/{second['id']}", {"action": "spam"})
    assert again.status_code == 400  # decided once


def test_a_spammers_later_contributions_go_to_spam(client, store, planner):
    post(client, report())
    [c] = planner("get", "/api/contributions").json["contributions"]
    planner("patch", f"/api/contributions/{c['id']}", {"action": "spam"})
    post(client, report(feature_id="ier"))
    assert store.private.contribution_counts() == {"spam": 2}


def test_a_new_place_enters_unpublished_then_is_published(client, store, planner):
    body = {"layer": "coworking", "kind": "new", "name": "La Cordée Battant",
            "category": "open", "lon": 6.0185, "lat": 47.2418,
            "precision": "exact", "form_token": token()}  # fmt: skip
    assert post(client, body).status_code == 202
    [c] = planner("get", "/api/contributions").json["contributions"]
    done = planner("patch", f"/api/contributions/{c['id']}", {"action": "accept"})
    assert done.status_code == 200, done.json
    place = store.get("coworking", done.json["result"])
    assert place["properties"]["published"] is False
    assert place["properties"]["source"] == core.AUTHOR
    assert place["properties"]["precision"] == "exact"
    assert b"La Cord" not in client.get("/api/layers/coworking.geojson").data


def test_email_is_forgotten_after_the_retention_period(client, store):
    import time

    post(client, report())
    assert core.purge(store, 90, now=time.time() + 91 * 86400) >= 1
    [c] = store.private.contributions(("new",))
    assert c["email"] is None and c["sender"] is None


def test_export_hands_over_the_answers_once(client, store, planner):
    post(client, report())
    [c] = planner("get", "/api/contributions").json["contributions"]
    planner("patch", f"/api/contributions/{c['id']}",
            {"action": "reject", "reason": "already_correct"})  # fmt: skip
    text, n = core.export_replies(store)
    assert n == 1 and EMAIL in text and "déjà juste" in text
    assert core.export_replies(store)[1] == 0


def test_no_contribution_content_in_logs(client, store, planner, caplog):
    caplog.set_level(logging.DEBUG)
    post(client, report(text="SECRET-TEXTE-123"))
    [c] = planner("get", "/api/contributions").json["contributions"]
    planner("patch", f"/api/contributions/{c['id']}", {"action": "accept"})
    logged = caplog.text
    assert "SECRET-TEXTE-123" not in logged and EMAIL not in logged


def test_data_page_counts_per_month(client, store, planner):
    post(client, report())
    page = client.get("/data").get_data(as_text=True)
    assert 'id="contributions-per-month"' in page
    assert "Déménagé" not in page and EMAIL not in page


def test_form_page_and_search_and_send(client, store):
    page = client.get("/contribute?layer=companies&id=flowbird")
    assert page.status_code == 200 and b'name="homepage"' in page.data
    assert client.get("/contribute?layer=companies&id=nope").status_code == 404
    proposal = client.get("/contribute?lang=en").get_data(as_text=True)
    assert "Suggest a place or a company" in proposal


def test_openapi_lists_the_contributions(client):
    paths = client.get("/api/openapi.json").json["paths"]
    assert "post" in paths["/api/contributions"]
    assert "get" in paths["/api/contributions"]
    assert "patch" in paths["/api/contributions/{cid}"]


def test_cli_exports_the_answers_and_purges(runner, tmp_path):
    from mapapp.cli import main, open_site

    assert runner.invoke(main, ["init"]).exit_code == 0
    site = open_site()
    store = site.store
    row = {"created": 1000.0, "month": "1970-01", "layer": "companies",
           "feature_id": "flowbird", "kind": "moved", "body": {"lang": "en"},
           "email": EMAIL, "sender": "s", "status": "new"}  # fmt: skip
    old = store.private.add_contribution(row, 0.0, (5, 5), 0.0)
    kept = store.private.add_contribution(
        {**row, "created": 9e9, "feature_id": "ier"}, 0.0, (5, 5), 0.0
    )
    store.private.decide_contribution(kept["id"], "rejected", "alice", 9e9, "other")
    out = tmp_path / "answers.csv"
    done = runner.invoke(main, ["contributions", "export", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert EMAIL in out.read_text() and "autre raison" in out.read_text()
    purged = runner.invoke(main, ["contributions", "purge"])
    assert purged.exit_code == 0 and "1 contributions" in purged.output
    assert store.private.contribution(old["id"])["email"] is None
    site.close()


def test_email_past_retention_is_purged_at_start(app, store, tmp_path):
    from mapapp import create_app
    from tests.conftest import SEED

    row = {"created": 1000.0, "month": "1970-01", "layer": "companies",
           "feature_id": "flowbird", "kind": "moved", "body": {}, "email": EMAIL,
           "sender": "s", "status": "new"}  # fmt: skip
    cid = store.private.add_contribution(row, 0.0, (5, 5), 0.0)["id"]
    again = create_app({"TESTING": True, "INSTANCE_PATH": app.instance_path,
                        "DATA_DIR": str(SEED), "TILES": "none",
                        "SECRET_KEY": SECRET})  # fmt: skip
    assert store.private.contribution(cid)["email"] is None
    again.extensions["mapapp.site"].close()


def test_inbox_page_decides_and_shows_the_answer_once(client, store):
    accounts.create_user(store, "alice", "planner", "long-enough-password")
    post(client, report())
    login(client)
    inbox = client.get("/planner/contributions").get_data(as_text=True)
    assert 'id="inbox-count">1<' in inbox
    [c] = store.private.contributions(("new",))
    page = client.get(f"/planner/contributions/{c['id']}").get_data(as_text=True)
    assert EMAIL in page
    with client.session_transaction() as s:
        csrf = s["csrf"]
    done = client.post(f"/planner/contributions/{c['id']}",
                       data={"action": "reject", "reason": "already_correct",
                             "csrf_token": csrf})  # fmt: skip
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and EMAIL in text and "déjà juste" in text
    again = client.get(f"/planner/contributions/{c['id']}").get_data(as_text=True)
    assert EMAIL not in again
    assert 'id="inbox-count">0<' in again


def test_inbox_pages_through_many(client, store):
    from mapapp.views.contributions import INBOX_PAGE

    accounts.create_user(store, "alice", "planner", "long-enough-password")
    for i in range(INBOX_PAGE + 5):
        store.private.add_contribution(
            {"created": 1000.0 + i, "month": "2026-12", "layer": "coworking",
             "feature_id": None, "kind": "new", "body": {"name": f"Lieu {i}"},
             "email": None, "sender": f"s{i}", "status": "new"},
            0.0, (5, 10_000), 0.0,
        )  # fmt: skip
    login(client)
    first = client.get("/planner/contributions").get_data(as_text=True)
    second = client.get("/planner/contributions?page=2").get_data(as_text=True)
    assert first.count("/planner/contributions/") >= INBOX_PAGE
    assert "Lieu 104" in second and "Lieu 104" not in first


def test_cards_link_to_the_form_in_a_new_tab_only_from_the_embed(client):
    embed = client.get("/embed?lang=en").get_data(as_text=True)
    full = client.get("/?lang=en").get_data(as_text=True)
    assert '"newTab": true' in embed.replace('"newTab":true', '"newTab": true')
    assert '"newTab": false' in full.replace('"newTab":false', '"newTab": false')
    assert "Suggest a place or a company" in embed


def test_openapi_documents_the_contribution_bodies(client):
    paths = client.get("/api/openapi.json").json["paths"]
    post = paths["/api/contributions"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert "form_token" in body["required"] and post["security"] == []
    assert {"202", "429"} <= set(post["responses"]) and "201" not in post["responses"]
    patch = paths["/api/contributions/{cid}"]["patch"]
    assert (
        patch["security"]
        and "action"
        in (patch["requestBody"]["content"]["application/json"]["schema"]["required"])
    )


@pytest.mark.postgis
def test_the_whole_flow_on_postgis(pg_database, tmp_path):
    """The same routes on a PostGIS store: the private schema holds it all."""
    from mapapp import create_app
    from tests.conftest import SEED
    from tests.postgis import schema_url

    app = create_app({"TESTING": True, "DATABASE_URL": schema_url(pg_database),
                      "INSTANCE_PATH": str(tmp_path / "pg"), "DATA_DIR": str(SEED),
                      "TILES": "none", "SECRET_KEY": SECRET})  # fmt: skip
    store = app.extensions["mapapp.site"].store
    client = app.test_client()
    assert post(client, report()).status_code == 202
    assert post(client, report(text="http://a http://b http://c"),
                address="192.0.2.5").status_code == 202  # fmt: skip
    assert store.private.contribution_counts() == {"new": 1, "held": 1}
    [c] = store.private.contributions(("new",))
    core.decide(store, c["id"], "accept", "alice")
    assert store.get("companies", "flowbird")["geometry"].x == 6.0201
    assert store.private.history("companies", "flowbird")[0]["author"] == core.AUTHOR
    assert store.private.contribution(c["id"])["email"] is None
    assert "<td>1</td>" in client.get("/data").get_data(as_text=True)
    app.extensions["mapapp.site"].close()


def test_form_errors_are_in_the_visitors_language(client, store):
    sent = client.post("/contribute?lang=fr", data={
        "kind": "new", "layer": "coworking", "name": "Sans lieu",
        "form_token": token()})  # fmt: skip
    page = sent.get_data(as_text=True)
    assert sent.status_code == 400 and "Un nouveau lieu demande" in page
    trapped = client.post("/contribute?lang=en", data={
        "kind": "new", "layer": "coworking", "name": "Bot", "lon": "6.02",
        "lat": "47.24", "homepage": "http://x", "form_token": token()})  # fmt: skip
    assert trapped.status_code == 400
    assert "The form could not be sent." in trapped.get_data(as_text=True)
    assert store.private.contribution_counts() == {}
    ok = client.post("/contribute?lang=en", data={
        "kind": "new", "layer": "coworking", "name": "Placed", "lon": "6.02",
        "lat": "47.24", "form_token": token()})  # fmt: skip
    assert ok.status_code == 302 and "/contribute/thanks" in ok.headers["Location"]
