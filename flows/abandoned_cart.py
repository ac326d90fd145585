"""Prefect entry point for journeys/abandoned_cart.yaml: one sweep of that journey.
Register journey-specific Python actions here with `journeykit.engine.registry.action`."""

from journeykit.orchestration.flows import journey_flow

abandoned_cart = journey_flow("abandoned_cart")
