"""Prefect entry point for journeys/restock.yaml: one sweep of that journey.
Register journey-specific Python actions here with `journeykit.engine.registry.action`."""

from journeykit.orchestration.flows import journey_flow

restock = journey_flow("restock")
