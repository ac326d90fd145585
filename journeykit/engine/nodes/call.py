"""Handler for ``call`` nodes: run a Python action developers registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from journeykit.engine.ingest import ingest_event
from journeykit.engine.nodes.base import Step, StepContext
from journeykit.foundation.models import Customer, Enrollment
from journeykit.language.journey import Journey
from journeykit.language.nodes import CallNode


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
    # record a domain event in the same transaction (e.g. ``order.cancelled``), so other
    # journeys about the same subject react; the acting enrollment itself is left alone
    emit: Callable[[dict[str, Any]], None] = lambda payload: None


def handle_call(ctx: StepContext) -> Step:
    node = ctx.node
    assert isinstance(node, CallNode)
    action = ctx.runtime.registry.get_action(node.action)
    result = action(
        ActionContext(
            ctx.session,
            ctx.journey,
            ctx.enrollment,
            ctx.customer,
            ctx.now,
            ctx.journey.settings,
            emit=lambda payload: _emit(ctx, payload),
        ),
        **node.params,
    )
    return Step.goto(node.next, data=result or {}, detail={"action": node.action})


def _emit(ctx: StepContext, payload: dict[str, Any]) -> None:
    """An action's event is applied in the step's own transaction, before the step commits:
    it happened in this step, so nothing can overtake it (it does not queue in the inbox)."""
    node = ctx.node
    assert isinstance(node, CallNode)
    declared = ctx.runtime.registry.actions[node.action].emits
    if payload.get("type") not in declared:
        raise ValueError(
            f"action {node.action!r} emitted {payload.get('type')!r}, which it does not declare:"
            f" add it to @action({node.action!r}, emits=[...]) (declared: {list(declared)})"
        )
    ingest_event(
        ctx.session,
        book=ctx.runtime.book,
        now=ctx.now,
        payload=payload,
        key=f"emitted:{ctx.enrollment.id}:{ctx.node.id}:{payload.get('type')}",
        source=f"journey:{ctx.journey.name}",
        exclude_enrollment=ctx.enrollment.id,
        registry=ctx.runtime.registry,
    )
