"""Handler for ``call`` nodes: run a Python action developers registered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from journeykit.engine.nodes.base import Step, StepContext
from journeykit.engine.registry import get_action
from journeykit.models import Customer, Enrollment
from journeykit.spec.journey import Journey
from journeykit.spec.nodes import CallNode


@dataclass
class ActionContext:
    """What a registered action may use. It must only write through ``session`` (the
    step's transaction), so a crash leaves no half-done action behind."""

    session: Session
    journey: Journey
    enrollment: Enrollment
    customer: Customer | None
    now: datetime
    settings: dict[str, Any]


def handle_call(ctx: StepContext) -> Step:
    node = ctx.node
    assert isinstance(node, CallNode)
    action = get_action(node.action)
    result = action(
        ActionContext(
            ctx.session, ctx.journey, ctx.enrollment, ctx.customer, ctx.now, ctx.journey.settings
        ),
        **node.params,
    )
    return Step.goto(node.next, data=result or {}, detail={"action": node.action})
