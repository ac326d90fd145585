"""Migrations: the same Alembic history builds exactly the SQLModel tables, and the CLI runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlmodel import SQLModel
from typer.testing import CliRunner

import journeykit.foundation.models  # noqa: F401
from journeykit.cli.app import app
from journeykit.foundation.db import alembic_config, make_engine, upgrade


def test_one_head(tmp_path: Path) -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"migrations have several heads {heads}: chain the newest revision"


def test_migrations_build_the_models(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}),
            SQLModel.metadata,
        )
    engine.dispose()
    assert diff == [], f"models and migrations differ; generate a revision: {diff}"


def test_downgrade_to_base_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/m.db"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    upgrade(url)
    engine = make_engine(url)
    assert "enrollment" in inspect(engine).get_table_names()
    engine.dispose()


def test_cli_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/nested/dir/cli.db"
    result = CliRunner().invoke(app, ["db", "upgrade", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert "database at head" in result.output
    engine = make_engine(url)
    assert "outboxmessage" in inspect(engine).get_table_names()
    engine.dispose()


@pytest.mark.postgres
def test_migrations_build_the_models_on_postgresql(postgres_url: str) -> None:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}),
            SQLModel.metadata,
        )
    engine.dispose()
    assert diff == [], f"models and migrations differ on PostgreSQL: {diff}"
