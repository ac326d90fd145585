"""Whether and when a message may go: consent, the opt-out ledger, quiet hours in the
recipient's zone(s), and the cross-journey frequency cap. Every decision is recorded."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from journeykit.foundation.models import Consent, Customer, OutboxMessage
from journeykit.language.journey import Journey
from journeykit.language.nodes import parse_local_time
from journeykit.messaging.consent import MARKETING, TRANSACTIONAL, Ledger, may_send
from journeykit.timing.quiet_hours import Window, next_allowed, union, window_for

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTED = ("queued", "sending", "sent", "delivered", "simulated")
# ``session.info`` key of a node group's lookups, set only for one group's transaction by
# the engine (``engine/advance.py``): rows that do not change while one node runs.
GROUP_CACHE = "journeykit.group_cache"
LEDGER = ("consent", "ledger")


@dataclass
class Decision:
    """``allowed`` False: suppressed, with ``reason``. ``due_at``: the first allowed time."""

    allowed: bool
    due_at: datetime
    reason: str = ""
    notes: list[dict[str, Any]] = field(default_factory=list)


def latest_consent(session: Session, customer_id: int, channel: str) -> Consent | None:
    """The customer's own latest row for ``channel`` (one query; sends read the
    :class:`Ledger`, which also applies refusals shared by an address)."""
    return session.exec(
        select(Consent)
        .where(Consent.customer_id == customer_id, Consent.channel == channel)
        .order_by(col(Consent.recorded_at).desc(), col(Consent.id).desc())
    ).first()


def prefetch_consents(
    session: Session,
    customer_ids: set[int],
    channel: str,
    customers: Iterable[Customer] | None = None,
) -> None:
    """The consent ledger of ``customer_ids`` (and of everyone sharing their addresses),
    read once per node group for all its send channels and kept in the session's group
    cache, so :func:`ledger_for` needs no query per message. ``customers``: those customers
    when the caller holds them (not read again). ``channel`` is kept for callers: the ledger
    holds every channel."""
    cache = session.info.get(GROUP_CACHE)
    if cache is None or not customer_ids:
        return
    held = cache.get(LEDGER)
    if held is not None and held.knows_all(customer_ids):
        return
    if customers is None:
        ids = sorted(customer_ids)
        customers = session.exec(select(Customer).where(col(Customer.id).in_(ids))).all()
    cache[LEDGER] = Ledger.load(session, customers)


def ledger_for(session: Session, customer: Customer) -> Ledger:
    """The consent ledger of the node group (prefetched) or of this one customer."""
    ledger = (session.info.get(GROUP_CACHE) or {}).get(LEDGER)
    if ledger is not None and ledger.knows(customer):
        return ledger
    return Ledger.load(session, [customer])


def valid_address(channel: str, address: str | None) -> bool:
    """A plausible address for the channel: E.164 for SMS, ``local@domain.tld`` for email."""
    if not address:
        return False
    if channel == "sms":
        return bool(E164.match(address))
    return bool(EMAIL.match(address))


def may_contact(
    session: Session,
    customer: Customer,
    channel: str,
    category: str,
    purpose: str = MARKETING,
    ledger: Ledger | None = None,
) -> str | None:
    """None when allowed, else why not. Consent is read per address and purpose
    (:mod:`journeykit.messaging.consent`): an SMS opt-out (STOP, 21610) blocks every SMS;
    marketing needs consent for the channel and purpose; every send needs a valid address."""
    address = customer.email if channel == "email" else customer.phone
    if not address:
        return f"no {channel} address"
    if not valid_address(channel, address):
        return f"invalid {channel} address {address!r}"
    ledger = ledger or ledger_for(session, customer)
    wanted = purpose if category == MARKETING else TRANSACTIONAL
    return may_send(ledger.state(customer, channel, wanted), channel, category)


def parse_window(text: str) -> Window:
    """``"21:00-08:00"`` -> (21:00, 08:00); ``ValueError`` naming the expected form."""
    start, sep, end = text.partition("-")
    if not sep:
        raise ValueError(f"quiet hours {text!r}: write start-end, e.g. 21:00-08:00")
    return parse_local_time(start.strip()), parse_local_time(end.strip())


# Answers for a send group's many alike decisions (the same journey window, country, zones
# and ``now``): computed once. Bounded; cleared when full.
_REMEMBERED = 4096
_windows_known: dict[tuple[Any, ...], tuple[Window, ...]] = {}
_due_known: dict[tuple[Any, ...], tuple[datetime, datetime]] = {}


def quiet_windows(
    journey: Journey,
    channel: str,
    country: str | None,
    country_quiet: dict[str, str] | None = None,
) -> list[Window]:
    """The quiet windows for one send: the legal minimum for the recipient's country (SMS),
    widened by ``country_quiet`` (settings) and by the journey's own window when it covers
    this channel. Windows that cannot be merged into one are all kept (quiet in any)."""
    jq = journey.quiet_hours
    key = (
        jq.start,
        jq.end,
        tuple(jq.channels),
        channel,
        country,
        tuple((country_quiet or {}).items()),
    )
    known = _windows_known.get(key)
    if known is None:
        if len(_windows_known) >= _REMEMBERED:
            _windows_known.clear()
        known = _windows_known[key] = tuple(
            _quiet_windows(journey, channel, country, country_quiet)
        )
    return list(known)


def _quiet_windows(
    journey: Journey,
    channel: str,
    country: str | None,
    country_quiet: dict[str, str] | None,
) -> list[Window]:
    jq = journey.quiet_hours
    override = (parse_local_time(jq.start), parse_local_time(jq.end))
    windows: list[Window] = []
    base = window_for(country, channel)
    extra = (country_quiet or {}).get((country or "").upper()) if channel == "sms" else None
    for w in [base, parse_window(extra) if extra else None]:
        if w is not None:
            windows = _merge(windows, w)
    if channel in jq.channels:
        windows = _merge(windows, override)
    return windows


def _merge(windows: list[Window], new: Window) -> list[Window]:
    if new[0] == new[1]:
        return windows
    for i, w in enumerate(windows):
        try:
            return [*windows[:i], union(w, new), *windows[i + 1 :]]
        except ValueError:
            continue
    return [*windows, new]


def quiet_window_note(decisions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The quiet-window note a send decision left on its outbox row, if any."""
    for note in reversed(decisions):
        if note.get("rule") == "quiet_window":
            return note
    return None


def window_note(zones: list[str], windows: list[Window]) -> dict[str, Any]:
    return {
        "rule": "quiet_window",
        "zones": zones,
        "windows": [[s.strftime("%H:%M"), e.strftime("%H:%M")] for s, e in windows],
    }


def allowed_in_zones(at: datetime, note: dict[str, Any]) -> datetime:
    """The first instant at or after ``at`` outside every window in every zone of ``note``."""
    windows = [(parse_local_time(s), parse_local_time(e)) for s, e in note.get("windows", [])]
    return due_outside(at, note.get("zones") or ["UTC"], windows)


def due_outside(at: datetime, zones: list[str], windows: list[Window]) -> datetime:
    """The first instant at or after ``at`` outside every window in every zone. When the
    zones admit no common allowed time (a US number for a customer living in Seoul), the
    least certain zones (listed last) are dropped, down to the customer's own (the first).
    Remembered for the very ``at`` object (a send group's ``now``: the answer may be ``at``
    itself, so an equal instant written in another zone is asked again)."""
    key = (id(at), tuple(zones), tuple(windows))
    known = _due_known.get(key)
    if known is not None and known[0] is at:
        return known[1]
    due = _due_outside(at, zones, windows)
    if len(_due_known) >= _REMEMBERED:
        _due_known.clear()
    _due_known[key] = (at, due)
    return due


def _due_outside(at: datetime, zones: list[str], windows: list[Window]) -> datetime:
    for n in range(len(zones), 0, -1):
        due = _settle(at, zones[:n], windows)
        if due is not None:
            return due
    return at if not zones else _settle(at, zones[:1], windows) or at


def _settle(at: datetime, zones: list[str], windows: list[Window]) -> datetime | None:
    due = at
    for _ in range(4 * len(zones) * max(1, len(windows)) + 4):  # zones push each other
        moved = max(
            [due, *(next_allowed(due, tz, start, end) for tz in zones for start, end in windows)]
        )
        if moved == due:
            return due
        if moved - at > timedelta(days=3):
            return None  # no common allowed time
        due = moved
    return None


def quiet_hours_due(journey: Journey, channel: str, tz_names: list[str], at: datetime) -> datetime:
    """The first allowed instant at or after ``at`` for the journey's window alone (kept for
    callers without a country; :func:`decide` uses :func:`quiet_windows`)."""
    window = journey.quiet_hours
    if channel not in window.channels:
        return at
    start, end = parse_local_time(window.start), parse_local_time(window.end)
    return due_outside(at, tz_names, [(start, end)])


def frequency_capped(
    session: Session, journey: Journey, customer_id: int, due: datetime
) -> tuple[datetime | None, int]:
    """(deferred due time or None when under the cap, messages counted in the window)."""
    cap = journey.frequency_cap
    if cap is None:
        return None, 0
    window: timedelta = cap.window
    recent = session.exec(
        select(OutboxMessage.due_at)
        .where(
            OutboxMessage.customer_id == customer_id,
            OutboxMessage.category == "marketing",
            col(OutboxMessage.status).in_(COUNTED),
            col(OutboxMessage.due_at) > due - window,
            col(OutboxMessage.due_at) <= due + window,
        )
        .order_by(col(OutboxMessage.due_at))
    ).all()
    before = [t for t in recent if t <= due]
    if len(before) < cap.max:
        return None, len(before)
    return before[len(before) - cap.max] + window, len(before)


def decide(
    session: Session,
    *,
    journey: Journey,
    customer: Customer,
    channel: str,
    category: str,
    now: datetime,
    zones: list[str],
    country_quiet: dict[str, str] | None = None,
    purpose: str = MARKETING,
) -> Decision:
    """Consent first (suppress), then quiet hours (defer to the next allowed minute in every
    zone the recipient may be in), then the frequency cap (defer or skip, per journey).
    The quiet window used is noted on the row, so the dispatcher re-checks it at send time."""
    reason = may_contact(session, customer, channel, category, purpose)
    if reason:
        return Decision(False, now, reason)
    windows = quiet_windows(journey, channel, customer.country, country_quiet)
    notes: list[dict[str, Any]] = [window_note(zones, windows)] if windows else []
    due = due_outside(now, zones, windows)
    if due != now:
        notes.append({"rule": "quiet_hours", "deferred_to": due.isoformat()})
    if category == "marketing" and journey.frequency_cap is not None:
        for _ in range(10):
            deferred, counted = frequency_capped(session, journey, customer.id, due)  # type: ignore[arg-type]
            if deferred is None:
                break
            if journey.frequency_cap.on_cap == "skip":
                notes.append({"rule": "frequency_cap", "action": "skip", "counted": counted})
                return Decision(False, now, "frequency cap reached", notes)
            due = due_outside(deferred, zones, windows)
            notes.append(
                {
                    "rule": "frequency_cap",
                    "action": "defer",
                    "deferred_to": due.isoformat(),
                    "counted": counted,
                }
            )
    return Decision(True, due, "", notes)


def count_recent(session: Session, customer_id: int, since: datetime) -> int:
    return session.exec(
        select(func.count()).where(
            OutboxMessage.customer_id == customer_id, col(OutboxMessage.due_at) >= since
        )
    ).one()
