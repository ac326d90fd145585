"""The sandbox's Twilio Messages API, spoken to with raw httpx and the official SDK."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from journeykit.sandbox.server import SandboxServer

SID = "AC00000000000000000000000000000000"
PATH = f"/2010-04-01/Accounts/{SID}/Messages.json"


def post(
    box: SandboxServer, data: dict[str, str], auth: tuple[str, str] | None = None
) -> httpx.Response:
    return httpx.post(box.url + PATH, data=data, auth=auth or (box.account_sid, box.auth_token))


def client(box: SandboxServer) -> Client:
    c = Client(box.account_sid, box.auth_token)
    c.api.base_url = box.url
    return c


@pytest.mark.parametrize(
    ("data", "code", "needle"),
    [
        ({"From": "+15005550006", "Body": "x"}, 21604, "'To'"),
        ({"To": "+15551234567", "Body": "x"}, 21603, "'From'"),
        ({"To": "+15551234567", "From": "+15005550006"}, 21602, "body"),
        (
            {"To": "+15551234567", "From": "+15005550006", "Body": "x", "ValidityPeriod": "abc"},
            20001,
            "ValidityPeriod",
        ),
        (
            {"To": "+15551234567", "From": "+15005550006", "Body": "x", "ValidityPeriod": "0"},
            21623,
            "ValidityPeriod",
        ),
        (
            {"To": "+15551234567", "From": "+15005550006", "Body": "x", "ProvideFeedback": "maybe"},
            20001,
            "ProvideFeedback",
        ),
    ],
)
def test_invalid_requests_get_twilio_errors(
    sandbox: SandboxServer, data: dict[str, str], code: int, needle: str
) -> None:
    r = post(sandbox, data)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == code and body["status"] == 400
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert needle in body["message"]
    assert sandbox.store.count() == 0


def test_wrong_auth_is_20003(sandbox: SandboxServer) -> None:
    r = post(sandbox, {"To": "+15551234567", "From": "+1500", "Body": "x"}, (SID, "nope"))
    assert r.status_code == 401 and r.json()["code"] == 20003
    assert httpx.get(sandbox.url + PATH).status_code == 401


def test_message_intent_is_tolerated(sandbox: SandboxServer) -> None:
    r = post(
        sandbox,
        {"To": "+15551234567", "From": "+15005550006", "Body": "x", "MessageIntent": "marketing"},
    )
    assert r.status_code == 201
    m = r.json()
    assert m["sid"].startswith("SM") and len(m["sid"]) == 34
    assert m["status"] == "queued" and m["num_segments"] == "1"
    assert m["date_created"].endswith("+0000")


def test_segments_counted(sandbox: SandboxServer) -> None:
    r = post(sandbox, {"To": "+15551234567", "From": "+15005550006", "Body": "é" * 161})
    assert r.json()["num_segments"] == "2"
    r = post(sandbox, {"To": "+15551234567", "From": "+15005550006", "Body": "🙂" * 40})
    assert r.json()["num_segments"] == "2"


def test_list_filters_and_pages(sandbox: SandboxServer) -> None:
    c = client(sandbox)
    sids = [
        c.messages.create(to="+15551230009", from_="+15005550006", body=f"m{i}").sid
        for i in range(5)
    ]
    c.messages.create(to="+15559999999", from_="+15005550006", body="other")
    since = datetime.now(UTC) - timedelta(minutes=1)
    listed = c.messages.list(to="+15551230009", date_sent_after=since, page_size=2)
    assert [m.sid for m in listed] == list(reversed(sids))  # newest first, across 3 pages
    assert c.messages.list(to="+15551230009", date_sent_after=since + timedelta(days=2)) == []
    assert len(c.messages.list(date_sent_before=since)) == 0
    page = httpx.get(
        sandbox.url + PATH,
        params={"To": "+15551230009", "PageSize": 2},
        auth=(SID, sandbox.auth_token),
    ).json()
    assert set(page) >= {"messages", "next_page_uri", "page", "page_size", "uri"}
    assert "Page=1" in page["next_page_uri"]


def test_fetch_one(sandbox: SandboxServer) -> None:
    c = client(sandbox)
    sid = c.messages.create(to="+15551230009", from_="+15005550006", body="hey").sid
    fetched = c.messages(sid).fetch()
    assert (fetched.sid, fetched.body, fetched.status) == (sid, "hey", "delivered")
    with pytest.raises(TwilioRestException) as info:
        c.messages("SM" + "0" * 32).fetch()
    assert info.value.code == 20404 and info.value.status == 404


def test_stop_and_start_on_the_same_port(sandbox: SandboxServer) -> None:
    port = sandbox.port
    sandbox.stop()
    with pytest.raises(httpx.ConnectError):
        post(sandbox, {"To": "+15551234567", "From": "+15005550006", "Body": "x"})
    sandbox.start()
    assert sandbox.port == port
    assert (
        post(sandbox, {"To": "+15551234567", "From": "+15005550006", "Body": "x"}).status_code
        == 201
    )
