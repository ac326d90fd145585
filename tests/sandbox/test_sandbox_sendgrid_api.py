"""The sandbox's SendGrid Mail Send API, spoken to with raw httpx and the official SDK."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sendgrid import SendGridAPIClient

from journeykit.sandbox.server import SandboxServer


def mail(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "personalizations": [
            {"to": [{"email": "ada@example.com"}], "custom_args": {"journeykit_key": "k"}}
        ],
        "from": {"email": "shop@example.com"},
        "subject": "Hi -name-",
        "content": [
            {"type": "text/plain", "value": "t"},
            {"type": "text/html", "value": "<p>h</p>"},
        ],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post(box: SandboxServer, body: Any, key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key or box.sendgrid_api_key}"}
    return httpx.post(box.url + "/v3/mail/send", json=body, headers=headers)


def test_accepts_and_answers_202_with_message_id(sandbox: SandboxServer) -> None:
    r = post(sandbox, mail())
    assert r.status_code == 202 and r.content == b""
    assert len(r.headers["X-Message-Id"]) == 22


def test_wrong_key(sandbox: SandboxServer) -> None:
    r = post(sandbox, mail(), key="SG.bad")
    assert r.status_code == 401
    assert r.json() == {
        "errors": [
            {
                "message": "The provided authorization grant is invalid, expired, or revoked",
                "field": None,
                "help": None,
            }
        ]
    }


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"from": None}, "from"),
        ({"personalizations": None}, "personalizations"),
        ({"personalizations": [{"subject": "x"}]}, "personalizations.0.to"),
        ({"content": None}, "content"),
        ({"subject": None}, "subject"),
        ({"categories": ["a", "a"]}, "categories"),
        ({"categories": [str(i) for i in range(11)]}, "categories"),
        (
            {
                "content": [
                    {"type": "text/html", "value": "<p>h</p>"},
                    {"type": "text/plain", "value": "t"},
                ]
            },
            "content",
        ),
        ({"personalizations": [{"to": [{"email": "x@example.com"}]}] * 1001}, "personalizations"),
        ({"send_at": "tomorrow"}, "send_at"),
        (
            {"personalizations": [{"to": [{"email": "x@example.com"}], "custom_args": {"n": 1}}]},
            "personalizations.0.custom_args.n",
        ),
    ],
)
def test_invalid_requests_name_the_field(
    sandbox: SandboxServer, changes: dict[str, Any], field: str
) -> None:
    r = post(sandbox, mail(**changes))
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert field in [e["field"] for e in errors], errors
    assert all(set(e) == {"message", "field", "help"} for e in errors)
    assert sandbox.store.count() == 0


def test_top_level_custom_args_object_is_tolerated(sandbox: SandboxServer) -> None:
    r = post(sandbox, mail(custom_args={"campaign": "spring"}))
    assert r.status_code == 202
    [m] = sandbox.store.messages()
    assert m.custom_args == {"campaign": "spring", "journeykit_key": "k"}


def test_sandbox_mode_answers_200_and_stores_nothing(sandbox: SandboxServer) -> None:
    r = post(sandbox, mail(mail_settings={"sandbox_mode": {"enable": True}}))
    assert r.status_code == 200 and "X-Message-Id" not in r.headers
    assert sandbox.store.count() == 0


def test_one_row_per_personalization(sandbox: SandboxServer) -> None:
    people = [
        {
            "to": [{"email": f"p{i}@example.com", "name": f"P{i}"}],
            "substitutions": {"-name-": f"P{i}"},
            "custom_args": {"journeykit_key": f"k{i}"},
        }
        for i in range(3)
    ]
    sg = SendGridAPIClient(sandbox.sendgrid_api_key, host=sandbox.url)
    response = sg.send(mail(personalizations=people))
    message_id = response.headers["X-Message-Id"]
    rows = sandbox.store.messages(provider="sendgrid")
    assert [m.to for m in rows] == ["p0@example.com", "p1@example.com", "p2@example.com"]
    assert all(m.id.startswith(message_id) and m.request_id == message_id for m in rows)
    assert len({m.id for m in rows}) == 3
    assert [m.subject for m in rows] == ["Hi P0", "Hi P1", "Hi P2"]
    assert [m.custom_args["journeykit_key"] for m in rows] == ["k0", "k1", "k2"]
    assert sandbox.store.count(provider="sendgrid", to="p1@example.com") == 1


def test_faults_429_headers(sandbox: SandboxServer) -> None:
    sandbox.faults.script("429")
    r = post(sandbox, mail())
    assert r.status_code == 429
    assert r.headers["X-RateLimit-Remaining"] == "0"
    assert int(r.headers["X-RateLimit-Reset"]) > 0
