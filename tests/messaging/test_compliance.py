"""Consent, addresses, legal quiet hours per country (property-tested across zones and DST),
and the frequency cap, all through ``decide`` on a real database."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Consent, Customer, OutboxMessage
from journeykit.language.journey import Journey
from journeykit.messaging.compliance import decide, due_outside, quiet_windows, valid_address
from journeykit.timing.quiet_hours import is_quiet
from tests.delivery.conftest import Outbox

ZONE_SETS = [  # a customer's zone plus the zones their number may ring in
    ["America/New_York", "America/Chicago", "America/Los_Angeles"],
    ["America/St_Johns", "America/New_York"],
    ["Asia/Seoul"],
    ["Europe/London", "Europe/Berlin"],
    ["Australia/Lord_Howe", "Australia/Sydney"],
    ["Pacific/Chatham"],
    ["America/Santiago"],
]


def journey(**extra: Any) -> Journey:
    return Journey.model_validate(
        {
            "name": "promo",
            "trigger": {"event": "order.placed"},
            "subject": "customer",
            "nodes": [{"id": "done", "type": "exit", "reason": "done"}],
            **extra,
        }
    )


def customer(outbox: Outbox, *, consent: dict[str, bool] | None = None, **kw: Any) -> Customer:
    with session_scope(outbox.engine) as s:
        c = Customer(
            external_id=f"X-{len(kw)}-{id(kw)}",
            email=kw.pop("email", "ana@example.com"),
            phone=kw.pop("phone", "+14155550123"),
            timezone=kw.pop("timezone", "America/New_York"),
            country=kw.pop("country", "US"),
            created_at=outbox.clock.now(),
        )
        s.add(c)
        s.flush()
        for channel, granted in (consent or {}).items():
            s.add(
                Consent(
                    customer_id=c.id,
                    channel=channel,
                    granted=granted,
                    source="widget",
                    recorded_at=outbox.clock.now(),
                )
            )
        return c


def decide_now(outbox: Outbox, c: Customer, channel: str, category: str, **kw: Any) -> Any:
    with session_scope(outbox.engine) as s:
        return decide(
            s,
            journey=kw.pop("journey", journey()),
            customer=c,
            channel=channel,
            category=category,
            now=kw.pop("now", outbox.clock.now()),
            zones=kw.pop("zones", [c.timezone]),
            **kw,
        )


def test_marketing_needs_consent_transactional_a_valid_address(outbox: Outbox) -> None:
    nobody = customer(outbox)
    assert decide_now(outbox, nobody, "email", "marketing").reason == (
        "no marketing consent for email"
    )
    assert decide_now(outbox, nobody, "email", "transactional").allowed
    opted = customer(outbox, consent={"email": True, "sms": False})
    assert decide_now(outbox, opted, "email", "marketing").allowed
    assert "opted out of sms" in decide_now(outbox, opted, "sms", "transactional").reason
    broken = customer(outbox, email="ana-at-example", phone="555-0123")
    assert "invalid email" in decide_now(outbox, broken, "email", "transactional").reason
    assert "invalid sms" in decide_now(outbox, broken, "sms", "transactional").reason


def test_valid_address() -> None:
    assert valid_address("sms", "+821012345678") and not valid_address("sms", "01012345678")
    assert valid_address("email", "a.b+c@shop.co.kr") and not valid_address("email", "a@b")


def test_country_legal_window_and_settings_widen_the_journeys() -> None:
    plain = journey(quiet_hours={"start": "22:00", "end": "07:00", "channels": ["sms"]})
    assert quiet_windows(plain, "sms", "US") == [(time(21), time(8))]  # law wins
    assert quiet_windows(plain, "sms", "FR", {"FR": "20:00-10:00"}) == [(time(20), time(10))]
    assert quiet_windows(plain, "email", "US") == []
    lunch = journey(quiet_hours={"start": "12:00", "end": "13:00", "channels": ["sms", "email"]})
    assert quiet_windows(lunch, "sms", "KR") == [(time(21), time(8)), (time(12), time(13))]
    assert quiet_windows(lunch, "email", "KR") == [(time(12), time(13))]


def test_sms_at_night_is_deferred_to_the_next_allowed_minute_and_noted(outbox: Outbox) -> None:
    c = customer(outbox, consent={"sms": True}, timezone="Asia/Seoul", country="KR")
    night = pendulum.datetime(2027, 3, 1, 14, tz="UTC")  # 23:00 in Seoul
    d = decide_now(outbox, c, "sms", "marketing", now=night)
    assert d.allowed and d.due_at == pendulum.datetime(2027, 3, 1, 23, tz="UTC")  # 08:00 KST
    assert d.notes[0]["rule"] == "quiet_window" and d.notes[0]["zones"] == ["Asia/Seoul"]
    assert d.notes[1] == {"rule": "quiet_hours", "deferred_to": d.due_at.isoformat()}


def _add_sent(outbox: Outbox, customer_id: int, at: datetime, n: int) -> None:
    with session_scope(outbox.engine) as s:
        s.add(
            OutboxMessage(
                key=f"other:{n}",
                journey="other",
                node_id="x",
                customer_id=customer_id,
                channel="email",
                category="marketing",
                template="t",
                to_address="ana@example.com",
                status="sent",
                due_at=at,
                created_at=at,
            )
        )


def test_frequency_cap_defers_or_skips_per_journey(outbox: Outbox) -> None:
    c = customer(outbox, consent={"email": True})
    now = outbox.clock.now()
    _add_sent(outbox, c.id, now - timedelta(hours=2), 1)  # type: ignore[arg-type]
    defer = journey(frequency_cap={"window": "1d", "max": 1, "on_cap": "defer"})
    d = decide_now(outbox, c, "email", "marketing", journey=defer)
    assert d.allowed and d.due_at == now + timedelta(hours=22)
    assert d.notes[-1]["rule"] == "frequency_cap" and d.notes[-1]["action"] == "defer"
    skip = journey(frequency_cap={"window": "1d", "max": 1, "on_cap": "skip"})
    d = decide_now(outbox, c, "email", "marketing", journey=skip)
    assert not d.allowed and d.reason == "frequency cap reached"
    assert d.notes[-1] == {"rule": "frequency_cap", "action": "skip", "counted": 1}
    assert decide_now(outbox, c, "email", "transactional", journey=skip).allowed


WINDOWS = st.sampled_from(
    [[(time(21), time(8))], [(time(21), time(9)), (time(12), time(13))], [(time(22), time(7))]]
)


@settings(max_examples=300, deadline=None)
@given(
    at=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)).map(
        lambda d: pendulum.instance(d, tz="UTC")
    ),
    zones=st.sampled_from(ZONE_SETS),
    windows=WINDOWS,
)
def test_due_is_never_quiet_never_early_and_skips_no_allowed_minute(
    at: datetime, zones: list[str], windows: list[tuple[time, time]]
) -> None:
    due = due_outside(at, zones, windows)
    assert due >= at
    assert not any(is_quiet(due, z, s, e) for z in zones for s, e in windows)
    if due > at:  # the minute before was still quiet somewhere (or it is ``at`` itself)
        before = max(at, due - timedelta(minutes=1))
        assert before == at or any(is_quiet(before, z, s, e) for z in zones for s, e in windows)


def test_zones_without_a_common_allowed_time_fall_back_to_the_customers_own() -> None:
    zones = ["Asia/Seoul", "America/New_York", "Europe/London"]  # no common 08-21 hour
    at = pendulum.datetime(2027, 3, 1, 14, tz="UTC")  # 23:00 Seoul
    due = due_outside(at, zones, [(time(21), time(8))])
    assert not is_quiet(due, "Asia/Seoul", time(21), time(8))
    assert not is_quiet(due, "America/New_York", time(21), time(8))  # two of three kept
    assert due - at < timedelta(days=1)
