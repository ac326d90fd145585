"""Attribution: which journey message earned which order, what counts as a conversion, and
what the restock, delay-apology and backorder journeys achieved. One definition for every
report, page and artifact (docs/reports.md, "Attribution")."""

from journeykit.reports.attribution.conversions import PURCHASE_EXITS, converted_enrollments
from journeykit.reports.attribution.orders import (
    Attribution,
    Touch,
    Windows,
    arms_of,
    attribute_orders,
)
from journeykit.reports.attribution.outcomes import (
    ApologyOutcome,
    BackorderOutcome,
    RestockOutcome,
    apology_outcome,
    backorder_outcome,
    restock_outcome,
)

__all__ = [
    "PURCHASE_EXITS",
    "ApologyOutcome",
    "Attribution",
    "BackorderOutcome",
    "RestockOutcome",
    "Touch",
    "Windows",
    "apology_outcome",
    "arms_of",
    "attribute_orders",
    "backorder_outcome",
    "converted_enrollments",
    "restock_outcome",
]
