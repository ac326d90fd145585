"""Prefect entry point for journeys/review_request.yaml: one sweep of that journey.
Register journey-specific Python actions here with `journeykit.engine.registry.action`."""

from journeykit.orchestration.flows import journey_flow

review_request = journey_flow("review_request")
