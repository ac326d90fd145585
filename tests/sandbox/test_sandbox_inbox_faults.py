"""The inbox pages, runtime fault control, the store, and the CLI command."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from journeykit.cli.sandbox import register
from journeykit.sandbox.faults import FaultConfig, FaultInjector
from journeykit.sandbox.server import SandboxServer
from journeykit.sandbox.store import MessageStore

SID = "AC00000000000000000000000000000000"


def send_sms(box: SandboxServer, body: str) -> str:
    r = httpx.post(
        f"{box.url}/2010-04-01/Accounts/{SID}/Messages.json",
        data={"To": "+15551234567", "From": "+15005550006", "Body": body},
        auth=(box.account_sid, box.auth_token),
    )
    assert r.status_code == 201, r.text
    return str(r.json()["sid"])


def send_email(box: SandboxServer, html: str) -> str:
    r = httpx.post(
        box.url + "/v3/mail/send",
        headers={"Authorization": f"Bearer {box.sendgrid_api_key}"},
        json={
            "personalizations": [
                {"to": [{"email": "ada@example.com"}], "headers": {"X-Trace": "t1"}}
            ],
            "from": {"email": "shop@example.com"},
            "subject": "Spring <sale>",
            "content": [
                {"type": "text/plain", "value": "plain part"},
                {"type": "text/html", "value": html},
            ],
        },
    )
    assert r.status_code == 202, r.text
    return r.headers["X-Message-Id"]


def test_inbox_lists_newest_first_and_shows_messages(sandbox: SandboxServer) -> None:
    send_sms(sandbox, "Your code is 1234")
    send_email(sandbox, '<p class="x">Hello & "welcome"</p>')
    page = httpx.get(sandbox.url + "/").text
    assert page.index("Spring &lt;sale&gt;") < page.index("Your code is 1234")
    assert "<script" not in page and 'src="http' not in page and 'href="http' not in page
    email_row = sandbox.store.messages(provider="sendgrid")[0]
    detail = httpx.get(f"{sandbox.url}/messages/{email_row.id}").text
    assert 'sandbox=""' in detail
    assert 'srcdoc="&lt;p class=&#34;x&#34;&gt;Hello &amp; &#34;welcome&#34;&lt;/p&gt;"' in detail
    assert "plain part" in detail and "X-Trace" in detail
    sms_row = sandbox.store.messages(provider="twilio")[0]
    sms_page = httpx.get(f"{sandbox.url}/messages/{sms_row.id}").text
    assert "Segments" in sms_page and "Your code is 1234" in sms_page
    assert httpx.get(f"{sandbox.url}/messages/nope").status_code == 404
    data = httpx.get(sandbox.url + "/api/messages").json()
    assert [m["channel"] for m in data] == ["email", "sms"]
    assert (
        httpx.get(sandbox.url + "/api/messages", params={"provider": "twilio"}).json()[0]["body"]
        == "Your code is 1234"
    )


def test_faults_set_at_runtime(sandbox: SandboxServer) -> None:
    r = httpx.post(sandbox.url + "/_sandbox/faults", json={"rate_500": 1.0, "latency_ms": 5})
    assert r.status_code == 200 and r.json()["rate_500"] == 1.0
    r = httpx.post(
        f"{sandbox.url}/2010-04-01/Accounts/{SID}/Messages.json",
        data={"To": "+15551234567", "From": "+15005550006", "Body": "x"},
        auth=(sandbox.account_sid, sandbox.auth_token),
    )
    assert r.status_code == 500 and r.json()["code"] == 20500
    assert httpx.post(sandbox.url + "/_sandbox/faults", json={"rate_500": 7}).status_code == 400
    assert httpx.delete(sandbox.url + "/_sandbox/faults").json()["rate_500"] == 0.0
    send_sms(sandbox, "fine again")


def test_fault_draws_are_deterministic_with_a_seed() -> None:
    config = FaultConfig(rate_429=0.2, rate_500=0.2, rate_timeout=0.2, seed=42)
    a, b = FaultInjector(config), FaultInjector(config)
    draws = [a.draw("twilio") for _ in range(200)]
    assert draws == [b.draw("twilio") for _ in range(200)]
    assert {"ok", "429", "500", "timeout"} == set(draws)
    only_twilio = FaultInjector(FaultConfig(rate_500=1.0, providers=["twilio"]))
    assert only_twilio.draw("sendgrid") == "ok" and only_twilio.draw("twilio") == "500"


def test_latency_does_not_block_other_requests(sandbox: SandboxServer) -> None:
    sandbox.faults.update(latency_ms=300)

    async def burst() -> list[int]:
        async with httpx.AsyncClient(auth=(sandbox.account_sid, sandbox.auth_token)) as c:
            rs = await asyncio.gather(
                *(
                    c.post(
                        f"{sandbox.url}/2010-04-01/Accounts/{SID}/Messages.json",
                        data={"To": "+15551234567", "From": "+15005550006", "Body": f"b{i}"},
                    )
                    for i in range(8)
                )
            )
        return [r.status_code for r in rs]

    started = time.monotonic()
    assert asyncio.run(burst()) == [201] * 8
    assert time.monotonic() - started < 1.2


def test_public_key_endpoint(sandbox: SandboxServer) -> None:
    key = httpx.get(sandbox.url + "/_sandbox/sendgrid-public-key").text
    assert key == sandbox.sendgrid_public_key and key.startswith("MFkw")


def test_file_store_persists(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.db"
    with SandboxServer(MessageStore(path)) as box:
        send_sms(box, "persisted")
    again = MessageStore(path)
    assert [m.body for m in again.messages()] == ["persisted"]
    again.clear()
    assert again.count() == 0


def test_cli_command_is_registered() -> None:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:
        """Keep typer in multi-command mode."""

    result = CliRunner().invoke(app, ["sandbox", "--help"])
    assert result.exit_code == 0
    for option in (
        "--port",
        "--inbox-file",
        "--latency-ms",
        "--fault-429",
        "--fault-500",
        "--fault-timeout",
        "--seed",
    ):
        assert option in result.output


def test_a_share_of_sends_is_slow_but_succeeds() -> None:
    faults = FaultInjector(FaultConfig(rate_slow=0.5, slow_ms=800, seed=3))
    delays = [faults.delay_s("twilio") for _ in range(200)]
    assert set(delays) == {0.0, 0.8}
    assert 60 < delays.count(0.8) < 140
    faults.update(providers=["sendgrid"])
    assert {faults.delay_s("twilio") for _ in range(50)} == {0.0}


def test_slow_answer_past_the_client_timeout_is_stored(sandbox: SandboxServer) -> None:
    sandbox.faults.update(rate_slow=1.0, slow_ms=1500)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{sandbox.url}/2010-04-01/Accounts/{SID}/Messages.json",
            data={"To": "+15551234567", "From": "+15005550006", "Body": "slow"},
            auth=(sandbox.account_sid, sandbox.auth_token),
            timeout=0.3,
        )
    sandbox.faults.update(rate_slow=0.0)
    deadline = time.monotonic() + 5
    while sandbox.store.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox.store.count() == 1  # slow, not failed: the message went out
