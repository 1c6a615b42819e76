"""Schemathesis over the OpenAPI documents: generated requests, valid and invalid,
never get a 5xx, invalid ones are refused, and no answer contradicts its schema.

The operations are walked by hand with their Hypothesis strategies (schemathesis'
pytest fixture loader does not run under pytest 9).
"""

from __future__ import annotations

import hypothesis.strategies as st
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
