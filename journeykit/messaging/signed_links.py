"""Signed, expiring action links (bound to one enrollment and one choice), and
unsubscribe tokens. Only a POST acts; a GET shows a confirmation page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from itsdangerous import BadSignature, URLSafeSerializer

ACTION_SALT = "journeykit.action"
UNSUBSCRIBE_SALT = "journeykit.unsubscribe"


@dataclass(frozen=True)
class ActionClaim:
    enrollment_id: int
    action: str
    node_id: str
    expires_at: datetime | None


class LinkError(ValueError):
    """A link that was tampered with, or has expired."""


def sign_action(
    secret: str, *, enrollment_id: int, action: str, node_id: str, expires_at: datetime | None
) -> str:
    payload = {
        "e": enrollment_id,
        "a": action,
        "n": node_id,
        "x": int(expires_at.timestamp()) if expires_at else None,
    }
    return URLSafeSerializer(secret, salt=ACTION_SALT).dumps(payload)


def read_action(secret: str, token: str, *, now: datetime) -> ActionClaim:
    """The claim in ``token``; raises ``LinkError`` when forged or expired."""
    try:
        payload = URLSafeSerializer(secret, salt=ACTION_SALT).loads(token)
    except BadSignature as exc:
        raise LinkError("this link is not valid") from exc
    expires = payload.get("x")
    expires_at = datetime.fromtimestamp(expires, tz=now.tzinfo) if expires else None
    if expires_at is not None and now >= expires_at:
        raise LinkError("this offer has expired")
    return ActionClaim(int(payload["e"]), str(payload["a"]), str(payload["n"]), expires_at)


def sign_unsubscribe(secret: str, *, customer_id: int, channel: str) -> str:
    return URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).dumps({"c": customer_id, "ch": channel})


def read_unsubscribe(secret: str, token: str) -> tuple[int, str]:
    try:
        payload = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature as exc:
        raise LinkError("this link is not valid") from exc
    return int(payload["c"]), str(payload["ch"])
