"""The quick create-message check never passes what openapi-core's full validation rejects."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeykit.sandbox.validation import twilio_messages_check, validate_twilio

ACCOUNT = "AC" + "0" * 32
PATH = f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
HEADERS = {"Authorization": "Basic eA=="}
VALID = [("To", "+15555550123"), ("From", "+15555550100"), ("Body", "Back in stock")]

FIELDS = [
    "To", "From", "Body", "ValidityPeriod", "StatusCallback", "MaxPrice", "ProvideFeedback",
    "Attempt", "ContentRetention", "MediaUrl", "MessagingServiceSid", "SendAt", "ScheduleType",
    "ShortenUrls", "SmartEncoded", "ApplicationSid", "PersistentAction", "Unknown",
]  # fmt: skip
VALUES = st.one_of(
    st.sampled_from(
        ["", "1", "-3", "3600", "1.5", "x", "true", "false", "True", "retain", "discard",
         "fixed", "https://jk.example/s", "not a url", "2026-11-27T10:00:00Z", "yesterday",
         "MG" + "a" * 32, "MG123", "AP" + "f" * 32, "+15555550123"]
    ),
    st.text(string.printable, max_size=12),
)  # fmt: skip


def full_errors(path: str, form: list[tuple[str, str]]) -> list[object]:
    return list(validate_twilio(path, HEADERS, form, quick=False))


def test_a_plain_message_passes_both_ways() -> None:
    assert twilio_messages_check().passes({"AccountSid": ACCOUNT}, VALID)
    assert validate_twilio(PATH, HEADERS, VALID) == full_errors(PATH, VALID) == []


def test_bad_values_are_left_to_openapi_core_which_names_them() -> None:
    bad = [*VALID, ("ValidityPeriod", "soon")]
    assert not twilio_messages_check().passes({"AccountSid": ACCOUNT}, bad)
    assert [e.field for e in validate_twilio(PATH, HEADERS, bad)] == ["ValidityPeriod"]
    missing_to = [("From", "+15555550100"), ("Body", "hi")]
    assert not twilio_messages_check().passes({"AccountSid": ACCOUNT}, missing_to)
    assert validate_twilio(PATH, HEADERS, missing_to)[0].kind == "required"


def test_a_bad_account_sid_is_not_passed() -> None:
    assert not twilio_messages_check().passes({"AccountSid": "AC123"}, VALID)
    bad_path = "/2010-04-01/Accounts/AC123/Messages.json"
    assert validate_twilio(bad_path, HEADERS, VALID) == full_errors(bad_path, VALID) != []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), max_size=6), st.booleans())
def test_quick_pass_implies_full_pass(extra: list[tuple[str, str]], with_to: bool) -> None:
    form = ([("To", "+15555550123")] if with_to else []) + extra
    if twilio_messages_check().passes({"AccountSid": ACCOUNT}, form):
        assert full_errors(PATH, form) == []
    assert validate_twilio(PATH, HEADERS, form) == full_errors(PATH, form)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), max_size=6), st.booleans())
def test_field_by_field_is_the_whole_schema(extra: list[tuple[str, str]], with_to: bool) -> None:
    check = twilio_messages_check()
    assert check.by_field  # the create-message schema: properties and required only
    form = ([("To", "+15555550123")] if with_to else []) + extra
    data = check.cast(form)
    whole = data is not None and check.passes_whole(data)
    assert check.passes({"AccountSid": ACCOUNT}, form) == whole


def test_only_fields_with_something_to_check_get_a_validator() -> None:
    checked = twilio_messages_check().field_checks
    assert {"MessagingServiceSid", "ContentRetention", "SendAt", "MediaUrl"} <= set(checked)
    assert not {"To", "From", "Body", "ValidityPeriod", "MaxPrice"} & set(checked)
