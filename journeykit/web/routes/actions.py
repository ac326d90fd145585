"""Signed action links (``/a/{token}``): a GET only shows the page (mail scanners open
links); a POST acts, once. Review and help links show their forms (routes/review.py,
routes/help.py); every other action is a confirm-your-choice page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import CustomerAction
from journeykit.messaging.signed_links import LinkError, read_action
from journeykit.service.events import record_action
from journeykit.web import choice_facts, csrf, flash
from journeykit.web.action_link import LinkNotFound, open_link
from journeykit.web.i18n import translator
from journeykit.web.link_pages import link_problem, view_locale
from journeykit.web.pages import csrf_rejected, message, render
from journeykit.web.routes import help as help_pages
from journeykit.web.routes import review as review_pages
from journeykit.web.state import WebState, get_state, move_on

router = APIRouter(tags=["customer pages"])
HTML: dict[str, object] = {"content": {"text/html": {}}}
PAGE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: HTML,
    403: {"description": "form expired (CSRF)", **HTML},
    404: {"description": "forged or unknown link", **HTML},
    409: {"description": "the choice is no longer available", **HTML},
    422: {"description": "the form has errors (shown again)", **HTML},
    410: {"description": "expired link", **HTML},
}


@router.get("/a/{token}", response_class=HTMLResponse, responses=PAGE_RESPONSES)
def show_action(token: str, request: Request, state: WebState = Depends(get_state)) -> Response:
    """The page for an action link: details and a confirm button (or the review/help form)."""
    with Session(state.runtime.engine) as session:
        try:
            view = open_link(session, state.secret, token, state.now())
        except (LinkError, LinkNotFound) as exc:
            return link_problem(state, request, exc, token=token)
        locale = view_locale(request, view)
        if view.claim.action in ("review", "help"):
            # A form sent back with errors (post, redirect, get): show them once.
            errors, values = flash.pop(state, request)
            if view.claim.action == "review":
                return review_pages.show(state, request, session, view, locale, errors, values)
            return help_pages.show(state, request, view, locale, errors, values.get("message", ""))
        done = _done(session, view.key)
        if done is not None:
            return _already(state, request, locale, done.name)
        t = translator(locale)
        return render(
            state,
            request,
            "choice.html",
            locale=locale,
            title=t("choice.title"),
            action_url=f"/a/{token}",
            order=view.order,
            lines=view.lines,
            window=choice_facts.ship_window(state, view, locale),
            show_window=view.enrollment.journey == "delay_apology",
            choice_label=t(f"choice.{view.claim.action}"),
            deadline=choice_facts.deadline(view, locale),
            credit_amount=choice_facts.credit_amount(state, view, locale),
        )


@router.post("/a/{token}", response_class=HTMLResponse, responses=PAGE_RESPONSES)
async def act(token: str, request: Request, state: WebState = Depends(get_state)) -> Response:
    """Act on the link: once. A second POST says it was already done."""
    form = await request.form(max_files=1, max_fields=20)
    action = _peek_action(state, token)
    photo = None
    if action == "review":
        photo = await review_pages.read_photo(form, state.settings.web.review_photo_max_bytes)
    # The database work (and advancing what it touched) runs off the event loop.
    return await run_in_threadpool(_act, state, request, token, action, form, photo)


def _act(
    state: WebState,
    request: Request,
    token: str,
    action: str | None,
    form: FormData,
    photo: bytes | None,
) -> Response:
    for attempt in (1, 2):
        try:
            if action == "review":
                return review_pages.submit(state, request, token, form, photo)
            if action == "help":
                return help_pages.submit(state, request, token, form)
            return choose(state, request, token, form.get(csrf.FIELD))
        except IntegrityError:  # a concurrent POST of the same link won the unique key:
            if attempt == 2:  # the second run sees its row and says "already done"
                raise
    raise AssertionError("unreachable")


def choose(state: WebState, request: Request, token: str, csrf_token: object) -> Response:
    with session_scope(state.runtime.engine) as session:
        try:
            view = open_link(session, state.secret, token, state.now())
        except (LinkError, LinkNotFound) as exc:
            return link_problem(state, request, exc, token=token)
        locale = view_locale(request, view)
        rejected = csrf_rejected(state, request, csrf_token, locale=locale)
        if rejected is not None:
            return rejected
        done = _done(session, view.key)
        if done is not None:
            return _already(state, request, locale, done.name)
        if not view.waiting:
            return message(
                state,
                request,
                locale=locale,
                title_key="link.expired_title",
                body_key="choice.unavailable",
                status_code=409,
            )
        ingested = record_action(
            session,
            now=state.now(),
            customer_id=view.customer.id,  # type: ignore[arg-type]
            name=view.claim.action,
            key=view.key,
            enrollment_id=view.enrollment.id,
            source="link",
            data={"node": view.claim.node_id},
        )
    move_on(state, ingested.routed.touched)
    t = translator(locale)
    return message(
        state,
        request,
        locale=locale,
        title_key="choice.done_title",
        body_key="choice.done",
        choice=t(f"choice.{view.claim.action}"),
        detail=choice_facts.what_was_done(
            state, view.claim.enrollment_id, locale, view.customer.timezone
        ),
    )


def _already(state: WebState, request: Request, locale: str, name: str) -> HTMLResponse:
    t = translator(locale)
    return message(
        state,
        request,
        locale=locale,
        title_key="choice.done_title",
        body_key="choice.already",
        choice=t(f"choice.{name}"),
    )


def _done(session: Session, key: str) -> CustomerAction | None:
    return session.exec(select(CustomerAction).where(CustomerAction.key == key)).first()


def _peek_action(state: WebState, token: str) -> str | None:
    try:
        return read_action(state.secret, token, now=state.now()).action
    except (LinkError, KeyError, TypeError, ValueError):
        return None
