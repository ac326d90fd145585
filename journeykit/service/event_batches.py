"""Store events together (PostgreSQL's group commit at the door): many events, each stored as
:func:`journeykit.service.events.accept_with_receipt` stores one (the inbox row and, for a
keyed request, the receipt of its 202; both ``ON CONFLICT DO NOTHING``), in one statement
and one transaction. :class:`BatchWriter` keeps a connection of its own for it."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from threading import Lock
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Connection, Engine, TextClause, text
from sqlalchemy.exc import DBAPIError

from journeykit.foundation.models import ApiReceipt, InboxEvent
from journeykit.service.events import Accepted, subject_of
from journeykit.timing.clock import plain_utc


@dataclass
class Incoming:
    """One event to store together with others, validated already (the door parsed it as
    its event model). ``request_hash`` None: a keyless request (a new key; no receipt)."""

    payload: dict[str, Any]
    key: str
    source: str
    now: datetime
    request_hash: str | None


def accept_together(connection: Connection, events: list[Incoming]) -> list[Accepted | None]:
    """Store ``events`` in one statement (atomic; committed when it returns on an
    ``AUTOCOMMIT`` connection, else committed here), in the order given. For each event:
    its :class:`Accepted` when it was stored new, or None when its key has an inbox row or
    a receipt already, or appears earlier in ``events``: nothing was written for it, and
    the caller takes the general way once this has committed (replay the receipt, answer
    409 or ``duplicate``)."""
    first: dict[str, int] = {}
    for i, event in enumerate(events):
        first.setdefault(event.key, i)
    answers: list[Accepted | None] = [None] * len(events)
    if not first:
        return answers
    picked = sorted(first.values())
    subjects = {events[i].key: subject_of(events[i].payload) for i in picked}
    given = [
        {
            "key": events[i].key,
            "subject": subjects[events[i].key],
            "type": str(events[i].payload["type"]),
            "body": events[i].payload,
            "source": events[i].source,
            "hash": events[i].request_hash,
            "at": plain_utc(events[i].now),
        }
        for i in picked
    ]
    stored = connection.execute(_ACCEPT_TOGETHER, {"given": to_json(given).decode()}).all()
    if connection.in_transaction():
        connection.commit()
    # kept false: a receipt under that key appeared between the statement's check and its
    # insert (none is kept without its inbox row, so it should not happen): that event is
    # stored once all the same, and the caller's general way answers with that receipt
    ids = {row.key: int(row.id) for row in stored if row.hash is None or row.kept}
    for i in picked:
        key = events[i].key
        if key in ids:
            answers[i] = Accepted(ids[key], subjects[key], duplicate=False)
    return answers


def _accept_together() -> TextClause:
    """The rows given as one JSON array (one cached, prepared statement for any number of
    events; the bodies go through as JSON text): those whose key has no receipt yet are
    inserted in the given order (``ON CONFLICT DO NOTHING``), then the receipts of the keyed
    ones just inserted, each response built from the new id. Returns (key, id, hash, kept)
    for each inbox row inserted."""
    inbox, receipts = InboxEvent.__table__, ApiReceipt.__table__  # type: ignore[attr-defined]
    sql = f"""
        WITH given AS (
            SELECT item->>'key' AS "key", item->>'subject' AS subject, item->>'type' AS type,
                   item->'body' AS body, item->>'source' AS source, item->>'hash' AS hash,
                   CAST(item->>'at' AS timestamptz) AS at, ord
            FROM json_array_elements(CAST(:given AS json)) WITH ORDINALITY AS given_rows(item, ord)
            -- a subquery per row (an index lookup): as NOT EXISTS the planner makes it an
            -- anti-join that reads every receipt
            WHERE (
                SELECT r.id FROM {receipts.name} r WHERE r."key" = given_rows.item->>'key'
                LIMIT 1
            ) IS NULL
        ), stored AS (
            INSERT INTO {inbox.name}
                ("key", subject, type, body, source, status, attempts, next_try_at, accepted_at)
            SELECT "key", subject, type, body, source, 'pending', 0, at, at
            FROM given ORDER BY ord
            ON CONFLICT ("key") DO NOTHING RETURNING id, "key"
        ), kept AS (
            INSERT INTO {receipts.name} ("key", request_hash, status_code, response, created_at)
            SELECT given."key", given.hash, 202, json_build_object(
                'status', 'accepted', 'event_id', stored.id,
                'key', given."key", 'subject', given.subject
            ), given.at
            FROM stored JOIN given ON given."key" = stored."key"
            WHERE given.hash IS NOT NULL
            ON CONFLICT ("key") DO NOTHING RETURNING "key"
        )
        SELECT stored."key", stored.id, given.hash, kept."key" IS NOT NULL AS kept
        FROM stored JOIN given ON given."key" = stored."key"
        LEFT JOIN kept ON kept."key" = stored."key"
    """
    return text(sql)


_ACCEPT_TOGETHER = _accept_together()


class BatchWriter:
    """:func:`accept_together` on a connection of its own, kept from one batch to the next
    (no pool checkout, no pre-ping per batch) and in ``AUTOCOMMIT`` (the statement is its
    own transaction: no ``BEGIN`` and ``COMMIT`` round trips); one batch at a time (a lock:
    several threads may share it). A connection that the server dropped (a restart) is
    replaced and the batch tried once more on the new one: nothing was committed then, or,
    had the commit gone through before the drop, the second try finds every key stored and
    the caller replays their receipts."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._lock = Lock()

    def accept(self, events: list[Incoming]) -> list[Accepted | None]:
        with self._lock:
            return self._accept(events)

    def _accept(self, events: list[Incoming]) -> list[Accepted | None]:
        for attempt in (1, 2):
            if self._connection is None:
                self._connection = self.engine.connect().execution_options(
                    isolation_level="AUTOCOMMIT"
                )  # the pool pre-pings it
            try:
                return accept_together(self._connection, events)
            except DBAPIError as exc:
                if not exc.connection_invalidated or attempt == 2:
                    self._rollback()
                    raise
                self.close()
            except BaseException:
                self._rollback()
                raise
        raise AssertionError("unreachable")

    def _rollback(self) -> None:
        """Ready for the next batch: the failed statement's transaction ended (a connection
        that cannot is dropped; the next batch takes a new one)."""
        if self._connection is None:
            return
        try:
            self._connection.rollback()
        except DBAPIError:
            self.close()

    def close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            with suppress(DBAPIError):
                connection.close()
