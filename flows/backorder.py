"""Prefect entry point for the `backorder` journey (journeys/backorder.yaml): a sweep of that journey.
Register journey-specific Python actions here with `journeykit.engine.registry.action`."""

from journeykit.orchestration.flows import journey_flow

backorder = journey_flow("backorder")
