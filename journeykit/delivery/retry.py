"""When to try a send again: only what surely did not reach the provider (HTTP 429, 5xx,
connection refused), after a jittered exponential backoff that never undercuts the provider's
own hint (``Retry-After``, or SendGrid's ``X-RateLimit-Reset`` turned into seconds)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from journeykit.delivery.providers.base import SendResult

BASE_S = 1.0
# How the senders word "the provider could not be reached, nothing was sent".
UNREACHABLE_ERRORS = ("connection failed", "connect timeout")


def unreachable(result: SendResult) -> bool:
    """The provider was down or refused the connection: no HTTP answer at all."""
    return result.error_code is None and (result.error or "").startswith(UNREACHABLE_ERRORS)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    max_backoff_s: float = 600.0
    hint_jitter: float = 0.2  # up to +20 % on top of the provider's hint: no thundering herd

    def should_retry(self, result: SendResult, attempts: int) -> bool:
        """A ``retry`` outcome with attempts left. ``permanent`` and ``ambiguous`` never are
        (an ambiguous send is reconciled first). A provider that could not be reached at all
        (no answer code: down, refused) is an outage, not a verdict on the message: it never
        uses up attempts — the row waits (backoff capped at ``max_backoff_s``) until the
        provider is back or its validity runs out (then it is marked expired)."""
        if result.outcome != "retry":
            return False
        return unreachable(result) or attempts < self.max_attempts

    def backoff(
        self, attempts: int, retry_after_s: float | None, rng: random.Random | None = None
    ) -> timedelta:
        """The wait before attempt ``attempts + 1``.

        With a provider hint: at least the hint, plus up to ``hint_jitter`` of it and up to a
        second (spreads the workers that were all told the same instant). Without: "full
        jitter" exponential, ``BASE_S + uniform(0, 2**attempts)``, capped at ``max_backoff_s``.
        """
        draw = (rng or random).uniform
        if retry_after_s is not None:
            hint = max(0.0, retry_after_s)
            return timedelta(seconds=max(BASE_S, hint) + draw(0, hint * self.hint_jitter + 1.0))
        ceiling = min(self.max_backoff_s, 2.0 ** min(max(attempts, 0), 20))
        return timedelta(seconds=min(self.max_backoff_s, BASE_S + draw(0, ceiling)))


def backoff(attempts: int, retry_after_s: float | None) -> timedelta:
    """The default policy's backoff (kept for callers of the old ``outbox.backoff``)."""
    return RetryPolicy().backoff(attempts, retry_after_s)
