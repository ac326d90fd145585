"""Personalised emails into shared SendGrid requests, with per-personalization substitutions.

Restock emails differ per customer only in a few places (the name, the unsubscribe and
tracked links), yet each used to need a request of its own, so the email floor was one request
per message. SendGrid replaces ``substitutions`` tags in the subject and content of each
personalization (at most 10,000 bytes of tags and values per personalization), so emails from
one template can share a request.

:func:`plan_requests` finds the shared shape without knowing the template: it diffs two rendered
messages token by token into constant segments and slots, then cuts every other message along
the same constants. A message is batched only if cutting it reproduces it exactly (by
construction: its values are the text between the constants) and its substitutions fit;
everything else goes alone. What the customer receives is byte for byte what was rendered.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from journeykit.delivery.providers.base import EmailMessage

FIELDS = ("subject", "html", "text")
MAX_SUBSTITUTION_BYTES = 10_000  # SendGrid's limit per personalization
MAX_SLOTS = 64  # more than this and the two messages hardly share anything
_TOKEN = re.compile(r"\w+|\s+|[^\w\s]")


@dataclass
class SharedRequest:
    """Messages (by index) that share one request: the content with tags, and each
    message's substitutions (empty when the content is identical)."""

    indexes: list[int]
    subject: str
    html: str
    text: str
    substitutions: list[dict[str, str]] = field(default_factory=list)


def _constants(a: str, b: str) -> list[str] | None:
    """The text ``a`` and ``b`` share, as constants around the slots where they differ
    (``[c0, c1, …, cn]`` for n slots); None if they differ in too many places. Lines are
    compared first and only differing lines token by token (a token diff of a whole 25 KB
    email costs seconds; of its few differing lines, microseconds)."""
    if a == b:
        return [a]
    constants: list[str] = []
    current: list[str] = []
    in_slot = False
    for part in _segments(a.splitlines(keepends=True), b.splitlines(keepends=True), fine=False):
        if part is None:
            if not in_slot:
                constants.append("".join(current))
                current, in_slot = [], True
        else:
            current.append(part)
            in_slot = False
    constants.append("".join(current))
    return constants if len(constants) - 1 <= MAX_SLOTS else None


def _segments(ta: list[str], tb: list[str], *, fine: bool) -> list[str | None]:
    """Shared text, with None where ``ta`` and ``tb`` differ; line blocks that differ are
    compared again token by token (``fine``)."""
    out: list[str | None] = []
    matcher = SequenceMatcher(None, ta, tb, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append("".join(ta[i1:i2]))
        elif fine:
            out.append(None)
        else:
            left, right = "".join(ta[i1:i2]), "".join(tb[j1:j2])
            out.extend(_segments(_TOKEN.findall(left), _TOKEN.findall(right), fine=True))
    return out


def _cut(text: str, constants: list[str]) -> list[str] | None:
    """The slot values that rebuild ``text`` around ``constants``, or None."""
    if len(constants) == 1:
        return [] if text == constants[0] else None
    first, last = constants[0], constants[-1]
    if not text.startswith(first) or len(text) < len(first) + len(last):
        return None
    end = len(text) - len(last)
    if not text.endswith(last):
        return None
    values: list[str] = []
    pos = len(first)
    for constant in constants[1:-1]:
        found = text.find(constant, pos, end)
        if found < 0:
            return None
        values.append(text[pos:found])
        pos = found + len(constant)
    values.append(text[pos:end])
    return values


@dataclass
class _Shape:
    constants: dict[str, list[str]]
    nonce: str
    tags: dict[str, list[str]] = field(init=False)  # each field's slot tags, made once

    def __post_init__(self) -> None:
        self.tags = {
            name: [self.tag(name, i) for i in range(len(parts) - 1)]
            for name, parts in self.constants.items()
        }

    def tag(self, name: str, i: int) -> str:
        return f"%jk{self.nonce}{name[0]}{i}%"

    def content(self, name: str) -> str:
        parts = self.constants[name]
        out = [parts[0]]
        for i, constant in enumerate(parts[1:]):
            out += [self.tag(name, i), constant]
        return "".join(out)

    def substitutions(self, m: EmailMessage) -> dict[str, str] | None:
        subs: dict[str, str] = {}
        for name in FIELDS:
            values = _cut(getattr(m, name), self.constants[name])
            if values is None:
                return None
            subs.update(zip(self.tags[name], values, strict=True))
        size = sum(len(k.encode()) + len(v.encode()) for k, v in subs.items())
        if size > MAX_SUBSTITUTION_BYTES or any("%jk" + self.nonce in v for v in subs.values()):
            return None
        return subs


def _shape(a: EmailMessage, b: EmailMessage) -> _Shape | None:
    constants: dict[str, list[str]] = {}
    for name in FIELDS:
        found = _constants(getattr(a, name), getattr(b, name))
        if found is None:
            return None
        constants[name] = found
    nonce = secrets.token_hex(3)
    if any(f"%jk{nonce}" in part for parts in constants.values() for part in parts):
        return None
    return _Shape(constants, nonce)


def plan_requests(messages: Sequence[EmailMessage], max_batch: int) -> list[SharedRequest]:
    """Requests for ``messages``: shared where their content allows, alone otherwise. Every
    index appears in exactly one request, in input order within it."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, m in enumerate(messages):
        groups.setdefault(m.categories, []).append(i)
    requests: list[SharedRequest] = []
    for pending in groups.values():
        while pending:
            batch, pending = _next_batch(messages, pending)
            for start in range(0, len(batch.indexes), max_batch):
                part = slice(start, start + max_batch)
                requests.append(
                    SharedRequest(
                        batch.indexes[part], batch.subject, batch.html, batch.text,
                        batch.substitutions[part],
                    )
                )  # fmt: skip
    return requests


def _alone(messages: Sequence[EmailMessage], i: int) -> SharedRequest:
    m = messages[i]
    return SharedRequest([i], m.subject, m.html, m.text, [{}])


def _next_batch(
    messages: Sequence[EmailMessage], pending: list[int]
) -> tuple[SharedRequest, list[int]]:
    """The largest request the first two pending messages' shape allows, and what is left."""
    first = pending[0]
    if len(pending) == 1:
        return _alone(messages, first), []
    shape = _shape(messages[first], messages[pending[1]])
    if shape is None:
        return _alone(messages, first), pending[1:]
    taken: list[int] = []
    subs: list[dict[str, str]] = []
    rest: list[int] = []
    for i in pending:
        found = shape.substitutions(messages[i])
        if found is None:
            rest.append(i)
        else:
            taken.append(i)
            subs.append(found)
    if first not in taken:
        return _alone(messages, first), pending[1:]
    if not any(subs):  # identical content: no tags needed
        m = messages[first]
        return SharedRequest(taken, m.subject, m.html, m.text, subs), rest
    return (
        SharedRequest(
            taken, shape.content("subject"), shape.content("html"), shape.content("text"), subs
        ),
        rest,
    )
