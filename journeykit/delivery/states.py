"""The outbox row's life: which status may follow which. A row only moves forward:

    queued -> sending -> sent -> delivered | bounced | failed
    queued -> suppressed | expired | withdrawn  (never sent; withdrawn: the send-time guard
                                                 found it no longer true, with the reason)
    sending -> queued                           (only when the provider surely did not take it)
    sending -> failed                           (permanent error)
    sending -> delivered | bounced              (a provider event overtook our own record)

Every status write goes through :func:`move`, a guarded ``UPDATE ... WHERE status IN (...)``,
so two writers (the dispatcher and a provider webhook) can race without moving a row back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import bindparam, case, func, literal, literal_column, null, or_, update
from sqlmodel import Session, col

from journeykit.foundation.models import OutboxMessage

Status = Literal[
    "queued",
    "sending",
    "sent",
    "delivered",
    "bounced",
    "failed",
    "suppressed",
    "expired",
    "withdrawn",
]

# target status -> the statuses it may be reached from
ALLOWED_FROM: dict[str, frozenset[str]] = {
    "queued": frozenset({"sending"}),
    "sending": frozenset({"queued"}),
    "sent": frozenset({"sending"}),
    "delivered": frozenset({"sending", "sent"}),
    "bounced": frozenset({"sending", "sent", "delivered"}),
    "failed": frozenset({"sending", "sent"}),
    "suppressed": frozenset({"queued"}),
    "expired": frozenset({"queued"}),
    "withdrawn": frozenset({"queued"}),
}
FINAL = frozenset({"delivered", "bounced", "failed", "suppressed", "expired", "withdrawn"})
NEVER_SENT = frozenset({"suppressed", "expired", "withdrawn", "failed"})  # never reached anyone
ACCEPTED = frozenset({"sent", "delivered", "bounced"})  # the provider took the message


class StatusError(ValueError):
    """An unknown status name."""


def may_move(current: str, target: str) -> bool:
    """Whether a row in ``current`` may move to ``target``."""
    if target not in ALLOWED_FROM:
        raise StatusError(f"unknown outbox status {target!r}: use one of {sorted(ALLOWED_FROM)}")
    return current in ALLOWED_FROM[target]


def move(session: Session, outbox_id: int, target: str, **values: Any) -> bool:
    """Set ``status=target`` (and ``values``) when the row's current status allows it.
    Returns whether the row moved; a refused move changes nothing."""
    if target not in ALLOWED_FROM:
        raise StatusError(f"unknown outbox status {target!r}: use one of {sorted(ALLOWED_FROM)}")
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == outbox_id,
            col(OutboxMessage.status).in_(sorted(ALLOWED_FROM[target])),
        )
        .values(status=target, **values)
    )
    return bool(getattr(result, "rowcount", 0))


def _text(status: str) -> Any:
    """A status name written into the statement (not a parameter: no per-row binding)."""
    assert status.isidentifier(), status
    return literal_column(f"'{status}'")


def mark_sent_many(
    session: Session, now: datetime, accepted: Sequence[tuple[int, str | None]]
) -> None:
    """Record accepted sends, ``(outbox id, provider id)`` pairs, in one executemany UPDATE:
    :func:`move` to ``sent`` where the row may (same guard), and the provider's id kept on
    any row that has none yet (a webhook may have moved the row on before the send's own
    answer was recorded). Every other value is a constant of the statement, so each row
    binds only its id and provider id (a dispatch round records hundreds: SQLAlchemy's
    processing of each row's parameters cost more than the database's work)."""
    if not accepted:
        return
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    may = or_(*(table.c.status == _text(s) for s in sorted(ALLOWED_FROM["sent"])))
    pid = bindparam("pid", type_=table.c.provider_id.type)

    def when_may(value: Any, otherwise: Any) -> Any:
        return case((may, value), else_=otherwise)

    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            status=when_may(_text("sent"), table.c.status),
            sent_at=when_may(literal(now, table.c.sent_at.type), table.c.sent_at),
            error_code=when_may(null(), table.c.error_code),
            error=when_may(null(), table.c.error),
            provider_id=when_may(pid, func.coalesce(table.c.provider_id, pid)),
        )
    )
    session.connection().execute(
        statement, [{"row_id": row_id, "pid": provider_id} for row_id, provider_id in accepted]
    )
