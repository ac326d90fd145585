"""``journeys db upgrade|current``: the same Alembic migrations on SQLite and PostgreSQL.
``journeys db prune-receipts [--older-than-hours H]``: delete old idempotency receipts."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from journeykit.cli.common import DatabaseUrl, fail
from journeykit.foundation.settings import get_settings


def register(app: typer.Typer) -> None:
    db = typer.Typer(help="Database migrations.", no_args_is_help=True)

    @db.command("upgrade")
    def upgrade(
        url: DatabaseUrl = None,
        revision: Annotated[str, typer.Argument()] = "head",
    ) -> None:
        """Apply migrations up to REVISION (default: head)."""
        from journeykit.foundation.db import upgrade as run_upgrade

        target = url or get_settings().database.url
        run_upgrade(target, revision)
        Console().print(f"[green]database at {revision}[/green]: {_safe(target)}")

    @db.command("prune-receipts")
    def prune_receipts(
        older_than_hours: Annotated[
            int | None,
            typer.Option(
                "--older-than-hours",
                min=1,
                help="keep this many hours (default: JOURNEYKIT_WEB__RECEIPT_RETENTION_SECONDS)",
            ),
        ] = None,
        url: DatabaseUrl = None,
    ) -> None:
        """Delete idempotency receipts (Idempotency-Key, Shopify webhook ids) older than the
        retention; the sweep does the same. A retry after that is taken as new."""
        from journeykit.foundation.db import SchemaOutOfDate, ensure_schema, make_engine
        from journeykit.service.receipts import prune_receipts as prune
        from journeykit.timing.clock import SystemClock

        settings = get_settings()
        target = url or settings.database.url
        hours = older_than_hours or settings.web.receipt_retention_seconds / 3600
        try:
            ensure_schema(target, auto_upgrade=False)
        except SchemaOutOfDate as exc:
            fail(str(exc))
        except Exception as exc:  # a wrong URL, a server that is down: one clear line
            fail(f"cannot open {_safe(target)}: {type(exc).__name__}", "check --url")
        engine = make_engine(target)
        try:
            deleted = prune(engine, now=SystemClock().now(), retention_hours=hours)
        finally:
            engine.dispose()
        Console().print(f"deleted {deleted} receipts older than {hours:g} h: {_safe(target)}")

    app.add_typer(db, name="db")


def _safe(url: str) -> str:
    """The URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}"
    return url
