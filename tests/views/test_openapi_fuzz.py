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

EXAMPLES = 12


def fuzz(schema, examples: int = EXAMPLES) -> list[str]:
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
                headers={"Accept-Encoding": "identity"},
                excluded_checks=[positive_data_acceptance],
            )

        check()
    return labels


def test_ogc_api_answers_as_its_definition_says(app):
    schema = schemathesis.openapi.from_wsgi("/ogc/api?f=json", app)
    labels = fuzz(schema)
    assert "GET /collections/coworking/items" in labels
