"""Products, variants with inventory, and back-in-stock signups."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class Product(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    handle: str = Field(unique=True, index=True)
    title: str
    category: str = "general"
    url: str = ""
    image_url: str = ""
    days_to_use: int = Field(default=14, description="time to use before a review is asked")


class Variant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(unique=True, index=True)
    product_id: int = Field(foreign_key="product.id", index=True)
    title: str = ""
    price_cents: int = 0
    currency: str = "USD"
    inventory: int = 0
    backorderable: bool = False
    shopify_inventory_item_id: str | None = Field(
        default=None,
        unique=True,
        index=True,
        description="Shopify's inventory item (inventory_levels/update names it, not the SKU)",
    )


class RestockSignup(SQLModel, table=True):
    """A shopper asked to be told when a variant is back (R1), on one channel."""

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    variant_id: int = Field(foreign_key="variant.id", index=True)
    channel: str = Field(description="email | sms")
    consent_wording: str = ""
    source: str = "widget"
    created_at: datetime = Field(index=True)
    status: str = Field(default="waiting", index=True, description="waiting|alerted|expired|bought")
    alerted_at: datetime | None = None
