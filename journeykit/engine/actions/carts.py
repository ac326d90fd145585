"""Cart actions (C1): the one-time discount of the abandoned-cart offer arm."""

from __future__ import annotations

from typing import Any

from journeykit.engine.actions.common import new_code
from journeykit.engine.nodes.call import ActionContext
from journeykit.engine.registry import action


@action("issue_discount")
def issue_discount(ctx: ActionContext, percent: int = 10) -> dict[str, Any]:
    """A single-use code for this cart; it expires with the message's offer."""
    return {"discount": {"code": new_code("SAVE", ctx), "percent": int(percent)}}
