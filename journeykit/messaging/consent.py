"""Consent the recipient owns: the ledger read per address and per purpose.

Every consent change is a row (``Consent``); what is in force is decided here:

- A row is **the recipient's own** (STOP and the other carrier keywords, START/UNSTOP,
  one-click unsubscribe, the preference page, a bounce or spam report, an explicit signup)
  or **store-sourced** (a flag carried by a store event, ``source="store"`` or the event's
  ``consent_source``).
- A refusal made by the recipient is lifted only by the recipient (a later opt-in of theirs).
  Store-sourced flags grant consent only where no such refusal stands; a store-sourced "no"
  always counts (being stricter is always safe).
- Suppression is per **address**: every customer row sharing the email address or E.164
  number shares its refusals (a widget signup or a guest checkout is a new customer row for
  the same person).
- A row's **purpose** is ``marketing`` (all marketing on the channel), ``transactional``, or
  a narrower grant such as ``restock:<sku>`` (a restock signup: alerts for that item only).
  A refusal of ``marketing`` covers every narrower marketing purpose; an SMS refusal (STOP)
  covers every SMS, transactional ones included.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select as select_columns
from sqlmodel import Session, col, or_, select

from journeykit.foundation.models import Consent, Customer

MARKETING = "marketing"
TRANSACTIONAL = "transactional"
RECIPIENT_SOURCES = (
    "sms:",  # STOP, START, UNSTOP... replies
    "sms",
    "twilio:",  # 21610: the carrier already holds the recipient's STOP
    "sendgrid:",  # bounce, spam report, unsubscribe from the provider's link
    "one-click",
    "preferences",
    "unsubscribe",
    "restock:",  # the restock widget's explicit signup
    "signup",
)


def by_recipient(source: str) -> bool:
    """Whether a ledger row was made by the recipient (not carried by a store event)."""
    return source.startswith(RECIPIENT_SOURCES)


def restock_purpose(sku: str) -> str:
    return f"restock:{sku}"


class ConsentFacts(Protocol):
    """What the ledger reads of a ``Consent`` row: an ORM object or a Core row of these
    columns (the engine's group ledger loads Core rows: no ORM object, no JSON ``detail``)."""

    @property
    def id(self) -> int | None: ...
    @property
    def customer_id(self) -> int: ...
    @property
    def channel(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def granted(self) -> bool: ...
    @property
    def source(self) -> str: ...
    @property
    def recorded_at(self) -> datetime: ...


# The columns :class:`ConsentFacts` names, selected as Core rows by :meth:`Ledger.load`.
_FACTS = (
    col(Consent.id),
    col(Consent.customer_id),
    col(Consent.channel),
    col(Consent.purpose),
    col(Consent.granted),
    col(Consent.source),
    col(Consent.recorded_at),
)


@dataclass(frozen=True)
class ConsentState:
    """What is in force for one address, channel and purpose."""

    granted: bool | None  # None: never asked
    source: str = ""
    refused_by_recipient: bool = False


def covers(row_purpose: str, purpose: str, channel: str) -> bool:
    """Whether a ledger row of ``row_purpose`` speaks about a message of ``purpose``. A
    marketing opt-in or refusal covers restock alerts too; on SMS every row speaks about
    transactional messages (an SMS opt-out stops every SMS, and only a general opt-in lifts
    it: a restock signup covers that item's alerts, nothing else)."""
    if row_purpose == purpose:
        return True
    if purpose.startswith("restock:") and row_purpose == MARKETING:
        return True
    return channel == "sms" and purpose == TRANSACTIONAL and row_purpose == MARKETING


def evaluate(rows: Iterable[ConsentFacts], channel: str, purpose: str) -> ConsentState:
    """The state in force from ledger ``rows`` (any customers sharing one address).

    A refusal by the recipient stands until the recipient opts in again for that purpose; a
    store-sourced grant after it is ignored. An SMS refusal covers every purpose."""
    ordered = sorted(rows, key=lambda r: (r.recorded_at, r.id or 0))
    state = ConsentState(None)
    refusal: ConsentFacts | None = None  # the recipient's own refusal in force, if any
    for row in ordered:
        if row.channel != channel:
            continue
        refusal_of_all = channel == "sms" and not row.granted
        if not (covers(row.purpose, purpose, channel) or refusal_of_all):
            continue
        if by_recipient(row.source):
            refusal = None if row.granted else row
            state = ConsentState(row.granted, row.source, not row.granted)
        elif refusal is not None:
            continue  # a store flag, "yes" or "no", never lifts the recipient's refusal
        else:
            state = ConsentState(row.granted, row.source, False)
    return state


def may_send(state: ConsentState, channel: str, category: str) -> str | None:
    """None when a message of ``category`` may go, else why not. On SMS a refusal in force
    stops transactional messages too (the state was read for that purpose)."""
    if channel == "sms" and state.granted is False:
        return f"opted out of sms ({state.source})"
    if category == MARKETING:
        if state.granted is None:
            return f"no marketing consent for {channel}"
        if not state.granted:
            return f"unsubscribed from {channel} ({state.source})"
    return None


def address_of(customer: Customer, channel: str) -> str | None:
    return customer.email if channel == "email" else customer.phone


def normalise_address(channel: str, address: str | None) -> str:
    return (address or "").strip().lower() if channel == "email" else (address or "").strip()


class Ledger:
    """The consent rows of a set of addresses, read in a few queries (never one per row)."""

    def __init__(self, rows: Sequence[ConsentFacts], owners: dict[int, tuple[str, str]]) -> None:
        # owners: customer id -> (normalised email, phone)
        self._by_address: dict[tuple[str, str], list[ConsentFacts]] = {}
        for row in rows:
            email, phone = owners.get(row.customer_id, ("", ""))
            address = email if row.channel == "email" else phone
            self._by_address.setdefault((row.channel, address), []).append(row)
        self._known = set(owners)
        self._by_customer: dict[tuple[int, str], list[ConsentFacts]] = {}
        for row in rows:
            self._by_customer.setdefault((row.customer_id, row.channel), []).append(row)

    def knows(self, customer: Customer) -> bool:
        return customer.id in self._known

    def knows_all(self, customer_ids: Iterable[int]) -> bool:
        return self._known.issuperset(customer_ids)

    def state(self, customer: Customer, channel: str, purpose: str = MARKETING) -> ConsentState:
        address = normalise_address(channel, address_of(customer, channel))
        rows = list(self._by_address.get((channel, address), [])) if address else []
        own = self._by_customer.get((customer.id or 0, channel), [])
        seen = {id(r) for r in rows}
        rows += [r for r in own if id(r) not in seen]
        return evaluate(rows, channel, purpose)

    @classmethod
    def load(
        cls,
        session: Session,
        customers: Iterable[Customer],
        channels: Collection[str] = ("email", "sms"),
    ) -> Ledger:
        """Every consent row of these customers and of any customer sharing an address, on
        ``channels`` (the siblings and the rows read as Core rows of the columns the ledger
        uses). A state is read from its own channel's rows only: a ledger of some channels
        answers for those exactly as one of all."""
        customers = list(customers)
        emails = sorted({c.email for c in customers if c.email}) if "email" in channels else []
        phones = sorted({c.phone for c in customers if c.phone}) if "sms" in channels else []
        ids = {c.id for c in customers if c.id is not None}
        owners: dict[int, tuple[str, str]] = {
            c.id: (normalise_address("email", c.email), c.phone or "")
            for c in customers
            if c.id is not None
        }
        for start in range(0, max(len(emails), len(phones)), 400):
            part_e, part_p = emails[start : start + 400], phones[start : start + 400]
            clauses = []
            if part_e:
                clauses.append(col(Customer.email).in_(part_e))
            if part_p:
                clauses.append(col(Customer.phone).in_(part_p))
            siblings = select(Customer.id, Customer.email, Customer.phone).where(or_(*clauses))
            for sibling in session.execute(siblings):
                if sibling.id is not None and sibling.id not in ids:
                    ids.add(sibling.id)
                    owners[sibling.id] = (
                        normalise_address("email", sibling.email),
                        sibling.phone or "",
                    )
        rows: list[ConsentFacts] = []
        ordered = sorted(ids)
        for start in range(0, len(ordered), 900):
            part = ordered[start : start + 900]
            facts = select_columns(*_FACTS).where(
                col(Consent.customer_id).in_(part), col(Consent.channel).in_(sorted(channels))
            )
            rows += session.execute(facts)
        return cls(rows, owners)


def consent_state(
    session: Session, customer: Customer, channel: str, purpose: str = MARKETING
) -> ConsentState:
    """The state in force for one customer's address (a few queries; batches use Ledger)."""
    return Ledger.load(session, [customer]).state(customer, channel, purpose)
