"""Every event a journey names (``trigger.event``, ``exit_when``, ``wait_for`` outcomes) is in
the event catalog: the built-in types and those actions and flows declare they emit."""

from __future__ import annotations

from collections.abc import Collection, Hashable

from journeykit.language.errors import SpecError, suggestion
from journeykit.language.loading import LoadedJourney
from journeykit.language.nodes import WaitForNode


def event_errors(loaded: LoadedJourney, known_events: Collection[str]) -> list[SpecError]:
    journey = loaded.journey
    named: list[tuple[tuple[Hashable, ...], str, str]] = [
        (("trigger", "event"), journey.trigger.event, "the trigger's event"),
    ]
    named += [(("exit_when", i), name, "exit_when") for i, name in enumerate(journey.exit_when)]
    for i, node in enumerate(journey.nodes):
        if isinstance(node, WaitForNode):
            for j, outcome in enumerate(node.outcomes):
                if outcome.event is not None:
                    where = f"outcome {j + 1} of wait_for node '{node.id}'"
                    named.append((("nodes", i, "outcomes", j, "event"), outcome.event, where))
    errors = []
    hint = (
        "events are the built-in types or ones an action or flow declares it emits "
        "(@action(..., emits=[...])); `journeys emit --help` lists the built-in types"
    )
    for path, name, where in named:
        if name not in known_events:
            message = f"{where} names '{name}', which is not a known event"
            errors.append(loaded.error(path, message + suggestion(name, known_events), hint))
    return errors
