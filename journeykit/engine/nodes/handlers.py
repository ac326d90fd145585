"""One handler per node type."""

from __future__ import annotations

from collections.abc import Callable

from journeykit.engine.nodes.base import Step, StepContext
from journeykit.engine.nodes.call import handle_call
from journeykit.engine.nodes.flow_control import handle_branch, handle_exit, handle_split
from journeykit.engine.nodes.send import handle_send
from journeykit.engine.nodes.waiting import handle_wait, handle_wait_for

Handler = Callable[[StepContext], Step]

HANDLERS: dict[str, Handler] = {
    "send": handle_send,
    "wait": handle_wait,
    "wait_for": handle_wait_for,
    "branch": handle_branch,
    "call": handle_call,
    "split": handle_split,
    "exit": handle_exit,
}


def handler_for(node_type: str) -> Handler:
    return HANDLERS[node_type]
