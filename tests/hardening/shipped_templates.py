"""The shipped templates as hostile-template tests use them (the copy to plant a payload in
is the ``templates`` fixture in conftest.py): where to plant it, a customer to render for,
and the validator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from journeykit.language.checks import validate_paths
from journeykit.service.registry_loader import project_registry

SMS = "restock/back_in_stock.en.sms.txt"
EMAIL = "restock/back_in_stock.en.email.html"
CONTEXT = {
    "customer": {"first_name": "Ana"},
    "store": {"name": "Shop"},
    "product": {"title": "Lamp"},
    "variant": {"cart_url": "https://shop.example/cart"},
}


def inject(root: Path, name: str, payload: str) -> int:
    """Put ``payload`` into a shipped template where it is rendered (an email's subject
    block, an SMS's first line); returns that line."""
    path = root / name
    text = path.read_text(encoding="utf-8")
    if "{% block subject %}" in text:
        text = text.replace("{% block subject %}", "{% block subject %}" + payload, 1)
        path.write_text(text, encoding="utf-8")
        return text[: text.index(payload)].count("\n") + 1
    path.write_text(payload + "\n" + text, encoding="utf-8")
    return 1


def validate(paths: list[Path], templates: Path) -> list[Any]:
    """The validator's errors for ``paths`` against ``templates``."""
    return validate_paths(
        paths,
        templates_dir=templates,
        known_actions=project_registry().action_names(),
        known_audiences=project_registry().audience_names(),
    )
