"""SQLModel tables, one module per concern. Importing this package registers every table."""

from journeykit.foundation.models._base import pk
from journeykit.foundation.models.actions import CustomerAction, Review, StoreCredit, SupportTicket
from journeykit.foundation.models.catalog import Product, RestockSignup, Variant
from journeykit.foundation.models.customers import Consent, Customer
from journeykit.foundation.models.inbox import InboxEvent
from journeykit.foundation.models.journeys import (
    DomainEvent,
    Enrollment,
    EnrollmentHistory,
    JourneyVersion,
)
from journeykit.foundation.models.messages import MessageEvent, OutboxMessage
from journeykit.foundation.models.orders import Cart, Order, OrderLine
from journeykit.foundation.models.web import ApiReceipt, ShortLink

__all__ = [
    "ApiReceipt",
    "Cart",
    "Consent",
    "Customer",
    "CustomerAction",
    "DomainEvent",
    "Enrollment",
    "EnrollmentHistory",
    "InboxEvent",
    "JourneyVersion",
    "MessageEvent",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "Product",
    "RestockSignup",
    "Review",
    "ShortLink",
    "StoreCredit",
    "SupportTicket",
    "Variant",
    "pk",
]
