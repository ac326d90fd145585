"""Injected provider misbehaviour: rate limits, server errors, timeouts and latency."""

from __future__ import annotations

import random
import threading
from typing import Literal

from pydantic import BaseModel, Field

Fault = Literal["ok", "429", "500", "timeout"]
ProviderName = Literal["twilio", "sendgrid"]


def _both() -> list[ProviderName]:
    return ["twilio", "sendgrid"]


class FaultConfig(BaseModel):
    """What share of send requests fail and how, and how slow answers are.

    Shares are probabilities in [0, 1] drawn from one seeded generator, so a run with the same
    seed and the same request order fails the same way. ``script`` lists faults for the next
    send requests, one each, before any share is drawn (handy in tests). A ``timeout`` means
    the sandbox accepts and stores the message, then waits ``timeout_delay_s`` before answering.
    Faults apply only to sends (``POST`` Messages / mail send), never to reads. A share
    ``rate_slow`` of sends (drawn independently of the fault) waits ``slow_ms`` more before it
    is handled: slow but successful, unless the client gives up first.
    """

    latency_ms: float = Field(0.0, ge=0)
    rate_slow: float = Field(0.0, ge=0, le=1, description="share of sends answered slowly")
    slow_ms: float = Field(2000.0, ge=0, description="extra delay of a slow answer")
    rate_429: float = Field(0.0, ge=0, le=1)
    rate_500: float = Field(0.0, ge=0, le=1)
    rate_timeout: float = Field(0.0, ge=0, le=1)
    retry_after_s: int = Field(1, ge=0)
    timeout_delay_s: float = Field(30.0, ge=0)
    seed: int | None = None
    providers: list[ProviderName] = Field(default_factory=_both)
    script: list[Fault] = Field(default_factory=list)


class FaultInjector:
    """Holds the live ``FaultConfig`` and draws a fault for each send request (thread-safe)."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._script: list[Fault] = list(self._config.script)
        self._rng = random.Random(self._config.seed)

    @property
    def config(self) -> FaultConfig:
        """The configuration in force (``script`` shows what is left of it)."""
        with self._lock:
            return self._config.model_copy(update={"script": list(self._script)})

    def configure(self, config: FaultConfig) -> None:
        """Replace the configuration and reseed the generator."""
        with self._lock:
            self._config = config
            self._script = list(config.script)
            self._rng = random.Random(config.seed)

    def update(self, **changes: object) -> FaultConfig:
        """Change some fields (validated), keep the rest; reseeds when ``seed`` or ``script``
        is given."""
        with self._lock:
            merged = self._config.model_dump() | {"script": list(self._script)} | changes
            new = FaultConfig.model_validate(merged)
            self._config = new
            self._script = list(new.script)
            if "seed" in changes:
                self._rng = random.Random(new.seed)
        return self.config

    def reset(self) -> None:
        """No faults, no latency."""
        self.configure(FaultConfig())

    def script(self, *faults: Fault) -> None:
        """Queue faults for the next send requests, one each."""
        with self._lock:
            self._script.extend(faults)

    def draw(self, provider: str) -> Fault:
        """The fault for the next send request to ``provider``."""
        with self._lock:
            cfg = self._config
            if provider not in cfg.providers:
                return "ok"
            if self._script:
                return self._script.pop(0)
            r = self._rng.random()
        if r < cfg.rate_429:
            return "429"
        if r < cfg.rate_429 + cfg.rate_500:
            return "500"
        if r < cfg.rate_429 + cfg.rate_500 + cfg.rate_timeout:
            return "timeout"
        return "ok"

    def delay_s(self, provider: str) -> float:
        """How long to wait before handling the next send to ``provider``: the latency, plus
        ``slow_ms`` for the drawn share of slow answers."""
        with self._lock:
            cfg = self._config
            slow = provider in cfg.providers and cfg.rate_slow > 0
            extra = cfg.slow_ms if slow and self._rng.random() < cfg.rate_slow else 0.0
        return (cfg.latency_ms + extra) / 1000.0

    @property
    def latency_s(self) -> float:
        """Delay before every answer, in seconds."""
        with self._lock:
            return self._config.latency_ms / 1000.0

    @property
    def retry_after_s(self) -> int:
        """What 429 answers ask clients to wait."""
        with self._lock:
            return self._config.retry_after_s

    @property
    def timeout_delay_s(self) -> float:
        """How long a ``timeout`` fault holds its answer back."""
        with self._lock:
            return self._config.timeout_delay_s
