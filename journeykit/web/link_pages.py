"""The pages every action link shares before it is opened: the friendly answer to a forged,
expired or dangling link, and the language a link's page speaks. Used by the action, review
and help pages alike (``web/routes/``)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import HTMLResponse

from journeykit.messaging.signed_links import LinkError, read_action
from journeykit.web.action_link import LinkView
from journeykit.web.i18n import pick_locale
from journeykit.web.pages import invalid_link, message
from journeykit.web.state import WebState


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
