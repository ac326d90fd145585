"""Checks that a webhook really comes from its provider: Twilio's ``X-Twilio-Signature``
(HMAC-SHA1 of the public URL and the form fields), SendGrid's ECDSA P-256 signature over
timestamp + raw body, and Shopify's base64 HMAC-SHA256 of the raw body. Each returns a bool
and never raises on malformed input (a bad signature is a 403, not a 500)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from twilio.request_validator import RequestValidator


def public_url(base_url: str, path: str, query: str = "") -> str:
    """The URL a provider called, as it saw it (behind proxies: the public base URL)."""
    url = base_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


def twilio_valid(auth_token: str, url: str, params: dict[str, str], signature: str) -> bool:
    if not signature or not auth_token:
        return False
    try:
        return bool(RequestValidator(auth_token).validate(url, params, signature))
    except (ValueError, TypeError):
        return False


def load_sendgrid_key(text: str) -> ec.EllipticCurvePublicKey | None:
    """The verification key as SendGrid shows it (base64 DER), or PEM; None if unusable."""
    text = text.strip()
    if not text:
        return None
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    except (ValueError, TypeError, binascii.Error):
        return None
    return key if isinstance(key, ec.EllipticCurvePublicKey) else None


def sendgrid_valid(
    key: ec.EllipticCurvePublicKey | None, body: bytes, signature: str, timestamp: str
) -> bool:
    if key is None or not signature or not timestamp:
        return False
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError, TypeError, binascii.Error):
        return False
    return True


def timestamp_fresh(timestamp: str, now: datetime, max_age_s: int) -> bool:
    """Within ``max_age_s`` of now, either way (a replayed old batch is refused)."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        return False
    return abs(now.timestamp() - int(timestamp)) <= max_age_s


def shopify_valid(secret: str, body: bytes, signature: str) -> bool:
    if not secret or not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace"))
