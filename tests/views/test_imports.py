"""The import wizard's views: every reason an importer gives for dropping rows has
its words in the page language, and the steps guard their uploads."""

from __future__ import annotations

import ast
import io
import re
from pathlib import Path

import pytest

from mapapp import accounts
from mapapp.importers import __file__ as importers_init
from mapapp.importers import education
from tests.views.test_auth import login

IMPORTERS = Path(importers_init).parent


def drop_reasons() -> set[str]:
    """The literal reason codes passed to ``report.drop`` by the importers, and
    every code the registry words (mapapp/importers/base.py REASONS)."""
    from mapapp.importers.base import REASONS

    found = set()
    for path in IMPORTERS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "drop"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    found |= {education._why_skipped(v, {})[0] for v in ("mesr", "annuaire")}
    return found | set(REASONS)


def test_every_drop_reason_is_translated(app):
    from mapapp.views.imports import reasons

    with app.test_request_context("/?lang=fr"):
        known = reasons()
        missing = sorted(drop_reasons() - set(known))
        assert missing == []
        assert known["closed"] == "établissement fermé (état F)"


@pytest.fixture
def admin(client, store):
    accounts.create_user(store, "root", "admin", "long-enough-password")
    login(client, name="root")
    page = client.get("/planner/import").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_an_upload_belongs_to_its_admin(app, client, store, admin):
    data = {
        "csrf_token": admin,
        "file": (io.BytesIO(b"nom;longitude;latitude\nA;6.02;47.24\n"), "a.csv"),
    }
    sent = client.post("/planner/import", data=data, content_type="multipart/form-data")
    columns = sent.headers["Location"]
    assert client.get(columns).status_code == 200
    accounts.create_user(store, "other", "admin", "long-enough-password")
    other = app.test_client()
    login(other, name="other")
    refused = other.get(columns)
    assert refused.status_code == 400 and "expiré" in refused.get_data(as_text=True)
    assert client.get("/planner/import/not-a-token/report").status_code == 400


def test_the_wizard_pages_are_private(client, admin):
    response = client.get("/planner/import")
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_options_step_of_your_own_file_needs_its_layer(client, admin):
    """Your own file's options come after its layer is chosen: reached first, the
    options step sends back to the column step (it once failed with a 500)."""
    data = {
        "csrf_token": admin,
        "file": (io.BytesIO(b"name;longitude;latitude\nA;6.02;47.24\n"), "a.csv"),
    }
    sent = client.post("/planner/import", data=data, content_type="multipart/form-data")
    options = sent.headers["Location"].replace("/columns", "/options")
    for answer in (
        client.get(options),
        client.post(options, data={"csrf_token": admin}),
    ):
        assert answer.status_code == 303
        assert answer.headers["Location"].endswith("/columns")


# --- issue 20: a city's IRIS file through every step; reports in French -----------

SAMPLES = Path(__file__).parent.parent / "samples"


@pytest.fixture
def lyon_client(tmp_path):
    """The app on a store of Lyon (its box as the study area, no seed layer), an
    administrator signed in; (client, csrf token, store)."""
    from mapapp import create_app

    (tmp_path / "no-seed").mkdir()
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "DATA_DIR": str(tmp_path / "no-seed"),
            "STUDY_AREA": "4.70,45.60,5.10,45.90",
            "TILES": "none",
            "SECRET_KEY": "test-secret",
        }
    )
    store = app.extensions["mapapp.site"].store
    accounts.create_user(store, "root", "admin", "long-enough-password")
    client = app.test_client()
    login(client, name="root")
    page = client.get("/planner/import").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    yield client, token, store
    app.extensions["mapapp.site"].close()


def test_the_wizard_maps_a_city_iris_file_into_the_zones(lyon_client):
    client, token, store = lyon_client
    sample = SAMPLES / "lyon" / "iris-lyon-1er-2e-shp.zip"
    data = {"csrf_token": token, "file": (io.BytesIO(sample.read_bytes()), sample.name)}
    sent = client.post("/planner/import", data=data, content_type="multipart/form-data")
    columns = sent.headers["Location"]
    page = client.get(columns + "?lang=fr").get_data(as_text=True)
    assert '<option value="zones" selected>' in page
    assert '<option value="id" selected>' in page  # the IRIS code, suggested
    assert 'name="map.id"' not in page  # ids are the importer's: iris-<code>
    form = {
        "csrf_token": token,
        "layer": "zones",
        "action": "next",
        "map.zone_code": "id",
        "map.zone_name": "libiris",
        "map.commune_code": "com",
    }
    assert client.post(columns, data=form).status_code == 303
    options = columns.replace("/columns", "/options")
    answer = client.post(
        options,
        data={"csrf_token": token, "source": "Métropole de Lyon", "mode": "replace"},
    )
    assert answer.status_code == 303
    report = client.get(answer.headers["Location"] + "?lang=fr").get_data(as_text=True)
    assert "Importer ces 26 lignes dans Zones de référence" in report
    assert "Chaque élément porte la source donnée : Métropole de Lyon (" in report
    confirm = answer.headers["Location"].replace("/report", "/confirm")
    done = client.post(confirm, data={"csrf_token": token}).get_data(as_text=True)
    assert "Écrit en une transaction" in done
    zones = store.read("zones").set_index("id")
    assert len(zones) == 26 and zones.loc["iris-693810101", "commune_code"] == "69381"


def test_the_report_lists_values_left_out_and_reasons_in_french(client, admin):
    """The real ONISEP file, one link made unreadable: the report counts the rows
    outside the communes by reason, and the link left out with its row kept."""
    text = SAMPLES / "onisep" / "ideo-structures-enseignement-superieur-2022-sample.csv"
    raw = text.read_bytes().replace(
        b"www.onisep.fr/http/redirection/etablissement/slug/ENS.5075",
        b"javascript:alert(1)",
    )
    assert b"javascript:alert(1)" in raw
    data = {"csrf_token": admin, "file": (io.BytesIO(raw), "onisep.csv")}
    sent = client.post("/planner/import", data=data, content_type="multipart/form-data")
    columns = sent.headers["Location"]
    assert client.post(columns, data={"csrf_token": admin}).status_code == 303
    options = columns.replace("/columns", "/options")
    answer = client.post(
        options, data={"csrf_token": admin, "edition": "2022-03", "mode": "merge"}
    )
    report = client.get(answer.headers["Location"] + "?lang=fr").get_data(as_text=True)
    assert "hors des communes choisies" in report
    assert "Valeurs laissées de côté, lignes conservées" in report
    assert "javascript:alert(1)" in report  # the value shown, escaped as text
    assert "<script" not in report.split("javascript:alert(1)")[0][-200:]
    assert "https:// ajouté" in report
