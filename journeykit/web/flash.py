"""Post, redirect, get for forms with errors: the POST answers 303 to the form's own address
and leaves the errors (and what the customer typed) in a short-lived signed cookie that the
next GET of that address shows once. Back and reload then never meet the browser's "confirm
form resubmission" / ERR_CACHE_MISS page."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from itsdangerous import BadSignature, URLSafeTimedSerializer

from journeykit.web.pages import FLASH_COOKIE, PAGE_HEADERS
from journeykit.web.state import WebState

COOKIE = FLASH_COOKIE
SALT = "journeykit.flash"
MAX_AGE_SECONDS = 600
MAX_COOKIE_CHARS = 3800  # browsers keep cookies up to ~4 KB


def _serializer(state: WebState) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(state.secret, salt=SALT)


def redirect_with_errors(
    state: WebState, request: Request, errors: list[str], values: dict[str, Any]
) -> RedirectResponse:
    """303 to this form's address, carrying ``errors`` and the typed ``values``; values that
    do not fit in a cookie are dropped (the errors always fit)."""
    path = request.url.path
    kept = {k: v for k, v in values.items() if isinstance(v, str | int)}
    value = _serializer(state).dumps({"e": errors, "v": kept})
    if len(value) > MAX_COOKIE_CHARS:
        value = _serializer(state).dumps({"e": errors, "v": {}})
    response = RedirectResponse(path, status_code=303, headers=PAGE_HEADERS)
    secure = state.settings.web.public_base_url.startswith("https://")
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE_SECONDS,
        path=path,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return response


def pop(state: WebState, request: Request) -> tuple[list[str], dict[str, Any]]:
    """The errors and values left for this GET (empty when none, forged or stale). The
    cookie is cleared by the page (``clear``)."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return [], {}
    try:
        data = _serializer(state).loads(raw, max_age=MAX_AGE_SECONDS)
    except (BadSignature, ValueError):
        return [], {}
    errors = [str(e) for e in data.get("e", [])][:10]
    values = data.get("v") if isinstance(data.get("v"), dict) else {}
    request.state.flash_used = True
    return errors, values
