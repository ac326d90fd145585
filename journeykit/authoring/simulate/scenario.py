"""Scenario files: a customer, a subject, timed events and actions, and what to expect."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from journeykit.language.durations import Duration


class ScenarioCustomer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = "C-1"
    first_name: str = "Alex"
    timezone: str = "UTC"
    locale: str = "en"
    email: str | None = None
    phone: str | None = None
    country: str | None = None
    consent: dict[str, bool] = Field(default_factory=dict)


class ScenarioStep(BaseModel):
    model_config = ConfigDict(extra="forbid")
    at: Duration
    event: str | None = None
    action: str | None = None
    customer: str | None = Field(None, description="id of one of `customers` (default: main)")
    data: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> ScenarioStep:
        if (self.event is None) == (self.action is None):
            raise ValueError("each step names exactly one of 'event' or 'action'")
        return self


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    journey: str | None = None
    description: str = ""
    customer: ScenarioCustomer = Field(default_factory=ScenarioCustomer)
    customers: list[ScenarioCustomer] = Field(default_factory=list)
    subject: dict[str, Any] = Field(default_factory=dict)
    catalog: list[dict[str, Any]] = Field(default_factory=list, description="extra products")
    start: datetime | None = None
    events: list[ScenarioStep] = Field(min_length=1)
    until: Duration = timedelta(days=30)
    expect: list[dict[str, Any]] | None = None

    def customer_by_id(self, cid: str | None) -> ScenarioCustomer:
        if cid is None or cid == self.customer.id:
            return self.customer
        for customer in self.customers:
            if customer.id == cid:
                return customer
        raise ValueError(f"scenario has no customer {cid!r}")


class ScenarioError(ValueError):
    """A scenario file that cannot be read; the message names the file and the field."""


def load_scenario(path: Path) -> Scenario:
    try:
        raw = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    try:
        return Scenario.model_validate(raw)
    except ValueError as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
