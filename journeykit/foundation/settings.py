"""Settings from the environment, one object for the whole process, nested by concern.

A setting ``settings.<group>.<field>`` is the variable ``JOURNEYKIT_<GROUP>__<FIELD>`` (a double
underscore between the levels: ``JOURNEYKIT_DATABASE__URL``, ``JOURNEYKIT_PROVIDERS__TWILIO__
AUTH_TOKEN``); a top-level one is ``JOURNEYKIT_<FIELD>`` (``JOURNEYKIT_ENVIRONMENT``). A ``.env``
file in the working directory is read too. Every duration is in seconds (``_seconds``), every
size in bytes (``_bytes``) or characters (``_chars``), every rate per second (``_per_second``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Self

from limits import parse as parse_rate
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = "change-me"
PREFIX = "JOURNEYKIT_"
NESTED = "__"
HOUR = 3600
DAY = 24 * HOUR


class DatabaseSettings(BaseModel):
    """The database, and the connections one process keeps (pool: PostgreSQL only)."""

    url: str = Field("sqlite:///.journeykit/journeykit.db", description="SQLAlchemy URL")
    pool_size: int = Field(10, ge=1, description="connections kept open per process")
    max_overflow: int = Field(10, ge=0, description="extra connections under a burst")
    pool_timeout_seconds: float = Field(30.0, gt=0, description="wait for a free connection")


class SendGridSettings(BaseModel):
    """SendGrid: the sandbox, any HTTP peer, or the real API, through the official SDK."""

    base_url: str = Field("http://127.0.0.1:8025", description="the API's address")
    api_key: SecretStr = Field(SecretStr("SG.sandbox-key"), description="mail-send API key")
    webhook_public_key: str = Field("", description="Event Webhook verification key (base64)")
    webhook_max_age_seconds: int = Field(600, ge=1, description="oldest signed event accepted")


class TwilioSettings(BaseModel):
    """Twilio: the sandbox, any HTTP peer, or the real API, through the official SDK."""

    base_url: str = Field("http://127.0.0.1:8025", description="the API's address")
    account_sid: str = Field("AC00000000000000000000000000000000", description="account SID")
    auth_token: SecretStr = Field(
        SecretStr("sandbox-token"), description="API auth; checks X-Twilio-Signature"
    )


class ShopifySettings(BaseModel):
    """Shopify's webhooks (orders, carts, catalog) into the web app."""

    webhook_secret: SecretStr = Field(
        SecretStr(PLACEHOLDER), description="checks X-Shopify-Hmac-Sha256"
    )


class ProviderSettings(BaseModel):
    """The outside services: the same code talks to the sandbox or the real APIs."""

    timeout_seconds: float = Field(10.0, gt=0, description="per-request timeout of both SDKs")
    sendgrid: SendGridSettings = Field(default_factory=SendGridSettings)
    twilio: TwilioSettings = Field(default_factory=TwilioSettings)
    shopify: ShopifySettings = Field(default_factory=ShopifySettings)


class StoreSettings(BaseModel):
    """The store as customers see it: in templates (``store.*``), on pages, as email sender."""

    name: str = Field("Journeykit Store", description="the store's name; the email sender name")
    url: str = Field("https://shop.example", description="the shop's home page")
    support_email: str = Field("help@shop.example", description="shown in emails and pages")
    support_phone: str = Field("+1 555 010 0100", description="shown in emails")
    postal_address: str = Field(
        "1 Example Street, Springfield, USA",
        description="the sender's postal address, printed in marketing messages (CAN-SPAM, Japan)",
    )
    optout_phone: str = Field(
        "080-000-0000",
        description="a free number to refuse marketing, printed in Korean marketing messages",
    )
    timezone: str = Field(
        "UTC",
        description="the store's zone: ship and delivery windows are calendar dates there",
    )
    order_url_template: str = Field(
        "{store_url}/account/orders/{order_number}",
        description="the store's page of an order; {store_url} {order_number}",
    )
    cart_url_template: str = Field(
        "{store_url}/cart/{items}?storefront=true",
        description="the store's cart, refilled (Shopify cart permalink); {store_url} {cart_token} "
        "{items} (sku:quantity,...)",
    )
    checkout_url_template: str = Field(
        "{store_url}/cart/{items}",
        description="straight to the store's checkout (Shopify cart permalink); same names as "
        "cart_url_template",
    )
    discount_parameter: str = Field(
        "discount",
        description="the query parameter that applies a discount code to a cart link (Shopify)",
    )


class WebSettings(BaseModel):
    """The web app (docs/web.md): its address, keys, limits and how events are advanced."""

    public_base_url: str = Field("http://127.0.0.1:8000", description="links and callbacks")
    api_key: SecretStr = Field(SecretStr(PLACEHOLDER), description="Bearer key of POST /events")
    signing_secret: SecretStr = Field(
        SecretStr(PLACEHOLDER), description="signs action links, unsubscribe links, CSRF tokens"
    )
    event_delivery: Literal["inline", "prefect", "worker"] = Field(
        "inline",
        description=(
            "inline: advance touched enrollments at once; prefect: emit event; "
            "worker: only store it (a long-lived `journeys worker` applies it)"
        ),
    )
    max_body_bytes: int = Field(6_000_000, ge=1, description="largest request body")
    max_json_depth: int = Field(
        32, ge=2, le=500, description="deepest nesting of arrays/objects in a JSON body"
    )
    review_photo_max_bytes: int = Field(5_000_000, ge=1, description="largest review photo")
    review_photo_max_side: int = Field(
        2048, ge=16, description="a review photo is shrunk to fit this many pixels a side"
    )
    review_photo_max_pixels: int = Field(
        40_000_000, ge=256, description="a larger image (a decompression bomb) is refused"
    )
    review_photos_dir: Path = Field(
        PROJECT_ROOT / ".journeykit" / "review_photos", description="where review photos go"
    )
    csrf_max_age_seconds: int = Field(4 * HOUR, ge=1, description="a form's CSRF token lifetime")
    widget_token_max_age_seconds: int = Field(
        7 * DAY, ge=1, description="a restock widget token's lifetime"
    )
    api_docs: bool | None = Field(
        None,
        description="serve /docs and /openapi.json; empty = only outside production",
    )
    shop_origins: list[str] = Field(
        default_factory=list,
        description="origins (https://shop.example) whose pages may post the restock widget; "
        "the store's url and public_base_url are always allowed",
    )
    signups_per_address: str = Field(
        "5/hour", description="restock signups per email or phone (a `limits` rate string)"
    )
    signups_per_client: str = Field(
        "30/hour", description="restock signups per client address (a `limits` rate string)"
    )
    signup_confirm_max_age_seconds: int = Field(
        2 * DAY, ge=60, description="a restock signup's confirmation link lifetime"
    )
    rate_limit_storage: str = Field(
        "memory://", description="`limits` storage URI; redis://host:6379 with several workers"
    )
    content_security_policy: str = Field(
        "default-src 'self'; img-src 'self' https: data:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'",
        description="the Content-Security-Policy header of every page",
    )
    receipt_retention_seconds: int = Field(
        72 * HOUR,
        ge=HOUR,
        description="keep idempotency receipts (Idempotency-Key, Shopify webhook id) this long; "
        "the sweep and `journeys db prune-receipts` delete older ones",
    )

    @field_validator("signups_per_address", "signups_per_client")
    @classmethod
    def _rate(cls, value: str) -> str:
        try:
            parse_rate(value)
        except ValueError as exc:
            raise ValueError(
                f"{value!r} is not a rate: write e.g. '5/hour' or '30 per minute'"
            ) from exc
        return value


class SendingSettings(BaseModel):
    """Sending (docs/sending.md): senders, throughput, retries, reconcile, quiet hours."""

    email_from: str = Field("hello@journeykit.example", description="the email sender address")
    sms_from: str = Field("+15005550006", description="E.164 number or MessagingServiceSid")
    sms_validity_seconds: int = Field(
        4 * HOUR, ge=1, description="an SMS expires this long after its due time"
    )
    action_link_max_age_seconds: int = Field(
        30 * DAY, ge=1, description="action links expire after this (unless an offer ends first)"
    )
    sms_help_text: str = Field(
        "Journeykit Store: reply with the number of your choice. "
        "Msg&data rates may apply. Reply STOP to opt out.",
        description="the reply to HELP / INFO",
    )
    sms_per_second: float = Field(1.0, gt=0, description="SMS/s per sending number or service")
    sms_per_second_by_sender: dict[str, float] = Field(
        default_factory=dict, description="overrides per From number / MessagingServiceSid"
    )
    email_requests_per_second: float = Field(10.0, gt=0, description="SendGrid mail-send req/s")
    concurrency: int = Field(8, ge=1, description="parallel provider requests per worker")
    rate_limit_timeout_seconds: float = Field(120.0, gt=0, description="wait for a slot")
    max_attempts: int = Field(8, ge=1, description="tries before a retryable error fails")
    max_backoff_seconds: float = Field(600.0, gt=0, description="longest wait between tries")
    reconcile_after_seconds: float = Field(120.0, ge=0, description="age of an ambiguous send")
    email_reconcile_after_seconds: float = Field(
        900.0, ge=0, description="age of an ambiguous email with no SendGrid event (longer)"
    )
    email_batch_size: int = Field(1000, ge=1, le=1000, description="personalizations/request")
    sms_short_links: bool = Field(True, description="tracked /l/{code} links in SMS bodies")
    quiet_hours_by_country: dict[str, str] = Field(
        default_factory=dict, description='SMS quiet hours, e.g. {"FR": "20:00-10:00"}; widens law'
    )


class TemplateSettings(BaseModel):
    """Templates: where they are, their resource limits (docs/reliability.md, "Hostile
    templates"), and when `journeys preview` warns about a long SMS."""

    dir: Path = Field(PROJECT_ROOT / "templates", description="the message templates")
    render_seconds: float = Field(2.0, gt=0, description="time one render may take")
    max_output_chars: int = Field(2_000_000, ge=1, description="one email's HTML")
    max_sms_chars: int = Field(20_000, ge=1, description="one SMS body as rendered")
    max_string_chars: int = Field(1_000_000, ge=1, description="any one built string")
    sms_warn_segments: int = Field(2, ge=1, description="SMS segments above which preview warns")


class ScaleSettings(BaseModel):
    """How much one worker takes at a time (docs/production.md)."""

    batch_size: int = Field(500, ge=1, description="enrollments / outbox rows claimed at once")
    lease_seconds: int = Field(300, ge=1, description="a claim's lease; then others may take it")


class ScheduleSettings(BaseModel):
    """When Prefect runs the journeys (docs/ops.md): wake-ups when work is due, a safety sweep."""

    # A journey's deployment runs at the minutes its work is due (wake-ups, scheduled up to
    # the horizon ahead); one low-frequency safety sweep catches what a wake-up missed. The
    # horizon is longer than the sweep interval, so every due minute is scheduled by at
    # least one sweep before it comes, even when one sweep is missed (30 min: two sweeps).

    safety_sweep_seconds: int = Field(
        900, ge=60, description="the safety sweep's interval (prefect.yaml; `journeys deploy`)"
    )
    wakeup_horizon_seconds: int = Field(
        1800, ge=120, description="how far ahead wake-up runs are scheduled (> the sweep interval)"
    )
    backlog_alert_seconds: int = Field(
        600, ge=60, description="due work older than this raises journeykit.backlog.late"
    )

    @model_validator(mode="after")
    def _horizon_beyond_the_sweep(self) -> ScheduleSettings:
        if self.wakeup_horizon_seconds <= self.safety_sweep_seconds:
            raise ValueError(
                "schedule.wakeup_horizon_seconds must be longer than "
                "schedule.safety_sweep_seconds (else due minutes between two sweeps get no run)"
            )
        return self


class ReportSettings(BaseModel):
    """Reports (docs/reports.md): which order counts for which message, and A/B verdicts."""

    click_window_seconds: int = Field(
        5 * 86_400, ge=0, description="an order within this long after a click is the click's"
    )
    receive_window_seconds: int = Field(
        86_400, ge=0, description="else, an order within this long after a message received"
    )
    ab_confidence: float = Field(
        0.95, gt=0.5, lt=1, description="confidence an A/B verdict needs (0.95: 95%)"
    )
    ab_power: float = Field(
        0.8, gt=0.5, lt=1, description="chance to detect a real difference (sample size)"
    )


class Settings(BaseSettings):
    """Everything Journeykit reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        env_nested_delimiter=NESTED,
        env_file=".env",
        extra="forbid",
        hide_input_in_errors=True,
    )

    environment: Literal["development", "production"] = Field(
        "development", description="'production' refuses placeholder secrets"
    )
    journeys_dir: Path = Field(PROJECT_ROOT / "journeys", description="the journey YAML files")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    providers: ProviderSettings = Field(default_factory=ProviderSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    sending: SendingSettings = Field(default_factory=SendingSettings)
    templates: TemplateSettings = Field(default_factory=TemplateSettings)
    scale: ScaleSettings = Field(default_factory=ScaleSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)

    @field_validator("environment", mode="before")
    @classmethod
    def _environment_any_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="before")
    @classmethod
    def _refuse_renamed_variables(cls, data: Any) -> Any:
        renamed = renamed_variables_set()
        if renamed:
            raise ValueError(
                "settings are nested now (JOURNEYKIT_<GROUP>__<FIELD>); rename "
                + ", ".join(f"{old} to {new}" for old, new in renamed)
            )
        return data

    # Hardening (docs/reliability.md): production refuses placeholder secrets at start-up.
    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        check_production(self)
        return self

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Pydantic's copy, refusing names that are not settings: ``update`` does not
        validate, so a pre-nesting name (``sendgrid_base_url``) would be kept as a stray
        attribute while the real setting stays unchanged. Prefer ``with_changes``."""
        unknown = sorted(set(update or {}) - set(type(self).model_fields))
        if unknown:
            raise KeyError(f"no settings {unknown}: use with_changes({{'group.field': ...}})")
        return super().model_copy(update=update, deep=deep)

    def with_changes(self, changes: Mapping[str, Any]) -> Settings:
        """A validated copy with ``{"database.url": url, "web.event_delivery": "prefect"}``
        changed (a dotted path per setting; the environment is not read again)."""
        data = self.model_dump()
        for path, value in changes.items():
            *groups, name = path.split(".")
            target = data
            for group in groups:
                if not isinstance(target.get(group), dict):
                    raise KeyError(f"no settings group {path!r}")
                target = target[group]
            if name not in target:
                raise KeyError(f"no setting {path!r}")
            target[name] = value
        return type(self).model_validate(data)


def variable(loc: Sequence[str | int]) -> str:
    """The environment variable of a setting, from its path (or a validation error's ``loc``;
    keys inside a dict setting are dropped): ``("database", "url")`` -> JOURNEYKIT_DATABASE__URL."""
    names: list[str] = []
    model: type[BaseModel] | None = Settings
    for part in loc:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            break
        names.append(part)
        annotation: Any = model.model_fields[part].annotation
        is_group = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        model = annotation if is_group else None
    return PREFIX + NESTED.join(names).upper() if names else ""


# Before the nesting every setting was flat: an old variable still set would be ignored
# silently (a production database URL among them), so it stops the process instead.
RENAMED = {
    "database_url": "database.url",
    "db_pool_size": "database.pool_size",
    "db_max_overflow": "database.max_overflow",
    "db_pool_timeout_s": "database.pool_timeout_seconds",
    "templates_dir": "templates.dir",
    "sendgrid_base_url": "providers.sendgrid.base_url",
    "sendgrid_api_key": "providers.sendgrid.api_key",
    "sendgrid_webhook_public_key": "providers.sendgrid.webhook_public_key",
    "sendgrid_webhook_max_age_s": "providers.sendgrid.webhook_max_age_seconds",
    "twilio_base_url": "providers.twilio.base_url",
    "twilio_account_sid": "providers.twilio.account_sid",
    "twilio_auth_token": "providers.twilio.auth_token",
    "shopify_webhook_secret": "providers.shopify.webhook_secret",
    "provider_timeout_s": "providers.timeout_seconds",
    "email_from_name": "store.name",
    "store_url": "store.url",
    "support_email": "store.support_email",
    "support_phone": "store.support_phone",
    "public_base_url": "web.public_base_url",
    "api_key": "web.api_key",
    "signing_secret": "web.signing_secret",
    "web_event_delivery": "web.event_delivery",
    "web_max_body_bytes": "web.max_body_bytes",
    "review_photo_max_bytes": "web.review_photo_max_bytes",
    "review_photos_dir": "web.review_photos_dir",
    "csrf_max_age_s": "web.csrf_max_age_seconds",
    "widget_token_max_age_s": "web.widget_token_max_age_seconds",
    "api_receipt_retention_hours": "web.receipt_retention_seconds",
    "email_from": "sending.email_from",
    "sms_from": "sending.sms_from",
    "sms_validity_s": "sending.sms_validity_seconds",
    "action_link_days": "sending.action_link_max_age_seconds",
    "sms_help_text": "sending.sms_help_text",
    "sms_per_second": "sending.sms_per_second",
    "sms_per_second_by_sender": "sending.sms_per_second_by_sender",
    "email_requests_per_second": "sending.email_requests_per_second",
    "send_concurrency": "sending.concurrency",
    "rate_limit_timeout_s": "sending.rate_limit_timeout_seconds",
    "send_max_attempts": "sending.max_attempts",
    "send_max_backoff_s": "sending.max_backoff_seconds",
    "reconcile_after_s": "sending.reconcile_after_seconds",
    "email_reconcile_after_s": "sending.email_reconcile_after_seconds",
    "email_batch_size": "sending.email_batch_size",
    "sms_short_links": "sending.sms_short_links",
    "quiet_hours_by_country": "sending.quiet_hours_by_country",
    "template_render_seconds": "templates.render_seconds",
    "template_max_output_chars": "templates.max_output_chars",
    "template_max_sms_chars": "templates.max_sms_chars",
    "template_max_string_chars": "templates.max_string_chars",
    "sms_warn_segments": "templates.sms_warn_segments",
    "batch_size": "scale.batch_size",
    "lease_s": "scale.lease_seconds",
    "sweep_interval_s": "schedule.safety_sweep_seconds",
}


def renamed_variables_set() -> list[tuple[str, str]]:
    """(old variable, its new name) for each pre-nesting variable set in the environment or
    ``.env``."""
    from dotenv import dotenv_values

    names = {key.upper() for key in os.environ}
    if Path(".env").is_file():
        names |= {key.upper() for key in dotenv_values(".env")}
    found = []
    for old, new in RENAMED.items():
        if f"{PREFIX}{old.upper()}" in names:
            target = variable(new.split(".")) if new else "nothing (remove it)"
            found.append((f"{PREFIX}{old.upper()}", target))
    return found


# Hardening: secrets that must be real in production (JOURNEYKIT_ENVIRONMENT=production).
SECRET_FIELDS = (
    "web.api_key",
    "web.signing_secret",
    "providers.shopify.webhook_secret",
    "providers.twilio.auth_token",
    "providers.sendgrid.api_key",
)
PLACEHOLDER_SECRETS = frozenset({PLACEHOLDER, "", "SG.sandbox-key", "sandbox-token"})


def setting(settings: Settings, path: str) -> Any:
    """The value at a dotted path: ``setting(s, "web.api_key")`` is ``s.web.api_key``."""
    value: Any = settings
    for name in path.split("."):
        value = getattr(value, name)
    return value


class PlaceholderSecretsError(ValueError):
    """Production mode with secrets left at their placeholder (or sandbox) values."""

    def __init__(self, names: list[str]) -> None:
        self.names = names
        variables = ", ".join(variable(n.split(".")) for n in names)
        super().__init__(
            f"JOURNEYKIT_ENVIRONMENT=production refuses placeholder secrets: {variables}. "
            "Set real values in the environment (or .env) before starting."
        )


def placeholder_secrets(settings: Settings) -> list[str]:
    """The secret settings (dotted paths) still at a placeholder or sandbox value."""
    return [
        path
        for path in SECRET_FIELDS
        if setting(settings, path).get_secret_value().strip() in PLACEHOLDER_SECRETS
    ]


def check_production(settings: Settings) -> None:
    """Raise ``PlaceholderSecretsError`` naming every placeholder secret, in production."""
    if settings.environment != "production":
        return
    names = placeholder_secrets(settings)
    if names:
        raise PlaceholderSecretsError(names)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
