"""The ``journeys`` console command."""

from __future__ import annotations

import importlib
import os
from importlib.metadata import entry_points

import typer

# Prefect's ephemeral server can take 15-20 s to start on a fresh PREFECT_HOME (its default
# timeout is 20 s), and this machine has no network for analytics: sane defaults for every
# command, which the environment still overrides.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

app = typer.Typer(
    name="journeys",
    help="Journeykit: customer journeys as code, run by Prefect.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module defines ``register(app: typer.Typer) -> None``.
COMMAND_MODULES = (
    "journeykit.cli.validate",
    "journeykit.cli.db",
    "journeykit.cli.sandbox",
    "journeykit.cli.emit",
    "journeykit.cli.simulate",
    "journeykit.cli.demo",
    "journeykit.cli.run",
    "journeykit.cli.preview",
    "journeykit.cli.graph",
    "journeykit.cli.diff",
    "journeykit.cli.move",
    "journeykit.cli.status",
    "journeykit.cli.deploy",
    "journeykit.cli.serve",
    "journeykit.cli.worker",
    "journeykit.cli.report",
    "journeykit.cli.story",
    "journeykit.cli.reviews",
)


# Commands other distributions add (the verification rigs' ``bench`` and ``chaos``, installed
# with the dev tools): an entry point in this group names a ``register(app)`` function.
PLUGIN_GROUP = "journeykit.commands"


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)
    for plugin in entry_points(group=PLUGIN_GROUP):
        plugin.load()(app)


_register_all()


def main() -> None:
    from pydantic import ValidationError
    from rich.text import Text

    from journeykit.cli.common import err
    from journeykit.foundation.settings import variable

    try:
        app(standalone_mode=True)
    except ValidationError as exc:  # settings from the environment: one clear line each
        if exc.title != "Settings":
            raise
        for problem in exc.errors():
            name = variable(problem["loc"])
            where = f"{name}: " if name else ""
            text = problem["msg"].removeprefix("Value error, ")
            err.print(f"[red]error:[/red] {where}", Text(text), sep="")
        raise SystemExit(1) from None
