"""The admin import wizard (file, columns, options, report, then import) and
`mapapp import`."""

from __future__ import annotations

import io
import re

import pytest

from mapapp import accounts
from mapapp.cli import main
from tests.importers import fixtures
from tests.views.test_auth import login


@pytest.fixture
def admin(client, store):
    accounts.create_user(store, "root", "admin", "long-enough-password")
    login(client, name="root")
    page = client.get("/planner/import").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def upload(client, token, path):
    with open(path, "rb") as f:
        data = {"csrf_token": token, "file": (io.BytesIO(f.read()), path.name)}
    return client.post("/planner/import", data=data, content_type="multipart/form-data")


def preview(client, csrf, path, options):
    """Upload, go through the columns and options steps: the report page."""
    sent = upload(client, csrf, path)
    assert sent.status_code == 303, sent.get_data(as_text=True)
    columns = client.post(sent.headers["Location"], data={"csrf_token": csrf})
    assert columns.status_code == 303, columns.get_data(as_text=True)
    chosen = client.post(
        columns.headers["Location"], data={"csrf_token": csrf, **options}
    )
    assert chosen.status_code == 303, chosen.get_data(as_text=True)
    return client.get(chosen.headers["Location"]), chosen.headers["Location"]


def test_preview_then_import(client, store, admin, tmp_path):
    version = store.data_version()
    report, url = preview(
        client, admin, fixtures.sirene(tmp_path), {"communes": "25056"}
    )
    html = report.get_data(as_text=True)
    assert report.status_code == 200 and "9 lignes lues" in html and "3 gardées" in html
    assert "établissement fermé (état F)" in html  # reasons in the page language
    assert store.data_version() == version  # nothing written by the preview
    confirm = url.replace("/report", "/confirm")
    done = client.post(confirm, data={"csrf_token": admin})
    assert done.status_code == 200 and "version des données" in done.get_data(
        as_text=True
    )
    assert store.count("companies") == 3
    again = client.post(confirm, data={"csrf_token": admin})
    assert again.status_code == 400  # the upload is used once


def test_upload_errors_are_specific(client, store, admin, tmp_path):
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    r = upload(client, admin, bad)
    assert r.status_code == 400 and "empty.csv" in r.get_data(as_text=True)
    assert store.count("companies") == 22


def test_upload_too_large(app, client, admin, tmp_path):
    app.config["UPLOAD_MAX_MB"] = 0  # every file is too large now
    r = upload(client, admin, fixtures.sirene(tmp_path))
    assert r.status_code == 400 and "mapapp import" in r.get_data(as_text=True)


def test_planners_cannot_import(client, store, tmp_path):
    accounts.create_user(store, "pl", "planner", "long-enough-password")
    login(client, name="pl")
    assert client.get("/planner/import").status_code == 403


def test_cli_import_prints_the_report(runner, tmp_path):
    path = fixtures.sirene(tmp_path)
    dry = runner.invoke(
        main, ["import", "sirene", str(path), "--dry-run", "--commune", "25056"]
    )
    assert dry.exit_code == 0, dry.output
    assert "3 kept" in dry.output and "nothing written (dry run)" in dry.output
    real = runner.invoke(main, ["import", "sirene", str(path), "--edition", "2026-10"])
    assert real.exit_code == 0 and "written: data version" in real.output


def test_cli_import_fails_with_a_non_zero_exit(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("siret;nom\n1;x\n")
    result = runner.invoke(main, ["import", "sirene", str(bad)])
    assert result.exit_code == 1
    assert "store is unchanged" in result.output and "missing column" in result.output


def test_the_wizard_imports_the_addresses_of_the_place_search(
    client, store, admin, tmp_path
):
    ban = fixtures.write_ban(tmp_path / "adresses-25.csv.gz")
    sent = upload(client, admin, ban)
    assert sent.status_code == 303, sent.get_data(as_text=True)
    columns = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Base Adresse Nationale" in columns  # the kind recognised from the header
    report, url = preview(client, admin, ban, {})
    html = report.get_data(as_text=True)
    assert report.status_code == 200 and "Adresses de la recherche" in html
    done = client.post(url.replace("/report", "/confirm"), data={"csrf_token": admin})
    assert done.status_code == 200, done.get_data(as_text=True)
    found = client.get("/api/places?q=12 rue du luxembourg").get_json()
    assert any(h["kind"] == "address" for h in found["hits"]), found


def test_a_french_csv_with_decimal_commas_keeps_its_places(store, tmp_path):
    from mapapp.importers import run_import

    path = tmp_path / "tiers-lieux.csv"
    path.write_bytes(
        "nom;statut;type;latitude;longitude;postes\n"
        "Atelier du Doubs;planned;tiers_lieu;47,2391;6,0184;12\n"
        "Espace Chamars;open;coworking;47,2331;6,0172;1 200\n".encode("cp1252")
    )
    report = run_import(
        store,
        "generic",
        path,
        layer="coworking",
        mapping={"name": "nom", "status": "statut", "kind": "type", "desks": "postes"},
        source="Enquête 2026",
    )
    assert report.kept == 2, report.lines()
    site = store.get("coworking", "atelier-du-doubs")
    assert site["geometry"].y == pytest.approx(47.2391)
    assert store.get("coworking", "espace-chamars")["properties"]["desks"] == 1200
