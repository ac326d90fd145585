"""Actions and audiences every journey can use, registered on import. Each writes only
through the step's session, so it commits (or not) with the step. One module per concern
under ``journeykit/actions/``."""

from __future__ import annotations

from journeykit.actions import orders, restock, reviews, stock_arrived

__all__ = ["orders", "restock", "reviews", "stock_arrived"]
