"""R4: out-of-stock demand. Which variants shoppers ask for most (restock sign-ups still
waiting for an alert), what that demand is worth (shoppers waiting x price: the revenue
waiting), and how many new sign-ups arrive per day, so the merchant restocks the most
valuable first."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from journeykit.foundation.models import Product, RestockSignup, Variant

WAITING = ("waiting", "queued")


@dataclass
class DemandRow:
    sku: str
    product: str
    variant: str
    inventory: int
    shoppers: int  # distinct customers waiting
    email: int  # sign-ups by channel
    sms: int
    oldest: datetime
    newest: datetime
    price_cents: int = 0
    currency: str = "USD"

    @property
    def waiting_cents(self) -> int:
        """Revenue waiting: one purchase per shopper waiting, at today's price."""
        return self.shoppers * self.price_cents


@dataclass
class DemandReport:
    rows: list[DemandRow] = field(default_factory=list)
    shoppers: int = 0  # distinct customers waiting for any out-of-stock variant
    signups: int = 0
    email: int = 0
    sms: int = 0
    variants: int = 0  # variants with demand (before --top)
    waiting_cents: dict[str, int] = field(default_factory=dict)  # per currency, all variants
    per_day: dict[date, int] = field(default_factory=dict)  # new sign-ups (shopper, variant)

    def by_value(self) -> list[DemandRow]:
        """The rows per currency, most revenue waiting first (amounts in different
        currencies are not compared)."""
        return sorted(self.rows, key=lambda r: (r.currency, -r.waiting_cents, r.sku))

    def as_json(self) -> dict[str, Any]:
        return {
            "totals": {
                "variants": self.variants,
                "shoppers": self.shoppers,
                "signups": self.signups,
                "channels": {"email": self.email, "sms": self.sms},
                "waiting_cents": self.waiting_cents,
            },
            "variants": [
                {
                    **asdict(r),
                    "oldest": r.oldest.isoformat(),
                    "newest": r.newest.isoformat(),
                    "waiting_cents": r.waiting_cents,
                }
                for r in self.rows
            ],
            "signups_per_day": {d.isoformat(): n for d, n in sorted(self.per_day.items())},
        }


def demand_report(session: Session, *, top: int | None = None) -> DemandReport:
    """Variants with back-in-stock sign-ups still waiting for an alert (sold out, or restocked
    too little to alert anyone yet), most-requested first (distinct shoppers, then the
    longest wait)."""
    rows = session.exec(
        select(RestockSignup, Variant, Product)
        .join(Variant, col(Variant.id) == RestockSignup.variant_id)
        .join(Product, col(Product.id) == Variant.product_id)
        .where(col(RestockSignup.status).in_(WAITING))
    ).all()
    by_sku: dict[str, DemandRow] = {}
    customers: dict[str, set[int]] = {}
    report = DemandReport()
    everyone: set[int] = set()
    for signup, variant, product in rows:
        row = by_sku.get(variant.sku)
        if row is None:
            row = by_sku[variant.sku] = DemandRow(
                variant.sku,
                product.title,
                variant.title,
                variant.inventory,
                0,
                0,
                0,
                signup.created_at,
                signup.created_at,
                variant.price_cents,
                variant.currency,
            )
        customers.setdefault(variant.sku, set()).add(signup.customer_id)
        everyone.add(signup.customer_id)
        row.oldest, row.newest = (
            min(row.oldest, signup.created_at),
            max(row.newest, signup.created_at),
        )
        if signup.channel == "sms":
            row.sms += 1
        else:
            row.email += 1
    for sku, row in by_sku.items():
        row.shoppers = len(customers[sku])
    ranked = sorted(by_sku.values(), key=lambda r: (-r.shoppers, r.oldest, r.sku))
    report.variants = len(ranked)
    report.rows = ranked[:top] if top else ranked
    report.shoppers = len(everyone)
    report.email = sum(r.email for r in ranked)
    report.sms = sum(r.sms for r in ranked)
    report.signups = report.email + report.sms
    for row in ranked:
        report.waiting_cents[row.currency] = (
            report.waiting_cents.get(row.currency, 0) + row.waiting_cents
        )
    report.per_day = signups_per_day(session)
    return report


def signups_per_day(session: Session) -> dict[date, int]:
    """New demand per day: distinct (shopper, variant) sign-ups by the day they signed up
    (UTC), whatever became of them since."""
    first: dict[tuple[int, int], datetime] = {}
    for customer, variant, at in session.exec(
        select(RestockSignup.customer_id, RestockSignup.variant_id, RestockSignup.created_at)
    ).all():
        key = (customer, variant)
        first[key] = min(first.get(key, at), at)
    days: dict[date, int] = {}
    for at in first.values():
        days[at.date()] = days.get(at.date(), 0) + 1
    return dict(sorted(days.items()))
