"""Issue 15 §2: consent belongs to the recipient, per address and per purpose.

An opt-out made by the recipient (STOP, one-click unsubscribe, preference page, bounce,
spam report) is lifted only by the recipient; store-sourced flags grant consent where none
was refused and never override a refusal; suppression follows the address (a second
customer row for the same email or number shares it); a restock signup grants restock
alerts of that item only."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, SQLModel

from journeykit.foundation.db import make_engine
from journeykit.foundation.models import Consent, Customer
from journeykit.language import event_types as ev
from journeykit.messaging.compliance import may_contact
from journeykit.messaging.consent import restock_purpose
from journeykit.messaging.optout import record_sms_consent
from journeykit.store.sync import current_consent, upsert_customer

T0 = pendulum.datetime(2026, 3, 1, 12, tz="UTC")
EMAIL, PHONE = "ana@example.com", "+14155550100"


@pytest.fixture
def session() -> Iterator[Session]:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def store_event(s: Session, cid: str, now: datetime, **consent: bool) -> Customer:
    data = ev.CustomerIn(id=cid, email=EMAIL, phone=PHONE, consent=consent)
    customer = upsert_customer(s, data, now)
    s.flush()
    return customer


def recipient(
    s: Session, customer: Customer, channel: str, granted: bool, source: str, at: datetime
) -> None:
    s.add(
        Consent(
            customer_id=customer.id,  # type: ignore[arg-type]
            channel=channel,
            granted=granted,
            source=source,
            recorded_at=at,
        )
    )
    s.flush()


def test_store_flag_does_not_undo_stop(session: Session) -> None:
    ana = store_event(session, "A", T0, sms=True)
    record_sms_consent(
        session, customer_id=ana.id, granted=False, now=T0 + timedelta(1), source="sms:STOP"
    )  # type: ignore[arg-type]
    store_event(session, "A", T0 + timedelta(2), sms=True)  # the store still says sms: true
    assert current_consent(session, ana.id, "sms") is False  # type: ignore[arg-type]
    assert may_contact(session, ana, "sms", "marketing") is not None
    assert may_contact(session, ana, "sms", "transactional") is not None  # STOP stops every SMS
    record_sms_consent(
        session, customer_id=ana.id, granted=True, now=T0 + timedelta(3), source="sms:START"
    )  # type: ignore[arg-type]
    assert may_contact(session, ana, "sms", "marketing") is None


def test_store_grants_where_nothing_was_refused(session: Session) -> None:
    ana = store_event(session, "A", T0, email=True)
    assert may_contact(session, ana, "email", "marketing") is None
    store_event(session, "A", T0 + timedelta(1), email=False)  # a store "no" always counts
    assert may_contact(session, ana, "email", "marketing") is not None


def test_suppression_follows_the_address(session: Session) -> None:
    ana = store_event(session, "A", T0, email=True, sms=True)
    recipient(session, ana, "email", False, "one-click unsubscribe", T0 + timedelta(1))
    guest = store_event(session, "guest-7", T0 + timedelta(2), email=True, sms=True)
    assert guest.id != ana.id
    assert may_contact(session, guest, "email", "marketing") is not None
    assert may_contact(session, guest, "sms", "marketing") is None  # only email was refused


def test_restock_signup_grants_that_item_only(session: Session) -> None:
    ana = store_event(session, "A", T0)
    session.add(
        Consent(
            customer_id=ana.id,  # type: ignore[arg-type]
            channel="email",
            purpose=restock_purpose("SOFA-1"),
            granted=True,
            source="restock:widget",
            recorded_at=T0,
        )
    )
    session.flush()
    assert may_contact(session, ana, "email", "marketing", restock_purpose("SOFA-1")) is None
    assert may_contact(session, ana, "email", "marketing", restock_purpose("LAMP-1")) is not None
    assert may_contact(session, ana, "email", "marketing") is not None
    assert current_consent(session, ana.id, "email") is None  # type: ignore[arg-type]


def test_repeated_store_flags_append_nothing(session: Session) -> None:
    ana = store_event(session, "A", T0, sms=True)
    record_sms_consent(
        session, customer_id=ana.id, granted=False, now=T0 + timedelta(1), source="sms:STOP"
    )  # type: ignore[arg-type]
    for day in range(2, 5):
        store_event(session, "A", T0 + timedelta(day), sms=True)
    rows = session.query(Consent).all()
    assert [(r.granted, r.source) for r in rows] == [(True, "store"), (False, "sms:STOP")]


# Any interleaving: the recipient's last word on a channel is a refusal => nothing goes.
REFUSALS = {
    "sms": ["sms:STOP", "sms:STOPALL", "twilio:21610"],
    "email": [
        "one-click unsubscribe",
        "preferences page",
        "sendgrid:bounce",
        "sendgrid:spamreport",
    ],
}
OPT_INS = {"sms": ["sms:START", "sms:UNSTOP"], "email": ["preferences page"]}
Op = tuple[str, str, int, bool]  # (kind, channel, which customer row, flag)
ops = st.lists(
    st.tuples(
        st.sampled_from(["store", "refuse", "opt_in", "signup"]),
        st.sampled_from(["email", "sms"]),
        st.integers(0, 1),
        st.booleans(),
    ),
    max_size=12,
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=ops)
def test_no_message_after_the_recipients_last_refusal(steps: list[Op]) -> None:
    engine = make_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    try:
        with Session(engine) as s:
            rows = [store_event(s, "A", T0), store_event(s, "guest", T0)]
            refused = {"email": False, "sms": False}  # the recipient's last word was "no"
            for i, (kind, channel, which, flag) in enumerate(steps):
                at = T0 + timedelta(minutes=i + 1)
                who = rows[which]
                if kind == "store":
                    store_event(s, who.external_id, at, **{channel: flag})
                elif kind == "refuse":
                    source = REFUSALS[channel][i % len(REFUSALS[channel])]
                    recipient(s, who, channel, False, source, at)
                    refused[channel] = True
                elif kind == "opt_in":
                    source = OPT_INS[channel][i % len(OPT_INS[channel])]
                    recipient(s, who, channel, True, source, at)
                    refused[channel] = False
                else:  # a restock signup: grants that item's alerts, nothing else
                    s.add(
                        Consent(
                            customer_id=who.id,  # type: ignore[arg-type]
                            channel=channel,
                            purpose=restock_purpose("SOFA-1"),
                            granted=True,
                            source="restock:widget",
                            recorded_at=at,
                        )
                    )
                    s.flush()
                for customer in rows:
                    for ch in ("email", "sms"):
                        if refused[ch]:
                            assert may_contact(s, customer, ch, "marketing") is not None, (
                                steps,
                                ch,
                            )
                            assert current_consent(s, customer.id, ch) is not True  # type: ignore[arg-type]
                    if refused["sms"]:
                        assert may_contact(s, customer, "sms", "transactional") is not None
    finally:
        engine.dispose()
