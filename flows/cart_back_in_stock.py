"""Prefect entry point for journeys/cart_back_in_stock.yaml: one sweep of that journey.
Register journey-specific Python actions here with `journeykit.engine.registry.action`."""

from journeykit.orchestration.flows import journey_flow

cart_back_in_stock = journey_flow("cart_back_in_stock")
