"""Who may sign up for a back-in-stock alert, and how often (issue 16): a per-address and a
per-client rate limit (the ``limits`` library; its storage is a URI setting: ``memory://``
for one process, ``redis://...`` when several workers share the limits), and an allow-list
of the shop origins whose pages may post the widget's form."""

from __future__ import annotations

from urllib.parse import urlsplit

from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from journeykit.foundation.settings import Settings


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, lower-cased ("" when it has none)."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def allowed_origins(settings: Settings) -> frozenset[str]:
    """The store's own site, this app (the demo page), and ``web.shop_origins``."""
    urls = [settings.store.url, settings.web.public_base_url, *settings.web.shop_origins]
    return frozenset(o for o in (origin_of(u) for u in urls) if o)


class SignupLimits:
    """``check(addresses, client)``: None when allowed (and counted), else which limit was
    hit: ``"client"``, or the address over its limit."""

    def __init__(self, settings: Settings) -> None:
        web = settings.web
        self.storage = storage_from_string(web.rate_limit_storage)
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.per_address: RateLimitItem = parse(web.signups_per_address)
        self.per_client: RateLimitItem = parse(web.signups_per_client)

    def check(self, addresses: list[str], client: str) -> str | None:
        if not self.limiter.hit(self.per_client, "restock-client", client):
            return "client"
        for address in addresses:
            if not self.limiter.hit(self.per_address, "restock-address", address.lower()):
                return address
        return None

    def retry_after_seconds(self, hit: str) -> int:
        return int((self.per_client if hit == "client" else self.per_address).get_expiry())
