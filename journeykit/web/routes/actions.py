"""Signed action links (``/a/{token}``): a GET only shows the page (mail scanners open
links); a POST acts, once. Review and help links show their forms (routes/review.py,
routes/help.py); every other action is a confirm-your-choice page."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from journeykit.engine.ingest import record_action
from journeykit.foundation.db import session_scope
from journeykit.foundation.models import CustomerAction
from journeykit.messaging.signed_links import LinkError, read_action
from journeykit.web import choice_facts, csrf, flash
from journeykit.web.action_link import LinkNotFound, LinkView, open_link
from journeykit.web.i18n import pick_locale, translator
from journeykit.web.pages import csrf_rejected, invalid_link, message, render
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


def link_problem(
    state: WebState,
    request: Request,
    exc: Exception,
    locale: str | None = None,
    token: str | None = None,
) -> HTMLResponse:
    """The friendly page for a forged, expired or dangling link (nothing happens). An expired
    help link says how to reach support (a mailto link) instead of "this offer has ended"."""
    locale = locale or pick_locale(accept_language=request.headers.get("accept-language"))
    if isinstance(exc, LinkError) and "expired" in str(exc):
        if token is not None and _expired_action(state, token) == "help":
            support = state.settings.store.support_email
            return message(
                state,
                request,
                locale=locale,
                title_key="help.expired_title",
                body_key="help.expired",
                status_code=410,
                links=[{"url": f"mailto:{support}", "label_key": "help.write_support"}],
            )
        return message(
            state,
            request,
            locale=locale,
            title_key="link.expired_title",
            body_key="link.expired",
            status_code=410,
        )
    return invalid_link(state, request, locale=locale)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _expired_action(state: WebState, token: str) -> str | None:
    """The action of a genuine link whose time is up (read as of the epoch)."""
    try:
        return read_action(state.secret, token, now=EPOCH).action
    except (LinkError, KeyError, TypeError, ValueError):
        return None


def view_locale(request: Request, view: LinkView) -> str:
    return pick_locale(request.query_params.get("lang"), view.customer.locale)


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
