"""``journeys db upgrade|current``: the same Alembic migrations on SQLite and PostgreSQL."""

from __future__ import annotations

import typer
from rich.console import Console

from journeykit.settings import get_settings


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database migrations.", no_args_is_help=True)

    @db.command("upgrade")
    def upgrade(
        url: str = typer.Option(None, help="database URL (default: JOURNEYKIT_DATABASE_URL)"),
        revision: str = typer.Argument("head"),
    ) -> None:
        """Apply migrations up to REVISION (default: head)."""
        from journeykit.db import upgrade as run_upgrade

        target = url or get_settings().database_url
        run_upgrade(target, revision)
        Console().print(f"[green]database at {revision}[/green]: {_safe(target)}")

    app.add_typer(db, name="db")


def _safe(url: str) -> str:
    """The URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return url
