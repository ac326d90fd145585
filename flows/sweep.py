"""Prefect entry points shared by every journey: the scheduled sweep and the event handler."""

from journeykit.orchestration.flows import handle_event, sweep

__all__ = ["handle_event", "sweep"]
