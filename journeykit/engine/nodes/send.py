"""Handler for ``send`` nodes: decide (consent, quiet hours, frequency), render, and write
the outbox row — in the step's transaction, so the message exists exactly once."""

from __future__ import annotations

from datetime import timedelta

from journeykit.engine.nodes.base import Step, StepContext
from journeykit.foundation.models import OutboxMessage, pk
from journeykit.language.nodes import SendNode
from journeykit.messaging.compliance import decide
from journeykit.messaging.compose import action_extras, compose
from journeykit.messaging.phone import time_zones_for


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
    decision = decide(
        ctx.session,
        journey=ctx.journey,
        customer=customer,
        channel=node.channel,
        category=category,
        now=ctx.now,
        zones=zones,
        country_quiet=ctx.runtime.settings.sending.quiet_hours_by_country,
    )
    key = outbox_key(ctx.enrollment.id, node.id, node.channel, ctx.visit())  # type: ignore[arg-type]
    address = (customer.email if node.channel == "email" else customer.phone) or ""
    row = OutboxMessage(
        key=key,
        enrollment_id=ctx.enrollment.id,
        journey=ctx.journey.name,
        node_id=node.id,
        customer_id=pk(customer),
        channel=node.channel,
        category=category,
        template=node.template,
        variant=_variant(ctx),
        to_address=address,
        due_at=decision.due_at,
        created_at=ctx.now,
        decisions=decision.notes,
    )
    if not decision.allowed:
        row.status, row.error = "suppressed", decision.reason
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
        row.content = compose(
            ctx.runtime.get_renderer(),
            node,
            customer.locale,
            context,
            category,
            extras["unsubscribe_url"],
        )
        if node.channel == "sms":
            row.expires_at = decision.due_at + timedelta(
                seconds=ctx.runtime.settings.sending.sms_validity_seconds
            )
    ctx.session.add(row)
    detail = {"outbox": key, "status": row.status, "due_at": row.due_at.isoformat()}
    if row.error:
        detail["reason"] = row.error
    return Step.goto(node.next, detail=detail)


def _variant(ctx: StepContext) -> str | None:
    variants = ctx.enrollment.data.get("variants") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(variants.items())) or None
