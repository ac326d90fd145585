"""SQLModel tables, one module per concern. Importing this package registers every table."""

from journeykit.models._base import pk
from journeykit.models.actions import CustomerAction, Review, StoreCredit, SupportTicket
from journeykit.models.catalog import Product, RestockSignup, Variant
from journeykit.models.customers import Consent, Customer
from journeykit.models.journeys import DomainEvent, Enrollment, EnrollmentHistory, JourneyVersion
from journeykit.models.messages import MessageEvent, OutboxMessage
from journeykit.models.orders import Cart, Order, OrderLine
from journeykit.models.web import ApiReceipt, ShortLink

__all__ = [
    "ApiReceipt",
    "Cart",
    "Consent",
    "Customer",
    "CustomerAction",
    "DomainEvent",
    "Enrollment",
    "EnrollmentHistory",
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
