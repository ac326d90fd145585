"""What a template or a branch condition can read, by journey subject.

The engine builds exactly these names (``engine/context.py``); ``journeys validate`` rejects a
template that uses a top-level name not listed here for its journey's subject."""

from __future__ import annotations

COMMON = frozenset(
    {
        "customer",  # first_name, email, phone, locale, timezone, country
        "store",  # name, url, support_email, support_phone, postal_address, timezone, ...
        "journey",  # name, settings
        "settings",  # the journey's settings (same as journey.settings)
        "enrollment",  # id, entered_at, data
        "event",  # the data of the event that enrolled or last woke the enrollment
        "links",  # links.<action>: signed action links for the send node's actions
        "replies",  # numbered SMS replies: [{number, action, label}]
        "offer",  # offer.expires_at (aware datetime) when the send node has offer_valid_for
        "unsubscribe_url",
        "preferences_url",
        "locale",
        "now",  # the clock's time, in the customer's zone
    }
)

BY_SUBJECT: dict[str, frozenset[str]] = {
    # order: number, status, placed_at, ship_from/ship_to, delivery_from/delivery_to,
    # tracking_number, carrier, total, delay_reason, delay_fix, delivered_at, tags, is_backorder,
    # url; lines: title, sku, qty, url; substitute: a relevant in-stock variant for the delayed
    # line (D4) or none; partial: {now: [titles], later: [titles]} or none; order_history:
    # {credit: {code, amount_cents} or none, slips: times the date moved}
    "order": frozenset(
        {"order", "lines", "product", "variant", "substitute", "partial", "order_history"}
    ),
    # variant: sku, title, price, inventory, url, cart_url; product: title, url, image_url,
    # category, days_to_use
    "sku": frozenset({"variant", "product"}),
    # cart: token, url, checkout_url, total; lines as for orders
    "cart": frozenset({"cart", "lines", "discount"}),
    "customer": frozenset(),
}


def provided_names(subject: str) -> frozenset[str]:
    """Top-level names a template of a journey with this subject may use."""
    return COMMON | BY_SUBJECT[subject]


# Names whose values depend on the journey's subject alone, never on one customer: what an
# allotment's ``max`` may read (the same answer for every customer of the subject).
SUBJECT_SHARED = frozenset({"store", "journey", "settings"}).union(*BY_SUBJECT.values())
