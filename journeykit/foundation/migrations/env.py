"""Alembic environment: the SQLModel metadata, batch mode on SQLite."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import journeykit.foundation.models  # noqa: F401
from journeykit.foundation.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=url.startswith("sqlite"),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
