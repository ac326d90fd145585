"""``journeys demo`` end to end: every demo scenario through the real Prefect sweep flow
(ephemeral server), the real SDKs and the sandbox. Each queued message is accepted by the
sandbox exactly once, and every journey and locale shows up."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client

from journeykit.demo.run import run_demo
from journeykit.engine.book import JourneyBook
from journeykit.foundation.settings import Settings
from journeykit.sandbox.server import SandboxServer

ROOT = Path(__file__).parents[2]


@pytest.mark.prefect
def test_demo_sends_every_message_once(tmp_path: Path) -> None:
    base = Settings()
    with SandboxServer.from_settings(base, port=0) as box:
        settings = base.with_changes(
            {"providers.sendgrid.base_url": box.url, "providers.twilio.base_url": box.url}
        )
        result = run_demo(settings, JourneyBook.from_dir(ROOT / "journeys"), tmp_path, box=box)
        accepted = box.store.messages()
    assert result.errors == []
    assert result.flow_runs > 0
    sent = [m for m in result.messages if m["status"] in ("sent", "delivered")]
    assert sent and len(sent) == len(accepted)
    keys = Counter(str(m.custom_args) for m in accepted if m.channel == "email")
    assert all(n == 1 for n in keys.values()), "an email went out twice"
    texts = Counter((m.to, m.body) for m in accepted if m.channel == "sms")
    assert all(n == 1 for n in texts.values()), "an SMS went out twice"
    assert {m["journey"] for m in result.messages} >= {
        "restock", "backorder", "delay_apology", "review_request", "abandoned_cart",
    }  # fmt: skip
    locales = {m["customer"].split("(")[1].split(",")[0] for m in result.messages}
    assert locales >= {"en", "ko", "ja"}
    assert {m["channel"] for m in sent} == {"email", "sms"}
    # the sandbox's status callbacks and SendGrid events reached the real web app
    assert {m["status"] for m in sent} == {"delivered"}
    with get_client(sync_client=True) as client:
        keys = {a.key for a in client.read_artifacts() if a.key}
        names = {run.name for run in client.read_flow_runs()}
    assert "live-restock" in keys, keys
    assert any("sweep" in name for name in names), names
