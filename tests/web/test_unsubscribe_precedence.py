"""Issue 15 §2 at the door: a one-click unsubscribe is the recipient's own refusal, so the
next store event that still carries ``email: true`` does not undo it."""

from __future__ import annotations

from journeykit.foundation.models import Customer
from journeykit.messaging.compliance import may_contact
from tests.web.conftest import Web, order_placed, product
from tests.web.test_pages import email_consents, unsubscribe_path


def test_store_flag_after_one_click_unsubscribe_changes_nothing(delay_web: Web) -> None:
    client = delay_web.client()
    assert (
        client.post(unsubscribe_path(delay_web), data={"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )
    delay_web.emit(order_placed(number="1002"), "o2")  # the store still says email: true
    assert email_consents(delay_web)[1:] == [(False, "one-click unsubscribe")]
    with delay_web.session() as session:
        customer = session.get(Customer, 1)
        assert customer is not None
        assert may_contact(session, customer, "email", "marketing") is not None


def test_unsubscribing_what_the_store_refused_is_still_recorded(web: Web) -> None:
    payload = order_placed()
    payload["customer"]["consent"] = {"email": False}
    web.emit(product(), "p1")
    web.emit(payload, "o1")
    client = web.client()
    client.post(unsubscribe_path(web), data={"List-Unsubscribe": "One-Click"})
    again = order_placed(number="1002")  # now the store says email: true
    web.emit(again, "o2")
    assert email_consents(web)[-2:] == [(False, "one-click unsubscribe"), (True, "store")]
    with web.session() as session:
        customer = session.get(Customer, 1)
        assert customer is not None
        assert may_contact(session, customer, "email", "marketing") is not None
