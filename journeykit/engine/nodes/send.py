"""Handler for ``send`` nodes: decide (consent, quiet hours, frequency), render, and write
the outbox row — in the step's transaction, so the message exists exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from journeykit.engine.nodes.base import Step, StepContext
from journeykit.engine.nodes.conditions import names_in
from journeykit.engine.outbox_rows import queue_outbox_row, write_pending_for
from journeykit.foundation.models import pk
from journeykit.language.journey import Journey
from journeykit.language.nodes import SendNode
from journeykit.messaging.compliance import decide
from journeykit.messaging.compose import action_extras, compose
from journeykit.messaging.consent import MARKETING, restock_purpose
from journeykit.messaging.phone import time_zones_for

RESTOCK_AUDIENCE = "restock_signups"
OFFER_RULE = "offer_expires"  # a row's note: the offer it carries ends at ``at``


def outbox_key(enrollment_id: int, node_id: str, channel: str, visit: int) -> str:
    return f"{enrollment_id}:{node_id}:{channel}:{visit}"


def handle_send(ctx: StepContext) -> Step:
    node = ctx.node
    assert isinstance(node, SendNode)
    customer = ctx.customer
    if customer is None:
        return Step.goto(node.next, detail={"skipped": "no customer"})
    category = node.category or ctx.journey.category
    zones = [customer.timezone]
    if node.channel == "sms" and customer.phone:
        zones += [z for z in time_zones_for(customer.phone) if z not in zones]
    if category == "marketing" and ctx.journey.frequency_cap is not None:
        write_pending_for(ctx.session, pk(customer))  # the cap counts this group's rows too
    decision = decide(
        ctx.session,
        journey=ctx.journey,
        customer=customer,
        channel=node.channel,
        category=category,
        now=ctx.now,
        zones=zones,
        country_quiet=ctx.runtime.settings.sending.quiet_hours_by_country,
        purpose=purpose_of(ctx.journey, ctx.enrollment.subject_key),
    )
    key = outbox_key(ctx.enrollment.id, node.id, node.channel, ctx.visit())  # type: ignore[arg-type]
    address = (customer.email if node.channel == "email" else customer.phone) or ""
    row: dict[str, Any] = {
        "key": key,
        "enrollment_id": ctx.enrollment.id,
        "journey": ctx.journey.name,
        "node_id": node.id,
        "customer_id": pk(customer),
        "channel": node.channel,
        "category": category,
        "template": node.template,
        "variant": _variant(ctx),
        "to_address": address,
        "due_at": decision.due_at,
        "created_at": ctx.now,
        "decisions": decision.notes,
    }
    if node.offer_valid_for is not None:
        expires = (ctx.now + node.offer_valid_for).isoformat()
        row["decisions"] = [*row["decisions"], {"rule": OFFER_RULE, "at": expires}]
    if not decision.allowed:
        row["status"], row["error"] = "suppressed", decision.reason
    elif node.still_true is not None and not ctx.holds(node.still_true, names_in(node.still_true)):
        row["status"], row["error"] = "withdrawn", f"no longer true: {node.still_true}"
        row["due_at"] = ctx.now  # decided now: it will never go
    else:
        extras = action_extras(
            ctx.runtime.settings,
            node,
            enrollment_id=pk(ctx.enrollment),
            customer_id=pk(customer),
            now=ctx.now,
            category=category,
        )
        context = {**ctx.template_context, **extras}
        row["content"] = compose(
            ctx.runtime.get_renderer(),
            node,
            customer.locale,
            context,
            category,
            extras["unsubscribe_url"],
        )
        if node.channel == "sms":
            row["expires_at"] = decision.due_at + timedelta(
                seconds=ctx.runtime.settings.sending.sms_validity_seconds
            )
    queue_outbox_row(ctx.session, row)
    status = row.get("status", "queued")
    detail = {"outbox": key, "status": status, "due_at": row["due_at"].isoformat()}
    if row.get("error"):
        detail["reason"] = row["error"]
    return Step.goto(node.next, detail=detail)


def purpose_of(journey: Journey, subject_key: str) -> str:
    """The consent purpose a journey's messages need: restock alerts (the restock audience,
    subject ``sku:X``) are covered by the signup for that item; everything else by marketing
    consent for the channel."""
    subject = dict(part.split(":", 1) for part in subject_key.split("|") if ":" in part)
    if journey.trigger.audience == RESTOCK_AUDIENCE and "sku" in subject:
        return restock_purpose(subject["sku"])
    return MARKETING


def _variant(ctx: StepContext) -> str | None:
    variants = ctx.enrollment.data.get("variants") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(variants.items())) or None
