"""Review-request actions (P2): help first, as a support ticket."""

from __future__ import annotations

from typing import Any

from journeykit.actions.common import order_of
from journeykit.engine.nodes.call import ActionContext
from journeykit.engine.registry import action
from journeykit.foundation.models import SupportTicket


@action("open_ticket")
def open_ticket(ctx: ActionContext) -> dict[str, Any]:
    """A support ticket for the customer (and the order), with what they told us."""
    order = order_of(ctx) if ctx.enrollment.subject_type == "order" else None
    note = str((ctx.enrollment.data.get("last_event") or {}).get("message", ""))
    ticket = SupportTicket(
        customer_id=ctx.enrollment.customer_id,  # type: ignore[arg-type]
        order_id=order.id if order else None,
        message=note,
        opened_at=ctx.now,
    )
    ctx.session.add(ticket)
    ctx.session.flush()
    return {"ticket_id": ticket.id}


@action("mark_satisfied")
def mark_satisfied(ctx: ActionContext) -> dict[str, Any]:
    """P2: the customer said the problem is solved to their satisfaction."""
    ticket_id = ctx.enrollment.data.get("ticket_id")
    ticket = ctx.session.get(SupportTicket, ticket_id) if ticket_id else None
    if ticket is not None:
        ticket.status = "satisfied"
        ctx.session.add(ticket)
    return {"satisfied": True}
