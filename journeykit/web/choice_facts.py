"""What the choice page states besides the choice: the ship window (calendar dates in the
store's zone, formatted like the email), when the offer closes (date, time and zone), and for
the credit choice the amount the customer will get. One formatter for pages and messages
(``templating/filters.py``)."""

from __future__ import annotations

from sqlmodel import Session, select

from journeykit.actions.orders import (
    CREDIT_ACTION,
    DEFAULT_CREDIT_PERCENT,
    credit_amount_cents,
)
from journeykit.foundation.models import Enrollment, Order
from journeykit.language.nodes import CallNode
from journeykit.templating.filters import format_deadline, format_money, format_window
from journeykit.web.action_link import LinkView
from journeykit.web.i18n import translator
from journeykit.web.state import WebState


def ship_window(state: WebState, view: LinkView, locale: str) -> str | None:
    order = view.order
    if order is None or not (order.ship_from and order.ship_to):
        return None
    return format_window(
        order.ship_from, order.ship_to, "yMMMd", locale, state.settings.store.timezone
    )


def deadline(view: LinkView, locale: str) -> str | None:
    expires = view.claim.expires_at
    return format_deadline(expires, locale, view.customer.timezone) if expires else None


def credit_amount(state: WebState, view: LinkView, locale: str) -> str | None:
    if view.claim.action != "credit" or view.order is None:
        return None
    amount = credit_amount_cents(view.order.total_cents, credit_percent(state, view))
    return format_money(amount, view.order.currency, locale)


def what_was_done(state: WebState, enrollment_id: int, locale: str, timezone: str) -> str | None:
    """After the choice ran: the credit code and amount, the new ship method, or the refund
    (from what the journey's action recorded), so the confirmation page says it."""
    t = translator(locale)
    with Session(state.runtime.engine) as session:
        enrollment = session.get(Enrollment, enrollment_id)
        data = dict(enrollment.data) if enrollment else {}
        order = session.exec(
            select(Order).where(
                Order.number
                == (
                    enrollment.subject_key.split("|")[0].removeprefix("order:")
                    if enrollment
                    else ""
                )
            )
        ).first()
    credit = data.get("credit")
    if isinstance(credit, dict) and credit.get("code"):
        amount = format_money(int(credit["amount_cents"]), str(credit["currency"]), locale)
        until = format_deadline(credit.get("expires_at"), locale, timezone)
        return t("choice.did_credit", code=credit["code"], amount=amount, until=until)
    if data.get("expedited"):
        return t("choice.did_expedite")
    if data.get("cancelled") and order is not None:
        return t(
            "choice.did_cancel", amount=format_money(order.total_cents, order.currency, locale)
        )
    return None


def credit_percent(state: WebState, view: LinkView) -> int:
    """The percent the journey's credit step gives (its ``params.percent``)."""
    try:
        journey = state.runtime.book.get(view.enrollment.journey)
    except KeyError:
        return DEFAULT_CREDIT_PERCENT
    for node in journey.nodes:
        if isinstance(node, CallNode) and node.action == CREDIT_ACTION:
            return int((node.params or {}).get("percent", DEFAULT_CREDIT_PERCENT))
    return DEFAULT_CREDIT_PERCENT
