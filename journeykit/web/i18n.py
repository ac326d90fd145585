"""Customer pages in the customer's language: a small message catalog per locale
(``journeykit/web/locales/<locale>.json``), English as the fallback for anything missing."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT = "en"
Translate = Callable[..., str]


@lru_cache(maxsize=1)
def catalogs() -> dict[str, dict[str, str]]:
    return {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(LOCALES_DIR.glob("*.json"))
    }


def supported() -> list[str]:
    return sorted(catalogs())


def pick_locale(*candidates: str | None, accept_language: str | None = None) -> str:
    """The first supported locale among ``candidates`` (``ko``, ``ko-KR``, ``ja_JP``...),
    then the browser's Accept-Language, then English."""
    known = catalogs()
    wanted = [c for c in candidates if c]
    for part in (accept_language or "").split(","):
        wanted.append(part.split(";")[0].strip())
    for value in wanted:
        base = value.replace("_", "-").split("-")[0].lower()
        if base in known:
            return base
    return DEFAULT


def translator(locale: str) -> Translate:
    """``t(key, **values)``: the message in ``locale`` with ``{name}`` values filled in."""
    table = catalogs().get(locale, {})
    fallback = catalogs()[DEFAULT]

    def t(key: str, **values: object) -> str:
        text = table.get(key) or fallback.get(key) or key
        try:
            return text.format(**values)
        except (KeyError, IndexError, ValueError):
            return text

    return t
