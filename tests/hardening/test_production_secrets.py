"""Production mode refuses to start with placeholder secrets, and names each one; secrets are
SecretStr and never shown in errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import SecretStr, ValidationError

from journeykit.foundation.settings import (
    PLACEHOLDER,
    SECRET_FIELDS,
    PlaceholderSecretsError,
    Settings,
    check_production,
    setting,
    variable,
)

REAL = {
    "web.api_key": "k-4f1d8a0e9b2c7d6e",
    "web.signing_secret": "s-9a8b7c6d5e4f3a2b1c",
    "providers.shopify.webhook_secret": "w-0e1d2c3b4a5f6e7d",
    "providers.twilio.auth_token": "t-5b6c7d8e9f0a1b2c",
    "providers.sendgrid.api_key": "SG.real-looking-key-123",
}


def env_name(path: str) -> str:
    return variable(path.split("."))


def test_secret_settings_are_secret_str() -> None:
    settings = Settings().with_changes(REAL)
    for name in SECRET_FIELDS:
        assert isinstance(setting(settings, name), SecretStr)
        assert REAL[name] not in repr(settings) and REAL[name] not in str(settings)


def test_development_allows_placeholders() -> None:
    check_production(Settings().with_changes({"environment": "development"}))


@pytest.mark.parametrize("name", SECRET_FIELDS)
def test_production_names_each_placeholder(name: str) -> None:
    sandbox = "SG.sandbox-key" if name == "providers.sendgrid.api_key" else PLACEHOLDER
    values = REAL | {name: sandbox}
    with pytest.raises(ValidationError) as refused:
        Settings().with_changes({"environment": "production", **values})
    text = str(refused.value)
    assert env_name(name) in text
    others = [n for n in SECRET_FIELDS if n != name]
    assert not any(env_name(n) in text for n in others)
    for value in REAL.values():  # the error never echoes a secret
        assert value not in text


def test_production_with_real_secrets_starts() -> None:
    settings = Settings().with_changes({"environment": "production", **REAL})
    check_production(settings)


def test_check_production_lists_all_placeholders() -> None:
    settings = Settings().with_changes(
        {"environment": "development", "web.signing_secret": PLACEHOLDER}
    )
    settings.environment = "production"
    with pytest.raises(PlaceholderSecretsError) as refused:
        check_production(settings)
    assert set(refused.value.names) == set(SECRET_FIELDS)


def test_worker_refuses_to_start_in_production_with_placeholders(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JOURNEYKIT_")}
    env |= {"JOURNEYKIT_ENVIRONMENT": "production", "JOURNEYKIT_WEB__API_KEY": REAL["web.api_key"]}
    command = [
        sys.executable,
        "-m",
        "journeykit_rigs.chaos.worker",
        "--db",
        f"sqlite:///{tmp_path}/x",
    ]
    command += ["--providers", "http://127.0.0.1:9", "--clock", str(tmp_path / "c")]
    command += ["--status", str(tmp_path / "s")]
    done = subprocess.run(
        command,
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "JOURNEYKIT_WEB__SIGNING_SECRET" in done.stderr
    assert "JOURNEYKIT_WEB__API_KEY" not in done.stderr
    assert "Traceback" not in done.stderr
    assert REAL["web.api_key"] not in done.stderr
