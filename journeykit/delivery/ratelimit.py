"""Provider throughput limits, enforced across every worker by Prefect global concurrency
limits used as rate limits (a limit with ``slot_decay_per_second``: each send takes a slot
and slots free up at that rate), never by in-process sleeps.

One limit per provider and sender:

- ``journeykit-sms-<from>``: SMS per second for one sending number or Messaging Service
  (``sms_per_second``, or ``sms_per_second_by_sender[<from>]``);
- ``journeykit-email-sendgrid``: SendGrid mail-send requests per second
  (``email_requests_per_second``; a batch of up to 1,000 personalizations is one request).

``ensure_rate_limits(settings)`` creates or updates them (idempotent: ``journeys deploy`` and
the worker call it). ``limiter_for(settings)`` is the ``Senders.before_send`` hook, or None
when no Prefect API is configured (the in-process simulator and tests run unlimited).
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from journeykit.foundation.settings import Settings

log = logging.getLogger(__name__)
PREFIX = "journeykit"
CHUNK_SECONDS = 0.25  # slots taken per server round trip: a quarter second's worth
RETRY_SECONDS = 1.0  # a slot's next try when the Prefect API cannot be reached


@dataclass(frozen=True)
class RateLimit:
    name: str
    per_second: float

    @property
    def limit(self) -> int:
        """Slots: about one second's worth, so a burst never exceeds a second's allowance."""
        return max(1, math.floor(self.per_second))

    @property
    def slot_decay_per_second(self) -> float:
        return float(self.per_second)


def _slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", value).strip("_") or "default"


def sms_limit(settings: Settings, sender: str | None = None) -> RateLimit:
    sender = sender or settings.sending.sms_from
    rate = settings.sending.sms_per_second_by_sender.get(sender, settings.sending.sms_per_second)
    return RateLimit(f"{PREFIX}-sms-{_slug(sender)}", rate)


def email_limit(settings: Settings) -> RateLimit:
    return RateLimit(f"{PREFIX}-email-sendgrid", settings.sending.email_requests_per_second)


def rate_limits(settings: Settings) -> list[RateLimit]:
    """Every limit the senders in ``settings`` use."""
    senders = dict.fromkeys([settings.sending.sms_from, *settings.sending.sms_per_second_by_sender])
    return [email_limit(settings), *(sms_limit(settings, s) for s in senders)]


def prefect_api_configured() -> bool:
    """Whether a Prefect API URL is set (a server or Prefect Cloud; not the in-process
    ephemeral mode, where a limit would stop nothing beyond this process)."""
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def ensure_rate_limits(settings: Settings, client: Any = None) -> list[RateLimit]:
    """Create or update the limits (active, with their slot decay); idempotent."""
    from prefect.client.orchestration import get_client

    limits = rate_limits(settings)
    if client is None:
        with get_client(sync_client=True) as own:
            return ensure_rate_limits(settings, own)
    for rl in limits:
        _upsert(client, rl)
        _activate(client, rl.name)
    return limits


def _upsert(client: Any, rl: RateLimit) -> None:
    """Prefect's upsert reads, then creates: when another worker creates the limit in
    between (workers starting together), the create answers ObjectAlreadyExists, and the
    second upsert finds the limit and updates it."""
    from prefect.exceptions import ObjectAlreadyExists

    for attempt in range(3):
        try:
            client.upsert_global_concurrency_limit_by_name(
                rl.name, rl.limit, slot_decay_per_second=rl.slot_decay_per_second
            )
            return
        except ObjectAlreadyExists:
            if attempt == 2:
                raise


def _activate(client: Any, name: str) -> None:
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    existing = client.read_global_concurrency_limit_by_name(name)
    if not existing.active:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active=True))


class SlotPool:
    """Slots of one limit, taken from the Prefect server ``chunk`` at a time (one round trip
    per chunk instead of per message: Prefect serialises a process's acquisitions) and handed
    out one per request. Unused slots simply decay on the server.

    A server that cannot be reached (restarting: ~10 s) is waited for, up to the same
    ``timeout_s``, trying again every ``RETRY_SECONDS``: nothing has been sent when a slot
    cannot be taken, and a message sent only once the limit allows it is still on time; it
    used to fail the request, leaving its row ``sending`` until the reconcile window."""

    def __init__(
        self,
        limit: RateLimit,
        timeout_s: float,
        take: Callable[..., None],
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = limit.name
        self.chunk = max(1, min(limit.limit, round(limit.per_second * CHUNK_SECONDS)))
        self.timeout_s = timeout_s
        self._take = take
        self._sleep = sleep
        self._monotonic = monotonic
        self._left = 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if self._left == 0:
                self._take_chunk()
                self._left = self.chunk
            self._left -= 1

    def _take_chunk(self) -> None:
        deadline = self._monotonic() + self.timeout_s
        while True:
            try:
                self._take(
                    self.name, occupy=self.chunk, timeout_seconds=self.timeout_s, strict=True
                )
                return
            except Exception as exc:  # the server is away: wait for it; anything else fails
                if not _server_away(exc) or self._monotonic() + RETRY_SECONDS > deadline:
                    raise
                log.warning("rate limit %s: Prefect API away (%s), trying again", self.name, exc)
                self._sleep(RETRY_SECONDS)


def _server_away(exc: BaseException) -> bool:
    """Whether ``exc`` is, or was caused by, a connection that failed (Prefect wraps the
    client's ``ConnectError`` in its ``ConcurrencySlotAcquisitionError``)."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, httpx.TransportError | OSError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def limiter_for(settings: Settings) -> Callable[[str], None] | None:
    """``before_send(channel)``: take one slot of that channel's limit (waiting as long as it
    takes, up to ``rate_limit_timeout_s``); None when no Prefect API is configured."""
    if not prefect_api_configured():
        return None
    from prefect.concurrency.sync import rate_limit

    timeout = settings.sending.rate_limit_timeout_seconds
    pools = {
        "sms": SlotPool(sms_limit(settings), timeout, rate_limit),
        "email": SlotPool(email_limit(settings), timeout, rate_limit),
    }

    def before_send(channel: str) -> None:
        pools[channel]()

    return before_send
