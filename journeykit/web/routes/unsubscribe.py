"""Unsubscribe and preferences: ``/u/{token}`` and ``/preferences/{token}`` (tokens from
``journeykit.messaging.signed_links.sign_unsubscribe``). One click on ``/u/`` (a GET) or
``List-Unsubscribe=One-Click`` (RFC 8058, a POST sent by mail clients without cookies)
unsubscribes the token's channel at once and answers a localised page with "undo";
``/preferences/`` shows the preferences and a form POST (CSRF checked) saves them. Every
change is a consent-ledger row made by the recipient (it outranks store flags, see
``messaging/consent.py``); saving what is already in force writes nothing."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from journeykit.foundation.db import session_scope
from journeykit.foundation.models import Consent, Customer
from journeykit.messaging.consent import consent_state
from journeykit.messaging.signed_links import LinkError, read_unsubscribe
from journeykit.store.sync import current_consent
from journeykit.web import csrf
from journeykit.web.i18n import pick_locale, translator
from journeykit.web.pages import csrf_rejected, invalid_link, render
from journeykit.web.state import WebState, get_state

router = APIRouter(tags=["customer pages"])
CHANNELS = ("email", "sms")
RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {"text/html": {}}},
    404: {"description": "forged or unknown link", "content": {"text/html": {}}},
    403: {"description": "form expired (CSRF)", "content": {"text/html": {}}},
}


def _customer(session: Session, state: WebState, token: str) -> tuple[Customer, str] | None:
    try:
        customer_id, channel = read_unsubscribe(state.secret, token[:2000])
    except (LinkError, KeyError, TypeError, ValueError):
        return None
    customer = session.get(Customer, customer_id)
    return (customer, channel) if customer is not None and channel in CHANNELS else None


def set_consent(
    session: Session, customer: Customer, channel: str, granted: bool, source: str, now: object
) -> bool:
    """Append a row when ``granted`` differs from what is in force, or when the recipient
    refuses what only a store flag refused (their own refusal must be on the ledger: a later
    store flag cannot lift it); True if written."""
    state = consent_state(session, customer, channel)
    if state.granted == granted and (granted or state.refused_by_recipient):
        return False
    session.add(
        Consent(
            customer_id=customer.id,  # type: ignore[arg-type]
            channel=channel,
            purpose="marketing",
            granted=granted,
            source=source,
            recorded_at=now,  # type: ignore[arg-type]
        )
    )
    return True


def _page(
    state: WebState, request: Request, session: Session, customer: Customer, notice: str = ""
) -> HTMLResponse:
    locale = pick_locale(request.query_params.get("lang"), customer.locale)
    return render(
        state,
        request,
        "preferences.html",
        locale=locale,
        title=translator(locale)("prefs.title"),
        action_url=str(request.url.path),
        email_on=current_consent(session, customer.id, "email") is True,  # type: ignore[arg-type]
        sms_on=current_consent(session, customer.id, "sms") is True,  # type: ignore[arg-type]
        notice=notice,
    )


def _invalid(state: WebState, request: Request) -> HTMLResponse:
    locale = pick_locale(accept_language=request.headers.get("accept-language"))
    return invalid_link(state, request, locale=locale)


def _unsubscribed(
    state: WebState, request: Request, customer: Customer, channel: str
) -> HTMLResponse:
    """The localised "you are unsubscribed" page with an undo button."""
    locale = pick_locale(request.query_params.get("lang"), customer.locale)
    t = translator(locale)
    return render(
        state,
        request,
        "unsubscribed.html",
        locale=locale,
        title=t("unsub.title"),
        body=t("unsub.done_sms" if channel == "sms" else "unsub.done_email"),
        action_url=str(request.url.path),
        preferences_url=str(request.url.path).replace("/u/", "/preferences/", 1),
    )


@router.get("/u/{token}", response_class=HTMLResponse, responses=RESPONSES)
def unsubscribe_link(
    token: str, request: Request, state: WebState = Depends(get_state)
) -> Response:
    """One click: the link's channel is unsubscribed, and the page offers "undo"."""
    with session_scope(state.runtime.engine) as session:
        found = _customer(session, state, token)
        if found is None:
            return _invalid(state, request)
        customer, channel = found
        set_consent(session, customer, channel, False, "unsubscribe link", state.now())
        return _unsubscribed(state, request, customer, channel)


@router.get("/preferences/{token}", response_class=HTMLResponse, responses=RESPONSES)
def preferences(token: str, request: Request, state: WebState = Depends(get_state)) -> Response:
    """The preferences page (changes nothing)."""
    with Session(state.runtime.engine) as session:
        found = _customer(session, state, token)
        if found is None:
            return _invalid(state, request)
        return _page(state, request, session, found[0])


@router.post("/u/{token}", response_class=HTMLResponse, responses=RESPONSES)
@router.post("/preferences/{token}", response_class=HTMLResponse, responses=RESPONSES)
async def save(token: str, request: Request, state: WebState = Depends(get_state)) -> Response:
    """One-click unsubscribe (RFC 8058) or the preferences form."""
    form = await request.form(max_files=0, max_fields=20)
    return await run_in_threadpool(_save, state, request, token, form)


def _save(state: WebState, request: Request, token: str, form: FormData) -> Response:
    with session_scope(state.runtime.engine) as session:
        found = _customer(session, state, token)
        if found is None:
            return _invalid(state, request)
        customer, channel = found
        now = state.now()
        if form.get("List-Unsubscribe") == "One-Click":
            set_consent(session, customer, channel, False, "one-click unsubscribe", now)
            return _unsubscribed(state, request, customer, channel)
        locale = pick_locale(request.query_params.get("lang"), customer.locale)
        field = form.get(csrf.FIELD)
        rejected = csrf_rejected(state, request, field, locale=locale)
        if rejected is not None:
            return rejected
        t = translator(locale)
        if form.get("op") == "undo":
            set_consent(session, customer, channel, True, "unsubscribe undone", now)
            notice = t("unsub.undone")
        elif form.get("op") == "unsubscribe":
            for each in CHANNELS:
                set_consent(session, customer, each, False, "preferences page", now)
            notice = t("prefs.unsubscribed")
        else:
            for each in CHANNELS:
                set_consent(
                    session, customer, each, form.get(each) == "on", "preferences page", now
                )
            notice = t("prefs.saved")
        session.flush()
        return _page(state, request, session, customer, notice)
