"""Short links for SMS and email: ``{base_url}/l/{code}`` stands for a long URL (an action
link, a product page) and records a click when followed (``GET /l/{code}``, journeykit.web)."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, update
from sqlmodel import Session, col, select

from journeykit.foundation.models import ShortLink
from journeykit.timing.clock import SystemClock

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
    code (so a re-render reuses it); without a message, a new code each time. Adds a
    ``ShortLink`` row; the caller commits."""
    pair = (message_key, url)
    return shorten_many(session, [pair], base_url=base_url, now=now or SystemClock().now())[pair]


def shorten_many(
    session: Session,
    wanted: Iterable[tuple[str | None, str]],
    *,
    base_url: str,
    now: datetime,
) -> dict[tuple[str | None, str], str]:
    """Short links for many ``(message_key, url)`` pairs in a handful of statements (one
    lookup of the links the messages already have, one collision check per round of new
    codes, one INSERT): ``{(message_key, url): short URL}``."""
    pairs = set(wanted)
    for _key, url in pairs:
        if not url.startswith(("http://", "https://")):
            raise ShortLinkError(f"only http(s) URLs can be shortened, got {url[:60]!r}")
    base = base_url.rstrip("/")
    codes: dict[tuple[str | None, str], str] = {}
    keys = sorted({key for key, _url in pairs if key is not None})
    for start in range(0, len(keys), 500):
        found = session.exec(
            select(ShortLink.message_key, ShortLink.url, ShortLink.code).where(
                col(ShortLink.message_key).in_(keys[start : start + 500])
            )
        ).all()
        codes.update(((k, u), c) for k, u, c in found if (k, u) in pairs)
    missing = [pair for pair in pairs if pair not in codes]
    fresh: dict[tuple[str | None, str], str] = {}
    for _ in range(_MAX_TRIES):
        todo = [pair for pair in missing if pair not in fresh]
        if not todo:
            break
        proposed = {pair: new_code() for pair in todo}
        taken = set(
            session.exec(
                select(ShortLink.code).where(col(ShortLink.code).in_(set(proposed.values())))
            ).all()
        )
        seen = set(fresh.values())
        for pair, code in proposed.items():
            if code not in taken and code not in seen:
                fresh[pair] = code
                seen.add(code)
    if len(fresh) < len(missing):  # pragma: no cover - 8 rounds of collisions in 3.5e12 codes
        raise ShortLinkError("could not find free short codes")
    if fresh:
        session.connection().execute(
            insert(ShortLink),
            [
                {"code": c, "url": u, "message_key": k, "created_at": now, "clicks": 0}
                for (k, u), c in fresh.items()
            ],
        )
    codes.update(fresh)
    return {pair: f"{base}/l/{code}" for pair, code in codes.items()}


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
