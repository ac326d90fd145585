"""The registry of what developers write in Python: actions (``call`` nodes), audiences
(triggers that pick many customers, e.g. restock signups) and the domain events they emit.

Decorating a function only *declares* it (``@action("name", emits=[...])``); nothing is
registered on import. A ``Registry`` is built explicitly from modules
(``Registry.from_modules``; ``journeykit.service.registry_loader`` builds the project's one
from ``[tool.journeykit]`` in pyproject.toml) and handed to the engine through the ``Runtime``,
to ``journeys validate``, the simulator and the preview alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

ActionFn = Callable[..., dict[str, Any] | None]
AudienceFn = Callable[..., Iterable[Any]]  # a list, or a generator for a large audience

_DECLARATION = "__journeykit_declaration__"


class RegistryError(ValueError):
    """Two different functions declared under one name, or an unknown name asked for."""


@dataclass(frozen=True)
class ActionDeclaration:
    name: str
    fn: ActionFn
    emits: tuple[str, ...] = ()


@dataclass(frozen=True)
class AudienceDeclaration:
    name: str
    fn: AudienceFn
    emits: tuple[str, ...] = ()


@dataclass(frozen=True)
class EmittedEvents:
    """A flow module's declaration of the domain events it emits: ``EMITS = emits("x.y")``."""

    names: tuple[str, ...]


def action(name: str | None = None, *, emits: Iterable[str] = ()) -> Callable[[ActionFn], ActionFn]:
    """Declare a ``call`` action: ``fn(ctx: ActionContext, **params) -> dict | None``; the
    returned dict is merged into the enrollment's data. ``emits``: the event types it may
    ``ctx.emit``. The name defaults to the function's."""

    def decorate(fn: ActionFn) -> ActionFn:
        setattr(fn, _DECLARATION, ActionDeclaration(name or fn.__name__, fn, tuple(emits)))
        return fn

    return decorate


def audience(
    name: str | None = None, *, emits: Iterable[str] = ()
) -> Callable[[AudienceFn], AudienceFn]:
    """Declare an audience: ``fn(session, journey, event, now) -> Iterable[AudienceMember]``."""

    def decorate(fn: AudienceFn) -> AudienceFn:
        setattr(fn, _DECLARATION, AudienceDeclaration(name or fn.__name__, fn, tuple(emits)))
        return fn

    return decorate


def emits(*names: str) -> EmittedEvents:
    """Declare, at module level, the events a flow module emits (``EMITS = emits(...)``)."""
    return EmittedEvents(tuple(names))


@dataclass
class Registry:
    """Actions, audiences and declared events by name, each with the module declaring it."""

    actions: dict[str, ActionDeclaration] = field(default_factory=dict)
    audiences: dict[str, AudienceDeclaration] = field(default_factory=dict)
    events: dict[str, str] = field(default_factory=dict)  # event type -> declared by
    origins: dict[str, str] = field(default_factory=dict)  # "action:x" -> module name

    @classmethod
    def from_modules(cls, modules: Iterable[ModuleType]) -> Registry:
        registry = cls()
        for module in modules:
            registry.add_module(module)
        return registry

    def add_module(self, module: ModuleType) -> None:
        """Register everything ``module`` declares at its top level."""
        origin = module.__name__
        for value in list(vars(module).values()):
            if isinstance(value, EmittedEvents):
                self._add_events(value.names, origin)
                continue
            declaration = getattr(value, _DECLARATION, None) if callable(value) else None
            if isinstance(declaration, ActionDeclaration):
                self._add(self.actions, "action", declaration, origin)
            elif isinstance(declaration, AudienceDeclaration):
                self._add(self.audiences, "audience", declaration, origin)

    def _add(self, table: dict[str, Any], kind: str, declaration: Any, origin: str) -> None:
        known = table.get(declaration.name)
        if known is not None and known.fn is not declaration.fn:
            first = self.origins[f"{kind}:{declaration.name}"]
            raise RegistryError(
                f"{kind} {declaration.name!r} is declared twice: in {first} and in {origin}"
            )
        if known is None:
            table[declaration.name] = declaration
            self.origins[f"{kind}:{declaration.name}"] = origin
            self._add_events(declaration.emits, f"{origin} ({kind} {declaration.name})")

    def _add_events(self, names: Iterable[str], origin: str) -> None:
        for name in names:
            self.events.setdefault(name, origin)

    def get_action(self, name: str) -> ActionFn:
        try:
            return self.actions[name].fn
        except KeyError:
            raise RegistryError(f"no action named {name!r} is registered") from None

    def get_audience(self, name: str) -> AudienceFn:
        try:
            return self.audiences[name].fn
        except KeyError:
            raise RegistryError(f"no audience named {name!r} is registered") from None

    def action_names(self) -> set[str]:
        return set(self.actions)

    def audience_names(self) -> set[str]:
        return set(self.audiences)

    def declared_events(self) -> set[str]:
        """Event types the registered actions, audiences and flow modules say they emit."""
        return set(self.events)
