"""Settings from the environment (``JOURNEYKIT_*``), one object for the whole process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "change-me"


class Settings(BaseSettings):
    """Everything Journeykit reads from its environment."""

    model_config = SettingsConfigDict(env_prefix="JOURNEYKIT_", env_file=".env", extra="ignore")

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

    # Authoring (journeys preview): warn when an SMS takes more segments than this.
    sms_warn_segments: int = Field(2, ge=1, description="SMS segments above which preview warns")

@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
