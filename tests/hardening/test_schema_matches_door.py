"""The OpenAPI schema says what the door accepts, and the door agrees (issue 16): data the
schema calls invalid (``backorderable: 0``, a missing field a channel needs, a too long
SKU...) is refused with a 4xx, never a 5xx, on the store-facing operations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection

from tests.web.conftest import API_KEY, Web

OPERATIONS = ("POST /events", "POST /restock/signups")


@pytest.mark.parametrize("label", OPERATIONS)
def test_schema_invalid_data_is_refused(tmp_path: Path, label: str) -> None:
    web = Web(tmp_path)
    schema = schemathesis.openapi.from_asgi("/openapi.json", web.app)
    method, path = label.split()
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {API_KEY}", "X-Api-Key": API_KEY}

    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    @settings(
        max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def fuzz(case: Any) -> None:
        case.call_and_validate(
            headers=headers, checks=[not_a_server_error, negative_data_rejection]
        )

    fuzz()


def test_backorderable_zero_is_refused(tmp_path: Path) -> None:
    web = Web(tmp_path)
    body = {
        "type": "product.upserted",
        "product": {"sku": "S", "handle": "s", "title": "T", "backorderable": 0},
    }
    answer = web.client().post("/events", json=body, headers={"Authorization": f"Bearer {API_KEY}"})
    assert answer.status_code == 422 and "backorderable" in answer.text


def test_restock_schema_names_the_conditionally_required_fields(tmp_path: Path) -> None:
    web = Web(tmp_path)
    spec = web.client().get("/openapi.json").json()
    body = spec["paths"]["/restock/signups"]["post"]["requestBody"]["content"]["application/json"]
    rules = body["schema"]["allOf"]
    needs = {
        rule["if"]["properties"]["channels"]["contains"]["const"]: rule["then"]["required"]
        for rule in rules
        if "if" in rule
    }
    assert needs == {"email": ["email"], "sms": ["phone"]}
    assert {"anyOf": [{"required": ["consent_wording"]}, {"required": ["form_token"]}]} in rules
