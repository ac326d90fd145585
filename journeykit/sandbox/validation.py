"""Request validation against the vendors' own OpenAPI specs (loaded once per process).

Specs are cached at module level and ``warm_specs()`` loads them in a background thread when a
server starts. They are loaded without openapi-core's check of the document itself (about
0.5-2 s of CPU for the Twilio spec, at every start); a test checks the vendored files instead.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlencode

from openapi_core import Config, OpenAPI
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.testing import MockRequest
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue

from journeykit.sandbox.quick_validation import FormCheck

SPEC_DIR = Path(__file__).resolve().parent / "specs"
SPEC_FILES = {"twilio": "twilio_api_v2010.json", "sendgrid": "tsg_mail_v3.json"}
SPEC_HOSTS = {"twilio": "https://api.twilio.com", "sendgrid": "https://api.sendgrid.com"}

# Parameters the official Twilio SDK sends that the published spec does not list.
TWILIO_TOLERATED_PARAMS = frozenset({"MessageIntent"})

# The create-message form: checked by a quick FormCheck first (see quick_validation).
TWILIO_MESSAGES = "/2010-04-01/Accounts/{AccountSid}/Messages.json"
_TWILIO_MESSAGES_PATH = re.compile(r"/2010-04-01/Accounts/([^/]+)/Messages\.json")

# The vendored specs are valid OpenAPI (tests/sandbox/test_specs.py checks them): checking
# the Twilio one again at every start cost ~0.6 s of CPU, and the answers do not change.
UNCHECKED_SPEC = Config(spec_validator_cls=None)

_specs: dict[str, OpenAPI] = {}
_quick: dict[str, FormCheck] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class FieldError:
    """One reason a request is invalid, with the offending field (dotted path) when known."""

    field: str | None
    message: str
    kind: str = "invalid"  # "required", "type", "invalid", ...


def get_spec(provider: str) -> OpenAPI:
    """The parsed spec for ``twilio`` or ``sendgrid`` (loaded on first use, then cached)."""
    spec = _specs.get(provider)
    if spec is not None:
        return spec
    with _lock:
        if provider not in _specs:
            with (SPEC_DIR / SPEC_FILES[provider]).open(encoding="utf-8") as f:
                _specs[provider] = OpenAPI.from_dict(json.load(f), config=UNCHECKED_SPEC)
        return _specs[provider]


def twilio_messages_check() -> FormCheck:
    """The quick check of Twilio's create-message form (built on first use, then cached)."""
    check = _quick.get("twilio")
    if check is not None:
        return check
    with _lock:
        if "twilio" not in _quick:
            with (SPEC_DIR / SPEC_FILES["twilio"]).open(encoding="utf-8") as f:
                _quick["twilio"] = FormCheck(json.load(f), TWILIO_MESSAGES)
        return _quick["twilio"]


def warm_specs() -> threading.Thread:
    """Start loading both specs in a daemon thread; returns the thread."""

    def load() -> None:
        for provider in SPEC_FILES:
            get_spec(provider)
        twilio_messages_check()

    thread = threading.Thread(target=load, name="sandbox-spec-loader", daemon=True)
    thread.start()
    return thread


def _errors(provider: str, path: str, headers: dict[str, str], raw: bytes, ct: str) -> list[Any]:
    request = MockRequest(
        SPEC_HOSTS[provider], "POST", path, headers=headers, data=raw, content_type=ct
    )
    return list(get_spec(provider).iter_request_errors(request))


def _schema_errors(exc: BaseException) -> list[Any]:
    cause = exc.__cause__
    if isinstance(cause, InvalidSchemaValue):
        return list(cause.schema_errors)
    return []


def _dotted(error: Any) -> tuple[str | None, str]:
    """The dotted field path of a jsonschema error and its kind."""
    parts = [str(p) for p in error.path]
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [k for k in error.validator_value if k not in error.instance]
        if missing:
            parts.append(str(missing[0]))
        return (".".join(parts) or None), "required"
    return (".".join(parts) or None), str(error.validator)


def _tolerated_removed(form: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in form if k not in TWILIO_TOLERATED_PARAMS]


def twilio_quick_pass(path: str, form: list[tuple[str, str]]) -> bool:
    """Whether the quick check vouches for this Twilio form POST (the create-message form
    only; False means "ask openapi-core"). Microseconds: fine in an event loop."""
    messages = _TWILIO_MESSAGES_PATH.fullmatch(path)
    if messages is None:
        return False
    return twilio_create_passes(messages[1], form)


def twilio_create_passes(account_sid: str, form: list[tuple[str, str]]) -> bool:
    """:func:`twilio_quick_pass` for the create-message form of this account."""
    if not TWILIO_TOLERATED_PARAMS.isdisjoint(key for key, _ in form):
        form = _tolerated_removed(form)
    return twilio_messages_check().passes({"AccountSid": account_sid}, form)


def validate_twilio(
    path: str, headers: dict[str, str], form: list[tuple[str, str]], *, quick: bool = True
) -> list[FieldError]:
    """Spec errors for a Twilio form POST (``form`` as ordered pairs); the create-message
    form passes a quick check first and only goes through openapi-core if that fails."""
    if quick and twilio_quick_pass(path, form):
        return []
    kept = _tolerated_removed(form)
    raw = urlencode(kept).encode()
    result: list[FieldError] = []
    for exc in _errors("twilio", path, headers, raw, "application/x-www-form-urlencoded"):
        cause = exc.__cause__
        if isinstance(cause, CastError):
            field = next((k for k, v in kept if v == cause.value), None)
            result.append(FieldError(field, f"{cause.value!r} is not a valid {cause.type}", "type"))
            continue
        schema_errors = _schema_errors(exc)
        if not schema_errors:
            result.append(FieldError(None, str(exc)))
        for err in schema_errors:
            field, kind = _dotted(err)
            result.append(FieldError(field, err.message, kind))
    return result


def _tolerated_sendgrid(err: Any) -> bool:
    # The spec types top-level custom_args as a string; the API takes an object of strings.
    return (
        list(err.path) == ["custom_args"]
        and err.validator == "type"
        and isinstance(err.instance, dict)
        and all(isinstance(v, str) for v in err.instance.values())
    )


def validate_sendgrid(headers: dict[str, str], raw: bytes) -> list[FieldError]:
    """Spec errors for a SendGrid ``POST /v3/mail/send`` JSON body."""
    result: list[FieldError] = []
    for exc in _errors("sendgrid", "/v3/mail/send", headers, raw, "application/json"):
        schema_errors = _schema_errors(exc)
        if not schema_errors:
            result.append(FieldError(None, str(exc)))
        for err in schema_errors:
            if _tolerated_sendgrid(err):
                continue
            field, kind = _dotted(err)
            result.append(FieldError(field, err.message, kind))
    return result


_HEX_DIGITS = "0123456789abcdefABCDEF"
_ESCAPED_BYTE = {
    f"%{high}{low}".encode(): bytes([int(high + low, 16)])
    for high in _HEX_DIGITS
    for low in _HEX_DIGITS
}
_ESCAPE = re.compile(b"%[0-9A-Fa-f]{2}")


def _byte_of(escape: re.Match[bytes]) -> bytes:
    return _ESCAPED_BYTE[escape[0]]


def _unquote_plus(text: str) -> str:
    """``unquote(text.replace("+", " "))``; an ASCII field's escapes replaced in one pass."""
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text
    if not text.isascii():
        return unquote(text)
    return _ESCAPE.sub(_byte_of, text.encode("ascii")).decode("utf-8", "replace")


def parse_form(raw: bytes) -> list[tuple[str, str]]:
    """Decode a form-encoded body into ordered pairs (repeated keys kept, blank values kept).

    What ``urllib.parse.parse_qsl(text, keep_blank_values=True)`` answers, with its steps
    inlined and a field without ``+`` or ``%`` left as it is (half the time, on every SMS)."""
    pairs: list[tuple[str, str]] = []
    for field in raw.decode("utf-8").split("&"):
        if field:
            name, _, value = field.partition("=")
            pairs.append((_unquote_plus(name), _unquote_plus(value)))
    return pairs
