"""Which of an email template's names hold the recipient's own values (their name, their
signed links), and whether the template only prints them or tests them for truth.

When it does, the email's shape — everything but those values — is the same for every
recipient of a send group, so it can be rendered (and its CSS inlined, its text part made)
once, with the values as slots (``TemplateRenderer.render_email(reuse_shape=True)``). A
template that does anything else with them (a filter, a comparison, a ``set``, a call, an
include or a macro that could) gets no plan and is rendered per message.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, meta, nodes

# Names whose value is the recipient's own: printed as they are, so they can be slots.
SLOT_NAMES = frozenset({"unsubscribe_url", "preferences_url"})
# Objects whose attributes are the recipient's own (``customer.first_name``, ``links.buy``).
SLOT_OBJECTS = frozenset({"customer", "links"})

Slot = tuple[str, str | None]  # ("unsubscribe_url", None) or ("customer", "first_name")

# Constructs whose effect on a value a plan cannot follow: no plan for such a template.
_OPAQUE = (
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.Macro,
    nodes.CallBlock,
    nodes.FilterBlock,
    nodes.AssignBlock,
    nodes.With,
    nodes.Scope,
    nodes.EvalContextModifier,
    nodes.ScopedEvalContextModifier,
)

# A value printed through every step of an email (autoescape, CSS inlining's re-serialising,
# the text part's whitespace folding and entity decoding) unchanged: no markup or entity
# characters, no whitespace but single inner spaces, no control characters or surrogates.
_PLAIN = r"[^\s&<>\"';\\\x00-\x1f\x7f\ud800-\udfff]"
_SAFE_VALUE = re.compile(rf"{_PLAIN}+(?: {_PLAIN}+)*")
MAX_SLOT_VALUE = 2048


@dataclass(frozen=True)
class SlotPlan:
    slots: tuple[Slot, ...]  # the recipient's values the template reads
    keyed: tuple[str, ...]  # every other name it reads: a shape's key
    layouts: tuple[str, ...] = ()  # the templates it extends, nearest first


def slot_plan(env: Environment, name: str) -> SlotPlan | None:
    """The plan for template ``name`` and the layouts it extends, or None when it uses a
    recipient's value other than by printing or testing it."""
    slots: set[Slot] = set()
    keyed: set[str] = set()
    seen: set[str] = set()
    chain: list[str] = []
    current: str | None = name
    while current is not None:
        if current in seen or env.loader is None:
            return None
        seen.add(current)
        chain.append(current)
        source = env.loader.get_source(env, current)[0]
        tree = env.parse(source)
        found = _slots_in(tree)
        if found is None:
            return None
        slots |= found
        keyed |= meta.find_undeclared_variables(tree) - SLOT_NAMES - SLOT_OBJECTS
        current = _parent(tree)
        if current == "":
            return None  # extends a computed name
    return SlotPlan(tuple(sorted(slots, key=str)), tuple(sorted(keyed)), tuple(chain[1:]))


def _parent(tree: nodes.Template) -> str | None:
    extends = list(tree.find_all(nodes.Extends))
    if not extends:
        return None
    target = extends[0].template
    if len(extends) > 1 or not isinstance(target, nodes.Const) or not isinstance(target.value, str):
        return ""
    return target.value


def _slots_in(tree: nodes.Template) -> set[Slot] | None:
    parents: dict[int, nodes.Node] = {}
    every: list[nodes.Node] = []
    stack: list[nodes.Node] = [tree]
    while stack:
        node = stack.pop()
        every.append(node)
        for child in node.iter_child_nodes():
            parents[id(child)] = node
            stack.append(child)
    slots: set[Slot] = set()
    for node in every:
        if isinstance(node, _OPAQUE):
            return None
        if isinstance(node, nodes.Name) and node.name in ("self", "super"):
            call = node if node.name == "super" else parents.get(id(node))
            call = parents.get(id(call)) if call is not None else None
            if not isinstance(call, nodes.Call) or not isinstance(
                parents.get(id(call)), nodes.Output
            ):
                return None  # a block's output used as a value (filtered, compared)
        if not isinstance(node, nodes.Name) or node.name not in SLOT_NAMES | SLOT_OBJECTS:
            continue
        if node.ctx != "load":
            return None  # assigned, a loop target or a parameter
        reference: nodes.Node = node
        slot: Slot = (node.name, None)
        if node.name in SLOT_OBJECTS:
            parent = parents.get(id(node))
            if (
                not isinstance(parent, nodes.Getattr)
                or parent.node is not node
                or hasattr(dict, parent.attr)
            ):
                return None  # the object itself, an item, a method
            reference, slot = parent, (node.name, parent.attr)
        if not _printed_or_tested(reference, parents):
            return None
        slots.add(slot)
    return slots


def _printed_or_tested(reference: nodes.Node, parents: dict[int, nodes.Node]) -> bool:
    """Whether the value at ``reference`` only reaches the output as it is (through ``~``,
    a branch of ``x if c else y``, ``and``/``or``) or is only tested (``if``, ``is
    defined``, ``not``): then a slot holding any other plain value renders the same."""
    child = reference
    while True:
        parent = parents.get(id(child))
        if isinstance(parent, nodes.Output):
            return True
        if isinstance(parent, nodes.CondExpr | nodes.If) and parent.test is child:
            return True  # only its truth is read: every slotted value is non-empty
        if isinstance(parent, nodes.Test) and parent.node is child:
            return parent.name in ("defined", "undefined")
        if isinstance(parent, nodes.Not):
            return True
        if isinstance(parent, nodes.Concat | nodes.And | nodes.Or):
            child = parent
            continue
        if isinstance(parent, nodes.CondExpr) and child in (parent.expr1, parent.expr2):
            child = parent
            continue
        return False


def slot_value(values: dict[str, Any], slot: Slot) -> str | None:
    """The recipient's value for ``slot`` when it can fill a slot (a plain, non-empty
    string, not a link target read specially), else None."""
    name, attribute = slot
    value = values.get(name)
    if attribute is not None:
        if not isinstance(value, dict) or attribute not in value:
            return None
        value = value[attribute]
    if not isinstance(value, str) or not value or len(value) > MAX_SLOT_VALUE:
        return None
    if value.startswith("#") or value[:7].lower() == "mailto:":
        return None  # the text part writes such link targets differently
    return value if _SAFE_VALUE.fullmatch(value) else None


class Unfreezable(Exception):
    """A template value a shape's key cannot hold: render the message directly."""


def shape_key(values: dict[str, Any], plan: SlotPlan) -> tuple[tuple[bool, ...], bytes]:
    """What a shape depends on besides its slots: which of the other names are given, and
    their values pickled (native code: types kept, so ``1``, ``1.0`` and ``True`` differ,
    a datetime with its zone, an object with its state). ``Unfreezable`` when a value does
    not pickle."""
    given = tuple(name in values for name in plan.keyed)
    try:
        state = pickle.dumps([values[n] for n in plan.keyed if n in values], protocol=5)
    except Exception as exc:
        raise Unfreezable(str(exc)) from exc
    return given, state
