"""Settings from the environment (``JOURNEYKIT_*``), one object for the whole process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    """Everything Journeykit reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="JOURNEYKIT_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    environment: str = Field("development", description="'production' refuses placeholder secrets")
    database_url: str = "sqlite:///.journeykit/journeykit.db"
    journeys_dir: Path = PROJECT_ROOT / "journeys"
    templates_dir: Path = PROJECT_ROOT / "templates"

    # Providers: the same code talks to the sandbox, any HTTP peer, or the real APIs.
    sendgrid_base_url: str = "http://127.0.0.1:8025"
    sendgrid_api_key: SecretStr = SecretStr("SG.sandbox-key")
    twilio_base_url: str = "http://127.0.0.1:8025"
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: SecretStr = SecretStr("sandbox-token")
    email_from: str = "hello@journeykit.example"
    email_from_name: str = "Journeykit Store"
    store_url: str = "https://shop.example"
    support_email: str = "help@shop.example"
    support_phone: str = "+1 555 010 0100"
    sms_from: str = "+15005550006"
    provider_timeout_s: float = 10.0

    # Web
    public_base_url: str = "http://127.0.0.1:8000"
    api_key: SecretStr = SecretStr(PLACEHOLDER)
    signing_secret: SecretStr = SecretStr(PLACEHOLDER)
    sendgrid_webhook_public_key: str = ""
    shopify_webhook_secret: SecretStr = SecretStr(PLACEHOLDER)
    web_event_delivery: str = Field(
        "inline", description="inline: advance touched enrollments at once; prefect: emit event"
    )
    sendgrid_webhook_max_age_s: int = 600
    web_max_body_bytes: int = 6_000_000
    review_photo_max_bytes: int = 5_000_000
    review_photos_dir: Path = PROJECT_ROOT / ".journeykit" / "review_photos"
    csrf_max_age_s: int = 4 * 3600
    widget_token_max_age_s: int = 7 * 86400

    # Engine
    batch_size: int = 500
    sweep_interval_s: int = 60
    lease_s: int = 300
    sms_validity_s: int = 4 * 3600
    action_link_days: int = 30
    sms_help_text: str = (
        "Journeykit Store: reply with the number of your choice. "
        "Msg&data rates may apply. Reply STOP to opt out."
    )

    # Sending (docs/sending.md): provider throughput, retries, reconcile, quiet hours
    sms_per_second: float = Field(1.0, gt=0, description="SMS/s per sending number or service")
    sms_per_second_by_sender: dict[str, float] = Field(
        default_factory=dict, description="overrides per From number / MessagingServiceSid"
    )
    email_requests_per_second: float = Field(10.0, gt=0, description="SendGrid mail-send req/s")
    send_concurrency: int = Field(8, ge=1, description="parallel provider requests per worker")
    rate_limit_timeout_s: float = Field(120.0, gt=0, description="wait for a rate-limit slot")
    send_max_attempts: int = Field(8, ge=1, description="tries before a retryable error fails")
    send_max_backoff_s: float = Field(600.0, gt=0)
    reconcile_after_s: float = Field(120.0, ge=0, description="age of an ambiguous send")
    email_reconcile_after_s: float = Field(
        900.0, ge=0, description="age of an ambiguous email with no SendGrid event (longer)"
    )
    email_batch_size: int = Field(1000, ge=1, le=1000, description="personalizations/request")
    sms_short_links: bool = Field(True, description="tracked /l/{code} links in SMS bodies")
    quiet_hours_by_country: dict[str, str] = Field(
        default_factory=dict, description='SMS quiet hours, e.g. {"FR": "20:00-10:00"}; widens law'
    )

    # Scale (docs/production.md): database connections per process (PostgreSQL only)
    db_pool_size: int = Field(10, ge=1, description="connections kept open per process")
    db_max_overflow: int = Field(10, ge=0, description="extra connections under a burst")
    db_pool_timeout_s: float = Field(30.0, gt=0, description="wait for a free connection")

    # Authoring (journeys preview): warn when an SMS takes more segments than this.
    sms_warn_segments: int = Field(2, ge=1, description="SMS segments above which preview warns")

    # Web (docs/web.md): how long idempotency receipts (Idempotency-Key, Shopify webhook id)
    # are kept; the sweep and `journeys db prune-receipts` delete older ones.
    api_receipt_retention_hours: int = Field(
        72, ge=1, description="keep ApiReceipt rows this long (senders retry within it)"
    )

    # template limits (docs/reliability.md, "Hostile templates: resource limits")
    template_render_seconds: float = Field(2.0, gt=0, description="time one render may take")
    template_max_output_chars: int = Field(2_000_000, ge=1, description="one email's HTML")
    template_max_sms_chars: int = Field(20_000, ge=1, description="one SMS body as rendered")
    template_max_string_chars: int = Field(1_000_000, ge=1, description="any one built string")

    # Reports (docs/reports.md): which order counts for which message, and A/B verdicts.
    attribution_click_window_seconds: int = Field(
        5 * 86_400, ge=0, description="an order within this long after a click is the click's"
    )
    attribution_receive_window_seconds: int = Field(
        86_400, ge=0, description="else, an order within this long after a message received"
    )
    ab_confidence: float = Field(
        0.95, gt=0.5, lt=1, description="confidence an A/B verdict needs (0.95: 95%)"
    )
    ab_power: float = Field(
        0.8, gt=0.5, lt=1, description="chance to detect a real difference (sample size)"
    )

    # Hardening (docs/reliability.md): production refuses placeholder secrets at start-up.
    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        check_production(self)
        return self


# Hardening: secrets that must be real in production (JOURNEYKIT_ENVIRONMENT=production).
SECRET_FIELDS = (
    "api_key",
    "signing_secret",
    "shopify_webhook_secret",
    "twilio_auth_token",
    "sendgrid_api_key",
)
PLACEHOLDER_SECRETS = frozenset({PLACEHOLDER, "", "SG.sandbox-key", "sandbox-token"})


class PlaceholderSecretsError(ValueError):
    """Production mode with secrets left at their placeholder (or sandbox) values."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        variables = ", ".join(f"JOURNEYKIT_{n.upper()}" for n in names)
        super().__init__(
            f"JOURNEYKIT_ENVIRONMENT=production refuses placeholder secrets: {variables}. "
            "Set real values in the environment (or .env) before starting."
        )


def placeholder_secrets(settings: Settings) -> list[str]:
    """The secret settings still at a placeholder or sandbox value."""
    return [
        name
        for name in SECRET_FIELDS
        if getattr(settings, name).get_secret_value().strip() in PLACEHOLDER_SECRETS
    ]


def check_production(settings: Settings) -> None:
    """Raise ``PlaceholderSecretsError`` naming every placeholder secret, in production."""
    if settings.environment.strip().lower() != "production":
        return
    names = placeholder_secrets(settings)
    if names:
        raise PlaceholderSecretsError(names)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
