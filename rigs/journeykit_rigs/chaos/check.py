"""After a chaos trial: compare what the database says with what the provider sandbox
received. Every customer must have got each due message exactly once; no enrollment lost,
stuck, or half-written; nothing left in ``queued``/``sending``; no lease left behind."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from journeykit.foundation.models import Enrollment, EnrollmentHistory, OutboxMessage
from journeykit.sandbox.store import MessageStore
from journeykit.timing.clock import to_utc
from journeykit_rigs.chaos.workload import EXPECTED, recipient

FINISHED = ("completed", "exited")
MAX_EXAMPLES = 10


@dataclass
class Findings:
    duplicates: int = 0
    lost: int = 0
    stuck: int = 0
    half_written: int = 0
    sent: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, kind: str, count: int, example: str) -> None:
        setattr(self, kind, getattr(self, kind) + count)
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{kind}: {example}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "duplicates": self.duplicates,
            "lost": self.lost,
            "stuck": self.stuck,
            "half_written": self.half_written,
            "sent": self.sent,
            "examples": self.examples,
        }


def check_run(engine: Engine, store: MessageStore, customers: int, now: datetime) -> Findings:
    found = Findings()
    outbox, enrollment, steps = (
        _columns(m) for m in (OutboxMessage, Enrollment, EnrollmentHistory)
    )
    # Core selects of the columns looked at: a 10,000-customer run has ~100,000 rows here
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                select(
                    outbox.key,
                    outbox.channel,
                    outbox.to_address,
                    outbox.template,
                    outbox.status,
                    outbox.error,
                    outbox.content,
                )
            ).all()
        )
        enrollments = list(
            conn.execute(
                select(
                    enrollment.id,
                    enrollment.subject_key,
                    enrollment.node_id,
                    enrollment.status,
                    enrollment.wake_at,
                    enrollment.lease_until,
                    enrollment.lease_owner,
                )
            ).all()
        )
        history = list(
            conn.execute(select(steps.id, steps.enrollment_id, steps.to_node, steps.detail)).all()
        )
    _check_messages(found, rows, store, customers)
    _check_enrollments(found, enrollments, history, rows, customers, to_utc(now))
    return found


def _check_messages(found: Findings, rows: list[Any], store: MessageStore, customers: int) -> None:
    received: Counter[tuple[str, str]] = Counter()
    for provider, to, body, custom_args in _received(store):
        if provider == "sendgrid":
            received["email", json.loads(custom_args).get("journeykit_key", "?")] += 1
        else:
            received["sms", f"{to}|{body}"] += 1
    matched: set[tuple[str, str]] = set()
    per_due: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        ref = (row.channel, row.key if row.channel == "email" else _sms_ref(row))
        matched.add(ref)
        per_due[row.to_address, row.template, row.channel] += 1
        copies = received.get(ref, 0)
        if row.status in ("queued", "sending"):
            found.note("stuck", 1, f"outbox {row.key} still {row.status}")
        elif row.status not in ("sent", "delivered"):
            found.note("lost", 1, f"outbox {row.key} ended {row.status}: {row.error}")
        elif copies == 0:
            found.note("lost", 1, f"outbox {row.key} marked sent, provider has no copy")
        if copies > 1:
            found.note("duplicates", copies - 1, f"{row.key} received {copies} times")
        found.sent += min(copies, 1)
    for ref, copies in received.items():
        if ref not in matched:
            found.note("duplicates", copies, f"provider got {ref} with no outbox row")
    for i in range(customers):
        r = recipient(i)
        for template, channel in EXPECTED:
            address = r.email if channel == "email" else r.phone
            rows_for_due = per_due.get((address, template, channel), 0)
            if rows_for_due == 0:
                found.note("lost", 1, f"{address} never got {template} by {channel}")
            elif rows_for_due > 1:
                found.note("duplicates", rows_for_due - 1, f"{address} {template}: n rows")


def _received(store: MessageStore) -> list[tuple[str, str, str, str]]:
    """(provider, to, body, custom_args JSON) of every message the sandbox accepted.
    ``store.messages()`` would attach each message's whole request body (a SendGrid request
    of 500 personalizations, ~0.4 MB, once per personalization: ~8 GB for a 10,000-customer
    trial), so the four columns are read from the store's table directly."""
    with store._lock:
        query = "SELECT provider, to_addr, body, custom_args FROM messages ORDER BY seq"
        return [tuple(r) for r in store._db.execute(query).fetchall()]


def _columns(model: Any) -> Any:
    return model.__table__.c


def _sms_ref(row: Any) -> str:
    return f"{row.to_address}|{row.content.get('body', '')}"


def _check_enrollments(
    found: Findings,
    enrollments: list[Any],
    history: list[Any],
    rows: list[Any],
    customers: int,
    now: datetime,
) -> None:
    if len(enrollments) != customers:
        kind = "lost" if len(enrollments) < customers else "duplicates"
        found.note(kind, abs(customers - len(enrollments)), f"{len(enrollments)} enrollments")
    by_enrollment: dict[int, list[Any]] = defaultdict(list)
    for h in sorted(history, key=lambda h: h.id or 0):
        by_enrollment[h.enrollment_id].append(h)
    outbox_steps = {str(h.detail.get("outbox")) for h in history if h.detail.get("outbox")}
    for e in enrollments:
        label = f"enrollment {e.id} ({e.subject_key}) at {e.node_id} {e.status}"
        waiting_ok = e.status == "waiting" and e.wake_at is not None and to_utc(e.wake_at) > now
        if e.status not in FINISHED and not waiting_ok:
            found.note("stuck", 1, label)
        if e.lease_until is not None and to_utc(e.lease_until) < now:
            found.note("stuck", 1, f"{label}: expired lease of {e.lease_owner} left")
        moves = [h for h in by_enrollment[e.id or 0] if h.to_node is not None]
        if not moves or moves[-1].to_node != e.node_id:
            last = moves[-1].to_node if moves else None
            found.note("half_written", 1, f"{label}: history ends at {last}")
    for row in rows:
        if row.key not in outbox_steps:
            found.note("half_written", 1, f"outbox {row.key} without its history step")
