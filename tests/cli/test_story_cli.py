"""``journeys customer`` and ``journeys order`` print a story readable at 80 columns, stored
strings as text (never markup), and a clear error for nobody."""

from __future__ import annotations

import pytest
from rich.console import Console
from sqlmodel import select

from journeykit.cli.story import print_story
from journeykit.foundation.db import make_engine, session_scope
from journeykit.foundation.models import OutboxMessage
from journeykit.reports.story import Entry, Story
from tests.reports.conftest import played  # noqa: F401  (fixture)


@pytest.fixture
def narrow(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    return cli


def test_an_order_story_fits_80_columns(narrow, played) -> None:  # noqa: F811
    url = played("delay_apology__cancel_by_sms_reply")
    result = narrow("order", "3001", "--database-url", url)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    out = result.output
    assert "order 3001" in out and "order.delayed" in out and "cancel" in out
    assert "delay_apology/cancel_confirmation" in out and "…" not in out


def test_a_customer_story_by_email_and_as_markdown(narrow, played) -> None:  # noqa: F811
    url = played("delay_apology__cancel_by_sms_reply")
    result = narrow("customer", "kenta@example.com", "--database-url", url, "--markdown")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# customer ")
    assert "| when | kind | what | detail |" in result.output


def test_nobody_is_one_clear_error(narrow, played) -> None:  # noqa: F811
    url = played("delay_apology__cancel_by_sms_reply")
    result = narrow("customer", "nobody@example.com", "--database-url", url)
    assert result.exit_code == 1
    assert "no customer with id, store id, email or phone 'nobody@example.com'" in result.output
    result = narrow("order", "9999", "--database-url", url)
    assert result.exit_code == 1 and "no order number '9999'" in result.output


def test_stored_strings_are_never_markup(narrow, played) -> None:  # noqa: F811
    url = played("delay_apology__cancel_by_sms_reply")
    engine = make_engine(url)
    with session_scope(engine) as session:
        for message in session.exec(select(OutboxMessage)):
            message.error = "[bold red]boom[/] [link=http://x]y[/link]"
    engine.dispose()
    result = narrow("order", "3001", "--database-url", url)
    assert result.exit_code == 0, result.output
    assert "[bold red]boom[/]" in " ".join(result.output.split())


def test_long_values_wrap_instead_of_being_cut() -> None:
    from datetime import UTC, datetime

    long = "SM" + "0123456789abcdef" * 4
    story = Story(
        title="order 1",
        key="story-order-1",
        facts=[("status", "placed")],
        entries=[Entry(datetime(2026, 1, 1, tzinfo=UTC), "message", "sms x · sent", long)],
    )
    console = Console(width=80, record=True, highlight=False)
    print_story(console, story)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert long in "".join(part.strip(" │") for part in text.splitlines())
