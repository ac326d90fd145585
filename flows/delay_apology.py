"""Prefect entry point for journeys/delay_apology.yaml: one sweep of that journey.
Register journey-specific Python actions here with `journeykit.engine.registry.action`."""

from journeykit.orchestration.flows import journey_flow

delay_apology = journey_flow("delay_apology")
