"""What a node handler gets (``StepContext``) and returns (``Step``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlmodel import Session

from journeykit.engine.nodes.conditions import data_inputs, data_keys_read
from journeykit.engine.runtime import Runtime
from journeykit.engine.template_context import build_context, group_customer
from journeykit.foundation.models import Customer, Enrollment
from journeykit.language.journey import Journey
from journeykit.language.nodes import Node
from journeykit.messaging.compliance import GROUP_CACHE
from journeykit.templating.expressions import holds

ENROLLMENT_NAMES = frozenset({"enrollment", "settings", "journey", "event"})
# Names of the template context that depend only on the subject (and the settings), by the
# journey's subject: a condition reading only these has one value per subject in a node group.
SUBJECT_NAMES = {"sku": frozenset({"variant", "product", "store", "settings", "journey"})}


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
        return group_customer(self.session, self.enrollment.customer_id)

    @cached_property
    def enrollment_context(self) -> dict[str, Any]:
        """The names of the template context that come from the enrollment and the journey
        alone (the same values ``build_context`` gives them), without a database query."""
        e = self.enrollment
        return {
            "enrollment": {"id": e.id, "entered_at": e.entered_at, "data": e.data},
            "settings": self.journey.settings,
            "journey": {"name": self.journey.name, "settings": self.journey.settings},
            "event": e.data.get("last_event") or e.data.get("event") or {},
        }

    def context_for(self, names: frozenset[str]) -> dict[str, Any]:
        """What an expression using ``names`` needs: the enrollment's own names when that is
        all it reads (most branch conditions), else the full template context."""
        if names <= ENROLLMENT_NAMES:
            return self.enrollment_context
        return self.template_context

    def subject_value(self) -> str | None:
        """The value of the journey's subject in the enrollment's subject key (the sku of
        ``sku:LAMP-1|customer:42`` in a ``sku`` journey): what the subject's names
        (``variant``, ``product``) are read by in the template context."""
        subject = self.journey.subject
        for part in self.enrollment.subject_key.split("|"):
            name, _, value = part.partition(":")
            if name == subject:
                return value
        return None

    def holds(self, condition: str, names: frozenset[str]) -> bool:
        """Whether ``condition`` (reading ``names``) holds for this enrollment, evaluated
        once per distinct input in a node group: a condition on the subject alone
        (``variant.inventory > 0``) once per subject (the group's transaction reads the same
        rows for all of them), one on keys of ``enrollment.data`` alone (``'email' in
        enrollment.data.channels``) once per distinct value of those keys. Expressions run
        in the immutable sandbox: the same inputs give the same value."""
        cache = self.session.info.get(GROUP_CACHE)
        if cache is None:
            return holds(condition, self.context_for(names))
        subject_names = SUBJECT_NAMES.get(self.journey.subject)
        key: tuple[Any, ...] | None = None
        if subject_names is not None and names <= subject_names:
            key = ("holds", self.journey.name, condition, self.subject_value())
        elif names <= ENROLLMENT_NAMES and (keys := data_keys_read(condition)) is not None:
            key = ("holds", self.journey.name, condition, data_inputs(keys, self.enrollment.data))
        if key is None:
            return holds(condition, self.context_for(names))
        if key not in cache:
            cache[key] = holds(condition, self.context_for(names))
        return bool(cache[key])

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
