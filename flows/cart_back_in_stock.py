"""Prefect entry point for journeys/cart_back_in_stock.yaml: one sweep of that journey.
Declare journey-specific actions here with `journeykit.engine.registry.action` (this file is
one of `[tool.journeykit] flow_modules`, so validate, the simulator and the worker know them)."""

from journeykit.orchestration.flows import journey_flow

cart_back_in_stock = journey_flow("cart_back_in_stock")
