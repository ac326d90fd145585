"""Journeykit: customer journeys as code for e-commerce brands, run by Prefect."""

__version__ = "0.1.0"
