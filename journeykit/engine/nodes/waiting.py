"""Handlers for nodes that park an enrollment: wait and wait_for. The due time is a row
(``wake_at``); no process sleeps through a wait."""

from __future__ import annotations

from journeykit.engine.nodes.base import Step, StepContext
from journeykit.language.nodes import WaitForNode, WaitNode, parse_local_time
from journeykit.timing import waits


def handle_wait(ctx: StepContext) -> Step:
    node = ctx.node
    assert isinstance(node, WaitNode)
    if ctx.woken:
        return Step.goto(node.next)
    tz = ctx.customer.timezone if ctx.customer else "UTC"
    if node.duration is not None:
        wake_at = waits.after_duration(ctx.now, node.duration)
    elif node.until is not None:
        wake_at = waits.next_local_time(ctx.now, tz, node.until)
    else:
        assert node.business_days is not None
        wake_at = waits.after_business_days(ctx.now, tz, node.business_days, at=node.at)
    return Step("park", wake_at=wake_at)


def handle_wait_for(ctx: StepContext) -> Step:
    node = ctx.node
    assert isinstance(node, WaitForNode)
    if not ctx.woken:
        signals = tuple(outcome.signal for outcome in node.outcomes)
        return Step("park", wake_at=ctx.now + node.timeout, waiting_for=signals)
    signal = ctx.enrollment.data.get("_signal")
    for outcome in node.outcomes:
        if outcome.signal == signal:
            return Step.goto(outcome.next, data={"_signal": None}, detail={"outcome": signal})
    return Step.goto(node.on_timeout, detail={"outcome": "timeout"})


__all__ = ["handle_wait", "handle_wait_for", "parse_local_time"]
