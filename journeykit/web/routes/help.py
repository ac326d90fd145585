"""The "need help?" form behind a ``help`` action link. Submitting records the ``help``
action with the customer's message: the waiting enrollment opens the support ticket
(``open_ticket``) and confirms it. When nothing waits for help any more (the link is old),
the ticket is opened directly, so a request for help is never dropped."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session, col, select
from starlette.datastructures import FormData

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import CustomerAction, SupportTicket
from journeykit.messaging.signed_links import LinkError
from journeykit.service.events import record_action
from journeykit.web import csrf, flash
from journeykit.web.action_link import LinkNotFound, LinkView, open_link
from journeykit.web.i18n import translator
from journeykit.web.link_pages import link_problem, view_locale
from journeykit.web.pages import csrf_rejected, message, render
from journeykit.web.state import WebState, move_on

MAX_MESSAGE = 5000
MAX_TICKET = 50_000  # a ticket grows by appended messages up to this many characters
SEPARATOR = "\n\n---\n"


def show(
    state: WebState,
    request: Request,
    view: LinkView,
    locale: str,
    errors: list[str] | None = None,
    text: str = "",
) -> Response:
    t = translator(locale)
    return render(
        state,
        request,
        "help.html",
        locale=locale,
        title=t("help.title"),
        order=view.order,
        lines=view.lines,
        window=None,
        show_window=False,
        errors=errors or [],
        message_text=text,
        action_url=str(request.url.path),
    )


def submit(state: WebState, request: Request, token: str, form: FormData) -> Response:
    touched: list[int] = []
    with session_scope(state.runtime.engine) as session:
        try:
            view = open_link(session, state.secret, token, state.now())
        except (LinkError, LinkNotFound) as exc:
            return link_problem(state, request, exc, token=token)
        locale = view_locale(request, view)
        token_field = form.get(csrf.FIELD)
        rejected = csrf_rejected(state, request, token_field, locale=locale)
        if rejected is not None:
            return rejected
        text = str(form.get("message") or "").strip()
        if not text or len(text) > MAX_MESSAGE:  # post, redirect, get: Back and reload work
            error = translator(locale)("help.error_message")
            return flash.redirect_with_errors(state, request, [error], {"message": text[:3000]})
        key = f"{view.key}:help"
        seen = session.exec(select(CustomerAction).where(CustomerAction.key == key)).first()
        if seen is not None:  # back, type, send again: the words reach the same request
            body_key = "help.appended" if _append(session, view, seen, text) else "help.already"
            return message(
                state, request, locale=locale, title_key="help.done_title", body_key=body_key
            )
        now = state.now()
        if view.waiting:
            ingested = record_action(
                session,
                now=now,
                customer_id=view.customer.id,  # type: ignore[arg-type]
                name="help",
                key=key,
                enrollment_id=view.enrollment.id,
                source="link",
                data={"message": text},
            )
            touched = ingested.routed.touched
        else:
            session.add(
                SupportTicket(
                    customer_id=view.customer.id,  # type: ignore[arg-type]
                    order_id=view.order.id if view.order else None,
                    message=text,
                    opened_at=now,
                )
            )
            session.add(
                CustomerAction(
                    key=key,
                    customer_id=view.customer.id,  # type: ignore[arg-type]
                    enrollment_id=view.enrollment.id,
                    name="help",
                    source="link",
                    at=now,
                    data={"message": text, "direct_ticket": True},
                )
            )
    move_on(state, touched)
    return message(state, request, locale=locale, title_key="help.done_title", body_key="help.done")


def _append(session: Session, view: LinkView, seen: CustomerAction, text: str) -> bool:
    """Add ``text`` to the ticket this link opened (the newest open ticket of the customer
    for the order, opened since the first message). False when there is no such ticket yet
    (the journey has not opened it) or ``text`` was already sent."""
    query = select(SupportTicket).where(
        SupportTicket.customer_id == view.customer.id,
        SupportTicket.status == "open",
        col(SupportTicket.opened_at) >= seen.at,
    )
    if view.order is not None:
        query = query.where(SupportTicket.order_id == view.order.id)
    ticket = session.exec(query.order_by(col(SupportTicket.id).desc()).limit(1)).first()
    if ticket is None or text in ticket.message.split(SEPARATOR) or text == ticket.message:
        return False
    if len(ticket.message) + len(text) > MAX_TICKET:
        return False
    ticket.message = f"{ticket.message}{SEPARATOR}{text}"
    session.add(ticket)
    return True
