"""A call node runs the action from the runtime's registry; what an action emits must be
among the events it declares (``@action(..., emits=[...])``)."""

from __future__ import annotations

import types
from collections.abc import Callable

import pytest
from pydantic import ValidationError
from sqlmodel import select

from journeykit.engine.registry import Registry, action
from journeykit.foundation.models import DomainEvent, Enrollment
from journeykit.language.event_types import DeclaredEvent, parse_event
from tests.engine.conftest import PRODUCT, Harness, order_placed

JOURNEY = """\
name: cancels
trigger: {event: order.placed}
subject: order
category: transactional
nodes:
  - {id: cancel, type: call, action: cancel_it, next: done}
  - {id: done, type: exit}
"""


def _registry(emits: list[str]) -> Registry:
    @action("cancel_it", emits=emits)
    def cancel_it(ctx):  # type: ignore[no-untyped-def]
        ctx.emit({"type": "order.cancelled", "order_number": "1001"})
        return {"cancelled": True}

    module = types.ModuleType("cancelling")
    module.cancel_it = cancel_it  # type: ignore[attr-defined]
    return Registry.from_modules([module])


def _run(harness: Callable[..., Harness], emits: list[str]) -> tuple[list[str], Harness]:
    h = harness([JOURNEY], {})
    h.runtime.registry = _registry(emits)
    h.emit(PRODUCT)
    h.emit(order_placed())
    return h.sweep().errors, h


def test_a_declared_event_is_emitted(harness: Callable[..., Harness]) -> None:
    errors, h = _run(harness, ["order.cancelled"])
    assert errors == []
    with h.session() as session:
        types_seen = [e.type for e in session.exec(select(DomainEvent)).all()]
        (enrollment,) = session.exec(select(Enrollment)).all()
    assert "order.cancelled" in types_seen
    assert enrollment.data["cancelled"] is True


def test_an_undeclared_event_fails_the_step_naming_the_declaration(
    harness: Callable[..., Harness],
) -> None:
    errors, h = _run(harness, [])
    assert len(errors) == 1
    assert "action 'cancel_it' emitted 'order.cancelled', which it does not declare" in errors[0]
    with h.session() as session:
        assert "order.cancelled" not in [e.type for e in session.exec(select(DomainEvent)).all()]


CUSTOM = """\
name: thanks_for_the_gift
trigger: {event: gift_card.sent}
subject: order
category: transactional
nodes:
  - {id: noted, type: exit}
"""


def test_a_declared_custom_event_is_recorded_and_starts_its_journey(
    harness: Callable[..., Harness],
) -> None:
    """An event type only an action declares (``gift_card.sent``) is validated as a declared
    event: it names its subject and carries its data, and a journey can start on it."""

    @action("send_gift", emits=["gift_card.sent"])
    def send_gift(ctx):  # type: ignore[no-untyped-def]
        ctx.emit({"type": "gift_card.sent", "order_number": "1001", "data": {"cents": 500}})
        return {}

    module = types.ModuleType("gifting")
    module.send_gift = send_gift  # type: ignore[attr-defined]
    gifting = JOURNEY.replace("cancels", "gifts").replace("cancel_it", "send_gift")
    h = harness([gifting, CUSTOM], {})
    h.runtime.registry = Registry.from_modules([module])
    h.emit(PRODUCT)
    h.emit(order_placed())
    assert h.sweep().errors == []
    with h.session() as session:
        (gift,) = session.exec(select(DomainEvent).where(DomainEvent.type == "gift_card.sent"))
        journeys = sorted(e.journey for e in session.exec(select(Enrollment)).all())
    assert gift.data["data"] == {"cents": 500} and gift.subject_key == "order:1001"
    assert journeys == ["gifts", "thanks_for_the_gift"]


def test_a_declared_event_must_name_its_subject() -> None:
    assert isinstance(
        parse_event({"type": "gift_card.sent", "sku": "TEE-M"}, ["gift_card.sent"]), DeclaredEvent
    )
    with pytest.raises(ValidationError, match="name its subject"):
        parse_event({"type": "gift_card.sent"}, ["gift_card.sent"])
    with pytest.raises(ValidationError):  # not declared: not an event
        parse_event({"type": "gift_card.sent", "sku": "TEE-M"})
