"""Stored customer strings are printed by the CLI as typed, never as rich markup (issue 16):
a review named "[/]" used to crash ``journeys reviews list`` with a MarkupError, and a title
"[green]approved[/]" could pose as the photo status."""

from __future__ import annotations

from pathlib import Path

import pendulum
import pytest
from typer.testing import CliRunner

from journeykit.cli.app import app
from journeykit.foundation.db import make_engine, session_scope, upgrade
from journeykit.foundation.models import Customer, Product, Review

AT = pendulum.datetime(2026, 3, 2, 15, tz="UTC")
HOSTILE = {"name": "[/]", "title": "[green]approved[/]", "product": "[bold red]Sofa[/] [link=x]"}


@pytest.fixture
def hostile_reviews(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/reviews.db"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        customer = Customer(external_id="C-1", first_name="Ana", created_at=AT)
        sofa = Product(handle="sofa", title=HOSTILE["product"])
        session.add_all([customer, sofa])
        session.flush()
        session.add(
            Review(
                customer_id=customer.id or 0,
                product_id=sofa.id or 0,
                rating=5,
                name=HOSTILE["name"],
                title=HOSTILE["title"],
                body="ok",
                photo_path="/photos/[red]p.jpg",
                photo_status="pending",
                created_at=AT,
            )
        )
    engine.dispose()
    return url


def test_reviews_list_prints_customer_strings_verbatim(
    hostile_reviews: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    result = CliRunner().invoke(app, ["reviews", "list", "--database-url", hostile_reviews])
    assert result.exit_code == 0, result.output
    row = next(line for line in result.output.splitlines() if "approved" in line)
    cells = [cell.strip() for cell in row.split("│")]
    assert HOSTILE["name"] in cells and HOSTILE["title"] in cells
    assert HOSTILE["product"] in cells and "/photos/[red]p.jpg" in cells
    assert "pending" in cells, "the status column shows the real status"


def test_fail_prints_markup_in_messages_verbatim(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from journeykit.cli.common import fail

    with pytest.raises(typer.Exit):
        fail("no product [/] named [green]x[/]", hint="[bold]try[/]")
    err = capsys.readouterr().err
    assert "no product [/] named [green]x[/]" in err and "[bold]try[/]" in err
