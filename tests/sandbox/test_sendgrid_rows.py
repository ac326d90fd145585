"""Each stored email keeps the request as it concerns its recipient: the request with only
its own personalization, exactly as ``json.dumps`` would write it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from journeykit.sandbox.sendgrid_rules import _SLOT, to_rows


def mail(subject: str) -> dict[str, Any]:
    return {
        "personalizations": [
            {"to": [{"email": f"c{i}@example.com"}], "custom_args": {"journeykit_key": f"k{i}"}}
            for i in range(3)
        ],
        "from": {"email": "shop@example.com"},
        "subject": subject,
        "content": [{"type": "text/html", "value": '<p>Hé "there"</p>'}],
        "categories": ["restock"],
    }


@pytest.mark.parametrize("subject", ["Back in stock", _SLOT])  # the latter: the long way
def test_each_row_keeps_the_request_with_its_own_personalization(subject: str) -> None:
    body = mail(subject)
    rows = to_rows(body, "mid", datetime.now(UTC), json.dumps(body))
    assert [r.raw for r in rows] == [
        json.dumps({**body, "personalizations": [p]}) for p in body["personalizations"]
    ]
    assert json.loads(rows[1].raw)["personalizations"][0]["custom_args"] == {"journeykit_key": "k1"}


def test_a_single_personalization_keeps_the_request_as_sent() -> None:
    body = {**mail("Hi"), "personalizations": mail("Hi")["personalizations"][:1]}
    raw = json.dumps(body, indent=2)
    assert [r.raw for r in to_rows(body, "mid", datetime.now(UTC), raw)] == [raw]
