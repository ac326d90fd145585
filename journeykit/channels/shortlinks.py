"""Short links for SMS and email: ``{base_url}/l/{code}`` stands for a long URL (an action
link, a product page) and records a click when followed (``GET /l/{code}``, journeykit.web)."""

from __future__ import annotations

import secrets
import string
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from journeykit.engine.clock import SystemClock
from journeykit.models import ShortLink

ALPHABET = string.digits + string.ascii_letters  # base62
CODE_LENGTH = 7  # 62**7 ≈ 3.5e12 codes
_MAX_TRIES = 8


class ShortLinkError(ValueError):
    """A URL that cannot be shortened (empty, or not http/https)."""


def new_code(length: int = CODE_LENGTH) -> str:
    """A random base62 code (unguessable enough that codes cannot be enumerated)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def shorten(
    session: Session,
    url: str,
    *,
    message_key: str | None,
    base_url: str,
    now: datetime | None = None,
) -> str:
    """``{base_url}/l/{code}`` for ``url``. The same URL for the same message gets the same
    code (so a re-render reuses it). Adds a ``ShortLink`` row; the caller commits."""
    if not url.startswith(("http://", "https://")):
        raise ShortLinkError(f"only http(s) URLs can be shortened, got {url[:60]!r}")
    base = base_url.rstrip("/")
    if message_key is not None:
        existing = session.exec(
            select(ShortLink).where(ShortLink.message_key == message_key, ShortLink.url == url)
        ).first()
        if existing is not None:
            return f"{base}/l/{existing.code}"
    for _ in range(_MAX_TRIES):
        code = new_code()
        if session.exec(select(ShortLink.id).where(ShortLink.code == code)).first() is None:
            break
    else:  # pragma: no cover - 8 collisions in a 3.5e12 space
        raise ShortLinkError("could not find a free short code")
    session.add(
        ShortLink(
            code=code, url=url, message_key=message_key, created_at=now or SystemClock().now()
        )
    )
    session.flush()
    return f"{base}/l/{code}"


def resolve(session: Session, code: str) -> ShortLink | None:
    """The link for ``code`` (``None`` when unknown or malformed)."""
    if not code or len(code) > 32 or any(ch not in ALPHABET for ch in code):
        return None
    return session.exec(select(ShortLink).where(ShortLink.code == code)).first()


def record_click(session: Session, link: ShortLink, now: datetime) -> int:
    """Count one click on ``link`` in the database (atomic, so concurrent clicks all count);
    returns the new count. The caller commits."""
    session.execute(
        update(ShortLink)
        .where(col(ShortLink.id) == link.id)
        .values(clicks=col(ShortLink.clicks) + 1, last_clicked_at=now)
    )
    session.refresh(link)
    return link.clicks
