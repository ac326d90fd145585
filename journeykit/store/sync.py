"""Apply a validated domain event to the store tables (customers, consent, catalog,
orders, carts, signups). Returns the subject keys the event is about."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from journeykit.foundation.models import (
    Cart,
    Consent,
    Customer,
    Order,
    OrderLine,
    Product,
    RestockSignup,
    SupportTicket,
    Variant,
    pk,
)
from journeykit.language import event_types as ev
from journeykit.messaging.consent import MARKETING, by_recipient, consent_state, restock_purpose


class UnknownSubject(LookupError):
    """The event names an order, cart, sku or ticket the store has never told us about."""


def upsert_customer(session: Session, data: ev.CustomerIn, now: datetime) -> Customer:
    customer = session.exec(select(Customer).where(Customer.external_id == data.id)).first()
    if customer is None:
        customer = Customer(external_id=data.id, created_at=now)
    for name in ("email", "phone", "first_name", "timezone", "locale", "country"):
        value = getattr(data, name)
        if value not in (None, ""):
            setattr(customer, name, value)
    session.add(customer)
    session.flush()
    for channel, granted in data.consent.items():
        if _store_flag(session, pk(customer), channel) != granted:
            session.add(
                Consent(
                    customer_id=customer.id,  # type: ignore[arg-type]
                    channel=channel,
                    granted=granted,
                    source=data.consent_source,
                    recorded_at=now,
                )
            )
    return customer


def _store_flag(session: Session, customer_id: int, channel: str) -> bool | None:
    """The last marketing flag a store event carried for this customer and channel: a row is
    appended only when the store's own flag changes (it never overrides the recipient's
    refusal either way, see :mod:`journeykit.messaging.consent`)."""
    rows = session.exec(
        select(Consent)
        .where(Consent.customer_id == customer_id, Consent.channel == channel)
        .order_by(col(Consent.recorded_at).desc(), col(Consent.id).desc())
    ).all()
    for row in rows:
        if not by_recipient(row.source) and row.purpose == MARKETING:
            return row.granted
    return None


def current_consent(
    session: Session, customer_id: int, channel: str, purpose: str = MARKETING
) -> bool | None:
    """The consent in force for a channel and purpose (None: never asked), read per address
    with the recipient's own refusals first (:mod:`journeykit.messaging.consent`)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    return consent_state(session, customer, channel, purpose).granted


def variant_by_sku(session: Session, sku: str) -> Variant:
    variant = session.exec(select(Variant).where(Variant.sku == sku)).first()
    if variant is None:
        raise UnknownSubject(f"unknown sku {sku!r}: send product.upserted first")
    return variant


def order_by_number(session: Session, number: str) -> Order:
    order = session.exec(select(Order).where(Order.number == number)).first()
    if order is None:
        raise UnknownSubject(f"unknown order {number!r}: send order.placed first")
    return order


def apply_event(
    session: Session, event: ev.EventIn | ev.DeclaredEvent, now: datetime
) -> tuple[int | None, list[str]]:
    """Update the store tables; returns (customer id, subject keys the event is about)."""
    match event:
        case ev.DeclaredEvent():
            return _declared_subject(session, event)
        case ev.ProductUpserted(product=p):
            return None, [f"sku:{_upsert_product(session, p).sku}"]
        case ev.OrderPlaced():
            return _order_placed(session, event, now)
        case ev.OrderDelayed():
            order = order_by_number(session, event.order_number)
            order.ship_from, order.ship_to = event.ship_from, event.ship_to
            order.delay_reason = event.reason or order.delay_reason
            order.delay_fix = event.fix or order.delay_fix
            order.tags = sorted({*order.tags, "delayed"})
            session.add(order)
            return order.customer_id, _order_keys(session, order)
        case ev.OrderStatus():
            return _order_status(session, event, now)
        case ev.InventoryChanged():
            variant = variant_by_sku(session, event.sku)
            variant.inventory = event.quantity
            session.add(variant)
            return None, [f"sku:{variant.sku}"]
        case ev.CartUpdated():
            customer = upsert_customer(session, event.customer, now)
            cart = session.exec(select(Cart).where(Cart.token == event.cart.token)).first()
            cart = cart or Cart(token=event.cart.token, customer_id=customer.id, updated_at=now)  # type: ignore[arg-type]
            cart.lines = [line.model_dump() for line in event.cart.lines]
            cart.updated_at, cart.status = now, "open"
            session.add(cart)
            skus = [f"sku:{line.sku}" for line in event.cart.lines]
            return customer.id, [f"cart:{cart.token}", f"customer:{customer.external_id}", *skus]
        case ev.CheckoutCompleted():
            cart = session.exec(select(Cart).where(Cart.token == event.cart_token)).first()
            if cart is None:
                raise UnknownSubject(f"unknown cart {event.cart_token!r}")
            cart.status, cart.checked_out_at = "checked_out", now
            session.add(cart)
            owner = session.get(Customer, cart.customer_id)
            if owner is None:
                raise UnknownSubject(f"cart {event.cart_token!r} has no customer")
            skus = [f"sku:{line['sku']}" for line in cart.lines]
            keys = [f"cart:{cart.token}", f"customer:{owner.external_id}", *skus]
            return cart.customer_id, keys
        case ev.RestockSignup():
            customer = upsert_customer(session, event.customer, now)
            variant = variant_by_sku(session, event.sku)
            for channel in event.channels:
                session.add(
                    Consent(
                        customer_id=pk(customer),
                        channel=channel,
                        purpose=restock_purpose(variant.sku),
                        granted=True,
                        source=f"restock:{event.source}",
                        wording=event.consent_wording,
                        recorded_at=now,
                    )
                )
                session.add(
                    RestockSignup(
                        customer_id=pk(customer),
                        variant_id=pk(variant),
                        channel=channel,
                        consent_wording=event.consent_wording,
                        source=event.source,
                        created_at=now,
                    )
                )
            return customer.id, [f"customer:{customer.external_id}", f"sku:{variant.sku}"]
        case ev.TicketSolved():
            ticket = session.get(SupportTicket, event.ticket_id)
            if ticket is None:
                raise UnknownSubject(f"unknown support ticket {event.ticket_id}")
            ticket.status, ticket.solved_at = "solved", now
            session.add(ticket)
            keys = [f"customer:{session.get(Customer, ticket.customer_id).external_id}"]  # type: ignore[union-attr]
            if ticket.order_id:
                keys += _order_keys(session, session.get(Order, ticket.order_id))  # type: ignore[arg-type]
            return ticket.customer_id, keys
    raise TypeError(f"no store update for {type(event).__name__}")  # pragma: no cover


def _upsert_product(session: Session, p: ev.ProductIn) -> Variant:
    product = session.exec(select(Product).where(Product.handle == p.handle)).first()
    product = product or Product(handle=p.handle, title=p.title)
    product.title, product.category, product.url = p.title, p.category, p.url
    product.image_url, product.days_to_use = p.image_url, p.days_to_use
    session.add(product)
    session.flush()
    variant = session.exec(select(Variant).where(Variant.sku == p.sku)).first()
    variant = variant or Variant(sku=p.sku, product_id=product.id)  # type: ignore[arg-type]
    variant.title, variant.price_cents, variant.currency = (
        p.variant_title,
        p.price_cents,
        p.currency,
    )
    variant.inventory, variant.backorderable = p.inventory, p.backorderable
    session.add(variant)
    session.flush()
    return variant


def _order_placed(
    session: Session, event: ev.OrderPlaced, now: datetime
) -> tuple[int | None, list[str]]:
    customer = upsert_customer(session, event.customer, now)
    data = event.order
    order = session.exec(select(Order).where(Order.number == data.number)).first()
    if order is not None:
        return customer.id, _order_keys(session, order)
    order = Order(
        number=data.number,
        customer_id=pk(customer),
        placed_at=now,
        ship_from=data.ship_from,
        ship_to=data.ship_to,
        delivery_from=data.delivery_from,
        delivery_to=data.delivery_to,
        total_cents=data.total_cents,
        currency=data.currency,
        is_backorder=data.is_backorder,
    )
    session.add(order)
    session.flush()
    for line in data.lines:
        variant = variant_by_sku(session, line.sku)
        price = line.price_cents or variant.price_cents
        session.add(
            OrderLine(
                order_id=pk(order),
                variant_id=pk(variant),
                quantity=line.quantity,
                price_cents=price,
            )
        )
    if not order.total_cents:
        order.total_cents = sum(
            (line.price_cents or variant_by_sku(session, line.sku).price_cents) * line.quantity
            for line in data.lines
        )
    session.flush()
    return customer.id, _order_keys(session, order)


def _order_status(
    session: Session, event: ev.OrderStatus, now: datetime
) -> tuple[int | None, list[str]]:
    order = order_by_number(session, event.order_number)
    order.status = event.type.split(".", 1)[1]
    if event.tracking_number:
        order.tracking_number = event.tracking_number
    if event.carrier:
        order.carrier = event.carrier
    if event.type == "order.delivered":
        order.delivered_at = now
    session.add(order)
    return order.customer_id, _order_keys(session, order)


def _declared_subject(session: Session, event: ev.DeclaredEvent) -> tuple[int | None, list[str]]:
    """A declared event changes nothing in the store: it is about the subject it names."""
    if event.order_number:
        order = order_by_number(session, event.order_number)
        return order.customer_id, _order_keys(session, order)
    if event.cart_token:
        cart = session.exec(select(Cart).where(Cart.token == event.cart_token)).first()
        if cart is None:
            raise UnknownSubject(f"unknown cart {event.cart_token!r}")
        owner = session.get(Customer, cart.customer_id)
        keys = [f"cart:{cart.token}"] + ([f"customer:{owner.external_id}"] if owner else [])
        return cart.customer_id, keys
    if event.customer_id:
        customer = session.exec(
            select(Customer).where(Customer.external_id == event.customer_id)
        ).first()
        if customer is None:
            raise UnknownSubject(f"unknown customer {event.customer_id!r}")
        return customer.id, [f"customer:{customer.external_id}"]
    return None, [f"sku:{variant_by_sku(session, str(event.sku)).sku}"]


def _order_keys(session: Session, order: Order) -> list[str]:
    customer = session.get(Customer, order.customer_id)
    if customer is None:
        raise UnknownSubject(f"order {order.number!r} has no customer")
    lines = session.exec(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    skus = [f"sku:{session.get(Variant, line.variant_id).sku}" for line in lines]  # type: ignore[union-attr]
    return [f"order:{order.number}", f"customer:{customer.external_id}", *skus]
