"""The "need help?" form behind a ``help`` action link. Submitting records the ``help``
action with the customer's message: the waiting enrollment opens the support ticket
(``open_ticket``) and confirms it. When nothing waits for help any more (the link is old),
the ticket is opened directly, so a request for help is never dropped."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import select
from starlette.datastructures import FormData

from journeykit.engine.ingest import record_action
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import CustomerAction, SupportTicket
from journeykit.messaging.signed_links import LinkError
from journeykit.web import csrf
from journeykit.web.action_link import LinkNotFound, LinkView, open_link
from journeykit.web.i18n import translator
from journeykit.web.pages import csrf_rejected, message, render
from journeykit.web.state import WebState, move_on

MAX_MESSAGE = 5000


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
        status_code=422 if errors else 200,
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
    from journeykit.web.routes.actions import link_problem, view_locale

    touched: list[int] = []
    with session_scope(state.runtime.engine) as session:
        try:
            view = open_link(session, state.secret, token, state.now())
        except (LinkError, LinkNotFound) as exc:
            return link_problem(state, request, exc)
        locale = view_locale(request, view)
        token_field = form.get(csrf.FIELD)
        rejected = csrf_rejected(state, request, token_field, locale=locale)
        if rejected is not None:
            return rejected
        text = str(form.get("message") or "").strip()
        if not text or len(text) > MAX_MESSAGE:
            return show(state, request, view, locale, [translator(locale)("help.error_message")])
        key = f"{view.key}:help"
        seen = session.exec(select(CustomerAction.id).where(CustomerAction.key == key)).first()
        if seen is None:
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
