"""A brand's per-country SMS quiet hours (JOURNEYKIT_SENDING__QUIET_HOURS_BY_COUNTRY) reach the
engine: an SMS due inside them waits for the window to open; the email beside it does not."""

from __future__ import annotations

from pathlib import Path

from journeykit.authoring.simulate.runner import simulate
from journeykit.authoring.simulate.scenario import Scenario
from journeykit.engine.book import JourneyBook
from journeykit.foundation.settings import Settings

ROOT = Path(__file__).parents[3]
SCENARIO = {
    "journey": "abandoned_cart",
    "customer": {
        "id": "C-FR", "first_name": "Léa", "timezone": "Europe/Paris", "locale": "en",
        "country": "FR", "email": "lea@example.com", "phone": "+33612345678",
        "consent": {"email": True, "sms": True},
    },
    "subject": {"cart": {"token": "fr-1", "lines": [{"sku": "CASE-IP15-CLEAR", "quantity": 1}]}},
    "start": "2026-01-06T07:00:00Z",  # 08:00 in Paris, a Tuesday
    "events": [{"at": "P0D", "event": "cart.updated"}],
    "until": "PT12H",
}  # fmt: skip


def sends(settings: Settings, tmp_path: Path) -> dict[str, str]:
    book = JourneyBook.from_dir(ROOT / "journeys").only("abandoned_cart")
    result = simulate(Scenario.model_validate(SCENARIO), book, settings=settings, workdir=tmp_path)
    assert result.errors == []
    return {e.node: e.at for e in result.timeline if e.kind == "send"}


def test_country_window_defers_only_the_sms(tmp_path: Path) -> None:
    plain = sends(Settings(), tmp_path)
    assert plain["reminder_email"].startswith("2026-01-06T09:00")
    assert plain["reminder_sms"].startswith("2026-01-06T09:00")
    strict = sends(
        Settings().with_changes({"sending.quiet_hours_by_country": {"FR": "20:00-11:00"}}), tmp_path
    )
    assert strict["reminder_email"].startswith("2026-01-06T09:00")
    assert strict["reminder_sms"].startswith("2026-01-06T11:00")
