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
