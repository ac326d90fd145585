"""Signed links are made without itsdangerous's per-token objects, byte for byte the same."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from itsdangerous import URLSafeSerializer

from journeykit.messaging.signed_links import (
    ACTION_SALT,
    UNSUBSCRIBE_SALT,
    LinkError,
    read_action,
    read_unsubscribe,
    sign_action,
    sign_unsubscribe,
)

SECRET = "s3cret-ключ"
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("enrollment_id", "action", "node_id", "expires_at"),
    [
        (1, "buy", "alert_email", NOW),
        (123456789, "keep_order", "offer", None),
        (7, "x" * 300, "n" * 200, NOW),  # long enough to be compressed
        (8, "réponse", "ノード", NOW),
    ],
)
def test_action_tokens_match_itsdangerous(
    enrollment_id: int, action: str, node_id: str, expires_at: datetime | None
) -> None:
    token = sign_action(
        SECRET, enrollment_id=enrollment_id, action=action, node_id=node_id, expires_at=expires_at
    )
    payload = {
        "e": enrollment_id,
        "a": action,
        "n": node_id,
        "x": int(expires_at.timestamp()) if expires_at else None,
    }
    assert token == URLSafeSerializer(SECRET, salt=ACTION_SALT).dumps(payload)
    claim = read_action(SECRET, token, now=datetime(2026, 2, 1, tzinfo=UTC))
    assert (claim.enrollment_id, claim.action, claim.node_id) == (enrollment_id, action, node_id)


def test_unsubscribe_tokens_match_itsdangerous() -> None:
    token = sign_unsubscribe(SECRET, customer_id=42, channel="sms")
    expected = URLSafeSerializer(SECRET, salt=UNSUBSCRIBE_SALT).dumps({"c": 42, "ch": "sms"})
    assert token == expected
    assert read_unsubscribe(SECRET, token) == (42, "sms")
    with pytest.raises(LinkError):
        read_unsubscribe("another secret", token)
