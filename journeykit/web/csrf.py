"""CSRF protection for every customer form: a double-submit cookie. The cookie holds a
random value; each form carries that value signed (itsdangerous, timed), and a POST is
accepted only when the signed field opens to the cookie's value. A page on another site can
neither read the cookie nor forge the signature."""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "jk_csrf"
FIELD = "csrf_token"
_SALT = "journeykit.csrf"


class CsrfError(PermissionError):
    """A form without a valid token (missing, forged, expired, or from another browser)."""


def issue(request: Request, secret: str) -> tuple[str, str]:
    """(cookie value, form token) for a page: the browser's cookie, or a new one."""
    value = request.cookies.get(COOKIE) or ""
    if len(value) < 16 or len(value) > 64:
        value = secrets.token_urlsafe(24)
    return value, URLSafeTimedSerializer(secret, salt=_SALT).dumps(value)


def set_cookie(response: Response, value: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, value, httponly=True, samesite="lax", secure=secure, path="/")


def check(request: Request, secret: str, token: str | None, max_age_s: int) -> None:
    """Raise ``CsrfError`` unless ``token`` opens to the request's cookie value."""
    cookie = request.cookies.get(COOKIE) or ""
    if not cookie or not token:
        raise CsrfError("this form has expired: reload the page and try again")
    try:
        value = URLSafeTimedSerializer(secret, salt=_SALT).loads(token, max_age=max_age_s)
    except BadSignature as exc:
        raise CsrfError("this form has expired: reload the page and try again") from exc
    if not isinstance(value, str) or not hmac.compare_digest(value, cookie):
        raise CsrfError("this form has expired: reload the page and try again")
