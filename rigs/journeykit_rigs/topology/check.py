"""What the sandbox accepted against what the events should have caused: every expected message
exactly once (by recipient and journey node; no outbox key twice), the optional ones at most
once, and the latency from each cause's HTTP 202 to the sandbox accepting the message.

Order per subject shows in what arrives: an apology exists only when the order's
``order.placed`` was applied before its ``order.delayed`` (else "unknown order"), a restock alert
only when the signup was applied before the restock (else the wave missed it)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx

from journeykit_rigs.topology.workload import Expected, Posted


def sandbox_messages(sandbox_url: str) -> list[dict[str, Any]]:
    found = httpx.get(f"{sandbox_url}/api/messages", params={"provider": "sendgrid"}, timeout=30)
    found.raise_for_status()
    messages: list[dict[str, Any]] = found.json()
    return messages


def node_of(message: dict[str, Any]) -> str:
    """The journey node of a message, from its outbox key (``enrollment:node:channel:visit``)."""
    key = str((message.get("custom_args") or {}).get("journeykit_key", ""))
    parts = key.split(":")
    return parts[1] if len(parts) >= 4 else ""


@dataclass
class Verdict:
    expected: int
    accepted: int
    missing: list[Expected] = field(default_factory=list)
    duplicated: dict[str, int] = field(default_factory=dict)  # "to node" -> copies
    duplicate_keys: dict[str, int] = field(default_factory=dict)  # outbox key -> copies
    wrong_content: list[str] = field(default_factory=list)
    latencies_s: list[float] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.missing

    def summary(self) -> dict[str, Any]:
        return {
            "expected": self.expected,
            "accepted": self.accepted,
            "missing": len(self.missing),
            "missing_examples": [f"{e.node} -> {e.to} ({e.cause})" for e in self.missing[:10]],
            "duplicated": len(self.duplicated) + len(self.duplicate_keys),
            "duplicated_examples": list({**self.duplicated, **self.duplicate_keys})[:10],
            "wrong_content": self.wrong_content[:10],
            "latency_s": percentiles(self.latencies_s),
        }


def judge(
    messages: list[dict[str, Any]],
    expected: list[Expected],
    posted: dict[str, Posted],
    optional: list[Expected] = (),  # type: ignore[assignment]
) -> Verdict:
    by_target: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for message in messages:
        by_target.setdefault((message["to"], node_of(message)), []).append(message)
    keys = Counter(str((m.get("custom_args") or {}).get("journeykit_key")) for m in messages)
    verdict = Verdict(expected=len(expected), accepted=len(messages))
    verdict.duplicate_keys = {k: n for k, n in keys.items() if n > 1}
    for item in [*expected, *optional]:
        copies = by_target.get((item.to, item.node), [])
        if len(copies) > 1:
            verdict.duplicated[f"{item.node} -> {item.to}"] = len(copies)
        if not copies:
            if item in expected:
                verdict.missing.append(item)
            continue
        first = min(copies, key=lambda m: m["received_at"])
        if item.subject not in f"{first.get('html', '')} {first.get('text', '')}":
            verdict.wrong_content.append(f"{item.node} -> {item.to}: no {item.subject!r}")
        cause = posted.get(item.cause)
        if cause is not None and cause.accepted_at is not None:
            received = datetime.fromisoformat(first["received_at"])
            verdict.latencies_s.append((received - cause.accepted_at).total_seconds())
    return verdict


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "p50": round(statistics.median(ordered), 3),
        "p99": round(p99, 3),
        "max": round(ordered[-1], 3),
    }
