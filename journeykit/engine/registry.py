"""Registries developers extend from ``flows/``: Python actions (``call`` nodes) and
audiences (triggers that pick many customers, e.g. restock signups)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ActionFn = Callable[..., dict[str, Any] | None]
AudienceFn = Callable[..., list[Any]]

_ACTIONS: dict[str, ActionFn] = {}
_AUDIENCES: dict[str, AudienceFn] = {}


def action(name: str) -> Callable[[ActionFn], ActionFn]:
    """Register a ``call`` action: ``fn(ctx: ActionContext, **params) -> dict | None``; the
    returned dict is merged into the enrollment's data."""

    def decorate(fn: ActionFn) -> ActionFn:
        _ACTIONS[name] = fn
        return fn

    return decorate


def audience(name: str) -> Callable[[AudienceFn], AudienceFn]:
    """Register an audience: ``fn(session, journey, event, now) -> list[AudienceMember]``."""

    def decorate(fn: AudienceFn) -> AudienceFn:
        _AUDIENCES[name] = fn
        return fn

    return decorate


def get_action(name: str) -> ActionFn:
    _load_builtins()
    try:
        return _ACTIONS[name]
    except KeyError:
        raise KeyError(f"no action named {name!r} is registered") from None


def get_audience(name: str) -> AudienceFn:
    _load_builtins()
    try:
        return _AUDIENCES[name]
    except KeyError:
        raise KeyError(f"no audience named {name!r} is registered") from None


def known_action_names() -> set[str]:
    _load_builtins()
    return set(_ACTIONS)


def known_audience_names() -> set[str]:
    _load_builtins()
    return set(_AUDIENCES)


def _load_builtins() -> None:
    import journeykit.actions.builtin  # noqa: F401  (registers on import)
