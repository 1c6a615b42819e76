"""The same odd bodies get the same answers on both stores (they used to be stored
on the GeoPackage and answered 500 on PostGIS), and CSV downloads are neutralised."""

from __future__ import annotations

import csv
import io

import pytest

from mapapp import accounts, create_app
from tests.conftest import SEED
from tests.views.test_edit_api import SITE

BACKENDS = ["geopackage", pytest.param("postgis", marks=pytest.mark.postgis)]
ODD = [
    ("NUL byte", {"name": "a\x00b"}, None, 422),
    ("lone surrogate", {"name": "a\ud800b"}, None, 422),
    ("control character", {"notes": "\x1b[31m"}, None, 422),
    ("3-D point", {}, [6.035, 47.246, 250.0], 201),
    ("huge id", {"id": "x" * 5000}, None, 422),
]


@pytest.fixture(params=BACKENDS)
def client_on(request, tmp_path):
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "inst"),
        "DATA_DIR": str(SEED),
        "TILES": "none",
        "SECRET_KEY": "x",
    }
    if request.param == "postgis":
        from tests.postgis import schema_url

        config["DATABASE_URL"] = schema_url(request.getfixturevalue("pg_database"))
    app = create_app(config)
    store = app.extensions["mapapp.site"].store
    accounts.create_user(store, "bot", "planner", "long-enough-password")
    token = accounts.new_token(store, "bot")
    yield app.test_client(), {"Authorization": f"Bearer {token}"}, store
    app.extensions["mapapp.site"].close()


@pytest.mark.parametrize(
    "props,coords,status", [o[1:] for o in ODD], ids=[o[0] for o in ODD]
)
def test_both_backends_answer_odd_values_alike(client_on, props, coords, status):
    client, headers, store = client_on
    body = {**SITE, "properties": {**SITE["properties"], "id": "odd", **props}}
    if coords:
        body["geometry"] = {"type": "Point", "coordinates": coords}
    r = client.post("/api/layers/coworking/features", json=body, headers=headers)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert store.check() == []


def test_csv_downloads_neutralise_formulas(client_on):
    client, headers, store = client_on
    store.update("coworking", "le-numerique", {"name": '=HYPERLINK("http://x")'})
    public = client.get("/download/coworking.csv").get_data(as_text=True)
    planner = client.get("/planner/export/coworking.csv", headers=headers)
    scenarios = client.get("/planner/scenarios.csv", headers=headers)
    for text in (public, planner.get_data(as_text=True)):
        names = [row["name"] for row in csv.DictReader(io.StringIO(text))]
        assert '\'=HYPERLINK("http://x")' in names
        assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
    assert scenarios.status_code == 200
    for row in csv.reader(io.StringIO(scenarios.get_data(as_text=True))):
        assert not any(cell.startswith(("=", "+", "@")) for cell in row)
