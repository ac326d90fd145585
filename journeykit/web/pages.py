"""Rendering customer pages: the template, the customer's language, and the CSRF token
(a form's hidden field plus the double-submit cookie) in one call."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from journeykit.web import csrf
from journeykit.web.i18n import translator
from journeykit.web.state import WebState

FLASH_COOKIE = "jk_flash"  # a redirected form's errors (journeykit.web.flash)

# Pages are personal (order details, preferences): never cached, never indexed, not framed.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def render(
    state: WebState,
    request: Request,
    template: str,
    *,
    locale: str,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    cookie, token = csrf.issue(request, state.secret)
    t = translator(locale)
    response = state.templates.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "locale": locale,
            "csrf_field": csrf.FIELD,
            "csrf_token": token,
            "store_name": state.settings.store.name,
            "store_url": state.settings.store.url,
            "support": state.settings.store.support_email,
            **context,
        },
        status_code=status_code,
        headers=PAGE_HEADERS,
    )
    secure = state.settings.web.public_base_url.startswith("https://")
    csrf.set_cookie(response, cookie, secure=secure)
    if getattr(request.state, "flash_used", False):  # errors of a redirected form: shown once
        response.delete_cookie(FLASH_COOKIE, path=request.url.path)
    return response


def message(
    state: WebState,
    request: Request,
    *,
    locale: str,
    title_key: str,
    body_key: str,
    status_code: int = 200,
    detail: str | None = None,
    links: list[dict[str, str]] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page that only says something (done, already done, expired, not found); ``detail``
    adds what exactly was done, ``links`` (``{"url": ..., "label_key": ...}``) go under it."""
    t = translator(locale)
    values.setdefault("support", state.settings.store.support_email)
    return render(
        state,
        request,
        "message.html",
        locale=locale,
        status_code=status_code,
        title=t(title_key, **values),
        body=t(body_key, **values),
        detail=detail,
        tone="error" if status_code >= 400 else "ok",
        links=[{"url": link["url"], "label": t(link["label_key"])} for link in links or []],
    )


def invalid_link(state: WebState, request: Request, *, locale: str) -> HTMLResponse:
    """The 404 page for a link that does not lead anywhere (nothing happens)."""
    return message(
        state,
        request,
        locale=locale,
        title_key="link.invalid_title",
        body_key="link.invalid",
        status_code=404,
    )


def check_csrf(state: WebState, request: Request, token: str | None) -> None:
    csrf.check(request, state.secret, token, state.settings.web.csrf_max_age_seconds)


def csrf_rejected(
    state: WebState, request: Request, token: object, *, locale: str
) -> HTMLResponse | None:
    """None when the form's CSRF token holds, else the "form expired" page (403)."""
    try:
        check_csrf(state, request, token if isinstance(token, str) else None)
    except csrf.CsrfError:
        return message(
            state,
            request,
            locale=locale,
            title_key="link.invalid_title",
            body_key="form.expired",
            status_code=403,
        )
    return None
