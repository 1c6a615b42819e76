"""Schemathesis over the OpenAPI documents: generated requests, valid and invalid,
never get a 5xx, invalid ones are refused, and no answer contradicts its schema.

The operations are walked by hand with their Hypothesis strategies (schemathesis'
pytest fixture loader does not run under pytest 9).
"""

from __future__ import annotations

import re
from pathlib import Path

import hypothesis.strategies as st
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

EXAMPLES = 30


def fuzz(schema, examples: int = EXAMPLES, headers: dict | None = None) -> list[str]:
    """Run every operation of ``schema`` with generated cases; return their labels."""
    labels = []
    for result in schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)

        both = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE),
            operation.as_strategy(GenerationMode.NEGATIVE),
        )

        @given(case=both)
        @settings(
            max_examples=examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def check(case):
            # the WSGI transport does not inflate gzip as an HTTP client would;
            # a string the schema allows may still be a bad filter or an empty
            # bbox: a 400 for it is right, so acceptance of any valid-looking
            # request is not checked (no 5xx and answers as documented are)
            case.call_and_validate(
                headers={"Accept-Encoding": "identity", **(headers or {})},
                excluded_checks=[positive_data_acceptance],
            )

        check()
    return labels


def test_ogc_api_answers_as_its_definition_says(app):
    schema = schemathesis.openapi.from_wsgi("/ogc/api?f=json", app)
    labels = fuzz(schema)
    assert "GET /collections/coworking/items" in labels


def test_api_definition_is_valid_and_generated_from_the_routes(client):
    from openapi_spec_validator import validate

    doc = client.get("/api/openapi.json").json
    validate(doc)
    paths = doc["paths"]
    assert "/api/layers/{name}.geojson" in paths and "/healthz" in paths
    patch = paths["/api/layers/{name}/features/{fid}"]["patch"]
    assert patch["security"] == [{"bearer": []}, {"session": []}]
    assert any(p["name"] == "If-Match" for p in patch["parameters"])
    assert patch["requestBody"]["content"]["application/json"]
    catchment = paths["/api/analysis/catchment"]["get"]
    names = {p["name"] for p in catchment["parameters"]}
    assert {"radius", "lat", "lon", "companies.sector"} <= names
    geojson = paths["/api/layers/{name}.geojson"]["get"]
    assert geojson["security"] == [] and any(
        p["name"] == "bbox" for p in geojson["parameters"]
    )
    item = paths["/api/layers/{name}/items/{index}"]["get"]["parameters"]
    assert {
        "name": "index",
        "in": "path",
        "required": True,
        "schema": {"type": "integer"},
    } in item
    assert set(doc["components"]["securitySchemes"]) == {"bearer", "session"}


def test_api_answers_as_its_definition_says(app, store):
    from mapapp import accounts

    accounts.create_user(store, "fuzz", "planner", "long-enough-password")
    token = {"Authorization": f"Bearer {accounts.new_token(store, 'fuzz')}"}
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    labels = fuzz(schema, examples=15, headers=token)  # as a signed-in planner
    assert "GET /api/layers/{name}.geojson" in labels
    assert store.check() == []


# --- schemathesis' own command over a served app, every check (issue 22) ---------

ST_EXAMPLES = "8"
# what OpenAPI 3.0 cannot say of the HTTP API, operation by operation
CONFIG = str(Path(__file__).parent.parent / "schemathesis.toml")


@pytest.fixture(scope="module")
def served_for_fuzz(tmp_path_factory):
    """(base URL, an admin's API token) of `mapapp serve` on a copy of the seed."""
    import os
    import subprocess
    import sys

    from tests.conftest import SEED
    from tests.servers import start_server, stop

    root = tmp_path_factory.mktemp("fuzz")
    env = {
        "MAPAPP_INSTANCE_PATH": str(root / "srv"),
        "MAPAPP_DATA_DIR": str(SEED),
        "MAPAPP_TILES": "none",
    }
    cli = [sys.executable, "-m", "mapapp", "users"]
    run = {"env": {**os.environ, **env}, "capture_output": True, "text": True}
    subprocess.run([*cli, "add", "fuzz", "--role", "admin", "--password-stdin"],
                   input="long-enough-password\n", check=True, **run)  # fmt: skip
    token = subprocess.run([*cli, "token", "fuzz"], check=True, **run).stdout.split()[
        -1
    ]
    proc, base = start_server(env)
    yield base, token
    stop(proc)


def schemathesis_run(url: str, *options: str) -> str:
    """`schemathesis run` with every check, a fixed seed and the CQL2 strategy of
    tests/cql2_strategy.py; returns its report, asserting it found nothing."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    root = Path(__file__).parent.parent.parent
    done = subprocess.run(
        [str(Path(sys.executable).parent / "schemathesis"), "--config-file", CONFIG]
        + ["run", url]
        + ["--checks", "all", "--max-examples", ST_EXAMPLES, "--seed", "22"]
        + ["--no-color", *options],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tempfile.mkdtemp(prefix="schemathesis-"),  # its cache, not the repo's
        env={
            **os.environ,
            "SCHEMATHESIS_HOOKS": "tests.cql2_strategy",
            "PYTHONPATH": str(root),
        },
    )
    report = done.stdout[-6000:]
    assert done.returncode == 0, report
    assert re.search(r"No issues found|\d+ passed", report), report
    return report


def test_schemathesis_finds_nothing_in_the_ogc_api(served_for_fuzz):
    base, _token = served_for_fuzz
    schemathesis_run(f"{base}/ogc/api?f=json")


def test_schemathesis_finds_nothing_in_the_http_api(served_for_fuzz):
    base, token = served_for_fuzz
    # every check; tests/schemathesis.toml says, operation by operation, the
    # statuses of the rules OpenAPI 3.0 cannot express (a place inside the study
    # area, a bbox with min < max, a feature valid for its layer, If-Match current)
    schemathesis_run(f"{base}/api/openapi.json", "-H", f"Authorization: Bearer {token}")


def test_a_number_given_twice_is_refused_by_name(app, store):
    from mapapp import accounts

    accounts.create_user(store, "twice", "planner", "long-enough-password")
    token = {"Authorization": f"Bearer {accounts.new_token(store, 'twice')}"}
    client = app.test_client()
    answer = client.get(
        "/api/analysis/scenarios?radius=800&radius=1200&lang=en", headers=token
    )
    assert answer.status_code == 400
    assert "radius" in answer.get_json()["error"]
    assert (
        client.get("/api/analysis/scenarios?radius=800", headers=token).status_code
        == 200
    )
