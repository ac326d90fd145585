"""Back-in-stock waves (BRIEF R1-R3).

A restock (an ``inventory.changed`` that raises stock to at least ``min_restock_quantity``)
enrolls every eligible sign-up in sign-up order. The first wave alerts at most
``units x subscribers_per_unit`` shoppers; the rest are *queued* and re-checked every
``wave_every_hours`` (the journey's ``next_wave`` wait): each later wave re-reads the stock
and alerts the next shoppers in line, until the stock or the queue runs out. Sign-ups older
than ``max_wait_days`` expire; shoppers who bought the item since signing up are skipped.

Sign-up status: waiting (not in a wave) -> queued (in line) -> alerted | expired | bought;
an alerted shopper whose stock sold out again goes back to waiting, keeping their place."""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, func, select

from journeykit.actions.common import buyers_since, external_ids
from journeykit.engine.nodes.call import ActionContext
from journeykit.engine.registry import action, audience
from journeykit.engine.route import AudienceMember
from journeykit.foundation.models import DomainEvent, Enrollment, RestockSignup, Variant
from journeykit.language.nodes import CallNode, WaitNode

LIVE = ("active", "waiting")
LINE_CHUNK = 500  # shoppers handled together (one IN list per query)


def _setting(settings: dict[str, Any], name: str, default: int) -> int:
    return int(settings.get(name, default))


def _window(settings: dict[str, Any]) -> timedelta:
    """Alerts this recent belong to the current wave (half the time between waves)."""
    return timedelta(hours=_setting(settings, "wave_every_hours", 12)) / 2


def previous_quantity(session: Session, event: DomainEvent, sku: str) -> int:
    """Units the store reported for ``sku`` before ``event`` (0 if never reported). One
    row, found from the end of the ``subject_key`` index (its entries are ordered by id):
    constant time however many events the SKU has had."""
    row = session.exec(
        select(DomainEvent)
        .where(
            col(DomainEvent.type).in_(("inventory.changed", "product.upserted")),
            DomainEvent.subject_key == f"sku:{sku}",
            col(DomainEvent.id) < (event.id or 0),
        )
        .order_by(col(DomainEvent.id).desc())
        .limit(1)
    ).first()
    if row is None:
        return 0
    if row.type == "inventory.changed":
        return int(row.data.get("quantity", 0))
    return int((row.data.get("product") or {}).get("inventory", 0))


def recently_alerted(session: Session, variant_id: int, since: datetime) -> set[int]:
    rows = session.exec(
        select(RestockSignup.customer_id).where(
            RestockSignup.variant_id == variant_id,
            RestockSignup.status == "alerted",
            col(RestockSignup.alerted_at) >= since,
        )
    ).all()
    return set(rows)


def _line(session: Session, variant: Variant, statuses: tuple[str, ...]) -> list[RestockSignup]:
    return list(
        session.exec(
            select(RestockSignup)
            .where(RestockSignup.variant_id == variant.id, col(RestockSignup.status).in_(statuses))
            .order_by(col(RestockSignup.created_at), col(RestockSignup.id))
        ).all()
    )


def _oldest(settings: Any, now: datetime) -> datetime:
    """The oldest sign-up still in line at ``now``."""
    return now - timedelta(days=_setting(settings, "max_wait_days", 60))


def _screen(
    session: Session, signups: list[RestockSignup], bought: set[int], oldest: datetime
) -> str | None:
    """``expired`` (a sign-up before ``oldest``) or ``bought`` (and the sign-ups updated)
    when the shopper leaves the line."""
    verdict = None
    if min(s.created_at for s in signups) < oldest:
        verdict = "expired"
    elif signups[0].customer_id in bought:
        verdict = "bought"
    if verdict:
        for signup in signups:
            signup.status = verdict
            session.add(signup)
    return verdict


def _firsts(by_customer: dict[int, list[RestockSignup]]) -> dict[int, datetime]:
    return {c: min(s.created_at for s in signups) for c, signups in by_customer.items()}


def _mark(session: Session, signups: list[RestockSignup], status: str, now: datetime) -> None:
    for signup in signups:
        signup.status = status
        if status == "alerted":
            signup.alerted_at = now
        session.add(signup)


@audience("restock_signups")
def restock_signups(
    *, session: Any, journey: Any, event: DomainEvent, now: Any
) -> Iterator[AudienceMember]:
    """R3: the first wave of a restock. Nothing below ``min_restock_quantity`` or when stock
    did not go up; shoppers already in line are re-checked at once (their wave is now).

    A stream, in constant memory: the line's customers in sign-up order are read once as
    8-byte ids, then handled :data:`LINE_CHUNK` at a time (their sign-ups, names, purchases
    and enrollments in a few queries). A shopper's sign-ups are marked just before the
    shopper is yielded, so whenever the enrollment commits a chunk, every marked shopper is
    enrolled, and an audience read again after a crash skips them (no longer waiting)."""

    settings = journey.settings
    sku, quantity = event.data["sku"], int(event.data["quantity"])
    if quantity < _setting(settings, "min_restock_quantity", 1):
        return
    if quantity <= previous_quantity(session, event, sku):
        return
    variant = session.exec(select(Variant).where(Variant.sku == sku)).one()
    _wake_queued(session, journey, sku, now)
    budget = quantity * _setting(settings, "subscribers_per_unit", 3)
    budget -= len(recently_alerted(session, variant.id, now - _window(settings)))
    position = 0
    oldest = _oldest(settings, now)  # once: pendulum's arithmetic costs ~0.1 ms
    customers = _line_customers(session, variant, ("waiting", "queued"))
    for low in range(0, len(customers), LINE_CHUNK):
        chunk = customers[low : low + LINE_CHUNK]
        by_customer = _signups_of(session, variant, chunk, ("waiting", "queued"))
        names = external_ids(session, by_customer)
        keys = {c: f"sku:{sku}|customer:{names[c]}" for c in by_customer}
        live = _live_among(session, journey.name, list(keys.values()))
        for signups in by_customer.values():
            for signup in signups:
                if signup.status == "queued" and keys[signup.customer_id] not in live:
                    signup.status = "waiting"  # its enrollment ended (bought, failed): back in line
                    session.add(signup)
        bought = buyers_since(session, variant.id, sku, _firsts(by_customer))
        for customer_id, signups in by_customer.items():
            if _screen(session, signups, bought, oldest):
                continue
            granted = position < budget
            position += 1
            fresh = [s for s in signups if s.status == "waiting"]
            if not fresh:
                continue  # already in line: re-checked by its own enrollment
            _mark(session, fresh, "alerted" if granted else "queued", now)
            yield AudienceMember(
                customer_id,
                keys[customer_id],
                {
                    "channels": sorted({s.channel for s in fresh}),
                    "signup_ids": [s.id for s in fresh],
                    "wave": "alert" if granted else "queued",
                },
            )


def _line_customers(session: Session, variant: Variant, statuses: tuple[str, ...]) -> array[int]:
    """The customers in line for ``variant``, in the order of their first sign-up: one
    query, streamed into 8 bytes per customer."""
    first = func.min(RestockSignup.created_at)
    query = (
        select(RestockSignup.customer_id)
        .where(RestockSignup.variant_id == variant.id, col(RestockSignup.status).in_(statuses))
        .group_by(col(RestockSignup.customer_id))
        .order_by(first, func.min(RestockSignup.id))
        .execution_options(yield_per=LINE_CHUNK)
    )
    return array("q", (int(c) for c in session.exec(query)))


def _signups_of(
    session: Session, variant: Variant, customers: Sequence[int], statuses: tuple[str, ...]
) -> dict[int, list[RestockSignup]]:
    """The in-line sign-ups of ``customers``, by customer, in the customers' order. Read by
    the customers' index, the variant and status compared here: given ``variant_id = ?``,
    SQLite reads the variant's whole line for every chunk (57 ms per 500 customers in a line
    of 100,000: a cost that grows with the square of the line)."""
    by_customer: dict[int, list[RestockSignup]] = {c: [] for c in customers}
    rows = session.exec(
        select(RestockSignup)
        .where(col(RestockSignup.customer_id).in_(customers))
        .order_by(col(RestockSignup.created_at), col(RestockSignup.id))
    ).all()
    for signup in rows:
        if signup.variant_id == variant.id and signup.status in statuses:
            by_customer[signup.customer_id].append(signup)
    return {c: signups for c, signups in by_customer.items() if signups}


def _live_among(session: Session, journey: str, subjects: list[str]) -> set[str]:
    rows = session.exec(
        select(Enrollment.subject_key).where(
            Enrollment.journey == journey,
            col(Enrollment.status).in_(LIVE),
            col(Enrollment.subject_key).in_(subjects),
        )
    ).all()
    return set(rows)


def _wake_queued(session: Session, journey: Any, sku: str, now: datetime) -> None:
    """Shoppers waiting for their wave (parked on a wait that leads to ``restock_wave``)
    get their wave now."""
    rows = session.exec(
        select(Enrollment).where(
            Enrollment.journey == journey.name,
            col(Enrollment.status) == "waiting",
            col(Enrollment.subject_key).startswith(f"sku:{sku}|"),
        )
    ).all()
    for enrollment in rows:
        if enrollment.data.get("wave") != "queued":
            continue
        try:
            node = journey.node(enrollment.node_id)
            follows = journey.node(node.next) if isinstance(node, WaitNode) else None
        except KeyError:
            continue
        if isinstance(follows, CallNode) and follows.action == "restock_wave":
            enrollment.wake_at = now
            session.add(enrollment)


def _signups(ctx: ActionContext) -> list[RestockSignup]:
    ids = ctx.enrollment.data.get("signup_ids", [])
    return list(ctx.session.exec(select(RestockSignup).where(col(RestockSignup.id).in_(ids))).all())


@action("restock_wave")
def restock_wave(ctx: ActionContext) -> dict[str, Any]:
    """A later wave for one queued shopper: stock re-read; alerted when fewer than
    ``inventory x subscribers_per_unit`` shoppers are alerted in this wave or ahead in line."""
    signups = _signups(ctx)
    if not signups:
        return {"wave": "expired"}
    session, settings, now = ctx.session, ctx.settings, ctx.now
    variant = session.get(Variant, signups[0].variant_id)
    assert variant is not None
    used, position, bought = _wave_snapshot(ctx, variant)
    verdict = _screen(session, signups, bought, _oldest(settings, now))
    if verdict:
        return {"wave": verdict}
    if variant.inventory <= 0:
        _mark(session, signups, "waiting", now)
        return {"wave": "sold_out"}
    budget = variant.inventory * _setting(settings, "subscribers_per_unit", 3)
    if used + position.get(signups[0].customer_id, len(position)) < budget:
        _mark(session, signups, "alerted", now)
        return {"wave": "alert"}
    return {"wave": "queued"}


def _wave_snapshot(ctx: ActionContext, variant: Variant) -> tuple[int, dict[int, int], set[int]]:
    """(shoppers alerted in this wave before it started, each queued shopper's place in
    line, queued shoppers who bought since signing up): computed once per wave and
    transaction, so a wave of N shoppers costs O(N), not O(N^2)."""
    session, now = ctx.session, ctx.now
    key = ("restock_wave", variant.id, now.isoformat())
    cached = session.info.get(key)
    if cached is None:
        used = recently_alerted(session, variant.id, now - _window(ctx.settings))  # type: ignore[arg-type]
        live = _live_subjects(session, ctx.journey.name, variant.sku)
        line = _line(session, variant, ("queued",))
        names = external_ids(session, (s.customer_id for s in line))
        order: dict[int, int] = {}
        by_customer: dict[int, list[RestockSignup]] = {}
        for signup in line:
            customer = signup.customer_id
            by_customer.setdefault(customer, []).append(signup)
            if customer not in order and f"sku:{variant.sku}|customer:{names[customer]}" in live:
                order[customer] = len(order)
        bought = buyers_since(session, variant.id, variant.sku, _firsts(by_customer))  # type: ignore[arg-type]
        cached = session.info[key] = (len(used), order, bought)
    return cached


def _live_subjects(session: Session, journey: str, sku: str) -> set[str]:
    rows = session.exec(
        select(Enrollment.subject_key).where(
            Enrollment.journey == journey,
            col(Enrollment.status).in_(LIVE),
            col(Enrollment.subject_key).startswith(f"sku:{sku}|"),
        )
    ).all()
    return set(rows)


@action("restock_back_in_line")
def restock_back_in_line(ctx: ActionContext) -> dict[str, Any]:
    """Sold out (again) before the shopper bought: the sign-up waits for the next restock,
    keeping its place in line (its sign-up time)."""
    signups = _signups(ctx)
    _mark(ctx.session, signups, "waiting", ctx.now)
    return {"wave": "sold_out"}
