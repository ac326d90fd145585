"""What a node handler gets (``StepContext``) and returns (``Step``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlmodel import Session

from journeykit.engine.context import build_context
from journeykit.engine.runtime import Runtime
from journeykit.models import Customer, Enrollment
from journeykit.spec.journey import Journey
from journeykit.spec.nodes import Node


@dataclass(frozen=True)
class Step:
    """goto ``next`` now; park until ``wake_at`` (listening for ``waiting_for``); exit."""

    kind: str  # goto | park | exit
    next: str | None = None
    wake_at: datetime | None = None
    waiting_for: tuple[str, ...] = ()
    reason: str = "completed"
    data: dict[str, Any] = field(default_factory=dict)  # merged into enrollment.data
    detail: dict[str, Any] = field(default_factory=dict)  # recorded in history

    @staticmethod
    def goto(next_id: str | None, **kw: Any) -> Step:
        return Step("goto", next=next_id, **kw) if next_id else Step("exit", **kw)


@dataclass
class StepContext:
    session: Session
    runtime: Runtime
    journey: Journey
    node: Node
    enrollment: Enrollment
    now: datetime
    woken: bool  # the enrollment was parked here and is now due (timeout or signal)

    @cached_property
    def customer(self) -> Customer | None:
        cid = self.enrollment.customer_id
        return self.session.get(Customer, cid) if cid else None

    @cached_property
    def template_context(self) -> dict[str, Any]:
        return build_context(
            self.session,
            settings=self.runtime.settings,
            journey=self.journey,
            enrollment=self.enrollment,
            now=self.now,
        )

    def visit(self) -> int:
        """How many times the enrollment has entered this node (1 on the first visit)."""
        return self.enrollment.visits.get(self.node.id, 0)
