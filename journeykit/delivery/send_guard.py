"""The send-time guard: is a claimed message still true at the moment it would leave?

A row was decided when it was queued; it may have been held (quiet hours, a backlog, a retry,
an outage) while the world changed. Run inside the claim on every claimed row, on current
state, a few queries per claim batch (never one per row):

1. **the enrollment** that queued it is still in that node's visit: not exited (``exit_when``,
   an order cancelled or shipped), not woken by an event or a customer action since the row
   was queued (a choice made), nor come back to the node for a new visit;
2. **the send node's own condition** (``still_true`` in the journey, e.g.
   ``variant.inventory > 0``) still holds;
3. **consent and suppression as of now**, per address and purpose
   (:mod:`journeykit.messaging.consent`);
4. **the allotment as of now** (``allotment`` on the send node, e.g. a restock wave: at most
   ``variant.inventory * settings.subscribers_per_unit`` shoppers told): re-read on the
   current stock; the first customers told keep their place, later ones are withdrawn;
5. **the frequency cap as of now**, counting what actually left (and what this batch takes):
   over it, the row waits until the cap frees (``on_cap: defer``) or is withdrawn (``skip``);
6. **the offer** the message carries has not expired.

A failing row gets the terminal status ``withdrawn`` with the reason; its enrollment
remembers it (``enrollment.data.withdrawn``: node id -> reason), so a follow-up about that
message (a "sold out again" note) can say ``still_true`` only when the first one went out.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select

from journeykit.engine.nodes.base import ENROLLMENT_NAMES
from journeykit.engine.nodes.flow_control import names_in
from journeykit.engine.nodes.send import OFFER_RULE, purpose_of
from journeykit.engine.runtime import Runtime
from journeykit.engine.template_context import build_context
from journeykit.foundation.models import Customer, Enrollment, EnrollmentHistory, OutboxMessage
from journeykit.language.durations import format_duration
from journeykit.language.journey import Journey
from journeykit.language.nodes import SendNode
from journeykit.language.scope import SUBJECT_SHARED
from journeykit.messaging.compliance import GROUP_CACHE, may_contact
from journeykit.messaging.consent import Ledger
from journeykit.templating.expressions import evaluate, holds

ENDED = ("completed", "exited", "failed")
WOKEN = ("wake", "action")  # history kinds: an event or a customer action woke it
TOOK = ("sending", "sent", "delivered", "simulated")  # what the frequency cap counts
# BY_CUSTOMER: a query about a batch's customers compares the journey and the status in
# Python, not in SQL. Given `journey = ?` or `status IN (...)`, SQLite reads rows by the
# journey index (the whole wave) or by `ix_outbox_due` (every row sent so far: 126 ms per
# claim batch once 150,000 were sent, against 2 ms by the batch's customer ids), a cost
# that grows with the audience.
# the names still_true may read that depend on the subject alone (built once per subject)
SHARED_NAMES = SUBJECT_SHARED  # no enrollment or customer names
SUBJECT_NAMES = SHARED_NAMES - {"settings", "journey"}


@dataclass(frozen=True)
class Withdrawal:
    row_id: int
    reason: str


@dataclass
class Verdict:
    """What the guard found in one claim batch: rows that must not go (with why), and rows
    that may go later (over a frequency cap with ``on_cap: defer``: the time the cap frees,
    and why)."""

    withdrawn: list[Withdrawal]
    deferred: dict[int, tuple[datetime, str]]


def visit_of(key: str) -> int:
    """The visit number in an outbox key ``enrollment:node:channel:visit``."""
    tail = key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def check(
    session: Session, runtime: Runtime, rows: Sequence[OutboxMessage], now: datetime
) -> Verdict:
    """The rows of one claim batch that must not go, with why (in row order), and those that
    must wait."""
    if not rows:
        return Verdict([], {})
    enrollments = _enrollments(session, rows)
    woken = _woken(session, enrollments)
    customers = _customers(session, rows)
    ledger = Ledger.load(session, customers.values(), {r.channel for r in rows})
    journeys: dict[str, Journey] = {}
    reasons: dict[int, str] = {}
    subject_contexts: dict[tuple[str, str], dict[str, Any]] = {}
    answers: dict[tuple[str, str, str], str] = {}
    session.info.setdefault(GROUP_CACHE, {})
    for row in rows:
        row_id = int(row.id)  # type: ignore[arg-type]
        enrollment = enrollments.get(row.enrollment_id) if row.enrollment_id else None
        reason = _offer_expired(row, now) or left_visit(row, enrollment, woken)
        journey = None
        if reason is None and enrollment is not None:
            journey = journeys.get(enrollment.version)
            if journey is None:
                journey = journeys[enrollment.version] = runtime.book.at_version(
                    session, enrollment.version
                )
            reason = _no_longer_true(
                session, runtime, journey, row, enrollment, now, subject_contexts, answers
            )
        if reason is None:
            customer = customers.get(row.customer_id)
            if customer is None:
                reason = "the customer is gone"
            else:
                purpose = (
                    purpose_of(journey, enrollment.subject_key)
                    if journey and enrollment
                    else "marketing"
                )
                refused = may_contact(
                    session, customer, row.channel, row.category, purpose, ledger=ledger
                )
                reason = f"as of now: {refused}" if refused else None
        if reason is not None:
            reasons[row_id] = reason
    reasons |= _over_allotment(
        session, runtime, rows, enrollments, journeys, reasons, now, subject_contexts
    )
    capped, deferred = _capped(session, rows, enrollments, journeys, reasons, now)
    reasons |= capped
    _remember(enrollments, rows, reasons)
    withdrawn = [Withdrawal(int(r.id), reasons[int(r.id)]) for r in rows if int(r.id) in reasons]  # type: ignore[arg-type]
    return Verdict(withdrawn, deferred)


def _enrollments(session: Session, rows: Sequence[OutboxMessage]) -> dict[int, Enrollment]:
    ids = sorted({r.enrollment_id for r in rows if r.enrollment_id is not None})
    found: dict[int, Enrollment] = {}
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        for e in session.exec(select(Enrollment).where(col(Enrollment.id).in_(part))).all():
            found[int(e.id)] = e  # type: ignore[arg-type]
    return found


def _customers(session: Session, rows: Sequence[OutboxMessage]) -> dict[int, Customer]:
    ids = sorted({r.customer_id for r in rows})
    found: dict[int, Customer] = {}
    for start in range(0, len(ids), 900):
        part = ids[start : start + 900]
        for c in session.exec(select(Customer).where(col(Customer.id).in_(part))).all():
            found[int(c.id)] = c  # type: ignore[arg-type]
    return found


def _offer_expired(row: OutboxMessage, now: datetime) -> str | None:
    for note in row.decisions or []:
        if note.get("rule") == OFFER_RULE:
            at = datetime.fromisoformat(note["at"])
            if at.tzinfo is None and now.tzinfo is not None:
                at = at.replace(tzinfo=now.tzinfo)
            if now >= at:
                return f"the offer expired at {note['at']}"
    return None


def _woken(session: Session, enrollments: dict[int, Enrollment]) -> dict[int, datetime]:
    """The last time each enrollment was woken by an event or a customer action (one query):
    a message queued before that belongs to a visit the enrollment has left."""
    ids = sorted(enrollments)
    last: dict[int, datetime] = {}
    for start in range(0, len(ids), 900):
        rows = session.exec(
            select(EnrollmentHistory.enrollment_id, func.max(EnrollmentHistory.at))
            .where(
                col(EnrollmentHistory.enrollment_id).in_(ids[start : start + 900]),
                col(EnrollmentHistory.kind).in_(WOKEN),
            )
            .group_by(col(EnrollmentHistory.enrollment_id))
        ).all()
        last.update({int(eid): at for eid, at in rows if at is not None})
    return last


def left_visit(
    row: OutboxMessage, enrollment: Enrollment | None, woken: dict[int, datetime]
) -> str | None:
    """Why the enrollment is no longer in the visit that queued the row (None: it is).
    Exited (``exit_when``, an operator) always counts; completing or failing counts when
    an event or action woke the enrollment after the row was queued (a choice made), not
    when it simply ran on to its end in the step that queued the row (a confirmation)."""
    if row.enrollment_id is None:
        return None
    if enrollment is None:
        return "the enrollment that queued it is gone"
    why = enrollment.exit_reason or enrollment.error or ""
    if enrollment.status == "exited":
        return "the enrollment exited since" + (f" ({why})" if why else "")
    at = woken.get(row.enrollment_id)
    if at is not None and _after(at, row.created_at):
        if enrollment.status in ENDED:
            return f"the enrollment {enrollment.status} since" + (f" ({why})" if why else "")
        return f"the enrollment moved on since ({enrollment.data.get('_signal') or 'woken'})"
    if int((enrollment.visits or {}).get(row.node_id, 0)) > visit_of(row.key):
        return f"the enrollment came back to {row.node_id} since"
    return None


def _after(a: datetime, b: datetime) -> bool:
    if (a.tzinfo is None) != (b.tzinfo is None):
        a, b = a.replace(tzinfo=None), b.replace(tzinfo=None)
    return a > b


def _no_longer_true(
    session: Session,
    runtime: Runtime,
    journey: Journey,
    row: OutboxMessage,
    enrollment: Enrollment,
    now: datetime,
    subject_contexts: dict[tuple[str, str], dict[str, Any]],
    subject_answers: dict[tuple[str, str, str], str],
) -> str | None:
    try:
        node = journey.node(row.node_id)
    except (KeyError, LookupError):
        return None
    if not isinstance(node, SendNode) or node.still_true is None:
        return None
    names = names_in(node.still_true)
    key = _subject_of(journey, enrollment)
    shared = names <= SHARED_NAMES  # the same answer for every enrollment of the subject
    answer = subject_answers.get((*key, node.still_true)) if shared else None
    if answer is None:
        answer = _evaluate(
            session, runtime, journey, node.still_true, names, enrollment, now, subject_contexts
        )
        if shared:
            subject_answers[(*key, node.still_true)] = answer
    return answer or None


def _evaluate(
    session: Session,
    runtime: Runtime,
    journey: Journey,
    condition: str,
    names: frozenset[str],
    enrollment: Enrollment,
    now: datetime,
    subject_contexts: dict[tuple[str, str], dict[str, Any]],
) -> str:
    """An empty string when ``condition`` holds, else why not."""
    own: dict[str, Any] = {
        "enrollment": {
            "id": enrollment.id,
            "entered_at": enrollment.entered_at,
            "data": enrollment.data,
        },
        "settings": journey.settings,
        "journey": {"name": journey.name, "settings": journey.settings},
        "event": enrollment.data.get("last_event") or enrollment.data.get("event") or {},
    }
    if names <= ENROLLMENT_NAMES:
        context = own
    elif names <= ENROLLMENT_NAMES | SUBJECT_NAMES:
        key = _subject_of(journey, enrollment)
        if key not in subject_contexts:  # the subject's names once per claim batch
            subject_contexts[key] = _context(session, runtime, journey, enrollment, now)
        context = {**subject_contexts[key], **own}
    else:
        context = _context(session, runtime, journey, enrollment, now)
    try:
        if holds(condition, context):
            return ""
    except Exception as exc:  # a condition that cannot be evaluated any more is not true
        return f"still_true could not be evaluated: {exc}"
    return f"no longer true: {condition}"


def _subject_of(journey: Journey, enrollment: Enrollment) -> tuple[str, str]:
    """The subject the subject-only names come from: the journey's subject part of the
    key (``sku:X`` of ``sku:X|customer:Y``), shared by every enrollment about it."""
    parts = dict(p.split(":", 1) for p in enrollment.subject_key.split("|") if ":" in p)
    return (
        enrollment.version,
        f"{journey.subject}:{parts.get(journey.subject, enrollment.subject_key)}",
    )


def _context(
    session: Session, runtime: Runtime, journey: Journey, enrollment: Enrollment, now: datetime
) -> dict[str, Any]:
    return build_context(
        session, settings=runtime.settings, journey=journey, enrollment=enrollment, now=now
    )


def _capped(
    session: Session,
    rows: Sequence[OutboxMessage],
    enrollments: dict[int, Enrollment],
    journeys: dict[str, Journey],
    withdrawn: dict[int, str],
    now: datetime,
) -> tuple[dict[int, str], dict[int, tuple[datetime, str]]]:
    """Marketing rows over their journey's cap as of now: what left in the window (one
    query for the batch) plus what this batch already lets go, in due order. Withdrawn
    (``on_cap: skip``), or deferred to when the oldest counted message leaves the window
    (``on_cap: defer``)."""
    capped: dict[int, tuple[OutboxMessage, Journey]] = {}
    for row in rows:
        enrollment = enrollments.get(row.enrollment_id) if row.enrollment_id else None
        if row.category != "marketing" or enrollment is None or int(row.id) in withdrawn:  # type: ignore[arg-type]
            continue
        journey = journeys.get(enrollment.version)
        if journey is not None and journey.frequency_cap is not None:
            capped[int(row.id)] = (row, journey)  # type: ignore[arg-type]
    if not capped:
        return {}, {}
    widest: timedelta = max(j.frequency_cap.window for _, j in capped.values())  # type: ignore[union-attr]
    customer_ids = sorted({r.customer_id for r, _ in capped.values()})
    taken_at = func.coalesce(OutboxMessage.sent_at, OutboxMessage.last_attempt_at)
    taken: dict[int, list[datetime]] = {}
    for start in range(0, len(customer_ids), 900):
        # the status is compared here, not in SQL: SQLite would read every sent row by the
        # status index rather than the batch's customers by theirs (BY_CUSTOMER)
        for cid, status, at in session.exec(
            select(OutboxMessage.customer_id, OutboxMessage.status, taken_at).where(
                col(OutboxMessage.customer_id).in_(customer_ids[start : start + 900]),
                OutboxMessage.category == "marketing",
                taken_at > now - widest,
            )
        ).all():
            if at is not None and status in TOOK:
                taken.setdefault(cid, []).append(at)
    reasons: dict[int, str] = {}
    deferred: dict[int, tuple[datetime, str]] = {}
    for row_id, (row, journey) in capped.items():
        cap = journey.frequency_cap
        assert cap is not None
        since = now - cap.window
        recent = sorted(t for t in taken.get(row.customer_id, []) if _after(t, since))
        if len(recent) >= cap.max:
            why = f"frequency cap reached ({len(recent)} in {cap.window})"
            if cap.on_cap == "defer":
                frees = _aware(recent[len(recent) - cap.max], now) + cap.window
                deferred[row_id] = (max(frees, now), why)
            else:
                reasons[row_id] = f"as of now: {why}"
            continue
        taken.setdefault(row.customer_id, []).append(now)
    return reasons, deferred


def _aware(at: datetime, like: datetime) -> datetime:
    if at.tzinfo is None and like.tzinfo is not None:
        return at.replace(tzinfo=like.tzinfo)
    return at


def _send_node(journey: Journey, node_id: str) -> SendNode | None:
    try:
        node = journey.node(node_id)
    except (KeyError, LookupError):
        return None
    return node if isinstance(node, SendNode) else None


def _over_allotment(
    session: Session,
    runtime: Runtime,
    rows: Sequence[OutboxMessage],
    enrollments: dict[int, Enrollment],
    journeys: dict[str, Journey],
    withdrawn: dict[int, str],
    now: datetime,
    subject_contexts: dict[tuple[str, str], dict[str, Any]],
) -> dict[int, str]:
    """Rows of send nodes with an ``allotment`` whose customer is past it as of now: per
    subject, the customers already told by a message queued in the window (one query per
    subject of the batch) keep their place, in the order they were queued; the batch's new
    customers follow in due order; a customer at place >= ``max`` (evaluated on the subject
    now) is withdrawn."""
    groups: dict[tuple[str, str], list[tuple[OutboxMessage, Enrollment, Journey, SendNode]]]
    groups = {}
    for row in rows:
        enrollment = enrollments.get(row.enrollment_id) if row.enrollment_id else None
        if enrollment is None or int(row.id) in withdrawn:  # type: ignore[arg-type]
            continue
        journey = journeys.get(enrollment.version)
        node = _send_node(journey, row.node_id) if journey else None
        if journey is None or node is None or node.allotment is None:
            continue
        key = _subject_of(journey, enrollment)
        groups.setdefault(key, []).append((row, enrollment, journey, node))
    reasons: dict[int, str] = {}
    for key, members in groups.items():
        _, enrollment, journey, node = members[0]
        assert node.allotment is not None
        if key not in subject_contexts:
            subject_contexts[key] = _context(session, runtime, journey, enrollment, now)
        try:
            most = int(evaluate(node.allotment.max, subject_contexts[key]))
        except Exception as exc:  # an allotment that cannot be read any more allows nobody
            for row, *_ in members:
                reasons[int(row.id)] = f"the allotment could not be evaluated: {exc}"  # type: ignore[arg-type]
            continue
        window = max(n.allotment.window for *_, n in members if n.allotment is not None)
        batch = {row.customer_id for row, *_ in members}
        # the batch's customers told already (an SMS after its email) take no new place
        new = batch - _told_among(session, journey, key[1], now - window, batch)
        claimed = [(r.customer_id, r.created_at, int(r.id)) for r, *_ in members]  # type: ignore[arg-type]
        if _surely_fits(session, journey, key[1], now - window, most, new, claimed):
            continue  # every place this batch can take is below the allotment
        if _told_count(session, journey, key[1], now - window) + len(new) <= most:
            continue
        places = _told(session, journey, key[1], now - window)
        for row, *_ in members:
            place = places.setdefault(row.customer_id, len(places))
            if place >= most:
                reasons[int(row.id)] = (  # type: ignore[arg-type]
                    f"as of now: the allotment is used up ({max(most, 0)} customers of "
                    f"{key[1]} within {format_duration(window)})"
                )
    return reasons


def _told_in_wave(journey: Journey, subject: str, since: datetime) -> list[Any]:
    """The conditions of :func:`_told` (rows joined to their enrollment)."""
    return [*_in_wave(journey, subject, since), col(OutboxMessage.status).in_(TOOK)]


@dataclass
class _WaveBound:
    """What one process has counted of a wave so far: the distinct customers of the wave's
    rows of any status created after ``since``, up to outbox id ``last_id`` (summed step by
    step, so a customer with rows on both sides of a step counts twice: never too few)."""

    since: datetime
    last_id: int
    customers: int


# Per database engine (this process's), per (journey, allotted nodes, subject).
_WAVES: weakref.WeakKeyDictionary[Engine, dict[tuple[str, tuple[str, ...], str], _WaveBound]]
_WAVES = weakref.WeakKeyDictionary()


def _surely_fits(
    session: Session,
    journey: Journey,
    subject: str,
    since: datetime,
    most: int,
    new: set[int],
    batch: Sequence[tuple[int, datetime, int]],
) -> bool:
    """Whether the customers told (:func:`_told_count`) and the batch's ``new`` customers
    (none of them told) surely number at most ``most``, from a count read in time
    proportional to the rows queued since the last claim, not to the wave: the wave's
    customers of any status (a customer is told only by a row of the wave) counted once per
    process, then only the rows added since (outbox ids above the last counted, read by
    primary key). Rows leaving the window or not (yet, or any more) told only make that count
    larger than the exact one: when it fits, the exact one does; when not, the caller counts
    exactly (and a count from an older window is started afresh next time).

    A new customer with a row of ``batch`` (customer, created at, id: the claim's rows of
    the wave) that the count has read is in it already; only the others are added. (Counted
    twice, as they were, no claim fitted once a fan-out's whole audience was queued, and
    each of the last claims counted the wave exactly: 180 ms per claim at 100,000.)

    SQLite only (False elsewhere): there writers are serialised, so a row committed after
    this read has an id above every id it saw. On PostgreSQL a transaction may commit a
    lower id after a higher one was read, and such a row would be missed."""
    engine = session.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return False
    nodes = tuple(n.id for n in journey.nodes if isinstance(n, SendNode) and n.allotment)
    key = (journey.name, nodes, subject)
    waves = _WAVES.setdefault(engine, {})
    bound = waves.get(key)
    if bound is not None and since < bound.since:  # a wider window than was counted
        bound = None
    last_id = int(session.exec(select(func.max(OutboxMessage.id))).one() or 0)
    if bound is None:
        bound = waves[key] = _WaveBound(since, 0, 0)
    if last_id > bound.last_id:
        added = session.exec(
            select(func.count(func.distinct(OutboxMessage.customer_id)))
            .join(Enrollment, col(Enrollment.id) == OutboxMessage.enrollment_id)
            .where(
                col(OutboxMessage.id) > bound.last_id,
                col(OutboxMessage.id) <= last_id,
                *_in_wave(journey, subject, bound.since),
            )
        ).one()
        bound.customers += int(added or 0)
        bound.last_id = last_id
    seen = {
        c
        for c, created, row_id in batch
        if row_id <= bound.last_id and _after(created, bound.since)
    }
    if bound.customers + len(new - seen) <= most:
        return True
    if bound.since < since:  # the window moved on: count afresh next time
        del waves[key]
    return False


def _in_wave(
    journey: Journey, subject: str, since: datetime, *, by_journey: bool = True
) -> list[Any]:
    """Rows of the journey's allotted send nodes about ``subject`` queued since ``since``,
    whatever became of them (joined to their enrollment); without ``by_journey`` the caller
    compares the journey itself."""
    nodes = [n.id for n in journey.nodes if isinstance(n, SendNode) and n.allotment is not None]
    return [
        *([OutboxMessage.journey == journey.name] if by_journey else []),
        col(OutboxMessage.node_id).in_(nodes),
        col(OutboxMessage.created_at) > since,
        or_(
            col(Enrollment.subject_key) == subject,
            col(Enrollment.subject_key).startswith(subject + "|"),
        ),
    ]


def _told_count(session: Session, journey: Journey, subject: str, since: datetime) -> int:
    """How many customers :func:`_told` would list, counted by the database: while the
    told and the batch's customers together fit the allotment, no place matters (a wave of
    100,000 would otherwise bring every told customer back for every claim batch)."""
    found = session.exec(
        select(func.count(func.distinct(OutboxMessage.customer_id)))
        .join(Enrollment, col(Enrollment.id) == OutboxMessage.enrollment_id)
        .where(*_told_in_wave(journey, subject, since))
    ).one()
    return int(found or 0)


def _told_among(
    session: Session, journey: Journey, subject: str, since: datetime, customers: set[int]
) -> set[int]:
    """Which of ``customers`` :func:`_told` would list (by their customer ids: a query the
    size of the batch). When the told and the batch's new customers fit the allotment, every
    told customer's place is below it too."""
    told: set[int] = set()
    ordered = sorted(customers)
    # the journey and the status are compared here, not in SQL (BY_CUSTOMER)
    wave = _in_wave(journey, subject, since, by_journey=False)
    for low in range(0, len(ordered), 900):
        told |= {
            int(cid)
            for cid, name, status in session.exec(
                select(OutboxMessage.customer_id, OutboxMessage.journey, OutboxMessage.status)
                .join(Enrollment, col(Enrollment.id) == OutboxMessage.enrollment_id)
                .where(col(OutboxMessage.customer_id).in_(ordered[low : low + 900]), *wave)
                .distinct()
            ).all()
            if name == journey.name and status in TOOK
        }
    return told


def _told(session: Session, journey: Journey, subject: str, since: datetime) -> dict[int, int]:
    """Customers of ``subject`` reached by a message of the journey's allotted send nodes
    that was queued since ``since`` (the wave it belongs to), each with their place: the
    order their first such message was queued."""
    first = func.min(OutboxMessage.created_at)
    rows = session.exec(
        select(OutboxMessage.customer_id, first)
        .join(Enrollment, col(Enrollment.id) == OutboxMessage.enrollment_id)
        .where(*_told_in_wave(journey, subject, since))
        .group_by(col(OutboxMessage.customer_id))
        .order_by(first, func.min(OutboxMessage.id))
    ).all()
    return {int(cid): place for place, (cid, _) in enumerate(rows)}


def _remember(
    enrollments: dict[int, Enrollment], rows: Sequence[OutboxMessage], reasons: dict[int, str]
) -> None:
    """Note each withdrawn message on its enrollment (``data.withdrawn``: node -> reason)."""
    for row in rows:
        reason = reasons.get(int(row.id))  # type: ignore[arg-type]
        enrollment = enrollments.get(row.enrollment_id) if row.enrollment_id else None
        if reason is None or enrollment is None:
            continue
        withdrawn = dict(enrollment.data.get("withdrawn") or {})
        withdrawn[row.node_id] = reason
        enrollment.data = {**enrollment.data, "withdrawn": withdrawn}
