"""One pydantic model per node type, told apart by ``type``. Nodes form a flat list linked
by id (``next``, ``outcomes[].next``, ``branches[].next``, ``variants[].next``)."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from journeykit.language.durations import Duration

NodeId = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_]*$", description="lower_snake_case id, unique in the journey"),
]
Channel = Literal["email", "sms"]
Category = Literal["transactional", "marketing"]
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_local_time(value: str) -> time:
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValueError(f"{value!r} is not a time of day: write 24-hour 'HH:MM', e.g. '09:30'")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


class Allotment(Strict):
    """How many customers of one subject may be told within a window, re-read when each
    message is claimed: the first ``max`` customers (in the order their messages left, then
    the order of the claim) keep their place; later ones are withdrawn. E.g. a restock wave:
    ``{max: "variant.inventory * settings.subscribers_per_unit", window: 12h}``."""

    max: str = Field(description="an expression on the subject (variant, order, settings...)")
    window: Duration = Field(description="messages that left this long ago no longer count")


class SendNode(Strict):
    """Queue one message to the enrollment's customer."""

    type: Literal["send"]
    id: NodeId
    channel: Channel
    template: str = Field(description="template name, e.g. delay_apology/apology")
    category: Category | None = Field(None, description="defaults to the journey's category")
    actions: list[str] = Field(
        default_factory=list, description="choices offered as signed links / numbered replies"
    )
    offer_valid_for: Duration | None = Field(None, description="the offer in this message expires")
    still_true: str | None = Field(
        None,
        description="a condition that must hold when the message is queued and again when it "
        "is sent, e.g. variant.inventory > 0 (else it is withdrawn)",
    )
    allotment: Allotment | None = Field(
        None,
        description="at most this many customers of the subject told within a window, "
        "counted when each message is claimed (send nodes with an allotment share it)",
    )
    next: NodeId | None = None


class WaitNode(Strict):
    """Wait a duration, until a local time of day, or N business days (exactly one)."""

    type: Literal["wait"]
    id: NodeId
    duration: Duration | None = None
    until: str | None = Field(None, description="local time of day 'HH:MM' in the customer's zone")
    business_days: int | None = Field(None, ge=1, le=60)
    at: str | None = Field(None, description="with business_days: local time of day 'HH:MM'")
    next: NodeId

    @field_validator("until", "at")
    @classmethod
    def _time_of_day(cls, value: str | None) -> str | None:
        if value is not None:
            parse_local_time(value)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> WaitNode:
        kinds = [k for k in ("duration", "until", "business_days") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "a wait needs exactly one of 'duration', 'until' or 'business_days'"
                + (f" (found {', '.join(kinds)})" if kinds else "")
            )
        if self.at is not None and self.business_days is None:
            raise ValueError("'at' goes with 'business_days'")
        return self


class Outcome(Strict):
    """One thing a ``wait_for`` listens for: a customer action or a domain event."""

    action: str | None = Field(None, description="customer action, e.g. credit, cancel, clicked")
    event: str | None = Field(None, description="domain event type, e.g. order.shipped")
    next: NodeId

    @model_validator(mode="after")
    def _one_kind(self) -> Outcome:
        if (self.action is None) == (self.event is None):
            raise ValueError("an outcome names exactly one of 'action' or 'event'")
        return self

    @property
    def signal(self) -> str:
        return f"action:{self.action}" if self.action else f"event:{self.event}"


class WaitForNode(Strict):
    """Wait for the first of several actions/events, or the timeout."""

    type: Literal["wait_for"]
    id: NodeId
    outcomes: list[Outcome] = Field(min_length=1)
    timeout: Duration = Field(description="how long to wait at most (required: no unbounded waits)")
    on_timeout: NodeId


class Condition(Strict):
    when: str = Field(description="a Jinja expression on the enrollment's data")
    next: NodeId


class BranchNode(Strict):
    """The first condition that holds picks the next node, else ``otherwise``."""

    type: Literal["branch"]
    id: NodeId
    branches: list[Condition] = Field(min_length=1)
    otherwise: NodeId


class CallNode(Strict):
    """Run a Python action developers registered (e.g. ``cancel_order``)."""

    type: Literal["call"]
    id: NodeId
    action: str
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    next: NodeId | None = None


class Variant(Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    weight: int = Field(ge=1, le=1000)
    next: NodeId


class SplitNode(Strict):
    """Random A/B split, stable per subject (hash of journey, node and subject)."""

    type: Literal["split"]
    id: NodeId
    variants: list[Variant] = Field(min_length=2)


class ExitNode(Strict):
    type: Literal["exit"]
    id: NodeId
    reason: str = "completed"


Node = Annotated[
    SendNode | WaitNode | WaitForNode | BranchNode | CallNode | SplitNode | ExitNode,
    Field(discriminator="type"),
]


def successors(node: Node) -> list[str]:
    """Ids this node can move to, in order."""
    match node:
        case SendNode() | CallNode():
            return [node.next] if node.next else []
        case WaitNode():
            return [node.next]
        case WaitForNode():
            return [o.next for o in node.outcomes] + [node.on_timeout]
        case BranchNode():
            return [c.next for c in node.branches] + [node.otherwise]
        case SplitNode():
            return [v.next for v in node.variants]
        case _:
            return []
