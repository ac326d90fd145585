"""Handlers for nodes that only decide where to go: branch, split, exit."""

from __future__ import annotations

import hashlib

from journeykit.engine.nodes.base import Step, StepContext
from journeykit.engine.nodes.conditions import names_in
from journeykit.language.nodes import BranchNode, ExitNode, SplitNode

__all__ = ["handle_branch", "handle_exit", "handle_split", "names_in", "split_bucket"]


def handle_branch(ctx: StepContext) -> Step:
    node = ctx.node
    assert isinstance(node, BranchNode)
    for index, branch in enumerate(node.branches):
        if ctx.holds(branch.when, names_in(branch.when)):
            return Step.goto(branch.next, detail={"branch": index, "when": branch.when})
    return Step.goto(node.otherwise, detail={"branch": "otherwise"})


def split_bucket(journey: str, node_id: str, subject_key: str, total: int) -> int:
    """A stable bucket in [0, total): the same subject always lands in the same variant."""
    digest = hashlib.sha256(f"{journey}:{node_id}:{subject_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % total


def handle_split(ctx: StepContext) -> Step:
    node = ctx.node
    assert isinstance(node, SplitNode)
    bucket = split_bucket(
        ctx.journey.name, node.id, ctx.enrollment.subject_key, sum(v.weight for v in node.variants)
    )
    for variant in node.variants:
        if bucket < variant.weight:
            variants = {**ctx.enrollment.data.get("variants", {}), node.id: variant.name}
            return Step.goto(
                variant.next, data={"variants": variants}, detail={"variant": variant.name}
            )
        bucket -= variant.weight
    raise AssertionError("unreachable: bucket beyond total weight")


def handle_exit(ctx: StepContext) -> Step:
    node = ctx.node
    assert isinstance(node, ExitNode)
    return Step("exit", reason=node.reason)
