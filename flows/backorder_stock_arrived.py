"""Prefect entry point for journeys/backorder_stock_arrived.yaml: one sweep of that journey.
Register journey-specific Python actions here with `journeykit.engine.registry.action`."""

from journeykit.orchestration.flows import journey_flow

backorder_stock_arrived = journey_flow("backorder_stock_arrived")
