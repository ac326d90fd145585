"""Prefect entry point for the `review_request` journey (journeys/review_request.yaml): a sweep of that journey.
Register journey-specific Python actions here with `journeykit.engine.registry.action`."""

from journeykit.orchestration.flows import journey_flow

review_request = journey_flow("review_request")
