"""The sandbox's record of every message it accepted, kept in SQLite and safe across threads.

By default the store is a private temporary SQLite database on disk (SQLite's empty file
name: deleted when the connection closes, or the process ends), not ``:memory:``: a sandbox
standing in for the providers in a fan-out of 50,000 subscribers kept ~1 GB of accepted
messages (each email's HTML, text and request) in its process; on disk only SQLite's page
cache (a few MB) stays in memory, so the process's memory does not grow with the audience,
and every query answers as before.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Provider = Literal["twilio", "sendgrid"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    request_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    to_addr TEXT NOT NULL,
    to_name TEXT NOT NULL DEFAULT '',
    from_addr TEXT NOT NULL DEFAULT '',
    subject TEXT NOT NULL DEFAULT '',
    html TEXT NOT NULL DEFAULT '',
    text TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    num_segments INTEGER NOT NULL DEFAULT 0,
    custom_args TEXT NOT NULL DEFAULT '{}',
    headers TEXT NOT NULL DEFAULT '{}',
    categories TEXT NOT NULL DEFAULT '[]',
    received_at TEXT NOT NULL,
    raw TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS ix_messages_to ON messages (provider, to_addr);
"""


@dataclass(frozen=True)
class StoredMessage:
    """One accepted message: an SMS, or one personalization of a SendGrid mail send.

    ``id`` is the Twilio SID, or ``<X-Message-Id>.filter0001.<n>`` for the n-th recipient of a
    mail send (so it starts with the X-Message-Id, like SendGrid's ``sg_message_id``).
    ``request_id`` is the SID or the X-Message-Id shared by the whole request. ``raw`` is the
    request body as it concerns this message: a SendGrid request of many personalizations is
    kept per message with only its own personalization (whole, it would be stored once per
    recipient: 1,000 copies of a 1,000-personalization body).
    """

    id: str
    request_id: str
    provider: Provider
    to: str
    received_at: datetime
    to_name: str = ""
    from_: str = ""
    subject: str = ""
    html: str = ""
    text: str = ""
    body: str = ""
    num_segments: int = 0
    custom_args: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    raw: str = ""

    @property
    def channel(self) -> Literal["sms", "email"]:
        """``sms`` for Twilio messages, ``email`` for SendGrid ones."""
        return "sms" if self.provider == "twilio" else "email"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``from`` spelled plainly, times in ISO 8601)."""
        return {
            "id": self.id,
            "request_id": self.request_id,
            "provider": self.provider,
            "channel": self.channel,
            "to": self.to,
            "to_name": self.to_name,
            "from": self.from_,
            "subject": self.subject,
            "html": self.html,
            "text": self.text,
            "body": self.body,
            "num_segments": self.num_segments,
            "custom_args": self.custom_args,
            "headers": self.headers,
            "categories": self.categories,
            "received_at": self.received_at.isoformat(),
        }


PRIVATE_TEMPORARY = ""  # SQLite's name for a private on-disk database deleted on close

_INSERT = (
    "INSERT INTO messages (id, request_id, provider, to_addr, to_name, from_addr, subject, html,"
    " text, body, num_segments, custom_args, headers, categories, received_at, raw)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _json(value: dict[str, str] | list[str]) -> str:
    return json.dumps(value) if value else ("{}" if isinstance(value, dict) else "[]")


class MessageStore:
    """Accepted messages in SQLite: a file path, ``":memory:"`` (this process only, all in
    memory), or by default a private temporary file (this process only, on disk)."""

    def __init__(self, path: str | Path = PRIVATE_TEMPORARY) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            if self.path == PRIVATE_TEMPORARY:
                # Nothing outlives the process: no journal file, no syncs (a crash loses the
                # store either way). Keeps each insert's CPU what it was in memory.
                self._db.execute("PRAGMA journal_mode = MEMORY")
                self._db.execute("PRAGMA synchronous = OFF")
            self._db.executescript(_SCHEMA)

    def add(self, messages: list[StoredMessage]) -> None:
        """Store messages atomically (all personalizations of one request, or none)."""
        rows = [
            (
                m.id,
                m.request_id,
                m.provider,
                m.to,
                m.to_name,
                m.from_,
                m.subject,
                m.html,
                m.text,
                m.body,
                m.num_segments,
                _json(m.custom_args),
                _json(m.headers),
                _json(m.categories),
                m.received_at.astimezone(UTC).isoformat(),
                m.raw,
            )
            for m in messages
        ]
        with self._lock:
            if len(rows) == 1:  # one statement is atomic by itself
                self._db.execute(_INSERT, rows[0])
                return
            self._db.execute("BEGIN")
            try:
                self._db.executemany(_INSERT, rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _where(
        self, provider: str | None, to: str | None, since: datetime | None
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if provider is not None:
            clauses.append("provider = ?")
            args.append(provider)
        if to is not None:
            clauses.append("to_addr = ?")
            args.append(to)
        if since is not None:
            clauses.append("received_at >= ?")
            args.append(since.astimezone(UTC).isoformat())
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), args

    def messages(
        self,
        provider: str | None = None,
        to: str | None = None,
        *,
        since: datetime | None = None,
        newest_first: bool = False,
    ) -> list[StoredMessage]:
        """Stored messages, oldest first unless ``newest_first``, optionally filtered."""
        where, args = self._where(provider, to, since)
        order = "DESC" if newest_first else "ASC"
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM messages{where} ORDER BY seq {order}", args
            ).fetchall()
        return [_from_row(r) for r in rows]

    def get(self, message_id: str) -> StoredMessage | None:
        """The message with this id (a SID or an ``sg_message_id``-like id), if stored."""
        with self._lock:
            row = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _from_row(row) if row is not None else None

    def count(self, provider: str | None = None, to: str | None = None) -> int:
        """How many messages are stored, optionally filtered."""
        where, args = self._where(provider, to, None)
        with self._lock:
            row = self._db.execute(f"SELECT COUNT(*) FROM messages{where}", args).fetchone()
        return int(row[0])

    def clear(self) -> None:
        """Forget every stored message."""
        with self._lock:
            self._db.execute("DELETE FROM messages")

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()


def _from_row(row: sqlite3.Row) -> StoredMessage:
    return StoredMessage(
        id=row["id"],
        request_id=row["request_id"],
        provider=row["provider"],
        to=row["to_addr"],
        to_name=row["to_name"],
        from_=row["from_addr"],
        subject=row["subject"],
        html=row["html"],
        text=row["text"],
        body=row["body"],
        num_segments=row["num_segments"],
        custom_args=json.loads(row["custom_args"]),
        headers=json.loads(row["headers"]),
        categories=json.loads(row["categories"]),
        received_at=datetime.fromisoformat(row["received_at"]),
        raw=row["raw"],
    )
