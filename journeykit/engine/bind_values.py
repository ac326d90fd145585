"""A group's many rows written in one executemany, each distinct value converted once.

A group writes thousands of history, outbox and enrollment rows at its end. Through
``connection.execute(statement, rows)`` SQLAlchemy builds each row's parameters in Python
(``construct_params``) and runs every column's bind processor on every value: for a datetime
column on SQLite, SQLModel's UTC conversion (``value.astimezone(UTC)``, a Python call of
~5 µs for a pendulum ``DateTime``) and then SQLite's text formatting, though the rows share a
few instants (the group's ``now``). Together ~15% of the engine's CPU per message.

On SQLite, :func:`execute_many` compiles the statement once, converts each distinct datetime
object once with the column type's own processor (the same stored text) and every other value
with its column's processor (JSON by orjson), and hands the rows to the driver's
``executemany``. Elsewhere (PostgreSQL) it is ``connection.execute(statement, rows)``, with
each pendulum datetime made a plain UTC ``datetime`` once: there SQLAlchemy writes many rows
per statement (``insertmanyvalues``), a round trip saved per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.sql.dml import UpdateBase

from journeykit.timing.clock import plain_utc


def execute_many(
    connection: Connection, statement: UpdateBase, rows: Sequence[dict[str, Any]]
) -> None:
    """Execute ``statement`` (an INSERT, or an UPDATE with ``bindparam`` names) once per row
    of ``rows`` (dicts with the same keys). The rows' datetime values must be aware (as the
    column type requires; a naive one raises its ``ValueError`` here, as it would there)."""
    if not rows:
        return
    dialect = connection.dialect
    if dialect.name != "sqlite":
        connection.execute(statement, _plain_datetimes(rows))
        return
    compiled = statement.compile(dialect=dialect, column_keys=list(rows[0]))
    names = compiled.positiontup
    if (
        not compiled.positional
        or names is None
        or compiled.insert_prefetch
        or compiled.update_prefetch
        or compiled.literal_execute_params
        or compiled.post_compile_params
    ):  # a statement this does not know how to bind: SQLAlchemy's own way
        connection.execute(statement, list(rows))
        return
    binders = [_binder(compiled.binds[name], name, dialect, name in rows[0]) for name in names]
    connection.exec_driver_sql(
        compiled.string,
        [tuple(bind(row) for bind in binders) for row in rows],
    )


def _binder(bind: Any, key: str, dialect: Any, from_row: bool) -> Callable[[dict[str, Any]], Any]:
    """The driver's value of one parameter for a row: the row's value (or the statement's
    own, e.g. ``.values(status="sent")``) through the column type's bind processor, a
    datetime once per distinct object (the group's rows share a few)."""
    process = bind.type.dialect_impl(dialect).bind_processor(dialect)
    if not from_row:
        constant = bind.effective_value
        value = process(constant) if process else constant
        return lambda _row: value
    if process is None:
        return lambda row: row[key]
    seen: dict[int, tuple[datetime, Any]] = {}  # id -> (the object, kept alive; its value)

    def bind_value(row: dict[str, Any]) -> Any:
        value = row[key]
        if isinstance(value, datetime):
            known = seen.get(id(value))
            if known is None or known[0] is not value:
                known = seen[id(value)] = (value, process(value))
            return known[1]
        return process(value)

    return bind_value


def _plain_datetimes(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with each pendulum (or other ``datetime`` subclass) value replaced by the
    plain UTC ``datetime`` of the same instant, converted once per distinct object: the
    column type's own UTC conversion of a plain ``datetime`` is native, of a pendulum one a
    Python call per value. A naive value is left for the column type to refuse."""
    done: dict[int, tuple[datetime, datetime]] = {}  # id -> (the original, kept alive; plain)
    plain_rows = []
    for row in rows:
        plain = dict(row)
        for name, value in row.items():
            if type(value) is datetime or not isinstance(value, datetime):
                continue
            known = done.get(id(value))
            if known is None or known[0] is not value:
                if value.utcoffset() is None:
                    continue
                known = done[id(value)] = (value, plain_utc(value))
            plain[name] = known[1]
        plain_rows.append(plain)
    return plain_rows
