"""A journey: its trigger, subject, rules and a flat list of nodes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from journeykit.language.durations import Duration
from journeykit.language.nodes import Category, Channel, Node, NodeId, Strict, parse_local_time
from journeykit.language.setting_references import resolve_references

Subject = Literal["order", "sku", "cart", "customer"]


class Trigger(Strict):
    event: str = Field(description="domain event type that enrolls, e.g. order.placed")
    filter: str | None = Field(None, description="Jinja expression on the event; enroll if true")
    audience: str | None = Field(
        None, description="registered audience that picks customers (e.g. restock_signups)"
    )


def _sms_only() -> list[Channel]:
    return ["sms"]


class QuietHours(Strict):
    """No message of these channels between ``start`` and ``end`` in the customer's zone."""

    start: str = "21:00"
    end: str = "08:00"
    channels: list[Channel] = Field(default_factory=_sms_only)

    @field_validator("start", "end")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        parse_local_time(value)
        return value


class FrequencyCap(Strict):
    """At most ``max`` marketing messages per customer per ``window``, across journeys."""

    window: Duration = Field(description="e.g. 1d")
    max: int = Field(1, ge=1)
    on_cap: Literal["defer", "skip"] = "defer"


class Journey(Strict):
    schema_: str | None = Field(None, alias="$schema")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    summary: str = Field(
        "",
        description="one line for lists and the Prefect deployment (default: the description's"
        " first sentence)",
    )
    trigger: Trigger
    subject: Subject
    reentry: Literal["always", "once", "after_exit"] = Field(
        "after_exit", description="after_exit: one active enrollment per subject at a time"
    )
    exit_when: list[str] = Field(default_factory=list, description="events that end it at once")
    category: Category = Field("marketing", description="default for sends (safe: needs consent)")
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    frequency_cap: FrequencyCap | None = None
    settings: dict[str, Any] = Field(
        default_factory=dict,
        description="values nodes can read: ${settings.NAME} in any node value, settings.NAME in"
        " expressions and templates",
    )
    start: NodeId | None = Field(None, description="first node (default: the first listed)")
    nodes: list[Node] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _resolve_settings(cls, data: Any) -> Any:
        """``${settings.NAME}`` in node values becomes the setting's value."""
        return resolve_references(data) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _unique_ids(self) -> Journey:
        seen: set[str] = set()
        for node in self.nodes:
            if node.id in seen:
                raise ValueError(f"node id {node.id!r} is used twice")
            seen.add(node.id)
        return self

    @property
    def start_id(self) -> str:
        return self.start or self.nodes[0].id

    def node(self, node_id: str) -> Node:
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)
