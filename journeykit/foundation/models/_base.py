"""Column helper shared by the tables: JSON columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON
from sqlmodel import Field


def json_field(default_factory: Any = dict) -> Any:
    """A JSON column (JSON text on SQLite, json on PostgreSQL)."""
    return Field(default_factory=default_factory, sa_type=JSON)


def pk(row: Any) -> int:
    """The primary key of a row that has been flushed (SQLModel types ``id`` as optional)."""
    if row is None or row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: flush it first")
    return int(row.id)
